// Retiring health checks (issue 14 item 4): with health checks off a checkpoint is plain
// access control. Identity, category, watchlists, approvals, crews, vehicles and zones
// still decide; no health claim, reading, travel record or risk area is read or kept.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProfile, loadProfileFile, profileHash } from '../../../gateway/config/profiles.js';
import { ProfileDocumentError } from '../../../gateway/policy/profile-document.js';
import { decide } from '../../../gateway/policy/decide.js';
import { MINE_ENTRANCE, PolicyProfileError, healthChecksOf, profileFromOverrides, underHealthChecks } from '../../../gateway/policy/profiles.js';
import { evaluatedFacts, replayVerdict } from '../../../gateway/policy/replay.js';
import type { Decision, PolicyProfile, RiskArea, Verdict } from '../../../gateway/policy/types.js';
import { applyZone } from '../../../gateway/policy/zones.js';
import { HOUR, NOW, crew, daysAgo, input, iso, subject } from './fixtures.js';
import { PROFILES_DIR, SHIPPED } from './shipped.js';

const ACCESS_ONLY = loadProfileFile(path.join(PROFILES_DIR, 'access-only.yaml'));
const OFF = underHealthChecks(MINE_ENTRANCE, 'off');
const codes = (v: Verdict): string[] => (v.outcome === 'measure' ? [v.reason.code] : v.reasons.map((r) => r.code));
const decision = (v: Verdict): Decision => {
  if (v.outcome === 'measure') throw new Error(`expected a decision, got measure ${v.reason.code}`);
  return v;
};

/** Everything a pass can say that a health check refuses: red code, positive test, a stay in a high-risk area. */
const sick = subject({
  health: {
    healthCode: 'red',
    test: { result: 'positive', sampledAt: iso(NOW - HOUR) },
    travel: { riskLevel: 'high', visits: [{ region: "Xi'an", from: daysAgo(3), to: daysAgo(1) }], asOf: iso(NOW - HOUR) },
  },
});
const xian: RiskArea = { region: "Xi'an", level: 'high', since: daysAgo(30), until: null };

