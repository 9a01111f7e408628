// The ledger: one append-only row per passage attempt (decision, timeout, fault, guard
// override), committed with its outbox message, and the reads of it (guard search,
// contact tracing, gap repair, daily screening, policy replay, the vehicle rule).
import type Database from 'better-sqlite3';
import type { Outcome } from '../policy/types.js';
import { type ChainRoom, type ColumnValue, type Columns, type PersonalCommitments, sealLedgerRow, wellFormed } from './chain.js';
import { StoreError } from './errors.js';
import type { OutboxRoom } from './outbox.js';
import { DEFAULT_QUERY_LIMIT, MAX_QUERY_LIMIT, checkLimit, hasColumn, invalidQuery, isUniqueViolation } from './sql.js';
import type { FirstPassage, LedgerEntry, LedgerHourCount, LedgerQuery, NewLedgerEntry, OutboxMessage, ReplayRow } from './types.js';
import { OUTCOME_VALUES, checkLedgerEntry } from './validate.js';

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

const BASE_COLUMNS = 'seq, id, at, lane, kind, outcome, reasons, alerts, credential, subject_ref, subject_name, category, temperature';

// The reads' SQL, exported so the growth bench can show each one's query plan
// (bench/ledger-growth.ts); which index serves which is in docs/store.md "Indexes".
export const HOURLY_SQL = `SELECT CAST((at - @from) / 3600000 AS INTEGER) AS hour, kind, outcome, count(*) AS n FROM ledger
  WHERE at >= @from AND at < @to GROUP BY hour, kind, outcome ORDER BY hour`;
// First by time, then by seq, so two rows in the same millisecond always give the same answer.
export const FIRST_PASSAGES_SQL = `SELECT subjectRef, at, lane, outcome FROM (
    SELECT subject_ref AS subjectRef, at, lane, outcome,
           ROW_NUMBER() OVER (PARTITION BY subject_ref ORDER BY at, seq) AS n
    FROM ledger
    WHERE kind = 'decision' AND subject_ref IS NOT NULL AND at >= @from AND at < @to)
  WHERE n = 1`;
export const REPLAY_SQL = `SELECT seq, id, at, lane, outcome, reasons, category, subject_ref, profile, facts FROM ledger
  WHERE facts IS NOT NULL AND kind = 'decision' AND at >= ? AND at < ? ORDER BY seq`;
export const VEHICLE_GOODS_SQL = "SELECT goods FROM ledger WHERE plate = ? AND at >= ? AND at < ? AND outcome = 'admit' ORDER BY seq";

/** The search filters that are a column's equality: parameter, column. */
const EQUALITY_FILTERS = [
  ['lane', 'lane'],
  ['outcome', 'outcome'],
  ['subjectRef', 'subject_ref'],
  ['credential', 'credential'],
] as const;

/** The guard search's SQL for the filters set in `params` (named parameters as in QueryParams). */
export function ledgerQuerySql(columns: string, params: QueryParams): string {
  const where: string[] = [];
  for (const [k, col] of EQUALITY_FILTERS) if (params[k] !== undefined) where.push(`${col} = @${k}`);
  if (params.matchRef !== undefined) where.push('(subject_ref = @matchRef OR instr(subject_name, @matchName) > 0)');
  if (params.from !== undefined) where.push('at >= @from');
  if (params.to !== undefined) where.push('at < @to');
  if (params.beforeSeq !== undefined) where.push('seq < @beforeSeq');
  // The page's seqs are chosen first, on an index where one covers the filters (seq is in
  // every index), and only the page's rows are read: sorting a day's 60 000 whole rows to
  // keep 200 took 250 ms on a 10 M-row ledger (bench/ledger-growth.ts).
  const filter = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
  return `SELECT ${columns} FROM ledger WHERE seq IN (SELECT seq FROM ledger${filter} ORDER BY seq DESC LIMIT @limit) ORDER BY seq DESC`;
}

/**
 * Rows the name part of a date-less "who" search reads per request, at most. A name is
 * matched as a substring, which no index serves, so the rows are read backwards from the
 * page's start; NAME_SCAN_ROWS keeps one request under 100 ms of SQLite work on a
 * 10 M-row ledger (bench/ledger-growth.ts): 30 000 rows took 8–40 ms with the pages in
 * memory and up to 80 ms from disk (60 000: up to 160 ms); the page says how far back names
 * were searched so the console can continue from there.
 */
