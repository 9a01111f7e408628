// The link's birth/death messages, session counter, inbound command subscription and the
// `historical` flag, against the shared Mosquitto on 127.0.0.1:1883.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteStore } from '../../../gateway/store/index.js';
import type { InboundCommand, MqttLink, MqttLinkOptions, StatusMessageV1 } from '../../../gateway/telemetry/link.js';
import type { CheckpointTopics } from '../../../gateway/telemetry/topics.js';
import {
  CTX,
  Cleanup,
  SHARED_BROKER,
  linkOptions,
  startMqttLink,
  storeFixture,
  subscribe,
  tcpProxy,
  waitFor,
  writeRows,
} from './helpers.js';

let cleanup: Cleanup;
let store: SqliteStore;
let topics: CheckpointTopics;
let storeClock = Date.now();

beforeEach(async () => {
  // The store's clock is storeClock, so a test can date rows in the past (the historical flag).
  ({ cleanup, store, topics } = await storeFixture('status', { storeNow: () => storeClock, clearStatusOn: SHARED_BROKER }));
});

afterEach(async () => {
  await cleanup.run();
});

function startLink(overrides: Partial<MqttLinkOptions> = {}): MqttLink {
  return startMqttLink(cleanup, linkOptions(store, topics, overrides));
}

function statuses(payloads: string[]): StatusMessageV1[] {
  return payloads.filter((p) => p !== '').map((p) => JSON.parse(p) as StatusMessageV1);
}

describe('status, birth and session', () => {
  it('says online with the birth facts, and the will of that connection says offline with the same session', async () => {
    const proxy = await tcpProxy(cleanup, 1883);
    const sub = await subscribe(cleanup, SHARED_BROKER, [topics.status]);
    const link = startLink({ url: `mqtt://127.0.0.1:${proxy.port}` });
    await waitFor('online', () => statuses(sub.payloads(topics.status)).some((s) => s.state === 'online'));
    const online = statuses(sub.payloads(topics.status)).find((s) => s.state === 'online')!;
    expect(online).toMatchObject({ v: 1, state: 'online', session: 1, version: '0.0.0-test', lanes: [], site: CTX.site });

    proxy.drop(); // the broker sees the client vanish: it publishes the will
    await waitFor('the will', () => statuses(sub.payloads(topics.status)).some((s) => s.state === 'offline'));
    const will = statuses(sub.payloads(topics.status)).find((s) => s.state === 'offline')!;
    expect(will).toEqual({ v: 1, state: 'offline', session: 1, cause: 'lost' });

    // The link reconnects through the proxy (it still accepts) with the next session.
    await waitFor('online again', () => statuses(sub.payloads(topics.status)).some((s) => s.state === 'online' && s.session === 2));
    await link.stop();
    await waitFor('stopped', () => statuses(sub.payloads(topics.status)).at(-1)?.cause === 'stopped');
    expect(statuses(sub.payloads(topics.status)).at(-1)).toMatchObject({ state: 'offline', session: 2, cause: 'stopped' });
  });

  it('publishes stats only while connected', async () => {
    const sub = await subscribe(cleanup, SHARED_BROKER, [topics.stats]);
    const link = startLink();
    const body = JSON.stringify({ v: 1, at: new Date().toISOString(), site: CTX.site, checkpoint: CTX.checkpoint, since: new Date().toISOString(), lanes: {}, outboxDepth: 0, unackedAlerts: 0 });
    expect(link.publishNow(topics.stats, body, { qos: 0 })).toBe(false); // not connected yet
    await waitFor('connected', () => link.status().state === 'connected');
    expect(link.publishNow(topics.stats, body, { qos: 0 })).toBe(true);
    await waitFor('stats received', () => sub.payloads(topics.stats).length === 1);
  });
});

