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

/**
 * Reads every `*.jwk.json` in `dir` (not recursive), in name order. Each must be an
 * Ed25519 public JWK with a kid (kty OKP, crv Ed25519, no "d"); kids must be unique.
 * Throws CredentialError (TRUST_DIR_UNREADABLE, TRUST_KEY_INVALID, TRUST_KEY_PRIVATE,
 * TRUST_KEY_DUPLICATE) naming the file. An empty directory gives an empty list: badges
 * still work, every pass is then PASS_UNKNOWN_KEY.
 */
export async function loadTrustDir(dir: string): Promise<TrustList> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new CredentialError('TRUST_DIR_UNREADABLE', `cannot list the trust directory: ${reason(err)}`, dir);
  }
  const list = new Map<string, TrustedKey>();
  const fileOfKid = new Map<string, string>();
  for (const name of names.filter((n) => n.endsWith(TRUST_FILE_SUFFIX)).sort()) {
    const file = path.join(dir, name);
    let text: string;
    try {
      if (!(await stat(file)).isFile()) {
        throw new CredentialError('TRUST_KEY_INVALID', `expected a file holding one public JWK`, file);
      }
      text = await readFile(file, 'utf8');
    } catch (err) {
      if (err instanceof CredentialError) throw err;
      throw new CredentialError('TRUST_DIR_UNREADABLE', `cannot read: ${reason(err)}`, file);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new CredentialError('TRUST_KEY_INVALID', `expected JSON (one public JWK): ${reason(err)}`, file);
    }
    const entry = await trustedKeyFromJwk(value, file);
    const other = fileOfKid.get(entry.kid);
    if (other !== undefined) {
      throw new CredentialError('TRUST_KEY_DUPLICATE', `kid ${JSON.stringify(entry.kid)} is already used by ${other}`, file);
    }
    fileOfKid.set(entry.kid, file);
    list.set(entry.kid, entry);
  }
  return list;
}
