// A lane and a worker back from leave: the leave records imported with the roster reach
// the policy, so a test from before the return no longer admits.
import { describe, expect, it } from 'vitest';
import { simLaneAt, T0, useLaneTestEnv } from './harness.js';

const env = useLaneTestEnv('leave-');

const laneAt = (checkpoint: string) => simLaneAt(env, checkpoint);

function worker(leave: { destination: string; out: string; back: string | null }) {
  return { staffId: 'E-1', name: '张伟', category: 'employee' as const, health: { healthCode: 'green' as const }, active: true, updatedAt: T0, leave };
}

describe('a lane and a worker back from leave', () => {
  it('refuses a pass whose test was sampled before the return with TEST_BEFORE_RETURN', async () => {
    // The pass's test was sampled 2024-01-09T01:00Z, before the return at 04:00Z.
    env.store.rosterUpsert([worker({ destination: '西安', out: '2024-01-05', back: '2024-01-09T12:00:00+08:00' })]);
    const row = await (await laneAt('gate-1'))('E-1');
    expect(row.outcome).toBe('refuse');
    expect(row.reasons.map((r) => r.code)).toEqual(['TEST_BEFORE_RETURN']);
  });

  it('admits the same pass when the return came before the sample', async () => {
    env.store.rosterUpsert([worker({ destination: '西安', out: '2024-01-05', back: '2024-01-08' })]);
    expect((await (await laneAt('gate-1'))('E-1')).outcome).toBe('admit');
  });
});
