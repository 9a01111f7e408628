// The plain claim checks on the lane's path (claims.ts): they may only accept what the zod
// schemas accept, and must then give exactly zod's data (same values, same key order).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { passClaimsSchema, passTimesSchema, plainPassClaims, plainPassTimes } from '../../../gateway/credentials/claims.js';
import { goodClaims } from './fixtures.js';

/** Plausible and broken values for every claim, including ones only zod would take or refuse. */
const numericDate = fc.oneof(fc.integer({ min: -5, max: 2_000_000_000 }), fc.double(), fc.constant(253_402_300_799), fc.constant(253_402_300_800), fc.string());
const isoDate = fc.oneof(fc.constantFrom('2024-01-02', '2024-02-29', '2023-02-29', '2024-13-01', '2024-1-02', '2024-01-02T00:00:00Z', ''), fc.string());
const isoTimestamp = fc.oneof(
  fc.constantFrom('2024-01-09T08:00:00+08:00', '2024-01-09T01:00:00Z', '2024-01-09T01:00:00.123456Z', '2024-01-09T01:00Z', '2024-01-09T01:00:00', '2024-01-09T24:00:00Z', '2024-01-09T01:00:00+24:00'),
  fc.date({ min: new Date(0), max: new Date(8.64e15), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.string(),
);
const visit = fc.oneof(fc.record({ region: fc.oneof(fc.string(), fc.constant('榆林 Yulin')), from: isoDate, to: isoDate }, { requiredKeys: [] }), fc.constant(null), fc.array(fc.string()));
const travel = fc.oneof(
  fc.record({ riskLevel: fc.oneof(fc.constantFrom('none', 'low', 'medium', 'high', 'extreme'), fc.integer()), visits: fc.oneof(fc.array(visit, { maxLength: 3 }), fc.constant({})), asOf: isoTimestamp, extra: fc.string() }, { requiredKeys: ['riskLevel', 'visits', 'asOf'] }),
  fc.constant(null),
  fc.constant([]),
);
const test = fc.oneof(fc.record({ result: fc.constantFrom('negative', 'positive', 'unknown'), sampledAt: isoTimestamp, lab: fc.string() }, { requiredKeys: ['result', 'sampledAt'] }), fc.constant('negative'));
const claims = fc.record(
  {
    sub: fc.oneof(fc.string(), fc.integer()),
    name: fc.oneof(fc.string(), fc.constant('李娜 Li Na')),
    category: fc.constantFrom('employee', 'family', 'contractor', 'visitor', 'vendor', 'driver', 'guest', 3),
    healthCode: fc.constantFrom('green', 'yellow', 'red', 'blue'),
    travel,
    test,
    iat: numericDate,
    exp: numericDate,
    nbf: numericDate,
    extra: fc.anything(),
  },
  { requiredKeys: [] },
);

let accepted = 0;
function agrees(value: unknown): void {
  const times = plainPassTimes(value);
  if (times !== null) {
    const z = passTimesSchema.safeParse(value);
    expect(z.success).toBe(true);
    expect(JSON.stringify(times)).toBe(JSON.stringify(z.data));
  }
  const all = plainPassClaims(value);
  if (all !== null) {
    accepted += 1;
    const z = passClaimsSchema.safeParse(value);
    expect(z.success).toBe(true);
    expect(JSON.stringify(all)).toBe(JSON.stringify(z.data));
    expect(all).toEqual(z.data);
  }
}

describe('the plain pass-claim checks', () => {
  it('accept a well-formed pass and give zod\'s data, unknown claims dropped', () => {
    const good = { ...goodClaims(), nbf: 1_704_800_000, issuerNote: 'x', travel: { ...goodClaims().travel, extra: 1 } };
    expect(plainPassClaims(good)).not.toBeNull();
    expect(plainPassTimes(good)).toEqual({ iat: good.iat, exp: good.exp, nbf: 1_704_800_000 });
    agrees(good);
    agrees(goodClaims({ travel: undefined, test: undefined }));
  });

  it('never accept what the schemas refuse, and give exactly their data when they accept', () => {
    accepted = 0;
    fc.assert(fc.property(claims, (c) => agrees(c)), { numRuns: 3000 });
    // Mostly-good claims with one field broken: the cases closest to the edge.
    fc.assert(
      fc.property(fc.constantFrom('sub', 'name', 'category', 'healthCode', 'travel', 'test', 'iat', 'exp', 'nbf'), fc.anything(), (key, v) => agrees({ ...goodClaims(), [key]: v })),
      { numRuns: 2000 },
    );
    // The accepting side was exercised too, not only refusals.
    expect(accepted).toBeGreaterThan(20);
  });

  it('leave to zod what they refuse: a pass zod accepts still verifies (an offset timestamp, a leap day)', () => {
    const edge = goodClaims({ travel: { riskLevel: 'low', visits: [{ region: 'x', from: '2024-02-29', to: '2024-02-29' }], asOf: '2024-01-09T08:00:00.5-05:30' } });
    expect(passClaimsSchema.safeParse(edge).success).toBe(true);
    agrees(edge);
    expect(plainPassClaims({ ...goodClaims(), exp: goodClaims().iat })).toBeNull();
    expect(plainPassClaims({ ...goodClaims(), category: 'guest' })).toBeNull();
  });
});
