import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MIGRATIONS,
  openStore,
  type LedgerEntry,
  type LedgerQuery,
  type NewLedgerEntry,
  type OutboxMessage,
  type SqliteStore,
} from '../../../gateway/store/index.js';
import { catchError, closeAndRemove, entry, freshDir, toEventsTopic, track } from './helpers.js';

function fresh(): SqliteStore {
  return track(openStore(freshDir(), { now: () => 42 }));
}
afterEach(closeAndRemove);

function counts(store: SqliteStore): { ledger: number; outbox: number } {
  return { ledger: store.queryEvents({ limit: 1000 }).length, outbox: store.outboxDepth() };
}

const fever: Pick<NewLedgerEntry, 'outcome' | 'reasons' | 'alerts'> = {
  outcome: 'refuse',
  reasons: [
    {
      code: 'FEVER',
      zh: '体温 37.8 °C，超过 37.3 °C',
      en: 'Temperature 37.8 °C is at or above 37.3 °C',
      next: { zh: '请到留观室复测', en: 'Please go to the observation room for a re-check' },
    },
  ],
  alerts: [{ kind: 'fever', severity: 'critical', code: 'FEVER' }],
};

describe('appendDecision', () => {
  it('stores the entry with a seq and writes the outbox message built from the stored row', () => {
    const store = fresh();
    const seen: LedgerEntry[] = [];
    const e = entry({ ...fever, temperature: 37.8 });
    const stored = store.appendDecision(e, (row) => {
      seen.push(row);
      return toEventsTopic(row);
    });

    expect(stored).toEqual({ ...e, seq: 1 });
    expect(seen).toEqual([stored]);
    expect(store.queryEvents({})).toEqual([stored]);
    const [msg] = store.outboxPending(10);
    expect(msg).toMatchObject({ id: 1, topic: 'checkpoints/site/cp/events', qos: 1, createdAt: 42 });
    expect(JSON.parse(msg?.payload ?? '')).toMatchObject({ seq: 1, id: e.id, outcome: 'refuse' });
    expect(msg?.payload).not.toContain('张三');
  });

  it('writes only the ledger row when the message builder returns null', () => {
    const store = fresh();
    store.appendDecision(entry(), () => null);
    expect(counts(store)).toEqual({ ledger: 1, outbox: 0 });
  });

  it('writes neither row when the message builder throws, and passes its error on', () => {
    const store = fresh();
    const boom = new Error('serializer broke');
    expect(() =>
      store.appendDecision(entry(), () => {
        throw boom;
      }),
    ).toThrow(boom);
    expect(counts(store)).toEqual({ ledger: 0, outbox: 0 });
    // The store is still usable, and the rolled-back attempt did not even use up a seq.
    expect(store.appendDecision(entry(), toEventsTopic).seq).toBe(1);
    expect(counts(store)).toEqual({ ledger: 1, outbox: 1 });
  });

  it('writes neither row when the message builder returns a malformed message', () => {
    const store = fresh();
    const bad = { topic: '', payload: 'x', qos: 2 } as unknown as OutboxMessage;
    const err = catchError(() => store.appendDecision(entry({ id: 'evt-bad-msg' }), () => bad));
    expect(err.code).toBe('STORE_INVALID_ROW');
    expect(err.message).toContain('evt-bad-msg');
    expect(err.message).toContain('topic');
    expect(err.message).toContain('qos');
    expect(counts(store)).toEqual({ ledger: 0, outbox: 0 });
  });

  it('refuses a duplicate event id with STORE_DUPLICATE_EVENT and writes nothing', () => {
    const store = fresh();
    const e = entry({ id: 'evt-dup' });
    store.appendDecision(e, toEventsTopic);
    let builderCalls = 0;
    const err = catchError(() =>
      store.appendDecision({ ...e, outcome: 'refuse' }, (row) => {
        builderCalls += 1;
        return toEventsTopic(row);
      }),
    );
    expect(err.code).toBe('STORE_DUPLICATE_EVENT');
    expect(err.message).toContain('"evt-dup"');
    expect(builderCalls).toBe(0);
    expect(counts(store)).toEqual({ ledger: 1, outbox: 1 });
    expect(store.queryEvents({})[0]?.outcome).toBe('admit');
  });

  it('refuses a malformed entry with STORE_INVALID_ROW, naming the field, and writes nothing', () => {
    const store = fresh();
    const bad = { ...entry({ id: 'evt-bad' }), outcome: 'maybe', temperature: Number.NaN } as unknown as NewLedgerEntry;
    const err = catchError(() => store.appendDecision(bad, toEventsTopic));
    expect(err.code).toBe('STORE_INVALID_ROW');
    expect(err.message).toContain('"evt-bad"');
    expect(err.message).toMatch(/outcome: .*admit/);
    expect(err.message).toContain('temperature');
    expect(counts(store)).toEqual({ ledger: 0, outbox: 0 });
  });

  it('accepts the unknown-subject case: null ref, name, category and temperature', () => {
    const store = fresh();
    const e = entry({
      credential: 'unknown',
      outcome: 'refer',
      subjectRef: null,
      subjectName: null,
      category: null,
      temperature: null,
    });
    expect(store.appendDecision(e, () => null)).toEqual({ ...e, seq: 1 });
  });
});

