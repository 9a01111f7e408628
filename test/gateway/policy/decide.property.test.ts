import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CATEGORIES, CREDENTIAL_FAILURES, HEALTH_CODES, RISK_LEVELS, type ResolvedCredential, type Subject } from '../../../gateway/credentials/types.js';
import { decide } from '../../../gateway/policy/decide.js';
import { MINE_ENTRANCE, profileFromOverrides } from '../../../gateway/policy/profiles.js';
import { isReasonCode, reasonKind } from '../../../gateway/policy/reasons.js';
import { hundredths, isPlausible } from '../../../gateway/policy/temperature.js';
import type { DecideInput, LocalFacts, PolicyProfile, TemperatureReading } from '../../../gateway/policy/types.js';
import { DAY, NOW, iso } from './fixtures.js';

// Dates near NOW in every form the facts use, plus garbage.
const offset = fc.integer({ min: -40 * DAY, max: 40 * DAY });
const dateish = fc.oneof(
  offset.map((o) => iso(NOW + o)),
  offset.map((o) => iso(NOW + o).slice(0, 10)),
  offset.map((o) => iso(NOW + o).slice(0, 19)),
  fc.string({ maxLength: 12 }),
);
const region = fc.oneof(fc.constantFrom("Xi'an", " XI'AN ", '西安', '咸阳市', 'Baoji'), fc.string({ maxLength: 6 }));
const celsius = fc.oneof(
  fc.double({ min: 30, max: 45, noNaN: true }),
  fc.constantFrom(33.99, 34, 36.6, 37.29, 37.3, 43, 43.01, Number.NaN, Number.POSITIVE_INFINITY),
  fc.double(),
);

const subjectArb: fc.Arbitrary<Subject> = fc.record({
  id: fc.constant('P-0001'),
  name: fc.constant('张三'),
  category: fc.constantFrom(...CATEGORIES),
  health: fc.record(
    {
      healthCode: fc.constantFrom(...HEALTH_CODES),
      travel: fc.record({
        riskLevel: fc.constantFrom(...RISK_LEVELS),
        visits: fc.array(fc.record({ region, from: dateish, to: dateish }), { maxLength: 3 }),
        asOf: dateish,
      }),
      test: fc.record({ result: fc.constantFrom('negative' as const, 'positive' as const), sampledAt: dateish }),
    },
    { requiredKeys: ['healthCode'] },
  ),
});

const credentialArb: fc.Arbitrary<ResolvedCredential> = fc.oneof(
  { weight: 6, arbitrary: subjectArb.map((subject) => ({ ok: true as const, kind: 'health-pass' as const, subject })) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(...CREDENTIAL_FAILURES).map((code) => ({ ok: false as const, kind: 'unknown' as const, code, detail: '' })),
  },
);

const factsArb: fc.Arbitrary<LocalFacts> = fc.record({
  watchlist: fc.array(
    fc.record({
      subjectId: fc.constant('P-0001'),
      kind: fc.constantFrom('close-contact' as const, 'isolation' as const, 'home-monitoring' as const),
      from: dateish,
      until: fc.option(dateish, { nil: null }),
    }),
    { maxLength: 2 },
  ),
  approvals: fc.array(
    fc.record({ subjectId: fc.constant('P-0001'), approver: fc.constant('王主任'), hostDepartment: fc.constant('机电科'), validFrom: dateish, validUntil: dateish }),
    { maxLength: 2 },
  ),
  riskAreas: fc.array(
    fc.record({ region, level: fc.constantFrom('low' as const, 'medium' as const, 'high' as const), since: dateish, until: fc.option(dateish, { nil: null }) }),
    { maxLength: 3 },
  ),
});

const profileArb: fc.Arbitrary<PolicyProfile> = fc.oneof(
  fc.constant(MINE_ENTRANCE),
  fc
    .record({
      feverThreshold: fc.constantFrom(37, 37.3, 37.5),
      implausibleRetries: fc.integer({ min: 0, max: 3 }),
      testWindowHours: fc.constantFrom(24, 48, 72),
      allowedCategories: fc.subarray([...CATEGORIES], { minLength: 1 }),
    })
    .map((o) => profileFromOverrides(o)),
);

