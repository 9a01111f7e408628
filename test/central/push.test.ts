// The office's signed pushes (central/push.ts UpdatePusher) with real parts: it checks the
// data with the gateway's rules, signs it with the office key, publishes it retained at
// QoS 1 on the shared Mosquitto and records it in published_updates. A built gateway that
// starts afterwards gets the retained roster, applies it (an active badge admits, an
// inactive one is withdrawn) and answers; the built service stores the answer, which
// confirmations() then reads.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { compactVerify } from 'jose';
import type { JWK } from 'jose';
import { connect, type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../central/db/adapter.js';
import { confirmations, UpdatePusher } from '../../central/push.js';
import { loadTrustDir } from '../../gateway/config/trust.js';
import { pseudonym, secretFromHex } from '../../gateway/telemetry/pseudonym.js';
import { Cleanup, SHARED_BROKER, clearRetained, tempDir, uniquePrefix, waitFor } from '../gateway/telemetry/helpers.js';
import { ROOT, postJson } from '../integration/helpers.js';
import { testDatabase, testDb, writeServiceConfig } from './helpers.js';
import { startGateway } from './mine-fixture.js';
import { startServiceProcess } from './process.js';

const SIGNING_KEY = JSON.parse(readFileSync(path.join(ROOT, 'config/demo/central-1.private.jwk.json'), 'utf8')) as JWK;
const DEMO_SECRET = secretFromHex(readFileSync(path.join(ROOT, 'config/demo/pseudonym.secret'), 'utf8'))!;

async function mqttClient(cleanup: Cleanup): Promise<MqttClient> {
  const client = connect(SHARED_BROKER, { clientId: `push-test-${randomUUID().slice(0, 8)}`, reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  cleanup.add(() => client.endAsync());
  return client;
}

function pusherOn(db: Db, client: MqttClient, prefix: string, signingKey: JWK | null = SIGNING_KEY): UpdatePusher {
  return new UpdatePusher({ db: () => db, signingKey, prefix, publish: async (topic, payload, o) => void (await client.publishAsync(topic, payload, o)), now: Date.now });
}

const entry = (staffId: string, name: string, active: boolean) => ({
  staffId,
  name,
  category: 'employee',
  health: {
    healthCode: 'green',
    test: { result: 'negative', sampledAt: new Date(Date.now() - 3600_000).toISOString() },
    travel: { riskLevel: 'none', visits: [], asOf: new Date(Date.now() - 3600_000).toISOString() },
  },
  active,
  updatedAt: Date.now(),
});

describe('UpdatePusher', () => {
  let cleanup: Cleanup;
  beforeEach(() => {
    cleanup = new Cleanup();
  });
  afterEach(() => cleanup.run());

  it('signs, publishes retained and records a roster; a gateway starting later applies it and its answer reaches the office', async () => {
    const prefix = uniquePrefix();
    const site = `push-${randomBytes(3).toString('hex')}`;
    const databaseUrl = await testDatabase(cleanup);
    const dataDir = await tempDir(cleanup, 'push');
    // The built service ingests the gateway's answer into update_responses.
    const config = await writeServiceConfig({ dataDir, databaseUrl, mqttUrl: SHARED_BROKER, clientId: `office-push-${randomUUID().slice(0, 8)}`, prefix });
    const office = await startServiceProcess(cleanup, config);
    await waitFor('office connected', async () => ((await (await fetch(`${office.url}/healthz`)).json()) as { broker: { connected: boolean } }).broker.connected);
    const db = await openDb({ url: databaseUrl, dataDir });
    cleanup.add(() => db.close());
    const client = await mqttClient(cleanup);
    const topic = `${prefix}/${site}/all/cmd/roster`;
    cleanup.add(() => clearRetained(SHARED_BROKER, topic));

    const pushed = await pusherOn(db, client, prefix).push({ site, target: 'all', kind: 'roster', data: { entries: [entry('E-1', '张伟', true), entry('E-2', '王芳', false)] }, officerId: 'fang.admin' });
    expect(pushed).toMatchObject({ site, target: 'all', kind: 'roster', topic });
    expect(pushed.version).toBeGreaterThanOrEqual(Date.parse(pushed.publishedAt));
    expect(await db.query('SELECT site, target, kind, version, transaction, published_by FROM published_updates')).toEqual([
      { site, target: 'all', kind: 'roster', version: pushed.version, transaction: pushed.transaction, published_by: 'fang.admin' },
    ]);
    // Retained on the broker, signed by the office key the gateways trust.
    const reader = connect(SHARED_BROKER, { clientId: `push-reader-${randomUUID().slice(0, 8)}`, reconnectPeriod: 0 });
    cleanup.add(() => reader.endAsync());
    const retained = await new Promise<{ payload: string; retain: boolean }>((resolve, reject) => {
      reader.once('error', reject);
      reader.on('message', (_t, payload, packet) => resolve({ payload: payload.toString(), retain: packet.retain }));
      reader.once('connect', () => void reader.subscribeAsync(topic, { qos: 1 }));
    });
    expect(retained.retain).toBe(true);
    const keys = await loadTrustDir(path.join(ROOT, 'config/central'));
    const { payload, protectedHeader } = await compactVerify(retained.payload, keys.get(String(SIGNING_KEY.kid))!.key);
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', typ: 'checkpoint-update+jws', kid: SIGNING_KEY.kid });
    expect(JSON.parse(Buffer.from(payload).toString('utf8'))).toMatchObject({ kind: 'roster', site, checkpoint: 'all', version: pushed.version, transaction: pushed.transaction });

    // Nobody answered yet; a gateway of the site starts, takes the retained roster and answers.
    expect(await confirmations(db, site, 'roster', pushed.transaction)).toEqual([]);
    const gw = await startGateway(cleanup, site, 'cp-1', prefix);
    await waitFor('the gateway\'s answer at the office', async () => (await confirmations(db, site, 'roster', pushed.transaction)).length > 0, 20_000);
    expect(await confirmations(db, site, 'roster', pushed.transaction)).toEqual([{ checkpoint: 'cp-1', status: 'applied', errorCode: null, at: expect.any(String) }]);

    // Applied for real: the active badge admits, the inactive one is withdrawn.
    // (A withdrawn badge resolves to nobody: its row names no subject.)
    const passage = async (staffId: string): Promise<{ outcome: string; reasons: string[]; subject: string | null }> => {
      const rows = () => db.query<{ outcome: string; reasons: string[]; subject: string | null }>('SELECT outcome, reasons, subject FROM events WHERE site = $1 ORDER BY seq', [site]);
      const before = (await rows()).length;
      await postJson(`${gw.url}/api/sim/lanes/in-1/temperature`, { celsius: 36.5 });
      await postJson(`${gw.url}/api/sim/lanes/in-1/scan`, { payload: `CPB1:${staffId}` });
      await waitFor(`the passage of ${staffId} at the office`, async () => (await rows()).length > before);
      return (await rows())[before]!;
    };
    expect(await passage('E-1')).toEqual({ outcome: 'admit', reasons: [], subject: pseudonym(DEMO_SECRET, 'E-1') });
    expect(await passage('E-2')).toEqual({ outcome: 'refer', reasons: ['BADGE_NOT_IN_ROSTER'], subject: null });
  }, 90_000);

  it('refuses data that breaks the gateway\'s rules, and signs nothing without a key; nothing is published or recorded', async () => {
    const prefix = uniquePrefix();
    const t = await testDb(cleanup, 'postgres');
    const client = await mqttClient(cleanup);
    const seen: string[] = [];
    client.on('message', (topic) => seen.push(topic));
    await client.subscribeAsync(`${prefix}/#`, { qos: 1 });

    const bad = pusherOn(t.db, client, prefix).push({ site: 'mine-a', target: 'all', kind: 'roster', data: { entries: [entry('E-1', '张伟', true), { ...entry('e 2', '王芳', true) }] }, officerId: 'fang.admin' });
    await expect(bad).rejects.toMatchObject({ code: 'CENTRAL_PUSH_INVALID', message: expect.stringMatching(/roster entry 1.*staffId.*expected a staff id/) });
    const keyless = pusherOn(t.db, client, prefix, null);
    expect(keyless.canPush).toBe(false);
    await expect(keyless.push({ site: 'mine-a', target: 'all', kind: 'roster', data: { entries: [] }, officerId: 'fang.admin' })).rejects.toMatchObject({ code: 'CENTRAL_PUSH_NO_KEY' });

    expect(await t.db.query('SELECT count(*)::int AS n FROM published_updates')).toEqual([{ n: 0 }]);
    await new Promise((r) => setTimeout(r, 300)); // time for a stray publication to arrive: none does
    expect(seen).toEqual([]);
  });
});