describe('appendDecision returns the row as committed', () => {
  const text = fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }).filter((t) => t.trim() !== '');
  const optionalEntry = fc.record(
    {
      subjectName: fc.option(fc.string({ unit: 'binary', maxLength: 12 })),
      temperature: fc.option(fc.double({ min: 30, max: 45, noNaN: true })),
      actor: fc.option(text),
      note: fc.option(fc.string({ unit: 'binary', maxLength: 30 })),
      profile: fc.option(fc.constantFrom('mine-entrance', 'office')),
      approver: fc.option(text),
      approvalKey: fc.option(text),
      responsible: fc.option(text),
      crewId: fc.option(text),
      plate: fc.option(fc.constantFrom('晋A12345', 'AB-1')),
      goods: fc.option(fc.constantFrom('coal', 'food')),
      reasons: fc.array(fc.record({ code: fc.constantFrom('FEVER', 'OK'), zh: fc.string({ unit: 'binary' }), en: fc.string() }), { maxLength: 2 }),
    },
    { requiredKeys: [] },
  );

  it('equals what a read of that row gives back, whatever optional columns it has', () => {
    const store = fresh();
    fc.assert(
      fc.property(optionalEntry, (over) => {
        const row = store.appendDecision(entry(over as Partial<NewLedgerEntry>), () => null);
        expect(row).toEqual(store.ledgerRange(row.seq, row.seq)[0]);
      }),
      { numRuns: 300 },
    );
  });

  it('reads the columns an older schema lacks as absent, as a read of that file does', () => {
    const store = track(openStore(freshDir(), { migrations: MIGRATIONS.slice(0, 3) }));
    const row = store.appendDecision(entry({ actor: 'G-01', note: 'n', profile: 'office', approver: 'A', crewId: 'c', plate: '晋A12345', goods: 'coal' }), () => null);
    expect(row).toEqual(store.ledgerRange(row.seq, row.seq)[0]);
    expect(row).toMatchObject({ actor: 'G-01', note: 'n' });
    expect(row).not.toHaveProperty('plate');
  });
});

describe('the ledger is append-only', () => {
  it('refuses UPDATE and DELETE from any connection, via triggers', () => {
    const store = fresh();
    store.appendDecision(entry({ id: 'evt-fixed' }), () => null);
    const db = new Database(store.path);
    try {
      expect(() => db.prepare("UPDATE ledger SET outcome = 'admit'").run()).toThrow(/append-only: UPDATE refused/);
      expect(() => db.prepare('DELETE FROM ledger').run()).toThrow(/append-only: DELETE refused/);
      expect(db.prepare('SELECT id FROM ledger').all()).toEqual([{ id: 'evt-fixed' }]);
    } finally {
      db.close();
    }
  });
});

