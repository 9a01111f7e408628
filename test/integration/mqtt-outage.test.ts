// Acceptance: a whole gateway (in-process, real SQLite, real lanes with simulated
// devices) keeps deciding through a broker outage and loses nothing. The broker is a
// Mosquitto of this test's own (max_queued_messages 0, persistence on) that it stops
// and starts; the central office is a durable QoS 1 subscriber on it.
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../gateway/config/load.js';
import { issuePass } from '../../gateway/credentials/issue.js';
import { startGateway, type RunningGateway } from '../../gateway/gateway.js';
import type { StatusMessageV1 } from '../../gateway/telemetry/link.js';
import { Cleanup, privateMosquitto, silentLogger, subscribe, uniqueClientId, waitFor } from '../gateway/telemetry/helpers.js';
import { ROOT, tempDir, writeConfig } from './helpers.js';

let cleanup: Cleanup;

beforeEach(() => {
  cleanup = new Cleanup();
});

afterEach(async () => {
  await cleanup.run();
});

describe('a broker outage with the gateway running', () => {
  it('delivers all 1000 decisions made while the broker was down, in sequence, once each after dedup', { timeout: 120_000 }, async () => {
    const broker = await privateMosquitto(cleanup);
    const site = `ito-${randomBytes(4).toString('hex')}`;
    const base = `checkpoints/${site}/mine-entrance`;
    const office = await subscribe(cleanup, broker.url, [`checkpoints/${site}/#`], { clientId: uniqueClientId('office'), clean: false });

    const dir = tempDir('outage-');
    cleanup.add(() => rmSync(dir, { recursive: true, force: true }));
    const loaded = loadConfig(writeConfig(dir, site), { MQTT_URL: broker.url, HTTP_PORT: '0' });
    const gw: RunningGateway = await startGateway(loaded, { logger: silentLogger() });
    cleanup.add(() => gw.stop());
    const status = (): StatusMessageV1[] => office.payloads(`${base}/status`).filter((p) => p !== '').map((p) => JSON.parse(p) as StatusMessageV1);
    await waitFor('gateway online', () => status().some((s) => s.state === 'online'));
    const firstSession = status().find((s) => s.state === 'online')!.session;

    await broker.stop();
    await waitFor('link down', () => gw.telemetry.link.status().state === 'disconnected');

    const key = JSON.parse(readFileSync(path.join(ROOT, 'config/demo/issuer-1.private.jwk.json'), 'utf8')) as Parameters<typeof issuePass>[1];
    const now = Date.now();
    const pass = await issuePass(
      {
        sub: 'outage-person',
        name: '王五',
        category: 'employee',
        healthCode: 'green',
        travel: { riskLevel: 'none', visits: [], asOf: new Date(now).toISOString() },
        test: { result: 'negative', sampledAt: new Date(now - 3600_000).toISOString() },
      },
      key,
      { now },
    );
    const lane = gw.lanes[0]!;
    for (let i = 0; i < 1000; i++) {
      lane.sim!.temperature(36.5);
      lane.sim!.scan(pass);
      await lane.settled();
    }
    const ledger = gw.store.queryEvents({ limit: 1000 }).reverse();
    expect(ledger).toHaveLength(1000);
    expect(gw.store.outboxDepth()).toBe(1000);

    await broker.start();
    await waitFor('all 1000 events at the office', () => office.events().length >= 1000, 90_000);
    const received = office.events();
    expect(received.map((e) => e.id)).toEqual(ledger.map((r) => r.id));
    expect(received.map((e) => e.seq)).toEqual(ledger.map((r) => r.seq));
    expect(received.every((e) => (e as unknown as { historical: boolean }).historical)).toBe(true);
    await waitFor('outbox drained', () => gw.store.outboxDepth() === 0, 30_000);

    // Status: online, the last will (offline, same session) when the broker went, online again.
    await waitFor('online again', () => status().some((s) => s.state === 'online' && s.session > firstSession));
    const seen = status().map((s) => `${s.state}:${s.session}${s.cause ? `:${s.cause}` : ''}`);
    expect(seen).toContain(`offline:${firstSession}:lost`);
    const offlineAt = seen.indexOf(`offline:${firstSession}:lost`);
    expect(seen.slice(offlineAt + 1).some((s) => s.startsWith('online:'))).toBe(true);
    expect(office.messages.map((m) => m.payload).join('\n')).not.toContain('王五');
  });
});
