// /healthz says whether the database and the broker are reachable (503 when either is
// down) and how much is waiting; /metrics lists the ingest counters.
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCentralConfig } from '../../central/config.js';
import type { CentralHealth } from '../../central/http.js';
import { CentralService } from '../../central/service.js';
import { Cleanup, SHARED_BROKER, freePort, silentLogger, tcpProxy, tempDir, waitFor } from '../gateway/telemetry/helpers.js';
import { PG_URL, dropSchema, uniqueSchema } from './helpers.js';

const TOKEN = 'f'.repeat(48);

describe('central HTTP', () => {
  let cleanup: Cleanup;

  beforeEach(() => {
    cleanup = new Cleanup();
  });
  afterEach(() => cleanup.run());

  async function start(o: { dbUrl: string; mqttUrl: string; metricsToken?: string }): Promise<CentralService> {
    const dataDir = await tempDir(cleanup, 'central-http');
    if (o.metricsToken !== undefined) await writeFile(`${dataDir}/metrics-token`, `${o.metricsToken}\n`);
    const schema = uniqueSchema();
    cleanup.add(() => dropSchema(schema));
    const clientId = `office-http-${randomUUID().slice(0, 8)}`;
    const yaml = [
      `dataDir: ${JSON.stringify(dataDir)}`,
      `database: { url: ${JSON.stringify(o.dbUrl)} }`,
      `mqtt: { url: ${JSON.stringify(o.mqttUrl)}, clientId: ${clientId}, topicPrefix: test-${randomUUID()}, sessionExpiryS: 60 }`,
      `http: { host: 127.0.0.1, port: 0${o.metricsToken === undefined ? '' : ', metricsTokenFile: metrics-token'} }`,
    ].join('\n');
    const service = new CentralService(parseCentralConfig(yaml, `${dataDir}/central.yaml`), { logger: silentLogger(), dbSchema: schema });
    cleanup.add(() => service.stop());
    await service.start();
    return service;
  }
  const health = async (s: CentralService): Promise<{ code: number; body: CentralHealth }> => {
    const res = await fetch(`${s.url}/healthz`);
    return { code: res.status, body: (await res.json()) as CentralHealth };
  };

  it('answers 200 with database, broker and backlog when both are up, and 503 once the database is gone', async () => {
    const proxy = await tcpProxy(cleanup, Number(new URL(PG_URL).port || 5432));
    const viaProxy = new URL(PG_URL);
    viaProxy.port = String(proxy.port);
    const s = await start({ dbUrl: viaProxy.toString(), mqttUrl: SHARED_BROKER });
    await waitFor('broker connected', () => s.link.state.connected);
    const up = await health(s);
    expect(up.code).toBe(200);
    expect(up.body).toMatchObject({ status: 'ok', database: { engine: 'postgres', ok: true }, broker: { connected: true, url: SHARED_BROKER }, backlog: 0 });
    await proxy.cut();
    const down = await health(s);
    expect(down.code).toBe(503);
    expect(down.body).toMatchObject({ status: 'down', database: { ok: false }, broker: { connected: true } });
  });

  it('answers 503 while the broker cannot be reached', async () => {
    const s = await start({ dbUrl: PG_URL, mqttUrl: `mqtt://127.0.0.1:${await freePort()}` });
    const r = await health(s);
    expect(r.code).toBe(503);
    expect(r.body).toMatchObject({ status: 'down', database: { ok: true }, broker: { connected: false } });
  });

  it('serves the ingest metrics in the Prometheus format to the http.metricsTokenFile token, and nothing without it', async () => {
    const s = await start({ dbUrl: PG_URL, mqttUrl: SHARED_BROKER, metricsToken: TOKEN });
    expect((await fetch(`${s.url}/metrics`)).status).toBe(401);
    const text = await (await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    for (const name of [
      'central_messages_received_total',
      'central_rows_committed_total',
      'central_duplicates_total',
      'central_integrity_conflicts_total',
      'central_batch_size',
      'central_commit_seconds',
      'central_gaps_open',
      'central_resends_requested_total',
      'central_backlog',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });
});
