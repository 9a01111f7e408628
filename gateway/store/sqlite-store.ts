// The gateway's SQLite store: append-only ledger, durable outbox, and the local facts
// (roster, watchlist, approvals, risk areas) the policy decides from.
// Synchronous on purpose (better-sqlite3): a decision is committed before anything else
// happens to it, and a commit is one fsync on the lane's path, with no event-loop hop.
//
// This file opens the file and puts the rooms together behind the one `Store` face; each
// room keeps the tables of one concern (docs/store.md, "Layout"): ledger.ts and chain.ts
// (the ledger and its hash chain; verify.ts walks it), outbox.ts, facts.ts (roster and
// lists), zones.ts, alerts.ts (the guard console's alerts), meta.ts (update bookkeeping
// and small settings). All share one connection, so
// a room's write joins the transaction of another's (an alert inside a decision's).
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Approval, CrewRegistration, LeaveRecord, RiskArea, WatchlistEntry } from '../policy/types.js';
import { AlertRoom } from './alerts.js';
import { ChainRoom, type ChainHead, type ChainRecord } from './chain.js';
import { StoreError } from './errors.js';
import { FactsRoom } from './facts.js';
import { LedgerRoom, type LedgerSearchOptions, type LedgerSearchPage } from './ledger.js';
import { MetaRoom } from './meta.js';
import { LATEST_SCHEMA_VERSION, migrate, type Migration, MIGRATIONS } from './migrations.js';
import { OutboxRoom } from './outbox.js';
import { type ReadAheadKind, RetentionRoom, readAheadPlans } from './retention.js';
import { errText, hasTable } from './sql.js';
import type {
  AlertQuery,
  AlertRecord,
  FirstPassage,
  LedgerEntry,
  LedgerHourCount,
  LedgerQuery,
  NewLedgerEntry,
  OutboxMessage,
  OutboxRow,
  ReplayRow,
  RosterEntry,
  ZoneCorrection,
  Store,
  StoredAlert,
} from './types.js';
import { type ChainReport, verifyChain } from './verify.js';
import { BOUND_PAGES, DEFAULT_AUTOCHECKPOINT_PAGES, WalCheckpointer, type WalCheckpointStats } from './wal-checkpointer.js';
import { ZoneRoom } from './zones.js';

export { DEFAULT_QUERY_LIMIT, MAX_QUERY_LIMIT } from './sql.js';
export { MAX_OUTBOX_BATCH } from './outbox.js';
export const DATABASE_FILE = 'gateway.sqlite';
/** How long a writer waits for another connection's lock (the CLI exporting, say). */
export const BUSY_TIMEOUT_MS = 5000;
/** The page cache of the gateway's connection, kB (configure). */
export const PAGE_CACHE_KB = 1024;

export interface OpenStoreOptions {
  /** Clock for outbox created_at/delivered_at and migration history; default Date.now. */
  now?: () => number;
  /** Tests only: a different migration list (e.g. to simulate an upgrade). */
  migrations?: readonly Migration[];
  /**
   * WAL checkpoints in a worker thread instead of inside this connection's commits
   * (wal-checkpointer.ts); the gateway process turns it on, CLIs and tests leave it off.
   */
  checkpointWorker?: boolean | { everyMs?: number; nice?: number; onLost?: (why: string) => void };
  /** The connection's page cache, kB; default PAGE_CACHE_KB (benches compare others). */
  pageCacheKb?: number;
}

