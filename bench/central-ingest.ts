// Central office ingest: K simulated gateways (real mqtt.js clients publishing the
// gateway's own event payloads, QoS 1) against the built service (`node dist/central/
// main.js`, one or two processes), in two phases: steady (1 event/s per gateway) and a
// reconnect burst (BURST queued events per gateway at once, `historical`). Each service
// setup is measured against two baselines taken just before it: a raw subscriber with no
// database (a process of its own, like the service) and a raw batched insert of the same
// rows into the same database. Beside rows/s, the CPU each group of processes spent per
// row during the burst (Linux /proc): on a shared machine rows/s follow the other jobs,
// CPU per row far less.
//
// The publish time travels in the event's `at`; the office's `received_at` (now() of the
// batch's transaction) is read back from the database, so a row's lag = received_at − at,
// to which the commit itself adds at most the p99 commit time printed beside it.
//
// Env: BENCH_CENTRAL_K (500), BENCH_CENTRAL_STEADY_S (30), BENCH_CENTRAL_BURST (200),
// BENCH_CENTRAL_SETUPS (subscriber,pg,pglite,pg-shared), BENCH_DATABASE_URL (the local
// PostgreSQL, trust auth), BENCH_MQTT_URL (default: a private Mosquitto on a free port,
// max_queued_messages 0: the default 1000 would drop QoS 1 messages in the burst),
// BENCH_CENTRAL_BATCH_MAX and BENCH_CENTRAL_CONCURRENCY (the service's ingest.batchMax
// and ingest.concurrency, default 500 and 2 as shipped),
// BENCH_CENTRAL_NODE_ARGS (node flags for the service processes, e.g. --cpu-prof),
// BENCH_CENTRAL_MAIN (the service's entry, default this build's dist/central/main.js).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { cpus, tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { connect, type MqttClient } from 'mqtt';
import pg from 'pg';
import { openDb, type Db } from '../central/db/adapter.js';
import { migrate } from '../central/db/migrations.js';
import { Partitions, addMonths, monthOf } from '../central/db/partitions.js';
import { classify } from '../central/classify.js';
import { loadValidators } from '../central/schemas.js';
import { writeBatch } from '../central/writer.js';
import type { LedgerEntry } from '../gateway/store/types.js';
import { toEventMessage } from '../gateway/telemetry/event-message.js';
import { percentile } from './stats.js';

