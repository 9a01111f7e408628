// decide() for an EU DCC holder: the dcc rule stands in for the health code and the travel
// record; a test certificate feeds the test rule; vaccination and recovery only where the
// profile accepts them; rapid antigen tests only where it says so. And the profile keys.
import { describe, expect, it } from 'vitest';
import type { DccFacts, DccHealthFacts, Subject } from '../../../gateway/credentials/types.js';
import { decide } from '../../../gateway/policy/decide.js';
import { compileProfileDocument } from '../../../gateway/policy/profile-document.js';
import { DCC_DEFAULTS, MINE_ENTRANCE, PolicyProfileError, dccRuleOf, profileFromOverrides } from '../../../gateway/policy/profiles.js';
import { evaluatedFacts, replayVerdict } from '../../../gateway/policy/replay.js';
import type { PolicyProfile, Verdict } from '../../../gateway/policy/types.js';
import { profileHash } from '../../../gateway/config/profiles.js';
import { DAY, HOUR, NOW, daysAgo, input, iso } from './fixtures.js';

/** A DCC holder whose profile needs no approval for visitors (approvals are tested apart). */
const OPEN: PolicyProfile = profileFromOverrides({ approvalRequiredFor: [] });

function holder(dcc: DccFacts, test?: DccHealthFacts['test']): Subject {
  return { id: 'dcc:MUSTERMANN<<ERIKA/1964-08-12', name: 'Mustermann Erika', category: 'visitor', health: { source: 'dcc', dcc, ...(test ? { test } : {}) } };
}

const naat = (hoursAgo: number, result: 'negative' | 'positive' = 'negative') => holder({ type: 'test', testType: 'naat' }, { result, sampledAt: iso(NOW - hoursAgo * HOUR) });
const vaccinated = (daysBefore: number, dose = 2, series = 2) => holder({ type: 'vaccination', dose, series, date: daysAgo(daysBefore) });
const recovered = (from: number, until: number) => holder({ type: 'recovery', validFrom: daysAgo(from), validUntil: daysAgo(until) });

function run(subject: Subject, profile: PolicyProfile = OPEN, readings = [36.5]): Verdict {
  return decide(input({ credential: { ok: true, kind: 'dcc', subject }, readings, profile }));
}

const codes = (v: Verdict) => (v.outcome === 'measure' ? [v.reason.code] : v.reasons.map((r) => r.code));

describe('decide: a DCC test certificate', () => {
  it('admits a negative NAAT sampled 20 h ago at 36.5 °C: no health code or travel record is asked for', () => {
    expect(run(naat(20))).toEqual({ outcome: 'admit', reasons: [], alerts: [], temperature: 36.5 });
  });

  it('refuses one sampled 49 h ago with TEST_EXPIRED, like a pass', () => {
    const v = run(naat(49));
    expect(v.outcome).toBe('refuse');
    expect(codes(v)).toEqual(['TEST_EXPIRED']);
  });

  it('refuses a positive result with TEST_POSITIVE and a critical alert', () => {
    const v = run(naat(2, 'positive'));
    expect(codes(v)).toEqual(['TEST_POSITIVE']);
    expect(v.outcome === 'refuse' && v.alerts.some((a) => a.code === 'TEST_POSITIVE' && a.severity === 'critical')).toBe(true);
  });

  it('asks for a temperature first, then re-measures and refuses a fever', () => {
    expect(run(naat(2), OPEN, [])).toMatchObject({ outcome: 'measure' });
    expect(codes(run(naat(2), OPEN, [38.2]))).toEqual(['TEMP_RECHECK']);
    expect(codes(run(naat(2), OPEN, [38.2, 38.3]))).toEqual(['TEMP_FEVER']);
  });

  it('refuses a rapid antigen test by default (DCC_TEST_NOT_NAAT), and admits it where the profile accepts one', () => {
    const rat = holder({ type: 'test', testType: 'rat' }, { result: 'negative', sampledAt: iso(NOW - 3 * HOUR) });
    expect(codes(run(rat))).toEqual(['DCC_TEST_NOT_NAAT']);
    expect(run(rat, profileFromOverrides({ approvalRequiredFor: [], dcc: { acceptRapidAntigen: true } })).outcome).toBe('admit');
  });

  it('refuses a test of another kind even where rapid antigen tests are accepted', () => {
    const other = holder({ type: 'test', testType: 'other' }, { result: 'negative', sampledAt: iso(NOW - 3 * HOUR) });
    expect(codes(run(other, profileFromOverrides({ approvalRequiredFor: [], dcc: { acceptRapidAntigen: true } })))).toEqual(['DCC_TEST_NOT_NAAT']);
  });

  it('refuses every test certificate where the profile accepts none (acceptTest: false)', () => {
    expect(codes(run(naat(2), profileFromOverrides({ approvalRequiredFor: [], dcc: { acceptTest: false } })))).toEqual(['DCC_TYPE_NOT_ACCEPTED']);
  });

  it('keeps the DCC rule hard even where the health code, travel and test rules are soft', () => {
    const soft = profileFromOverrides({ approvalRequiredFor: [], enforce: { healthCode: 'soft', travel: 'soft', test: 'soft' } });
    const rat = holder({ type: 'test', testType: 'rat' }, { result: 'negative', sampledAt: iso(NOW - 3 * HOUR) });
    expect(run(rat, soft).outcome).toBe('refuse');
    // The test rule itself stays soft as for a pass: an old test admits with an alert.
    expect(run(naat(49), soft)).toMatchObject({ outcome: 'admit', reasons: [{ code: 'TEST_EXPIRED' }] });
  });
});