describe('inbound commands', () => {
  it('subscribes on every connect to its own and the site-wide command topics', async () => {
    const proxy = await tcpProxy(cleanup, 1883);
    const received: InboundCommand[] = [];
    const states: string[] = [];
    const link = startLink({ url: `mqtt://127.0.0.1:${proxy.port}`, onCommand: (c) => { received.push(c); }, onStatus: (st) => states.push(st.state) });
    const office = await subscribe(cleanup, SHARED_BROKER, [`${topics.prefix}/nothing`]);
    await waitFor('connected', () => link.status().state === 'connected');
    // A subscription is in place shortly after CONNACK; resend until it is seen.
    await waitFor('first command', async () => {
      await office.client.publishAsync(`${topics.cmd}/watchlist`, 'a.b.c', { qos: 1 });
      return received.length > 0;
    });
    proxy.drop();
    await waitFor('connected again after the drop', () => states.lastIndexOf('connected') > states.indexOf('disconnected') && states.includes('disconnected'));
    // (Watchlist copies the loop above sent more than once may still arrive from the session.)
    await waitFor('site-wide command after the reconnect', async () => {
      await office.client.publishAsync(`${topics.prefix}/${CTX.site}/all/cmd/policy`, 'x.y.z', { qos: 1 });
      return received.some((c) => c.kind === 'policy');
    });
    expect(received[0]).toMatchObject({ kind: 'watchlist', siteWide: false, retained: false, topic: `${topics.cmd}/watchlist` });
    const policy = received.find((c) => c.kind === 'policy');
    expect(policy).toMatchObject({ kind: 'policy', siteWide: true });
    expect(policy?.payload.toString()).toBe('x.y.z');
  });
});

describe('acknowledging commands', () => {
  it('acknowledges a command only once its handler settled: a connection lost before that gets it delivered again', async () => {
    const proxy = await tcpProxy(cleanup, 1883);
    const received: InboundCommand[] = [];
    let release: () => void = () => undefined;
    const link = startLink({
      url: `mqtt://127.0.0.1:${proxy.port}`,
      onCommand: (c) => {
        received.push(c);
        // The first delivery is "being stored" when the connection dies; later ones finish.
        return received.length === 1 ? new Promise<void>((resolve) => (release = resolve)) : undefined;
      },
    });
    const office = await subscribe(cleanup, SHARED_BROKER, [`${topics.prefix}/nothing`]);
    await waitFor('connected', () => link.status().state === 'connected');
    await waitFor('the command delivered', async () => {
      if (received.length === 0) await office.client.publishAsync(`${topics.cmd}/watchlist`, 'only.once.sent', { qos: 1 });
      return received.length > 0;
    }, 10_000);
    await new Promise((r) => setTimeout(r, 300)); // no more copies of it arrive meanwhile
    expect(received).toHaveLength(1);
    proxy.drop(); // the PUBACK was never sent
    release();
    await waitFor('the same command delivered again by the broker', () => received.length >= 2);
    // Mosquitto re-sends it from our session (without the DUP flag, as it turns out).
    expect(received[1]).toMatchObject({ kind: 'watchlist', retained: false });
    expect(received[1]?.payload.toString()).toBe('only.once.sent');
  });
});

describe('the historical flag', () => {
  it('marks rows written before the connection came up as historical and later ones as live', async () => {
    const sub = await subscribe(cleanup, SHARED_BROKER, [topics.events]);
    storeClock = Date.now() - 60_000; // written during an "outage" a minute ago
    const backlog = writeRows(store, topics, 5);
    const link = startLink();
    await waitFor('backlog sent', () => sub.events().length >= 5);
    await waitFor('connected', () => link.status().state === 'connected');
    storeClock = Date.now(); // now, while connected
    const live = writeRows(store, topics, 3);
    link.notify();
    await waitFor('live rows sent', () => sub.events().length >= 8);
    const flags = new Map(sub.events().map((e) => [e.id, (e as unknown as { historical: boolean }).historical]));
    expect(backlog.map((r) => flags.get(r.id))).toEqual([true, true, true, true, true]);
    expect(live.map((r) => flags.get(r.id))).toEqual([false, false, false]);
  });
});
