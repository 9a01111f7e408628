// The gateway's SQLite store: append-only ledger, durable outbox, and the local facts
// (roster, watchlist, approvals, risk areas) the policy decides from.
// Synchronous on purpose (better-sqlite3): a decision is committed before anything else
// happens to it, and a commit is one fsync on the lane's path, with no event-loop hop.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Approval, CrewRegistration, LeaveRecord, Outcome, RiskArea, WatchlistEntry } from '../policy/types.js';
import { approvalKey } from '../policy/decide.js';
import { StoreError } from './errors.js';
import { migrate, type Migration, MIGRATIONS } from './migrations.js';
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
import {
  OUTCOME_VALUES,
  checkAlertRecord,
  checkApprovals,
  checkCrews,
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
  actor: string | null;
  note: string | null;
  profile: string | null;
  profile_hash: string | null;
  approver: string | null;
  responsible: string | null;
  crew_id: string | null;
  plate: string | null;
  goods: string | null;
}

interface ReplayDbRow {
  seq: number;
  id: string;
  at: number;
  lane: string;
  outcome: Outcome;
  reasons: string;
  category: NewLedgerEntry['category'];
  subject_ref: string | null;
  profile: string | null;
  facts: string;
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
  approval_id: string | null;
  checkpoints: string | null;
  max_uses: number | null;
}

interface CrewRow {
  crew_id: string;
  responsible: string;
  valid_from: string;
  valid_until: string;
  itinerary: string;
  /** JSON array of subject ids. */
  members: string;
}

interface RiskAreaRow {
  region: string;
  level: RiskArea['level'];
  since: string;
  until: string | null;
}

interface AlertDbRow {
  id: string;
  at: number;
  lane: string | null;
  kind: string;
  severity: AlertRecord['severity'];
  code: string;
  event_id: string | null;
  detail: string | null;
  acked_by: string | null;
  acked_at: number | null;
}

interface AlertStatements {
  insert: Database.Statement<[Record<string, unknown>]>;
  ack: Database.Statement<[string, number, string]>;
  unacked: Database.Statement<[], { n: number }>;
  append: (alert: AlertRecord, toOutbox: (a: AlertRecord) => OutboxMessage | null) => void;
}

