// mqtts:// against a real Mosquitto with TLS: a throwaway CA, a server certificate for
// 127.0.0.1 and client certificates made with the `openssl` command; the broker requires
// a client certificate and takes its CN as the username.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LinkStatus } from '../../../gateway/bus.js';
import { loadConfig } from '../../../gateway/config/load.js';
import { startGateway } from '../../../gateway/gateway.js';
import type { Store } from '../../../gateway/store/types.js';
import { connectTelemetry, type ConnectTelemetryOptions } from '../../../gateway/telemetry/connect.js';
import type { MqttCredentials, StatusSource } from '../../../gateway/telemetry/link.js';
import { openStore } from '../../../gateway/store/index.js';
import { type CheckpointTopics, topicsFor } from '../../../gateway/telemetry/topics.js';
import {
  CTX,
  Cleanup,
  type PrivateMosquitto,
  type TestPki,
  privateMosquitto,
  silentLogger,
  statusLog,
  subscribe,
  tempDir,
  testPki,
  testStatusSource,
  tlsListenerConfig,
  uniqueClientId,
  uniquePrefix,
  waitFor,
  writeRows,
} from './helpers.js';

let cleanup: Cleanup;

beforeEach(() => {
  cleanup = new Cleanup();
});

afterEach(async () => {
  await cleanup.run();
});

const ROOT = path.resolve(import.meta.dirname, '../../..');
const GATEWAY = 'gw-mine-a-gate-1';
const OFFICE = 'central-office';

interface Setup {
  pki: TestPki;
  broker: PrivateMosquitto;
  url: string;
  store: Store;
  topics: CheckpointTopics;
}

async function setup(): Promise<Setup> {
  const pki = await testPki(cleanup, [GATEWAY, OFFICE]);
  const broker = await privateMosquitto(cleanup, { config: () => tlsListenerConfig(pki) });
  const store = openStore(await tempDir(cleanup, 'tls'));
  cleanup.add(() => store.close());
  return { pki, broker, url: `mqtts://127.0.0.1:${broker.port}`, store, topics: topicsFor({ prefix: uniquePrefix(), ...CTX }) };
}

/** A status source that also counts connection attempts (one session number each). */
function countingStatusSource(): StatusSource & { attempts(): number } {
  const inner = testStatusSource();
  let attempts = 0;
  return {
    nextSession: () => {
      attempts += 1;
      return inner.nextSession();
    },
    birth: () => inner.birth(),
    attempts: () => attempts,
  };
}

function linkOptions(
  s: Setup,
  credentials: MqttCredentials,
  onStatus: (status: LinkStatus) => void,
  statusSource: StatusSource,
): ConnectTelemetryOptions {
  return {
    url: s.url,
    topics: s.topics,
    clientId: uniqueClientId('tls'),
    outbox: s.store,
    logger: silentLogger(),
    now: Date.now,
    onStatus,
    statusSource,
    credentials,
    reconnectMinMs: 50,
    reconnectMaxMs: 200,
    connectTimeoutMs: 5000,
  };
}

