// The DCC pipeline: prefix → base45 → zlib → COSE_Sign1 → trust (kid) → signature →
// CWT claims → key usage → validity times → HCERT schema. Pure: the time comes in as `at`.
// Every failure becomes a DccInvalid naming the first stage that failed; nothing throws.
import { decodeBase45 } from './base45.js';
import { parseCoseSign1, sigStructure } from './cose.js';
import { parseCwt, toJson } from './cwt.js';
import { DccFailure, fail } from './failure.js';
import { inflateDcc } from './inflate.js';
import { checkHcertSchema } from './schema.js';
import { verifySignature } from './signature.js';
import type { DccTrust } from './trust.js';
import { DCC_PREFIX, type DccInvalid, type DccResult, type DccStage, type DccType, type Hcert } from './types.js';

/** A QR code holds at most 4296 alphanumeric characters; anything longer is not a scan. */
export const MAX_QR_CHARS = 4296;

const GROUP_TYPES = { v: 'vaccination', t: 'test', r: 'recovery' } as const satisfies Record<string, DccType>;

/** The payload's type when exactly one of v / t / r is present; otherwise the schema stage rejects it. */
function payloadType(hcert: Map<unknown, unknown>): DccType | null {
  const present = (Object.keys(GROUP_TYPES) as (keyof typeof GROUP_TYPES)[]).filter((k) => hcert.has(k));
  return present.length === 1 && present[0] !== undefined ? GROUP_TYPES[present[0]] : null;
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

interface Progress {
  stage: DccStage;
  kid: string | null;
  type: DccType | null;
}

function run(qr: string, trust: DccTrust, at: number, p: Progress): DccResult {
  if (typeof qr !== 'string' || !qr.startsWith(DCC_PREFIX)) fail('DCC_PREFIX_MISSING', `prefix: the text does not start with "${DCC_PREFIX}"`);
  p.stage = 'base45';
  if (qr.length > MAX_QR_CHARS) fail('DCC_INPUT_TOO_LONG', `base45: ${qr.length} characters, more than a QR code holds (${MAX_QR_CHARS})`);
  const compressed = decodeBase45(qr.slice(DCC_PREFIX.length));
  p.stage = 'decompress';
  const raw = inflateDcc(compressed);
  p.stage = 'cose';
  const cose = parseCoseSign1(raw);
  p.kid = base64(cose.kid);
  p.stage = 'trust';
  const signers = trust.byKid.get(p.kid);
  if (signers === undefined || signers.length === 0) fail('DCC_KID_UNKNOWN', 'trust: no trusted document signer certificate has this kid');
  p.stage = 'signature';
  const signer = verifySignature(cose.alg, signers, sigStructure(cose), cose.signature);
  p.stage = 'cbor';
  const claims = parseCwt(cose.payload);
  p.type = payloadType(claims.hcert as Map<unknown, unknown>);
  p.stage = 'keyusage';
  if (p.type !== null && signer.types !== null && !signer.types.has(p.type)) {
    fail('DCC_KEYUSAGE_MISMATCH', `keyusage: the signer's extended key usage allows ${[...signer.types].join(', ')}, not ${p.type}`);
  }
  p.stage = 'expired';
  if (!Number.isFinite(at)) fail('DCC_EXPIRED', 'expired: the verification time is not a finite number');
  if (at > signer.notAfter) fail('DCC_DSC_EXPIRED', 'expired: the document signer certificate has expired at the verification time');
  if (at >= claims.exp * 1000) fail('DCC_EXPIRED', 'expired: the CWT has expired (exp) at the verification time');
  p.stage = 'not-yet-valid';
  if (at < signer.notBefore) fail('DCC_DSC_NOT_YET_VALID', 'not-yet-valid: the document signer certificate is not yet valid at the verification time');
  if (claims.iat * 1000 > at) fail('DCC_NOT_YET_VALID', 'not-yet-valid: the CWT was issued (iat) after the verification time');
  p.stage = 'schema';
  const payload = toJson(claims.hcert, 'hcert');
  const check = checkHcertSchema(payload);
  if (!check.ok) {
    const code = check.family === null ? 'DCC_SCHEMA_VERSION_UNSUPPORTED' : 'DCC_SCHEMA_INVALID';
    fail(code, `schema${check.family === null ? '' : ` ${check.family}`}: ${check.problems.join('; ')}`);
  }
  if (p.type === null) fail('DCC_SCHEMA_INVALID', 'schema: exactly one of v, t, r is required');
  return {
    valid: true,
    stage: null,
    code: 'DCC_VALID',
    kid: p.kid,
    type: p.type,
    issuer: claims.iss,
    issuedAt: claims.iat * 1000,
    expiresAt: claims.exp * 1000,
    hcert: payload as unknown as Hcert,
  };
}

/** Verifies one scanned "HC1:" text against the trusted DSCs at time `at` (epoch ms). Never throws. */
export function verifyDcc(qr: string, trust: DccTrust, at: number): DccResult {
  const p: Progress = { stage: 'prefix', kid: null, type: null };
  try {
    return run(qr, trust, at, p);
  } catch (err) {
    const invalid: DccInvalid =
      err instanceof DccFailure
        ? { valid: false, stage: err.stage, code: err.code, message: err.message, kid: p.kid, type: p.type }
        : // A bug or an input no check foresaw: still a refusal at the stage that was running.
          { valid: false, stage: p.stage, code: 'DCC_UNEXPECTED', message: `${p.stage}: unexpected failure (${err instanceof Error ? err.name : typeof err})`, kid: p.kid, type: p.type };
    return invalid;
  }
}