const ALERT_COLUMNS = 'id, at, lane, kind, severity, code, event_id, detail, acked_by, acked_at';

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
  #ledgerRange: Database.Statement<[number, number], LedgerRow> | undefined;
  #ledgerByIds: Database.Statement<[string], LedgerRow> | undefined;
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
  /** Ledger columns to select; actor and note exist from schema 3 on (older lists in upgrade tests). */
  readonly #ledgerColumns: string;
  readonly #hasActor: boolean;
  /** profile, profile_hash and facts exist from schema 4 on. */
  readonly #hasPolicy: boolean;
  /** Store schema 6: approval limits and uses, the approver of each admission. */
  readonly #hasApprovalUses: boolean;
  readonly #countUse: Database.Statement<[string, number]> | null;
  readonly #usesOf: Database.Statement<[string], { uses: number }> | null;
  /** Store schema 7: leave records. */
  readonly #leaveFor: Database.Statement<[string], { staff_id: string; destination: string; out_at: string; back_at: string | null }> | null;
  readonly #leaveUpsert: Database.Statement<[string, string, string, string | null, number]> | null;
  /** Store schema 8: crew registrations, the responsible person of each admission. */
  readonly #hasCrews: boolean;
  readonly #crewsFor: Database.Statement<[string], CrewRow> | null;
  readonly #crewsReplaceAll: ((entries: CrewRegistration[]) => void) | null;
  /** Store schema 9: plate and goods of passages with a vehicle pass. */
  readonly #hasVehicles: boolean;
  readonly #vehicleGoods: Database.Statement<[string, number, number], { goods: string | null }> | null;
  readonly #append: (entry: NewLedgerEntry, toOutbox: (row: LedgerEntry) => OutboxMessage | null) => LedgerEntry;
  readonly #rosterUpsertAll: (entries: RosterEntry[]) => number;
  readonly #watchlistReplaceAll: (entries: WatchlistEntry[]) => void;
  readonly #approvalsReplaceAll: (entries: Approval[]) => void;
  readonly #riskAreasReplaceAll: (entries: RiskArea[]) => void;
  // Alert statements are prepared on first use: a store opened with an older migration
  // list (tests of upgrades) has no alerts table and must still open.
  #alertStmts: AlertStatements | null = null;
  readonly #alertQueries = new Map<string, Database.Statement<[Record<string, unknown>], AlertDbRow>>();
  readonly #markMany: (ids: readonly number[]) => void;

  constructor(db: Database.Database, file: string, schemaVersion: number, now: () => number) {
    this.#db = db;
    this.path = file;
    this.schemaVersion = schemaVersion;
    this.#now = now;

    this.#hasActor = db.prepare<[], { name: string }>('PRAGMA table_info(ledger)').all().some((c) => c.name === 'actor');
    this.#hasPolicy = db.prepare<[], { name: string }>('PRAGMA table_info(ledger)').all().some((c) => c.name === 'facts');
    this.#hasApprovalUses = db.prepare<[], { name: string }>('PRAGMA table_info(ledger)').all().some((c) => c.name === 'approver');
    this.#countUse = this.#hasApprovalUses
      ? db.prepare(
          `INSERT INTO approval_uses (approval_key, uses, last_used_at) VALUES (?, 1, ?)
           ON CONFLICT (approval_key) DO UPDATE SET uses = uses + 1, last_used_at = excluded.last_used_at`,
        )
      : null;
    this.#usesOf = this.#hasApprovalUses ? db.prepare('SELECT uses FROM approval_uses WHERE approval_key = ?') : null;
    const hasLeave = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'leave_records'").get()?.n === 1;
    this.#leaveFor = hasLeave
      ? db.prepare('SELECT staff_id, destination, out_at, back_at FROM leave_records WHERE staff_id = ? ORDER BY out_at')
      : null;
    this.#leaveUpsert = hasLeave
      ? db.prepare(
          `INSERT INTO leave_records (staff_id, destination, out_at, back_at, recorded_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (staff_id, out_at) DO UPDATE SET destination = excluded.destination, back_at = excluded.back_at, recorded_at = excluded.recorded_at`,
        )
      : null;
    this.#hasCrews = db.prepare<[], { name: string }>('PRAGMA table_info(ledger)').all().some((c) => c.name === 'responsible');
    this.#crewsFor = this.#hasCrews
      ? db.prepare(
          `SELECT c.crew_id, c.responsible, c.valid_from, c.valid_until, c.itinerary,
             (SELECT json_group_array(m2.subject_id) FROM crew_members m2 WHERE m2.crew_id = c.crew_id) AS members
           FROM crew_members m JOIN crews c ON c.crew_id = m.crew_id WHERE m.subject_id = ? ORDER BY c.rowid`,
        )
      : null;
    this.#hasVehicles = db.prepare<[], { name: string }>('PRAGMA table_info(ledger)').all().some((c) => c.name === 'plate');
    this.#vehicleGoods = this.#hasVehicles
      ? db.prepare("SELECT goods FROM ledger WHERE plate = ? AND at >= ? AND at < ? AND outcome = 'admit' ORDER BY seq")
      : null;
    this.#ledgerColumns =
      `${LEDGER_COLUMNS}, ${this.#hasActor ? 'actor, note' : 'NULL AS actor, NULL AS note'}` +
      `, ${this.#hasPolicy ? 'profile, profile_hash' : 'NULL AS profile, NULL AS profile_hash'}` +
      `, ${this.#hasApprovalUses ? 'approver' : 'NULL AS approver'}` +
      `, ${this.#hasCrews ? 'responsible, crew_id' : 'NULL AS responsible, NULL AS crew_id'}` +
      `, ${this.#hasVehicles ? 'plate, goods' : 'NULL AS plate, NULL AS goods'}`;
    this.#insertLedger = db.prepare(
      `INSERT INTO ledger (id, at, lane, kind, outcome, reasons, alerts, credential, subject_ref, subject_name, category, temperature${this.#hasActor ? ', actor, note' : ''}${this.#hasPolicy ? ', profile, profile_hash, facts' : ''}${this.#hasApprovalUses ? ', approver, approval_key' : ''}${this.#hasCrews ? ', responsible, crew_id' : ''}${this.#hasVehicles ? ', plate, goods' : ''})
       VALUES (@id, @at, @lane, @kind, @outcome, @reasons, @alerts, @credential, @subjectRef, @subjectName, @category, @temperature${this.#hasActor ? ', @actor, @note' : ''}${this.#hasPolicy ? ', @profile, @profileHash, @facts' : ''}${this.#hasApprovalUses ? ', @approver, @approvalKey' : ''}${this.#hasCrews ? ', @responsible, @crewId' : ''}${this.#hasVehicles ? ', @plate, @goods' : ''})`,
    );
    this.#ledgerBySeq = db.prepare(`SELECT ${this.#ledgerColumns} FROM ledger WHERE seq = ?`);
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
    this.#approvalsFor = db.prepare(`SELECT ${this.#approvalColumns()} FROM approvals WHERE subject_id = ? ORDER BY id`);
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
            ...(this.#hasActor ? { actor: entry.actor ?? null, note: entry.note ?? null } : {}),
            // Always a string or null for SQLite: the facts object is never bound as is.
            profile: entry.profile ?? null,
            profileHash: entry.profileHash ?? null,
            facts: entry.facts ? JSON.stringify(entry.facts) : null,
            ...(this.#hasApprovalUses ? { approver: entry.approver ?? null, approvalKey: entry.approvalKey ?? null } : {}),
            ...(this.#hasCrews ? { responsible: entry.responsible ?? null, crewId: entry.crewId ?? null } : {}),
            ...(this.#hasVehicles ? { plate: entry.plate ?? null, goods: entry.goods ?? null } : {}),
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
      // The use is counted in the row's own transaction: an admission without its count
      // (or a count without its admission) cannot survive a crash.
      if (entry.approvalKey) this.#countUse?.run(entry.approvalKey, entry.at);
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
        // The trip commits with the roster row it came with (CSV import or roster update).
        if (e.leave !== undefined) this.#leaveUpsert?.run(e.staffId, e.leave.destination, e.leave.out, e.leave.back, e.updatedAt);
      }
      return entries.length;
    });

    const markRange = db.prepare<[number, number, number]>(
      'UPDATE outbox SET delivered_at = ? WHERE id BETWEEN ? AND ? AND delivered_at IS NULL',
    );
    this.#markMany = db.transaction((ids: readonly number[]) => {
      const at = this.#now();
      // PUBACKs come mostly in order: one statement per run of consecutive ids instead
      // of one per id. A run holds acknowledged ids only, so nothing else is marked.
      const sorted = [...ids].sort((a, b) => a - b);
      let lo = sorted[0];
      let hi = lo;
      for (let i = 1; i <= sorted.length; i++) {
        const id = sorted[i];
        if (id !== undefined && hi !== undefined && (id === hi || id === hi + 1)) {
          hi = id;
          continue;
        }
        if (lo !== undefined && hi !== undefined) markRange.run(at, lo, hi);
        lo = id;
        hi = id;
      }
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
    const insertApproval = this.#hasApprovalUses
      ? db.prepare(
          'INSERT INTO approvals (subject_id, approver, host_department, valid_from, valid_until, approval_id, checkpoints, max_uses) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        )
      : db.prepare('INSERT INTO approvals (subject_id, approver, host_department, valid_from, valid_until) VALUES (?, ?, ?, ?, ?)');
    this.#approvalsReplaceAll = db.transaction((entries: Approval[]) => {
      clearApproval.run();
      for (const e of entries) {
        const base = [e.subjectId, e.approver, e.hostDepartment, e.validFrom, e.validUntil];
        if (this.#hasApprovalUses) insertApproval.run(...base, e.id ?? null, e.checkpoints ? JSON.stringify(e.checkpoints) : null, e.maxUses ?? null);
        else insertApproval.run(...base);
      }
    });
    if (this.#hasCrews) {
      const clearCrews = db.prepare('DELETE FROM crews');
      const clearMembers = db.prepare('DELETE FROM crew_members');
      const insertCrew = db.prepare('INSERT INTO crews (crew_id, responsible, valid_from, valid_until, itinerary) VALUES (?, ?, ?, ?, ?)');
      // OR IGNORE: a member listed twice in one crew is one membership.
      const insertMember = db.prepare('INSERT OR IGNORE INTO crew_members (crew_id, subject_id) VALUES (?, ?)');
      this.#crewsReplaceAll = db.transaction((entries: CrewRegistration[]) => {
        clearMembers.run();
        clearCrews.run();
        for (const e of entries) {
          const itinerary = e.itinerary.map((v) => ({ region: v.region, from: v.from, to: v.to }));
          insertCrew.run(e.id, e.responsible, e.validFrom, e.validUntil, JSON.stringify(itinerary));
          for (const m of e.members) insertMember.run(e.id, m);
        }
      });
    } else {
      this.#crewsReplaceAll = null;
    }
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
    if (params.credential !== undefined) where.push('credential = @credential');
    if (params.matchRef !== undefined) where.push('(subject_ref = @matchRef OR instr(subject_name, @matchName) > 0)');
    if (params.from !== undefined) where.push('at >= @from');
    if (params.to !== undefined) where.push('at < @to');
    if (params.beforeSeq !== undefined) where.push('seq < @beforeSeq');
    const sql =
      `SELECT ${this.#ledgerColumns} FROM ledger` +
      (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
      ' ORDER BY seq DESC LIMIT @limit';
    // At most 2^8 shapes of this query exist, so caching by SQL text stays small.
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

  markDeliveredMany(ids: readonly number[]): void {
    if (ids.length > 0) this.#markMany(ids);
  }

  outboxDepth(): number {
    return this.#outboxDepth.get()?.n ?? 0;
  }

  outboxAppend(msg: OutboxMessage, createdAt?: number): number {
    checkOutboxMessage(msg, '(none)');
    if (createdAt !== undefined && !(Number.isSafeInteger(createdAt) && createdAt >= 0)) {
      throw invalidQuery('outboxAppend createdAt', createdAt, 'epoch milliseconds');
    }
    return Number(this.#insertOutbox.run(msg.topic, msg.payload, msg.qos, createdAt ?? this.#now()).lastInsertRowid);
  }

  ledgerRange(fromSeq: number, toSeq: number): LedgerEntry[] {
    for (const [what, v] of [['fromSeq', fromSeq], ['toSeq', toSeq]] as const) {
      if (!Number.isSafeInteger(v) || v < 0) throw invalidQuery(`ledgerRange ${what}`, v, 'a ledger seq (integer ≥ 0)');
    }
    this.#ledgerRange ??= this.#db.prepare(`SELECT ${this.#ledgerColumns} FROM ledger WHERE seq BETWEEN ? AND ? ORDER BY seq`);
    return this.#ledgerRange.all(fromSeq, toSeq).map(ledgerFromRow);
  }

  ledgerByIds(ids: readonly string[]): LedgerEntry[] {
    if (!Array.isArray(ids) || ids.length > MAX_QUERY_LIMIT || ids.some((id) => typeof id !== 'string')) {
      throw invalidQuery('ledgerByIds ids', ids, `an array of at most ${MAX_QUERY_LIMIT} event ids`);
    }
    if (ids.length === 0) return [];
    this.#ledgerByIds ??= this.#db.prepare(`SELECT ${this.#ledgerColumns} FROM ledger WHERE id IN (SELECT value FROM json_each(?)) ORDER BY seq DESC`);
    return this.#ledgerByIds.all(JSON.stringify(ids)).map(ledgerFromRow);
  }

  lastSeq(): number {
    return (this.#db.prepare('SELECT max(seq) AS n FROM ledger').get() as { n: number | null }).n ?? 0;
  }

  transaction<T>(fn: () => T): T {
    return this.#db.transaction(fn)();
  }

  #alerts(): AlertStatements {
    if (this.#alertStmts) return this.#alertStmts;
    const insert = this.#db.prepare<[Record<string, unknown>]>(
      `INSERT INTO alerts (id, at, lane, kind, severity, code, event_id, detail)
       VALUES (@id, @at, @lane, @kind, @severity, @code, @eventId, @detail)`,
    );
    const file = this.path;
    this.#alertStmts = {
      insert,
      ack: this.#db.prepare('UPDATE alerts SET acked_by = ?, acked_at = ? WHERE id = ? AND acked_at IS NULL'),
      // What a guard has to look at: one per passage (a decision's alerts share its event id)
      // or per alert of no passage; info alerts (a device back) need no acknowledgement.
      unacked: this.#db.prepare("SELECT count(DISTINCT coalesce(event_id, id)) AS n FROM alerts WHERE acked_at IS NULL AND severity <> 'info'"),
      append: this.#db.transaction((alert: AlertRecord, toOutbox: (a: AlertRecord) => OutboxMessage | null) => {
        try {
          insert.run({
            id: alert.id,
            at: alert.at,
            lane: alert.lane,
            kind: alert.kind,
            severity: alert.severity,
            code: alert.code,
            eventId: alert.eventId,
            detail: alert.detail,
          });
        } catch (err) {
          if (isUniqueViolation(err, 'alerts.id')) {
            throw new StoreError('STORE_DUPLICATE_EVENT', `alert ${JSON.stringify(alert.id)} is already stored in ${file}; nothing written`, {
              file,
              id: alert.id,
            }, err);
          }
          throw err;
        }
        const msg = toOutbox(alert);
        if (msg !== null) {
          checkOutboxMessage(msg, alert.id);
          this.#insertOutbox.run(msg.topic, msg.payload, msg.qos, this.#now());
        }
      }),
    };
    return this.#alertStmts;
  }

  appendAlert(alert: AlertRecord, toOutbox: (a: AlertRecord) => OutboxMessage | null): void {
    checkAlertRecord(alert);
    this.#alerts().append(alert, toOutbox);
  }

  queryAlerts(q: AlertQuery): StoredAlert[] {
    if (typeof q !== 'object' || q === null) throw invalidQuery('alert query', q, 'an object');
    const params: Record<string, unknown> = { limit: q.limit ?? DEFAULT_QUERY_LIMIT };
    if (!Number.isSafeInteger(params.limit) || (params.limit as number) < 1 || (params.limit as number) > MAX_QUERY_LIMIT) {
      throw invalidQuery('limit', q.limit, `an integer from 1 to ${MAX_QUERY_LIMIT}`);
    }
    const where: string[] = [];
    for (const k of ['from', 'to'] as const) {
      const v = q[k];
      if (v === undefined) continue;
      if (typeof v !== 'number' || !Number.isFinite(v)) throw invalidQuery(k, v, 'epoch milliseconds (a finite number)');
      params[k] = v;
      where.push(k === 'from' ? 'at >= @from' : 'at < @to');
    }
    if (q.lane !== undefined) {
      if (typeof q.lane !== 'string' || q.lane.length === 0) throw invalidQuery('lane', q.lane, 'a non-empty lane id');
      params.lane = q.lane;
      where.push('lane = @lane');
    }
    if (q.unackedOnly === true) where.push('acked_at IS NULL');
    if (q.open === true) where.push("acked_at IS NULL AND severity <> 'info'");
    const sql =
      `SELECT ${ALERT_COLUMNS} FROM alerts` + (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') + ' ORDER BY seq DESC LIMIT @limit';
    let stmt = this.#alertQueries.get(sql);
    if (stmt === undefined) {
      stmt = this.#db.prepare(sql);
      this.#alertQueries.set(sql, stmt);
    }
    return stmt.all(params).map((r) => ({
      id: r.id,
      at: r.at,
      lane: r.lane,
      kind: r.kind,
      severity: r.severity,
      code: r.code,
      eventId: r.event_id,
      detail: r.detail,
      ackedBy: r.acked_by,
      ackedAt: r.acked_at,
    }));
  }

  ackAlert(id: string, guardId: string, at: number): boolean {
    if (typeof guardId !== 'string' || guardId.trim() === '' || !Number.isFinite(at)) {
      throw new StoreError('STORE_INVALID_ROW', 'alert acknowledgement refused: expected a non-empty guard id and epoch ms', { id });
    }
    return this.#alerts().ack.run(guardId, at, id).changes === 1;
  }

  unackedAlertCount(): number {
    return this.#alerts().unacked.get()?.n ?? 0;
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

  leaveFor(staffId: string): LeaveRecord[] {
    return (this.#leaveFor?.all(staffId) ?? []).map((r) => ({ staffId: r.staff_id, destination: r.destination, out: r.out_at, back: r.back_at }));
  }

  watchlistReplace(entries: WatchlistEntry[]): void {
    checkWatchlistEntries(entries);
    this.#watchlistReplaceAll(entries);
  }

  ledgerHourly(from: number, to: number): LedgerHourCount[] {
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || to <= from) {
      throw invalidQuery('ledgerHourly range', { from, to }, 'whole epoch ms with from < to');
    }
    return this.#db
      .prepare<[Record<string, number>], LedgerHourCount>(
        `SELECT CAST((at - @from) / 3600000 AS INTEGER) AS hour, kind, outcome, count(*) AS n FROM ledger
         WHERE at >= @from AND at < @to GROUP BY hour, kind, outcome ORDER BY hour`,
      )
      .all({ from, to });
  }

  /** Every roster entry, withdrawn ones too, by staff id (the daily screening list). */
  rosterAll(): RosterEntry[] {
    return this.#db
      .prepare<[], { staff_id: string; name: string; category: RosterEntry['category']; health: string; active: number; updated_at: number }>(
        'SELECT staff_id, name, category, health, active, updated_at FROM roster ORDER BY staff_id',
      )
      .all()
      .map((r) => ({
        staffId: r.staff_id,
        name: r.name,
        category: r.category,
        health: JSON.parse(r.health) as RosterEntry['health'],
        active: r.active === 1,
        updatedAt: r.updated_at,
      }));
  }

  firstPassages(from: number, to: number): FirstPassage[] {
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || to <= from) {
      throw invalidQuery('firstPassages range', { from, to }, 'whole epoch ms with from < to');
    }
    // First by time, then by seq, so two rows in the same millisecond always give the same answer.
    return this.#db
      .prepare<[Record<string, number>], FirstPassage>(
        `SELECT subjectRef, at, lane, outcome FROM (
           SELECT subject_ref AS subjectRef, at, lane, outcome,
                  ROW_NUMBER() OVER (PARTITION BY subject_ref ORDER BY at, seq) AS n
           FROM ledger
           WHERE kind = 'decision' AND subject_ref IS NOT NULL AND at >= @from AND at < @to)
         WHERE n = 1`,
      )
      .all({ from, to });
  }

  #approvalColumns(): string {
    return `subject_id, approver, host_department, valid_from, valid_until${
      this.#hasApprovalUses ? ', approval_id, checkpoints, max_uses' : ', NULL AS approval_id, NULL AS checkpoints, NULL AS max_uses'
    }`;
  }

  /** An approval as written, plus `uses` (admissions counted so far) when it has a limit. */
  #approvalFromRow(r: ApprovalRow): Approval {
    const a: Approval = {
      subjectId: r.subject_id,
      approver: r.approver,
      hostDepartment: r.host_department,
      validFrom: r.valid_from,
      validUntil: r.valid_until,
    };
    if (r.approval_id !== null) a.id = r.approval_id;
    if (r.checkpoints !== null) a.checkpoints = JSON.parse(r.checkpoints) as string[];
    if (r.max_uses !== null) {
      a.maxUses = r.max_uses;
      a.uses = this.#usesOf?.get(approvalKey(a))?.uses ?? 0;
    }
    return a;
  }

  approvalsAll(): Approval[] {
    return this.#db
      .prepare<[], ApprovalRow>(`SELECT ${this.#approvalColumns()} FROM approvals ORDER BY id`)
      .all()
      .map((r) => this.#approvalFromRow(r));
  }

  approvalsFor(subjectId: string): Approval[] {
    return this.#approvalsFor.all(subjectId).map((r) => this.#approvalFromRow(r));
  }

  /** Admissions counted under an approval key (0 when none). */
  approvalUses(key: string): number {
    return this.#usesOf?.get(key)?.uses ?? 0;
  }

  approvalsReplace(entries: Approval[]): void {
    checkApprovals(entries);
    this.#approvalsReplaceAll(entries);
  }

  /**
   * Goods categories of the admissions of `plate` in [from, to) (epoch ms), in ledger
   * order: what the vehicle rule's daily limit counts. Empty before store schema 9.
   */
  vehicleGoods(plate: string, from: number, to: number): string[] {
    return (this.#vehicleGoods?.all(plate, from, to) ?? []).map((r) => r.goods ?? '');
  }

  crewsFor(subjectId: string): CrewRegistration[] {
    return (this.#crewsFor?.all(subjectId) ?? []).map((r) => ({
      id: r.crew_id,
      responsible: r.responsible,
      members: JSON.parse(r.members) as string[],
      validFrom: r.valid_from,
      validUntil: r.valid_until,
      itinerary: JSON.parse(r.itinerary) as CrewRegistration['itinerary'],
    }));
  }

  crewsReplace(entries: CrewRegistration[]): void {
    checkCrews(entries);
    // Absent only on stores opened with an older migration list (upgrade tests), as leave.
    this.#crewsReplaceAll?.(entries);
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

  readonly #zoneStmts = new Map<string, Database.Statement<unknown[], unknown>>();
  #zone<R>(sql: string): Database.Statement<unknown[], R> {
    // Prepared on first use: stores opened with an older migration list have no zone tables.
    let st = this.#zoneStmts.get(sql);
    if (st === undefined) {
      st = this.#db.prepare(sql);
      this.#zoneStmts.set(sql, st);
    }
    return st as Database.Statement<unknown[], R>;
  }

  #zoneCount(zone: string): number {
    return this.#zone<{ count: number }>('SELECT count FROM zone_counts WHERE zone = ?').get(zone)?.count ?? 0;
  }

  #setZoneCount(zone: string, count: number, at: number): void {
    this.#zone(
      'INSERT INTO zone_counts (zone, count, updated_at) VALUES (?, ?, ?) ON CONFLICT (zone) DO UPDATE SET count = excluded.count, updated_at = excluded.updated_at',
    ).run(zone, count, at);
  }

  zoneFacts(zone: string, subjectRef: string | null): { count: number; openEntryAt: number | null } {
    const open =
      subjectRef === null
        ? undefined
        : this.#zone<{ entered_at: number }>('SELECT entered_at FROM zone_presence WHERE zone = ? AND subject_ref = ?').get(zone, subjectRef);
    return { count: this.#zoneCount(zone), openEntryAt: open?.entered_at ?? null };
  }

  zoneEnter(zone: string, subjectRef: string | null, at: number, opts: { count?: boolean } = {}): number {
    return this.#db.transaction(() => {
      const { count, openEntryAt } = this.zoneFacts(zone, subjectRef);
      if (subjectRef !== null) {
        this.#zone(
          'INSERT INTO zone_presence (zone, subject_ref, entered_at) VALUES (?, ?, ?) ON CONFLICT (zone, subject_ref) DO UPDATE SET entered_at = excluded.entered_at',
        ).run(zone, subjectRef, at);
      }
      // Someone already inside (a soft or expired anti-passback) takes no second place.
      if (opts.count === false) return count;
      const next = openEntryAt === null ? count + 1 : count;
      this.#setZoneCount(zone, next, at);
      return next;
    })();
  }

  zoneExit(zone: string, subjectRef: string | null, at: number, opts: { count?: boolean } = {}): number {
    return this.#db.transaction(() => {
      if (subjectRef !== null) this.#zone('DELETE FROM zone_presence WHERE zone = ? AND subject_ref = ?').run(zone, subjectRef);
      if (opts.count === false) return this.#zoneCount(zone);
      const next = Math.max(0, this.#zoneCount(zone) - 1);
      this.#setZoneCount(zone, next, at);
      return next;
    })();
  }

  zoneCorrect(c: { zone: string; count: number; guard: string; reason: string; at: number }): ZoneCorrection {
    if (!Number.isSafeInteger(c.count) || c.count < 0) throw invalidQuery('zone count', c.count, 'a whole number ≥ 0');
    for (const [k, v] of [['zone', c.zone], ['guard', c.guard], ['reason', c.reason]] as const) {
      if (typeof v !== 'string' || v.trim() === '') throw invalidQuery(k, v, 'a non-empty string');
    }
    return this.#db.transaction(() => {
      const from = this.#zoneCount(c.zone);
      this.#zone('INSERT INTO zone_corrections (zone, at, guard, from_count, to_count, reason) VALUES (?, ?, ?, ?, ?, ?)').run(c.zone, c.at, c.guard, from, c.count, c.reason);
      this.#setZoneCount(c.zone, c.count, c.at);
      // An empty zone has nobody inside: no one is held by anti-passback after a reset.
      if (c.count === 0) this.#zone('DELETE FROM zone_presence WHERE zone = ?').run(c.zone);
      return { zone: c.zone, at: c.at, guard: c.guard, from, to: c.count, reason: c.reason };
    })();
  }

  zoneCorrections(zone: string, latest = -1): ZoneCorrection[] {
    if (!Number.isSafeInteger(latest) || latest < -1) throw invalidQuery('zoneCorrections latest', latest, 'a whole number ≥ 0');
    // LIMIT -1 is no limit in SQLite.
    return this.#zone<{ zone: string; at: number; guard: string; from_count: number; to_count: number; reason: string }>(
      'SELECT zone, at, guard, from_count, to_count, reason FROM zone_corrections WHERE zone = ? ORDER BY id DESC LIMIT ?',
    )
      .all(zone, latest)
      .reverse()
      .map((r) => ({ zone: r.zone, at: r.at, guard: r.guard, from: r.from_count, to: r.to_count, reason: r.reason }));
  }

  *replayRows(q: { from?: number; to?: number } = {}): IterableIterator<ReplayRow> {
    if (!this.#hasPolicy) return;
    const from = q.from ?? Number.MIN_SAFE_INTEGER;
    const to = q.to ?? Number.MAX_SAFE_INTEGER;
    for (const v of [from, to]) if (!Number.isFinite(v)) throw invalidQuery('replayRows from/to', v, 'epoch milliseconds');
    const stmt = this.#db.prepare<[number, number], ReplayDbRow>(
      `SELECT seq, id, at, lane, outcome, reasons, category, subject_ref, profile, facts FROM ledger
       WHERE facts IS NOT NULL AND kind = 'decision' AND at >= ? AND at < ? ORDER BY seq`,
    );
    for (const r of stmt.iterate(from, to)) {
      yield {
        seq: r.seq,
        id: r.id,
        at: r.at,
        lane: r.lane,
        outcome: r.outcome,
        reasons: JSON.parse(r.reasons) as ReplayRow['reasons'],
        category: r.category,
        subjectRef: r.subject_ref,
        profile: r.profile,
        facts: JSON.parse(r.facts) as ReplayRow['facts'],
      };
    }
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
    // Only overrides carry these; other rows read back as written.
    ...(r.actor !== null ? { actor: r.actor } : {}),
    ...(r.note !== null ? { note: r.note } : {}),
    // Only when present, so rows no policy decided read back exactly as written.
    ...(r.profile !== null ? { profile: r.profile } : {}),
    ...(r.profile_hash !== null ? { profileHash: r.profile_hash } : {}),
    ...(r.approver !== null ? { approver: r.approver } : {}),
    ...(r.responsible !== null ? { responsible: r.responsible } : {}),
    ...(r.crew_id !== null ? { crewId: r.crew_id } : {}),
    ...(r.plate !== null ? { plate: r.plate } : {}),
    ...(r.goods !== null ? { goods: r.goods } : {}),
  };
}

// A type alias, not an interface, so it is assignable to better-sqlite3's named bindings.
type QueryParams = {
  lane?: string;
  outcome?: Outcome;
  subjectRef?: string;
  credential?: string;
  matchRef?: string;
  matchName?: string;
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
  if (q.credential !== undefined) {
    if (typeof q.credential !== 'string' || q.credential.length === 0) throw invalidQuery('credential', q.credential, 'a credential kind');
    p.credential = q.credential;
  }
  if (q.subjectMatch !== undefined) {
    const m = q.subjectMatch;
    if (typeof m !== 'object' || m === null || typeof m.ref !== 'string' || typeof m.name !== 'string' || m.name.length === 0) {
      throw invalidQuery('subjectMatch', m, 'an object {ref, name} with a non-empty name');
    }
    p.matchRef = m.ref;
    p.matchName = m.name;
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
