// Retention's store steps (store schema 11): personal fields erased after
// privacy.personalDataDays with the chain still verifiable, whole old days cut behind a
// signed checkpoint row in small batches (verifiable at every step), delivered outbox rows
// purged (undelivered never), and nothing deleted that no checkpoint cut.
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { DAY_MS } from '../../../gateway/policy/time.js';
import { MIGRATIONS, expiryBefore, loadOrCreateGatewayKey, openStore, readAheadPlans, type RetentionRoom, type SqliteStore } from '../../../gateway/store/index.js';
import { closeAndRemove, entry, freshDir, track } from './helpers.js';

afterEach(closeAndRemove);

const T0 = Date.UTC(2025, 0, 1, 4); // 2025-01-01 12:00 China time
const FACTS = { v: 1, now: T0, readings: [{ celsius: 36.6, at: T0 }] } as unknown as NonNullable<Parameters<SqliteStore['appendDecision']>[0]['facts']>;

/** A store with `days` days of `perDay` decisions each (names, facts, a plate, an override's note) and a zone correction on day 1. */
function ledgerOfDays(days: number, perDay: number, dir = freshDir()): { store: SqliteStore; room: RetentionRoom; db: Database.Database } {
  const store = track(openStore(dir, { now: () => T0 }));
  for (let d = 0; d < days; d++) {
    for (let i = 0; i < perDay; i++) {
      const at = T0 + d * DAY_MS + i * 1000;
      store.appendDecision(
        entry({ at, facts: FACTS, subjectName: '张三', temperature: 36.6, ...(i === 0 ? { plate: '晋A12345', goods: 'coal' } : {}), ...(i === 1 ? { kind: 'override', actor: 'G-01', note: '李四 forgot his badge' } : {}) }),
        () => null,
      );
    }
    if (d === 1) store.zoneCorrect({ zone: 'canteen', count: 3, guard: 'G-01', reason: 'counted by hand', at: T0 + d * DAY_MS + 500 });
  }
  const room = store.retention;
  if (room === null) throw new Error('expected a store at schema 11 with retention');
  return { store, room, db: track(new Database(store.path)) };
}

const drain = (step: () => { n: number; done: boolean }, maxPerStep: number): { n: number; steps: number } => {
  let n = 0;
  let steps = 0;
  for (let done = false; !done; steps++) {
    const r = step();
    expect(r.n).toBeLessThanOrEqual(maxPerStep);
    n += r.n;
    done = r.done;
    if (steps > 10_000) throw new Error('no end');
  }
  return { n, steps };
};

describe('erasing personal fields after privacy.personalDataDays', () => {
  it('erases names, notes, plates and health claims of expired rows only, keeps decision, reasons, lane, time and pseudonym, and the chain still verifies', () => {
    const { store, room, db } = ledgerOfDays(4, 5);
    const before = T0 + 2 * DAY_MS; // days 0 and 1 expired
    const { n } = drain(() => room.eraseBatch(before, 3), 3);
    expect(n).toBe(10);
    const rows = db.prepare('SELECT at, outcome, lane, reasons, subject_ref, subject_name, note, plate, temperature, facts, person_salt, health_salt, person_commit, health_commit FROM ledger ORDER BY seq').all() as Record<string, unknown>[];
    for (const r of rows) {
      const expired = (r.at as number) < before;
      expect(r.subject_name === null, `row at ${r.at}`).toBe(expired);
      expect(r.facts === null).toBe(expired);
      expect(r.temperature === null).toBe(expired);
      expect(r.person_salt === null).toBe(expired);
      expect(r.subject_ref).not.toBeNull();
      expect(r.outcome).toBe('admit');
      expect(Buffer.isBuffer(r.person_commit) && Buffer.isBuffer(r.health_commit)).toBe(true);
      if (expired) expect(r.note ?? r.plate).toBeNull();
    }
    const report = store.verifyChain();
    expect(report).toMatchObject({ ok: true, erased: { person: 10, health: 10 } });
    // Nothing more is due: a second pass changes nothing.
    expect(room.eraseBatch(before, 3)).toEqual({ n: 0, done: true });
  });

  it('resumes where it stopped (a cursor in meta) and stops at the first row not yet expired', () => {
    const { room, store } = ledgerOfDays(2, 4);
    expect(room.eraseBatch(T0 + DAY_MS, 2)).toEqual({ n: 2, done: false });
    expect(store.getMeta('retention.erasedThrough')).toBe('2');
    expect(room.eraseBatch(T0 + DAY_MS, 10)).toEqual({ n: 2, done: true });
    expect(store.getMeta('retention.erasedThrough')).toBe('4');
  });

  it('counts whole local (China) days: the cutoff is the start of the day personalDataDays before today', () => {
    const now = Date.UTC(2025, 1, 1, 1); // 2025-02-01 09:00 China time
    expect(new Date(expiryBefore(now, 28)).toISOString()).toBe('2025-01-03T16:00:00.000Z'); // 2025-01-04 00:00 China time
  });
});

