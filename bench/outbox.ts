// Outbox drain rate: a 100 000-event backlog (as an outage leaves it) drained by the
// gateway's MqttLink to the local Mosquitto (QoS 1, mark-delivered on PUBACK, SQLite
// synchronous=FULL), against a raw mqtt.js QoS 1 publish loop of the same payloads in the
// same run. Needs a broker on 127.0.0.1:1883 (MQTT_URL overrides). Target ratio ≥ 0.8.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { connect } from 'mqtt';
import { pino } from 'pino';
import { openStore } from '../gateway/store/index.js';
import { decisionOutbox } from '../gateway/telemetry/alerts.js';
import { MqttLink } from '../gateway/telemetry/link.js';
import { topicsFor } from '../gateway/telemetry/topics.js';

const N = Number(process.env.BENCH_OUTBOX_N ?? 100_000);
const URL = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';

async function drainWithLink(dir: string, prefix: string): Promise<{ ms: number; payloads: { topic: string; payload: string }[] }> {
  const store = openStore(dir);
  const topics = topicsFor({ prefix, site: 'bench', checkpoint: 'gate-1' });
  const toOutbox = decisionOutbox(store, topics, { site: 'bench', checkpoint: 'gate-1' });
  const t = Date.UTC(2022, 11, 5);
  store.transaction(() => {
    for (let i = 0; i < N; i++) {
      store.appendDecision(
        {
          id: randomUUID(),
          at: t + i,
          lane: 'in-1',
          kind: 'decision',
          outcome: 'admit',
          reasons: [],
          alerts: [],
          credential: 'health-pass',
          subjectRef: 'p1_Yx3lQ0c2m5VbN8aK1tR9wE',
          subjectName: null,
          category: 'employee',
          temperature: 36.5,
        },
        toOutbox,
      );
    }
  });
  const payloads: { topic: string; payload: string }[] = [];
  let lastId = 0;
  for (let page = store.outboxPending(10_000); page.length > 0; page = store.outboxPending(10_000, lastId)) {
    for (const r of page) payloads.push({ topic: r.topic, payload: r.payload });
    lastId = page.at(-1)!.id;
  }
  let resolveDone: () => void = () => undefined;
  // Finished when the last row is marked delivered in SQLite, not merely sent.
  const done = new Promise<void>((r) => (resolveDone = r));
  const source = {
    outboxPending: (limit: number, afterId?: number) => store.outboxPending(limit, afterId),
    markDelivered: (id: number) => store.markDelivered(id),
    markDeliveredMany: (ids: readonly number[]) => {
      store.markDeliveredMany(ids);
      if (ids.includes(lastId)) resolveDone();
    },
    outboxDepth: () => store.outboxDepth(),
  };
  const link = new MqttLink({
    url: URL,
    topics,
    clientId: `bench-link-${randomUUID().slice(0, 8)}`,
    protocolVersion: 5,
    outbox: source,
    logger: pino({ level: 'silent' }),
    now: Date.now,
    onStatus: () => undefined,
  });
  const t0 = performance.now();
  link.start();
  await done;
  const ms = performance.now() - t0;
  const depth = store.outboxDepth();
  await link.stop();
  store.close();
  if (depth !== 0) throw new Error(`outbox not drained: ${depth} rows left`);
  return { ms, payloads };
}

/**
 * A plain mqtt.js QoS 1 loop over the same payloads: publish, count PUBACKs, keep at most
 * `window` unacknowledged (mqtt.js has 65 535 packet ids; an unbounded loop of 100 000
 * exhausts them and stalls).
 */
async function rawLoop(payloads: { topic: string; payload: string }[], window: number): Promise<number> {
  const client = connect(URL, { clientId: `bench-raw-${randomUUID().slice(0, 8)}`, protocolVersion: 5, reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    let next = 0;
    let acked = 0;
    const send = (): void => {
      while (next < payloads.length && next - acked < window) {
        const p = payloads[next++]!;
        client.publish(p.topic, p.payload, { qos: 1 }, (err) => {
          if (err) return reject(err);
          if (++acked === payloads.length) resolve();
          else send();
        });
      }
    };
    send();
  });
  const ms = performance.now() - t0;
  await client.endAsync();
  return ms;
}

/** The broker's MQTT 5 Receive Maximum (what a conforming client may have unacknowledged). */
async function receiveMaximum(): Promise<number> {
  const client = connect(URL, { clientId: `bench-probe-${randomUUID().slice(0, 8)}`, protocolVersion: 5, reconnectPeriod: 0 });
  const max = await new Promise<number>((resolve, reject) => {
    client.once('connect', (connack) => resolve(connack.properties?.receiveMaximum ?? 65_535));
    client.once('error', reject);
  });
  await client.endAsync();
  return max;
}

export async function benchOutbox(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-outbox-'));
  try {
    const { ms: linkMs, payloads } = await drainWithLink(dir, `bench-${randomUUID()}`);
    // Warm the raw client's code paths too, as the drain above warmed the link's.
    await rawLoop(payloads.slice(0, 5000), 1000);
    const rawMs = await rawLoop(payloads, 1000);
    const brokerMax = await receiveMaximum();
    const rawConformingMs = await rawLoop(payloads, brokerMax);
    const rate = (ms: number) => (N / ms) * 1000;
    const line = (label: string, ms: number) =>
      `${label.padEnd(58)} n=${String(N).padStart(6)}  ${(ms / 1000).toFixed(2).padStart(7)} s  ${Math.round(rate(ms)).toString().padStart(7)}/s`;
    console.log(line('gateway: outbox drain (QoS 1, SQLite marked on PUBACK)', linkMs));
    console.log(line('baseline: raw mqtt.js QoS 1 loop, 1000 in flight', rawMs));
    console.log(line(`baseline: raw mqtt.js QoS 1 loop, ${brokerMax} in flight (Receive Max)`, rawConformingMs));
    console.log(`ratio gateway/raw (1000 in flight): ${(rawMs / linkMs).toFixed(2)}  (target ≥ 0.80)`);
    console.log(`ratio gateway/raw (${brokerMax} in flight):  ${(rawConformingMs / linkMs).toFixed(2)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchOutbox();
