// The safety floor, as a property: whatever else is true, no shipped profile (and no
// profile with every softenable rule soft) admits a red code, a positive test or an
// active watchlist entry.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CATEGORIES, HEALTH_CODES, RISK_LEVELS, type Subject } from '../../../gateway/credentials/types.js';
import { decide } from '../../../gateway/policy/decide.js';
import { profileFromOverrides } from '../../../gateway/policy/profiles.js';
import type { LocalFacts, PolicyProfile, WatchlistEntry } from '../../../gateway/policy/types.js';
import { DAY, HOUR, NOW, iso } from './fixtures.js';
import { PROFILE_NAMES, SHIPPED } from './shipped.js';

const offset = fc.integer({ min: -40 * DAY, max: 40 * DAY });
const dateish = fc.oneof(
  offset.map((o) => iso(NOW + o)),
  offset.map((o) => iso(NOW + o).slice(0, 10)),
  fc.string({ maxLength: 8 }),
);
const region = fc.constantFrom("Xi'an", '西安', 'Baoji');
const celsius = fc.oneof(fc.double({ min: 30, max: 45, noNaN: true }), fc.constantFrom(36.5, 37.29, 37.3, Number.NaN));

const subjectArb: fc.Arbitrary<Subject> = fc.record({
  id: fc.constant('P-0001'),
  name: fc.constant('张三'),
  category: fc.constantFrom(...CATEGORIES),
  health: fc.record(
    {
      healthCode: fc.constantFrom(...HEALTH_CODES),
      travel: fc.record({
        riskLevel: fc.constantFrom(...RISK_LEVELS),
        visits: fc.array(fc.record({ region, from: dateish, to: dateish }), { maxLength: 2 }),
        asOf: dateish,
      }),
      test: fc.record({ result: fc.constantFrom('negative' as const, 'positive' as const), sampledAt: dateish }),
    },
    { requiredKeys: ['healthCode'] },
  ),
});

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
  riskAreas: fc.array(fc.record({ region, level: fc.constantFrom('low' as const, 'medium' as const, 'high' as const), since: dateish, until: fc.option(dateish, { nil: null }) }), {
    maxLength: 2,
  }),
});

/** An entry that applies at NOW: started up to 30 days ago, open-ended or ending after NOW. */
const activeEntry: fc.Arbitrary<WatchlistEntry> = fc.record({
  subjectId: fc.constant('P-0001'),
  kind: fc.constantFrom('close-contact' as const, 'isolation' as const, 'home-monitoring' as const),
  from: fc.integer({ min: 0, max: 30 * DAY }).map((o) => iso(NOW - o)),
  until: fc.option(
    fc.integer({ min: 1, max: 30 * DAY }).map((o) => iso(NOW + o)),
    { nil: null },
  ),
});

type Danger = { kind: 'red' } | { kind: 'positive'; sampledAt: string } | { kind: 'watchlist'; entry: WatchlistEntry };
const dangerArb: fc.Arbitrary<Danger> = fc.oneof(
  fc.constant({ kind: 'red' as const }),
  dateish.map((sampledAt) => ({ kind: 'positive' as const, sampledAt })),
  activeEntry.map((entry) => ({ kind: 'watchlist' as const, entry })),
);

const ALL_SOFT = profileFromOverrides({
  name: 'all-soft',
  enforce: { category: 'soft', healthCode: 'soft', travel: 'soft', test: 'soft', approval: 'soft' },
  testWindowHours: 720,
});
const PROFILES: [string, PolicyProfile][] = [...PROFILE_NAMES.map((n) => [n, SHIPPED[n].profile] as [string, PolicyProfile]), ['all-soft', ALL_SOFT]];

describe.each(PROFILES)('under the %s profile', (_name, profile) => {
  it('never admits a red health code, a positive test or an active watchlist entry, whatever else is true', () => {
    fc.assert(
      fc.property(subjectArb, factsArb, dangerArb, fc.array(celsius, { maxLength: 4 }), (s, facts, danger, temps) => {
        const subject: Subject = { ...s, health: { ...s.health } };
        const f: LocalFacts = { ...facts, watchlist: [...facts.watchlist] };
        if (danger.kind === 'red') subject.health.healthCode = 'red';
        if (danger.kind === 'positive') subject.health.test = { result: 'positive', sampledAt: danger.sampledAt };
        if (danger.kind === 'watchlist') f.watchlist.push(danger.entry);
        const readings = temps.map((c, i) => ({ celsius: c, at: NOW - (temps.length - i) * 1000 }));
        const v = decide({ credential: { ok: true, kind: 'health-pass', subject }, readings, facts: f, profile, now: NOW });
        expect(v.outcome).not.toBe('admit');
      }),
      { numRuns: 400 },
    );
  });

  it('admits the same clean person at a normal temperature when the category is allowed', () => {
    const subject: Subject = {
      id: 'P-0001',
      name: '张三',
      category: profile.allowedCategories.find((c) => !profile.approvalRequiredFor.includes(c)) ?? 'employee',
      health: { healthCode: 'green', travel: { riskLevel: 'none', visits: [], asOf: iso(NOW) }, test: { result: 'negative', sampledAt: iso(NOW - HOUR) } },
    };
    // On the vehicle gate a driver comes with the vehicle pass naming them, carrying food.
    const vehicle = profile.vehicle ? { vehicle: { plate: '晋A1', goods: 'food', driver: subject.id, goodsToday: [] } } : {};
    const v = decide({ credential: { ok: true, kind: 'health-pass', subject }, readings: [{ celsius: 36.5, at: NOW }], facts: { watchlist: [], approvals: [], riskAreas: [], ...vehicle }, profile, now: NOW });
    expect(v.outcome).toBe('admit');
  });
});
