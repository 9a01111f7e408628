// Visitor approvals with allowed checkpoints and a use limit: which approval admits,
// the reasons when none does, and the facts policy replay keeps for them.
import { describe, expect, it } from 'vitest';
import { approvalInUse, approvalKey, decide } from '../../../gateway/policy/decide.js';
import { MINE_ENTRANCE } from '../../../gateway/policy/profiles.js';
import { evaluatedFacts, replayVerdict } from '../../../gateway/policy/replay.js';
import type { Approval, Decision } from '../../../gateway/policy/types.js';
import { HOUR, NOW, iso, input, subject } from './fixtures.js';

const visitor = subject({ id: 'V-1', category: 'visitor' });

function approval(over: Partial<Approval> = {}): Approval {
  return { subjectId: 'V-1', approver: '刘主任', hostDepartment: '机电科', validFrom: iso(NOW - HOUR), validUntil: iso(NOW + 8 * HOUR), ...over };
}

/** checkpoint null: the gateway does not say where it is. */
function codes(approvals: Approval[], checkpoint: string | null = 'gate-1'): string[] {
  const v = decide(input({ subject: visitor, readings: [36.5], facts: { approvals, ...(checkpoint === null ? {} : { checkpoint }) } }));
  return v.outcome === 'measure' ? ['measure'] : (v as Decision).reasons.map((r) => r.code);
}

describe('visitor approvals limited to checkpoints', () => {
  it('admits at a checkpoint the approval names', () => {
    expect(codes([approval({ checkpoints: ['gate-1', 'office'] })])).toEqual([]);
  });

  it('refuses at another checkpoint with VISITOR_APPROVAL_WRONG_CHECKPOINT and a visitor-refused alert', () => {
    const v = decide(input({ subject: visitor, readings: [36.5], facts: { approvals: [approval({ checkpoints: ['office'] })], checkpoint: 'gate-1' } })) as Decision;
    expect(v.outcome).toBe('refuse');
    expect(v.reasons.map((r) => r.code)).toEqual(['VISITOR_APPROVAL_WRONG_CHECKPOINT']);
    expect(v.reasons[0]?.next?.zh).toBeTruthy();
    expect(v.alerts).toEqual([{ kind: 'visitor-refused', severity: 'warning', code: 'VISITOR_APPROVAL_WRONG_CHECKPOINT' }]);
  });

  it('refuses a checkpoint-limited approval when the checkpoint is not known (fail closed)', () => {
    expect(codes([approval({ checkpoints: ['gate-1'] })], null)).toEqual(['VISITOR_APPROVAL_WRONG_CHECKPOINT']);
  });

  it('still says expired, not wrong checkpoint, when no approval is valid now', () => {
    expect(codes([approval({ checkpoints: ['office'], validFrom: iso(NOW - 9 * HOUR), validUntil: iso(NOW - HOUR) })])[0]).toBe('VISITOR_APPROVAL_EXPIRED');
  });
});

describe('visitor approvals with a use limit', () => {
  it('admits while uses are below the limit and refuses with VISITOR_APPROVAL_USED_UP once they reach it', () => {
    expect(codes([approval({ maxUses: 2, uses: 1 })])).toEqual([]);
    expect(codes([approval({ maxUses: 2, uses: 2 })])).toEqual(['VISITOR_APPROVAL_USED_UP']);
    const v = decide(input({ subject: visitor, readings: [36.5], facts: { approvals: [approval({ maxUses: 2, uses: 2 })], checkpoint: 'gate-1' } })) as Decision;
    expect([v.reasons[0]?.zh, v.reasons[0]?.en]).toEqual(['来访审批次数已用完（共2次）', 'Visit approval used up (2 of 2 entries)']);
  });

  it('treats an approval without a limit as unlimited, and a missing count as no use yet', () => {
    expect(codes([approval({ uses: 1_000 })])).toEqual([]);
    expect(codes([approval({ maxUses: 1 })])).toEqual([]);
  });

  it('admits on a second approval when the first is used up, and counts the use against that one', () => {
    const used = approval({ id: 'A-1', maxUses: 1, uses: 1 });
    const fresh = approval({ id: 'A-2', approver: '王书记', maxUses: 3, uses: 0 });
    expect(codes([used, fresh])).toEqual([]);
    const facts = { watchlist: [], riskAreas: [], approvals: [used, fresh], checkpoint: 'gate-1' };
    expect(approvalInUse('visitor', facts, MINE_ENTRANCE, NOW)).toEqual({ key: 'A-2', approver: '王书记' });
  });

  it('names no approval for a category that needs none, or when none fits', () => {
    const facts = { watchlist: [], riskAreas: [], approvals: [approval()], checkpoint: 'gate-1' };
    expect(approvalInUse('employee', facts, MINE_ENTRANCE, NOW)).toBeNull();
    expect(approvalInUse('visitor', { ...facts, approvals: [approval({ maxUses: 1, uses: 1 })] }, MINE_ENTRANCE, NOW)).toBeNull();
  });

  it("counts uses under the office's id, or else under the approval's fixed fields", () => {
    expect(approvalKey(approval({ id: 'A-9' }))).toBe('A-9');
    expect(approvalKey(approval())).toBe(`V-1|刘主任|机电科|${iso(NOW - HOUR)}|${iso(NOW + 8 * HOUR)}`);
  });
});

describe('policy replay of limited approvals', () => {
  it('keeps checkpoints, limit and count without names, so a used-up refusal replays as a refusal', () => {
    const i = input({ subject: visitor, readings: [36.5], facts: { approvals: [approval({ checkpoints: ['gate-1'], maxUses: 1, uses: 1 })], checkpoint: 'gate-1' } });
    const facts = evaluatedFacts(i);
    expect(facts.approvals).toEqual([{ validFrom: iso(NOW - HOUR), validUntil: iso(NOW + 8 * HOUR), checkpoints: ['gate-1'], maxUses: 1, uses: 1 }]);
    expect(facts.checkpoint).toBe('gate-1');
    expect(JSON.stringify(facts)).not.toContain('刘主任');
    expect(replayVerdict(facts, MINE_ENTRANCE)).toEqual(decide(i));
  });

  it('keeps the old shape for approvals without the new fields', () => {
    const facts = evaluatedFacts(input({ subject: visitor, readings: [36.5], facts: { approvals: [approval()], checkpoint: 'gate-1' } }));
    expect(facts.approvals).toEqual([{ validFrom: iso(NOW - HOUR), validUntil: iso(NOW + 8 * HOUR) }]);
    expect(facts).not.toHaveProperty('checkpoint');
  });
});