describe('decide with health checks off', () => {
  for (const [name, profile] of [
    ['the access-only profile', ACCESS_ONLY.profile],
    ['the mine entrance under policy.healthChecks: off', OFF],
  ] as const) {
    it(`admits a red-code pass with a positive test and a fever on identity alone at ${name}`, () => {
      const v = decision(decide(input({ profile, subject: sick, readings: [38.5, 38.6], facts: { riskAreas: [xian] } })));
      expect(v).toEqual({ outcome: 'admit', reasons: [], alerts: [] });
      expect(v).not.toHaveProperty('temperature');
    });
  }

  it('refuses the same person when health checks are on', () => {
    const v = decision(decide(input({ subject: sick, readings: [38.5, 38.6], facts: { riskAreas: [xian] } })));
    expect(v.outcome).toBe('refuse');
    expect(codes(v)).toEqual(['HEALTH_CODE_RED', 'TRAVEL_RISK_AREA', 'TRAVEL_RISK_AREA_VISIT', 'TEST_POSITIVE', 'TEMP_FEVER']);
    expect(v.temperature).toBe(38.6);
  });

  it('never asks for a temperature: no reading at all is an admission, not a measurement', () => {
    expect(decide(input({ profile: OFF, readings: [] })).outcome).toBe('admit');
    // With health checks on the same passage waits for the thermometer.
    expect(codes(decide(input({ readings: [] })))).toEqual(['TEMP_NEEDED']);
  });

  it('ignores an unusable reading instead of re-measuring or referring', () => {
    const v = decision(decide(input({ profile: OFF, readings: [20, 50, 60] })));
    expect(v.outcome).toBe('admit');
  });

  it('still refuses a category the checkpoint does not admit', () => {
    const profile = underHealthChecks(profileFromOverrides({ name: 'canteen-ish', allowedCategories: ['employee'] }), 'off');
    expect(codes(decide(input({ profile, subject: subject({ category: 'vendor' }) })))).toEqual(['CATEGORY_NOT_ALLOWED']);
  });

  it('still refuses a person on the watchlist (an order about the person, not a health claim)', () => {
    const v = decision(decide(input({ profile: OFF, facts: { watchlist: [{ subjectId: 'P-0001', kind: 'isolation', from: iso(NOW - HOUR), until: null }] } })));
    expect(v.outcome).toBe('refuse');
    expect(codes(v)).toEqual(['WATCHLIST_ISOLATION']);
    expect(v.alerts.map((a) => a.kind)).toContain('watchlist');
    expect(v).not.toHaveProperty('temperature');
  });

  it('still needs a current approval for a visitor, and admits one who has it', () => {
    const visitor = subject({ category: 'visitor', health: { healthCode: 'red' } });
    const refused = decision(decide(input({ profile: OFF, subject: visitor })));
    expect(codes(refused)).toEqual(['VISITOR_NO_APPROVAL']);
    expect(refused.alerts).toEqual([{ kind: 'visitor-refused', severity: 'warning', code: 'VISITOR_NO_APPROVAL' }]);
    const approval = { subjectId: 'P-0001', approver: '王主任', hostDepartment: '机电科', validFrom: iso(NOW - HOUR), validUntil: iso(NOW + HOUR) };
    expect(decide(input({ profile: OFF, subject: visitor, facts: { approvals: [approval] } })).outcome).toBe('admit');
  });

  it('still needs a crew registration for a contractor, but reads no itinerary', () => {
    const contractor = subject({ category: 'contractor' });
    expect(codes(decide(input({ profile: OFF, subject: contractor })))).toEqual(['CREW_NOT_REGISTERED']);
    const travelled = crew({ itinerary: [{ region: "Xi'an", from: daysAgo(3), to: daysAgo(1) }] });
    expect(decide(input({ profile: OFF, subject: contractor, facts: { crews: [travelled], riskAreas: [xian] } })).outcome).toBe('admit');
    expect(codes(decide(input({ subject: contractor, readings: [36.5], facts: { crews: [travelled], riskAreas: [xian] } })))).toEqual(['CREW_ITINERARY_RISK_AREA']);
  });

  it('keeps a soft access rule soft: admitted, recorded, alerted', () => {
    const profile = underHealthChecks(profileFromOverrides({ name: 'soft-visitors', enforce: { approval: 'soft' } }), 'off');
    const v = decision(decide(input({ profile, subject: subject({ category: 'visitor' }) })));
    expect(v.outcome).toBe('admit');
    expect(codes(v)).toEqual(['VISITOR_NO_APPROVAL']);
    expect(v.alerts[0]).toEqual({ kind: 'soft-rule', severity: 'warning', code: 'VISITOR_NO_APPROVAL' });
  });

  it('leaves anti-passback and occupancy to the zone as before', () => {
    const admitted = decision(decide(input({ profile: OFF, subject: sick })));
    const zone = { id: 'canteen', limit: 2, antiPassback: 'hard' as const, windowMinutes: null, direction: 'in' as const };
    expect(codes(applyZone(admitted, { ...zone, count: 1, openEntryAt: NOW - HOUR }, NOW))).toEqual(['ANTI_PASSBACK']);
    expect(codes(applyZone(admitted, { ...zone, count: 2, openEntryAt: null }, NOW))).toEqual(['ZONE_FULL']);
  });
});

describe('the health checks setting on a profile', () => {
  it('forces health checks off under a gateway set off, keeping the name and changing the hash', () => {
    expect(OFF.name).toBe('mine-entrance');
    expect(healthChecksOf(OFF)).toBe('off');
    expect(Object.isFrozen(OFF)).toBe(true);
    expect(profileHash(OFF)).not.toBe(profileHash(MINE_ENTRANCE));
  });

  it('leaves every profile as written under a gateway set on, an access-only one included', () => {
    expect(underHealthChecks(MINE_ENTRANCE, 'on')).toBe(MINE_ENTRANCE);
    expect(underHealthChecks(ACCESS_ONLY.profile, 'on')).toBe(ACCESS_ONLY.profile);
    expect(healthChecksOf(ACCESS_ONLY.profile)).toBe('off');
  });

  it('keeps the hash of every shipped profile with health checks (the key is written only when off)', () => {
    expect(SHIPPED['mine-entrance'].profile).not.toHaveProperty('healthChecks');
    expect(profileFromOverrides({ healthChecks: 'on' } as never)).toStrictEqual(MINE_ENTRANCE);
  });

  it('refuses a value other than on or off, naming the key', () => {
    try {
      profileFromOverrides({ healthChecks: 'no' } as never);
      throw new Error('expected a PolicyProfileError');
    } catch (err) {
      expect(err).toBeInstanceOf(PolicyProfileError);
      expect((err as PolicyProfileError).issues).toEqual([{ path: 'healthChecks', code: 'NOT_ON_OR_OFF', message: 'expected on or off, got no' }]);
    }
  });
});

