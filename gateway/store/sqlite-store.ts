// The gateway's SQLite store: append-only ledger, durable outbox, and the local facts
// (roster, watchlist, approvals, risk areas) the policy decides from.
// Synchronous on purpose (better-sqlite3): a decision is committed before anything else
// happens to it, and a commit is one fsync on the lane's path, with no event-loop hop.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Approval, Outcome, RiskArea, WatchlistEntry } from '../policy/types.js';
import { StoreError } from './errors.js';
import { migrate, type Migration, MIGRATIONS } from './migrations.js';
import type { LedgerEntry, LedgerQuery, NewLedgerEntry, OutboxMessage, OutboxRow, RosterEntry, Store } from './types.js';
import {
  OUTCOME_VALUES,
  checkApprovals,
  checkLedgerEntry,
  checkOutboxMessage,
  checkRiskAreas,
  checkRosterEntries,
  checkWatchlistEntries,
} from './validate.js';

export const DATABASE_FILE = 'gateway.sqlite';
export const DEFAULT_QUERY_LIMIT = 100;
export const MAX_QUERY_LIMIT = 1000;
export const MAX_OUTBOX_BATCH = 10_000;
/** How long a writer waits for another connection's lock (the CLI exporting, say). */
export const BUSY_TIMEOUT_MS = 5000;

export interface OpenStoreOptions {
  /** Clock for outbox created_at/delivered_at and migration history; default Date.now. */
  now?: () => number;
  /** Tests only: a different migration list (e.g. to simulate an upgrade). */
  migrations?: readonly Migration[];
}

/** The Store plus maintenance operations only the gateway's housekeeping and CLI need. */
export interface SqliteStore extends Store {
  /** Delete delivered outbox rows delivered before this epoch ms; returns how many. */
  outboxPrune(deliveredBefore: number): number;
  /** Schema version of the open database. */
  readonly schemaVersion: number;
  /** The connection's pragmas as in effect (for tests, /healthz and support). */
  settings(): StoreSettings;
}

export interface StoreSettings {
  journalMode: string;
  /** 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA. */
  synchronous: number;
  foreignKeys: boolean;
  busyTimeoutMs: number;
}

interface LedgerRow {
  seq: number;
  id: string;
  at: number;
  lane: string;
  kind: NewLedgerEntry['kind'];
  outcome: Outcome;
  reasons: string;
  alerts: string;
  credential: NewLedgerEntry['credential'];
  subject_ref: string | null;
  subject_name: string | null;
  category: NewLedgerEntry['category'];
  temperature: number | null;
}

interface OutboxDbRow {
  id: number;
  topic: string;
  payload: string;
  qos: 0 | 1;
  created_at: number;
}

interface RosterRow {
  staff_id: string;
  name: string;
  category: RosterEntry['category'];
  health: string;
  active: 0 | 1;
  updated_at: number;
}

interface WatchlistRow {
  subject_id: string;
  kind: WatchlistEntry['kind'];
  valid_from: string;
  valid_until: string | null;
  note: string | null;
}

interface ApprovalRow {
  subject_id: string;
  approver: string;
  host_department: string;
  valid_from: string;
  valid_until: string;
}

interface RiskAreaRow {
  region: string;
  level: RiskArea['level'];
  since: string;
  until: string | null;
}

const LEDGER_COLUMNS =
  'seq, id, at, lane, kind, outcome, reasons, alerts, credential, subject_ref, subject_name, category, temperature';

/** Open (creating if needed) the store in dataDir/gateway.sqlite and migrate it. */
export function openStore(dataDir: string, opts: OpenStoreOptions = {}): SqliteStore {
  const now = opts.now ?? Date.now;
  const dir = resolve(dataDir);
  const file = join(dir, DATABASE_FILE);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new StoreError('STORE_OPEN_FAILED', `cannot create data directory ${dir}: ${errText(err)}`, { dir }, err);
  }

  let db: Database.Database | undefined;
  try {
    db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
    configure(db, file);
    const { to } = migrate(db, file, now, opts.migrations ?? MIGRATIONS);
    return new SqliteStoreImpl(db, file, to, now);
  } catch (err) {
    db?.close();
    if (err instanceof StoreError) throw err;
    throw new StoreError(
      'STORE_OPEN_FAILED',
      `cannot open ${file}: ${errText(err)} (expected a gateway SQLite database or no file)`,
      { file },
      err,
    );
  }
}

