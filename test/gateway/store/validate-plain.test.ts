// The store checks every ledger entry and outbox message it writes. On the lane's path a
// plain check runs first and zod only when it fails; the plain check may refuse more than
// zod (zod then decides) but must never accept what zod refuses.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newLedgerEntrySchema, outboxMessageSchema, plainLedgerEntry, plainOutboxMessage } from '../../../gateway/store/validate.js';

const TRICKY: unknown[] = [
  undefined, null, '', ' ', '\t\n', ' a ', 'a', 'x'.repeat(16), 'x'.repeat(17), 'x'.repeat(64), 'x'.repeat(65), 'x'.repeat(100), 'x'.repeat(101),
  'x'.repeat(128), 'x'.repeat(129), ` ${'x'.repeat(128)} `, 'x'.repeat(500), 'x'.repeat(501), 'coal', 'Coal', '-coal', 'coal food',
  'f'.repeat(64), 'F'.repeat(64), 'f'.repeat(63), 'decision', 'override', 'admit', 'refuse', 'refer', 'health-pass', 'unknown', 'employee', 'visitor',
  'fever', 'critical', 'info', 'loud', 0, -0, 1, -1, 1.5, 36.6, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, true, [], [1], {}, { v: 1 }, { v: 2 },
  { code: 'X', zh: '', en: '' }, { code: ' ', zh: '', en: '' }, { code: 'X', zh: '', en: '', next: { zh: '', en: '' } }, { code: 'X', zh: '', en: '', next: null },
  { kind: 'fever', severity: 'critical', code: 'FEVER' }, { kind: 'fever', severity: 'loud', code: 'FEVER' }, { kind: 'nope', severity: 'info', code: 'X' },
];
const FIELDS = [
  'id', 'at', 'lane', 'kind', 'outcome', 'reasons', 'alerts', 'credential', 'subjectRef', 'subjectName', 'category', 'temperature', 'actor', 'note',
  'approver', 'approvalKey', 'responsible', 'crewId', 'plate', 'goods', 'profile', 'profileHash', 'facts',
];
const tricky = fc.constantFrom(...TRICKY);
const trickyArray = fc.array(tricky, { maxLength: 3 });

const validEntry = fc.record({
  id: fc.uuid(),
  at: fc.integer({ min: 0, max: 2 ** 45 }),
  lane: fc.constantFrom('in-1', 'lane-2'),
  kind: fc.constantFrom('decision', 'timeout', 'fault', 'override'),
  outcome: fc.constantFrom('admit', 'refuse', 'refer'),
  reasons: fc.array(fc.record({ code: fc.constantFrom('FEVER', 'OK'), zh: fc.string(), en: fc.string() }), { maxLength: 3 }),
  alerts: fc.array(fc.record({ kind: fc.constantFrom('fever', 'watchlist'), severity: fc.constantFrom('info', 'warning', 'critical'), code: fc.constantFrom('FEVER', 'WATCHLIST') }), { maxLength: 2 }),
  credential: fc.constantFrom('health-pass', 'staff-badge', 'unknown'),
  subjectRef: fc.option(fc.constant('p1_Yx3lQ0c2m5VbN8aK1tR9wE')),
  subjectName: fc.option(fc.string()),
  category: fc.option(fc.constantFrom('employee', 'visitor', 'driver')),
  temperature: fc.option(fc.double({ min: 30, max: 45, noNaN: true })),
  profile: fc.constantFrom('mine-entrance', undefined, null),
  facts: fc.constantFrom({ v: 1 }, undefined, null),
});

describe('the plain check of a ledger entry', () => {
  it('accepts the entries a lane writes, so zod does not run for them', () => {
    fc.assert(fc.property(validEntry, (e) => {
      expect(newLedgerEntrySchema.safeParse(e).success).toBe(true);
      expect(plainLedgerEntry(e)).toBe(true);
    }), { numRuns: 500 });
  });

  it('never accepts an entry zod refuses, whatever its fields hold', () => {
    fc.assert(
      fc.property(validEntry, fc.array(fc.tuple(fc.constantFrom(...FIELDS), fc.oneof(tricky, trickyArray)), { minLength: 1, maxLength: 3 }), fc.boolean(), (e, changes, drop) => {
        const changed: Record<string, unknown> = { ...e };
        for (const [k, v] of changes) {
          if (drop && v === undefined) delete changed[k];
          else changed[k] = v;
        }
        if (plainLedgerEntry(changed)) expect(newLedgerEntrySchema.safeParse(changed).success).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('refuses what is not an entry at all', () => {
    for (const v of [null, undefined, [], 'entry', 1]) expect(plainLedgerEntry(v)).toBe(false);
  });
});

describe('the plain check of an outbox message', () => {
  it('accepts exactly the messages zod accepts among tricky ones, never more', () => {
    fc.assert(
      fc.property(fc.record({ topic: fc.oneof(tricky, fc.constant('a/b/events')), payload: fc.oneof(tricky, fc.string()), qos: fc.oneof(tricky, fc.constantFrom(0, 1, 2)) }), (m) => {
        if (plainOutboxMessage(m)) expect(outboxMessageSchema.safeParse(m).success).toBe(true);
      }),
      { numRuns: 2000 },
    );
    expect(plainOutboxMessage({ topic: 'a/b/events', payload: '{}', qos: 1 })).toBe(true);
  });
});
