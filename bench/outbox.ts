// Outbox drain rate: a 100 000-event backlog (as an outage leaves it) drained by the
// gateway's MqttLink to the local Mosquitto (QoS 1, mark-delivered on PUBACK, SQLite
// synchronous=FULL store), against a raw mqtt.js QoS 1 publish loop of the same payloads
// in the same run: with the link's own in-flight window (the fair comparison, interleaved
// with the drain over BENCH_OUTBOX_ROUNDS rounds, default 3), the broker's Receive
// Maximum, and 1000. Needs a broker on 127.0.0.1:1883 (MQTT_URL overrides).
// Target ratio ≥ 0.9 against the same window.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { connect } from 'mqtt';
import { pino } from 'pino';
import { openStore } from '../gateway/store/index.js';
import { decisionOutbox } from '../gateway/telemetry/alerts.js';
import { MqttLink } from '../gateway/telemetry/link.js';
import { topicsFor } from '../gateway/telemetry/topics.js';

const N = Number(process.env.BENCH_OUTBOX_N ?? 100_000);
const URL = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';
/** Gateway drains and same-window raw loops, interleaved (BENCH_OUTBOX_ROUNDS). */
const ROUNDS = Math.max(1, Number(process.env.BENCH_OUTBOX_ROUNDS ?? 3));
const CHECKPOINT_WORKER = process.env.BENCH_CHECKPOINT_WORKER !== 'off';

/** Elapsed ms and this process's CPU µs (user + system) per message of one run. */
interface Run {
  ms: number;
  cpuPerMessage: number;
}

const cpuSince = (start: NodeJS.CpuUsage, n: number): number => {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / n;
};

async function drainWithLink(dir: string, prefix: string, n = N): Promise<Run & { payloads: { topic: string; payload: string }[] }> {
  // As the gateway runs it: WAL checkpoints in a worker thread, not inside the drain's
  // commits (BENCH_CHECKPOINT_WORKER=off: inside them, on the event loop).
  const store = openStore(dir, { checkpointWorker: CHECKPOINT_WORKER });
  const topics = topicsFor({ prefix, site: 'bench', checkpoint: 'gate-1' });
  const toOutbox = decisionOutbox(store, topics, { site: 'bench', checkpoint: 'gate-1' });
  const t = Date.UTC(2022, 11, 5);
  store.transaction(() => {
    for (let i = 0; i < n; i++) {
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
  // A backlog builds up over hours, checkpointed as it grows; the one transaction above
  // left it all in the WAL, and the drain's first commit would copy it into the file.
  const ckpt = new Database(store.path);
  const t1 = performance.now();
  ckpt.pragma('wal_checkpoint(TRUNCATE)');
  if (n === N) console.log(`(setup: checkpoint of the ${n}-row backlog ${Math.round(performance.now() - t1)} ms, untimed)`);
  ckpt.close();
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
  const cpu0 = process.cpuUsage();
  link.start();
  await done;
  const ms = performance.now() - t0;
  const cpuPerMessage = cpuSince(cpu0, n);
  const depth = store.outboxDepth();
  await link.stop();
  store.close();
  if (depth !== 0) throw new Error(`outbox not drained: ${depth} rows left`);
  return { ms, cpuPerMessage, payloads };
}

/**
 * A plain mqtt.js QoS 1 loop over the same payloads: publish, count PUBACKs, keep at most
 * `window` unacknowledged (mqtt.js has 65 535 packet ids; an unbounded loop of 100 000
 * exhausts them and stalls).
 */
async function rawLoop(payloads: { topic: string; payload: string }[], window: number): Promise<Run> {
  const client = connect(URL, { clientId: `bench-raw-${randomUUID().slice(0, 8)}`, protocolVersion: 5, reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
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
  const cpuPerMessage = cpuSince(cpu0, payloads.length);
  await client.endAsync();
  return { ms, cpuPerMessage };
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
    // Both sides warmed on 5000 messages first: mqtt.js's code is shared, and whichever
    // ran first would otherwise pay for compiling it.
    await drainWithLink(path.join(dir, 'warm-up'), `bench-${randomUUID()}`, 5000);
    const brokerMax = await receiveMaximum();
    // The link's own window: its default 32, less one slot kept for the status message.
    const linkWindow = Math.max(1, Math.min(32, brokerMax - 1));
    // Gateway and raw loop alternate, round after round: on a shared machine the load
    // changes by the second, and a ratio is only fair between neighbours.
    const rounds: { link: Run; raw: Run }[] = [];
    let payloads: { topic: string; payload: string }[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const roundDir = path.join(dir, `round-${i}`);
      const { payloads: p, ...link } = await drainWithLink(roundDir, `bench-${randomUUID()}`);
      rmSync(roundDir, { recursive: true, force: true });
      if (i === 0) {
        payloads = p;
        await rawLoop(payloads.slice(0, 5000), linkWindow);
      }
      rounds.push({ link, raw: await rawLoop(payloads, linkWindow) });
    }
    const raw1000 = await rawLoop(payloads, 1000);
    const rawConforming = await rawLoop(payloads, brokerMax);
    const line = (label: string, r: Run) =>
      `${label.padEnd(64)} n=${String(N).padStart(6)}  ${(r.ms / 1000).toFixed(2).padStart(7)} s  ${Math.round((N / r.ms) * 1000).toString().padStart(7)}/s  cpu ${r.cpuPerMessage.toFixed(1).padStart(5)} µs/msg`;
    const ratios: number[] = [];
    const cpuRatios: number[] = [];
    for (const [i, { link, raw }] of rounds.entries()) {
      const tag = ROUNDS > 1 ? ` [round ${i + 1}]` : '';
      console.log(line(`gateway: outbox drain (QoS 1, SQLite marked on PUBACK, ${linkWindow} in flight)${tag}`, link));
      console.log(line(`baseline: raw mqtt.js QoS 1 loop, ${linkWindow} in flight (the link's window)${tag}`, raw));
      ratios.push(raw.ms / link.ms);
      cpuRatios.push(raw.cpuPerMessage / link.cpuPerMessage);
    }
    const last = rounds.at(-1)!.link;
    console.log(line(`baseline: raw mqtt.js QoS 1 loop, ${brokerMax} in flight (Receive Max)`, rawConforming));
    console.log(line('baseline: raw mqtt.js QoS 1 loop, 1000 in flight', raw1000));
    const span = (xs: number[]) => {
      const sorted = [...xs].sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)]!;
      return xs.length === 1 ? median.toFixed(2) : `${median.toFixed(2)} (median of ${xs.length}; ${sorted[0]!.toFixed(2)}–${sorted.at(-1)!.toFixed(2)})`;
    };
    console.log(`ratio gateway/raw (${linkWindow} in flight, same window): ${span(ratios)}, cpu ${span(cpuRatios)}  (target ≥ 0.90)`);
    const ratio = (r: Run) => `${(r.ms / last.ms).toFixed(2)} (cpu ${(r.cpuPerMessage / last.cpuPerMessage).toFixed(2)})`;
    console.log(`ratio gateway/raw (${brokerMax} in flight):  ${ratio(rawConforming)}  (against the last round's drain)`);
    console.log(`ratio gateway/raw (1000 in flight): ${ratio(raw1000)}  (more in flight than the broker's Receive Maximum)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchOutbox();
