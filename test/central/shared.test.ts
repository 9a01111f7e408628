// Scale-out: two service instances on one MQTT 5 shared subscription group against the
// machine's Mosquitto share the events (each stored once, both instances did some), and
// both follow the retained status, whose effect does not depend on who processed it.
import { randomUUID } from 'node:crypto';
import { connect, type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCentralConfig } from '../../central/config.js';
import { CentralService } from '../../central/service.js';
import { Cleanup, SHARED_BROKER, clearRetained, silentLogger, tempDir, waitFor } from '../gateway/telemetry/helpers.js';
import { PG_URL, dropSchema, eventPayload, uniqueSchema } from './helpers.js';

const CTX = { site: 'mine-a', checkpoint: 'gate-1' };

async function startInstance(cleanup: Cleanup, o: { dataDir: string; schema: string; prefix: string; clientId: string; group?: string; protocolVersion?: 4 | 5 }): Promise<CentralService> {
  const yaml = [
    `dataDir: ${JSON.stringify(o.dataDir)}`,
    `database: { url: ${JSON.stringify(PG_URL)} }`,
    `mqtt: { url: ${SHARED_BROKER}, protocolVersion: ${o.protocolVersion ?? 5}, clientId: ${o.clientId}, topicPrefix: ${o.prefix}${o.group ? `, sharedGroup: ${o.group}` : ''} }`,
    'ingest: { batchMax: 200, batchMs: 20 }',
  ].join('\n');
  const loaded = parseCentralConfig(yaml, `${o.dataDir}/central.yaml`);
  const service = new CentralService(loaded, { logger: silentLogger(), dbSchema: o.schema, http: false });
  cleanup.add(async () => {
    await service.stop();
    // Leave no persistent session behind on the shared broker.
    const c = connect(SHARED_BROKER, { clientId: o.clientId, clean: true, protocolVersion: 4, reconnectPeriod: 0 });
    await new Promise<void>((resolve) => {
      c.once('connect', () => resolve());
      c.once('error', () => resolve());
    });
    await c.endAsync(true);
  });
  await service.start();
  await waitFor(`${o.clientId} connected`, () => service.link.state.connected);
  return service;
}

