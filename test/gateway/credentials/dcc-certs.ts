// Self-signed P-256 certificates made with the machine's openssl (a real process), for the
// trust folder and dcc-trust update tests, which only need certificates, not signed DCCs.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface MadeCert {
  der: Buffer;
  pem: string;
  keyPem: string;
  /** base64 of the first 8 bytes of SHA-256 of the DER. */
  kid: string;
}

export function makeCert(cn: string): MadeCert {
  const dir = mkdtempSync(path.join(tmpdir(), 'dcc-cert-'));
  try {
    const key = path.join(dir, 'key.pem');
    const crt = path.join(dir, 'crt.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${cn}`, '-days', '2', '-keyout', key, '-out', crt], { stdio: 'ignore' });
    const der = execFileSync('openssl', ['x509', '-in', crt, '-outform', 'DER']);
    return { der, pem: readFileSync(crt, 'utf8'), keyPem: readFileSync(key, 'utf8'), kid: createHash('sha256').update(der).digest().subarray(0, 8).toString('base64') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The entry of a certificate as the dcc-trust update and the trust folder give it. */
export const trustEntry = (c: MadeCert) => ({ kid: c.kid, certificate: c.der.toString('base64') });
