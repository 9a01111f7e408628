// One small interface over the two engines, so the same SQL runs on a PostgreSQL server
// (node-postgres pool) and on embedded PGlite (a data folder, no server). Only what the
// service needs: parameterised queries, multi-statement scripts, explicit transactions.
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
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

// PGlite runs in a worker thread of its own: the database's work (a single-threaded
// WebAssembly Postgres) then runs beside the service's own (MQTT, schema checks, hashing)
// instead of after it, as a PostgreSQL server does in its own processes. Source text
// (eval), so the same code runs from the TypeScript sources (tests) and from dist/.
const PGLITE_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const fail = (err) => ({ message: String(err && err.message || err), fields: Object.fromEntries(Object.entries(err || {}).filter(([, v]) => typeof v === 'string' || typeof v === 'number')) });
(async () => {
  const { PGlite } = await import(workerData.module);
  const db = await PGlite.create(workerData.dir, { parsers: { 20: (v) => Number(v) } });
  if (workerData.schema) await db.exec('CREATE SCHEMA IF NOT EXISTS ' + workerData.schema + '; SET search_path TO ' + workerData.schema);
  parentPort.on('message', (m) => {
    const run = m.op === 'query' ? db.query(m.sql, m.params).then((r) => r.rows) : m.op === 'exec' ? db.exec(m.sql).then(() => null) : db.close().then(() => null);
    run.then((result) => parentPort.postMessage({ id: m.id, result }), (err) => parentPort.postMessage({ id: m.id, error: fail(err) }));
  });
  parentPort.postMessage({ ready: true });
})().catch((err) => parentPort.postMessage({ fatal: fail(err) }));
`;

type WorkerAnswer = { ready: true } | { fatal: WorkerError } | { id: number; result: unknown } | { id: number; error: WorkerError };
interface WorkerError {
  message: string;
  fields: Record<string, string | number>;
}

/** An Error as the engine raised it: its message and fields (code = SQLSTATE, detail, …). */
function rebuild(e: WorkerError): Error {
  return Object.assign(new Error(e.message), e.fields);
}

async function openPglite(opts: OpenDbOptions): Promise<Db> {
  const dir = path.join(opts.dataDir, 'pglite');
  mkdirSync(dir, { recursive: true });
  const schema = searchPath(opts.schema);
  const module = pathToFileURL(createRequire(import.meta.url).resolve('@electric-sql/pglite')).href;
  const worker = new Worker(PGLITE_WORKER, { eval: true, workerData: { dir, schema, module } });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let broken: Error | null = null;
  let nextId = 0;
  const stop = (err: Error): void => {
    broken ??= err;
    for (const p of pending.values()) p.reject(broken);
    pending.clear();
  };
  const ready = new Promise<void>((resolve, reject) => {
    worker.on('message', (m: WorkerAnswer) => {
      if ('ready' in m) return resolve();
      if ('fatal' in m) {
        const err = new CentralError('CENTRAL_DB_FAILED', `cannot open PGlite in ${dir}: ${m.fatal.message}`);
        stop(err);
        return reject(err);
      }
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (pending.size === 0) worker.unref(); // idle: a finished program may exit
      if ('error' in m) p?.reject(rebuild(m.error));
      else p?.resolve(m.result);
    });
    const gone = (err: Error): void => {
      stop(new CentralError('CENTRAL_DB_FAILED', `the PGlite worker stopped: ${err.message}`, { cause: err }));
      reject(broken!);
    };
    worker.on('error', gone);
    worker.on('exit', (code) => gone(new Error(`exit code ${code}`)));
  });
  const call = (op: 'query' | 'exec' | 'close', sql?: string, params?: unknown[]): Promise<unknown> =>
    new Promise((resolve, reject) => {
      if (broken) return reject(broken);
      const id = ++nextId;
      if (pending.size === 0) worker.ref(); // an answer is awaited: keep the process alive for it
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, op, sql, params });
    });
  // One connection: a transaction holds it until COMMIT, a lone query waits for it (as
  // PGlite's own transaction() does).
  let held: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = held.then(fn);
    held = run.catch(() => undefined);
    return run;
  };
  const tx: Queryable = {
    query: async <R extends Row>(sql: string, params?: unknown[]) => (await call('query', sql, params ?? [])) as R[],
    exec: async (sql: string) => {
      await call('exec', sql);
    },
  };
  await ready;
  if (pending.size === 0) worker.unref();
  return {
    engine: 'pglite',
    query: (sql, params) => exclusive(() => tx.query(sql, params)),
    exec: (sql) => exclusive(() => tx.exec(sql)),
    transaction: (fn) =>
      exclusive(async () => {
        await tx.exec('BEGIN');
        try {
          const result = await fn(tx);
          await tx.exec('COMMIT');
          return result;
        } catch (err) {
          await tx.exec('ROLLBACK').catch(() => undefined);
          throw err;
        }
      }),
    async close() {
      await exclusive(() => call('close')).catch(() => undefined);
      await worker.terminate();
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
