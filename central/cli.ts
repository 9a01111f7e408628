// What `central events` needs, behind one call: read the newest events from the office
// database named by the service's configuration. A PostgreSQL server is queried directly;
// an embedded PGlite folder may be open in one process only, so the running service is
// asked over HTTP (GET /api/events), and the folder is opened here only when no service
// answers. Also `central officers add|remove|list`: the console's accounts, in the same
// database (a PGlite folder only while the service is stopped).
import { centralConfigPath, loadCentralConfig } from './config.js';
import { openDb } from './db/adapter.js';
import { migrate } from './db/migrations.js';
import { newestEvents, type EventRow, type EventsQuery } from './query.js';
import { readCliToken } from './web/cli-token.js';
import { OfficerError, Officers, type Officer } from './web/officers.js';

function serviceOrigin(listenHost: string, port: number): string {
  const host = listenHost === '0.0.0.0' ? '127.0.0.1' : listenHost;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export async function readEvents(configFile: string | undefined, q: EventsQuery): Promise<{ events: EventRow[]; source: string }> {
  const loaded = loadCentralConfig(configFile ?? centralConfigPath());
  const { config, databaseUrl, paths } = loaded;
  if (databaseUrl === null) {
    const url = new URL(`${serviceOrigin(config.http.host, config.http.port)}/api/events`);
    url.searchParams.set('limit', String(q.limit));
    if (q.site) url.searchParams.set('site', q.site);
    if (q.checkpoint) url.searchParams.set('checkpoint', q.checkpoint);
    if (q.since !== undefined) url.searchParams.set('since', new Date(q.since).toISOString());
    try {
      // The service's local token (its data folder, which this user can read anyway).
      const token = readCliToken(paths.dataDir);
      const res = await fetch(url, { signal: AbortSignal.timeout(10_000), headers: token === null ? {} : { authorization: `Bearer ${token}` } });
      if (!res.ok) throw new Error(`${url.href}: HTTP ${res.status} ${await res.text()}`);
      return { events: ((await res.json()) as { events: EventRow[] }).events, source: `the running service at ${url.origin}` };
    } catch (err) {
      const code = (err as { cause?: { code?: string } }).cause?.code;
      if (code !== 'ECONNREFUSED') throw err;
      // No service: the folder is free to open here.
    }
  }
  const db = await openDb({ url: databaseUrl, dataDir: paths.dataDir });
  try {
    await migrate(db);
    return { events: await newestEvents(db, q), source: databaseUrl === null ? `PGlite in ${paths.dataDir}` : 'PostgreSQL' };
  } finally {
    await db.close();
  }
}

/** Runs `fn` with the officer accounts of the configured database. */
export async function withOfficers<T>(configFile: string | undefined, fn: (o: Officers) => Promise<T>): Promise<T> {
  const { config, databaseUrl, paths } = loadCentralConfig(configFile ?? centralConfigPath());
  if (databaseUrl === null) {
    // One process per PGlite folder: a second one opening it under the service would corrupt it.
    const url = `${serviceOrigin(config.http.host, config.http.port)}/healthz`;
    const answered = await fetch(url, { signal: AbortSignal.timeout(3000) }).then(
      () => true,
      () => false,
    );
    if (answered) {
      throw new OfficerError('OFFICER_DB_BUSY', `the service at ${url} holds the PGlite folder ${paths.dataDir}: stop it, run the command, start it again (or use PostgreSQL)`);
    }
  }
  const db = await openDb({ url: databaseUrl, dataDir: paths.dataDir });
  try {
    await migrate(db);
    return await fn(new Officers(db, { maxFailures: config.console.lockoutFailures, lockoutMs: config.console.lockoutMs }));
  } finally {
    await db.close();
  }
}

export type { Officer };
