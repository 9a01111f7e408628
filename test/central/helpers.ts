// Shared parts of the central office tests: a fresh database per test on the machine's
// PostgreSQL (a schema of its own, dropped afterwards) or on PGlite (a temp folder), and
// the exact payloads a gateway publishes.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import pg from 'pg';
import { openDb, type Db } from '../../central/db/adapter.js';
import { migrate } from '../../central/db/migrations.js';
import { toEventMessage, type EventMessageV1 } from '../../gateway/telemetry/event-message.js';
import type { Cleanup } from '../gateway/telemetry/helpers.js';

export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const ENGINES = ['postgres', 'pglite'] as const;
export type Engine = (typeof ENGINES)[number];

export function uniqueSchema(): string {
  return `t_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
}

/** Drops a test schema from the shared test database. */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

export interface TestDb {
  db: Db;
  /** For a service under test: database URL (null = PGlite), data dir, schema. */
  url: string | null;
  dataDir: string;
  schema: string | undefined;
}

/** A migrated database of its own, removed at cleanup. */
export async function testDb(cleanup: Cleanup, engine: Engine): Promise<TestDb> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'central-db-'));
  cleanup.add(() => rm(dataDir, { recursive: true, force: true }));
  const schema = engine === 'postgres' ? uniqueSchema() : undefined;
  if (schema) cleanup.add(() => dropSchema(schema));
  const url = engine === 'postgres' ? PG_URL : null;
  const db = await openDb({ url, dataDir, ...(schema ? { schema } : {}) });
  cleanup.add(() => db.close());
  await migrate(db);
  return { db, url, dataDir, schema };
}

let seqCounter = 0;

/** An event payload exactly as the gateway builds it (toEventMessage), plus `historical`. */
export function eventPayload(
  ctx: { site: string; checkpoint: string },
  seq: number,
  overrides: Partial<EventMessageV1> & { historical?: boolean } = {},
): EventMessageV1 & { historical?: boolean } {
  seqCounter += 1;
  const msg = toEventMessage(
    {
      id: randomUUID(),
      seq,
      at: Date.UTC(2026, 11, 4, 8, 0, 0) + seq * 1000,
      lane: 'in-1',
      kind: 'decision',
      outcome: 'refuse',
      reasons: [{ code: 'FEVER', text: { zh: '发热', en: 'Fever' } }],
      alerts: [{ kind: 'fever', severity: 'critical', code: 'FEVER' }],
      credential: 'health-pass',
      subjectRef: `p1_${'A'.repeat(21)}${seqCounter % 10}`,
      subjectName: 'never published',
      category: 'employee',
      temperature: 38.2,
    } as unknown as Parameters<typeof toEventMessage>[0],
    ctx,
  );
  return { ...msg, historical: false, ...overrides };
}

export function alertPayload(ctx: { site: string; checkpoint: string }, eventId: string | null, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    v: 1,
    id: randomUUID(),
    at: '2026-12-04T08:00:01.000Z',
    site: ctx.site,
    checkpoint: ctx.checkpoint,
    lane: 'in-1',
    kind: 'fever',
    severity: 'critical',
    code: 'TEMP_FEVER',
    eventId,
    detail: 'Temperature 38.2 °C is at or above 37.3 °C',
    historical: false,
    ...overrides,
  };
}

/** A database of its own on the machine's PostgreSQL (for a service process), dropped at cleanup. */
export async function testDatabase(cleanup: Cleanup): Promise<string> {
  const name = uniqueSchema();
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  cleanup.add(async () => {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await c.end();
    }
  });
  const u = new URL(PG_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

export interface ServiceConfigOptions {
  dataDir: string;
  databaseUrl: string | null;
  mqttUrl: string;
  clientId: string;
  prefix: string;
  sharedGroup?: string;
  protocolVersion?: 4 | 5 | 'auto';
  /** Default 0 (any free port); `central events` on PGlite needs the real one. */
  httpPort?: number;
  batchMax?: number;
  batchMs?: number;
  signingKeyFile?: string;
  /** Site id → pseudonym secret file (the `sites` section). */
  sites?: Record<string, string>;
  afterMs?: number;
  retryMs?: number;
  checkMs?: number;
  /** integrity.chainCheckMs (default 600000: off for a test's duration). */
  chainCheckMs?: number;
  /** Short by default, so a test leaves no long-lived session on the shared broker. */
  sessionExpiryS?: number;
}

/** /metrics needs a console session or this token: every test service is given it. */
export const METRICS_TOKEN = 'test-metrics-token-0123456789abcdef0123';

/** Writes the metrics token into `dir` (mode 0600); returns the file's path. */
export function metricsTokenFile(dir: string): string {
  const file = path.join(dir, 'metrics-token');
  writeFileSync(file, `${METRICS_TOKEN}\n`, { mode: 0o600 });
  return file;
}

/** A service's /metrics text, read with the test token. */
export async function readMetrics(serviceUrl: string): Promise<string> {
  return (await fetch(`${serviceUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
}

/** A config/central.yaml for a test service, written into dataDir; returns its path. */
export async function writeServiceConfig(o: ServiceConfigOptions): Promise<string> {
  const { writeFile } = await import('node:fs/promises');
  const file = path.join(o.dataDir, `central-${o.clientId}.yaml`);
  const lines = [
    // Tests sign with the demo office key and use the demo secret: only a demo may.
    'demo: true',
    `logLevel: ${process.env.TEST_LOG ?? 'info'}`,
    `dataDir: ${JSON.stringify(o.dataDir)}`,
    ...(o.databaseUrl ? ['database:', `  url: ${JSON.stringify(o.databaseUrl)}`] : []),
    'mqtt:',
    `  url: ${o.mqttUrl}`,
    `  protocolVersion: ${o.protocolVersion ?? 5}`,
    `  clientId: ${o.clientId}`,
    `  topicPrefix: ${o.prefix}`,
    `  sessionExpiryS: ${o.sessionExpiryS ?? 300}`,
    ...(o.sharedGroup ? [`  sharedGroup: ${o.sharedGroup}`] : []),
    `http: { host: 127.0.0.1, port: ${o.httpPort ?? 0}, metricsTokenFile: ${JSON.stringify(metricsTokenFile(o.dataDir))} }`,
    `ingest: { batchMax: ${o.batchMax ?? 500}, batchMs: ${o.batchMs ?? 20} }`,
    'gapRepair:',
    `  afterMs: ${o.afterMs ?? 600000}`,
    `  retryMs: ${o.retryMs ?? 600000}`,
    `  checkMs: ${o.checkMs ?? 600000}`,
    `integrity: { chainCheckMs: ${o.chainCheckMs ?? 600000} }`,
    ...(o.signingKeyFile ? ['updates:', `  signingKeyFile: ${JSON.stringify(o.signingKeyFile)}`] : []),
    ...(o.sites ? ['sites:', ...Object.entries(o.sites).map(([site, f]) => `  ${site}: { pseudonymSecretFile: ${JSON.stringify(f)} }`)] : []),
  ];
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

/**
 * A fake gateway: plain mqtt.js publishing the gateway's exact event payloads (seq 1..n)
 * at QoS 1, `window` in flight at once; resolves with the ids once the broker took all.
 */
export async function publishEvents(
  url: string,
  topic: string,
  ctx: { site: string; checkpoint: string },
  n: number,
  opts: { protocolVersion?: 4 | 5; window?: number; firstSeq?: number } = {},
): Promise<string[]> {
  const client: MqttClient = connect(url, { clientId: `fake-gw-${randomUUID().slice(0, 8)}`, protocolVersion: opts.protocolVersion ?? 4, reconnectPeriod: 200 });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  const ids: string[] = [];
  const window = opts.window ?? 1000;
  const first = opts.firstSeq ?? 1;
  try {
    for (let start = first; start < first + n; start += window) {
      const batch: Promise<unknown>[] = [];
      for (let seq = start; seq < Math.min(start + window, first + n); seq++) {
        const e = eventPayload(ctx, seq);
        ids.push(e.id);
        batch.push(client.publishAsync(topic, JSON.stringify(e), { qos: 1 }));
      }
      await Promise.all(batch);
    }
  } finally {
    await client.endAsync();
  }
  return ids;
}
