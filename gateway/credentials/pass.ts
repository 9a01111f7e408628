// Verifying a signed health pass: a compact JWS (EdDSA / Ed25519) whose payload is the
// pass claims. Every way a token can be wrong ends as a ParsedCredential failure with a
// stable code; nothing here throws for a bad token, and time comes only from `now`.
import { KeyObject, verify as verifyEd25519 } from 'node:crypto';
import { compactVerify, errors } from 'jose';
import { claimsToSubject, describeClaimsError, passClaimsSchema, passTimesSchema, plainPassClaims, plainPassTimes, vehicleClaimsSchema } from './claims.js';
import { CredentialError } from './errors.js';
import type { TrustedKey, TrustList } from './trust-list.js';
import { VEHICLE_PASS_TYP, type CredentialFailureCode, type ParsedCredential } from './types.js';

/**
 * Slack for the gate PC's clock running behind the issuer's: a pass whose `iat` or `nbf`
 * is up to 60 s in the future is accepted, further than that is PASS_NOT_YET_VALID.
 * `exp` gets no slack (fail secure): the pass is expired when now >= exp.
 */
export const CLOCK_TOLERANCE_MS = 60_000;

/** Longest token accepted. A real pass is well under 1 KiB; see decode.ts for the payload cap. */
export const MAX_PASS_CHARS = 4096;

/**
 * Longest validity (exp − iat) a pass may state, hours: 7 days. A genuine pass valid for
 * years (a misconfigured issuer, a leaked key) would otherwise admit its holder forever.
 * The gateway passes credentials.maxPassLifetimeHours; this default keeps a caller that
 * passes nothing on the safe side.
 */
export const DEFAULT_MAX_PASS_LIFETIME_HOURS = 168;

/** Rules of the gateway's configuration that verifying a pass follows. */
export interface PassRules {
  /** Longest exp − iat accepted, hours. Default DEFAULT_MAX_PASS_LIFETIME_HOURS. */
  maxLifetimeHours?: number;
}

/** The only algorithm accepted; anything else in `alg` (none, HS256, RS256, …) is PASS_MALFORMED. */
export const PASS_ALGORITHM = 'EdDSA';

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const SEGMENT_NAMES = ['header', 'payload', 'signature'] as const;

type Failure = Extract<ParsedCredential, { ok: false }>;

function fail(code: CredentialFailureCode, detail: string): Failure {
  return { ok: false, kind: 'health-pass', code, detail };
}

/** A vehicle pass fails with the same codes; its detail says which kind of pass it was. */
function vehicleFail(failure: Failure): Failure {
  return { ...failure, detail: `vehicle pass ${failure.detail}` };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** base64url → UTF-8 → JSON object, or a sentence saying which step failed. */
function decodeJsonSegment(segment: string, name: string): Record<string, unknown> | string {
  let text: string;
  try {
    text = utf8.decode(Buffer.from(segment, 'base64url'));
  } catch {
    return `${name} is not UTF-8 text`;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return `${name} is not JSON`;
  }
  return isRecord(value) ? value : `${name} is not a JSON object`;
}

/**
 * The last header segment decoded and what it decoded to: the passes of an issuer key all
 * carry the very same header (alg, kid, typ), so a run of them decodes it once. Frozen, as
 * it is handed out again; only read.
 */
let lastHeader: { segment: string; value: Record<string, unknown> | string } | null = null;

function decodeHeader(segment: string): Record<string, unknown> | string {
  if (lastHeader !== null && lastHeader.segment === segment) return lastHeader.value;
  const value = decodeJsonSegment(segment, 'header');
  lastHeader = { segment, value: typeof value === 'string' ? value : Object.freeze(value) };
  return lastHeader.value;
}

/** Keeps details short and free of control characters when they quote a value from the token. */
function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 64 ? `${text.slice(0, 61)}...` : text;
}

/** Claim values are seconds, `now` is ms. */
const isoOf = (seconds: number) => new Date(seconds * 1000).toISOString();

