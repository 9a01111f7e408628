// Loads the EU DCC trust folder (config `trust.dccSignersDir`): document signer
// certificates (DSCs), DER or PEM, one or more per file. The I/O edge in front of the
// verifier's trust; like the pass-issuer folder, any bad file refuses start-up, naming it.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { DccTrustInput } from '../credentials/dcc/types.js';
import { dccTrustEntryFromDer } from '../credentials/dcc-trust-input.js';
import { CredentialError } from '../credentials/errors.js';

/** Files read as certificates; anything else (a README) is left alone. */
export const DCC_TRUST_SUFFIXES = ['.pem', '.crt', '.cer', '.der'] as const;

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A DCC trust folder read as far as it goes: the good certificates and every bad file. */
export interface DccTrustDirRead {
  entries: DccTrustInput[];
  /** In file order; empty when every file is good. */
  problems: CredentialError[];
}

/**
 * Reads every `*.pem`, `*.crt`, `*.cer` and `*.der` in `dir` (not recursive), in name order.
 * A file is PEM when it holds "-----BEGIN", else DER. Each certificate's kid is computed
 * from its DER. Problems (TRUST_DIR_UNREADABLE, TRUST_KEY_INVALID, TRUST_KEY_PRIVATE,
 * TRUST_KEY_DUPLICATE) name the file; `config check` lists them all.
 */
export async function readDccTrustDir(dir: string): Promise<DccTrustDirRead> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    return { entries: [], problems: [new CredentialError('TRUST_DIR_UNREADABLE', `cannot list the DCC trust directory: ${reason(err)}`, dir)] };
  }
  const entries: DccTrustInput[] = [];
  const fileOf = new Map<string, string>();
  const problems: CredentialError[] = [];
  for (const name of names.filter((n) => DCC_TRUST_SUFFIXES.some((s) => n.toLowerCase().endsWith(s))).sort()) {
    const file = path.join(dir, name);
    try {
      const found = await readCertificateFile(file);
      for (const entry of found) {
        const other = fileOf.get(entry.certificate);
        if (other !== undefined) throw new CredentialError('TRUST_KEY_DUPLICATE', `the certificate of kid ${JSON.stringify(entry.kid)} is already in ${other}`, file);
        fileOf.set(entry.certificate, file);
      }
      entries.push(...found);
    } catch (err) {
      if (!(err instanceof CredentialError)) throw err;
      problems.push(err);
    }
  }
  return { entries, problems };
}

async function readCertificateFile(file: string): Promise<DccTrustInput[]> {
  let bytes: Buffer;
  try {
    if (!(await stat(file)).isFile()) throw new CredentialError('TRUST_KEY_INVALID', 'expected a file holding an X.509 certificate (DER or PEM)', file);
    bytes = await readFile(file);
  } catch (err) {
    if (err instanceof CredentialError) throw err;
    throw new CredentialError('TRUST_DIR_UNREADABLE', `cannot read: ${reason(err)}`, file);
  }
  const text = bytes.toString('latin1');
  if (!text.includes('-----BEGIN')) return [dccTrustEntryFromDer(bytes, file)];
  const blocks = [...text.matchAll(PEM_BLOCK)];
  if (blocks.some((b) => (b[1] ?? '').includes('PRIVATE KEY'))) {
    throw new CredentialError('TRUST_KEY_PRIVATE', 'holds a private key; the DCC trust list takes certificates only. Remove it and treat the key as leaked', file);
  }
  const certificates = blocks.filter((b) => b[1] === 'CERTIFICATE');
  if (certificates.length === 0) throw new CredentialError('TRUST_KEY_INVALID', 'expected one or more PEM blocks "-----BEGIN CERTIFICATE-----"', file);
  return certificates.map((b, i) => dccTrustEntryFromDer(Buffer.from((b[2] ?? '').replace(/\s+/g, ''), 'base64'), certificates.length > 1 ? `${file} (certificate ${i + 1})` : file));
}

/** readDccTrustDir for start-up: throws the first problem. An empty folder trusts no DCC. */
export async function loadDccTrustDir(dir: string): Promise<DccTrustInput[]> {
  const { entries, problems } = await readDccTrustDir(dir);
  if (problems[0] !== undefined) throw problems[0];
  return entries;
}
