// Store schema 6: approvals with an office id, allowed checkpoints and a use limit; each
// admission on an approval counts a use in the ledger row's own transaction and records
// the approver with the row (local only).
import { afterEach, describe, expect, it } from 'vitest';
import type { Approval } from '../../../gateway/policy/types.js';
import { MIGRATIONS, StoreError, openStore } from '../../../gateway/store/index.js';
import { closeAndRemove, entry, freshDir, track } from './helpers.js';

afterEach(closeAndRemove);

const LIMITED: Approval = {
  subjectId: 'V-1',
  approver: '刘主任',
  hostDepartment: '机电科',
  validFrom: '2024-12-04',
  validUntil: '2024-12-06',
  id: 'A-1',
  checkpoints: ['gate-1'],
  maxUses: 2,
};

describe('approvals with a use limit', () => {
  it('reads back the office id, checkpoints and limit, with no uses yet', () => {
    const store = track(openStore(freshDir()));
    store.approvalsReplace([LIMITED]);
    expect(store.approvalsFor('V-1')).toEqual([{ ...LIMITED, uses: 0 }]);
    expect(store.approvalsAll()).toEqual([{ ...LIMITED, uses: 0 }]);
  });

  it('reads an approval without the new fields exactly as written', () => {
    const store = track(openStore(freshDir()));
    const plain: Approval = { subjectId: 'V-2', approver: '刘主任', hostDepartment: '通风科', validFrom: '2024-12-04', validUntil: '2024-12-06' };
    store.approvalsReplace([plain]);
    expect(store.approvalsFor('V-2')).toEqual([plain]);
  });

  it('counts a use with each admission row naming the approval, and records the approver with the row', () => {
    const store = track(openStore(freshDir()));
    store.approvalsReplace([LIMITED]);
    const row = store.appendDecision(entry({ category: 'visitor', approver: '刘主任', approvalKey: 'A-1' }), () => null);
    expect(row.approver).toBe('刘主任');
    expect(store.approvalUses('A-1')).toBe(1);
    store.appendDecision(entry({ category: 'visitor', approver: '刘主任', approvalKey: 'A-1' }), () => null);
    expect(store.approvalsFor('V-1')[0]?.uses).toBe(2);
    expect(store.queryEvents({ limit: 10 }).map((e) => e.approver)).toEqual(['刘主任', '刘主任']);
  });

  it('counts nothing when the ledger row is not written (the same transaction)', () => {
    const store = track(openStore(freshDir()));
    const e = entry({ approver: '刘主任', approvalKey: 'A-1' });
    store.appendDecision(e, () => null);
    expect(() => store.appendDecision(e, () => null)).toThrowError(StoreError); // duplicate event id
    expect(() =>
      store.appendDecision(entry({ approver: '刘主任', approvalKey: 'A-1' }), () => {
        throw new Error('outbox builder failed');
      }),
    ).toThrowError('outbox builder failed');
    expect(store.approvalUses('A-1')).toBe(1);
  });

  it('keeps the count when the central office sends the same approval again', () => {
    const store = track(openStore(freshDir()));
    store.approvalsReplace([LIMITED]);
    store.appendDecision(entry({ approver: '刘主任', approvalKey: 'A-1' }), () => null);
    store.approvalsReplace([{ ...LIMITED, maxUses: 3 }]);
    expect(store.approvalsFor('V-1')[0]).toMatchObject({ maxUses: 3, uses: 1 });
  });

  it('leaves rows without an approval with no approver', () => {
    const store = track(openStore(freshDir()));
    const row = store.appendDecision(entry(), () => null);
    expect(row).not.toHaveProperty('approver');
  });

  it('refuses a limit below one, an empty checkpoint list and a fractional limit, naming the field', () => {
    const store = track(openStore(freshDir()));
    const cases: [Partial<Approval>, string][] = [
      [{ maxUses: 0 }, 'maxUses'],
      [{ maxUses: 1.5 }, 'maxUses'],
      [{ checkpoints: [] }, 'checkpoints'],
    ];
    for (const [bad, field] of cases) {
      let err: unknown;
      try {
        store.approvalsReplace([{ ...LIMITED, ...bad }]);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(StoreError);
      expect((err as StoreError).code).toBe('STORE_INVALID_ROW');
      expect((err as StoreError).message).toContain(field);
    }
  });

  it('still opens, reads and writes a file of schema 5, where nothing is counted', () => {
    const store = track(openStore(freshDir(), { migrations: MIGRATIONS.slice(0, 5) }));
    store.approvalsReplace([LIMITED]);
    expect(store.approvalsFor('V-1')).toEqual([{ subjectId: 'V-1', approver: '刘主任', hostDepartment: '机电科', validFrom: '2024-12-04', validUntil: '2024-12-06' }]);
    store.appendDecision(entry({ approver: '刘主任', approvalKey: 'A-1' }), () => null);
    expect(store.approvalUses('A-1')).toBe(0);
  });
});