describe('cutting whole old days after privacy.ledgerDays', () => {
  it('writes a signed checkpoint stating the cut, deletes in small batches with the chain verifiable at every step, and keeps the later days', () => {
    const dir = freshDir();
    const { store, room, db } = ledgerOfDays(4, 6, dir);
    const headBefore = store.chainHead()!;
    const plan = room.planCut(T0 + 2 * DAY_MS - 12 * 3_600_000); // days 0 and 1 (China dates 2025-01-01, 02)
    expect(plan).toMatchObject({ fromSeq: 1, toSeq: 14, ledger: 12, zoneCorrections: 1, rows: 14, days: { from: '2025-01-01', to: '2025-01-02' } });
    expect(plan!.lastHash).toBe((db.prepare('SELECT hex(hash) AS h FROM chain WHERE seq = 14').get() as { h: string }).h.toLowerCase());
    const key = loadOrCreateGatewayKey(dir);
    const head = room.writeCheckpoint(plan!, 'privacy.ledgerDays = 365', T0 + 400 * DAY_MS, key);
    expect(head.seq).toBe(headBefore.seq + 1);
    const body = JSON.parse((db.prepare('SELECT body FROM chain WHERE seq = ?').get(head.seq) as { body: string }).body) as Record<string, unknown>;
    expect(body).toMatchObject({ v: 1, reason: 'privacy.ledgerDays = 365', cut: { toSeq: 14 }, key: { id: key.id, publicKey: key.publicKey } });
    expect(body.sig).toMatch(/^[\w-]{86}$/);

    let steps = 0;
    for (let done = false; !done; steps++) {
      const r = room.deleteBatch(4);
      done = r.done;
      expect(store.verifyChain(), `after step ${steps + 1}`).toMatchObject({ ok: true, cutBy: head.seq });
    }
    expect(steps).toBeGreaterThan(3);
    expect(db.prepare('SELECT min(seq) AS s, count(*) AS n FROM chain').get()).toEqual({ s: 15, n: head.seq - 14 });
    expect(db.prepare('SELECT min(seq) AS s, count(*) AS n FROM ledger').get()).toEqual({ s: 13, n: 12 });
    expect(db.prepare('SELECT count(*) AS n FROM zone_corrections').get()).toEqual({ n: 0 });
    expect(room.cutPending()).toBe(false);
    const report = store.verifyChain();
    expect(report).toMatchObject({ ok: true, cutBy: head.seq, records: { ledger: 12 } });
    // The head only moved forward: what the office keeps never goes back.
    expect(store.chainHead()!.seq).toBe(head.seq);
  });

  it('refuses any delete the latest checkpoint did not cut, from any connection', () => {
    const { room, db } = ledgerOfDays(3, 3);
    expect(() => db.prepare('DELETE FROM ledger WHERE seq = 1').run()).toThrow(/append-only/);
    room.writeCheckpoint(room.planCut(T0 + DAY_MS)!, 'test', T0 + 500 * DAY_MS);
    expect(() => db.prepare('DELETE FROM ledger WHERE seq = 9').run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM chain WHERE seq = 9').run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM zone_corrections WHERE id = 1').run()).toThrow(/append-only/);
    expect(db.prepare('DELETE FROM ledger WHERE seq = 1').run().changes).toBe(1);
  });

  it('names a cut that deleted more than its checkpoint states, and a forged signature', () => {
    const dir = freshDir();
    const { store, room, db } = ledgerOfDays(3, 3, dir);
    const head = room.writeCheckpoint(room.planCut(T0 + DAY_MS)!, 'test', T0 + 500 * DAY_MS, loadOrCreateGatewayKey(dir));
    drain(() => room.deleteBatch(2), 4);
    expect(store.verifyChain().ok).toBe(true);
    db.exec('DROP TRIGGER chain_no_delete');
    db.exec(`DELETE FROM chain WHERE seq = ${(db.prepare('SELECT min(seq) AS s FROM chain').get() as { s: number }).s}`);
    expect(store.verifyChain().problem).toMatchObject({ kind: 'deleted', table: 'chain' });

    // A checkpoint body whose signature is not its key's: re-linking everything after it is
    // what a forger would do; the signature still gives it away.
    const { store: s2, room: r2, db: db2 } = ledgerOfDays(2, 2);
    const forged = { v: 1, reason: 'x', cut: r2.planCut(T0 + DAY_MS), key: { id: 'k', publicKey: loadOrCreateGatewayKey(freshDir()).publicKey }, sig: 'A'.repeat(86) };
    s2.recordInChain({ kind: 'checkpoint', at: T0 + 3 * DAY_MS, body: forged });
    expect(s2.verifyChain().problem).toMatchObject({ kind: 'edited', table: 'chain', detail: expect.stringContaining('signature') });
    expect(head.seq).toBeGreaterThan(0);
    db2.close();
  });

  it('cuts the rows older than the chain too when a cut takes an upgraded ledger\'s genesis', () => {
    const dir = freshDir();
    const old = openStore(dir, { migrations: MIGRATIONS.slice(0, 9), now: () => T0 });
    for (let i = 0; i < 5; i++) old.appendDecision(entry({ at: T0 + i }), () => null);
    old.close();
    const { store, room, db } = ledgerOfDays(2, 3, dir);
    const plan = room.planCut(T0 + DAY_MS)!;
    expect(plan).toMatchObject({ fromSeq: 1, toSeq: 4, ledger: 8 });
    room.writeCheckpoint(plan, 'test', T0 + 500 * DAY_MS);
    drain(() => room.deleteBatch(2), 4);
    expect(db.prepare('SELECT min(seq) AS s FROM ledger').get()).toEqual({ s: 9 });
    expect(store.verifyChain()).toMatchObject({ ok: true, records: { ledger: 3 } });
  });
});

