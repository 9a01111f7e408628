// One decision end to end, as a passage at a sim lane runs it: credential decode +
// Ed25519 verify + policy + ledger and outbox commit (WAL, synchronous=FULL) + relay
// command. Baselines in the same run: a bare Ed25519 verify (node:crypto) and the same
// two SQLite inserts in one transaction without the gateway around them.
import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { issuePass, trustListFromJwks, type TrustJwk } from '../gateway/credentials/index.js';
import { buildSimLane } from '../gateway/gateway.js';
import { MINE_ENTRANCE } from '../gateway/policy/profiles.js';
import { openStore } from '../gateway/store/index.js';
import { row, summarize } from './stats.js';

const N = Number(process.env.BENCH_PASSAGES ?? 10_000);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const readJson = (f: string): unknown => JSON.parse(readFileSync(path.join(root, f), 'utf8'));

export async function benchDecide(): Promise<void> {
  const privateJwk = readJson('config/demo/issuer-1.private.jwk.json') as Parameters<typeof issuePass>[1];
  const publicJwk = readJson('config/trust/demo-issuer-1.jwk.json') as TrustJwk;
  const trust = await trustListFromJwks([publicJwk]);
  const now = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  const passes: string[] = [];
  for (let i = 0; i < N; i++) {
    passes.push(
      await issuePass(
        {
          sub: `bench-${i}`,
          name: '测试员',
          category: 'employee',
          healthCode: 'green',
          travel: { riskLevel: 'none', visits: [], asOf: iso(now) },
          test: { result: 'negative', sampledAt: iso(now - 3600_000) },
        },
        privateJwk,
        { now },
      ),
    );
  }

  const dir = mkdtempSync(path.join(tmpdir(), 'bench-decide-'));
  // As the gateway runs it: WAL checkpoints in a worker thread (BENCH_CHECKPOINT_WORKER=off: inside the commits).
  const store = openStore(dir, { checkpointWorker: process.env.BENCH_CHECKPOINT_WORKER !== 'off' });
  try {
    const { lane, scanner, thermometer, relay } = buildSimLane({
      laneConfig: { id: 'bench', temperatureWindowMs: 10_000, relayPulseMs: 700, scanner: { type: 'sim' }, thermometer: { type: 'sim' }, relay: { type: 'sim' } },
      profile: MINE_ENTRANCE,
      store,
      trust,
      secret: Buffer.alloc(32, 1),
      eventsTopic: 'checkpoints/bench/bench/events',
      ctx: { site: 'bench', checkpoint: 'bench' },
      showMs: 6000,
      now: Date.now,
      logger: pino({ level: 'silent' }),
      afterRecord: () => {},
      onSnapshot: () => {},
    });
    await lane.start();
    const latencies: number[] = [];
    const t0 = performance.now();
    for (const pass of passes) {
      const start = performance.now();
      thermometer.reading(36.5);
      scanner.scan(pass);
      await lane.settled();
      latencies.push(performance.now() - start);
    }
    const wall = performance.now() - t0;
    await lane.stop();
    if (relay.pulses.length !== N) throw new Error(`expected ${N} relay pulses, got ${relay.pulses.length}: not every passage was admitted`);
    console.log(row('gateway: scan → decision → ledger → relay', summarize(latencies, wall)));
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }

  // Baseline 1: the signature check alone, with node:crypto (no JWS parsing, no claims).
  const key = createPublicKey({ key: publicJwk as import('node:crypto').JsonWebKey, format: 'jwk' });
  const raw: number[] = [];
  let t = performance.now();
  for (const pass of passes) {
    const start = performance.now();
    const [h, p, s] = pass.split('.');
    verify(null, Buffer.from(`${h}.${p}`), key, Buffer.from(s ?? '', 'base64url'));
    raw.push(performance.now() - start);
  }
  console.log(row('baseline: Ed25519 verify (node:crypto)', summarize(raw, performance.now() - t)));

  // Baseline 2: two inserts in one transaction, same pragmas, no gateway code.
  const dir2 = mkdtempSync(path.join(tmpdir(), 'bench-sqlite-'));
  const db = new Database(path.join(dir2, 'raw.sqlite'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE l (seq INTEGER PRIMARY KEY, id TEXT UNIQUE, body TEXT); CREATE TABLE o (id INTEGER PRIMARY KEY, body TEXT)');
    const insL = db.prepare('INSERT INTO l (id, body) VALUES (?, ?)');
    const insO = db.prepare('INSERT INTO o (body) VALUES (?)');
    const body = JSON.stringify({ lane: 'bench', outcome: 'admit', reasons: [], temperature: 36.5 });
    const tx = db.transaction((i: number) => {
      insL.run(`id-${i}`, body);
      insO.run(body);
    });
    const sql: number[] = [];
    t = performance.now();
    for (let i = 0; i < N; i++) {
      const start = performance.now();
      tx(i);
      sql.push(performance.now() - start);
    }
    console.log(row('baseline: SQLite 2 inserts/tx, WAL, sync=FULL', summarize(sql, performance.now() - t)));
  } finally {
    db.close();
    rmSync(dir2, { recursive: true, force: true });
  }
}