function configure(db: Database.Database, file: string): void {
  // WAL: readers (HTTP queries, CLI export) never block the lane's writes, and a commit
  // appends to one file instead of rewriting pages: the cheapest durable commit.
  const mode = String(db.pragma('journal_mode = WAL', { simple: true }));
  if (mode.toLowerCase() !== 'wal') {
    throw new StoreError('STORE_OPEN_FAILED', `${file}: journal_mode is ${mode}, expected wal (is the file system local?)`, {
      file,
      mode,
    });
  }
  // FULL: fsync the WAL at every commit, so a committed decision survives a power cut.
  // NORMAL in WAL mode would only risk the last commits, but "nothing lost" means none.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
}

class SqliteStoreImpl implements SqliteStore {
  readonly path: string;
  readonly schemaVersion: number;
  readonly #db: Database.Database;
  readonly #now: () => number;
  // Prepared once: appendDecision is on every passage's path.
  readonly #insertLedger: Database.Statement<[Record<string, unknown>]>;
  readonly #ledgerBySeq: Database.Statement<[number], LedgerRow>;
  readonly #insertOutbox: Database.Statement<[string, string, number, number]>;
  readonly #outboxPending: Database.Statement<[number, number], OutboxDbRow>;
  readonly #markDelivered: Database.Statement<[number, number]>;
  readonly #outboxDepth: Database.Statement<[], { n: number }>;
  readonly #outboxPrune: Database.Statement<[number]>;
  readonly #rosterGet: Database.Statement<[string], RosterRow>;
  readonly #rosterUpsert: Database.Statement<[Record<string, unknown>]>;
  readonly #watchlistFor: Database.Statement<[string], WatchlistRow>;
  readonly #approvalsFor: Database.Statement<[string], ApprovalRow>;
  readonly #riskAreas: Database.Statement<[], RiskAreaRow>;
  readonly #getMeta: Database.Statement<[string], { value: string }>;
  readonly #setMeta: Database.Statement<[string, string]>;
  readonly #queries = new Map<string, Database.Statement<[Record<string, unknown>], LedgerRow>>();
  readonly #append: (entry: NewLedgerEntry, toOutbox: (row: LedgerEntry) => OutboxMessage | null) => LedgerEntry;
  readonly #rosterUpsertAll: (entries: RosterEntry[]) => number;
  readonly #watchlistReplaceAll: (entries: WatchlistEntry[]) => void;
  readonly #approvalsReplaceAll: (entries: Approval[]) => void;
  readonly #riskAreasReplaceAll: (entries: RiskArea[]) => void;

