// Versioned schema migrations. The database's PRAGMA user_version is the authority on
// which migrations have run; schema_migrations keeps a human-readable history beside it.
// Rules: never edit a shipped migration, only append a new one with the next version.
import type Database from 'better-sqlite3';
import { writeGenesis } from './chain.js';
import { StoreError } from './errors.js';

export interface Migration {
  /** 1, 2, 3, ... without gaps; becomes PRAGMA user_version once applied. */
  version: number;
  name: string;
  /** SQL run inside one transaction together with the version bump. */
  up: string;
  /** Rows SQL alone cannot compute (hashes), written after `up` in the same transaction. */
  data?: (db: Database.Database, now: () => number) => void;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema: ledger, outbox, roster, watchlist, approvals, risk areas, meta',
    up: `
      -- Enumerated columns (kind, outcome, category, ...) have no CHECK lists on purpose:
      -- SQLite can only change a CHECK by rebuilding the table, which an append-only
      -- ledger must never need. The store validates values before writing.
      CREATE TABLE ledger (
        -- AUTOINCREMENT: a seq is never reused, so it is a safe paging and dedup key.
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        id           TEXT    NOT NULL UNIQUE,
        at           INTEGER NOT NULL,
        lane         TEXT    NOT NULL,
        kind         TEXT    NOT NULL,
        outcome      TEXT    NOT NULL,
        reasons      TEXT    NOT NULL CHECK (json_valid(reasons) AND json_type(reasons) = 'array'),
        alerts       TEXT    NOT NULL CHECK (json_valid(alerts) AND json_type(alerts) = 'array'),
        credential   TEXT    NOT NULL,
        subject_ref  TEXT,
        subject_name TEXT,
        category     TEXT,
        temperature  REAL
      );
      CREATE INDEX ledger_at ON ledger (at);
      CREATE INDEX ledger_lane_at ON ledger (lane, at);
      CREATE INDEX ledger_outcome_at ON ledger (outcome, at);
      CREATE INDEX ledger_subject_ref ON ledger (subject_ref) WHERE subject_ref IS NOT NULL;

      -- The ledger is the record of who passed: nothing may alter or remove a row.
      CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
      BEGIN SELECT RAISE(ABORT, 'ledger is append-only: UPDATE refused'); END;
      CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
      BEGIN SELECT RAISE(ABORT, 'ledger is append-only: DELETE refused'); END;

      CREATE TABLE outbox (
        -- AUTOINCREMENT: ids stay increasing after delivered rows are pruned, so a
        -- drain's "afterId" cursor never skips or repeats a message.
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        topic        TEXT    NOT NULL,
        payload      TEXT    NOT NULL,
        qos          INTEGER NOT NULL CHECK (qos IN (0, 1)),
        created_at   INTEGER NOT NULL,
        delivered_at INTEGER
      );
      -- Only undelivered rows are indexed: the drain and the depth gauge read just these.
      CREATE INDEX outbox_pending ON outbox (id) WHERE delivered_at IS NULL;

      CREATE TABLE roster (
        staff_id   TEXT    PRIMARY KEY,
        name       TEXT    NOT NULL,
        category   TEXT    NOT NULL,
        health     TEXT    NOT NULL CHECK (json_valid(health) AND json_type(health) = 'object'),
        active     INTEGER NOT NULL CHECK (active IN (0, 1)),
        updated_at INTEGER NOT NULL
      );

      CREATE TABLE watchlist (
        id          INTEGER PRIMARY KEY,
        subject_id  TEXT NOT NULL,
        kind        TEXT NOT NULL,
        valid_from  TEXT NOT NULL,
        valid_until TEXT,
        note        TEXT
      );
      CREATE INDEX watchlist_subject ON watchlist (subject_id);

      CREATE TABLE approvals (
        id              INTEGER PRIMARY KEY,
        subject_id      TEXT NOT NULL,
        approver        TEXT NOT NULL,
        host_department TEXT NOT NULL,
        valid_from      TEXT NOT NULL,
        valid_until     TEXT NOT NULL
      );
      CREATE INDEX approvals_subject ON approvals (subject_id);

      CREATE TABLE risk_areas (
        id     INTEGER PRIMARY KEY,
        region TEXT NOT NULL,
        level  TEXT NOT NULL,
        since  TEXT NOT NULL,
        until  TEXT
      );
      CREATE INDEX risk_areas_region ON risk_areas (region);

      CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'alerts: fever, codes, watchlist, devices, overrides, rejected updates; guard acknowledgement',
    up: `
      -- kind/severity have no CHECK lists, for the same reason as the ledger's columns.
      CREATE TABLE alerts (
        seq      INTEGER PRIMARY KEY AUTOINCREMENT,
        id       TEXT    NOT NULL UNIQUE,
        at       INTEGER NOT NULL,
        lane     TEXT,
        kind     TEXT    NOT NULL,
        severity TEXT    NOT NULL,
        code     TEXT    NOT NULL,
        event_id TEXT,
        detail   TEXT,
        acked_by TEXT,
        acked_at INTEGER
      );
      CREATE INDEX alerts_at ON alerts (at);
      CREATE INDEX alerts_lane_at ON alerts (lane, at);
      -- The console's badge counts these on every refresh.
      CREATE INDEX alerts_unacked ON alerts (at) WHERE acked_at IS NULL;
      -- An alert is a record too: only its acknowledgement may change, never its facts.
      CREATE TRIGGER alerts_facts_fixed BEFORE UPDATE OF id, at, lane, kind, severity, code, event_id, detail ON alerts
      BEGIN SELECT RAISE(ABORT, 'alerts are append-only: only acked_by/acked_at may change'); END;
      CREATE TRIGGER alerts_no_delete BEFORE DELETE ON alerts
      BEGIN SELECT RAISE(ABORT, 'alerts are append-only: DELETE refused'); END;
    `,
  },
  {
    version: 3,
    name: 'guard console: guard accounts; ledger actor and note of overrides',
    up: `
      -- ADD COLUMN rewrites no row, so the ledger's append-only triggers stay untouched.
      ALTER TABLE ledger ADD COLUMN actor TEXT;
      ALTER TABLE ledger ADD COLUMN note TEXT;
      CREATE INDEX ledger_credential_at ON ledger (credential, at);