describe('the link over TLS to a Mosquitto that requires client certificates', () => {
  it('connects with the CA, client certificate and key and drains the outbox to a TLS subscriber', { timeout: 60_000 }, async () => {
    const s = await setup();
    const office = await subscribe(cleanup, s.url, [s.topics.events], { tls: await s.pki.client(OFFICE) });
    const rows = writeRows(s.store, s.topics, 20);

    const log = statusLog();
    const telemetry = await connectTelemetry(linkOptions(s, await s.pki.client(GATEWAY), log.onStatus, testStatusSource()));
    cleanup.add(() => telemetry.stop());

    await waitFor('20 events over TLS', () => office.events().length >= 20, 30_000);
    expect(office.events().map((e) => e.id)).toEqual(rows.map((r) => r.id));
    await waitFor('every row marked delivered', () => s.store.outboxDepth() === 0, 30_000);
    // mqtts:// never falls back to the embedded (plain TCP) broker.
    expect(telemetry.broker).toBeNull();
    expect(telemetry.link.status()).toMatchObject({ state: 'connected', embedded: false, url: s.url });

    // Rows written while connected go out too (notify wakes the drain).
    const more = writeRows(s.store, s.topics, 3);
    telemetry.link.notify();
    await waitFor('3 more events over TLS', () => office.events().length >= 23, 30_000);
    expect(office.events().slice(20).map((e) => e.id)).toEqual(more.map((r) => r.id));
  });

  it('is refused without a client certificate, keeps retrying, and delivers nothing', { timeout: 60_000 }, async () => {
    const s = await setup();
    const office = await subscribe(cleanup, s.url, [s.topics.events], { tls: await s.pki.client(OFFICE) });
    writeRows(s.store, s.topics, 5);

    const log = statusLog();
    const source = countingStatusSource();
    const { ca } = await s.pki.client(GATEWAY);
    const telemetry = await connectTelemetry(linkOptions(s, { ca }, log.onStatus, source));
    cleanup.add(() => telemetry.stop());

    await waitFor('at least 4 connection attempts', () => source.attempts() >= 4, 30_000);
    // TLS 1.3: "…alert certificate required…"; TLS 1.2: "…alert handshake failure…".
    await waitFor(
      'a refusal reported',
      () => log.statuses.some((st) => st.state === 'disconnected' && /certificate|handshake/i.test(st.detail ?? '')),
      30_000,
    );
    expect(log.statuses.map((st) => st.state)).not.toContain('connected');
    // Shown on /healthz and the console: one readable line, without OpenSSL's prefix.
    const refusal = log.statuses.find((st) => /certificate|handshake/i.test(st.detail ?? ''))!.detail!;
    expect(refusal).not.toMatch(/\n|SSL routines|:error:/);
    expect(telemetry.link.status().state).not.toBe('connected');
    expect(s.store.outboxDepth()).toBe(5);
    expect(office.events()).toEqual([]);

    // Stopping a link that never got through is clean too.
    await telemetry.stop();
    expect(telemetry.link.status()).toMatchObject({ state: 'disconnected', detail: 'stopped' });
    expect(s.store.outboxDepth()).toBe(5);
  });

  it('refuses a broker whose certificate the configured CA did not sign, and keeps the rows pending', { timeout: 60_000 }, async () => {
    const s = await setup();
    const office = await subscribe(cleanup, s.url, [s.topics.events], { tls: await s.pki.client(OFFICE) });
    writeRows(s.store, s.topics, 5);

    const log = statusLog();
    const source = countingStatusSource();
    const own = await s.pki.client(GATEWAY);
    const telemetry = await connectTelemetry(
      linkOptions(s, { ...own, ca: await s.pki.pem(s.pki.otherCaFile) }, log.onStatus, source),
    );
    cleanup.add(() => telemetry.stop());

    await waitFor('at least 4 connection attempts', () => source.attempts() >= 4, 30_000);
    await waitFor(
      'a certificate problem reported',
      () => log.statuses.some((st) => st.state === 'disconnected' && /certificate/i.test(st.detail ?? '')),
      30_000,
    );
    expect(log.statuses.map((st) => st.state)).not.toContain('connected');
    expect(s.store.outboxDepth()).toBe(5);
    expect(office.events()).toEqual([]);
  });
});

describe('the mqtt.tls config keys', () => {
  it('make a started gateway connect over TLS with the PEM files named relative to its config file', { timeout: 60_000 }, async () => {
    const s = await setup();
    const site = `tls-${randomBytes(4).toString('hex')}`;
    const office = await subscribe(cleanup, s.url, [`checkpoints/${site}/#`], { tls: await s.pki.client(OFFICE) });

    // The config sits next to the PEM files and names them relatively.
    const client = s.pki.clientFiles(GATEWAY);
    const demo = await readFile(path.join(ROOT, 'config/gateway.yaml'), 'utf8');
    const yaml = demo
      .replace(/^site: .*$/m, `site: ${site}`)
      .replace(/^dataDir: .*$/m, `dataDir: ${await tempDir(cleanup, 'tls-gw')}`)
      .replace(/pseudonymSecretFile: .*$/m, `pseudonymSecretFile: ${path.join(ROOT, 'config/demo/pseudonym.secret')}`)
      .replace(/passIssuersDir: .*$/m, `passIssuersDir: ${path.join(ROOT, 'config/trust')}`)
      .replace(/updateKeysDir: .*$/m, `updateKeysDir: ${path.join(ROOT, 'config/central')}`)
      .replace(
        /^ {2}url: mqtt:.*$/m,
        `  url: ${s.url}\n  tls: { ca: ${path.basename(s.pki.caFile)}, cert: ${path.basename(client.cert)}, key: ${path.basename(client.key)} }`,
      );
    expect(yaml).toContain('  tls: { ca: test-ca.crt,');
    const file = path.join(s.pki.dir, 'gateway.yaml');
    await writeFile(file, yaml);
    const loaded = loadConfig(file, { HTTP_PORT: '0' });
    expect(loaded.config.mqtt.url).toBe(s.url);

    const gw = await startGateway(loaded, { logger: silentLogger() });
    cleanup.add(() => gw.stop());
    const base = `checkpoints/${site}/${loaded.config.checkpoint}`;
    await waitFor('the gateway online over TLS', () => office.payloads(`${base}/status`).some((p) => p.includes('"state":"online"')), 30_000);
    expect(gw.telemetry.broker).toBeNull();

    const topics = topicsFor({ site, checkpoint: loaded.config.checkpoint });
    const rows = writeRows(gw.store, topics, 3);
    gw.telemetry.link.notify();
    await waitFor('3 events from the gateway over TLS', () => office.events().length >= 3, 30_000);
    expect(office.events().map((e) => e.id)).toEqual(rows.map((r) => r.id));
  });
});