/** The Store plus maintenance operations only the gateway's housekeeping and CLI need. */
export interface SqliteStore extends Store {
  /** The guard search in pages of bounded work: names searched back a bounded number of rows per page (LedgerRoom.search). */
  searchEvents(q: LedgerQuery, o: LedgerSearchOptions): LedgerSearchPage;
  /** Delete delivered outbox rows delivered before this epoch ms; returns how many. */
  outboxPrune(deliveredBefore: number): number;
  /** Schema version of the open database. */
  readonly schemaVersion: number;
  /**
   * Decision rows that kept their evaluated facts (policy replay), oldest first, from
   * `from` (epoch ms, inclusive) to `to` (exclusive). Streams: a large ledger is never
   * held in memory at once.
   */
  replayRows(q?: { from?: number; to?: number }): IterableIterator<ReplayRow>;
  /** People inside a zone, and since when this person is inside (null: not inside). Schema 5. */
  zoneFacts(zone: string, subjectRef: string | null): { count: number; openEntryAt: number | null };
  /**
   * One more inside, unless this person already is; returns the count. `count: false`
   * marks the person inside without counting (a passage sensor counts on that lane).
   */
  zoneEnter(zone: string, subjectRef: string | null, at: number, opts?: { count?: boolean }): number;
  /** One fewer inside (never below 0); returns the count. `count: false`: the person is out, the sensor counts. */
  zoneExit(zone: string, subjectRef: string | null, at: number, opts?: { count?: boolean }): number;
  /** A guard sets the count (recorded with name and reason); everyone inside is forgotten when it is set to 0. */
  zoneCorrect(c: { zone: string; count: number; guard: string; reason: string; at: number }): ZoneCorrection;
  /** A zone's corrections, oldest first; `latest`: only the last so many (the console polls). */
  zoneCorrections(zone: string, latest?: number): ZoneCorrection[];
  /** The connection's pragmas as in effect (for tests, /healthz and support). */
  settings(): StoreSettings;
  /**
   * Runs fn in one transaction (a savepoint when nested): an inbound update's facts, its
   * version and its response row commit together or not at all.
   */
  transaction<T>(fn: () => T): T;
  /** Many PUBACKs in one commit (one fsync). */
  markDeliveredMany(ids: readonly number[]): void;
  /**
   * Queue a message that belongs to no ledger row (a response, an alert's sibling); returns its id.
   * `createdAt` (outbox clock, default now) is what the link compares with the connection's
   * start for `historical`; a re-sent event passes 0 (it belongs to no live moment).
   */
  outboxAppend(msg: OutboxMessage, createdAt?: number): number;
  /** Ledger rows with fromSeq <= seq <= toSeq, oldest first, read as appendDecision reads a row back. */
  ledgerRange(fromSeq: number, toSeq: number): LedgerEntry[];
  /** The ledger rows with these ids (unknown ids are left out), newest first. */
  ledgerByIds(ids: readonly string[]): LedgerEntry[];
  /** The ledger's highest seq, 0 when empty. */
  lastSeq(): number;
  /** Ledger rows per hour since `from` (inclusive) until `to` (exclusive), by kind and outcome. */
  ledgerHourly(from: number, to: number): LedgerHourCount[];
  /** Every approval, in insertion order (the guard console's expected visitors). */
  approvalsAll(): Approval[];
  /** Every roster entry, withdrawn ones too, ordered by staff id. */
  rosterAll(): RosterEntry[];
  /** Each subject's first decision row with `from <= at < to` (timeouts, faults and overrides are no screening). */
  firstPassages(from: number, to: number): FirstPassage[];
  /** Admissions counted under an approval key (0 when none; always 0 before schema 6). */
  approvalUses(key: string): number;
  /** The last row of the hash chain (published in …/stats); null before store schema 10. */
  chainHead(): ChainHead | null;
  /**
   * Links a record whose content is its body (an applied update, a retention checkpoint) in
   * the caller's transaction, or its own; returns the new head.
   */
  recordInChain(record: ChainRecord): ChainHead;
  /** Walks the whole chain on this connection (docs/store.md "Verifying"); `verifyLedger` does it read-only for the CLI. */
  verifyChain(): ChainReport;
  /** The checkpoint worker's counters (openStore's `checkpointWorker`); null when this connection checkpoints itself. */
  walCheckpoints(): WalCheckpointStats | null;
  /**
   * For a bulk writer (retention) before a write: on a large WAL, waits up to `maxMs` for
   * the checkpoint worker to copy all of it back, so the write starts the WAL over
   * (WalCheckpointer.caughtUp). At once without a worker.
   */
  walCaughtUp(maxMs: number): Promise<boolean>;
  /**
   * For retention before a step: the checkpoint worker reads the pages of the next `rows`
   * rows to erase or delete into the OS's file cache (retention.ts readAheadPlans); waits
   * up to `maxMs`. False without a worker (or a store before schema 11) or on a timeout.
   */
  readAhead(kind: ReadAheadKind, rows: number, maxMs: number): Promise<boolean>;
  /** Resolves when the checkpoint worker's thread is gone (after close, or if it died); null without one. */
  readonly checkpointWorkerExited: Promise<number> | null;
  /** Retention's steps (retention.ts): erasure, day cuts behind a checkpoint, outbox purge, health purge; null before store schema 11. */
  readonly retention: RetentionRoom | null;
}

