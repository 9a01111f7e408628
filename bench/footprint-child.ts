// One footprint run (bench/footprint.ts spawns it with --expose-gc): a whole gateway
// in-process on N lanes of sim devices, the local broker and a real SQLite file, measured
// after start, after P passages (scan + temperature through the sim devices, each to its
// relay pulse) and after a simulated day on a fake clock. The fake clock is the gateway's
// injected `now` plus every setInterval (the periodic jobs: stats, daily screening
// summary, zone resets, outbox poll), stepped 15 s at a time with real I/O in between;
// setTimeout stays real (device and protocol timeouts are not what is measured).
// Usage: node --expose-gc dist/bench/footprint-child.js <lanes> <out-dir> [snapshots]
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { createGatewayLogger } from '../gateway/boot/logger.js';
import { parseConfig } from '../gateway/config/load.js';
import { startGateway } from '../gateway/gateway.js';
import { demoPasses } from './sim-lane.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const PASSAGES = Number(process.env.BENCH_FOOTPRINT_PASSAGES ?? 10_000);
const SOAK_MS = Number(process.env.BENCH_FOOTPRINT_HOURS ?? 24) * 3600_000;
const STEP_MS = 15_000;
const POOL = Number(process.env.BENCH_FOOTPRINT_POOL ?? 500);

export interface MemoryPoint {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

export interface FootprintResult {
  lanes: number;
  passages: number;
  soakHours: number;
  points: { start: MemoryPoint; afterPassages: MemoryPoint; afterSoak: MemoryPoint };
  snapshots: [string, string] | null;
  periodicRuns: number;
}

/** setInterval/clearInterval on a clock that moves only when told (advance). */
class FakeIntervals {
  now: number;
  runs = 0;
  readonly #jobs = new Set<{ every: number; next: number; fn: () => void }>();

  constructor(start: number) {
    this.now = start;
  }

  install(): void {
    const realClear = globalThis.clearInterval;
    const jobs = this.#jobs;
    const self = this;
    const fakeSet = (fn: () => void, every?: number): NodeJS.Timeout => {
      const job = { every: Math.max(1, every ?? 1), next: self.now + Math.max(1, every ?? 1), fn };
      jobs.add(job);
      const handle = {
        job,
        unref: () => handle,
        ref: () => handle,
        hasRef: () => false,
        refresh: () => handle,
        close: () => void jobs.delete(job),
        [Symbol.toPrimitive]: () => 0,
      };
      return handle as unknown as NodeJS.Timeout;
    };
    globalThis.setInterval = fakeSet as unknown as typeof setInterval;
    globalThis.clearInterval = ((h: unknown) => {
      const job = (h as { job?: unknown } | null)?.job;
      if (job) jobs.delete(job as never);
      else realClear(h as NodeJS.Timeout);
    }) as typeof clearInterval;
  }

  /** Move the clock by ms, running every job that falls due, in time order. */
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      let due: { every: number; next: number; fn: () => void } | null = null;
      for (const j of this.#jobs) if (j.next <= until && (due === null || j.next < due.next)) due = j;
      if (due === null) break;
      this.now = due.next;
      due.next += due.every;
      this.runs++;
      due.fn();
    }
    this.now = until;
  }
}

function measure(): MemoryPoint {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

async function until(what: string, ok: () => boolean, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`footprint: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function configYaml(lanes: number, dataDir: string): string {
  const ids = Array.from({ length: lanes }, (_, i) => `lane-${i + 1}`);
  return [
    'demo: true',
    'site: footprint',
    'checkpoint: bench',
    'logLevel: info',
    `dataDir: ${JSON.stringify(dataDir)}`,
    'http: { host: 127.0.0.1, port: 0 }',
    `mqtt: { url: "mqtt://127.0.0.1:1883", topicPrefix: "bench-fp-${randomBytes(4).toString('hex')}", embeddedFallback: true }`,
    'privacy: { pseudonymSecretFile: demo/pseudonym.secret }',
    'trust: { passIssuersDir: trust }',
    'central: { updateKeysDir: central }',
    'policy:',
    '  profile: mine-entrance',
    '  zones:',
    `    - { id: shift, entryLanes: [lane-1], resetAt: ["04:00", "10:30", "14:00", "20:30"] }`,
    'lanes:',
    ...ids.map((id) => `  - { id: ${id}, scanner: { type: sim }, thermometer: { type: sim }, relay: { type: sim } }`),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const lanes = Number(process.argv[2]);
  const outDir = process.argv[3];
  const snapshots = process.argv[4] === 'snapshots';
  if (!Number.isInteger(lanes) || lanes < 1 || outDir === undefined) throw new Error('usage: footprint-child.js <lanes> <out-dir> [snapshots]');

  const clock = new FakeIntervals(Date.now());
  clock.install();
  const loaded = parseConfig(configYaml(lanes, path.join(outDir, 'data')), path.join(root, 'config', 'footprint-bench.yaml'), {});
  const logger = await createGatewayLogger({ level: loaded.config.logLevel, base: { site: 'footprint', checkpoint: 'bench' }, format: 'json' });
  const gateway = await startGateway(loaded, { logger, now: () => clock.now });
  await until('the broker link', () => gateway.telemetry.link.status().state === 'connected', 10_000).catch(() => undefined);

  // The passes are signed before the start figure (signing is the issuer's work, not the
  // gateway's, and its native allocations would count in the RSS); each subject passes
  // PASSAGES / POOL times, which the demo profile admits.
  const pool = await demoPasses(Math.min(POOL, PASSAGES), clock.now, 'fp');
  const start = measure();

  for (let i = 0; i < PASSAGES; i++) {
    const lane = gateway.lanes[i % lanes];
    if (!lane?.sim) throw new Error('footprint: expected sim lanes');
    const pass = pool[i % pool.length] as string;
    lane.sim.temperature(36.5);
    lane.sim.scan(pass);
    await lane.settled();
  }
  const pulses = gateway.lanes.reduce((n, l) => n + (l.sim?.relayPulses().length ?? 0), 0);
  if (pulses !== PASSAGES) throw new Error(`footprint: expected ${PASSAGES} relay pulses, got ${pulses}: not every passage was admitted`);
  await until('the outbox to drain', () => gateway.store.outboxDepth() === 0);
  const afterPassages = measure();
  const snap1 = snapshots ? writeHeapSnapshot(path.join(outDir, `lanes-${lanes}-after-passages.heapsnapshot`)) : null;

  for (let t = 0; t < SOAK_MS; t += STEP_MS) {
    clock.advance(STEP_MS);
    await tick();
  }
  await until('the outbox to drain', () => gateway.store.outboxDepth() === 0);
  const afterSoak = measure();
  const snap2 = snapshots ? writeHeapSnapshot(path.join(outDir, `lanes-${lanes}-after-soak.heapsnapshot`)) : null;

  await gateway.stop();
  const result: FootprintResult = {
    lanes,
    passages: PASSAGES,
    soakHours: SOAK_MS / 3600_000,
    points: { start, afterPassages, afterSoak },
    snapshots: snap1 && snap2 ? [snap1, snap2] : null,
    periodicRuns: clock.runs,
  };
  writeFileSync(path.join(outDir, `lanes-${lanes}.json`), JSON.stringify(result));
  process.exit(0);
}

await main();
