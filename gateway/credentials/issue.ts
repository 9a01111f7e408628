// Issuing passes: for the CLI (demo keys and passes) and for tests. A real deployment's
// passes come from the health authority; the gate only verifies. No file I/O and no clock
// here: the caller hands in `now`.
import { exportJWK, generateKeyPair, importJWK, SignJWT } from 'jose';
import type { CryptoKey, JWK } from 'jose';
import { describeClaimsError, passClaimsInputSchema, passClaimsSchema, vehicleClaimsInputSchema, vehicleClaimsSchema } from './claims.js';
import type { PassClaimsInput, VehicleClaimsInput } from './claims.js';
import { CredentialError } from './errors.js';
import { PASS_ALGORITHM } from './pass.js';
import { VEHICLE_PASS_TYP } from './types.js';

/** Default lifetime of an issued pass when `exp` is not given: 24 h. */
export const DEFAULT_PASS_TTL_SECONDS = 24 * 60 * 60;

/** kid of a generated key: it ends up in file names (`config/trust/<kid>.jwk.json`), so keep it plain. */
export const ISSUER_KID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface IssuerKeys {
  /** Keep secret: whoever has it can issue passes every gate trusting `publicJwk` accepts. */
  privateJwk: JWK;
  /** Goes into the trust directory of the gates. */
  publicJwk: JWK;
}

export interface IssuePassOptions {
  /** Epoch ms; `iat` defaults to it (whole seconds). Required unless the claims carry `iat`. */
  now?: number;
  /** Lifetime when the claims carry no `exp`; default DEFAULT_PASS_TTL_SECONDS. */
  ttlSeconds?: number;
}

/** A fresh Ed25519 key pair as JWKs with kid, alg EdDSA and use sig. */
export async function generateIssuerKeys(kid: string): Promise<IssuerKeys> {
  if (!ISSUER_KID_PATTERN.test(kid)) {
    throw new CredentialError('ISSUER_KEY_INVALID', `kid must match ${ISSUER_KID_PATTERN.source}`);
  }
  const { privateKey, publicKey } = await generateKeyPair(PASS_ALGORITHM, { crv: 'Ed25519', extractable: true });
  const label = { kid, alg: PASS_ALGORITHM, use: 'sig' };
  return {
    privateJwk: { ...(await exportJWK(privateKey)), ...label },
    publicJwk: { ...(await exportJWK(publicKey)), ...label },
  };
}

async function importIssuerKey(jwk: JWK): Promise<{ kid: string; key: CryptoKey }> {
  const bad = (detail: string) => new CredentialError('ISSUER_KEY_INVALID', detail);
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') throw bad('expected an Ed25519 JWK (kty "OKP", crv "Ed25519")');
  if (typeof jwk.d !== 'string') throw bad('expected a private JWK (with "d"); got a public key');
  if (typeof jwk.kid !== 'string' || jwk.kid === '') throw bad('expected "kid": a non-empty string (the gates choose the key by it)');
  if (jwk.alg !== undefined && jwk.alg !== PASS_ALGORITHM) throw bad(`expected "alg" absent or "${PASS_ALGORITHM}"`);
  let key: CryptoKey | Uint8Array;
  try {
    key = await importJWK({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, d: jwk.d }, PASS_ALGORITHM);
  } catch (err) {
    throw bad(`cannot import the key: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (key instanceof Uint8Array) throw bad('expected an asymmetric key, got a symmetric secret');
  return { kid: jwk.kid, key };
}

/**
 * Signs a health pass: compact JWS, protected header {alg: EdDSA, kid, typ: JWT}.
 * `iat` = claims.iat, else floor(opts.now / 1000); `exp` = claims.exp, else iat + ttl.
 * `claims` may be untyped (e.g. read from a JSON file): they are checked with the
 * verifier's schema first, so every pass issued here verifies. Throws CredentialError
 * CLAIMS_INVALID (naming each bad claim) or ISSUER_KEY_INVALID.
 */
export async function issuePass(
  claims: PassClaimsInput | Readonly<Record<string, unknown>>,
  privateJwk: JWK,
  opts: IssuePassOptions = {},
): Promise<string> {
  const { kid, key } = await importIssuerKey(privateJwk);
  const input = passClaimsInputSchema.safeParse(claims);
  if (!input.success) throw new CredentialError('CLAIMS_INVALID', describeClaimsError(input.error));
  const { iat, exp } = issueTimes(input.data, opts);
  const checked = passClaimsSchema.safeParse({ ...input.data, iat, exp });
  if (!checked.success) throw new CredentialError('CLAIMS_INVALID', describeClaimsError(checked.error));
  return new SignJWT(checked.data).setProtectedHeader({ alg: PASS_ALGORITHM, kid, typ: 'JWT' }).sign(key);
}

/** iat = claims.iat, else floor(now / 1000); exp = claims.exp, else iat + ttl. */
function issueTimes(claims: { iat?: number | undefined; exp?: number | undefined }, opts: IssuePassOptions): { iat: number; exp: number } {
  let iat = claims.iat;
  if (iat === undefined) {
    if (opts.now === undefined || !Number.isFinite(opts.now)) {
      throw new CredentialError('CLAIMS_INVALID', 'claim iat: missing; give claims.iat or opts.now (epoch ms)');
    }
    iat = Math.floor(opts.now / 1000);
  }
  const ttl = opts.ttlSeconds ?? DEFAULT_PASS_TTL_SECONDS;
  if (!(ttl > 0)) throw new CredentialError('CLAIMS_INVALID', `ttlSeconds must be positive, got ${ttl}`);
  return { iat, exp: claims.exp ?? iat + ttl };
}

/**
 * Signs a vehicle pass: compact JWS, protected header {alg: EdDSA, kid, typ: vehicle-pass+jwt},
 * claims plate, goods, driver (the driver's pass `sub`), iat, exp. Same keys, same rules for
 * iat/exp and the same errors as issuePass.
 */
export async function issueVehiclePass(
  claims: VehicleClaimsInput | Readonly<Record<string, unknown>>,
  privateJwk: JWK,
  opts: IssuePassOptions = {},
): Promise<string> {
  const { kid, key } = await importIssuerKey(privateJwk);
  const input = vehicleClaimsInputSchema.safeParse(claims);
  if (!input.success) throw new CredentialError('CLAIMS_INVALID', describeClaimsError(input.error));
  const { iat, exp } = issueTimes(input.data, opts);
  const checked = vehicleClaimsSchema.safeParse({ ...input.data, iat, exp });
  if (!checked.success) throw new CredentialError('CLAIMS_INVALID', describeClaimsError(checked.error));
  return new SignJWT(checked.data).setProtectedHeader({ alg: PASS_ALGORITHM, kid, typ: VEHICLE_PASS_TYP }).sign(key);
}