export const NAME_SCAN_ROWS = 30_000;

/**
 * A date range of at most this many rows is searched whole in one request, as query()
 * does: a day of a large mine (60 000 rows) took 25–55 ms on a 10 M-row ledger.
 */
export const RANGE_WHOLE_ROWS = 100_000;

/** What the guard search's paged form needs beyond the filters. */
export interface LedgerSearchOptions {
  /** Epoch ms: rows older than this have no name any more (privacy.personalDataDays), so names are not searched there. */
  namesFrom: number;
  /** Rows the name part reads per request at most (default NAME_SCAN_ROWS). */
  nameScanRows?: number;
  /** A date range of at most this many rows is searched whole (default RANGE_WHOLE_ROWS). */
  wholeRangeRows?: number;
}

/** One page of the guard search. */
export interface LedgerSearchPage {
  /** Newest first. */
  rows: LedgerEntry[];
  /**
   * The `beforeSeq` of the next page, or null when nothing older matches. Every match at
   * or above it is in this or an earlier page; rows below it in this page (matches of the
   * pseudonym found past the names' frontier) may come again on a later page.
   */
  nextBefore: number | null;
  /** Names were searched in rows from this one on only (null: in every row that can hold a name). */
  searchedBackTo: { seq: number; at: number } | null;
}

/** The name part of search(): a rowid range read backwards (NOT INDEXED: an index on `at` would read further). */
export function searchNamesSql(filters: string): string {
  const extra = filters.length > 0 ? ` AND ${filters}` : '';
  return `SELECT seq FROM ledger NOT INDEXED WHERE seq >= @lo AND seq < @hi AND instr(subject_name, @matchName) > 0 AND at >= @namesFrom${extra} ORDER BY seq DESC LIMIT @limit`;
}

/** The pseudonym part of search(): its index, over the whole ledger. */
export function searchRefsSql(filters: string): string {
  const extra = filters.length > 0 ? ` AND ${filters}` : '';
  return `SELECT seq FROM ledger INDEXED BY ledger_subject_ref WHERE subject_ref = @matchRef AND seq < @top${extra} ORDER BY seq DESC LIMIT @limit`;
}

export interface LedgerRoomOptions {
  file: string;
  outbox: OutboxRoom;
  /** Counts one use of an approval in the row's transaction (the facts room's approval_uses). */
  countApprovalUse: (key: string, at: number) => void;
  /** Links each row into the hash chain in its transaction; absent before store schema 10. */
  chain: ChainRoom | null;
}

export class LedgerRoom {
  readonly #db: Database.Database;
  readonly #o: LedgerRoomOptions;
  /** Columns to select; later columns read as NULL in files opened with an older migration list. */
  readonly #columns: string;
  /** profile, profile_hash and facts exist from schema 4 on. */
  readonly #hasPolicy: boolean;
  #range: Database.Statement<[number, number], LedgerRow> | undefined;
  #byIds: Database.Statement<[string], LedgerRow> | undefined;
  readonly #vehicleGoods: Database.Statement<[string, number, number], { goods: string | null }> | null;
  readonly #queries = new Map<string, Database.Statement<[Record<string, unknown>], LedgerRow>>();
  #search: SearchStatements | undefined;
  readonly #append: (entry: NewLedgerEntry, toOutbox: (row: LedgerEntry) => OutboxMessage | null) => LedgerEntry;