describe('purging delivered outbox rows', () => {
  it('deletes rows delivered before the cutoff in batches, never an undelivered one, and keeps recent ones', () => {
    let clock = T0;
    const store = track(openStore(freshDir(), { now: () => clock }));
    const room = store.retention!;
    const ids: number[] = [];
    for (let i = 0; i < 20; i++) ids.push(store.outboxAppend({ topic: 't/x', payload: `{"i":${i}}`, qos: 1 }));
    store.markDeliveredMany(ids.slice(0, 15).filter((id) => id !== ids[3]));
    clock = T0 + 8 * DAY_MS;
    const recent = store.outboxAppend({ topic: 't/x', payload: '{"recent":1}', qos: 1 });
    store.markDelivered(recent);
    let cursor = 0;
    let total = 0;
    for (let done = false; !done; ) {
      const r = room.outboxPurgeBatch(clock - 7 * DAY_MS, 4, cursor);
      expect(r.n).toBeLessThanOrEqual(4);
      total += r.n;
      cursor = r.next;
      done = r.done;
    }
    expect(total).toBe(14);
    const left = new Database(store.path).prepare('SELECT id FROM outbox ORDER BY id').all() as { id: number }[];
    expect(left.map((r) => r.id)).toEqual([ids[3], ...ids.slice(15), recent]);
    expect(store.outboxDepth()).toBe(6);
  });
});

