// Leave and return: a worker back from a reported trip needs a test sampled after the
// return; a test from before the trip is refused with TEST_BEFORE_RETURN.
import { describe, expect, it } from 'vitest';
import { decide, returnedSince } from '../../../gateway/policy/decide.js';
import { MINE_ENTRANCE } from '../../../gateway/policy/profiles.js';
import { evaluatedFacts, replayVerdict } from '../../../gateway/policy/replay.js';
import type { Decision, LeaveRecord } from '../../../gateway/policy/types.js';
import { DAY, HOUR, NOW, iso, input, subject } from './fixtures.js';

function trip(over: Partial<LeaveRecord> = {}): LeaveRecord {
  return { staffId: 'P-0001', destination: '西安', out: iso(NOW - 5 * DAY), back: iso(NOW - 10 * HOUR), ...over };
}

function decideWith(sampledHoursAgo: number, leave: LeaveRecord[]): Decision {
  const s = subject({ health: { test: { result: 'negative', sampledAt: iso(NOW - sampledHoursAgo * HOUR) } } });
  return decide(input({ subject: s, readings: [36.5], facts: { leave } })) as Decision;
}

describe('a worker back from leave', () => {
  it('is admitted with a test sampled after the return', () => {
    expect(decideWith(9, [trip()]).outcome).toBe('admit');
  });

  it('is admitted with a test sampled exactly at the return', () => {
    expect(decideWith(10, [trip()]).outcome).toBe('admit');
  });

  it('is refused with TEST_BEFORE_RETURN when the test was sampled before the return, however fresh', () => {
    const v = decideWith(11, [trip()]);
    expect(v.outcome).toBe('refuse');
    expect(v.reasons.map((r) => r.code)).toEqual(['TEST_BEFORE_RETURN']);
    expect(v.reasons[0]?.zh).toBe('返回后需重新做核酸检测（须12月20日 02:00后采样）');
    expect(v.reasons[0]?.en).toBe('A new test is needed after your return (sampled after 20 Dec 02:00)');
    expect(v.reasons[0]?.next).toBeDefined();
  });

  it('reads a bare return date as local midnight, so a test that morning counts', () => {
    expect(decideWith(3, [trip({ back: '2021-12-20' })]).outcome).toBe('admit'); // sampled 09:00 on the day back
    expect(decideWith(13, [trip({ back: '2021-12-20' })]).reasons.map((r) => r.code)).toEqual(['TEST_BEFORE_RETURN']); // 23:00 the day before
  });

  it('goes by the latest trip when there were several', () => {
    const old = trip({ out: iso(NOW - 20 * DAY), back: iso(NOW - 15 * DAY) });
    expect(decideWith(11, [old]).outcome).toBe('admit');
    expect(decideWith(11, [old, trip()]).outcome).toBe('refuse');
  });

  it('treats a worker at the gate before the recorded return as back since the day out', () => {
    const away = trip({ out: iso(NOW - 3 * DAY), back: null });
    expect(returnedSince([away], NOW)).toBe(NOW - 3 * DAY);
    expect(decideWith(80, [away]).reasons.map((r) => r.code)).toContain('TEST_EXPIRED');
    expect(decideWith(24, [away]).outcome).toBe('admit');
    expect(returnedSince([trip({ back: iso(NOW + DAY) })], NOW)).toBe(NOW - 5 * DAY);
  });

  it('ignores a trip that has not started and a worker with no leave', () => {
    expect(returnedSince([trip({ out: iso(NOW + DAY), back: iso(NOW + 2 * DAY) })], NOW)).toBeNull();
    expect(returnedSince(undefined, NOW)).toBeNull();
    expect(decideWith(11, []).outcome).toBe('admit');
  });

  it('reports an expired test as expired, not also as before the return', () => {
    expect(decideWith(49, [trip()]).reasons.map((r) => r.code)).toEqual(['TEST_EXPIRED']);
  });

  it('admits with the reason and a soft-rule alert when the test rule is soft', () => {
    const s = subject({ health: { test: { result: 'negative', sampledAt: iso(NOW - 11 * HOUR) } } });
    const v = decide(input({ subject: s, readings: [36.5], facts: { leave: [trip()] }, profile: { ...MINE_ENTRANCE, enforce: { test: 'soft' } } })) as Decision;
    expect(v.outcome).toBe('admit');
    expect(v.reasons.map((r) => r.code)).toEqual(['TEST_BEFORE_RETURN']);
    expect(v.alerts).toEqual([{ kind: 'soft-rule', severity: 'warning', code: 'TEST_BEFORE_RETURN' }]);
  });

  it('keeps the leave dates, not the destination, for policy replay, and replays to the same refusal', () => {
    const s = subject({ health: { test: { result: 'negative', sampledAt: iso(NOW - 11 * HOUR) } } });
    const i = input({ subject: s, readings: [36.5], facts: { leave: [trip()] } });
    const facts = evaluatedFacts(i);
    expect(facts.leave).toEqual([{ out: iso(NOW - 5 * DAY), back: iso(NOW - 10 * HOUR) }]);
    expect(JSON.stringify(facts)).not.toContain('西安');
    expect(replayVerdict(facts, MINE_ENTRANCE)).toEqual(decide(i));
  });
});
