// Small helpers the store's rooms share: limits, schema probes for files opened with an
// older migration list (upgrade tests), and the store's error for a bad argument.
import Database from 'better-sqlite3';
import { StoreError } from './errors.js';

export const DEFAULT_QUERY_LIMIT = 100;
export const MAX_QUERY_LIMIT = 1000;

/** Whether `table` has `column` in the open file (features arrive with migrations). */
export function hasColumn(db: Database.Database, table: string, column: string): boolean {
  return db.prepare<[], { name: string }>(`PRAGMA table_info(${table})`).all().some((c) => c.name === column);
}

export function hasTable(db: Database.Database, name: string): boolean {
  return db.prepare<[string], { n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?").get(name)?.n === 1;
}

/**
 * Runs `fn` (a transaction) as a WAL commit without its own fsync, then puts the
 * connection's synchronous level back. For writes that may be lost to a power cut and
 * redone (retention steps, delivered marks): the next synchronous=FULL commit of a
 * decision makes them durable, and they never hold the event loop in an fsync.
 * db.pragma each time, not a statement prepared once: SQLite applies `PRAGMA synchronous`
 * when the statement is prepared, so a prepared one set the whole connection to NORMAL.
 */
export function withoutOwnFsync<T>(db: Database.Database, fn: () => T): T {
  const level = Number(db.pragma('synchronous', { simple: true }));
  db.pragma('synchronous = NORMAL');
  try {
    return fn();
  } finally {
    db.pragma(`synchronous = ${level}`);
  }
}

/** A statement prepared on first use and kept: for tables that older files do not have. */
export function lazyStatements(db: Database.Database): <R>(sql: string) => Database.Statement<unknown[], R> {
  const cache = new Map<string, Database.Statement<unknown[], unknown>>();
  return <R>(sql: string) => {
    let st = cache.get(sql);
    if (st === undefined) {
      st = db.prepare(sql);
      cache.set(sql, st);
    }
    return st as Database.Statement<unknown[], R>;
  };
}

export function invalidQuery(field: string, value: unknown, expected: string): StoreError {
  return new StoreError('STORE_INVALID_QUERY', `${field} ${stringify(value)} is invalid: expected ${expected}`, {
    field,
    value,
  });
}

export function checkLimit(limit: unknown, given: unknown): number {
  if (!Number.isSafeInteger(limit) || (limit as number) < 1 || (limit as number) > MAX_QUERY_LIMIT) {
    throw invalidQuery('limit', given, `an integer from 1 to ${MAX_QUERY_LIMIT}`);
  }
  return limit as number;
}

function stringify(v: unknown): string {
  if (typeof v === 'number') return String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

export function isUniqueViolation(err: unknown, column: string): boolean {
  return err instanceof Database.SqliteError && err.code === 'SQLITE_CONSTRAINT_UNIQUE' && err.message.includes(column);
}

export function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