async function publisher(cleanup: Cleanup): Promise<MqttClient> {
  const client = connect(SHARED_BROKER, { clientId: `fake-gw-${randomUUID().slice(0, 8)}`, protocolVersion: 5, reconnectPeriod: 0 });
  cleanup.add(() => client.endAsync(true));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

const received = async (s: CentralService, type: string): Promise<number> =>
  (await s.metrics.received.get()).values.find((v) => v.labels.type === type)?.value ?? 0;

describe('several service instances', () => {
  let cleanup: Cleanup;
  let prefix: string;
  let schema: string;
  let dataDir: string;

  beforeEach(async () => {
    cleanup = new Cleanup();
    prefix = `test-${randomUUID()}`;
    schema = uniqueSchema();
    cleanup.add(() => dropSchema(schema));
    dataDir = await tempDir(cleanup, 'central-shared');
  });
  afterEach(() => cleanup.run());

  it('share the events of one shared subscription group: each stored once, both instances took some', async () => {
    const a = await startInstance(cleanup, { dataDir, schema, prefix, clientId: `office-a-${randomUUID().slice(0, 6)}`, group: 'office' });
    const b = await startInstance(cleanup, { dataDir, schema, prefix, clientId: `office-b-${randomUUID().slice(0, 6)}`, group: 'office' });
    const gw = await publisher(cleanup);
    const n = 2000;
    const ids: string[] = [];
    const pending: Promise<unknown>[] = [];
    for (let seq = 1; seq <= n; seq++) {
      const e = eventPayload(CTX, seq);
      ids.push(e.id);
      pending.push(gw.publishAsync(`${prefix}/${CTX.site}/${CTX.checkpoint}/events`, JSON.stringify(e), { qos: 1 }));
    }
    await Promise.all(pending);
    const count = async (): Promise<number> => Number((await a.db.query<{ n: number }>('SELECT count(*)::int AS n FROM events'))[0]?.n);
    await waitFor(`${n} events stored`, async () => (await count()) === n, 60_000);
    const rows = await a.db.query<{ id: string }>('SELECT id::text AS id FROM events');
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(ids));
    const [ra, rb] = [await received(a, 'event'), await received(b, 'event')];
    expect(ra).toBeGreaterThan(0);
    expect(rb).toBeGreaterThan(0);
    expect(ra + rb).toBeGreaterThanOrEqual(n);
  }, 90_000);

  it('works over MQTT 3.1.1 with plain subscriptions too (acknowledged after commit, batches limited by the broker\'s window)', async () => {
    const a = await startInstance(cleanup, { dataDir, schema, prefix, clientId: `office-v4-${randomUUID().slice(0, 6)}`, protocolVersion: 4 });
    const gw = await publisher(cleanup);
    const n = 300;
    await Promise.all(
      Array.from({ length: n }, (_, k) => gw.publishAsync(`${prefix}/${CTX.site}/${CTX.checkpoint}/events`, JSON.stringify(eventPayload(CTX, k + 1)), { qos: 1 })),
    );
    await waitFor(`${n} events stored`, async () => Number((await a.db.query<{ n: number }>('SELECT count(*)::int AS n FROM events'))[0]?.n) === n, 30_000);
    const h = (await a.metrics.batchSize.get()).values;
    const batches = h.find((v) => v.metricName === 'central_batch_size_count')?.value ?? 0;
    const sum = h.find((v) => v.metricName === 'central_batch_size_sum')?.value ?? 0;
    expect(batches).toBeGreaterThan(0);
    process.stderr.write(`[mqtt 3.1.1] ${n} events in ${batches} commits, ${(sum / batches).toFixed(1)} messages per commit on average\n`);
  }, 60_000);

  it('both follow the retained status (not shared): a stale will of an older session leaves the newer session online', async () => {
    const a = await startInstance(cleanup, { dataDir, schema, prefix, clientId: `office-a-${randomUUID().slice(0, 6)}`, group: 'office' });
    const b = await startInstance(cleanup, { dataDir, schema, prefix, clientId: `office-b-${randomUUID().slice(0, 6)}`, group: 'office' });
    const topic = `${prefix}/${CTX.site}/${CTX.checkpoint}/status`;
    cleanup.add(() => clearRetained(SHARED_BROKER, topic));
    const gw = await publisher(cleanup);
    const birth = { v: 1, state: 'online', session: 7, at: new Date().toISOString(), version: '0.1.0', configHash: `sha256:${'0'.repeat(32)}`, lanes: [] };
    await gw.publishAsync(topic, JSON.stringify(birth), { qos: 1, retain: true });
    await waitFor('both instances saw the birth', async () => (await received(a, 'status')) >= 1 && (await received(b, 'status')) >= 1);
    // The will of session 6, delivered late (a broker that noticed the old connection's death only now).
    await gw.publishAsync(topic, JSON.stringify({ v: 1, state: 'offline', session: 6, cause: 'lost' }), { qos: 1, retain: true });
    await waitFor('both instances saw the stale will', async () => (await received(a, 'status')) >= 2 && (await received(b, 'status')) >= 2);
    await waitFor('committed', () => a.ingest.backlog === 0 && b.ingest.backlog === 0);
    const state = async () => (await a.db.query<{ state: string; session: number }>('SELECT state, session FROM checkpoints'))[0];
    expect(await state()).toEqual({ state: 'online', session: 7 });
    await gw.publishAsync(topic, JSON.stringify({ v: 1, state: 'offline', session: 7, cause: 'lost' }), { qos: 1, retain: true });
    await waitFor('offline at session 7', async () => (await state())?.state === 'offline');
    expect(await state()).toEqual({ state: 'offline', session: 7 });
  }, 60_000);
});