/** Each trusted key as a node:crypto Ed25519 public key, converted once; null: jose verifies it. */
const ed25519Keys = new WeakMap<object, KeyObject | null>();

/**
 * The trusted key as a node:crypto KeyObject when it is one jose would use for EdDSA: an
 * Ed25519 public key (a CryptoKey also allowed to verify). Other keys keep the jose path,
 * which refuses them as before.
 */
function ed25519Key(key: TrustedKey['key']): KeyObject | null {
  let k = ed25519Keys.get(key);
  if (k === undefined) {
    k = null;
    try {
      if (key instanceof KeyObject) {
        if (key.type === 'public' && key.asymmetricKeyType === 'ed25519') k = key;
      } else if ('algorithm' in key && key.type === 'public' && key.algorithm.name === 'Ed25519' && key.usages.includes('verify')) {
        k = KeyObject.from(key as Parameters<typeof KeyObject.from>[0]);
      }
    } catch {
      k = null;
    }
    ed25519Keys.set(key, k);
  }
  return k;
}

/**
 * Verifies a health pass against the trust list at time `now` (epoch ms).
 * Order of checks, first failure wins: shape (PASS_MALFORMED) → key by kid (PASS_UNKNOWN_KEY)
 * → signature (PASS_SIGNATURE_INVALID) → iat/exp/nbf (PASS_CLAIMS_INVALID, PASS_EXPIRED,
 * PASS_NOT_YET_VALID, then PASS_LIFETIME_TOO_LONG when exp − iat exceeds
 * rules.maxLifetimeHours) → the other claims (PASS_CLAIMS_INVALID). Times are judged before the
 * rest of the claims so an old pass in an outdated format still says "expired".
 * Throws only for a caller bug: `now` not a finite number.
 */
export function verifyPass(token: string, trust: TrustList, now: number, rules: PassRules = {}): Promise<ParsedCredential> {
  // Not an async function: an Ed25519 pass is verified synchronously and its answer handed
  // over as one settled promise (the chain of async steps cost a decision several
  // microtask turns); only a key jose verifies waits for it. Failures as before: a caller
  // bug rejects, anything else resolves to a refusal.
  if (!Number.isFinite(now)) return Promise.reject(new CredentialError('INVALID_ARGUMENT', `now must be epoch ms, got ${String(now)}`));
  const maxLifetimeHours = rules.maxLifetimeHours ?? DEFAULT_MAX_PASS_LIFETIME_HOURS;
  if (!(maxLifetimeHours > 0)) return Promise.reject(new CredentialError('INVALID_ARGUMENT', `maxLifetimeHours must be positive, got ${String(maxLifetimeHours)}`));
  try {
    const result = verify(token, trust, now, maxLifetimeHours);
    return result instanceof Promise ? result.catch(couldNotVerify) : Promise.resolve(result);
  } catch (err) {
    return Promise.resolve(couldNotVerify(err));
  }
}

/** Safety net for the never-throw contract (e.g. a crypto backend error): refuse, explain. */
function couldNotVerify(err: unknown): Failure {
  return fail('PASS_MALFORMED', `could not be verified: ${err instanceof Error ? err.message : String(err)}`);
}

/** What may still wait for jose: its answer, or this step's own once jose has answered. */
type Pending<T> = T | Promise<T>;

/** f of the value, at once when it is there, after it when it is a promise. */
function then<T, U>(v: Pending<T>, f: (value: T) => Pending<U>): Pending<U> {
  return v instanceof Promise ? v.then(f) : f(v);
}

