// Retention (docs/store.md "Retention"): the store's side of it, in small steps the job
// (gateway/retention.ts) calls one at a time, yielding between them so decisions
// interleave. Each step is one short transaction:
// - erase the personal fields (person and health groups, with their salts) of ledger rows
//   older than privacy.personalDataDays: the commitments stay, so the chain still verifies;
// - cut whole old days (privacy.ledgerDays): one transaction appends a signed checkpoint
//   row stating the cut, then batches delete the chain rows it covers, oldest first, with
//   the ledger rows and zone corrections they name (migration 11's triggers let exactly
//   these go), then the rows older than the chain (an upgraded ledger's) up to the cut;
// - delete outbox rows delivered before a time (never an undelivered one);
// - `privacy purge-health`: erase every health group and the roster's health facts.
// Steps commit with synchronous=NORMAL: a WAL commit without its own fsync (the next
// decision's fsync makes it durable; a step lost to a power cut is redone), so a step never
// holds a decision up by an fsync.
import { performance } from 'node:perf_hooks';
import type Database from 'better-sqlite3';
import { canonicalJson } from '../../shared/canonical.js';
import { DAY_MS, LOCAL_OFFSET_MS } from '../policy/time.js';
import { type ChainHead, type ChainRoom, type GenesisBody, PERSONAL_GROUPS, hex } from './chain.js';
import { StoreError } from './errors.js';
import type { GatewayKey } from './gateway-key.js';
import { withoutOwnFsync } from './sql.js';

const ERASED_THROUGH = 'retention.erasedThrough';
const ALL_PERSONAL = [...PERSONAL_GROUPS.person, 'person_salt', ...PERSONAL_GROUPS.health, 'health_salt'];
const HEALTH = [...PERSONAL_GROUPS.health, 'health_salt'];

/** What a retention checkpoint row states (its body's `cut`). */
export interface CutStatement {
  /** First and last chain seq cut. */
  fromSeq: number;
  toSeq: number;
  /** Hex hash of chain row toSeq: the row the kept chain links to. */
  lastHash: string;
  /** Ledger rows with seq ≤ this and zone corrections with id ≤ this go with the cut. */
  ledger: number;
  zoneCorrections: number;
  /** Chain rows cut. */
  rows: number;
  /** Local (China) dates of the first and last row cut. */
  days: { from: string; to: string };
}

export interface CheckpointBody {
  v: 1;
  reason: string;
  cut: CutStatement;
  /** The gateway key that signed it (gateway-key.ts), and the signature of the body without `sig`. */
  key?: { id: string; publicKey: string };
  sig?: string;
}

/** A step's result: rows changed, and whether there is nothing more to do for now. */
export interface Step {
  n: number;
  done: boolean;
}

export interface HealthPurge {
  ledgerRows: number;
  rosterRows: number;
  head: ChainHead;
}

/** The local (China) date of an epoch ms, YYYY-MM-DD. */
export function localDate(at: number): string {
  return new Date(at + LOCAL_OFFSET_MS).toISOString().slice(0, 10);
}

/** Start (epoch ms) of the local day `days` whole days before the one `now` falls in: rows before it are expired. */
export function expiryBefore(now: number, days: number): number {
  return (Math.floor((now + LOCAL_OFFSET_MS) / DAY_MS) - days) * DAY_MS - LOCAL_OFFSET_MS;
}

/** What the next retention step will touch, read ahead off the event loop (readAheadPlans). */
export type ReadAheadKind = 'erase' | 'delete';

/**
 * The reads that bring the pages of the next retention step into the OS's file cache, one
 * statement per B-tree it will write, each with one parameter: the step's batch. The
 * checkpoint worker runs them on its own connection (WalCheckpointer.readAhead) while the
 * job pauses, so the step itself finds its pages in memory. Ledger rows a year old are on
 * disk, not in memory: without this a step read them inside the event loop (measured on
 * the dev VM, whose host pages out cold file pages, 1 M rows: 181 of the 268 cut steps over
 * 1 ms were asleep in the deletes' reads; with it, 27 of 101; bench/ledger-retention.ts,
 * docs/store.md "Read-ahead"). A delete writes every index of the ledger
 * at a random place (id, credential, pseudonym), so each index is walked to the exact
 * entry of each row: `INDEXED BY` with its columns and the rowid. Built from the schema
 * (PRAGMA index_list) so an index a later migration adds is read ahead too; an index that
 * cannot be walked so (an expression index) is left out, its pages read in the step.
 * CROSS JOIN keeps the order row → index: left to choose, SQLite scanned the whole
 * (partial) plate index instead.
 */
