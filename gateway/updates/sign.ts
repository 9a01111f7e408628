// The central office's side of an update: sign an envelope with its private key. Used by
// the `central sign` command and by tests; the gateway itself only verifies.
import { CompactSign, importJWK, type JWK } from 'jose';
import { UpdateError } from './errors.js';
import { UPDATE_ALG, UPDATE_TYP, type UpdateEnvelope } from './envelope.js';

export async function signUpdate(envelope: UpdateEnvelope, privateJwk: JWK): Promise<string> {
  if (privateJwk.kty !== 'OKP' || privateJwk.crv !== 'Ed25519' || typeof privateJwk.d !== 'string') {
    throw new UpdateError('UPDATE_MALFORMED', 'signing key: expected a private Ed25519 JWK (kty OKP, crv Ed25519, with "d")');
  }
  if (typeof privateJwk.kid !== 'string' || privateJwk.kid === '') {
    throw new UpdateError('UPDATE_MALFORMED', 'signing key: expected a "kid" (the gateways choose the key by it)');
  }
  const key = await importJWK({ kty: privateJwk.kty, crv: privateJwk.crv, x: privateJwk.x, d: privateJwk.d }, UPDATE_ALG);
  return new CompactSign(new TextEncoder().encode(JSON.stringify(envelope)))
    .setProtectedHeader({ alg: UPDATE_ALG, typ: UPDATE_TYP, kid: privateJwk.kid })
    .sign(key);
}