describe('decide: a DCC vaccination or recovery certificate', () => {
  it('refuses a complete vaccination under the default profile (the source requires a recent test)', () => {
    const v = run(vaccinated(60));
    expect(codes(v)).toEqual(['DCC_TYPE_NOT_ACCEPTED']);
    expect(v.outcome === 'refuse' && v.reasons[0]?.en).toBe('Vaccination certificates are not accepted here');
  });

  const accepting = profileFromOverrides({ approvalRequiredFor: [], dcc: { acceptVaccination: true, acceptRecovery: true } });

  it('admits a complete vaccination 14 to 270 days old where the profile accepts vaccination, with no test', () => {
    for (const d of [14, 60, 270]) expect(run(vaccinated(d), accepting).outcome).toBe('admit');
  });

  it('refuses a vaccination 13 days old, 271 days old, or an incomplete series', () => {
    expect(codes(run(vaccinated(13), accepting))).toEqual(['DCC_VACCINATION_TOO_RECENT']);
    expect(codes(run(vaccinated(271), accepting))).toEqual(['DCC_VACCINATION_TOO_OLD']);
    const v = run(vaccinated(60, 1, 2), accepting);
    expect(codes(v)).toEqual(['DCC_VACCINATION_INCOMPLETE']);
    expect(v.outcome === 'refuse' && v.reasons[0]?.en).toBe('Vaccination not complete (dose 1 of 2)');
  });

  it('takes a booster (dose 3 of 2) as complete', () => {
    expect(run(vaccinated(30, 3, 2), accepting).outcome).toBe('admit');
  });

  it('refuses a vaccination with an unreadable date (fail closed)', () => {
    expect(run(holder({ type: 'vaccination', dose: 2, series: 2, date: 'soon' }), accepting).outcome).toBe('refuse');
  });

  it('admits a recovery valid today (both ends inclusive) where accepted, refuses one outside its dates', () => {
    expect(run(recovered(10, -10), accepting).outcome).toBe('admit');
    expect(run(recovered(0, 0), accepting).outcome).toBe('admit');
    expect(codes(run(recovered(40, 1), accepting))).toEqual(['DCC_RECOVERY_NOT_VALID']);
    expect(codes(run(recovered(-1, -30), accepting))).toEqual(['DCC_RECOVERY_NOT_VALID']);
  });

  it('refuses a recovery under the default profile', () => {
    expect(codes(run(recovered(10, -10)))).toEqual(['DCC_TYPE_NOT_ACCEPTED']);
  });
});

