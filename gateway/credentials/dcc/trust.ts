// The document signer certificates (DSCs) a verifier trusts, parsed once: public key,
// validity period and the DCC types its extended key usage allows. Keyed by the COSE kid
// the caller gives (the kid is not unique in the DCC scheme, so a kid holds a list).
import { X509Certificate, type KeyObject } from 'node:crypto';
import { CredentialError } from '../errors.js';
import type { DccTrustInput, DccType } from './types.js';

/** Extended key usage OIDs that limit a DSC to some DCC types (current and legacy arcs). */
export const DCC_EKU_OIDS: Readonly<Record<string, DccType>> = {
  '1.3.6.1.4.1.1847.2021.1.1': 'test',
  '1.3.6.1.4.1.1847.2021.1.2': 'vaccination',
  '1.3.6.1.4.1.1847.2021.1.3': 'recovery',
  '1.3.6.1.4.1.0.1847.2021.1.1': 'test',
  '1.3.6.1.4.1.0.1847.2021.1.2': 'vaccination',
  '1.3.6.1.4.1.0.1847.2021.1.3': 'recovery',
};

export interface DccSigner {
  /** Canonical base64 of the kid the entry was given under. */
  kid: string;
  publicKey: KeyObject;
  keyKind: 'ec-p256' | 'rsa' | 'other';
  notBefore: number;
  notAfter: number;
  /** The DCC types the DSC may sign; null when its EKU names none (then it may sign all). */
  types: ReadonlySet<DccType> | null;
}

export interface DccTrust {
  readonly byKid: ReadonlyMap<string, readonly DccSigner[]>;
  readonly size: number;
}

/** Standard or URL-safe alphabet, padding optional (trust lists are written both ways). */
const BASE64 = /^(?:[A-Za-z0-9+/]+|[A-Za-z0-9_-]+)={0,2}$/;

function decodeBase64(value: unknown, field: string, index: number): Buffer {
  const body = typeof value === 'string' ? value.replace(/=+$/, '') : '';
  if (typeof value !== 'string' || body.length === 0 || !BASE64.test(value) || body.length % 4 === 1 || (value.length > body.length && value.length % 4 !== 0)) {
    throw new CredentialError('TRUST_KEY_INVALID', `${field}: expected non-empty base64`, `DCC trust entry ${index}`);
  }
  return Buffer.from(body, /[-_]/.test(body) ? 'base64url' : 'base64');
}

function keyKind(key: KeyObject): DccSigner['keyKind'] {
  if (key.asymmetricKeyType === 'ec') return key.asymmetricKeyDetails?.namedCurve === 'prime256v1' ? 'ec-p256' : 'other';
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') return 'rsa';
  return 'other';
}

function allowedTypes(cert: X509Certificate): ReadonlySet<DccType> | null {
  const types = new Set<DccType>();
  for (const oid of cert.keyUsage ?? []) {
    const t = DCC_EKU_OIDS[oid];
    if (t !== undefined) types.add(t);
  }
  return types.size === 0 ? null : types;
}

function parseEntry(entry: DccTrustInput, index: number): DccSigner {
  if (typeof entry !== 'object' || entry === null) {
    throw new CredentialError('TRUST_KEY_INVALID', 'expected an object {kid, certificate}', `DCC trust entry ${index}`);
  }
  const kid = decodeBase64(entry.kid, 'kid', index).toString('base64');
  const der = decodeBase64(entry.certificate, 'certificate', index);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch {
    throw new CredentialError('TRUST_KEY_INVALID', 'certificate: not a DER X.509 certificate', `DCC trust entry ${index}`);
  }
  const notBefore = Date.parse(cert.validFrom);
  const notAfter = Date.parse(cert.validTo);
  if (!Number.isFinite(notBefore) || !Number.isFinite(notAfter)) {
    throw new CredentialError('TRUST_KEY_INVALID', 'certificate: unreadable validity period', `DCC trust entry ${index}`);
  }
  const publicKey = cert.publicKey;
  return { kid, publicKey, keyKind: keyKind(publicKey), notBefore, notAfter, types: allowedTypes(cert) };
}

/**
 * Parses each trusted DSC once. Throws CredentialError TRUST_KEY_INVALID naming the entry
 * for an unusable one; a kid that is not the SHA-256 prefix of the DER is accepted as given.
 */
export function buildDccTrust(entries: readonly DccTrustInput[]): DccTrust {
  if (!Array.isArray(entries)) throw new CredentialError('TRUST_KEY_INVALID', 'expected an array of {kid, certificate}', 'DCC trust');
  const byKid = new Map<string, DccSigner[]>();
  entries.forEach((entry, index) => {
    const signer = parseEntry(entry, index);
    const list = byKid.get(signer.kid);
    if (list === undefined) byKid.set(signer.kid, [signer]);
    else list.push(signer);
  });
  return { byKid, size: entries.length };
}