  constructor(db: Database.Database, o: LedgerRoomOptions) {
    this.#db = db;
    this.#o = o;
    // Schema 3: actor, note; 4: profile, profile_hash, facts; 6: approver, approval_key;
    // 8: responsible, crew_id; 9: plate, goods.
    const hasActor = hasColumn(db, 'ledger', 'actor');
    this.#hasPolicy = hasColumn(db, 'ledger', 'facts');
    const hasApprovalUses = hasColumn(db, 'ledger', 'approver');
    const hasCrews = hasColumn(db, 'ledger', 'responsible');
    const hasVehicles = hasColumn(db, 'ledger', 'plate');
    this.#columns =
      `${BASE_COLUMNS}, ${hasActor ? 'actor, note' : 'NULL AS actor, NULL AS note'}` +
      `, ${this.#hasPolicy ? 'profile, profile_hash' : 'NULL AS profile, NULL AS profile_hash'}` +
      `, ${hasApprovalUses ? 'approver' : 'NULL AS approver'}` +
      `, ${hasCrews ? 'responsible, crew_id' : 'NULL AS responsible, NULL AS crew_id'}` +
      `, ${hasVehicles ? 'plate, goods' : 'NULL AS plate, NULL AS goods'}`;
    const chained = o.chain !== null;
    const optional = [
      ...(hasActor ? ['actor', 'note'] : []),
      ...(this.#hasPolicy ? ['profile', 'profile_hash', 'facts'] : []),
      ...(hasApprovalUses ? ['approver', 'approval_key'] : []),
      ...(hasCrews ? ['responsible', 'crew_id'] : []),
      ...(hasVehicles ? ['plate', 'goods'] : []),
      ...(chained ? ['person_salt', 'person_commit', 'health_salt', 'health_commit'] : []),
    ];
    const insertColumns = [...BASE_COLUMNS.split(', ').filter((c) => c !== 'seq'), ...optional];
    // Positional parameters from one reused array: binding ~27 named ones looks each name up.
    const insert = db.prepare<[ColumnValue[]]>(`INSERT INTO ledger (${insertColumns.join(', ')}) VALUES (${insertColumns.map(() => '?').join(', ')})`);
    const args: ColumnValue[] = new Array<ColumnValue>(insertColumns.length);
    // A read of the new row gives NULL for the columns this file does not have (older schemas).
    const present = new Set(insertColumns);
    // Looked up once here, not per row.
    const [pActor, pNote, pProfile, pProfileHash, pApprover, pResponsible, pCrewId, pPlate, pGoods] = (
      ['actor', 'note', 'profile', 'profile_hash', 'approver', 'responsible', 'crew_id', 'plate', 'goods'] as const
    ).map((k) => present.has(k));
    const readBack = (seq: number, c: StoredColumns): LedgerRow => ({
      seq,
      id: c.id,
      at: c.at,
      lane: c.lane,
      kind: c.kind,
      outcome: c.outcome,
      reasons: c.reasons,
      alerts: c.alerts,
      credential: c.credential,
      subject_ref: c.subject_ref,
      subject_name: c.subject_name,
      category: c.category,
      temperature: c.temperature,
      actor: pActor ? c.actor : null,
      note: pNote ? c.note : null,
      profile: pProfile ? c.profile : null,
      profile_hash: pProfileHash ? c.profile_hash : null,
      approver: pApprover ? c.approver : null,
      responsible: pResponsible ? c.responsible : null,
      crew_id: pCrewId ? c.crew_id : null,
      plate: pPlate ? c.plate : null,
      goods: pGoods ? c.goods : null,
    });
    this.#vehicleGoods = hasVehicles ? db.prepare(VEHICLE_GOODS_SQL) : null;

    this.#append = db.transaction((entry: NewLedgerEntry, toOutbox: (row: LedgerEntry) => OutboxMessage | null) => {
      const columns = storedColumns(entry);
      // The salts, commitments and content hash are the stored values' (chain.ts); set
      // one by one on columns made with them, so the object keeps its shape.
      let content: string | null = null;
      if (chained) {
        const c = sealLedgerRow(columns);
        columns.person_salt = c.person_salt;
        columns.person_commit = c.person_commit;
        columns.health_salt = c.health_salt;
        columns.health_commit = c.health_commit;
        content = c.content;
      }
      const byName: Columns = columns;
      for (let i = 0; i < insertColumns.length; i++) args[i] = byName[insertColumns[i]!] ?? null;
      let seq: number;
      try {
        seq = Number(insert.run(args).lastInsertRowid);
      } catch (err) {
        if (isUniqueViolation(err, 'ledger.id')) {
          throw new StoreError(
            'STORE_DUPLICATE_EVENT',
            `event ${JSON.stringify(entry.id)} is already in the ledger of ${o.file}; nothing written ` +
              '(expected a fresh event id per passage; a retry of a committed event needs no second write)',
            { file: o.file, id: entry.id },
            err,
          );
        }
        throw err;
      }
      if (o.chain !== null && content !== null) o.chain.appendHex('ledger', seq, entry.at, content);
      // The use is counted in the row's own transaction: an admission without its count
      // (or a count without its admission) cannot survive a crash.
      if (entry.approvalKey) o.countApprovalUse(entry.approvalKey, entry.at);
      // The row as committed, so the outbox message describes exactly that: the stored
      // column values (strings made well-formed, JSON as its text) read as a SELECT of the
      // row would read them, without the SELECT.
      const committed = ledgerFromRow(readBack(seq, columns));
      const msg = toOutbox(committed);
      if (msg !== null) o.outbox.insert(msg, entry.id);
      return committed;
    });
  }

  append(entry: NewLedgerEntry, toOutbox: (row: LedgerEntry) => OutboxMessage | null): LedgerEntry {
    checkLedgerEntry(entry);
    const row = this.#append(entry, toOutbox);
    // Committed, unless a caller's transaction holds this one: then its commit is not ours to know.
    if (!this.#db.inTransaction) this.#o.chain?.committed();
    return row;
  }

  query(q: LedgerQuery): LedgerEntry[] {
    const params = checkQuery(q);
    const sql = ledgerQuerySql(this.#columns, params);
    // At most 2^8 shapes of this query exist, so caching by SQL text stays small.
    let stmt = this.#queries.get(sql);
    if (stmt === undefined) {
      stmt = this.#db.prepare(sql);
      this.#queries.set(sql, stmt);
    }
    return stmt.all(params).map(ledgerFromRow);
  }

  /**
   * The guard search as pages that each cost a bounded amount of work. Without a name or
   * id ("who") this is query(). With one, the pseudonym is matched on its index over the
   * whole ledger, but the name (a substring, no index) only in the rows of the personal-data
   * window, and at most `nameScanRows` of them per page, backwards from the page's start;
   * the page then says how far back names were searched (searchedBackTo) and nextBefore
   * continues from there. A date range of at most `wholeRangeRows` rows is searched whole, as
   * query() does (the `at` index bounds the work).
   */
  search(q: LedgerQuery, o: LedgerSearchOptions): LedgerSearchPage {
    const p = checkQuery(q);
    if (!Number.isFinite(o.namesFrom)) throw invalidQuery('search namesFrom', o.namesFrom, 'epoch milliseconds');
    const budget = o.nameScanRows ?? NAME_SCAN_ROWS;
    if (!Number.isSafeInteger(budget) || budget < 1) throw invalidQuery('search nameScanRows', budget, 'a whole number ≥ 1');
    const wholeRange = o.wholeRangeRows ?? RANGE_WHOLE_ROWS;
    if (!Number.isSafeInteger(wholeRange) || wholeRange < 0) throw invalidQuery('search wholeRangeRows', wholeRange, 'a whole number ≥ 0');
    const whole = (): LedgerSearchPage => {
      const rows = this.query(q);
      const last = rows.at(-1);
      return { rows, nextBefore: rows.length >= p.limit && last !== undefined ? last.seq : null, searchedBackTo: null };
    };
    if (p.matchRef === undefined || p.matchName === undefined) return whole();
    const s = (this.#search ??= this.#searchStatements());
    // Seq bounds from times, on the `at` index: the first row at or after a time. Seq
    // order is taken as time order here, as the retention job takes it when it erases.
    const firstAt = (t: number): number | null => s.firstAt.get(t)?.seq ?? null;
    const top = p.beforeSeq ?? (s.maxSeq.get()?.n ?? 0) + 1;
    const toSeq = p.to === undefined ? null : firstAt(p.to);
    const hi = Math.min(top, toSeq ?? top);
    if (p.from !== undefined) {
      const fromSeq = firstAt(p.from) ?? hi;
      if (hi - fromSeq <= wholeRange) return whole();
    }
    const namesFrom = Math.max(o.namesFrom, p.from ?? Number.NEGATIVE_INFINITY);
    const nameStart = firstAt(namesFrom);
    const namesDone = nameStart === null || hi - budget <= nameStart;
    const floor = nameStart === null ? hi : Math.max(nameStart, hi - budget);
    const filters = searchFilters(p);
    const named = { ...filters.params, limit: p.limit, lo: floor, hi, namesFrom, matchName: p.matchName };
    const refd = { ...filters.params, limit: p.limit, top, matchRef: p.matchRef };
    const key = filters.sql;
    let stmts = s.byShape.get(key);
    if (stmts === undefined) {
      stmts = { names: this.#db.prepare(searchNamesSql(filters.sql)), refs: this.#db.prepare(searchRefsSql(filters.sql)) };
      s.byShape.set(key, stmts);
    }
    const seqs = new Set<number>();
    if (floor < hi) for (const r of stmts.names.all(named)) seqs.add(r.seq);
    for (const r of stmts.refs.all(refd)) seqs.add(r.seq);
    const page = [...seqs].sort((a, b) => b - a).slice(0, p.limit);
    const rows = page.length === 0 ? [] : s.bySeqs.all(JSON.stringify(page)).map(ledgerFromRow);
    const last = page.at(-1);
    // Complete down to: the page's last row when the page is full, and never below the names' frontier.
    const completeTo = Math.max(page.length >= p.limit && last !== undefined ? last : Number.NEGATIVE_INFINITY, namesDone ? Number.NEGATIVE_INFINITY : floor);
    return {
      rows,
      nextBefore: Number.isFinite(completeTo) ? completeTo : null,
      searchedBackTo: namesDone ? null : { seq: floor, at: s.atOrAfter.get(floor)?.at ?? namesFrom },
    };
  }

  #searchStatements(): SearchStatements {
    return {
      firstAt: this.#db.prepare('SELECT seq FROM ledger INDEXED BY ledger_at WHERE at >= ? ORDER BY at, seq LIMIT 1'),
      maxSeq: this.#db.prepare('SELECT max(seq) AS n FROM ledger'),
      atOrAfter: this.#db.prepare('SELECT at FROM ledger WHERE seq >= ? ORDER BY seq LIMIT 1'),
      bySeqs: this.#db.prepare(`SELECT ${this.#columns} FROM ledger WHERE seq IN (SELECT value FROM json_each(?)) ORDER BY seq DESC`),
      byShape: new Map(),
    };
  }

  range(fromSeq: number, toSeq: number): LedgerEntry[] {
    for (const [what, v] of [['fromSeq', fromSeq], ['toSeq', toSeq]] as const) {
      if (!Number.isSafeInteger(v) || v < 0) throw invalidQuery(`ledgerRange ${what}`, v, 'a ledger seq (integer ≥ 0)');
    }
    this.#range ??= this.#db.prepare(`SELECT ${this.#columns} FROM ledger WHERE seq BETWEEN ? AND ? ORDER BY seq`);
    return this.#range.all(fromSeq, toSeq).map(ledgerFromRow);
  }

  byIds(ids: readonly string[]): LedgerEntry[] {
    if (!Array.isArray(ids) || ids.length > MAX_QUERY_LIMIT || ids.some((id) => typeof id !== 'string')) {
      throw invalidQuery('ledgerByIds ids', ids, `an array of at most ${MAX_QUERY_LIMIT} event ids`);
    }
    if (ids.length === 0) return [];
    this.#byIds ??= this.#db.prepare(`SELECT ${this.#columns} FROM ledger WHERE id IN (SELECT value FROM json_each(?)) ORDER BY seq DESC`);
    return this.#byIds.all(JSON.stringify(ids)).map(ledgerFromRow);
  }

  lastSeq(): number {
    return (this.#db.prepare('SELECT max(seq) AS n FROM ledger').get() as { n: number | null }).n ?? 0;
  }

  hourly(from: number, to: number): LedgerHourCount[] {
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || to <= from) {
      throw invalidQuery('ledgerHourly range', { from, to }, 'whole epoch ms with from < to');
    }
    return this.#db
      .prepare<[Record<string, number>], LedgerHourCount>(HOURLY_SQL)
      .all({ from, to });
  }

  firstPassages(from: number, to: number): FirstPassage[] {
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || to <= from) {
      throw invalidQuery('firstPassages range', { from, to }, 'whole epoch ms with from < to');
    }
    return this.#db
      .prepare<[Record<string, number>], FirstPassage>(FIRST_PASSAGES_SQL)
      .all({ from, to });
  }

  /** Goods of the admissions of `plate` in [from, to) (epoch ms), in ledger order; empty before schema 9. */
  vehicleGoods(plate: string, from: number, to: number): string[] {
    return (this.#vehicleGoods?.all(plate, from, to) ?? []).map((r) => r.goods ?? '');
  }

  *replayRows(q: { from?: number; to?: number } = {}): IterableIterator<ReplayRow> {
    if (!this.#hasPolicy) return;
    const from = q.from ?? Number.MIN_SAFE_INTEGER;
    const to = q.to ?? Number.MAX_SAFE_INTEGER;
    for (const v of [from, to]) if (!Number.isFinite(v)) throw invalidQuery('replayRows from/to', v, 'epoch milliseconds');
    const stmt = this.#db.prepare<[number, number], ReplayDbRow>(REPLAY_SQL);
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
}

/**
 * The entry as the ledger stores it, by column: JSON columns as their text, absent
 * optionals as NULL, strings well-formed (as SQLite keeps them), so what is hashed is
 * exactly what a verifier reads back.
 */
type StoredColumns = Omit<LedgerRow, 'seq'> & { facts: string | null; approval_key: string | null } & PersonalCommitments;

function storedColumns(e: NewLedgerEntry): StoredColumns {
  return {
    id: wellFormed(e.id),
    at: e.at,
    lane: wellFormed(e.lane),
    kind: e.kind,
    outcome: e.outcome,
    reasons: JSON.stringify(e.reasons),
    alerts: JSON.stringify(e.alerts),
    credential: wellFormed(e.credential),
    subject_ref: wellFormed(e.subjectRef),
    subject_name: wellFormed(e.subjectName),
    category: e.category,
    temperature: e.temperature,
    actor: wellFormed(e.actor ?? null),
    note: wellFormed(e.note ?? null),
    profile: wellFormed(e.profile ?? null),
    profile_hash: wellFormed(e.profileHash ?? null),
    // Always a string or null for SQLite: the facts object is never bound as is.
    facts: e.facts ? JSON.stringify(e.facts) : null,
    approver: wellFormed(e.approver ?? null),
    approval_key: wellFormed(e.approvalKey ?? null),
    responsible: wellFormed(e.responsible ?? null),
    crew_id: wellFormed(e.crewId ?? null),
    plate: wellFormed(e.plate ?? null),
    goods: wellFormed(e.goods ?? null),
    // Set by the append when the file has a chain (commitPersonal).
    person_salt: null,
    person_commit: null,
    health_salt: null,
    health_commit: null,
  };
}

function ledgerFromRow(r: LedgerRow): LedgerEntry {
  const e: LedgerEntry = {
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
  // Set one by one (in this order, as the keys always were), not spread from temporary
  // objects: this runs for every decision and every row read.
  // Only overrides carry these; other rows read back as written.
  if (r.actor !== null) e.actor = r.actor;
  if (r.note !== null) e.note = r.note;
  // Only when present, so rows no policy decided read back exactly as written.
  if (r.profile !== null) e.profile = r.profile;
  if (r.profile_hash !== null) e.profileHash = r.profile_hash;
  if (r.approver !== null) e.approver = r.approver;
  if (r.responsible !== null) e.responsible = r.responsible;
  if (r.crew_id !== null) e.crewId = r.crew_id;
  if (r.plate !== null) e.plate = r.plate;
  if (r.goods !== null) e.goods = r.goods;
  return e;
}

interface SearchStatements {
  firstAt: Database.Statement<[number], { seq: number }>;
  maxSeq: Database.Statement<[], { n: number | null }>;
  atOrAfter: Database.Statement<[number], { at: number }>;
  bySeqs: Database.Statement<[string], LedgerRow>;
  /** The name and pseudonym parts, by the other filters' SQL. */
  byShape: Map<string, { names: Database.Statement<[Record<string, unknown>], { seq: number }>; refs: Database.Statement<[Record<string, unknown>], { seq: number }> }>;
}

/** The filters other than "who" and the seq cursor, as SQL and its parameters (for search()). */
function searchFilters(p: QueryParams): { sql: string; params: Record<string, string | number> } {
  const where: string[] = [];
  const params: Record<string, string | number> = {};
  for (const [k, col] of EQUALITY_FILTERS) {
    const v = p[k];
    if (v !== undefined) {
      where.push(`${col} = @${k}`);
      params[k] = v;
    }
  }
  // `+at`: a filter on the rows read, never the index the statement is to use.
  if (p.from !== undefined) {
    where.push('+at >= @from');
    params['from'] = p.from;
  }
  if (p.to !== undefined) {
    where.push('+at < @to');
    params['to'] = p.to;
  }
  return { sql: where.join(' AND '), params };
}

// A type alias, not an interface, so it is assignable to better-sqlite3's named bindings.
export type QueryParams = {
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
  const p: QueryParams = { limit: checkLimit(q.limit ?? DEFAULT_QUERY_LIMIT, q.limit) };
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