describe('decide: what a DCC does not change', () => {
  it('a DCC holder is a visitor: under mine-entrance they need an approval like any visitor', () => {
    expect(codes(run(naat(20), MINE_ENTRANCE))).toEqual(['VISITOR_NO_APPROVAL']);
    const approval = { subjectId: 'dcc:MUSTERMANN<<ERIKA/1964-08-12', approver: 'x', hostDepartment: 'y', validFrom: iso(NOW - DAY), validUntil: iso(NOW + DAY) };
    const v = decide(input({ credential: { ok: true, kind: 'dcc', subject: naat(20) }, readings: [36.5], facts: { approvals: [approval] } }));
    expect(v.outcome).toBe('admit');
  });

  it('a watchlist entry refuses a DCC holder', () => {
    const w = { subjectId: 'x', kind: 'isolation' as const, from: iso(NOW - DAY), until: null };
    const v = decide(input({ credential: { ok: true, kind: 'dcc', subject: naat(2) }, readings: [36.5], facts: { watchlist: [w] }, profile: OPEN }));
    expect(codes(v)).toEqual(['WATCHLIST_ISOLATION']);
  });

  it('a pass still needs its health code and travel record', () => {
    const pass = { id: 'P-1', name: '张三', category: 'employee' as const, health: { healthCode: 'yellow' as const, test: { result: 'negative' as const, sampledAt: iso(NOW - HOUR) } } };
    expect(codes(decide(input({ subject: pass, readings: [36.5], profile: OPEN })))).toEqual(['HEALTH_CODE_YELLOW', 'TRAVEL_MISSING']);
  });

  it('with health checks off, a DCC is identity only: a vaccination admits, no health reason', () => {
    const off = profileFromOverrides({ approvalRequiredFor: [], healthChecks: 'off' });
    expect(run(vaccinated(60), off, [])).toEqual({ outcome: 'admit', reasons: [], alerts: [] });
  });

  it('keeps the DCC facts for replay (no name, no id), and replays them under another profile', () => {
    const inp = input({ credential: { ok: true, kind: 'dcc', subject: vaccinated(60) }, readings: [36.5], profile: OPEN });
    const facts = evaluatedFacts(inp);
    expect(facts.credential).toEqual({ ok: true, kind: 'dcc', category: 'visitor', health: { source: 'dcc', dcc: { type: 'vaccination', dose: 2, series: 2, date: daysAgo(60) } } });
    expect(JSON.stringify(facts)).not.toMatch(/MUSTERMANN|Erika|1964/);
    expect(replayVerdict(facts, OPEN).outcome).toBe('refuse');
    expect(replayVerdict(facts, profileFromOverrides({ approvalRequiredFor: [], dcc: { acceptVaccination: true } })).outcome).toBe('admit');
  });
});

describe('profile key dcc', () => {
  it('defaults to NAAT tests only, and a profile without it keeps its hash', () => {
    expect(dccRuleOf(MINE_ENTRANCE)).toEqual({ acceptTest: true, acceptRapidAntigen: false, acceptVaccination: false, acceptRecovery: false, vaccinationMinDays: 14, vaccinationMaxDays: 270 });
    expect(MINE_ENTRANCE).not.toHaveProperty('dcc');
    expect(profileFromOverrides({ dcc: {} })).not.toHaveProperty('dcc');
    expect(profileHash(profileFromOverrides({ dcc: { ...DCC_DEFAULTS } }))).toBe(profileHash(MINE_ENTRANCE));
  });

  it('merges overrides key by key over the base profile\'s rule', () => {
    const base = profileFromOverrides({ dcc: { acceptRecovery: true } });
    expect(profileFromOverrides({ dcc: { acceptVaccination: true } }, base).dcc).toMatchObject({ acceptRecovery: true, acceptVaccination: true, acceptTest: true });
  });

  it('lists every bad key at once', () => {
    let err: unknown;
    try {
      profileFromOverrides({ dcc: { acceptVaccination: 'yes', vaccinationMinDays: 300, vaccinationMaxDays: 200, colour: 1 } as never });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PolicyProfileError);
    expect((err as PolicyProfileError).issues.map((i) => `${i.path} ${i.code}`).sort()).toEqual([
      'dcc.acceptVaccination NOT_A_BOOLEAN',
      'dcc.colour UNKNOWN_KEY',
      'dcc.vaccinationMinDays OUT_OF_RANGE',
    ]);
  });

  it('reads rules.dcc from a profile document; keys left out keep their defaults', () => {
    const doc = (dcc?: unknown) => ({
      name: 'border',
      rules: {
        category: { enforce: 'hard', allowed: ['visitor'] },
        healthCode: { enforce: 'hard' },
        travel: { enforce: 'hard', lookbackDays: 14 },
        test: { enforce: 'hard', windowHours: 48 },
        temperature: { enforce: 'hard', feverThreshold: 37.3, plausibleMin: 34, plausibleMax: 43, implausibleRetries: 2 },
        watchlist: { enforce: 'hard' },
        approval: { enforce: 'hard', requiredFor: [] },
        ...(dcc === undefined ? {} : { dcc }),
      },
    });
    expect(compileProfileDocument(doc(), 'x')).not.toHaveProperty('dcc');
    expect(compileProfileDocument(doc({ enforce: 'hard', acceptVaccination: true }), 'x').dcc).toEqual({ ...DCC_DEFAULTS, acceptVaccination: true });
    expect(() => compileProfileDocument(doc({ enforce: 'soft' }), 'x')).toThrow(/rules\.dcc\.enforce/);
    expect(() => compileProfileDocument(doc({ enforce: 'hard', vaccinationMinDays: 30, vaccinationMaxDays: 20 }), 'x')).toThrow(/rules\.dcc\.vaccinationMinDays/);
  });
});
