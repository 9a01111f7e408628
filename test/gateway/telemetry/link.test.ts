// The link against the real shared Mosquitto on 127.0.0.1:1883. Every test has its own
// topic prefix and client ids, and removes the retained status it leaves behind.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../../gateway/store/types.js';
import type { MqttLink, MqttLinkOptions } from '../../../gateway/telemetry/link.js';
import type { CheckpointTopics } from '../../../gateway/telemetry/topics.js';
import {
  Cleanup,
  SHARED_BROKER,
  linkOptions,
  startMqttLink,
  statusLog,
  storeFixture,
  subscribe,
  tcpProxy,
  stateOf,
  waitFor,
  writeRows,
} from './helpers.js';

let cleanup: Cleanup;
let store: Store;
let topics: CheckpointTopics;

beforeEach(async () => {
  ({ cleanup, store, topics } = await storeFixture('link', { clearStatusOn: SHARED_BROKER }));
});

afterEach(async () => {
  await cleanup.run();
});

function startLink(overrides: Partial<MqttLinkOptions> = {}): { link: MqttLink; log: ReturnType<typeof statusLog> } {
  const log = statusLog();
  const link = startMqttLink(cleanup, linkOptions(store, topics, { onStatus: log.onStatus, reconnectMaxMs: 500, ...overrides }));
  return { link, log };
}

