// ES256 (raw r‖s, 64 bytes) and PS256 (RSA-PSS, SHA-256, MGF1-SHA-256) over the COSE
// Sig_structure, with node:crypto. The algorithm must fit the DSC's key type.
import { constants, verify } from 'node:crypto';
import type { CoseAlg } from './cose.js';
import { fail } from './failure.js';
import type { DccSigner } from './trust.js';

const ES256_SIGNATURE_BYTES = 64;
/** RFC 8230: PS256 uses a salt as long as the hash. */
const PS256_SALT_BYTES = 32;

function fits(alg: CoseAlg, signer: DccSigner): boolean {
  return alg === 'ES256' ? signer.keyKind === 'ec-p256' : signer.keyKind === 'rsa';
}

function verifyOne(alg: CoseAlg, signer: DccSigner, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (alg === 'ES256') return verify('sha256', data, { key: signer.publicKey, dsaEncoding: 'ieee-p1363' }, signature);
    return verify('sha256', data, { key: signer.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: PS256_SALT_BYTES }, signature);
  } catch {
    // e.g. an RSA signature longer than the modulus: not a valid signature, not an error.
    return false;
  }
}

/** Returns the signer whose key verifies the signature; fails with a signature-stage code otherwise. */
export function verifySignature(alg: CoseAlg, signers: readonly DccSigner[], data: Uint8Array, signature: Uint8Array): DccSigner {
  const candidates = signers.filter((s) => fits(alg, s));
  if (candidates.length === 0) fail('DCC_ALG_KEY_MISMATCH', `signature: alg ${alg} does not fit the key type of the trusted certificate(s) for this kid`);
  if (alg === 'ES256' && signature.length !== ES256_SIGNATURE_BYTES) {
    fail('DCC_SIGNATURE_INVALID', `signature: an ES256 signature is ${ES256_SIGNATURE_BYTES} bytes (r‖s), got ${signature.length}`);
  }
  for (const signer of candidates) if (verifyOne(alg, signer, data, signature)) return signer;
  fail('DCC_SIGNATURE_INVALID', `signature: the ${alg} signature does not verify with the trusted certificate(s) for this kid`);
}