function verify(token: string, trust: TrustList, now: number, maxLifetimeHours: number): Pending<ParsedCredential> {
  if (typeof token !== 'string') return fail('PASS_MALFORMED', 'expected the token as a string');
  if (token.length > MAX_PASS_CHARS) {
    return fail('PASS_MALFORMED', `is ${token.length} characters, more than the ${MAX_PASS_CHARS} accepted`);
  }

  // 1. Shape: compact JWS = three base64url segments.
  const segments = token.split('.');
  if (segments.length !== 3) {
    return fail('PASS_MALFORMED', `expected a compact JWS (header.payload.signature), got ${segments.length} segment(s)`);
  }
  for (const [i, segment] of segments.entries()) {
    const name = SEGMENT_NAMES[i] ?? 'segment';
    if (segment === '') {
      return fail('PASS_MALFORMED', name === 'signature' ? 'is unsigned (empty signature)' : `${name} segment is empty`);
    }
    // Length 4n+1 cannot come from any byte string.
    if (!BASE64URL.test(segment) || segment.length % 4 === 1) {
      return fail('PASS_MALFORMED', `${name} segment is not base64url`);
    }
  }
  const [headerSegment = '', payloadSegment = ''] = segments;

  // 2. Protected header: only EdDSA, a kid, no extensions.
  const header = decodeHeader(headerSegment);
  if (typeof header === 'string') return fail('PASS_MALFORMED', header);
  if (header.alg !== PASS_ALGORITHM) {
    return fail('PASS_MALFORMED', `header alg ${quote(header.alg)} is not accepted; expected "${PASS_ALGORITHM}"`);
  }
  const { kid } = header;
  if (typeof kid !== 'string' || kid === '') return fail('PASS_MALFORMED', 'header has no kid (expected a non-empty string)');
  const vehicle = header.typ === VEHICLE_PASS_TYP;
  if (header.typ !== undefined && header.typ !== 'JWT' && !vehicle) {
    return fail('PASS_MALFORMED', `header typ ${quote(header.typ)} is not accepted; expected "JWT" (health pass), "${VEHICLE_PASS_TYP}" or none`);
  }
  // No JWS extension is understood, so none may be required of us (RFC 7515 §4.1.11).
  if (header.crit !== undefined) {
    const f = fail('PASS_MALFORMED', 'header has "crit"; no JWS extensions are accepted');
    return vehicle ? vehicleFail(f) : f;
  }
  // typ vehicle-pass+jwt: the claims are a vehicle's, never a person's (no typ confusion).
  if (vehicle) {
    return then(verifySigned(token, trust, now, maxLifetimeHours, kid, payloadSegment), (result): ParsedCredential => {
      if (!result.ok) return vehicleFail(result);
      const parsed = vehicleClaimsSchema.safeParse(result.claims);
      if (!parsed.success) return vehicleFail(fail('PASS_CLAIMS_INVALID', describeClaimsError(parsed.error)));
      const { plate, goods, driver, iat, exp } = parsed.data;
      return { ok: true, kind: 'vehicle-pass', vehicle: { plate, goods, driver }, issuer: result.issuer, issuedAt: iat * 1000, expiresAt: exp * 1000 };
    });
  }
  return then(verifySigned(token, trust, now, maxLifetimeHours, kid, payloadSegment), passOf);
}

/** Step 5 of a health pass: the claims besides the times, once the signature and times are good. */
function passOf(result: Signed | Failure): ParsedCredential {
  if (!result.ok) return result;

  // 5. Everything else.
  // The plain check first; zod for what it does not accept (and to say what is wrong).
  let claims = plainPassClaims(result.claims);
  if (claims === null) {
    const parsed = passClaimsSchema.safeParse(result.claims);
    if (!parsed.success) return fail('PASS_CLAIMS_INVALID', describeClaimsError(parsed.error));
    claims = parsed.data;
  }
  return {
    ok: true,
    kind: 'health-pass',
    subject: claimsToSubject(claims),
    issuer: result.issuer,
    issuedAt: claims.iat * 1000,
    expiresAt: claims.exp * 1000,
  };
}

/** A pass whose signature and times are good: its signed claims and the issuer's label. */
interface Signed {
  ok: true;
  claims: unknown;
  issuer: string;
}

/**
 * Steps 3–4, shared by both kinds of pass: key by kid, signature, then the times. Returns
 * the signed claims (not yet checked beyond the times) and the issuer's label; a promise
 * only when jose verifies the key.
 */
