// A lane admitting visitors on approvals: each admission counts a use, a used-up approval
// no longer admits, another checkpoint's approval does not admit here, and the approver is
// recorded in the local ledger but never in what is published.
import { describe, expect, it } from 'vitest';
import { simLaneAt, useLaneTestEnv } from './harness.js';

const env = useLaneTestEnv('visitor-');

const laneAt = (checkpoint: string) => simLaneAt(env, checkpoint, { category: 'visitor', name: '赵访客' });

const approval = { subjectId: 'V-1', approver: '刘主任', hostDepartment: '机电科', validFrom: '2024-01-09', validUntil: '2024-01-12', id: 'A-1' };

describe('a lane admitting visitors on approvals', () => {
  it('admits up to the use limit, then refuses with VISITOR_APPROVAL_USED_UP, recording the approver with each admission', async () => {
    env.store.approvalsReplace([{ ...approval, maxUses: 2 }]);
    const pass = await laneAt('gate-1');
    const first = await pass('V-1');
    const second = await pass('V-1');
    const third = await pass('V-1');
    expect([first.outcome, second.outcome, third.outcome]).toEqual(['admit', 'admit', 'refuse']);
    expect(third.reasons.map((r) => r.code)).toEqual(['VISITOR_APPROVAL_USED_UP']);
    expect([first.approver, second.approver]).toEqual(['刘主任', '刘主任']);
    expect(third).not.toHaveProperty('approver');
    expect(env.store.approvalUses('A-1')).toBe(2);
  });

  it('never publishes the approver: the outbox holds no name', async () => {
    env.store.approvalsReplace([{ ...approval, maxUses: 5 }]);
    const pass = await laneAt('gate-1');
    expect((await pass('V-1')).outcome).toBe('admit');
    const payloads = env.store.outboxPending(100).map((r) => r.payload);
    expect(payloads.length).toBeGreaterThan(0);
    for (const p of payloads) expect(p).not.toMatch(/刘主任|赵访客|approver/);
  });

  it('refuses at a checkpoint the approval does not name, counting no use', async () => {
    env.store.approvalsReplace([{ ...approval, checkpoints: ['office'], maxUses: 5 }]);
    const row = await (await laneAt('gate-1'))('V-1');
    expect(row.outcome).toBe('refuse');
    expect(row.reasons.map((r) => r.code)).toEqual(['VISITOR_APPROVAL_WRONG_CHECKPOINT']);
    expect(env.store.approvalUses('A-1')).toBe(0);
  });

  it('admits at a named checkpoint', async () => {
    env.store.approvalsReplace([{ ...approval, checkpoints: ['office', 'gate-1'] }]);
    const row = await (await laneAt('gate-1'))('V-1');
    expect(row.outcome).toBe('admit');
    expect(row.approver).toBe('刘主任');
  });
});
