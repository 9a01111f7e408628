// Contractors (requirement 7): a contractor passes only as a member of a current crew
// registration, whose itinerary is checked against the risk areas like a pass's visits.
import { describe, expect, it } from 'vitest';
import { crewInUse, decide } from '../../../gateway/policy/decide.js';
import { profileFromOverrides } from '../../../gateway/policy/profiles.js';
import { reason } from '../../../gateway/policy/reasons.js';
import { evaluatedFacts, replayVerdict } from '../../../gateway/policy/replay.js';
import type { Decision, RiskArea, Verdict } from '../../../gateway/policy/types.js';
import { DAY, HOUR, NOW, crew, daysAgo, input, iso, subject } from './fixtures.js';

const contractor = subject({ category: 'contractor' });
const codes = (v: Verdict): string[] => (v.outcome === 'measure' ? [v.reason.code] : v.reasons.map((r) => r.code));
const decision = (v: Verdict): Decision => {
  if (v.outcome === 'measure') throw new Error('expected a decision');
  return v;
};
const highRisk: RiskArea = { region: '西安市', level: 'high', since: daysAgo(30), until: null };

describe('decide: contractors need a current crew registration', () => {
  it('admits a contractor who is a member of a current crew', () => {
    const v = decide(input({ subject: contractor, readings: [36.5], facts: { crews: [crew()] } }));
    expect(v.outcome).toBe('admit');
    expect(codes(v)).toEqual([]);
  });

  it('refuses a contractor with no crew registration, saying whom to ask', () => {
    const v = decision(decide(input({ subject: contractor, readings: [36.5] })));
    expect(v.outcome).toBe('refuse');
    expect(v.reasons).toEqual([reason('CREW_NOT_REGISTERED')]);
    expect(v.reasons[0]?.next?.zh).toContain('负责人');
    expect(v.reasons[0]?.next?.en).toContain('responsible');
  });

  it('admits from the first millisecond of the registration and refuses from its exclusive end', () => {
    const atStart = crew({ validFrom: iso(NOW), validUntil: iso(NOW + DAY) });
    expect(decide(input({ subject: contractor, readings: [36.5], facts: { crews: [atStart] } })).outcome).toBe('admit');
    const ended = crew({ validFrom: iso(NOW - DAY), validUntil: iso(NOW) });
    expect(codes(decide(input({ subject: contractor, readings: [36.5], facts: { crews: [ended] } })))).toEqual(['CREW_EXPIRED']);
  });

  it('tells the contractor from when an upcoming registration is valid, before mentioning an expired one', () => {
    const upcoming = crew({ id: 'CREW-2', validFrom: '2021-12-21T08:00:00+08:00', validUntil: iso(NOW + 3 * DAY) });
    const expired = crew({ validFrom: iso(NOW - 3 * DAY), validUntil: iso(NOW - DAY) });
    const v = decision(decide(input({ subject: contractor, facts: { crews: [expired, upcoming] } })));
    expect(v.reasons).toHaveLength(1);
    expect(v.reasons[0]).toMatchObject({ code: 'CREW_NOT_YET_VALID', zh: '施工队伍登记尚未生效（12月21日 08:00起）', en: 'Crew registration not valid yet (from 21 Dec 08:00)' });
  });

  it('refuses an expired registration and shows when it ended', () => {
    const v = decision(decide(input({ subject: contractor, facts: { crews: [crew({ validFrom: iso(NOW - 3 * DAY), validUntil: iso(NOW - DAY) })] } })));
    expect(v.reasons.map((r) => r.code)).toEqual(['CREW_EXPIRED']);
    expect(v.reasons[0]?.en).toMatch(/^Crew registration has expired/);
  });

  it('never lets a registration with unreadable dates admit', () => {
    const bad = crew({ validFrom: 'soon', validUntil: 'later' });
    expect(codes(decide(input({ subject: contractor, readings: [36.5], facts: { crews: [bad] } })))).toEqual(['CREW_NOT_REGISTERED']);
  });

  it('asks no crew registration of an employee, a visitor or a driver', () => {
    for (const category of ['employee', 'driver'] as const) {
      expect(decide(input({ subject: subject({ category }), readings: [36.5] })).outcome).toBe('admit');
    }
    const visitor = decide(input({ subject: subject({ category: 'visitor' }), readings: [36.5] }));
    expect(codes(visitor)).toEqual(['VISITOR_NO_APPROVAL']);
  });

  it('still refuses a red health code and a positive test with a current crew', () => {
    const red = decide(input({ subject: subject({ category: 'contractor', health: { healthCode: 'red' } }), readings: [36.5], facts: { crews: [crew()] } }));
    expect(codes(red)).toEqual(['HEALTH_CODE_RED']);
    const positive = decide(
      input({ subject: subject({ category: 'contractor', health: { test: { result: 'positive', sampledAt: iso(NOW - HOUR) } } }), facts: { crews: [crew()] } }),
    );
    expect(codes(positive)).toEqual(['TEST_POSITIVE']);
  });
});