export interface StoreSettings {
  journalMode: string;
  /** 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA. */
  synchronous: number;
  foreignKeys: boolean;
  busyTimeoutMs: number;
  /** The connection's page cache, kB. */
  pageCacheKb: number;
}

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
    configure(db, file, opts.pageCacheKb ?? PAGE_CACHE_KB);
    const { to } = migrate(db, file, now, opts.migrations ?? MIGRATIONS);
    return new SqliteStoreImpl(db, file, to, now, startCheckpointer(db, file, opts.checkpointWorker, to >= RETENTION_SCHEMA_VERSION));
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

/** The schema version that brought the hash chain. */
export const CHAIN_SCHEMA_VERSION = 10;
/** The schema version that brought retention (its triggers let cut rows go). */
const RETENTION_SCHEMA_VERSION = 11;

/**
 * Verifies the hash chain of dataDir/gateway.sqlite on a read-only connection: no
 * migration, no write, safe while the gateway runs (it reads one snapshot).
 */
export function verifyLedger(dataDir: string): ChainReport & { file: string } {
  const file = join(resolve(dataDir), DATABASE_FILE);
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
  } catch (err) {
    throw new StoreError('STORE_OPEN_FAILED', `cannot open ${file} to verify it: ${errText(err)} (expected the gateway's SQLite file)`, { file }, err);
  }
  try {
    const version = Number(db.pragma('user_version', { simple: true }));
    if (version > LATEST_SCHEMA_VERSION) {
      throw new StoreError('STORE_SCHEMA_TOO_NEW', `${file} has schema version ${version}, but this gateway knows versions up to ${LATEST_SCHEMA_VERSION}; verify it with the gateway that wrote it`, { file, found: version, known: LATEST_SCHEMA_VERSION });
    }
    if (version < CHAIN_SCHEMA_VERSION) {
      throw new StoreError('STORE_NO_CHAIN', `${file} has schema version ${version}, older than the hash chain (${CHAIN_SCHEMA_VERSION}): start the gateway once to upgrade it, which chains its rows`, { file, found: version });
    }
    return { file, ...verifyChain(db) };
  } finally {
    db.close();
  }
}

function configure(db: Database.Database, file: string, pageCacheKb: number): void {
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
  // better-sqlite3 builds SQLite with a 16 MB page cache per connection, which a big ledger
  // fills (guard searches, reports, retention) and malloc then keeps: RSS a small PC lacks
  // (issue 16). A decision touches a few hundred kB of pages; the rest comes from the OS's
  // file cache at a pread each (docs/footprint.md, "SQLite's page cache").
  db.pragma(`cache_size = -${Math.max(0, Math.trunc(pageCacheKb))}`);
}

function startCheckpointer(db: Database.Database, file: string, opt: OpenStoreOptions['checkpointWorker'], retention: boolean): WalCheckpointer | null {
  if (opt === undefined || opt === false) return null;
  const o = opt === true ? {} : opt;
  // Not 0: the bound a stalled worker leaves the WAL at (then this connection checkpoints, as before).
  db.pragma(`wal_autocheckpoint = ${BOUND_PAGES}`);
  return new WalCheckpointer(file, {
    ...o,
    ...(retention ? { readAhead: readAheadPlans(db) } : {}),
    onLost: (why) => {
      if (db.open) db.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
      o.onLost?.(`${why}; the gateway's connection checkpoints the WAL again`);
    },
  });
}

class SqliteStoreImpl implements SqliteStore {
  readonly path: string;
  readonly schemaVersion: number;
  readonly #db: Database.Database;
  readonly #outbox: OutboxRoom;
  readonly #ledger: LedgerRoom;
  readonly #facts: FactsRoom;
  readonly #zones: ZoneRoom;
  readonly #alerts: AlertRoom;
  readonly #meta: MetaRoom;
  readonly #chain: ChainRoom | null;
  readonly retention: RetentionRoom | null;
  readonly #checkpointer: WalCheckpointer | null;

