// Table-driven: every shipped profile × every person category × each rule's boundaries.
// The expectations are written out per profile below, not derived from the files, so a
// changed file that changes behaviour fails here until the table is changed with it.
import { describe, expect, it } from 'vitest';
import { CATEGORIES, type Category, type HealthFacts } from '../../../gateway/credentials/types.js';
import { decide } from '../../../gateway/policy/decide.js';
import type { Approval, Decision, LocalFacts, PolicyProfile, Verdict } from '../../../gateway/policy/types.js';
import { HOUR, NOW, crew, daysAgo, input, iso, subject } from './fixtures.js';
import { PROFILE_NAMES, SHIPPED, type ProfileName } from './shipped.js';

interface Expect {
  allowed: readonly Category[];
  /** Test window per category (hours); categories not listed have `window`. */
  window: number;
  windowBy?: Partial<Record<Category, number>>;
  test: 'hard' | 'soft';
  approvalFor: readonly Category[];
  lookbackDays: number;
}

const ALL = CATEGORIES;
const TABLE: Record<ProfileName, Expect> = {
  'mine-entrance': { allowed: ALL, window: 48, test: 'hard', approvalFor: ['visitor'], lookbackDays: 14 },
  'office-area': { allowed: ['employee', 'family', 'contractor', 'visitor'], window: 48, test: 'hard', approvalFor: ['visitor'], lookbackDays: 14 },
  canteen: { allowed: ['employee', 'family'], window: 48, test: 'soft', approvalFor: [], lookbackDays: 14 },
  dormitory: { allowed: ['employee', 'contractor'], window: 48, test: 'soft', approvalFor: [], lookbackDays: 14 },
  bathhouse: { allowed: ['employee', 'contractor'], window: 48, test: 'soft', approvalFor: [], lookbackDays: 14 },
  market: { allowed: ['employee', 'family', 'vendor', 'driver'], window: 48, windowBy: { vendor: 24 }, test: 'hard', approvalFor: [], lookbackDays: 14 },
  'vehicle-gate': { allowed: ['driver', 'employee'], window: 48, test: 'hard', approvalFor: [], lookbackDays: 14 },
};

const approval: Approval = {
  subjectId: 'P-0001',
  approver: '王主任',
  hostDepartment: '机电科',
  validFrom: iso(NOW - HOUR),
  validUntil: iso(NOW + HOUR),
};

function run(profile: PolicyProfile, category: Category, o: { health?: Partial<HealthFacts>; readings?: number[]; facts?: Partial<LocalFacts> } = {}): Verdict {
  const e = TABLE[profile.name as ProfileName];
  // Contractors pass only as members of a current crew (every profile): give them one.
  // A driver at the vehicle gate comes with the vehicle pass naming them (essential goods).
  const vehicle = category === 'driver' && profile.vehicle ? { vehicle: { plate: '晋A1', goods: 'food', driver: 'P-0001', goodsToday: [] } } : {};
  const facts: Partial<LocalFacts> = { approvals: e.approvalFor.includes(category) ? [approval] : [], ...(category === 'contractor' ? { crews: [crew()] } : {}), ...vehicle, ...o.facts };
  return decide(input({ profile, subject: subject({ category, ...(o.health ? { health: o.health } : {}) }), readings: o.readings ?? [36.5], facts }));
}

const codes = (v: Verdict): string[] => (v.outcome === 'measure' ? [v.reason.code] : v.reasons.map((r) => r.code));

/** What a failure of a rule enforced `how` looks like. */
function expectFailure(v: Verdict, code: string, how: 'hard' | 'soft'): void {
  if (how === 'hard') {
    expect(v.outcome).toBe('refuse');
    expect(codes(v)).toContain(code);
  } else {
    expect(v.outcome).toBe('admit');
    expect(codes(v)).toEqual([code]);
    expect((v as Decision).alerts).toContainEqual({ kind: 'soft-rule', severity: 'warning', code });
  }
}

const cases = PROFILE_NAMES.flatMap((name) => CATEGORIES.map((category) => ({ name, category })));