const env = process.env;
const int = (v: string | undefined, d: number): number => (v !== undefined && /^\d+$/.test(v) ? Number(v) : d);
const K = int(env.BENCH_CENTRAL_K, 500);
const STEADY_S = int(env.BENCH_CENTRAL_STEADY_S, 30);
const BURST = int(env.BENCH_CENTRAL_BURST, 200);
const BATCH_MAX = int(env.BENCH_CENTRAL_BATCH_MAX, 500);
const CONCURRENCY = int(env.BENCH_CENTRAL_CONCURRENCY, 2);
const SETUPS = (env.BENCH_CENTRAL_SETUPS ?? 'subscriber,pg,pglite,pg-shared').split(',').map((s) => s.trim());
const PG_URL = env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** Extra node flags for the service processes, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof". */
const NODE_ARGS = (env.BENCH_CENTRAL_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
const ROOT = path.resolve(import.meta.dirname, '../..');
/** The service to run (default this build's); another build's dist/central/main.js compares two versions. */
const MAIN = path.resolve(env.BENCH_CENTRAL_MAIN ?? path.join(ROOT, 'dist/central/main.js'));
const MOSQUITTO = '/usr/sbin/mosquitto';
const PREFIX_BASE = `bench-${randomUUID().slice(0, 8)}`;
const SUBJECT = 'p1_Yx3lQ0c2m5VbN8aK1tR9wE';
/** Linux USER_HZ: the unit of utime/stime in /proc/<pid>/stat. */
const CLOCK_TICKS = 100;
/** The broker's process (null for BENCH_MQTT_URL): its CPU is counted too. */
const broker: { pid: number | null } = { pid: null };
/** /metrics needs a console session or this bearer token (http.metricsTokenFile). */
const METRICS_TOKEN = randomUUID().replaceAll('-', '');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** A private Mosquitto: no queue limit, in memory, its own port. */
async function privateBroker(dir: string): Promise<{ url: string; stop: () => void }> {
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'max_queued_messages 0', 'persistence false', 'log_dest none', `user ${userInfo().username}`, ''].join('\n'));
  const child = spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore' });
  broker.pid = child.pid ?? null;
  await until('mosquitto listening', () => new Promise<boolean>((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  }), 10_000, 50);
  return { url: `mqtt://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

/** One event payload exactly as the gateway publishes it (toEventMessage + `historical`). */
function eventJson(site: string, seq: number, at: number, historical: boolean): string {
  const row: LedgerEntry = {
    id: randomUUID(), seq, at, lane: 'in-1', kind: 'decision', outcome: 'admit', reasons: [], alerts: [],
    credential: 'health-pass', subjectRef: SUBJECT, subjectName: null, category: 'employee', temperature: 36.5,
  };
  return JSON.stringify({ ...toEventMessage(row, { site, checkpoint: 'gate-1' }), historical });
}

/** K gateways: one MQTT 5 connection each, site gw-0 … gw-(K-1), checkpoint gate-1. */
class Gateways {
  readonly clients: MqttClient[] = [];
  readonly seq: number[] = [];
  constructor(readonly url: string, readonly prefix: string) {}

  topic(i: number): string {
    return `${this.prefix}/gw-${i}/gate-1/events`;
  }

  async connect(): Promise<void> {
    for (let start = 0; start < K; start += 50) {
      const batch: Promise<void>[] = [];
      for (let i = start; i < Math.min(K, start + 50); i++) {
        const c = connect(this.url, { clientId: `${this.prefix}-gw-${i}`, protocolVersion: 5, clean: true, reconnectPeriod: 1000, keepalive: 60 });
        this.clients.push(c);
        this.seq.push(0);
        batch.push(new Promise((resolve, reject) => {
          c.once('connect', () => resolve());
          c.once('error', reject);
        }));
      }
      await Promise.all(batch);
    }
  }

  /** Each gateway 1 event/s for `seconds`, spread evenly over each second. */
  async steady(seconds: number): Promise<void> {
    const t0 = Date.now() + 200;
    const pending: Promise<unknown>[] = [];
    let next = 0;
    const total = K * seconds;
    while (next < total) {
      const now = Date.now();
      // Publication n is due at t0 + second*1000 + offset of its gateway.
      while (next < total) {
        const second = Math.floor(next / K);
        const i = next % K;
        const due = t0 + second * 1000 + Math.floor((i * 1000) / K);
        if (due > now) break;
        const seq = ++this.seq[i]!;
        pending.push(this.clients[i]!.publishAsync(this.topic(i), eventJson(`gw-${i}`, seq, Date.now(), false), { qos: 1 }));
        next += 1;
      }
      await sleep(5);
    }
    await Promise.all(pending);
  }

  /** Each gateway publishes `n` queued events at once, as an outbox drains after a reconnect. */
  async burst(n: number): Promise<void> {
    const pending: Promise<unknown>[] = [];
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < K; i++) {
        const seq = ++this.seq[i]!;
        pending.push(this.clients[i]!.publishAsync(this.topic(i), eventJson(`gw-${i}`, seq, Date.now(), true), { qos: 1 }));
      }
      if (j % 10 === 9) await sleep(0); // let PUBACKs in
    }
    await Promise.all(pending);
  }

  async end(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.endAsync(true)));
  }
}

interface PhaseFigures {
  label: string;
  steadyLag: number[];
  /** ms from the burst's first publish until every burst row was committed (received). */
  burstMs: number;
  /** CPU ms during the burst, by group of processes. */
  cpu: Map<string, number>;
  extra?: string;
}

/**
 * Baseline 1: a raw QoS 1 subscriber with no database, in a process of its own like the
 * service (`--raw-subscriber`, same connection settings: MQTT 5, a persistent session,
 * Receive Maximum 65 535; mqtt.js acknowledges each message on arrival). It parses each
 * payload (for the lag) and counts; the publishing gateways are the same as for the service.
 */
async function rawSubscriber(url: string, tag: string): Promise<PhaseFigures> {
  const prefix = `${PREFIX_BASE}-sub-${tag}`;
  const child = spawn(process.execPath, [import.meta.filename, '--raw-subscriber', url, prefix], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines: string[] = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      lines.push(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  });
  const next = async (what: string, timeoutMs: number): Promise<string> => {
    await until(what, () => {
      if (child.exitCode !== null) throw new Error(`raw subscriber exited with ${child.exitCode}`);
      return lines.length > 0;
    }, timeoutMs, 20);
    return lines.shift()!;
  };
  try {
    await next('raw subscriber subscribed', 30_000);
    const gws = new Gateways(url, prefix);
    await gws.connect();
    await gws.steady(STEADY_S);
    const steadyLag = JSON.parse(await next('steady phase received', 60_000)) as number[];
    const cpu0 = await cpuSnapshot({ subscriber: [child.pid!] });
    const t0 = Date.now();
    await gws.burst(BURST);
    const lastAt = Number(await next('burst received', 300_000));
    const cpu = cpuDelta(cpu0, await cpuSnapshot({ subscriber: [child.pid!] }));
    await gws.end();
    return { label: 'baseline: raw subscriber, no database', steadyLag, burstMs: lastAt - t0, cpu };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

/** The subscriber process of baseline 1: prints "subscribed", the steady lags (JSON), then the last arrival (ms). */
async function rawSubscriberProcess(url: string, prefix: string): Promise<void> {
  const sub = connect(url, {
    clientId: `${prefix}-office`, protocolVersion: 5, clean: false, reconnectPeriod: 0, keepalive: 30,
    properties: { sessionExpiryInterval: 3600, receiveMaximum: 65_535 },
  });
  await new Promise<void>((resolve, reject) => {
    sub.once('connect', () => resolve());
    sub.once('error', reject);
  });
  const steadyLag: number[] = [];
  let received = 0;
  sub.on('message', (_topic, payload) => {
    const now = Date.now();
    const m = JSON.parse(payload.toString()) as { seq: number; at: string };
    received += 1;
    if (m.seq <= STEADY_S) steadyLag.push(now - Date.parse(m.at));
    if (received === K * STEADY_S) process.stdout.write(`${JSON.stringify(steadyLag)}\n`);
    if (received === K * (STEADY_S + BURST)) process.stdout.write(`${now}\n`);
  });
  await sub.subscribeAsync(`${prefix}/+/+/events`, { qos: 1 });
  process.stdout.write('subscribed\n');
  process.once('SIGTERM', () => {
    // Clean up the persistent session at the broker, then go.
    sub.end(true, { properties: { sessionExpiryInterval: 0 } }, () => process.exit(0));
  });
}

/** CPU seconds used so far by each group of processes (Linux /proc; empty elsewhere). */
type CpuSnapshot = Map<string, Map<number, number>>;

function cpuMsOf(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

async function cpuSnapshot(groups: Record<string, number[] | (() => Promise<number[]>)>): Promise<CpuSnapshot> {
  const snap: CpuSnapshot = new Map();
  const self = process.cpuUsage();
  snap.set('gateways (bench)', new Map([[process.pid, (self.user + self.system) / 1000]]));
  if (broker.pid !== null) snap.set('broker', new Map([[broker.pid, cpuMsOf(broker.pid) ?? 0]]));
  for (const [name, pids] of Object.entries(groups)) {
    const list = typeof pids === 'function' ? await pids() : pids;
    snap.set(name, new Map(list.map((pid) => [pid, cpuMsOf(pid) ?? 0])));
  }
  return snap;
}

/** ms of CPU per group between two snapshots (a process that appeared in between counts from 0). */
function cpuDelta(a: CpuSnapshot, b: CpuSnapshot): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, pids] of b) {
    let ms = 0;
    for (const [pid, v] of pids) ms += v - (a.get(name)?.get(pid) ?? 0);
    out.set(name, ms);
  }
  return out;
}

/** The PostgreSQL server processes serving one database (its backends). */
async function backendsOf(database: string): Promise<number[]> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    const rows = await c.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database]);
    return rows.rows.map((r) => r.pid);
  } finally {
    await c.end();
  }
}

type EngineName = 'postgres' | 'pglite';

interface Store {
  engine: EngineName;
  url: string | null;
  /** The PostgreSQL database's name (null for PGlite). */
  database: string | null;
  dataDir: string;
  open(): Promise<Db>;
  drop(): Promise<void>;
}

async function newStore(engine: EngineName): Promise<Store> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bench-central-'));
  if (engine === 'pglite') {
    return {
      engine, url: null, database: null, dataDir,
      open: () => openDb({ url: null, dataDir }),
      drop: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const name = `bench_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(PG_URL);
  u.pathname = `/${name}`;
  return {
    engine, url: u.toString(), database: name, dataDir,
    open: () => openDb({ url: u.toString(), dataDir }),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const INSERT = `
INSERT INTO events (id, site, checkpoint, seq, at, lane, kind, outcome, reasons, credential, subject, category, temperature, historical, payload)
SELECT (m->>'id')::uuid, m->>'site', m->>'checkpoint', (m->>'seq')::bigint, (m->>'at')::timestamptz, m->>'lane', m->>'kind', m->>'outcome',
       ARRAY(SELECT jsonb_array_elements_text(m->'reasons')), m->>'credential', m->>'subject', m->>'category',
       (m->>'temperature')::double precision, (m->>'historical')::boolean, m
  FROM jsonb_array_elements($1::jsonb) AS m`;

/** Baseline 2: the burst's rows, built the same way, inserted in batches of 500 (one transaction each). */
async function rawInsert(store: Store): Promise<{ ms: number; rows: number; serviceWriteMs: number }> {
  const db = await store.open();
  try {
    await migrate(db);
    const month = monthOf(Date.now());
    await new Partitions(db).ensure([addMonths(month, -1), month, addMonths(month, 1)]);
    const rows: string[] = [];
    for (let j = 1; j <= BURST; j++) for (let i = 0; i < K; i++) rows.push(eventJson(`baseline-${i}`, j, Date.now(), true));
    const t0 = performance.now();
    for (let s = 0; s < rows.length; s += 500) {
      const batch = `[${rows.slice(s, s + 500).join(',')}]`;
      await db.transaction((tx) => tx.query(INSERT, [batch]));
    }
    const ms = performance.now() - t0;
    // For the reader: the service's own classify + writeBatch over other rows of the same
    // shape, no MQTT (where the service's time goes that the raw insert does not spend).
    const validators = loadValidators();
    const prefix = 'reference';
    const items = [];
    for (let j = 1; j <= BURST; j++) for (let i = 0; i < K; i++) items.push(`${prefix}/ref-${i}/gate-1/events\n${eventJson(`ref-${i}`, j, Date.now(), true)}`);
    const t1 = performance.now();
    for (let s = 0; s < items.length; s += 500) {
      const batch = items.slice(s, s + 500).map((text) => {
        const nl = text.indexOf('\n');
        return classify(text.slice(0, nl), Buffer.from(text.slice(nl + 1)), prefix, validators);
      });
      await db.transaction((tx) => writeBatch(tx, batch, Date.now()));
    }
    return { ms, rows: rows.length, serviceWriteMs: performance.now() - t1 };
  } finally {
    await db.close();
  }
}

interface Service {
  child: ChildProcess;
  http: string;
  stop(): Promise<void>;
}

async function startService(o: { store: Store; url: string; prefix: string; clientId: string; shared: boolean }): Promise<Service> {
  const file = path.join(o.store.dataDir, `${o.clientId}.yaml`);
  const tokenFile = path.join(o.store.dataDir, 'metrics-token');
  writeFileSync(tokenFile, `${METRICS_TOKEN}\n`, { mode: 0o600 });
  writeFileSync(file, [
    'logLevel: info',
    `dataDir: ${JSON.stringify(o.store.dataDir)}`,
    ...(o.store.url ? ['database:', `  url: ${JSON.stringify(o.store.url)}`] : []),
    'mqtt:',
    `  url: ${o.url}`,
    '  protocolVersion: 5',
    `  clientId: ${o.clientId}`,
    `  topicPrefix: ${o.prefix}`,
    ...(o.shared ? ['  sharedGroup: office'] : []),
    `http: { host: 127.0.0.1, port: 0, metricsTokenFile: ${JSON.stringify(tokenFile)} }`,
    // The shipped defaults (config/central.yaml) unless BENCH_CENTRAL_BATCH_MAX says otherwise.
    `ingest: { batchMax: ${BATCH_MAX}, batchMs: 50, concurrency: ${CONCURRENCY} }`,
    'gapRepair: { afterMs: 600000, retryMs: 600000, checkMs: 600000 }',
    '',
  ].join('\n'));
  const child = spawn(process.execPath, [...NODE_ARGS, MAIN], { env: { ...env, CENTRAL_CONFIG: file }, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let http = '';
  let connected = false;
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.includes('"msg":"ready:')) http = (JSON.parse(line) as { http: string }).http;
      if (line.includes('connected to the broker')) connected = true;
      if (line.includes('"level":50') || line.includes('"level":60')) process.stderr.write(`${o.clientId}: ${line}\n`);
    }
  });
  await until(`${o.clientId} ready and connected`, () => {
    if (child.exitCode !== null) throw new Error(`${o.clientId} exited with ${child.exitCode}`);
    return http !== '' && connected;
  }, 30_000, 50);
  await sleep(300); // its SUBSCRIBE answered
  return {
    child, http,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

async function metricsText(svc: Service): Promise<string> {
  const res = await fetch(`${svc.http}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  if (!res.ok) throw new Error(`${svc.http}/metrics answered ${res.status}`);
  return res.text();
}

async function metric(svc: Service, re: RegExp): Promise<number> {
  return Number(re.exec(await metricsText(svc))?.[1] ?? 0);
}
const committedOf = (svc: Service): Promise<number> => metric(svc, /^central_rows_committed_total\{type="event"\} (\d+)/m);

/** The upper bound of the histogram bucket holding the p99 of central_commit_seconds (ms). */
async function commitP99Ms(svcs: Service[]): Promise<number> {
  const buckets = new Map<number, number>();
  for (const s of svcs) {
    const text = await metricsText(s);
    for (const m of text.matchAll(/^central_commit_seconds_bucket\{le="([^"]+)"\} (\d+)/gm)) {
      const le = m[1] === '+Inf' ? Infinity : Number(m[1]);
      buckets.set(le, (buckets.get(le) ?? 0) + Number(m[2]));
    }
  }
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  const hit = sorted.find(([, n]) => n >= total * 0.99);
  return (hit?.[0] ?? NaN) * 1000;
}

async function serviceRun(engine: EngineName, url: string, instances: 1 | 2): Promise<{ figures: PhaseFigures; insert: { ms: number; rows: number; serviceWriteMs: number } }> {
  const store = await newStore(engine);
  try {
    const insert = await rawInsert(store);
    const prefix = `${PREFIX_BASE}-${engine}-${instances}`;
    const svcs: Service[] = [];
    for (let n = 1; n <= instances; n++) svcs.push(await startService({ store, url, prefix, clientId: `${prefix}-office-${n}`, shared: instances > 1 }));
    const committed = async (): Promise<number> => (await Promise.all(svcs.map(committedOf))).reduce((a, b) => a + b, 0);
    const gws = new Gateways(url, prefix);
    await gws.connect();
    await gws.steady(STEADY_S);
    await until('steady phase committed', async () => (await committed()) >= K * STEADY_S, 120_000);
    const groups = {
      [`service${instances > 1 ? 's' : ''}`]: svcs.map((x) => x.child.pid!),
      ...(store.database ? { PostgreSQL: () => backendsOf(store.database!) } : {}),
    };
    const cpu0 = await cpuSnapshot(groups);
    const t0 = Date.now();
    await gws.burst(BURST);
    await until('burst committed', async () => (await committed()) >= K * (STEADY_S + BURST), 600_000, 50);
    const burstMs = Date.now() - t0;
    const cpu = cpuDelta(cpu0, await cpuSnapshot(groups));
    const p99Commit = await commitP99Ms(svcs);
    const perInstance = await Promise.all(svcs.map(committedOf));
    await gws.end();
    for (const s of svcs) await s.stop();
    // The service is gone: the PGlite folder may be opened here now.
    const db = await store.open();
    let steadyLag: number[];
    try {
      const rows = await db.query<{ lag: number }>(
        `SELECT (extract(epoch FROM received_at) - extract(epoch FROM at)) * 1000 AS lag FROM events WHERE site LIKE 'gw-%' AND seq <= $1`,
        [STEADY_S],
      );
      steadyLag = rows.map((r) => Number(r.lag));
    } finally {
      await db.close();
    }
    const label = `service ×${instances}${instances > 1 ? ' (shared subscription)' : ''}, ${engine === 'postgres' ? 'PostgreSQL' : 'PGlite'}`;
    const extra = `commit p99 ≤ ${p99Commit} ms${instances > 1 ? `, rows per instance ${perInstance.join(' / ')}` : ''}`;
    return { figures: { label, steadyLag, burstMs, cpu, extra }, insert };
  } finally {
    await store.drop();
  }
}

function line(label: string, text: string): string {
  return `${label.padEnd(52)} ${text}`;
}

/** CPU during the burst, µs per row by group, and in all against what the cores had. */
function cpuText(cpu: Map<string, number>, rows: number, ms: number): string {
  if (cpu.size === 0) return '';
  let all = 0;
  const parts: string[] = [];
  for (const [name, v] of cpu) {
    all += v;
    parts.push(`${name} ${((v * 1000) / rows).toFixed(0)}`);
  }
  return `CPU µs/row: ${parts.join(', ')}; all ${((all * 1000) / rows).toFixed(0)} (${((100 * all) / (ms * cpus().length)).toFixed(0)} % of ${cpus().length} cores)`;
}

function lagText(lag: number[]): string {
  const s = [...lag].sort((a, b) => a - b);
  return `steady lag p50 ${percentile(s, 50).toFixed(0)} ms p99 ${percentile(s, 99).toFixed(0)} ms (n=${s.length})`;
}

export async function benchCentralIngest(): Promise<void> {
  const burstRows = K * BURST;
  console.log(`${cpus().length} × ${cpus()[0]?.model ?? '?'}; K=${K} gateways, steady ${STEADY_S} s at 1 event/s each (${K}/s), burst ${BURST} each (${burstRows} rows); setups: ${SETUPS.join(', ')}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-broker-'));
  const mqtt = env.BENCH_MQTT_URL ? { url: env.BENCH_MQTT_URL, stop: () => undefined } : await privateBroker(dir);
  console.log(`service ${path.relative(process.cwd(), MAIN) || MAIN}`);
  console.log(`broker ${env.BENCH_MQTT_URL ? mqtt.url : `private Mosquitto (${mqtt.url}, max_queued_messages 0)`}, service ingest batchMax ${BATCH_MAX} batchMs 50 concurrency ${CONCURRENCY}`);
  console.log('each service setup follows its own raw-subscriber baseline (run just before it, same broker and gateways)');
  const subscriber = async (tag: string): Promise<number> => {
    const f = await rawSubscriber(mqtt.url, tag);
    const rate = (burstRows / f.burstMs) * 1000;
    console.log(line(f.label, `burst ${(f.burstMs / 1000).toFixed(1)} s = ${Math.round(rate)}/s; ${lagText(f.steadyLag)}`));
    console.log(line('', cpuText(f.cpu, burstRows, f.burstMs)));
    return rate;
  };
  try {
    const runs: [string, EngineName, 1 | 2][] = [['pg', 'postgres', 1], ['pglite', 'pglite', 1], ['pg-shared', 'postgres', 2]];
    const chosen = runs.filter(([name]) => SETUPS.includes(name));
    if (chosen.length === 0 && SETUPS.includes('subscriber')) await subscriber('only');
    for (const [name, engine, instances] of chosen) {
      console.log(`-- ${name}`);
      const subRate = SETUPS.includes('subscriber') ? await subscriber(name) : NaN;
      const { figures: f, insert } = await serviceRun(engine, mqtt.url, instances);
      const insertRate = (insert.rows / insert.ms) * 1000;
      const rate = (burstRows / f.burstMs) * 1000;
      const slower = Number.isNaN(subRate) ? insertRate : Math.min(subRate, insertRate);
      console.log(line(`baseline: raw batched insert, ${engine === 'postgres' ? 'PostgreSQL' : 'PGlite'}`, `${insert.rows} rows in ${(insert.ms / 1000).toFixed(1)} s = ${Math.round(insertRate)}/s`));
      console.log(line(`reference: classify + writeBatch, no MQTT`, `${insert.rows} rows in ${(insert.serviceWriteMs / 1000).toFixed(1)} s = ${Math.round((insert.rows / insert.serviceWriteMs) * 1000)}/s`));
      console.log(line(f.label, `burst ${(f.burstMs / 1000).toFixed(1)} s = ${Math.round(rate)}/s (${(rate / slower).toFixed(2)} × slower baseline); ${lagText(f.steadyLag)}; ${f.extra ?? ''}`));
      console.log(line('', cpuText(f.cpu, burstRows, f.burstMs)));
    }
  } finally {
    mqtt.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('targets: ingest ≥ 0.7 × the slower baseline; steady lag p99 ≤ 1 s; burst committed ≤ 30 s');
}

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1]) {
  if (process.argv[2] === '--raw-subscriber') await rawSubscriberProcess(process.argv[3]!, process.argv[4]!);
  else await benchCentralIngest();
}
