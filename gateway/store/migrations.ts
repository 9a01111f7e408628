// Versioned schema migrations. The database's PRAGMA user_version is the authority on
// which migrations have run; schema_migrations keeps a human-readable history beside it.
// Rules: never edit a shipped migration, only append a new one with the next version.
import type Database from 'better-sqlite3';
import { StoreError } from './errors.js';

export interface Migration {
  /** 1, 2, 3, ... without gaps; becomes PRAGMA user_version once applied. */
  version: number;
  name: string;
  /** SQL run inside one transaction together with the version bump. */
  up: string;
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