describe('MqttLink against Mosquitto', () => {
  it('publishes a retained online on connect that a later subscriber sees', async () => {
    const { link } = startLink();
    await waitFor('link connected', () => link.status().state === 'connected');
    const sub = await subscribe(cleanup, SHARED_BROKER, [topics.status]);
    await waitFor('retained online', () => sub.messages.some((m) => stateOf(m.payload) === 'online'));
    expect(sub.messages.find((m) => stateOf(m.payload) === 'online')?.retain).toBe(true);
    expect(link.status()).toMatchObject({ state: 'connected', url: SHARED_BROKER, embedded: false });
  });

  it('drains 200 outbox rows in order and leaves the outbox empty', async () => {
    const sub = await subscribe(cleanup, SHARED_BROKER, [topics.events]);
    const written = writeRows(store, topics, 200);
    expect(store.outboxDepth()).toBe(200);
    const { link } = startLink();
    await waitFor('200 events received', () => sub.events().length >= 200);
    expect(sub.events().map((e) => e.id)).toEqual(written.map((r) => r.id));
    expect(sub.events().map((e) => e.seq)).toEqual(written.map((r) => r.seq));
    await waitFor('outbox depth 0', () => store.outboxDepth() === 0);
    expect(link.outboxDepth()).toBe(0);
  });

  it('publishes rows written after start once notify() is called', async () => {
    const sub = await subscribe(cleanup, SHARED_BROKER, [topics.events]);
    // No safety poll: only notify() can make these rows go out.
    const { link } = startLink({ pollMs: 0 });
    await waitFor('link connected', () => link.status().state === 'connected');
    const first = writeRows(store, topics, 3);
    link.notify();
    await waitFor('first 3 events', () => sub.events().length >= 3);
    const second = writeRows(store, topics, 5);
    link.notify();
    await waitFor('all 8 events', () => sub.events().length >= 8);
    expect(sub.events().map((e) => e.id)).toEqual([...first, ...second].map((r) => r.id));
    await waitFor('outbox depth 0', () => store.outboxDepth() === 0);
  });

  it('stop() publishes a retained offline before disconnecting', async () => {
    const { link, log } = startLink();
    await waitFor('link connected', () => link.status().state === 'connected');
    const sub = await subscribe(cleanup, SHARED_BROKER, [topics.status]);
    await waitFor('online seen', () => sub.payloads(topics.status).some((p) => stateOf(p) === 'online'));
    await link.stop();
    await waitFor('offline seen', () => stateOf(sub.payloads(topics.status).at(-1)) === 'offline');
    expect(log.last()).toMatchObject({ state: 'disconnected', detail: 'stopped' });
    const later = await subscribe(cleanup, SHARED_BROKER, [topics.status]);
    await waitFor('retained offline', () => later.messages.some((m) => stateOf(m.payload) === 'offline' && m.retain));
  });

  it('re-sends rows that were in flight without a PUBACK when the connection dropped', async () => {
    const proxy = await tcpProxy(cleanup, 1883);
    const sub = await subscribe(cleanup, SHARED_BROKER, [topics.events]);
    const { link } = startLink({ url: `mqtt://127.0.0.1:${proxy.port}`, maxInFlight: 16 });
    await waitFor('link connected', () => link.status().state === 'connected');

    // The broker gets the rows but its PUBACKs never reach the link.
    proxy.holdReplies();
    const written = writeRows(store, topics, 100);
    link.notify();
    // At most one window (16) is sent before the PUBACKs are due; any of it will do.
    await waitFor('part of the first window reached the subscriber', () => sub.events().length >= 1);
    expect(store.outboxDepth()).toBe(100);

    proxy.drop();
    await waitFor('all 100 events', () => sub.events().length >= 100);
    expect(sub.events().map((e) => e.id)).toEqual(written.map((r) => r.id));
    // The unacknowledged window went out twice; the receiver dedups by event id.
    expect(sub.messages.length).toBeGreaterThan(100);
    await waitFor('outbox depth 0', () => store.outboxDepth() === 0);
  });

  it('marks a row delivered only once its PUBACK has arrived', async () => {
    const proxy = await tcpProxy(cleanup, 1883);
    const sub = await subscribe(cleanup, SHARED_BROKER, [topics.events]);
    const marked: number[] = [];
    const outbox = {
      outboxPending: (limit: number, afterId?: number) => store.outboxPending(limit, afterId),
      markDelivered: (id: number) => store.markDelivered(id),
      markDeliveredMany: (ids: readonly number[]) => {
        marked.push(...ids);
        store.markDeliveredMany?.(ids);
      },
      outboxDepth: () => store.outboxDepth(),
    };
    const { link } = startLink({ url: `mqtt://127.0.0.1:${proxy.port}`, maxInFlight: 8, outbox });
    await waitFor('link connected', () => link.status().state === 'connected');
    proxy.holdReplies();
    const written = writeRows(store, topics, 50);
    link.notify();
    await waitFor('the first window reached the subscriber', () => sub.events().length >= 8);
    // Sent and received by the broker, but no PUBACK reached the link: nothing marked,
    // also not by the flush when the connection drops.
    expect(marked).toEqual([]);
    proxy.drop();
    await waitFor('outbox depth 0', () => store.outboxDepth() === 0);
    expect([...new Set(marked)].sort((a, b) => a - b)).toHaveLength(written.length);
  });

  it('sends again, after a crash between the PUBACKs and the commit of their marks, every row it had sent', async () => {
    const sub = await subscribe(cleanup, SHARED_BROKER, [topics.events]);
    const written = writeRows(store, topics, 300);
    // Every copy received, repeats included (events() drops repeats).
    const sent = (): string[] =>
      sub.messages.filter((m) => m.topic === topics.events).map((m) => (JSON.parse(m.payload) as { id: string }).id);
    // The first process acknowledges rows in memory but dies before the marks commit:
    // its store never sees them.
    let acked = 0;
    const crashing = {
      outboxPending: (limit: number, afterId?: number) => store.outboxPending(limit, afterId),
      markDelivered: () => undefined,
      markDeliveredMany: (ids: readonly number[]) => {
        acked += ids.length;
      },
      outboxDepth: () => store.outboxDepth(),
    };
    const first = startLink({ outbox: crashing });
    await waitFor('all 300 received and acknowledged once', () => sub.events().length >= 300 && acked >= 300);
    await first.link.stop();
    expect(store.outboxDepth()).toBe(300);

    const { link } = startLink();
    await waitFor('outbox depth 0', () => store.outboxDepth() === 0);
    await waitFor('600 copies received', () => sent().length >= 600);
    const ids = sent();
    expect(ids).toHaveLength(600);
    expect(ids.slice(0, 300)).toEqual(written.map((r) => r.id));
    expect(ids.slice(300)).toEqual(written.map((r) => r.id));
    expect(link.outboxDepth()).toBe(0);
  });

  it('the last will publishes a retained offline when the connection is cut without a DISCONNECT', async () => {
    // The link dials a relay; cutting the relay resets the broker-side socket, which is
    // what the broker sees when a gateway loses power or its network.
    const proxy = await tcpProxy(cleanup, 1883);
    const { link, log } = startLink({ url: `mqtt://127.0.0.1:${proxy.port}` });
    await waitFor('link connected', () => link.status().state === 'connected');
    const sub = await subscribe(cleanup, SHARED_BROKER, [topics.status]);
    await waitFor('online seen', () => sub.payloads(topics.status).some((p) => stateOf(p) === 'online'));

    await proxy.cut();
    await waitFor('offline from the will', () => stateOf(sub.payloads(topics.status).at(-1)) === 'offline');
    await waitFor('link reports disconnected', () => log.last()?.state === 'disconnected');
    // The relay is gone, so nothing can have overwritten the will's retained message.
    const later = await subscribe(cleanup, SHARED_BROKER, [topics.status]);
    await waitFor('retained offline', () => later.messages.some((m) => stateOf(m.payload) === 'offline' && m.retain));
    // Still retrying, never given up; stop() while down returns promptly.
    expect(link.status().state).toBe('disconnected');
    await link.stop();
  });
});