describe.each(cases)('the $name profile for $category', ({ name, category }) => {
  const profile = SHIPPED[name].profile;
  const e = TABLE[name];
  const allowed = e.allowed.includes(category);

  if (!allowed) {
    it('refuses the category at this post', () => {
      const v = run(profile, category);
      expect(v.outcome).toBe('refuse');
      expect(codes(v)[0]).toBe('CATEGORY_NOT_ALLOWED');
    });
    it('refuses a red code here too', () => {
      expect(codes(run(profile, category, { health: { healthCode: 'red' } }))).toContain('HEALTH_CODE_RED');
    });
    return;
  }

  const window = e.windowBy?.[category] ?? e.window;

  it('admits a person who passes every rule, at a normal temperature', () => {
    expect(run(profile, category)).toEqual({ outcome: 'admit', reasons: [], alerts: [], temperature: 36.5 });
  });

  it(`admits a test sampled exactly ${window} h ago`, () => {
    expect(run(profile, category, { health: { test: { result: 'negative', sampledAt: iso(NOW - window * HOUR) } } }).outcome).toBe('admit');
  });

  it(`treats a test sampled ${window} h and 1 s ago as expired (${e.test})`, () => {
    expectFailure(run(profile, category, { health: { test: { result: 'negative', sampledAt: iso(NOW - window * HOUR - 1000) } } }), 'TEST_EXPIRED', e.test);
  });

  it(`treats a missing test as ${e.test}`, () => {
    expectFailure(run(profile, category, { health: { test: undefined } }), 'TEST_MISSING', e.test);
  });

  it('refuses a positive test, a yellow code and a red code', () => {
    expectFailure(run(profile, category, { health: { test: { result: 'positive', sampledAt: iso(NOW - HOUR) } } }), 'TEST_POSITIVE', 'hard');
    expectFailure(run(profile, category, { health: { healthCode: 'yellow' } }), 'HEALTH_CODE_YELLOW', 'hard');
    expectFailure(run(profile, category, { health: { healthCode: 'red' } }), 'HEALTH_CODE_RED', 'hard');
  });

  it('refuses a person on the watchlist until the entry ends, and admits them from then on', () => {
    const entry = { subjectId: 'P-0001', kind: 'home-monitoring' as const, from: iso(NOW - 10 * 24 * HOUR), until: iso(NOW + 1) };
    expectFailure(run(profile, category, { facts: { watchlist: [entry] } }), 'WATCHLIST_HOME_MONITORING', 'hard');
    expect(run(profile, category, { facts: { watchlist: [{ ...entry, until: iso(NOW) }] } }).outcome).toBe('admit');
  });

  it(`refuses a stay in a listed high-risk area ended ${e.lookbackDays} days ago, not one ended a day earlier`, () => {
    const riskAreas = [{ region: "Xi'an", level: 'high' as const, since: daysAgo(40), until: null }];
    const stay = (ended: number) => ({ travel: { riskLevel: 'none' as const, visits: [{ region: "Xi'an", from: daysAgo(ended + 3), to: daysAgo(ended) }], asOf: iso(NOW) } });
    expectFailure(run(profile, category, { health: stay(e.lookbackDays), facts: { riskAreas } }), 'TRAVEL_RISK_AREA_VISIT', 'hard');
    expect(run(profile, category, { health: stay(e.lookbackDays + 1), facts: { riskAreas } }).outcome).toBe('admit');
  });

  it('admits 37.29 °C, asks again at 37.30 °C and refuses a confirmed 37.30 °C', () => {
    expect(run(profile, category, { readings: [37.29] }).outcome).toBe('admit');
    expect(codes(run(profile, category, { readings: [37.3] }))).toEqual(['TEMP_RECHECK']);
    expectFailure(run(profile, category, { readings: [37.3, 37.3] }), 'TEMP_FEVER', 'hard');
  });

  it('re-measures an implausible 33.99 °C reading instead of trusting it', () => {
    expect(codes(run(profile, category, { readings: [33.99] }))).toEqual(['TEMP_IMPLAUSIBLE_REMEASURE']);
  });

  if (e.approvalFor.includes(category)) {
    it('refuses without a current approval from the epidemic office', () => {
      expectFailure(run(profile, category, { facts: { approvals: [] } }), 'VISITOR_NO_APPROVAL', 'hard');
      const ended = { ...approval, validFrom: iso(NOW - 2 * HOUR), validUntil: iso(NOW) };
      expectFailure(run(profile, category, { facts: { approvals: [ended] } }), 'VISITOR_APPROVAL_EXPIRED', 'hard');
    });
  } else {
    it('needs no approval', () => {
      expect(run(profile, category, { facts: { approvals: [] } }).outcome).toBe('admit');
    });
  }
});
