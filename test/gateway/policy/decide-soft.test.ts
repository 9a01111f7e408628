import { describe, expect, it } from 'vitest';
import { decide, enforcementOf } from '../../../gateway/policy/decide.js';
import { MINE_ENTRANCE, PolicyProfileError, profileFromOverrides } from '../../../gateway/policy/profiles.js';
import type { Decision, Verdict } from '../../../gateway/policy/types.js';
import { HOUR, NOW, input, iso, subject } from './fixtures.js';

const ALL_SOFT = profileFromOverrides({
  name: 'all-soft',
  enforce: { category: 'soft', healthCode: 'soft', travel: 'soft', test: 'soft', approval: 'soft' },
});
const codes = (v: Verdict): string[] => (v.outcome === 'measure' ? [v.reason.code] : v.reasons.map((r) => r.code));
const oldTest = { test: { result: 'negative' as const, sampledAt: iso(NOW - 50 * HOUR) } };

describe('rules enforced soft', () => {
  it('admits a person whose only failure is soft, recording the reason and raising a soft-rule alert', () => {
    const v = decide(input({ profile: ALL_SOFT, subject: subject({ health: oldTest }), readings: [36.4] })) as Decision;
    expect(v.outcome).toBe('admit');
    expect(v.temperature).toBe(36.4);
    expect(codes(v)).toEqual(['TEST_EXPIRED']);
    expect(v.alerts).toEqual([{ kind: 'soft-rule', severity: 'warning', code: 'TEST_EXPIRED' }]);
  });

  it('keeps the rule’s own alert beside the soft-rule alert (a yellow code still tells the office)', () => {
    const v = decide(input({ profile: ALL_SOFT, subject: subject({ health: { healthCode: 'yellow' } }), readings: [36.4] })) as Decision;
    expect(v.outcome).toBe('admit');
    expect(v.alerts).toEqual([
      { kind: 'soft-rule', severity: 'warning', code: 'HEALTH_CODE_YELLOW' },
      { kind: 'health-code', severity: 'warning', code: 'HEALTH_CODE_YELLOW' },
    ]);
  });

  it('still asks for a temperature before a soft admission', () => {
    expect(codes(decide(input({ profile: ALL_SOFT, subject: subject({ health: oldTest }) })))).toEqual(['TEMP_NEEDED']);
  });

  it('refuses a confirmed fever and lists the soft failure after it', () => {
    const v = decide(input({ profile: ALL_SOFT, subject: subject({ health: oldTest }), readings: [37.6, 37.6] }));
    expect(v.outcome).toBe('refuse');
    expect(codes(v)).toEqual(['TEMP_FEVER', 'TEST_EXPIRED']);
  });

  it('refuses when a hard rule fails too, listing hard reasons first and the soft ones after', () => {
    const profile = profileFromOverrides({ name: 'soft-test', enforce: { test: 'soft' } });
    const v = decide(input({ profile, subject: subject({ health: { ...oldTest, travel: undefined } }), readings: [36.4] }));
    expect(v.outcome).toBe('refuse');
    expect(codes(v)).toEqual(['TRAVEL_MISSING', 'TEST_EXPIRED']);
  });

  it('never softens a red code, a positive test or an active watchlist entry', () => {
    const red = decide(input({ profile: ALL_SOFT, subject: subject({ health: { healthCode: 'red' } }), readings: [36.4] }));
    expect(red.outcome).toBe('refuse');
    const positive = decide(input({ profile: ALL_SOFT, subject: subject({ health: { test: { result: 'positive', sampledAt: iso(NOW - HOUR) } } }), readings: [36.4] }));
    expect(positive.outcome).toBe('refuse');
    const watch = decide(
      input({
        profile: ALL_SOFT,
        facts: { watchlist: [{ subjectId: 'P-0001', kind: 'close-contact', from: iso(NOW - HOUR), until: null }] },
        readings: [36.4],
      }),
    );
    expect(watch.outcome).toBe('refuse');
  });

  it('lets a category be stricter than the profile, and looser', () => {
    const profile = profileFromOverrides({
      name: 'per-category',
      enforce: { test: 'soft' },
      enforceByCategory: { vendor: { test: 'hard' }, driver: { travel: 'soft' } },
    });
    expect(enforcementOf(profile, 'employee', 'test')).toBe('soft');
    expect(enforcementOf(profile, 'vendor', 'test')).toBe('hard');
    expect(enforcementOf(profile, 'driver', 'travel')).toBe('soft');
    expect(enforcementOf(profile, 'employee', 'travel')).toBe('hard');
    expect(decide(input({ profile, subject: subject({ category: 'vendor', health: oldTest }), readings: [36.4] })).outcome).toBe('refuse');
    expect(decide(input({ profile, subject: subject({ category: 'employee', health: oldTest }), readings: [36.4] })).outcome).toBe('admit');
  });

  it('keeps only what differs from the default in the compiled profile, so equal rules compare equal', () => {
    const p = profileFromOverrides({ enforce: { test: 'hard', travel: 'soft' }, enforceByCategory: { vendor: { travel: 'soft', test: 'soft' } } });
    expect(p.enforce).toEqual({ travel: 'soft' });
    expect(p.enforceByCategory).toEqual({ vendor: { test: 'soft' } });
    expect(profileFromOverrides({ enforce: { test: 'hard' } })).toStrictEqual(MINE_ENTRANCE);
  });

  it('refuses watchlist or temperature as soft rules, and unknown enforcement words', () => {
    try {
      profileFromOverrides({ enforce: { watchlist: 'soft', test: 'lenient' } as never });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(PolicyProfileError);
      expect((err as PolicyProfileError).issues.map((i) => [i.path, i.code])).toEqual([
        ['enforce.watchlist', 'UNKNOWN_KEY'],
        ['enforce.test', 'NOT_AN_ENFORCEMENT'],
      ]);
    }
  });
});