const readingsOf = (c: fc.Arbitrary<number>): fc.Arbitrary<TemperatureReading[]> =>
  fc.array(c, { maxLength: 5 }).map((cs) => cs.map((celsius, i) => ({ celsius, at: NOW - (5 - i) * 1000 })));

/** Anything goes: mostly refusals, but every odd shape of data. */
const wildInput: fc.Arbitrary<DecideInput> = fc.record({
  credential: credentialArb,
  readings: readingsOf(celsius),
  facts: factsArb,
  profile: profileArb,
  now: fc.integer({ min: NOW - 2 * DAY, max: NOW + 2 * DAY }),
});

/** Mostly a person who passes, with one or two things off: this is where admits happen. */
const often = <T>(usual: fc.Arbitrary<T>, rare: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc.oneof({ weight: 4, arbitrary: usual }, { weight: 1, arbitrary: rare });
const nearMissSubject: fc.Arbitrary<Subject> = fc.record({
  id: fc.constant('P-0001'),
  name: fc.constant('张三'),
  category: often(fc.constant('employee' as const), fc.constantFrom(...CATEGORIES)),
  health: fc.record({
    healthCode: often(fc.constant('green' as const), fc.constantFrom(...HEALTH_CODES)),
    travel: fc.record({
      riskLevel: often(fc.constantFrom('none' as const, 'low' as const), fc.constantFrom(...RISK_LEVELS)),
      visits: often(fc.constant([]), fc.array(fc.record({ region, from: dateish, to: dateish }), { maxLength: 2 })),
      asOf: dateish,
    }),
    test: fc.record({
      result: often(fc.constant('negative' as const), fc.constant('positive' as const)),
      sampledAt: often(fc.integer({ min: 0, max: 49 * 3_600_000 }).map((age) => iso(NOW - age)), dateish),
    }),
  }),
});
const nearMissInput: fc.Arbitrary<DecideInput> = fc.record({
  credential: nearMissSubject.map((subject): ResolvedCredential => ({ ok: true, kind: 'staff-badge', subject })),
  readings: readingsOf(often(fc.double({ min: 35.5, max: 38, noNaN: true }), celsius)),
  facts: often(fc.constant<LocalFacts>({ watchlist: [], approvals: [], riskAreas: [] }), factsArb),
  profile: profileArb,
  now: often(fc.constant(NOW), fc.integer({ min: NOW - DAY, max: NOW + DAY })),
});

const inputArb = fc.oneof({ weight: 1, arbitrary: wildInput }, { weight: 2, arbitrary: nearMissInput });

describe('decide: properties', () => {
  it('never throws, never admits a code that is not green, never admits a last reading at or above the threshold', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const v = decide(input);
        expect(['admit', 'refuse', 'refer', 'measure']).toContain(v.outcome);
        if (v.outcome !== 'admit') return;
        expect(input.credential.ok).toBe(true);
        if (input.credential.ok) expect(input.credential.subject.health.healthCode).toBe('green');
        const last = input.readings.at(-1);
        expect(last).toBeDefined();
        if (!last) return;
        expect(isPlausible(last.celsius, input.profile)).toBe(true);
        expect(hundredths(last.celsius)).toBeLessThan(hundredths(input.profile.feverThreshold));
        expect(v.temperature).toBe(last.celsius);
        expect(v.reasons).toEqual([]);
        expect(v.alerts).toEqual([]);
      }),
      { numRuns: 2000 },
    );
  });

  it('explains every refusal and referral with catalogued codes that say what to do next, one alert per kind', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const v = decide(input);
        if (v.outcome === 'measure') {
          const code = v.reason.code;
          expect(isReasonCode(code) && reasonKind(code)).toBe('measure');
          return;
        }
        if (v.outcome === 'admit') return;
        expect(v.reasons.length).toBeGreaterThan(0);
        for (const r of v.reasons) {
          expect(isReasonCode(r.code)).toBe(true);
          expect(r.next?.zh).toBeTruthy();
          expect(r.next?.en).toBeTruthy();
        }
        const kinds = v.alerts.map((a) => a.kind);
        expect(new Set(kinds).size).toBe(kinds.length);
      }),
      { numRuns: 1000 },
    );
  });

  it('is pure: the same input gives the same verdict and is not changed', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const before = structuredClone(input);
        const a = decide(input);
        expect(input).toEqual(before);
        expect(decide(input)).toEqual(a);
      }),
      { numRuns: 300 },
    );
  });
});
