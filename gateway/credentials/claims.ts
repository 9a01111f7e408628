// The claims of a signed health pass: one schema used by the verifier (gate) and the
// issuer (CLI, tests), so the two can never disagree about the format.
import { z } from 'zod';
import { CATEGORIES, GOODS_PATTERN, HEALTH_CODES, RISK_LEVELS } from './types.js';
import type { Subject } from './types.js';
import { CredentialError } from './errors.js';

/** 9999-12-31T23:59:59Z: beyond this a NumericDate cannot be shown as an ISO date. */
const MAX_NUMERIC_DATE = 253_402_300_799;

/** JWT NumericDate: seconds since the epoch (fractions allowed, as RFC 7519 permits). */
const numericDate = z
  .number({ error: 'expected a NumericDate (number of seconds since 1970-01-01T00:00:00Z)' })
  .nonnegative({ error: 'expected a NumericDate of 0 or more' })
  .max(MAX_NUMERIC_DATE, { error: 'expected a NumericDate before the year 10000' });

const isoDate = z.iso.date({ error: 'expected an ISO date YYYY-MM-DD' });
/** Zone required (Z or ±hh:mm): a timestamp without one means different instants at different gates. */
const isoTimestamp = z.iso.datetime({
  offset: true,
  error: 'expected an ISO timestamp with a zone, e.g. 2024-01-10T08:00:00Z or 2024-01-10T16:00:00+08:00',
});
const nonEmpty = (what: string) =>
  z.string({ error: `expected ${what} (a non-empty string)` }).min(1, { error: `expected ${what} (a non-empty string)` });

export const visitSchema = z
  .object({
    region: nonEmpty('the region name'),
    from: isoDate,
    to: isoDate,
  })
  // YYYY-MM-DD compares correctly as text.
  .refine((v) => v.from <= v.to, { path: ['to'], error: 'expected a date on or after `from`' });

export const travelSchema = z.object(
  {
    riskLevel: z.enum(RISK_LEVELS, { error: `expected one of ${RISK_LEVELS.join('|')}` }),
    visits: z.array(visitSchema, { error: 'expected an array of {region, from, to}' }),
    asOf: isoTimestamp,
  },
  { error: 'expected an object {riskLevel, visits, asOf}' },
);

export const testSchema = z.object(
  {
    result: z.enum(['negative', 'positive'], { error: 'expected negative|positive' }),
    sampledAt: isoTimestamp,
  },
  { error: 'expected an object {result, sampledAt}' },
);

/** Every claim except the times. Unknown claims are dropped, not refused. */
const contentShape = {
  sub: nonEmpty('the subject id'),
  name: nonEmpty('the name'),
  category: z.enum(CATEGORIES, { error: `expected one of ${CATEGORIES.join('|')}` }),
  healthCode: z.enum(HEALTH_CODES, { error: `expected one of ${HEALTH_CODES.join('|')}` }),
  // Optional here on purpose: a pass without them is well-formed, the policy refuses it.
  travel: travelSchema.optional(),
  test: testSchema.optional(),
};

const timeShape = {
  iat: numericDate,
  exp: numericDate,
  /** Not issued by issuePass, but honoured when an issuer sets it. */
  nbf: numericDate.optional(),
};

const expAfterIat = (t: { iat: number; exp: number }) => t.exp > t.iat;
const expAfterIatMessage = { path: ['exp'], error: 'expected exp later than iat' };

/** Just the time claims: checked before the rest so an expired pass says "expired". */
export const passTimesSchema = z.object(timeShape).refine(expAfterIat, expAfterIatMessage);

/** A complete set of health-pass claims, as signed and as verified. */
export const passClaimsSchema = z
  .object({ ...contentShape, ...timeShape })
  .refine(expAfterIat, expAfterIatMessage);
export type PassClaims = z.infer<typeof passClaimsSchema>;

/** What issuePass accepts: iat and exp may be left for the issuer to fill in. */
export const passClaimsInputSchema = z.object({
  ...contentShape,
  iat: numericDate.optional(),
  exp: numericDate.optional(),
  nbf: numericDate.optional(),
});
export type PassClaimsInput = z.infer<typeof passClaimsInputSchema>;


/** The content of a vehicle pass (typ vehicle-pass+jwt): plate, goods category, the driver's pass `sub`. */
const vehicleContentShape = {
  plate: nonEmpty('the number plate').max(16, { error: 'expected the number plate (at most 16 characters)' }),
  goods: z
    .string({ error: 'expected the goods category id (e.g. food)' })
    .regex(GOODS_PATTERN, { error: 'expected the goods category id: lowercase letters, digits and "-", e.g. food' }),
  driver: nonEmpty("the driver's pass subject id"),
};

/** A complete set of vehicle-pass claims, as signed and as verified. */
export const vehicleClaimsSchema = z
  .object({ ...vehicleContentShape, ...timeShape })
  .refine(expAfterIat, expAfterIatMessage);
export type VehicleClaims = z.infer<typeof vehicleClaimsSchema>;