      -- PINs are scrypt hashes with their parameters ("scrypt$N$r$p$salt$hash").
      -- failed_count and locked_until persist the lockout across restarts.
      CREATE TABLE guards (
        id           TEXT    PRIMARY KEY,
        name         TEXT    NOT NULL,
        pin_hash     TEXT    NOT NULL,
        created_at   INTEGER NOT NULL,
        failed_count INTEGER NOT NULL DEFAULT 0,
        locked_until INTEGER
      );
    `,
  },
  {
    version: 4,
    name: 'policy: profile name and hash of each decision; evaluated facts for policy replay',
    up: `
      -- Nullable: rows from before this version, and rows no policy decided (device
      -- faults, overrides), have none. facts holds no names (see EvaluatedFacts).
      ALTER TABLE ledger ADD COLUMN profile TEXT;
      ALTER TABLE ledger ADD COLUMN profile_hash TEXT;
      ALTER TABLE ledger ADD COLUMN facts TEXT CHECK (facts IS NULL OR (json_valid(facts) AND json_type(facts) = 'object'));
    `,
  },
  {
    version: 5,
    name: 'zones: occupancy counts, who is inside, guard corrections',
    up: `
      -- Occupancy lives here, not in memory, so counts survive a restart.
      CREATE TABLE zone_counts (
        zone       TEXT    PRIMARY KEY,
        count      INTEGER NOT NULL CHECK (count >= 0),
        updated_at INTEGER NOT NULL
      );
      -- Who is inside (pseudonyms): anti-passback and "no second seat for the same person".
      CREATE TABLE zone_presence (
        zone        TEXT    NOT NULL,
        subject_ref TEXT    NOT NULL,
        entered_at  INTEGER NOT NULL,
        PRIMARY KEY (zone, subject_ref)
      );
      -- A guard's correction of a count, signed: who, when, from what to what, why.
      CREATE TABLE zone_corrections (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        zone       TEXT    NOT NULL,
        at         INTEGER NOT NULL,
        guard      TEXT    NOT NULL,
        from_count INTEGER NOT NULL,
        to_count   INTEGER NOT NULL,
        reason     TEXT    NOT NULL
      );
      CREATE TRIGGER zone_corrections_no_update BEFORE UPDATE ON zone_corrections
      BEGIN SELECT RAISE(ABORT, 'zone corrections are append-only'); END;
    `,
  },
  {
    version: 6,
    name: 'visitor approvals: office id, allowed checkpoints, use limit and count; approver of each admission',
    up: `
      ALTER TABLE approvals ADD COLUMN approval_id TEXT;
      ALTER TABLE approvals ADD COLUMN checkpoints TEXT CHECK (checkpoints IS NULL OR (json_valid(checkpoints) AND json_type(checkpoints) = 'array'));
      ALTER TABLE approvals ADD COLUMN max_uses INTEGER CHECK (max_uses IS NULL OR max_uses >= 1);
      -- Apart from approvals, which every update replaces whole: the count must outlive
      -- a resend of the same approval. Keyed by approvalKey() (the office's id when given).
      CREATE TABLE approval_uses (
        approval_key TEXT    PRIMARY KEY,
        uses         INTEGER NOT NULL CHECK (uses >= 0),
        last_used_at INTEGER NOT NULL
      );
      -- Who signed the approval an admission used ("who handles it signs"). Local only:
      -- no payload builder reads these columns.
      ALTER TABLE ledger ADD COLUMN approver TEXT;
      ALTER TABLE ledger ADD COLUMN approval_key TEXT;
    `,
  },
  {
    version: 7,
    name: 'leave and return: leave records per staff id',
    up: `
      -- One row per trip: a later import of the same trip (same staff id and out) fills
      -- in or corrects the return; earlier trips stay as the history.
      CREATE TABLE leave_records (
        staff_id    TEXT    NOT NULL,
        destination TEXT    NOT NULL,
        out_at      TEXT    NOT NULL,
        back_at     TEXT,
        recorded_at INTEGER NOT NULL,
        PRIMARY KEY (staff_id, out_at)
      );
    `,
  },
  {
    version: 8,
    name: 'contractor crews: registrations with responsible person, members and itinerary; responsible person of each admission',
    up: `
      -- Replaced whole by every crews update, like approvals.
      CREATE TABLE crews (
        crew_id     TEXT PRIMARY KEY,
        responsible TEXT NOT NULL,
        valid_from  TEXT NOT NULL,
        valid_until TEXT NOT NULL,
        itinerary   TEXT NOT NULL CHECK (json_valid(itinerary) AND json_type(itinerary) = 'array')
      );
      -- One row per member, so a passage finds its crews by subject id through an index.
      CREATE TABLE crew_members (
        crew_id    TEXT NOT NULL,
        subject_id TEXT NOT NULL,
        PRIMARY KEY (crew_id, subject_id)
      );
      CREATE INDEX crew_members_subject ON crew_members (subject_id);
      -- The person responsible for the crew an admission relied on. Local only, like the
      -- approver: no payload builder reads these columns.
      ALTER TABLE ledger ADD COLUMN responsible TEXT;
      ALTER TABLE ledger ADD COLUMN crew_id TEXT;
    `,
  },
  {
    version: 9,
    name: 'vehicle gate: plate and goods category of each passage with a vehicle pass',
    up: `
      -- Local only, like the responsible person: no payload builder reads these columns.
      ALTER TABLE ledger ADD COLUMN plate TEXT;
      ALTER TABLE ledger ADD COLUMN goods TEXT;
      -- The daily limit of non-essential entries counts a plate's admissions of the day.
      CREATE INDEX ledger_plate_at ON ledger (plate, at) WHERE plate IS NOT NULL;
    `,
  },
  {
    version: 10,
    name: 'hash chain: ledger rows, zone corrections and applied updates linked by SHA-256; personal fields behind salted commitments',
    up: `
      -- A salt and a commitment per group of personal columns (chain.ts PERSONAL_GROUPS):
      -- person = subject_name, note, approver, approval_key, responsible, plate;
      -- health = temperature, facts. NULL salt: the group is erased, was empty, or the row
      -- predates the chain (the genesis row says up to which seq).
      ALTER TABLE ledger ADD COLUMN person_salt BLOB;
      ALTER TABLE ledger ADD COLUMN person_commit BLOB;
      ALTER TABLE ledger ADD COLUMN health_salt BLOB;
      ALTER TABLE ledger ADD COLUMN health_commit BLOB;
      -- One row per record, in commit order: seq 1, 2, 3, ... (no AUTOINCREMENT: the hashes,
      -- not a counter, say whether a row is missing). kind ledger / zone-correction: ref is
      -- the row's key in its table (ledger.seq, zone_corrections.id); other kinds carry
      -- their content in body (canonical JSON). Hashes are 32-byte SHA-256 values.
      CREATE TABLE chain (
        seq       INTEGER PRIMARY KEY,
        kind      TEXT    NOT NULL,
        ref       INTEGER,
        at        INTEGER NOT NULL,
        body      TEXT    CHECK (body IS NULL OR json_valid(body)),
        prev_hash BLOB    NOT NULL CHECK (length(prev_hash) = 32),
        hash      BLOB    NOT NULL CHECK (length(hash) = 32)
      );
      DROP TRIGGER ledger_no_update;
      -- What a row says happened never changes.
      CREATE TRIGGER ledger_facts_fixed BEFORE UPDATE OF seq, id, at, lane, kind, outcome, reasons, alerts, credential,
        subject_ref, category, actor, profile, profile_hash, crew_id, goods, person_commit, health_commit ON ledger
      BEGIN SELECT RAISE(ABORT, 'ledger is append-only: UPDATE refused (personal fields may only be erased)'); END;
      -- Personal fields may only be erased: a whole group with its salt, the commitment kept.
      CREATE TRIGGER ledger_person_erase_only BEFORE UPDATE OF subject_name, note, approver, approval_key, responsible, plate, person_salt ON ledger
      WHEN NOT (
        (NEW.subject_name IS NULL AND NEW.note IS NULL AND NEW.approver IS NULL AND NEW.approval_key IS NULL
          AND NEW.responsible IS NULL AND NEW.plate IS NULL AND NEW.person_salt IS NULL)
        OR (NEW.subject_name IS OLD.subject_name AND NEW.note IS OLD.note AND NEW.approver IS OLD.approver
          AND NEW.approval_key IS OLD.approval_key AND NEW.responsible IS OLD.responsible AND NEW.plate IS OLD.plate
          AND NEW.person_salt IS OLD.person_salt))
      BEGIN SELECT RAISE(ABORT, 'ledger personal fields can only be erased: every field of the group and its salt set to NULL'); END;
      CREATE TRIGGER ledger_health_erase_only BEFORE UPDATE OF temperature, facts, health_salt ON ledger
      WHEN NOT (
        (NEW.temperature IS NULL AND NEW.facts IS NULL AND NEW.health_salt IS NULL)
        OR (NEW.temperature IS OLD.temperature AND NEW.facts IS OLD.facts AND NEW.health_salt IS OLD.health_salt))
      BEGIN SELECT RAISE(ABORT, 'ledger health fields can only be erased: every field of the group and its salt set to NULL'); END;
      CREATE TRIGGER chain_no_update BEFORE UPDATE ON chain
      BEGIN SELECT RAISE(ABORT, 'chain is append-only: UPDATE refused'); END;
      CREATE TRIGGER chain_no_delete BEFORE DELETE ON chain
      BEGIN SELECT RAISE(ABORT, 'chain is append-only: DELETE refused'); END;
      CREATE TRIGGER zone_corrections_no_delete BEFORE DELETE ON zone_corrections
      BEGIN SELECT RAISE(ABORT, 'zone corrections are append-only: DELETE refused'); END;
    `,
    // The genesis row, saying up to which seq the rows were made before the chain.
    data: writeGenesis,
  },
];

export const LATEST_SCHEMA_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

export interface MigrationResult {
  /** user_version found on open. */
  from: number;
  /** user_version after the run. */
  to: number;
  /** Versions applied by this run (empty when already current). */
  applied: number[];
}

/**
 * Bring the database up to the newest version this code knows. Each migration runs in
 * its own IMMEDIATE transaction (write lock taken up front, so two processes opening
 * the same file cannot both apply it) and the version is re-read inside it.
 */
export function migrate(
  db: Database.Database,
  file: string,
  now: () => number,
  migrations: readonly Migration[] = MIGRATIONS,
): MigrationResult {
  assertOrdered(migrations);
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  const readVersion = (): number => Number(db.pragma('user_version', { simple: true }));

  const from = readVersion();
  refuseTooNew(file, from, latest);
  const applied: number[] = [];

  for (const m of migrations) {
    if (m.version <= from) continue;
    const step = db.transaction(() => {
      const current = readVersion();
      refuseTooNew(file, current, latest);
      if (current >= m.version) return; // another process applied it meanwhile
      db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
      db.exec(m.up);
      m.data?.(db, now);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        now(),
      );
      // PRAGMA takes no bound parameters; the version is an integer checked above.
      db.pragma(`user_version = ${m.version}`);
      applied.push(m.version);
    });
    try {
      step.immediate();
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw new StoreError(
        'STORE_MIGRATION_FAILED',
        `${file}: migration ${m.version} (${m.name}) failed and was rolled back; ` +
          `the database stays at version ${readVersion()}: ${err instanceof Error ? err.message : String(err)}`,
        { file, version: m.version },
        err,
      );
    }
  }
  return { from, to: readVersion(), applied };
}

function refuseTooNew(file: string, found: number, known: number): void {
  if (found > known) {
    throw new StoreError(
      'STORE_SCHEMA_TOO_NEW',
      `${file} has schema version ${found}, but this gateway knows versions up to ${known}; ` +
        'it was written by a newer gateway. Run that version, or open a copy made before the upgrade.',
      { file, found, known },
    );
  }
}

function assertOrdered(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1 || !Number.isSafeInteger(m.version)) {
      // A programming error, not a runtime condition: fail loudly at open.
      throw new Error(`migrations must be numbered 1, 2, 3, ... without gaps; found ${m.version} at index ${i}`);
    }
  });
}