describe('time-boxed steps', () => {
  it('stops a step after the row that took it past its budget, and the next step goes on from there', () => {
    const { room, db, store } = ledgerOfDays(3, 4);
    // A budget already spent: each step takes exactly one row, however large the batch.
    const erased = drain(() => room.eraseBatch(T0 + DAY_MS, 50, -1), 1);
    expect(erased).toEqual({ n: 4, steps: 5 });
    room.writeCheckpoint(room.planCut(T0 + DAY_MS)!, 'test', T0 + 500 * DAY_MS);
    const first = (db.prepare('SELECT min(seq) AS s FROM chain').get() as { s: number }).s;
    expect(room.deleteBatch(10, -1).done).toBe(false);
    expect((db.prepare('SELECT min(seq) AS s FROM chain').get() as { s: number }).s).toBe(first + 1);
    drain(() => room.deleteBatch(10, -1), 2);
    // Steps commit at NORMAL; the connection (the decisions) stays at FULL.
    expect(store.settings().synchronous).toBe(2);
    expect(store.verifyChain()).toMatchObject({ ok: true });
    expect(db.prepare('SELECT count(*) AS n FROM ledger WHERE at < ?').get(T0 + DAY_MS)).toEqual({ n: 0 });
  });
});

describe('reading ahead the next step\'s rows (readAheadPlans)', () => {
  it('walks each index of the ledger to the exact entries of the next rows, in seeks, never a scan, and follows the erase cursor', () => {
    const { room, db } = ledgerOfDays(3, 6);
    const plans = readAheadPlans(db);
    const indexes = (db.prepare("SELECT name FROM pragma_index_list('ledger')").all() as { name: string }[]).map((r) => r.name);
    expect(indexes.length).toBeGreaterThan(5);
    // A delete writes every index; an erase the ones of the columns it empties (the plate).
    for (const ix of indexes) expect(plans.delete.some((q) => q.includes(`INDEXED BY "${ix}"`)), ix).toBe(true);
    expect(plans.erase.filter((q) => q.includes('INDEXED BY')).map((q) => /INDEXED BY "(\w+)"/.exec(q)?.[1])).toEqual(['ledger_plate_at']);
    for (const q of [...plans.erase, ...plans.delete]) {
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${q}`).all(5) as { detail: string }[]).map((r) => r.detail);
      // The row set itself is the only walk (the first rows by seq); every lookup is a SEARCH.
      expect(plan.filter((d) => /^SCAN (l|x)\b/.test(d)), q).toEqual([]);
    }
    const run = (q: string, n: number): number => db.prepare(q).pluck().get(n) as number;
    const deleteCounts = plans.delete.map((q) => run(q, 7));
    // The first 7 ledger rows, found through every index whose columns they all hold (one plate: the day's first row).
    const setIn = (cols: string): number => (db.prepare(`SELECT count(*) AS n FROM (SELECT * FROM ledger ORDER BY seq LIMIT 7) WHERE ${cols}`).get() as { n: number }).n;
    expect(deleteCounts[0]).toBe(7);
    for (const [i, q] of plans.delete.entries()) {
      const ix = /INDEXED BY "(\w+)"/.exec(q)?.[1];
      if (ix === undefined) continue;
      const cols = (db.prepare('SELECT name FROM pragma_index_info(?)').all(ix) as { name: string }[]).map((c) => `${c.name} IS NOT NULL`).join(' AND ');
      expect(deleteCounts[i], ix).toBe(setIn(cols));
    }
    expect(setIn('plate IS NOT NULL')).toBe(2);
    // The erase plan starts after the cursor: 18 rows, 5 erased, so 13 are left to read.
    expect(run(plans.erase[0]!, 100)).toBe(18);
    room.eraseBatch(T0 + 10 * DAY_MS, 5);
    expect(run(plans.erase[0]!, 100)).toBe(13);
  });
});