export function readAheadPlans(db: Database.Database): Record<ReadAheadKind, string[]> {
  const indexes = db
    .prepare<[], { name: string }>("SELECT name FROM pragma_index_list('ledger')")
    .all()
    .map(({ name }) => ({ name, columns: db.prepare<[string], { name: string | null }>('SELECT name FROM pragma_index_info(?) ORDER BY seqno').all(name).map((c) => c.name) }))
    .filter((ix): ix is { name: string; columns: string[] } => ix.columns.length > 0 && ix.columns.every((c) => c !== null));
  const quote = (id: string): string => `"${id.replaceAll('"', '""')}"`;
  const walks = (rows: string, only: (columns: string[]) => boolean): string[] => [
    `WITH r AS (${rows}) SELECT count(l.at) FROM r CROSS JOIN ledger l ON l.seq = r.seq`,
    ...indexes
      .filter((ix) => only(ix.columns))
      .map((ix) => `WITH r AS (${rows}) SELECT count(*) FROM r CROSS JOIN ledger l ON l.seq = r.seq CROSS JOIN ledger x INDEXED BY ${quote(ix.name)} ON ${ix.columns.map((c) => `x.${quote(c)} = l.${quote(c)}`).join(' AND ')} AND x.seq = l.seq`),
  ];
  // The rows the next step takes: after the erase cursor; the oldest (a cut goes oldest first).
  const toErase = `SELECT seq FROM ledger WHERE seq > coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = '${ERASED_THROUGH}'), 0) ORDER BY seq LIMIT ?`;
  const toDelete = 'SELECT seq FROM ledger ORDER BY seq LIMIT ?';
  const erased = new Set(ALL_PERSONAL);
  return {
    // An erase rewrites the row and the indexes of the columns it empties (plate).
    erase: walks(toErase, (columns) => columns.some((c) => erased.has(c))),
    delete: [
      ...walks(toDelete, () => true),
      'SELECT count(at) FROM (SELECT at FROM chain ORDER BY seq LIMIT ?)',
      'SELECT count(zone) FROM (SELECT zone FROM zone_corrections ORDER BY id LIMIT ?)',
    ],
  };
}

type Cut = Pick<CutStatement, 'fromSeq' | 'toSeq' | 'ledger' | 'zoneCorrections'> & { checkpoint: number };

