// Loads the trust directory (config `trust.passIssuersDir`): one public JWK per file.
// The I/O edge in front of the pure trust list; any bad file refuses start-up, because a
// gate that silently skipped a key would refuse valid passes, and one that took a stray
// private key would show that the key has leaked.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { CredentialError } from '../credentials/errors.js';
import { trustedKeyFromJwk } from '../credentials/trust-list.js';
import type { TrustList, TrustedKey } from '../credentials/trust-list.js';

/** Only files with this suffix are keys; anything else (a README) is left alone. */
export const TRUST_FILE_SUFFIX = '.jwk.json';

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A trust folder read as far as it goes: the good keys and every bad file. */
export interface TrustDirRead {
  list: TrustList;
  /** In file order; empty when every key file is good. */
  problems: CredentialError[];
}

/**
 * Reads every `*.jwk.json` in `dir` (not recursive), in name order. Each must be an
 * Ed25519 public JWK with a kid (kty OKP, crv Ed25519, no "d"); kids must be unique.
 * Every bad file is a CredentialError (TRUST_DIR_UNREADABLE, TRUST_KEY_INVALID,
 * TRUST_KEY_PRIVATE, TRUST_KEY_DUPLICATE) naming it; `config check` lists them all.
 */
export async function readTrustDir(dir: string): Promise<TrustDirRead> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    return { list: new Map(), problems: [new CredentialError('TRUST_DIR_UNREADABLE', `cannot list the trust directory: ${reason(err)}`, dir)] };
  }
  const list = new Map<string, TrustedKey>();
  const fileOfKid = new Map<string, string>();
  const problems: CredentialError[] = [];
  for (const name of names.filter((n) => n.endsWith(TRUST_FILE_SUFFIX)).sort()) {
    const file = path.join(dir, name);
    try {
      const entry = await readKeyFile(file);
      const other = fileOfKid.get(entry.kid);
      if (other !== undefined) throw new CredentialError('TRUST_KEY_DUPLICATE', `kid ${JSON.stringify(entry.kid)} is already used by ${other}`, file);
      fileOfKid.set(entry.kid, file);
      list.set(entry.kid, entry);
    } catch (err) {
      if (!(err instanceof CredentialError)) throw err;
      problems.push(err);
    }
  }
  return { list, problems };
}

/**
 * The last key read from each file, with the text it came from. The start reads each trust
 * folder twice, in the config check and then for the gate: an unchanged file gives the key
 * it gave before, not a second import into WebCrypto.
 */
const lastKeys = new Map<string, { text: string; key: TrustedKey }>();

async function readKeyFile(file: string): Promise<TrustedKey> {
  let text: string;
  try {
    if (!(await stat(file)).isFile()) throw new CredentialError('TRUST_KEY_INVALID', `expected a file holding one public JWK`, file);
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof CredentialError) throw err;
    throw new CredentialError('TRUST_DIR_UNREADABLE', `cannot read: ${reason(err)}`, file);
  }
  const last = lastKeys.get(file);
  if (last?.text === text) return last.key;
  const key = await keyOf(file, text);
  lastKeys.set(file, { text, key });
  return key;
}

async function keyOf(file: string, text: string): Promise<TrustedKey> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CredentialError('TRUST_KEY_INVALID', `expected JSON (one public JWK): ${reason(err)}`, file);
  }
  return trustedKeyFromJwk(value, file);
}

/**
 * readTrustDir for start-up: throws the first problem. An empty directory gives an empty
 * list: badges still work, every pass is then PASS_UNKNOWN_KEY.
 */
export async function loadTrustDir(dir: string): Promise<TrustList> {
  const { list, problems } = await readTrustDir(dir);
  if (problems[0] !== undefined) throw problems[0];
  return list;
}
