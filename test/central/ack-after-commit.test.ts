// kill -9 of the built service at any moment loses nothing: a fake gateway publishes
// schema-valid events to a private Mosquitto (max_queued_messages 0, persistence), the
// service is killed mid-drain, restarted with the same client id (persistent session),
// and every event id ends up in the database exactly once.
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../central/db/adapter.js';
import { Cleanup, privateMosquitto, tempDir, waitFor, type PrivateMosquitto } from '../gateway/telemetry/helpers.js';
import { publishEvents, readMetrics, testDatabase, writeServiceConfig } from './helpers.js';
import { startServiceProcess } from './process.js';

const CTX = { site: 'mine-a', checkpoint: 'gate-1' };

async function countEvents(db: Db): Promise<number> {
  try {
    return Number((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM events'))[0]?.n ?? 0);
  } catch {
    return 0; // before the service's migrations ran
  }
}

async function withPglite<T>(dataDir: string, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await openDb({ url: null, dataDir });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

describe('acknowledgement after commit', () => {
  let cleanup: Cleanup;
  let broker: PrivateMosquitto;

  beforeEach(async () => {
    cleanup = new Cleanup();
    broker = await privateMosquitto(cleanup);
  });
  afterEach(() => cleanup.run());

  it('loses nothing and stores nothing twice when the service is killed -9 mid-drain (PostgreSQL, 50 000 events)', async () => {
    await killMidDrain(await testDatabase(cleanup), 50_000);
  }, 300_000);

  it('loses nothing and stores nothing twice when the service is killed -9 mid-drain (PGlite, 50 000 events)', async () => {
    await killMidDrain(null, 50_000);
  }, 300_000);

  async function killMidDrain(databaseUrl: string | null, n: number): Promise<void> {
    const dataDir = await tempDir(cleanup, 'central-kill');
    const prefix = `test-${randomUUID()}`;
    const config = await writeServiceConfig({ dataDir, databaseUrl, mqttUrl: broker.url, clientId: 'office-kill', prefix });
    const first = await startServiceProcess(cleanup, config);
    // The service subscribed (persistent session) before anything is published.
    await waitFor('service connected', async () => ((await (await fetch(`${first.url}/healthz`)).json()) as { broker: { connected: boolean } }).broker.connected);

    const started = Date.now();
    const published = publishEvents(broker.url, `${prefix}/${CTX.site}/${CTX.checkpoint}/events`, CTX, n);
    // PGlite: the service holds the folder, so count through its HTTP API until the kill.
    const db = databaseUrl === null ? null : await openDb({ url: databaseUrl, dataDir });
    if (db) cleanup.add(() => db.close());
    const committed = async (url: string): Promise<number> => {
      if (db) return countEvents(db);
      const m = await readMetrics(url);
      return Number(/^central_rows_committed_total\{type="event"\} (\d+)/m.exec(m)?.[1] ?? 0);
    };
    await waitFor('some events committed', async () => (await committed(first.url)) >= Math.min(2000, n / 5), 120_000);
    await first.kill9();
    // The process is dead: even a PGlite folder may be opened here now.
    const atKill = db ? await countEvents(db) : await withPglite(dataDir, countEvents);
    const ids = await published;
    const publishedMs = Date.now() - started;

    const second = await startServiceProcess(cleanup, config);
    await waitFor(`all ${n} events committed`, async () => (db ? (await countEvents(db)) === n : (await committed(second.url)) >= n - atKill), 240_000);
    const drainedMs = Date.now() - started;
    let stored: { id: string }[];
    let total: number;
    if (db) {
      stored = await db.query<{ id: string }>('SELECT id::text AS id FROM events');
      total = await countEvents(db);
    } else {
      // Stop the service, then open its PGlite folder here.
      await second.stop();
      stored = await withPglite(dataDir, (own) => own.query<{ id: string }>('SELECT id::text AS id FROM events'));
      total = stored.length;
    }
    expect(atKill).toBeGreaterThan(0);
    expect(atKill).toBeLessThan(n); // really mid-drain
    expect(total).toBe(n);
    expect(new Set(stored.map((r) => r.id))).toEqual(new Set(ids));
    process.stderr.write(
      `[ack-after-commit] ${databaseUrl ? 'PostgreSQL' : 'PGlite'}: ${n} events, killed with ${atKill} committed; all published after ${publishedMs} ms, all stored exactly once ${drainedMs} ms after the start\n`,
    );
  }
});
