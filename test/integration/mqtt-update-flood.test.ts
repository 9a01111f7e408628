// Floods of rejected updates over the real Mosquitto: N junk messages on the site-wide cmd
// topics give a bounded number of alert and outbox rows whose counts add up to N, and a
// retained junk message handed again at every reconnect raises one alert, not one each.
import Database from 'better-sqlite3';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MINE_ENTRANCE } from '../../gateway/policy/profiles.js';
import type { InboundCommand, MqttLink, MqttLinkOptions } from '../../gateway/telemetry/link.js';
import { LivePolicy, LiveTrust } from '../../gateway/updates/live.js';
import { UpdateService } from '../../gateway/updates/service.js';
import {
  CTX,
  SHARED_BROKER,
  clearRetained,
  linkOptions,
  silentLogger,
  startMqttLink,
  storeFixture,
  subscribe,
  tcpProxy,
  waitFor,
  type StoreFixture,
} from '../gateway/telemetry/helpers.js';
import { centralKeys, type CentralKeys } from '../gateway/updates/helpers.js';

let keys: CentralKeys;
let fx: StoreFixture;

beforeAll(async () => {
  keys = await centralKeys('central-flood');
});

beforeEach(async () => {
  fx = await storeFixture('flood', { clearStatusOn: SHARED_BROKER });
});

afterEach(async () => {
  await fx.cleanup.run();
});

/** The gateway's update service behind a link of its own; `seen` counts the commands handled. */
function gatewayParts(windowMs: number, link: Partial<MqttLinkOptions> = {}): { svc: UpdateService; link: MqttLink; seen: InboundCommand[] } {
  const seen: InboundCommand[] = [];
  let started: MqttLink | null = null;
  const svc = new UpdateService({
    store: fx.store,
    topics: fx.topics,
    ...CTX,
    centralKeys: keys.trust,
    policy: new LivePolicy(MINE_ENTRANCE),
    trust: new LiveTrust(new Map()),
    now: Date.now,
    logger: silentLogger(),
    afterCommit: () => started?.notify(),
    rejections: { windowMs },
  });
  started = startMqttLink(
    fx.cleanup,
    linkOptions(fx.store, fx.topics, {
      onCommand: async (c) => {
        await svc.handle(c);
        seen.push(c);
      },
      ...link,
    }),
  );
  fx.cleanup.add(() => svc.stop());
  return { svc, link: started, seen };
}

/** Every outbox row, delivered or not (the link drains while the test runs). */
function outboxRows(): { topic: string; payload: string }[] {
  const db = new Database(fx.store.path, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT topic, payload FROM outbox ORDER BY id').all() as { topic: string; payload: string }[];
  } finally {
    db.close();
  }
}

function rejectedAlerts(): { count?: number; code: string }[] {
  return outboxRows()
    .filter((r) => r.topic === fx.topics.alerts)
    .map((r) => JSON.parse(r.payload) as { kind: string; count?: number; code: string })
    .filter((a) => a.kind === 'update-rejected');
}

describe('a flood of junk updates', () => {
  it('gives a bounded number of alert and outbox rows whose counts add up to the number of messages', { timeout: 60_000 }, async () => {
    const JUNK = 600;
    const { svc, link, seen } = gatewayParts(60_000);
    const office = await subscribe(fx.cleanup, SHARED_BROKER, [fx.topics.alerts]);
    await waitFor('link up', () => link.status().state === 'connected');
    // The subscription is in place shortly after CONNACK: one probe message first.
    const site = `${fx.topics.prefix}/${CTX.site}/all/cmd`;
    let probes = 0;
    await waitFor('the command subscription', async () => {
      if (seen.length === 0) {
        probes += 1;
        await office.client.publishAsync(`${site}/roster`, 'junk-probe', { qos: 1 });
      }
      return seen.length > 0;
    });
    const kinds = ['roster', 'policy', 'no-such-kind', 'other-junk'];
    await Promise.all(Array.from({ length: JUNK }, (_, i) => office.client.publishAsync(`${site}/${kinds[i % kinds.length]}`, `junk-${i}`, { qos: 1 })));
    // A probe sent before the subscription was in place never arrives, so the probes that
    // count are the ones handled; they came before the junk (one publisher, in order).
    const isJunk = (c: InboundCommand): boolean => /^junk-\d+$/.test(c.payload.toString());
    await waitFor(`all ${JUNK} junk messages handled`, () => seen.filter(isJunk).length >= JUNK, 30_000);
    const N = seen.length;
    expect(N - JUNK).toBeGreaterThanOrEqual(1);
    expect(N - JUNK).toBeLessThanOrEqual(probes);
    await svc.stop(); // the summaries of the open windows
    link.notify();

    // Causes: UPDATE_MALFORMED × {roster, policy, (unknown)}: one alert each, one summary each.
    const alerts = rejectedAlerts();
    expect(alerts.length).toBeLessThanOrEqual(6);
    expect(alerts.reduce((n, a) => n + (a.count ?? 1), 0)).toBe(N);
    expect(fx.store.queryAlerts({ limit: 1000 }).length).toBe(alerts.length);
    // Responses: at most 30 per window in all; alerts as above. Nothing per message.
    expect(outboxRows().length).toBeLessThanOrEqual(30 + 6);
    // The office gets them too, each valid against docs/asyncapi.yaml (checked at cleanup).
    await waitFor('the alerts at the office', () => office.messages.length >= alerts.length);
    const atOffice = new Map(office.messages.map((m) => JSON.parse(m.payload) as { id: string; count?: number }).map((a) => [a.id, a.count ?? 1]));
    expect([...atOffice.values()].reduce((n, c) => n + c, 0)).toBe(N); // dedup by id, as the office does
  });

  it('raises one alert for a retained junk message handed again at every reconnect', { timeout: 60_000 }, async () => {
    const proxy = await tcpProxy(fx.cleanup, 1883);
    // MQTT 3.1.1: Mosquitto hands retained messages again on every SUBSCRIBE, as it does to
    // any gateway whose session expired. A short window, so folding alone would not hide it.
    const { svc, link, seen } = gatewayParts(10, { url: `mqtt://127.0.0.1:${proxy.port}`, protocolVersion: 4 });
    const topic = `${fx.topics.cmd}/policy`;
    fx.cleanup.add(() => clearRetained(SHARED_BROKER, topic));
    const office = await subscribe(fx.cleanup, SHARED_BROKER, [`${fx.topics.prefix}/nothing`]);
    await office.client.publishAsync(topic, 'retained.junk.update', { qos: 1, retain: true });
    await waitFor('the first delivery', () => seen.length >= 1);
    for (let i = 2; i <= 4; i++) {
      await new Promise((r) => setTimeout(r, 30)); // past the folding window
      proxy.drop();
      await waitFor(`delivery ${i} after reconnect ${i - 1}`, () => seen.length >= i, 15_000);
      expect(seen.at(-1)?.retained).toBe(true);
    }
    expect(link.status().state).toBe('connected');
    await svc.stop();
    expect(rejectedAlerts()).toHaveLength(1);
    expect(outboxRows().filter((r) => r.topic === `${fx.topics.response}/policy`)).toHaveLength(1);
  });
});