/** What issueVehiclePass accepts: iat and exp may be left for the issuer to fill in. */
export const vehicleClaimsInputSchema = z.object({
  ...vehicleContentShape,
  iat: numericDate.optional(),
  exp: numericDate.optional(),
  nbf: numericDate.optional(),
});
export type VehicleClaimsInput = z.infer<typeof vehicleClaimsInputSchema>;

// The plain checks: on the lane's path every pass goes through these first and through zod
// only when they say no (to say what is wrong, or to accept what they are too strict for).
// They accept only values the schemas accept and give the very data zod would (unknown
// claims dropped, keys in the schema's order): a test holds them to that. Zod's own
// patterns are used for the ISO dates and timestamps, so the two cannot drift apart.
const ISO_DATE: RegExp = z.regexes.date;
const ISO_TIMESTAMP: RegExp = z.regexes.datetime({ offset: true });
const CATEGORY_SET: ReadonlySet<unknown> = new Set(CATEGORIES);
const HEALTH_CODE_SET: ReadonlySet<unknown> = new Set(HEALTH_CODES);
const RISK_LEVEL_SET: ReadonlySet<unknown> = new Set(RISK_LEVELS);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function isNumericDate(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_NUMERIC_DATE;
}
function isNonEmpty(v: unknown): v is string {
  return typeof v === 'string' && v.length >= 1;
}

type PassTimes = z.infer<typeof passTimesSchema>;

/** passTimesSchema's data when the plain check accepts `claims`, else null (ask zod). */
export function plainPassTimes(claims: unknown): PassTimes | null {
  if (!isPlainObject(claims)) return null;
  const { iat, exp, nbf } = claims;
  if (!isNumericDate(iat) || !isNumericDate(exp) || !(exp > iat)) return null;
  if (nbf === undefined) return { iat, exp };
  return isNumericDate(nbf) ? { iat, exp, nbf } : null;
}

function plainTravel(t: Record<string, unknown>): PassClaims['travel'] | null {
  const { riskLevel, visits, asOf } = t;
  if (!RISK_LEVEL_SET.has(riskLevel) || !Array.isArray(visits) || typeof asOf !== 'string' || !ISO_TIMESTAMP.test(asOf)) return null;
  const out: { region: string; from: string; to: string }[] = [];
  for (const v of visits) {
    if (!isPlainObject(v)) return null;
    const { region, from, to } = v;
    if (!isNonEmpty(region) || typeof from !== 'string' || typeof to !== 'string' || !ISO_DATE.test(from) || !ISO_DATE.test(to) || !(from <= to)) return null;
    out.push({ region, from, to });
  }
  return { riskLevel: riskLevel as (typeof RISK_LEVELS)[number], visits: out, asOf };
}

/** passClaimsSchema's data when the plain check accepts `claims`, else null (ask zod). */
export function plainPassClaims(claims: unknown): PassClaims | null {
  const times = plainPassTimes(claims);
  if (times === null) return null;
  const c = claims as Record<string, unknown>;
  const { sub, name, category, healthCode, travel, test } = c;
  if (!isNonEmpty(sub) || !isNonEmpty(name) || !CATEGORY_SET.has(category) || !HEALTH_CODE_SET.has(healthCode)) return null;
  // Built in the schema's key order (content, then the times), as zod builds its data.
  const out: Partial<PassClaims> = { sub, name, category: category as PassClaims['category'], healthCode: healthCode as PassClaims['healthCode'] };
  if (travel !== undefined) {
    const t = isPlainObject(travel) ? plainTravel(travel) : null;
    if (t === null) return null;
    out.travel = t;
  }
  if (test !== undefined) {
    if (!isPlainObject(test)) return null;
    const { result, sampledAt } = test;
    if ((result !== 'negative' && result !== 'positive') || typeof sampledAt !== 'string' || !ISO_TIMESTAMP.test(sampledAt)) return null;
    out.test = { result, sampledAt };
  }
  out.iat = times.iat;
  out.exp = times.exp;
  if (times.nbf !== undefined) out.nbf = times.nbf;
  return out as PassClaims;
}

/** `travel.visits[0].from`: the path the way a person writing the claims would spell it. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(the claims object)' : out;
}

/** All problems, one per issue: "claim travel.visits[0].from: expected an ISO date YYYY-MM-DD". */
export function describeClaimsError(error: z.ZodError): string {
  return error.issues.map((i) => `claim ${formatPath(i.path)}: ${i.message}`).join('; ');
}

/** For the CLI and tests: validate untrusted input (e.g. a claims file) before issuing. */
export function parsePassClaimsInput(value: unknown): PassClaimsInput {
  const result = passClaimsInputSchema.safeParse(value);
  if (!result.success) throw new CredentialError('CLAIMS_INVALID', describeClaimsError(result.error));
  return result.data;
}

/** The person as the policy sees them. Optional facts are left out, not set to undefined. */
export function claimsToSubject(claims: PassClaims): Subject {
  return {
    id: claims.sub,
    name: claims.name,
    category: claims.category,
    health: {
      healthCode: claims.healthCode,
      ...(claims.travel === undefined ? {} : { travel: claims.travel }),
      ...(claims.test === undefined ? {} : { test: claims.test }),
    },
  };
}
