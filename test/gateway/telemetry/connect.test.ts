import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../../gateway/store/types.js';
import { connectTelemetry } from '../../../gateway/telemetry/connect.js';
import { isListening, startEmbeddedBroker } from '../../../gateway/telemetry/embedded-broker.js';
import { isTelemetryError } from '../../../gateway/telemetry/errors.js';
import { topicsFor } from '../../../gateway/telemetry/topics.js';
import {
  CTX,
  Cleanup,
  SHARED_BROKER,
  clearRetained,
  freePort,
  storeFixture,
  subscribe,
  telemetryOptions,
  uniquePrefix,
  stateOf,
  waitFor,
  writeRows,
} from './helpers.js';

let cleanup: Cleanup;
let store: Store;

beforeEach(async () => {
  ({ cleanup, store } = await storeFixture('connect'));
});

afterEach(async () => {
  await cleanup.run();
});

describe('connectTelemetry', () => {
  it('starts an embedded broker on a free loopback port and a subscriber there receives events', async () => {
    const port = await freePort();
    expect(await isListening('127.0.0.1', port, 1000)).toBe(false);
    const topics = topicsFor({ prefix: uniquePrefix(), ...CTX });
    const telemetry = await connectTelemetry(
      telemetryOptions(store, topics, { url: `mqtt://127.0.0.1:${port}`, reconnectMinMs: 50, reconnectMaxMs: 300 }),
    );
    cleanup.add(() => telemetry.stop());
    expect(telemetry.broker?.port).toBe(port);
    expect(await isListening('127.0.0.1', port, 1000)).toBe(true);
    await waitFor('link connected', () => telemetry.link.status().state === 'connected');
    expect(telemetry.link.status().embedded).toBe(true);

    // aedes speaks MQTT 3.1.1 only.
    const sub = await subscribe(cleanup, `mqtt://127.0.0.1:${port}`, [topics.events, topics.status], { protocolVersion: 4 });
    await waitFor('retained online', () => sub.payloads(topics.status).some((p) => stateOf(p) === 'online'));
    const rows = writeRows(store, topics, 20);
    telemetry.link.notify();
    await waitFor('20 events', () => sub.events().length >= 20);
    expect(sub.events().map((e) => e.id)).toEqual(rows.map((r) => r.id));
    await waitFor('outbox depth 0', () => store.outboxDepth() === 0);

    await telemetry.stop();
    expect(await isListening('127.0.0.1', port, 1000)).toBe(false);
  });

  it('uses the broker that already listens on a loopback URL instead of starting one', async () => {
    const topics = topicsFor({ prefix: uniquePrefix(), ...CTX });
    cleanup.add(() => clearRetained(SHARED_BROKER, topics.status));
    const telemetry = await connectTelemetry(telemetryOptions(store, topics, { url: SHARED_BROKER }));
    cleanup.add(() => telemetry.stop());
    expect(telemetry.broker).toBeNull();
    await waitFor('link connected', () => telemetry.link.status().state === 'connected');
    expect(telemetry.link.status().embedded).toBe(false);
  });

  it('refuses a URL it cannot parse with TELEMETRY_URL_INVALID', async () => {
    const topics = topicsFor({ prefix: uniquePrefix(), ...CTX });
    const attempt = connectTelemetry(telemetryOptions(store, topics, { url: 'http://127.0.0.1:1883' }));
    const err: unknown = await attempt.catch((e: unknown) => e);
    expect(isTelemetryError(err, 'TELEMETRY_URL_INVALID')).toBe(true);
  });
});

describe('startEmbeddedBroker', () => {
  it('reports TELEMETRY_BROKER_START_FAILED when the port is taken', async () => {
    const first = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
    cleanup.add(() => first.close());
    const err: unknown = await startEmbeddedBroker({ host: '127.0.0.1', port: first.port }).catch((e: unknown) => e);
    expect(isTelemetryError(err, 'TELEMETRY_BROKER_START_FAILED')).toBe(true);
  });
});
