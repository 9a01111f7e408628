// A broker outage, with a Mosquitto this test starts (and stops) itself.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../../gateway/store/types.js';
import { topicsFor } from '../../../gateway/telemetry/topics.js';
import {
  CTX,
  Cleanup,
  linkOptions,
  privateMosquitto,
  startMqttLink,
  statusLog,
  storeFixture,
  subscribe,
  uniqueClientId,
  uniquePrefix,
  waitFor,
  writeRows,
} from './helpers.js';

let cleanup: Cleanup;
let store: Store;

beforeEach(async () => {
  ({ cleanup, store } = await storeFixture('outage'));
});

afterEach(async () => {
  await cleanup.run();
});

describe('MqttLink through a broker outage', () => {
  it('sends every row written while the broker was down, in order, once it is back', { timeout: 60_000 }, async () => {
    const broker = await privateMosquitto(cleanup);
    const topics = topicsFor({ prefix: uniquePrefix(), ...CTX });
    // A durable subscriber (clean session off, QoS 1): the restarted broker keeps its
    // subscription and queues for it, whoever of the two reconnects first.
    const sub = await subscribe(cleanup, broker.url, [topics.events], { clientId: uniqueClientId('durable'), clean: false });

    const log = statusLog();
    const link = startMqttLink(cleanup, linkOptions(store, topics, { url: broker.url, onStatus: log.onStatus }));

    const before = writeRows(store, topics, 10);
    link.notify();
    await waitFor('first 10 events', () => sub.events().length >= 10);
    await waitFor('first 10 delivered', () => store.outboxDepth() === 0);

    await broker.stop();
    await waitFor('link reports disconnected', () => link.status().state === 'disconnected');
    const during = writeRows(store, topics, 150);
    link.notify(); // nothing to do while down; must not throw or lose anything
    expect(store.outboxDepth()).toBe(150);

    await broker.start();
    await waitFor('all 160 events', () => sub.events().length >= 160, 30_000);
    expect(sub.events().map((e) => e.id)).toEqual([...before, ...during].map((r) => r.id));
    await waitFor('outbox depth 0', () => store.outboxDepth() === 0);
    // Consecutive reports of one state differ only in detail (why it is still down).
    const states = log.statuses.map((s) => s.state).filter((st, i, all) => st !== all[i - 1]);
    expect(states).toEqual(['connecting', 'connected', 'disconnected', 'connected']);
  });
});