  constructor(db: Database.Database, file: string, schemaVersion: number, now: () => number) {
    this.#db = db;
    this.path = file;
    this.schemaVersion = schemaVersion;
    this.#now = now;

    this.#insertLedger = db.prepare(
      `INSERT INTO ledger (id, at, lane, kind, outcome, reasons, alerts, credential, subject_ref, subject_name, category, temperature)
       VALUES (@id, @at, @lane, @kind, @outcome, @reasons, @alerts, @credential, @subjectRef, @subjectName, @category, @temperature)`,
    );
    this.#ledgerBySeq = db.prepare(`SELECT ${LEDGER_COLUMNS} FROM ledger WHERE seq = ?`);
    this.#insertOutbox = db.prepare('INSERT INTO outbox (topic, payload, qos, created_at) VALUES (?, ?, ?, ?)');
    this.#outboxPending = db.prepare(
      'SELECT id, topic, payload, qos, created_at FROM outbox WHERE delivered_at IS NULL AND id > ? ORDER BY id LIMIT ?',
    );
    this.#markDelivered = db.prepare('UPDATE outbox SET delivered_at = ? WHERE id = ? AND delivered_at IS NULL');
    this.#outboxDepth = db.prepare('SELECT count(*) AS n FROM outbox WHERE delivered_at IS NULL');
    this.#outboxPrune = db.prepare('DELETE FROM outbox WHERE delivered_at IS NOT NULL AND delivered_at < ?');
    this.#rosterGet = db.prepare(
      'SELECT staff_id, name, category, health, active, updated_at FROM roster WHERE staff_id = ?',
    );
    this.#rosterUpsert = db.prepare(
      `INSERT INTO roster (staff_id, name, category, health, active, updated_at)
       VALUES (@staffId, @name, @category, @health, @active, @updatedAt)
       ON CONFLICT (staff_id) DO UPDATE SET name = excluded.name, category = excluded.category,
         health = excluded.health, active = excluded.active, updated_at = excluded.updated_at`,
    );
    this.#watchlistFor = db.prepare(
      'SELECT subject_id, kind, valid_from, valid_until, note FROM watchlist WHERE subject_id = ? ORDER BY id',
    );
    this.#approvalsFor = db.prepare(
      'SELECT subject_id, approver, host_department, valid_from, valid_until FROM approvals WHERE subject_id = ? ORDER BY id',
    );
    this.#riskAreas = db.prepare('SELECT region, level, since, until FROM risk_areas ORDER BY id');
    this.#getMeta = db.prepare('SELECT value FROM meta WHERE key = ?');
    this.#setMeta = db.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    );

    this.#append = db.transaction((entry: NewLedgerEntry, toOutbox: (row: LedgerEntry) => OutboxMessage | null) => {
      let seq: number;
      try {
        seq = Number(
          this.#insertLedger.run({
            ...entry,
            reasons: JSON.stringify(entry.reasons),
            alerts: JSON.stringify(entry.alerts),
          }).lastInsertRowid,
        );
      } catch (err) {
        if (isUniqueViolation(err, 'ledger.id')) {
          throw new StoreError(
            'STORE_DUPLICATE_EVENT',
            `event ${JSON.stringify(entry.id)} is already in the ledger of ${file}; nothing written ` +
              '(expected a fresh event id per passage; a retry of a committed event needs no second write)',
            { file, id: entry.id },
            err,
          );
        }
        throw err;
      }
      // Read back what was stored so the outbox message describes the row as committed.
      const stored = this.#ledgerBySeq.get(seq);
      if (stored === undefined) throw new Error(`ledger row ${seq} vanished inside its own transaction`);
      const row = ledgerFromRow(stored);
      const msg = toOutbox(row);
      if (msg !== null) {
        checkOutboxMessage(msg, entry.id);
        this.#insertOutbox.run(msg.topic, msg.payload, msg.qos, this.#now());
      }
      return row;
    });

    this.#rosterUpsertAll = db.transaction((entries: RosterEntry[]) => {
      for (const e of entries) {
        this.#rosterUpsert.run({
          staffId: e.staffId,
          name: e.name,
          category: e.category,
          health: JSON.stringify(e.health),
          active: e.active ? 1 : 0,
          updatedAt: e.updatedAt,
        });
      }
      return entries.length;
    });

    const clearWatch = db.prepare('DELETE FROM watchlist');
    const insertWatch = db.prepare(
      'INSERT INTO watchlist (subject_id, kind, valid_from, valid_until, note) VALUES (?, ?, ?, ?, ?)',
    );
    this.#watchlistReplaceAll = db.transaction((entries: WatchlistEntry[]) => {
      clearWatch.run();
      for (const e of entries) insertWatch.run(e.subjectId, e.kind, e.from, e.until, e.note ?? null);
    });
    const clearApproval = db.prepare('DELETE FROM approvals');
    const insertApproval = db.prepare(
      'INSERT INTO approvals (subject_id, approver, host_department, valid_from, valid_until) VALUES (?, ?, ?, ?, ?)',
    );
    this.#approvalsReplaceAll = db.transaction((entries: Approval[]) => {
      clearApproval.run();
      for (const e of entries) insertApproval.run(e.subjectId, e.approver, e.hostDepartment, e.validFrom, e.validUntil);
    });
    const clearArea = db.prepare('DELETE FROM risk_areas');
    const insertArea = db.prepare('INSERT INTO risk_areas (region, level, since, until) VALUES (?, ?, ?, ?)');
    this.#riskAreasReplaceAll = db.transaction((entries: RiskArea[]) => {
      clearArea.run();
      for (const e of entries) insertArea.run(e.region, e.level, e.since, e.until);
    });
  }

  appendDecision(entry: NewLedgerEntry, toOutbox: (row: LedgerEntry) => OutboxMessage | null): LedgerEntry {
    checkLedgerEntry(entry);
    return this.#append(entry, toOutbox);
  }

  queryEvents(q: LedgerQuery): LedgerEntry[] {
    const params = checkQuery(q);
    const where: string[] = [];
    if (params.lane !== undefined) where.push('lane = @lane');
    if (params.outcome !== undefined) where.push('outcome = @outcome');
    if (params.subjectRef !== undefined) where.push('subject_ref = @subjectRef');
    if (params.from !== undefined) where.push('at >= @from');
    if (params.to !== undefined) where.push('at < @to');
    if (params.beforeSeq !== undefined) where.push('seq < @beforeSeq');
    const sql =
      `SELECT ${LEDGER_COLUMNS} FROM ledger` +
      (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
      ' ORDER BY seq DESC LIMIT @limit';
    // At most 2^6 shapes of this query exist, so caching by SQL text stays small.
    let stmt = this.#queries.get(sql);
    if (stmt === undefined) {
      stmt = this.#db.prepare(sql);
      this.#queries.set(sql, stmt);
    }
    return stmt.all(params).map(ledgerFromRow);
  }

  outboxPending(limit: number, afterId = 0): OutboxRow[] {
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_OUTBOX_BATCH) {
      throw invalidQuery('outboxPending limit', limit, `an integer from 1 to ${MAX_OUTBOX_BATCH}`);
    }
    if (!Number.isSafeInteger(afterId) || afterId < 0) {
      throw invalidQuery('outboxPending afterId', afterId, 'an outbox id (integer ≥ 0)');
    }
    return this.#outboxPending.all(afterId, limit).map((r) => ({
      id: r.id,
      topic: r.topic,
      payload: r.payload,
      qos: r.qos,
      createdAt: r.created_at,
    }));
  }

  markDelivered(id: number): void {
    // Idempotent: a drain that re-sends after a reconnect may confirm the same id twice.
    this.#markDelivered.run(this.#now(), id);
  }

  outboxDepth(): number {
    return this.#outboxDepth.get()?.n ?? 0;
  }

  outboxPrune(deliveredBefore: number): number {
    if (!Number.isFinite(deliveredBefore)) {
      throw invalidQuery('outboxPrune deliveredBefore', deliveredBefore, 'epoch milliseconds');
    }
    return this.#outboxPrune.run(deliveredBefore).changes;
  }

  rosterGet(staffId: string): RosterEntry | undefined {
    const r = this.#rosterGet.get(staffId);
    if (r === undefined) return undefined;
    return {
      staffId: r.staff_id,
      name: r.name,
      category: r.category,
      health: JSON.parse(r.health) as RosterEntry['health'],
      active: r.active === 1,
      updatedAt: r.updated_at,
    };
  }

  rosterUpsert(entries: RosterEntry[]): number {
    checkRosterEntries(entries);
    return this.#rosterUpsertAll(entries);
  }

  watchlistFor(subjectId: string): WatchlistEntry[] {
    return this.#watchlistFor.all(subjectId).map((r) => {
      const e: WatchlistEntry = { subjectId: r.subject_id, kind: r.kind, from: r.valid_from, until: r.valid_until };
      if (r.note !== null) e.note = r.note;
      return e;
    });
  }

  watchlistReplace(entries: WatchlistEntry[]): void {
    checkWatchlistEntries(entries);
    this.#watchlistReplaceAll(entries);
  }

  approvalsFor(subjectId: string): Approval[] {
    return this.#approvalsFor.all(subjectId).map((r) => ({
      subjectId: r.subject_id,
      approver: r.approver,
      hostDepartment: r.host_department,
      validFrom: r.valid_from,
      validUntil: r.valid_until,
    }));
  }

  approvalsReplace(entries: Approval[]): void {
    checkApprovals(entries);
    this.#approvalsReplaceAll(entries);
  }

  riskAreas(): RiskArea[] {
    return this.#riskAreas.all().map((r) => ({ region: r.region, level: r.level, since: r.since, until: r.until }));
  }

  riskAreasReplace(entries: RiskArea[]): void {
    checkRiskAreas(entries);
    this.#riskAreasReplaceAll(entries);
  }

  getMeta(key: string): string | undefined {
    return this.#getMeta.get(key)?.value;
  }

  setMeta(key: string, value: string): void {
    if (typeof key !== 'string' || key.length === 0 || typeof value !== 'string') {
      throw new StoreError('STORE_INVALID_ROW', `meta ${JSON.stringify(key)} refused: expected a non-empty string key and a string value`, {
        key,
      });
    }
    this.#setMeta.run(key, value);
  }

  settings(): StoreSettings {
    const p = (name: string): unknown => this.#db.pragma(name, { simple: true });
    return {
      journalMode: String(p('journal_mode')),
      synchronous: Number(p('synchronous')),
      foreignKeys: Number(p('foreign_keys')) === 1,
      busyTimeoutMs: Number(p('busy_timeout')),
    };
  }

  close(): void {
    if (!this.#db.open) return; // idempotent: shutdown paths may race
    this.#db.pragma('optimize'); // cheap; keeps query plans good for the next start
    this.#db.close();
  }
}

