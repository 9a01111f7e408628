// The trust list: the public keys of the pass issuers this gateway believes, by kid.
// Pure data plus a pure (async, because key import is) builder from JWKs; reading the
// files lives in gateway/config/trust.ts.
import { importJWK } from 'jose';
import type { CryptoKey, JWK, KeyObject } from 'jose';
import { CredentialError } from './errors.js';

export interface TrustedKey {
  kid: string;
  key: CryptoKey | KeyObject;
  /** Human label of the issuer (JWK member `issuer` when present, else the kid). Reported with every verified pass. */
  issuer: string;
}

/** A public JWK as kept in the trust directory: `issuer` is our own, optional label member. */
export type TrustJwk = JWK & { issuer?: string };

/** kid → key. A pass names its key by the `kid` of its protected header. */
export type TrustList = ReadonlyMap<string, TrustedKey>;

/** A 32-byte Ed25519 public key in unpadded base64url. */
const ED25519_X = /^[A-Za-z0-9_-]{43}$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks that `value` is an Ed25519 public JWK fit for verifying passes and imports it.
 * Throws CredentialError TRUST_KEY_PRIVATE / TRUST_KEY_INVALID naming `source`.
 */
export async function trustedKeyFromJwk(value: unknown, source: string): Promise<TrustedKey> {
  const bad = (detail: string) => new CredentialError('TRUST_KEY_INVALID', detail, source);
  if (!isRecord(value)) throw bad('expected a JSON object (an Ed25519 public JWK)');
  // Checked first and on its own: a private key here means it has been copied where it
  // does not belong, which is worth a louder message than "wrong shape".
  if ('d' in value) {
    throw new CredentialError(
      'TRUST_KEY_PRIVATE',
      'is a private key (has "d"); the trust list takes public keys only. Remove it and treat the key as leaked',
      source,
    );
  }
  const { kid, kty, crv, x, alg, use, issuer } = value;
  if (typeof kid !== 'string' || kid === '') throw bad('expected "kid": a non-empty string');
  if (kty !== 'OKP') throw bad(`expected "kty": "OKP", got ${JSON.stringify(kty)}`);
  if (crv !== 'Ed25519') throw bad(`expected "crv": "Ed25519", got ${JSON.stringify(crv)}`);
  if (typeof x !== 'string' || !ED25519_X.test(x)) throw bad('expected "x": 32 bytes in base64url (43 characters)');
  if (alg !== undefined && alg !== 'EdDSA') throw bad(`expected "alg" absent or "EdDSA", got ${JSON.stringify(alg)}`);
  if (use !== undefined && use !== 'sig') throw bad(`expected "use" absent or "sig", got ${JSON.stringify(use)}`);
  if (issuer !== undefined && (typeof issuer !== 'string' || issuer === '')) {
    throw bad('expected "issuer" absent or a non-empty string');
  }
  let key: CryptoKey | Uint8Array;
  try {
    // Only the members that matter, so unknown extras (issuer, key_ops, …) cannot upset the import.
    key = await importJWK({ kty, crv, x }, 'EdDSA');
  } catch (err) {
    throw bad(`cannot import the key: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (key instanceof Uint8Array) throw bad('expected an asymmetric key, got a symmetric secret');
  return { kid, key, issuer: typeof issuer === 'string' ? issuer : kid };
}

/** Builds a trust list from public JWKs. Throws on the first bad key or a repeated kid. */
export async function trustListFromJwks(jwks: readonly TrustJwk[]): Promise<TrustList> {
  const list = new Map<string, TrustedKey>();
  for (const [i, jwk] of jwks.entries()) {
    const source = `jwks[${i}]`;
    const entry = await trustedKeyFromJwk(jwk, source);
    if (list.has(entry.kid)) {
      throw new CredentialError('TRUST_KEY_DUPLICATE', `kid ${JSON.stringify(entry.kid)} appears more than once`, source);
    }
    list.set(entry.kid, entry);
  }
  return list;
}
