import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE, MIGRATIONS, openStore } from '../../../gateway/store/index.js';
import { closeAndRemove, entry, freshDir, track } from './helpers.js';

afterEach(closeAndRemove);

describe('store schema 3 for the guard console', () => {
  it('keeps the guard id and note of an override on its ledger row, and leaves them off other rows', () => {
    const store = track(openStore(freshDir()));
    const row = store.appendDecision(entry({ kind: 'override', actor: 'G-01', note: '当面核实' }), () => null);
    expect(row).toMatchObject({ kind: 'override', actor: 'G-01', note: '当面核实' });
    store.appendDecision(entry(), () => null);
    expect(store.queryEvents({}).map((e) => [e.kind, e.actor ?? null, e.note ?? null])).toEqual([
      ['decision', null, null],
      ['override', 'G-01', '当面核实'],
    ]);
  });

  it('refuses an override actor that is empty', () => {
    const store = track(openStore(freshDir()));
    expect(() => store.appendDecision(entry({ kind: 'override', actor: ' ' }), () => null)).toThrow(/STORE_INVALID_ROW/);
  });

  it('keeps the ledger append-only after the migration added its columns', () => {
    const dir = freshDir();
    const store = track(openStore(dir));
    store.appendDecision(entry({ actor: 'G-01' }), () => null);
    const db = new Database(join(dir, DATABASE_FILE));
    expect(() => db.prepare("UPDATE ledger SET actor = 'G-02'").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM ledger').run()).toThrow(/append-only/);
    db.close();
  });

  it('filters by credential kind and by a subject pseudonym or part of a name', () => {
    const store = track(openStore(freshDir()));
    store.appendDecision(entry({ subjectName: '张伟', subjectRef: 'p1_a', credential: 'staff-badge' }), () => null);
    store.appendDecision(entry({ subjectName: '李娜', subjectRef: 'p1_b' }), () => null);
    store.appendDecision(entry({ subjectName: null, subjectRef: null, credential: 'unknown' }), () => null);
    expect(store.queryEvents({ credential: 'staff-badge' }).map((e) => e.subjectName)).toEqual(['张伟']);
    expect(store.queryEvents({ subjectMatch: { ref: 'p1_b', name: 'p1_b' } }).map((e) => e.subjectName)).toEqual(['李娜']);
    expect(store.queryEvents({ subjectMatch: { ref: 'none', name: '伟' } }).map((e) => e.subjectName)).toEqual(['张伟']);
    expect(() => store.queryEvents({ subjectMatch: { ref: 'x', name: '' } })).toThrow(/STORE_INVALID_QUERY/);
  });

  it('counts rows per hour from a start, by kind and outcome', () => {
    const store = track(openStore(freshDir()));
    const from = Date.parse('2024-12-04T00:00:00+08:00');
    store.appendDecision(entry({ at: from + 5 * 60_000, outcome: 'admit' }), () => null);
    store.appendDecision(entry({ at: from + 50 * 60_000, outcome: 'admit' }), () => null);
    store.appendDecision(entry({ at: from + 3_600_000, outcome: 'refuse' }), () => null);
    store.appendDecision(entry({ at: from - 1, outcome: 'refuse' }), () => null);
    store.appendDecision(entry({ at: from + 86_400_000, outcome: 'refuse' }), () => null);
    expect(store.ledgerHourly(from, from + 86_400_000)).toEqual([
      { hour: 0, kind: 'decision', outcome: 'admit', n: 2 },
      { hour: 1, kind: 'decision', outcome: 'refuse', n: 1 },
    ]);
    expect(() => store.ledgerHourly(from, from)).toThrow(/STORE_INVALID_QUERY/);
  });

  it('lists every approval in insertion order', () => {
    const store = track(openStore(freshDir()));
    const approvals = [
      { subjectId: 'V-2', approver: '刘', hostDepartment: '机电科', validFrom: '2024-12-04', validUntil: '2024-12-05' },
      { subjectId: 'V-1', approver: '刘', hostDepartment: '通风科', validFrom: '2024-12-04', validUntil: '2024-12-06' },
    ];
    store.approvalsReplace(approvals);
    expect(store.approvalsAll()).toEqual(approvals);
  });

  it('still reads and writes a ledger of schema 1 (upgrade tests open old lists)', () => {
    const store = track(openStore(freshDir(), { migrations: MIGRATIONS.slice(0, 1) }));
    const row = store.appendDecision(entry({ actor: 'G-01' }), () => null);
    expect(row.actor).toBeUndefined();
    expect(store.queryEvents({})).toHaveLength(1);
  });

  it('creates the guards table', () => {
    const dir = freshDir();
    track(openStore(dir));
    const db = new Database(join(dir, DATABASE_FILE), { readonly: true });
    const cols = (db.prepare('PRAGMA table_info(guards)').all() as { name: string }[]).map((c) => c.name);
    db.close();
    expect(cols).toEqual(['id', 'name', 'pin_hash', 'created_at', 'failed_count', 'locked_until']);
  });
});