describe('queryEvents', () => {
  function seeded(): { store: SqliteStore; all: LedgerEntry[] } {
    const store = fresh();
    const all: LedgerEntry[] = [];
    const specs: Partial<NewLedgerEntry>[] = [
      { lane: 'lane-1', outcome: 'admit', at: 1000, subjectRef: 'ref-a' },
      { lane: 'lane-2', at: 2000, ...fever, subjectRef: 'ref-b' },
      { lane: 'lane-1', outcome: 'refer', at: 3000, subjectRef: 'ref-a' },
      { lane: 'lane-2', outcome: 'admit', at: 4000, subjectRef: 'ref-c' },
      { lane: 'lane-1', outcome: 'refuse', at: 5000, subjectRef: null },
    ];
    for (const s of specs) all.push(store.appendDecision(entry(s), () => null));
    return { store, all };
  }
  const seqs = (rows: LedgerEntry[]): number[] => rows.map((r) => r.seq);

  it('returns newest first by seq with reasons and alerts parsed back', () => {
    const { store, all } = seeded();
    const rows = store.queryEvents({});
    expect(seqs(rows)).toEqual([5, 4, 3, 2, 1]);
    expect(rows[3]).toEqual(all[1]);
    expect(rows[3]?.reasons[0]?.next?.zh).toBe('请到留观室复测');
    expect(rows[3]?.alerts).toEqual([{ kind: 'fever', severity: 'critical', code: 'FEVER' }]);
  });

  it('filters by lane, outcome and subject pseudonym', () => {
    const { store } = seeded();
    expect(seqs(store.queryEvents({ lane: 'lane-1' }))).toEqual([5, 3, 1]);
    expect(seqs(store.queryEvents({ outcome: 'refuse' }))).toEqual([5, 2]);
    expect(seqs(store.queryEvents({ lane: 'lane-2', outcome: 'admit' }))).toEqual([4]);
    expect(seqs(store.queryEvents({ subjectRef: 'ref-a' }))).toEqual([3, 1]);
    expect(store.queryEvents({ lane: 'lane-9' })).toEqual([]);
  });

  it('treats from as inclusive and to as exclusive', () => {
    const { store } = seeded();
    expect(seqs(store.queryEvents({ from: 2000, to: 4000 }))).toEqual([3, 2]);
    expect(seqs(store.queryEvents({ from: 2000, to: 2000 }))).toEqual([]);
    expect(seqs(store.queryEvents({ from: 4000 }))).toEqual([5, 4]);
    expect(seqs(store.queryEvents({ to: 2001 }))).toEqual([2, 1]);
  });

  it('pages with beforeSeq and limit', () => {
    const { store } = seeded();
    expect(seqs(store.queryEvents({ limit: 2 }))).toEqual([5, 4]);
    expect(seqs(store.queryEvents({ limit: 2, beforeSeq: 4 }))).toEqual([3, 2]);
    expect(seqs(store.queryEvents({ limit: 2, beforeSeq: 2 }))).toEqual([1]);
  });

  it('returns 100 rows by default and up to 1000 on request', () => {
    const store = fresh();
    for (let i = 0; i < 1005; i++) store.appendDecision(entry(), () => null);
    expect(store.queryEvents({})).toHaveLength(100);
    expect(store.queryEvents({ limit: 1000 })).toHaveLength(1000);
  });

  it.each<[string, LedgerQuery]>([
    ['limit 0', { limit: 0 }],
    ['limit 1001', { limit: 1001 }],
    ['limit 2.5', { limit: 2.5 }],
    ['limit -1', { limit: -1 }],
    ['an unknown outcome', { outcome: 'maybe' as unknown as 'admit' }],
    ['an empty lane', { lane: '' }],
    ['a from after to', { from: 5, to: 4 }],
    ['a non-finite from', { from: Number.NaN }],
    ['beforeSeq 0', { beforeSeq: 0 }],
  ])('refuses %s with STORE_INVALID_QUERY saying what was expected', (_label, q) => {
    const store = fresh();
    const err = catchError(() => store.queryEvents(q));
    expect(err.code).toBe('STORE_INVALID_QUERY');
    expect(err.message).toMatch(/is invalid: expected /);
  });

  it('paging with beforeSeq visits every matching row exactly once, newest first', () => {
    const lanes = ['lane-1', 'lane-2'] as const;
    const outcomes = ['admit', 'refuse', 'refer'] as const;
    fc.assert(
      fc.property(
        fc.array(fc.record({ lane: fc.constantFrom(...lanes), outcome: fc.constantFrom(...outcomes) }), {
          maxLength: 40,
        }),
        fc.option(fc.constantFrom(...lanes), { nil: undefined }),
        fc.option(fc.constantFrom(...outcomes), { nil: undefined }),
        fc.integer({ min: 1, max: 7 }),
        (specs, lane, outcome, limit) => {
          const store = openStore(freshDir());
          try {
            const written = specs.map((s) => store.appendDecision(entry(s), () => null));
            const expected = written
              .filter((r) => (lane === undefined || r.lane === lane) && (outcome === undefined || r.outcome === outcome))
              .map((r) => r.seq)
              .reverse();
            const got: number[] = [];
            let beforeSeq: number | undefined;
            for (;;) {
              const q: LedgerQuery = { limit };
              if (lane !== undefined) q.lane = lane;
              if (outcome !== undefined) q.outcome = outcome;
              if (beforeSeq !== undefined) q.beforeSeq = beforeSeq;
              const page = store.queryEvents(q);
              got.push(...page.map((r) => r.seq));
              if (page.length < limit) break;
              beforeSeq = page[page.length - 1]?.seq;
            }
            expect(got).toEqual(expected);
          } finally {
            store.close();
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
