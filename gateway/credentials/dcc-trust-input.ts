// The EU DCC trust list as data: document signer certificates (DSCs), each with its kid,
// checked before the verifier builds its trust from them. Shared by the trust folder
// (gateway/config/dcc-trust.ts) and the signed `dcc-trust` update. Pure: parsing a
// certificate is computation, not I/O.
import { X509Certificate, createHash } from 'node:crypto';
import type { DccTrustInput } from './dcc/types.js';
import { CredentialError } from './errors.js';

/** The COSE kid of a DSC: base64 of the first 8 bytes of SHA-256 of its DER. */
export function dccKid(der: Uint8Array): string {
  return createHash('sha256').update(der).digest().subarray(0, 8).toString('base64');
}

/** Most DSCs an update or folder may hold: the EU gateway lists some thousands. */
export const MAX_DCC_SIGNERS = 20_000;

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * One DER certificate as a trust entry. Throws CredentialError TRUST_KEY_INVALID naming
 * `source` when it is not an X.509 certificate.
 */
export function dccTrustEntryFromDer(der: Uint8Array, source: string): DccTrustInput {
  try {
    // Parsed only to refuse what is not a certificate; the verifier reads the key itself.
    new X509Certificate(der);
  } catch (err) {
    throw new CredentialError('TRUST_KEY_INVALID', `expected an X.509 certificate (DER): ${err instanceof Error ? err.message : String(err)}`, source);
  }
  return { kid: dccKid(der), certificate: Buffer.from(der).toString('base64') };
}

/**
 * Checks a list of `{kid, certificate}` (certificate: base64 DER): each an X.509
 * certificate whose kid is the one computed from it, no certificate twice. Throws the first
 * problem as CredentialError (TRUST_KEY_INVALID, TRUST_KEY_DUPLICATE) naming the entry.
 */
export function checkDccTrustInputs(values: readonly unknown[]): DccTrustInput[] {
  if (values.length > MAX_DCC_SIGNERS) throw new CredentialError('TRUST_KEY_INVALID', `${values.length} certificates: expected at most ${MAX_DCC_SIGNERS}`, 'certificates');
  const seen = new Set<string>();
  return values.map((value, i) => {
    const source = `certificates[${i}]`;
    if (!isRecord(value)) throw new CredentialError('TRUST_KEY_INVALID', 'expected an object {kid, certificate}', source);
    for (const key of Object.keys(value)) {
      if (key !== 'kid' && key !== 'certificate') throw new CredentialError('TRUST_KEY_INVALID', `unknown key "${key.slice(0, 32)}"; expected kid and certificate`, source);
    }
    const { kid, certificate } = value;
    if (typeof certificate !== 'string' || certificate.length % 4 !== 0 || !BASE64.test(certificate)) {
      throw new CredentialError('TRUST_KEY_INVALID', 'expected "certificate": the DER of an X.509 certificate in base64', source);
    }
    const entry = dccTrustEntryFromDer(Buffer.from(certificate, 'base64'), source);
    if (typeof kid !== 'string' || kid !== entry.kid) {
      throw new CredentialError('TRUST_KEY_INVALID', `expected "kid": ${JSON.stringify(entry.kid)} (base64 of the first 8 bytes of SHA-256 of the certificate), got ${JSON.stringify(typeof kid === 'string' ? kid.slice(0, 32) : kid)}`, source);
    }
    // Two certificates may share a kid (8 bytes of a hash); the same certificate twice is a mistake.
    if (seen.has(entry.certificate)) throw new CredentialError('TRUST_KEY_DUPLICATE', `the certificate of kid ${JSON.stringify(entry.kid)} appears more than once`, source);
    seen.add(entry.certificate);
    return entry;
  });
}