function verifySigned(token: string, trust: TrustList, now: number, maxLifetimeHours: number, kid: string, payloadSegment: string): Pending<Failure | Signed> {
  // The payload must be a JSON object even before we spend a signature check on it.
  const payloadShape = decodeJsonSegment(payloadSegment, 'payload');
  if (typeof payloadShape === 'string') return fail('PASS_MALFORMED', payloadShape);

  // 3. Key by kid, then signature.
  const trusted = trust.get(kid);
  if (trusted === undefined) return fail('PASS_UNKNOWN_KEY', `no trusted issuer key with kid ${quote(kid)}`);
  const forged = () => fail('PASS_SIGNATURE_INVALID', `signature does not match trusted key ${quote(kid)} (forged or altered)`);
  const ed25519 = ed25519Key(trusted.key);
  if (ed25519 !== null) {
    // What jose's compactVerify does for an EdDSA pass (alg, kid, typ, no crit and
    // segment shapes were checked above), done synchronously: WebCrypto's verify is a
    // thread-pool job and an event-loop turn per pass, about a third of a decision.
    const dot = token.lastIndexOf('.');
    let valid: boolean;
    try {
      valid = verifyEd25519(null, Buffer.from(token.slice(0, dot), 'latin1'), ed25519, Buffer.from(token.slice(dot + 1), 'base64url'));
    } catch {
      valid = false; // as jose: a verifier error is a failed signature
    }
    if (!valid) return forged();
    // The payload segment is what the signature covers, decoded once above.
    return checkTimes(payloadShape, trusted.issuer, now, maxLifetimeHours);
  }
  return compactVerify(token, trusted.key, { algorithms: [PASS_ALGORITHM] }).then(
    // From here on only the bytes the signature covers are used.
    (result) => checkTimes(JSON.parse(utf8.decode(result.payload)), trusted.issuer, now, maxLifetimeHours),
    (err: unknown) => {
      if (err instanceof errors.JWSSignatureVerificationFailed) return forged();
      return fail('PASS_MALFORMED', `rejected by the JWS verifier: ${err instanceof Error ? err.message : String(err)}`);
    },
  );
}

/** Step 4: the signed claims' times, at `now`. */
function checkTimes(claims: unknown, issuer: string, now: number, maxLifetimeHours: number): Failure | Signed {
  // 4. Times.
  let times = plainPassTimes(claims);
  if (times === null) {
    const parsed = passTimesSchema.safeParse(claims);
    if (!parsed.success) return fail('PASS_CLAIMS_INVALID', describeClaimsError(parsed.error));
    times = parsed.data;
  }
  const { iat, exp, nbf } = times;
  // Expired when now >= exp: a pass is valid up to, not including, its exp second.
  if (now >= exp * 1000) return fail('PASS_EXPIRED', `expired at ${isoOf(exp)}`);
  if (iat * 1000 > now + CLOCK_TOLERANCE_MS) {
    return fail('PASS_NOT_YET_VALID', `issued in the future (iat ${isoOf(iat)}), beyond the ${CLOCK_TOLERANCE_MS / 1000} s clock tolerance`);
  }
  if (nbf !== undefined && nbf * 1000 > now + CLOCK_TOLERANCE_MS) {
    return fail('PASS_NOT_YET_VALID', `not valid before ${isoOf(nbf)} (nbf), beyond the ${CLOCK_TOLERANCE_MS / 1000} s clock tolerance`);
  }
  // The span the issuer signed, not what is left of it: a pass valid for years is refused
  // on its first day as on its last.
  if (exp - iat > maxLifetimeHours * 3600) {
    return fail('PASS_LIFETIME_TOO_LONG', `valid for ${Math.floor((exp - iat) / 3600)} h (iat ${isoOf(iat)} to exp ${isoOf(exp)}); at most ${maxLifetimeHours} h is accepted`);
  }

  return { ok: true, claims, issuer };
}
