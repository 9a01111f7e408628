// The local facts the policy decides from, kept current by the central office: roster
// (with leave records), watchlist, visitor approvals (with their use counts), contractor
// crews and risk areas. Lists are replaced whole; the roster is upserted by staff id.
import type Database from 'better-sqlite3';
import { approvalKey } from '../policy/decide.js';
import type { Approval, CrewRegistration, LeaveRecord, RiskArea, WatchlistEntry } from '../policy/types.js';
import { hasColumn, hasTable } from './sql.js';
import type { RosterEntry } from './types.js';
import { checkApprovals, checkCrews, checkRiskAreas, checkRosterEntries, checkWatchlistEntries } from './validate.js';

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

const ROSTER_COLUMNS = 'staff_id, name, category, health, active, updated_at';

export class FactsRoom {
  readonly #db: Database.Database;
  readonly #rosterGet: Database.Statement<[string], RosterRow>;
  readonly #rosterUpsertAll: (entries: RosterEntry[]) => number;
  readonly #watchlistFor: Database.Statement<[string], WatchlistRow>;
  readonly #watchlistReplaceAll: (entries: WatchlistEntry[]) => void;
  /** Store schema 6: approval limits and uses. */
  readonly #hasApprovalUses: boolean;
  readonly #approvalColumns: string;
  readonly #approvalsFor: Database.Statement<[string], ApprovalRow>;
  readonly #approvalsReplaceAll: (entries: Approval[]) => void;
  readonly #countUse: Database.Statement<[string, number]> | null;
  readonly #usesOf: Database.Statement<[string], { uses: number }> | null;
  /** Store schema 7: leave records. */
  readonly #leaveFor: Database.Statement<[string], { staff_id: string; destination: string; out_at: string; back_at: string | null }> | null;
  /** Store schema 8: crew registrations. */
  readonly #crewsFor: Database.Statement<[string], CrewRow> | null;
  readonly #crewsReplaceAll: ((entries: CrewRegistration[]) => void) | null;
  readonly #riskAreas: Database.Statement<[], RiskAreaRow>;
  readonly #riskAreasReplaceAll: (entries: RiskArea[]) => void;
  readonly #watchSubjects: Database.Statement<[], { subject_id: string }>;
  readonly #approvalSubjects: Database.Statement<[], { subject_id: string }>;
  readonly #crewSubjects: Database.Statement<[], { subject_id: string }> | null;
  /*
   * In-memory copies of what only an update from the central office replaces (every
   * decision reads them, and each read was a statement of its own): the risk areas, and
   * which subjects have any watchlist, approval or crew row at all (most have none, so
   * their reads are skipped). The replace methods below are the only writers of those
   * tables; each drops its copy, and a copy is only filled outside a transaction, so an
   * update rolled back can never leave one behind. Leave records are not cached: the
   * roster CLI may add them from another process while the gateway runs.
   */
  #riskAreasCache: readonly RiskArea[] | null = null;
  #watchSubjectsCache: ReadonlySet<string> | null = null;
  #approvalSubjectsCache: ReadonlySet<string> | null = null;
  #crewSubjectsCache: ReadonlySet<string> | null = null;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#rosterGet = db.prepare(`SELECT ${ROSTER_COLUMNS} FROM roster WHERE staff_id = ?`);
    const rosterUpsert = db.prepare<[Record<string, unknown>]>(
      `INSERT INTO roster (staff_id, name, category, health, active, updated_at)
       VALUES (@staffId, @name, @category, @health, @active, @updatedAt)
       ON CONFLICT (staff_id) DO UPDATE SET name = excluded.name, category = excluded.category,
         health = excluded.health, active = excluded.active, updated_at = excluded.updated_at`,
    );
    const hasLeave = hasTable(db, 'leave_records');
    this.#leaveFor = hasLeave ? db.prepare('SELECT staff_id, destination, out_at, back_at FROM leave_records WHERE staff_id = ? ORDER BY out_at') : null;
    const leaveUpsert = hasLeave
      ? db.prepare<[string, string, string, string | null, number]>(
          `INSERT INTO leave_records (staff_id, destination, out_at, back_at, recorded_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (staff_id, out_at) DO UPDATE SET destination = excluded.destination, back_at = excluded.back_at, recorded_at = excluded.recorded_at`,
        )
      : null;
    this.#rosterUpsertAll = db.transaction((entries: RosterEntry[]) => {
      for (const e of entries) {
        rosterUpsert.run({
          staffId: e.staffId,
          name: e.name,
          category: e.category,
          health: JSON.stringify(e.health),
          active: e.active ? 1 : 0,
          updatedAt: e.updatedAt,
        });
        // The trip commits with the roster row it came with (CSV import or roster update).
        if (e.leave !== undefined) leaveUpsert?.run(e.staffId, e.leave.destination, e.leave.out, e.leave.back, e.updatedAt);
      }
      return entries.length;
    });

    this.#watchlistFor = db.prepare('SELECT subject_id, kind, valid_from, valid_until, note FROM watchlist WHERE subject_id = ? ORDER BY id');
    const clearWatch = db.prepare('DELETE FROM watchlist');
    const insertWatch = db.prepare('INSERT INTO watchlist (subject_id, kind, valid_from, valid_until, note) VALUES (?, ?, ?, ?, ?)');
    this.#watchlistReplaceAll = db.transaction((entries: WatchlistEntry[]) => {
      clearWatch.run();
      for (const e of entries) insertWatch.run(e.subjectId, e.kind, e.from, e.until, e.note ?? null);
    });

    this.#hasApprovalUses = hasColumn(db, 'ledger', 'approver');
    this.#approvalColumns = `subject_id, approver, host_department, valid_from, valid_until${
      this.#hasApprovalUses ? ', approval_id, checkpoints, max_uses' : ', NULL AS approval_id, NULL AS checkpoints, NULL AS max_uses'
    }`;
    this.#approvalsFor = db.prepare(`SELECT ${this.#approvalColumns} FROM approvals WHERE subject_id = ? ORDER BY id`);
    this.#countUse = this.#hasApprovalUses
      ? db.prepare(
          `INSERT INTO approval_uses (approval_key, uses, last_used_at) VALUES (?, 1, ?)
           ON CONFLICT (approval_key) DO UPDATE SET uses = uses + 1, last_used_at = excluded.last_used_at`,
        )
      : null;
    this.#usesOf = this.#hasApprovalUses ? db.prepare('SELECT uses FROM approval_uses WHERE approval_key = ?') : null;
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

    const hasCrews = hasColumn(db, 'ledger', 'responsible');
    this.#crewsFor = hasCrews
      ? db.prepare(
          `SELECT c.crew_id, c.responsible, c.valid_from, c.valid_until, c.itinerary,
             (SELECT json_group_array(m2.subject_id) FROM crew_members m2 WHERE m2.crew_id = c.crew_id) AS members
           FROM crew_members m JOIN crews c ON c.crew_id = m.crew_id WHERE m.subject_id = ? ORDER BY c.rowid`,
        )
      : null;
    if (hasCrews) {
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

    this.#watchSubjects = db.prepare('SELECT DISTINCT subject_id FROM watchlist');
    this.#approvalSubjects = db.prepare('SELECT DISTINCT subject_id FROM approvals');
    this.#crewSubjects = hasCrews ? db.prepare('SELECT DISTINCT subject_id FROM crew_members') : null;
    this.#riskAreas = db.prepare('SELECT region, level, since, until FROM risk_areas ORDER BY id');
    const clearArea = db.prepare('DELETE FROM risk_areas');
    const insertArea = db.prepare('INSERT INTO risk_areas (region, level, since, until) VALUES (?, ?, ?, ?)');
    this.#riskAreasReplaceAll = db.transaction((entries: RiskArea[]) => {
      clearArea.run();
      for (const e of entries) insertArea.run(e.region, e.level, e.since, e.until);
    });
  }

  rosterGet(staffId: string): RosterEntry | undefined {
    const r = this.#rosterGet.get(staffId);
    return r === undefined ? undefined : rosterFromRow(r);
  }

  rosterUpsert(entries: RosterEntry[]): number {
    checkRosterEntries(entries);
    return this.#rosterUpsertAll(entries);
  }

  /** Every roster entry, withdrawn ones too, by staff id (the daily screening list). */
  rosterAll(): RosterEntry[] {
    return this.#db.prepare<[], RosterRow>(`SELECT ${ROSTER_COLUMNS} FROM roster ORDER BY staff_id`).all().map(rosterFromRow);
  }

  leaveFor(staffId: string): LeaveRecord[] {
    return (this.#leaveFor?.all(staffId) ?? []).map((r) => ({ staffId: r.staff_id, destination: r.destination, out: r.out_at, back: r.back_at }));
  }

  watchlistFor(subjectId: string): WatchlistEntry[] {
    const subjects = (this.#watchSubjectsCache ??= this.#subjects(this.#watchSubjects));
    if (subjects !== null && !subjects.has(subjectId)) return [];
    return this.#watchlistFor.all(subjectId).map((r) => {
      const e: WatchlistEntry = { subjectId: r.subject_id, kind: r.kind, from: r.valid_from, until: r.valid_until };
      if (r.note !== null) e.note = r.note;
      return e;
    });
  }

  watchlistReplace(entries: WatchlistEntry[]): void {
    checkWatchlistEntries(entries);
    try {
      this.#watchlistReplaceAll(entries);
    } finally {
      this.#watchSubjectsCache = null;
    }
  }

  approvalsAll(): Approval[] {
    return this.#db
      .prepare<[], ApprovalRow>(`SELECT ${this.#approvalColumns} FROM approvals ORDER BY id`)
      .all()
      .map((r) => this.#approvalFromRow(r));
  }

  approvalsFor(subjectId: string): Approval[] {
    const subjects = (this.#approvalSubjectsCache ??= this.#subjects(this.#approvalSubjects));
    if (subjects !== null && !subjects.has(subjectId)) return [];
    return this.#approvalsFor.all(subjectId).map((r) => this.#approvalFromRow(r));
  }

  approvalsReplace(entries: Approval[]): void {
    checkApprovals(entries);
    try {
      this.#approvalsReplaceAll(entries);
    } finally {
      this.#approvalSubjectsCache = null;
    }
  }

  /** Admissions counted under an approval key (0 when none). */
  approvalUses(key: string): number {
    return this.#usesOf?.get(key)?.uses ?? 0;
  }

  /** One more use of an approval, in the caller's transaction (the admission's). Nothing before schema 6. */
  countApprovalUse(key: string, at: number): void {
    this.#countUse?.run(key, at);
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
      a.uses = this.approvalUses(approvalKey(a));
    }
    return a;
  }

  crewsFor(subjectId: string): CrewRegistration[] {
    if (this.#crewsFor === null || this.#crewSubjects === null) return [];
    const subjects = (this.#crewSubjectsCache ??= this.#subjects(this.#crewSubjects));
    if (subjects !== null && !subjects.has(subjectId)) return [];
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
    try {
      this.#crewsReplaceAll?.(entries);
    } finally {
      this.#crewSubjectsCache = null;
    }
  }

  riskAreas(): RiskArea[] {
    let areas = this.#riskAreasCache;
    if (areas === null) {
      areas = this.#riskAreas.all().map((r) => ({ region: r.region, level: r.level, since: r.since, until: r.until }));
      if (!this.#db.inTransaction) this.#riskAreasCache = areas;
    }
    // Copies: a caller changing what it got cannot change the next decision's facts.
    return areas.map((a) => ({ region: a.region, level: a.level, since: a.since, until: a.until }));
  }

  riskAreasReplace(entries: RiskArea[]): void {
    checkRiskAreas(entries);
    try {
      this.#riskAreasReplaceAll(entries);
    } finally {
      this.#riskAreasCache = null;
    }
  }

  /** The subject ids of one facts table; null (no copy kept) inside a transaction, which may yet roll back. */
  #subjects(stmt: Database.Statement<[], { subject_id: string }>): ReadonlySet<string> | null {
    if (this.#db.inTransaction) return null;
    return new Set(stmt.all().map((r) => r.subject_id));
  }
}

function rosterFromRow(r: RosterRow): RosterEntry {
  return {
    staffId: r.staff_id,
    name: r.name,
    category: r.category,
    health: JSON.parse(r.health) as RosterEntry['health'],
    active: r.active === 1,
    updatedAt: r.updated_at,
  };
}