function ledgerFromRow(r: LedgerRow): LedgerEntry {
  return {
    seq: r.seq,
    id: r.id,
    at: r.at,
    lane: r.lane,
    kind: r.kind,
    outcome: r.outcome,
    reasons: JSON.parse(r.reasons) as LedgerEntry['reasons'],
    alerts: JSON.parse(r.alerts) as LedgerEntry['alerts'],
    credential: r.credential,
    subjectRef: r.subject_ref,
    subjectName: r.subject_name,
    category: r.category,
    temperature: r.temperature,
  };
}

// A type alias, not an interface, so it is assignable to better-sqlite3's named bindings.
type QueryParams = {
  lane?: string;
  outcome?: Outcome;
  subjectRef?: string;
  from?: number;
  to?: number;
  beforeSeq?: number;
  limit: number;
};

function checkQuery(q: LedgerQuery): QueryParams {
  if (typeof q !== 'object' || q === null) throw invalidQuery('query', q, 'an object');
  const p: QueryParams = { limit: q.limit ?? DEFAULT_QUERY_LIMIT };
  if (!Number.isSafeInteger(p.limit) || p.limit < 1 || p.limit > MAX_QUERY_LIMIT) {
    throw invalidQuery('limit', q.limit, `an integer from 1 to ${MAX_QUERY_LIMIT}`);
  }
  if (q.lane !== undefined) {
    if (typeof q.lane !== 'string' || q.lane.length === 0) throw invalidQuery('lane', q.lane, 'a non-empty lane id');
    p.lane = q.lane;
  }
  if (q.outcome !== undefined) {
    if (!(OUTCOME_VALUES as readonly unknown[]).includes(q.outcome)) {
      throw invalidQuery('outcome', q.outcome, `one of ${OUTCOME_VALUES.join(', ')}`);
    }
    p.outcome = q.outcome;
  }
  if (q.subjectRef !== undefined) {
    if (typeof q.subjectRef !== 'string' || q.subjectRef.length === 0) {
      throw invalidQuery('subjectRef', q.subjectRef, 'a non-empty subject pseudonym');
    }
    p.subjectRef = q.subjectRef;
  }
  for (const k of ['from', 'to'] as const) {
    const v = q[k];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw invalidQuery(k, v, 'epoch milliseconds (a finite number)');
    p[k] = v;
  }
  if (p.from !== undefined && p.to !== undefined && p.from > p.to) {
    throw invalidQuery('from', p.from, `a time not after to (${p.to})`);
  }
  if (q.beforeSeq !== undefined) {
    if (!Number.isSafeInteger(q.beforeSeq) || q.beforeSeq < 1) {
      throw invalidQuery('beforeSeq', q.beforeSeq, 'a ledger seq (integer ≥ 1)');
    }
    p.beforeSeq = q.beforeSeq;
  }
  return p;
}

function invalidQuery(field: string, value: unknown, expected: string): StoreError {
  return new StoreError('STORE_INVALID_QUERY', `${field} ${stringify(value)} is invalid: expected ${expected}`, {
    field,
    value,
  });
}

function stringify(v: unknown): string {
  if (typeof v === 'number') return String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function isUniqueViolation(err: unknown, column: string): boolean {
  return (
    err instanceof Database.SqliteError && err.code === 'SQLITE_CONSTRAINT_UNIQUE' && err.message.includes(column)
  );
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