  constructor(db: Database.Database, file: string, schemaVersion: number, now: () => number, checkpointer: WalCheckpointer | null) {
    this.#db = db;
    this.#checkpointer = checkpointer;
    this.path = file;
    this.schemaVersion = schemaVersion;
    this.#outbox = new OutboxRoom(db, now);
    this.#facts = new FactsRoom(db);
    // Files opened with an older migration list (upgrade tests) have no chain.
    this.#chain = hasTable(db, 'chain') ? new ChainRoom(db) : null;
    this.#ledger = new LedgerRoom(db, {
      file,
      outbox: this.#outbox,
      countApprovalUse: (key, at) => this.#facts.countApprovalUse(key, at),
      chain: this.#chain,
    });
    this.#zones = new ZoneRoom(db, this.#chain);
    this.#alerts = new AlertRoom(db, file, this.#outbox);
    this.#meta = new MetaRoom(db);
    // Deleting a cut needs migration 11's triggers; files opened with an older list have none.
    this.retention = this.#chain !== null && schemaVersion >= RETENTION_SCHEMA_VERSION ? new RetentionRoom(db, this.#chain) : null;
  }

  // Ledger
  appendDecision(entry: NewLedgerEntry, toOutbox: (row: LedgerEntry) => OutboxMessage | null): LedgerEntry {
    return this.#ledger.append(entry, toOutbox);
  }
  queryEvents(q: LedgerQuery): LedgerEntry[] {
    return this.#ledger.query(q);
  }
  /** The guard search in pages of bounded work (LedgerRoom.search). */
  searchEvents(q: LedgerQuery, o: LedgerSearchOptions): LedgerSearchPage {
    return this.#ledger.search(q, o);
  }
  ledgerRange(fromSeq: number, toSeq: number): LedgerEntry[] {
    return this.#ledger.range(fromSeq, toSeq);
  }
  ledgerByIds(ids: readonly string[]): LedgerEntry[] {
    return this.#ledger.byIds(ids);
  }
  lastSeq(): number {
    return this.#ledger.lastSeq();
  }
  ledgerHourly(from: number, to: number): LedgerHourCount[] {
    return this.#ledger.hourly(from, to);
  }
  firstPassages(from: number, to: number): FirstPassage[] {
    return this.#ledger.firstPassages(from, to);
  }
  vehicleGoods(plate: string, from: number, to: number): string[] {
    return this.#ledger.vehicleGoods(plate, from, to);
  }
  replayRows(q?: { from?: number; to?: number }): IterableIterator<ReplayRow> {
    return this.#ledger.replayRows(q);
  }

  // Hash chain
  chainHead(): ChainHead | null {
    return this.#chain?.head() ?? null;
  }
  recordInChain(record: ChainRecord): ChainHead {
    if (this.#chain === null) throw new StoreError('STORE_INVALID_ROW', `${this.path} has no hash chain (store schema ${this.schemaVersion} < 10)`, {});
    return this.#chain.record(record);
  }
  verifyChain(): ChainReport {
    return verifyChain(this.#db);
  }

  // Outbox
  outboxPending(limit: number, afterId?: number): OutboxRow[] {
    return this.#outbox.pending(limit, afterId);
  }
  markDelivered(id: number): void {
    this.#outbox.markDelivered(id);
  }
  markDeliveredMany(ids: readonly number[]): void {
    this.#outbox.markDeliveredMany(ids);
  }
  outboxDepth(): number {
    return this.#outbox.depth();
  }
  outboxAppend(msg: OutboxMessage, createdAt?: number): number {
    return this.#outbox.append(msg, createdAt);
  }
  outboxPrune(deliveredBefore: number): number {
    return this.#outbox.prune(deliveredBefore);
  }

  // Roster and lists
  rosterGet(staffId: string): RosterEntry | undefined {
    return this.#facts.rosterGet(staffId);
  }
  rosterUpsert(entries: RosterEntry[]): number {
    return this.#facts.rosterUpsert(entries);
  }
  rosterAll(): RosterEntry[] {
    return this.#facts.rosterAll();
  }
  leaveFor(staffId: string): LeaveRecord[] {
    return this.#facts.leaveFor(staffId);
  }
  watchlistFor(subjectId: string): WatchlistEntry[] {
    return this.#facts.watchlistFor(subjectId);
  }
  watchlistReplace(entries: WatchlistEntry[]): void {
    this.#facts.watchlistReplace(entries);
  }
  approvalsFor(subjectId: string): Approval[] {
    return this.#facts.approvalsFor(subjectId);
  }
  approvalsAll(): Approval[] {
    return this.#facts.approvalsAll();
  }
  approvalsReplace(entries: Approval[]): void {
    this.#facts.approvalsReplace(entries);
  }
  approvalUses(key: string): number {
    return this.#facts.approvalUses(key);
  }
  crewsFor(subjectId: string): CrewRegistration[] {
    return this.#facts.crewsFor(subjectId);
  }
  crewsReplace(entries: CrewRegistration[]): void {
    this.#facts.crewsReplace(entries);
  }
  riskAreas(): RiskArea[] {
    return this.#facts.riskAreas();
  }
  riskAreasReplace(entries: RiskArea[]): void {
    this.#facts.riskAreasReplace(entries);
  }

  // Zones
  zoneFacts(zone: string, subjectRef: string | null): { count: number; openEntryAt: number | null } {
    return this.#zones.facts(zone, subjectRef);
  }
  zoneEnter(zone: string, subjectRef: string | null, at: number, opts?: { count?: boolean }): number {
    return this.#zones.enter(zone, subjectRef, at, opts);
  }
  zoneExit(zone: string, subjectRef: string | null, at: number, opts?: { count?: boolean }): number {
    return this.#zones.exit(zone, subjectRef, at, opts);
  }
  zoneCorrect(c: { zone: string; count: number; guard: string; reason: string; at: number }): ZoneCorrection {
    return this.#zones.correct(c);
  }
  zoneCorrections(zone: string, latest?: number): ZoneCorrection[] {
    return this.#zones.corrections(zone, latest);
  }

  // Alerts
  appendAlert(alert: AlertRecord, toOutbox: (a: AlertRecord) => OutboxMessage | null): void {
    this.#alerts.append(alert, toOutbox);
  }
  queryAlerts(q: AlertQuery): StoredAlert[] {
    return this.#alerts.query(q);
  }
  ackAlert(id: string, guardId: string, at: number): boolean {
    return this.#alerts.ack(id, guardId, at);
  }
  unackedAlertCount(): number {
    return this.#alerts.unackedCount();
  }

  // Meta, transactions, the connection
  getMeta(key: string): string | undefined {
    return this.#meta.get(key);
  }
  setMeta(key: string, value: string): void {
    this.#meta.set(key, value);
  }

  transaction<T>(fn: () => T): T {
    return this.#db.transaction(fn)();
  }

  settings(): StoreSettings {
    const p = (name: string): unknown => this.#db.pragma(name, { simple: true });
    return {
      journalMode: String(p('journal_mode')),
      synchronous: Number(p('synchronous')),
      foreignKeys: Number(p('foreign_keys')) === 1,
      busyTimeoutMs: Number(p('busy_timeout')),
      // cache_size is pages when positive, −kB when negative (configure sets kB).
      pageCacheKb: -Number(p('cache_size')),
    };
  }

  walCheckpoints(): WalCheckpointStats | null {
    return this.#checkpointer?.stats() ?? null;
  }
  walCaughtUp(maxMs: number): Promise<boolean> {
    return this.#checkpointer?.caughtUp(maxMs) ?? Promise.resolve(true);
  }

  readAhead(kind: ReadAheadKind, rows: number, maxMs: number): Promise<boolean> {
    return this.#checkpointer?.readAhead(kind, rows, maxMs) ?? Promise.resolve(false);
  }
  get checkpointWorkerExited(): Promise<number> | null {
    return this.#checkpointer?.exited ?? null;
  }

  close(): void {
    if (!this.#db.open) return; // idempotent: shutdown paths may race
    // The worker first: this connection's close, as the last one, then checkpoints and removes the WAL.
    this.#checkpointer?.stop();
    this.#db.pragma('optimize'); // cheap; keeps query plans good for the next start
    this.#db.close();
  }
}