describe('profile documents without health rules', () => {
  const doc = (o: Record<string, unknown> = {}): Record<string, unknown> => ({
    name: 'gate',
    rules: { category: { enforce: 'hard', allowed: ['employee'] }, watchlist: { enforce: 'hard' }, approval: { enforce: 'hard', requiredFor: [] } },
    ...o,
  });
  function problems(data: unknown): { path: string; message: string }[] {
    try {
      loadProfile(data, 'gate.yaml');
    } catch (err) {
      if (err instanceof ProfileDocumentError) return [...err.issues];
      throw err;
    }
    return [];
  }

  it('ships access-only with health checks off and the access rules only', () => {
    const p: PolicyProfile = ACCESS_ONLY.profile;
    expect(p.name).toBe('access-only');
    expect(p.healthChecks).toBe('off');
    expect(p.approvalRequiredFor).toEqual(['visitor']);
    expect(p.allowedCategories).toHaveLength(6);
  });

  it('accepts the health rules left out only with healthChecks: off', () => {
    expect(problems(doc({ healthChecks: 'off' }))).toEqual([]);
    const missing = problems(doc());
    expect(missing.map((p) => p.path)).toEqual(['rules.healthCode', 'rules.travel', 'rules.test', 'rules.temperature']);
    expect(missing[0]?.message).toContain('healthChecks: off');
  });

  it('lists a missing health rule together with the other problems of the document', () => {
    const bad = doc({ rules: { ...(doc().rules as object), category: { enforce: 'hard', allowed: ['alien'] } } });
    expect(problems(bad).map((p) => p.path)).toEqual(expect.arrayContaining(['rules.category.allowed[0]', 'rules.healthCode']));
  });

  it('refuses healthChecks other than on or off', () => {
    expect(problems(doc({ healthChecks: false }))).toEqual([{ path: 'healthChecks', message: 'expected on or off' }]);
  });
});

describe('what is kept for policy replay with health checks off', () => {
  const visitorCrew = crew({ itinerary: [{ region: "Xi'an", from: daysAgo(3), to: daysAgo(1) }] });
  const passage = input({
    profile: OFF,
    subject: sick,
    readings: [38.5],
    facts: { riskAreas: [xian], crews: [visitorCrew], leave: [{ staffId: 'P-0001', destination: '西安', out: daysAgo(5), back: daysAgo(2) }] },
  });

  it('keeps no health claim, reading, risk area, leave or itinerary', () => {
    const f = evaluatedFacts(passage);
    expect(f.credential).toEqual({ ok: true, kind: 'health-pass', category: 'employee' });
    expect(f.readings).toEqual([]);
    expect(f.riskAreas).toEqual([]);
    expect(f).not.toHaveProperty('leave');
    expect(f.crews).toEqual([{ validFrom: visitorCrew.validFrom, validUntil: visitorCrew.validUntil, itinerary: [] }]);
  });

  it('replays as admitted under the same profile and fails closed under one that checks health', () => {
    const f = evaluatedFacts(passage);
    expect(replayVerdict(f, OFF).outcome).toBe('admit');
    const strict = replayVerdict({ ...f, readings: [{ celsius: 36.5, at: NOW - 1000 }] }, MINE_ENTRANCE);
    expect(strict.outcome).toBe('refuse');
    expect(codes(strict)).toEqual(expect.arrayContaining(['HEALTH_CODE_YELLOW', 'TRAVEL_MISSING', 'TEST_MISSING']));
  });
});