describe('decide: the crew itinerary against the risk areas', () => {
  it('refuses a crew whose itinerary stayed in a high-risk area within 14 days, with a critical risk-area alert', () => {
    const c = crew({ itinerary: [{ region: '西安市', from: daysAgo(5), to: daysAgo(3) }] });
    const v = decision(decide(input({ subject: contractor, readings: [36.5], facts: { crews: [c], riskAreas: [highRisk] } })));
    expect(v.outcome).toBe('refuse');
    expect(v.reasons.map((r) => r.code)).toEqual(['CREW_ITINERARY_RISK_AREA']);
    expect(v.reasons[0]).toMatchObject({ zh: '施工队伍14天内行程经过风险地区（西安市）', en: "The crew's itinerary passed a risk area within 14 days (西安市)" });
    expect(v.alerts).toEqual([{ kind: 'risk-area', severity: 'critical', code: 'CREW_ITINERARY_RISK_AREA' }]);
  });

  it('counts a stay that ended exactly 14 days ago and not one that ended 15 days ago', () => {
    const at = (days: number) => crew({ itinerary: [{ region: '西安市', from: daysAgo(days + 2), to: daysAgo(days) }] });
    expect(codes(decide(input({ subject: contractor, readings: [36.5], facts: { crews: [at(14)], riskAreas: [highRisk] } })))).toEqual(['CREW_ITINERARY_RISK_AREA']);
    expect(decide(input({ subject: contractor, readings: [36.5], facts: { crews: [at(15)], riskAreas: [highRisk] } })).outcome).toBe('admit');
  });

  it('ignores a stay before the area became risky and a stay in a low-risk area', () => {
    const late: RiskArea = { region: '西安市', level: 'high', since: daysAgo(2), until: null };
    const before = crew({ itinerary: [{ region: '西安市', from: daysAgo(8), to: daysAgo(4) }] });
    expect(decide(input({ subject: contractor, readings: [36.5], facts: { crews: [before], riskAreas: [late] } })).outcome).toBe('admit');
    const low: RiskArea = { region: '西安市', level: 'low', since: daysAgo(30), until: null };
    const recent = crew({ itinerary: [{ region: '西安市', from: daysAgo(2), to: daysAgo(1) }] });
    expect(decide(input({ subject: contractor, readings: [36.5], facts: { crews: [recent], riskAreas: [low] } })).outcome).toBe('admit');
  });

  it('does not check the itinerary of a registration that is not current', () => {
    const old = crew({ validFrom: iso(NOW - 5 * DAY), validUntil: iso(NOW - DAY), itinerary: [{ region: '西安市', from: daysAgo(3), to: daysAgo(2) }] });
    expect(codes(decide(input({ subject: contractor, readings: [36.5], facts: { crews: [old, crew({ id: 'CREW-2' })], riskAreas: [highRisk] } })))).toEqual([]);
  });

  it('follows the travel rule: a profile with travel soft admits and records the itinerary finding', () => {
    const profile = profileFromOverrides({ enforce: { travel: 'soft' } });
    const c = crew({ itinerary: [{ region: '西安市', from: daysAgo(3), to: daysAgo(2) }] });
    const v = decision(decide(input({ profile, subject: contractor, readings: [36.5], facts: { crews: [c], riskAreas: [highRisk] } })));
    expect(v.outcome).toBe('admit');
    expect(v.reasons.map((r) => r.code)).toEqual(['CREW_ITINERARY_RISK_AREA']);
    expect(v.alerts).toContainEqual({ kind: 'soft-rule', severity: 'warning', code: 'CREW_ITINERARY_RISK_AREA' });
  });

  it('keeps a missing registration hard under a profile with every soft rule soft', () => {
    const profile = profileFromOverrides({ enforce: { category: 'soft', healthCode: 'soft', travel: 'soft', test: 'soft', approval: 'soft' } });
    expect(decide(input({ profile, subject: contractor, readings: [36.5] })).outcome).toBe('refuse');
  });
});

describe('crewInUse', () => {
  it('names the current crew and its responsible person for a contractor, and nothing for others', () => {
    const facts = { watchlist: [], approvals: [], riskAreas: [], crews: [crew({ validUntil: iso(NOW - HOUR), validFrom: iso(NOW - DAY) }), crew({ id: 'CREW-2', responsible: '钱工' })] };
    expect(crewInUse('contractor', facts, NOW)).toEqual({ id: 'CREW-2', responsible: '钱工' });
    expect(crewInUse('employee', facts, NOW)).toBeNull();
    expect(crewInUse('contractor', { ...facts, crews: [] }, NOW)).toBeNull();
  });
});

describe('policy replay of a contractor passage', () => {
  it('keeps the crew dates and itinerary but no crew id, responsible person or members, and re-decides the same', () => {
    const c = crew({ responsible: '赵工', members: ['P-0001', 'P-0002'], itinerary: [{ region: '西安市', from: daysAgo(3), to: daysAgo(2) }] });
    const inp = input({ subject: contractor, readings: [36.5], facts: { crews: [c], riskAreas: [highRisk, { region: '天津市', level: 'high', since: daysAgo(5), until: null }] } });
    const f = evaluatedFacts(inp);
    expect(f.crews).toEqual([{ validFrom: c.validFrom, validUntil: c.validUntil, itinerary: c.itinerary }]);
    expect(f.riskAreas).toEqual([highRisk]);
    expect(JSON.stringify(f)).not.toMatch(/赵工|CREW-1|P-0002/);
    expect(codes(replayVerdict(f, inp.profile))).toEqual(codes(decide(inp)));
    expect(codes(replayVerdict(f, inp.profile))).toEqual(['CREW_ITINERARY_RISK_AREA']);
  });

  it('leaves out the crews key when the subject had none, so old rows keep their shape', () => {
    expect(evaluatedFacts(input())).not.toHaveProperty('crews');
  });
});
