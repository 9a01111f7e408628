// One small interface over the two engines, so the same SQL runs on a PostgreSQL server
// (node-postgres pool) and on embedded PGlite (a data folder, no server). Only what the
// service needs: parameterised queries, multi-statement scripts, explicit transactions.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { CentralError } from '../errors.js';

export type Row = Record<string, unknown>;

export interface Queryable {
  query<R extends Row = Row>(sql: string, params?: unknown[]): Promise<R[]>;
  /** Runs several statements separated by ";" (no parameters): migrations. */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly engine: 'postgres' | 'pglite';
  /** BEGIN … COMMIT on one connection; ROLLBACK when `fn` throws (rethrown). */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface OpenDbOptions {
  /** postgres://… or null for PGlite in `dataDir/pglite`. */
  url: string | null;
  dataDir: string;
  poolSize?: number;
  /** Schema to create and use (tests: one per test); default public. */
  schema?: string;
  /** Called when an idle pooled connection fails (server restart): health goes red. */
  onError?: (err: Error) => void;
}

export async function openDb(opts: OpenDbOptions): Promise<Db> {
  return opts.url === null ? openPglite(opts) : openPostgres(opts.url, opts);
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function searchPath(schema: string | undefined): string | null {
  if (schema === undefined) return null;
  if (!SCHEMA_NAME.test(schema)) throw new CentralError('CENTRAL_DB_FAILED', `schema "${schema}": expected a lowercase SQL identifier`);
  return schema;
}

async function openPostgres(url: string, opts: OpenDbOptions): Promise<Db> {
  const pg = (await import('pg')).default;
  // bigint (int8) and numeric as JS numbers: seq and counters stay far below 2^53.
  const types = { getTypeParser: (oid: number, format?: string) => (oid === 20 ? Number : pg.types.getTypeParser(oid, format as 'text')) };
  const schema = searchPath(opts.schema);
  const pool = new pg.Pool({ connectionString: url, max: opts.poolSize ?? 4, types, ...(schema ? { options: `-c search_path=${schema}` } : {}) });
  // An idle client's error (the server went away) is emitted on the pool: without a
  // listener it would crash the process. The next query reconnects.
  pool.on('error', (err) => opts.onError?.(err));
  try {
    if (schema) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    else await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new CentralError('CENTRAL_DB_FAILED', `cannot connect to PostgreSQL at ${redactDbUrl(url)}: ${(err as Error).message}`, { cause: err });
  }
  return {
    engine: 'postgres',
    async query<R extends Row>(sql: string, params?: unknown[]) {
      return (await pool.query(sql, params)).rows as R[];
    },
    async exec(sql) {
      await pool.query(sql);
    },
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn({
          query: async <R extends Row>(sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as R[],
          exec: async (sql: string) => {
            await client.query(sql);
          },
        });
        await client.query('COMMIT');
        client.release();
        return result;
      } catch (err) {
        // A broken connection must not go back to the pool.
        await client.query('ROLLBACK').then(
          () => client.release(),
          (e: unknown) => client.release(e as Error),
        );
        throw err;
      }
    },
    async close() {
      await pool.end();
    },
  };
}

async function openPglite(opts: OpenDbOptions): Promise<Db> {
  const { PGlite } = await import('@electric-sql/pglite');
  const dir = path.join(opts.dataDir, 'pglite');
  mkdirSync(dir, { recursive: true });
  const schema = searchPath(opts.schema);
  const int8 = 20;
  const db = await PGlite.create(dir, { parsers: { [int8]: (v: string) => Number(v) } });
  if (schema) await db.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}; SET search_path TO ${schema}`);
  return {
    engine: 'pglite',
    async query<R extends Row>(sql: string, params?: unknown[]) {
      return (await db.query<R>(sql, params)).rows;
    },
    async exec(sql) {
      await db.exec(sql);
    },
    async transaction(fn) {
      // PGlite has one connection; its transaction() serialises callers.
      return db.transaction(async (tx) =>
        fn({
          query: async <R extends Row>(sql: string, params?: unknown[]) => (await tx.query<R>(sql, params)).rows,
          exec: async (sql: string) => {
            await tx.exec(sql);
          },
        }),
      );
    },
    async close() {
      await db.close();
    },
  };
}

/** The URL without its password, for logs and health. */
export function redactDbUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}