export class RetentionRoom {
  readonly #db: Database.Database;
  readonly #chain: ChainRoom;
  readonly #q: {
    getMeta: Database.Statement<[string], { value: string }>;
    setMeta: Database.Statement<[string, string]>;
    ledgerAt: Database.Statement<[number], { at: number }>;
    ledgerBounds: Database.Statement<[], { lo: number | null; hi: number | null }>;
    erase: Database.Statement<[number]>;
    chainFirst: Database.Statement<[], { seq: number; at: number; body: string | null; kind: string }>;
    chainAt: Database.Statement<[number], { at: number; hash: Buffer }>;
    lastLedgerRef: Database.Statement<[number], { ref: number }>;
    lastZoneRef: Database.Statement<[number], { ref: number }>;
    latestCheckpoint: Database.Statement<[], { seq: number; body: string | null }>;
    chainRef: Database.Statement<[number], { kind: string; ref: number | null }>;
    deleteLedger: Database.Statement<[number]>;
    deleteZone: Database.Statement<[number]>;
    deleteChain: Database.Statement<[number]>;
    deleteLedgerUpTo: Database.Statement<[number, number]>;
    deleteZonesUpTo: Database.Statement<[number, number]>;
    outboxAt: Database.Statement<[number], { created_at: number; delivered_at: number | null }>;
    outboxBounds: Database.Statement<[], { lo: number | null; hi: number | null }>;
    deleteOutbox: Database.Statement<[number]>;
  };

  constructor(db: Database.Database, chain: ChainRoom) {
    this.#db = db;
    this.#chain = chain;
    this.#tx = db.transaction((fn: () => unknown) => fn());
    const anyPersonal = `coalesce(${ALL_PERSONAL.join(', ')}) IS NOT NULL`;
    this.#q = {
      getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
      setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
      // Every step reads and writes by key equality (seq = ?), never a range: SQLite's
      // statistics of a table can be stale (analysed when it held one row), and then it
      // plans a range over the key as a scan of the whole table.
      ledgerAt: db.prepare('SELECT at FROM ledger WHERE seq = ?'),
      // Two subqueries: SQLite answers a lone min() or max() from the key's ends, but both in one aggregate by a full scan.
      ledgerBounds: db.prepare('SELECT (SELECT min(seq) FROM ledger) AS lo, (SELECT max(seq) FROM ledger) AS hi'),
      // Exactly the change the erase-only triggers allow: a whole group with its salt to NULL.
      erase: db.prepare(`UPDATE ledger SET ${ALL_PERSONAL.map((c) => `${c} = NULL`).join(', ')} WHERE seq = ? AND ${anyPersonal}`),
      chainFirst: db.prepare('SELECT seq, at, body, kind FROM chain ORDER BY seq LIMIT 1'),
      chainAt: db.prepare('SELECT at, hash FROM chain WHERE seq = ?'),
      lastLedgerRef: db.prepare("SELECT ref FROM chain WHERE kind = 'ledger' AND seq <= ? ORDER BY seq DESC LIMIT 1"),
      lastZoneRef: db.prepare("SELECT ref FROM chain INDEXED BY chain_zone_corrections WHERE kind = 'zone-correction' AND seq <= ? ORDER BY seq DESC LIMIT 1"),
      latestCheckpoint: db.prepare("SELECT seq, body FROM chain INDEXED BY chain_checkpoints WHERE kind = 'checkpoint' ORDER BY seq DESC LIMIT 1"),
      chainRef: db.prepare('SELECT kind, ref FROM chain WHERE seq = ?'),
      deleteLedger: db.prepare('DELETE FROM ledger WHERE seq = ?'),
      deleteZone: db.prepare('DELETE FROM zone_corrections WHERE id = ?'),
      deleteChain: db.prepare('DELETE FROM chain WHERE seq = ?'),
      deleteLedgerUpTo: db.prepare('DELETE FROM ledger WHERE seq IN (SELECT seq FROM ledger WHERE seq <= ? ORDER BY seq LIMIT ?)'),
      deleteZonesUpTo: db.prepare('DELETE FROM zone_corrections WHERE id IN (SELECT id FROM zone_corrections WHERE id <= ? ORDER BY id LIMIT ?)'),
      outboxAt: db.prepare('SELECT created_at, delivered_at FROM outbox WHERE id = ?'),
      outboxBounds: db.prepare('SELECT (SELECT min(id) FROM outbox) AS lo, (SELECT max(id) FROM outbox) AS hi'),
      deleteOutbox: db.prepare('DELETE FROM outbox WHERE id = ?'),
    };
  }

  /** Runs one step as a WAL commit without its own fsync (see the top of this file). */
  #step<T>(fn: () => T): T {
    return withoutOwnFsync(this.#db, () => this.#tx(fn) as T);
  }

  // Built once (db.transaction() builds four wrappers per call).
  readonly #tx: (fn: () => unknown) => unknown;

  /**
   * Erases the personal fields (both groups and their salts) of the next ledger rows with
   * `at < before`, looking at `limit` rows at most. A cursor in meta remembers where it
   * got to. Rows are taken in seq order and the walk stops at the first row not yet
   * expired (a clock set back leaves a few rows for a later run rather than scanning on).
   * `budgetMs` time-boxes the step: it stops after the row that took it past (the rest is
   * the next step's), so a slow moment does not stretch it by the whole batch.
   */
  eraseBatch(before: number, limit: number, budgetMs = Infinity): Step {
    checkLimit('eraseBatch', limit);
    return this.#step(() => {
      const by = performance.now() + budgetMs;
      const bounds = this.#q.ledgerBounds.get();
      if (bounds?.lo == null || bounds.hi == null) return { n: 0, done: true };
      // Rows below the ledger's first seq were cut: start after them.
      const cursor = Math.max(Number(this.#q.getMeta.get(ERASED_THROUGH)?.value ?? 0), bounds.lo - 1);
      let last = cursor;
      let n = 0;
      let reachedLive = false;
      for (let seq = cursor + 1; seq <= Math.min(bounds.hi, cursor + limit); seq++) {
        const row = this.#q.ledgerAt.get(seq);
        if (row !== undefined && row.at >= before) {
          reachedLive = true;
          break;
        }
        if (row !== undefined) n += this.#q.erase.run(seq).changes;
        last = seq;
        if (performance.now() > by) break;
      }
      if (last === cursor) return { n: 0, done: true };
      this.#q.setMeta.run(ERASED_THROUGH, String(last));
      return { n, done: reachedLive || last >= bounds.hi };
    });
  }

  /** The latest checkpoint that states a cut, or null. */
  #latestCut(): Cut | null {
    const c = this.#q.latestCheckpoint.get();
    if (c === undefined) return null;
    const cut = (JSON.parse(c.body ?? '{}') as Partial<CheckpointBody>).cut;
    if (cut === undefined) return null;
    return { checkpoint: c.seq, fromSeq: cut.fromSeq, toSeq: cut.toSeq, ledger: cut.ledger, zoneCorrections: cut.zoneCorrections };
  }

  /** Whether the latest cut still has rows to delete (a restart in the middle of one resumes it). */
  cutPending(): boolean {
    const cut = this.#latestCut();
    if (cut === null) return false;
    const first = this.#q.chainFirst.get();
    if (first !== undefined && first.seq <= cut.toSeq) return true;
    const left = (sql: string, upTo: number): boolean => this.#db.prepare<[number], { k: number }>(sql).get(upTo) !== undefined;
    return left('SELECT seq AS k FROM ledger WHERE seq <= ? LIMIT 1', cut.ledger) || left('SELECT id AS k FROM zone_corrections WHERE id <= ? LIMIT 1', cut.zoneCorrections);
  }

  /**
   * The cut that expiry at `before` calls for: the chain rows from the chain's start up
   * to the last one older than `before`, found by bisection on their times in a few
   * indexed reads (the chain is in commit order, so its times rise but for a clock set
   * back, whose rows then go with their neighbours: a first row dated late does not hold
   * the cut up). Null when nothing has expired.
   */
  planCut(before: number): CutStatement | null {
    const first = this.#q.chainFirst.get();
    const head = this.#chain.head();
    if (first === undefined || head === null) return null;
    let lo = first.seq;
    let hi = head.seq;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      const at = this.#q.chainAt.get(mid)?.at;
      if (at !== undefined && at < before) lo = mid;
      else hi = mid - 1;
    }
    const last = this.#q.chainAt.get(lo);
    // Nothing expired — unless the first row alone is dated late (a genesis written under a wrong clock) and rows after it are due.
    if (last === undefined || last.at >= before) return null;
    let ledger = this.#q.lastLedgerRef.get(lo)?.ref ?? 0;
    let zoneCorrections = this.#q.lastZoneRef.get(lo)?.ref ?? 0;
    // A cut that takes the genesis takes the rows older than the chain too (an upgraded ledger's).
    if (first.kind === 'genesis') {
      const pre = (JSON.parse(first.body ?? '{}') as Partial<GenesisBody>).before;
      ledger = Math.max(ledger, pre?.ledger ?? 0);
      zoneCorrections = Math.max(zoneCorrections, pre?.zoneCorrections ?? 0);
    }
    // Never less than a previous cut already stated (the triggers read the latest one).
    const prev = this.#latestCut();
    if (prev !== null) {
      ledger = Math.max(ledger, prev.ledger);
      zoneCorrections = Math.max(zoneCorrections, prev.zoneCorrections);
    }
    return {
      fromSeq: first.seq,
      toSeq: lo,
      lastHash: hex(last.hash),
      ledger,
      zoneCorrections,
      rows: lo - first.seq + 1,
      days: { from: localDate(first.at), to: localDate(last.at) },
    };
  }

  /** Appends the checkpoint row stating `cut` (signed with `key` when given); the rows go in deleteBatch steps after it. */
  writeCheckpoint(cut: CutStatement, reason: string, at: number, key?: GatewayKey): ChainHead {
    const body: CheckpointBody = { v: 1, reason, cut, ...(key ? { key: { id: key.id, publicKey: key.publicKey } } : {}) };
    const signed = key ? { ...body, sig: key.sign(canonicalJson(body)) } : body;
    return this.#step(() => this.#chain.record({ kind: 'checkpoint', at, body: signed as unknown as Record<string, unknown> }));
  }

  /**
   * Deletes the next rows of the latest cut: `limit` chain rows (oldest first) with the
   * ledger rows and zone corrections they name, or, once the chain part is done, up to
   * `limit` of the rows older than the chain the cut covers. `done` when nothing is left.
   * `budgetMs` time-boxes the chain part as in eraseBatch.
   */
  deleteBatch(limit: number, budgetMs = Infinity): Step {
    checkLimit('deleteBatch', limit);
    return this.#step(() => {
      const by = performance.now() + budgetMs;
      const cut = this.#latestCut();
      if (cut === null) return { n: 0, done: true };
      const first = this.#q.chainFirst.get();
      if (first !== undefined && first.seq <= cut.toSeq) {
        const to = Math.min(first.seq + limit - 1, cut.toSeq);
        let n = 0;
        for (let seq = first.seq; seq <= to; seq++) {
          const r = this.#q.chainRef.get(seq);
          if (r?.ref != null && r.kind === 'ledger') n += this.#q.deleteLedger.run(r.ref).changes;
          else if (r?.ref != null && r.kind === 'zone-correction') n += this.#q.deleteZone.run(r.ref).changes;
          n += this.#q.deleteChain.run(seq).changes;
          if (performance.now() > by) break;
        }
        return { n, done: false };
      }
      const ledger = this.#q.deleteLedgerUpTo.run(cut.ledger, limit).changes;
      const zones = ledger < limit ? this.#q.deleteZonesUpTo.run(cut.zoneCorrections, limit - ledger).changes : 0;
      return { n: ledger + zones, done: ledger + zones < limit };
    });
  }

  /**
   * Deletes outbox rows delivered before `deliveredBefore`, looking at `limit` rows at most
   * after `afterId` (the caller's cursor for this run; returned as `next`). Undelivered
   * rows are never deleted. Stops at the first row created after `deliveredBefore`.
   */
  outboxPurgeBatch(deliveredBefore: number, limit: number, afterId = 0): Step & { next: number } {
    checkLimit('outboxPurgeBatch', limit);
    return this.#step(() => {
      const bounds = this.#q.outboxBounds.get();
      if (bounds?.lo == null || bounds.hi == null) return { n: 0, done: true, next: afterId };
      const from = Math.max(afterId, bounds.lo - 1);
      let last = from;
      let n = 0;
      let reachedLive = false;
      for (let id = from + 1; id <= Math.min(bounds.hi, from + limit); id++) {
        const row = this.#q.outboxAt.get(id);
        if (row !== undefined && row.created_at >= deliveredBefore) {
          reachedLive = true;
          break;
        }
        if (row !== undefined && row.delivered_at !== null && row.delivered_at < deliveredBefore) n += this.#q.deleteOutbox.run(id).changes;
        last = id;
      }
      return { n, done: reachedLive || last >= bounds.hi, next: last };
    });
  }

  /**
   * Erases the health group (temperature, facts and their salt) of the ledger rows with
   * afterSeq < seq ≤ min(afterSeq + limit, upToSeq) that still hold one; `privacy
   * purge-health` calls it with `next` until done.
   */
  eraseHealthBatch(afterSeq: number, upToSeq: number, limit: number): Step & { next: number } {
    checkLimit('eraseHealthBatch', limit);
    const next = Math.min(afterSeq + limit, upToSeq);
    if (next <= afterSeq) return { n: 0, done: true, next: afterSeq };
    const erase = this.#db.prepare<[number]>(`UPDATE ledger SET ${HEALTH.map((c) => `${c} = NULL`).join(', ')} WHERE seq = ? AND coalesce(${HEALTH.join(', ')}) IS NOT NULL`);
    return this.#step(() => {
      let n = 0;
      for (let seq = afterSeq + 1; seq <= next; seq++) n += erase.run(seq).changes;
      return { n, done: next >= upToSeq, next };
    });
  }

  /** Empties the roster's health facts and records the purge in the chain, in one transaction. */
  finishHealthPurge(ledgerRows: number, at: number): HealthPurge {
    return this.#db.transaction(() => {
      const rosterRows = this.#db.prepare("UPDATE roster SET health = '{}' WHERE health <> '{}'").run().changes;
      const head = this.#chain.record({
        kind: 'erasure',
        at,
        body: { v: 1, reason: 'privacy purge-health', erased: { group: 'health', fields: [...PERSONAL_GROUPS.health], ledgerRows, rosterRows } },
      });
      return { ledgerRows, rosterRows, head };
    })();
  }

  /** The chain's first seq (1 until a cut), and the checkpoint the chain starts after, if any: what …/stats says of it. */
  chainStart(): { start: number; cut: { seq: number; fromSeq: number; toSeq: number } | null } | null {
    const first = this.#q.chainFirst.get();
    if (first === undefined) return null;
    const cut = this.#latestCut();
    const covers = cut !== null && cut.fromSeq <= first.seq && first.seq <= cut.toSeq + 1;
    return { start: first.seq, cut: covers ? { seq: cut.checkpoint, fromSeq: cut.fromSeq, toSeq: cut.toSeq } : null };
  }

  /** The hash (hex) of chain row `seq`, null when it is gone. */
  chainHashAt(seq: number): string | null {
    const r = this.#q.chainAt.get(seq);
    return r === undefined ? null : hex(r.hash);
  }
}

function checkLimit(what: string, limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 100_000) {
    throw new StoreError('STORE_INVALID_QUERY', `${what} limit ${JSON.stringify(limit)} refused: expected an integer from 1 to 100000`, { limit });
  }
}
