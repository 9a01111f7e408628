// One decision end to end, as a passage at a sim lane runs it: credential decode +
// Ed25519 verify + policy + ledger and outbox commit (WAL, synchronous=FULL) + relay
// command. Baselines in the same run: a bare Ed25519 verify (node:crypto) of the same
// passes; the very rows the gateway committed (ledger, hash chain, outbox: same schema,
// indexes and bytes) written again with plain prepared statements, one transaction per
// passage; and two small inserts per transaction (the figure older runs compared with).
// The floor is verify + same-rows transaction: what a decision cannot do without.
import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import type { TrustJwk } from '../gateway/credentials/index.js';
import { DATABASE_FILE, openStore } from '../gateway/store/index.js';
import { row, summarize, type Summary } from './stats.js';
import { benchLane, demoPasses, demoTrust } from './sim-lane.js';

const N = Number(process.env.BENCH_PASSAGES ?? 10_000);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const readJson = (f: string): unknown => JSON.parse(readFileSync(path.join(root, f), 'utf8'));

export async function benchDecide(): Promise<void> {
  const publicJwk = readJson('config/trust/demo-issuer-1.jwk.json') as TrustJwk;
  const trust = await demoTrust();
  const now = Date.now();
  const passes = await demoPasses(N, now);

  const dir = mkdtempSync(path.join(tmpdir(), 'bench-decide-'));
  // As the gateway runs it: WAL checkpoints in a worker thread (BENCH_CHECKPOINT_WORKER=off: inside the commits).
  const store = openStore(dir, { checkpointWorker: process.env.BENCH_CHECKPOINT_WORKER !== 'off' });
  let gateway: Summary;
  let written: CommittedRows;
  try {
    const { lane, scanner, thermometer, relay } = benchLane(store, trust);
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
    gateway = summarize(latencies, wall);
    console.log(row('gateway: scan → decision → ledger → relay', gateway));
    store.close();
    written = committedRows(store.path);
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
  const verifyOnly = summarize(raw, performance.now() - t);
  console.log(row('baseline: Ed25519 verify (node:crypto)', verifyOnly));

  // Baseline 2: the same rows, same schema, one transaction per passage, no gateway code.
  const dir3 = mkdtempSync(path.join(tmpdir(), 'bench-rows-'));
  let sameRows: Summary;
  try {
    openStore(dir3).close(); // the gateway's schema (migrations, genesis row), untimed
    const db = new Database(path.join(dir3, DATABASE_FILE));
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      const insert = (table: string, r: Record<string, unknown>) =>
        db.prepare(`INSERT INTO ${table} (${Object.keys(r).join(', ')}) VALUES (${Object.keys(r).map((c) => `@${c}`).join(', ')})`);
      const [l0, c0, o0] = [written.ledger[0], written.chain[0], written.outbox[0]];
      if (!l0 || !c0 || !o0) throw new Error('the gateway run left no rows to write again');
      const [insL, insC, insO] = [insert('ledger', l0), insert('chain', c0), insert('outbox', o0)];
      const tx = db.transaction((i: number) => {
        insL.run(written.ledger[i]!);
        insC.run(written.chain[i]!);
        insO.run(written.outbox[i]!);
      });
      const sql: number[] = [];
      t = performance.now();
      for (let i = 0; i < N; i++) {
        const start = performance.now();
        tx(i);
        sql.push(performance.now() - start);
      }
      sameRows = summarize(sql, performance.now() - t);
      console.log(row('baseline: SQLite same rows/tx (ledger+chain+outbox)', sameRows));
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir3, { recursive: true, force: true });
  }

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
  const floor = verifyOnly.p50 + sameRows.p50;
  console.log(
    `floor p50 (verify + same rows) ${floor.toFixed(3)} ms; gateway p50 ${(gateway.p50 / floor).toFixed(2)} × floor (target ≤ 1.5), ` +
      `p99 ${gateway.p99.toFixed(3)} ms (target ≤ 2); decisions/s ${(gateway.perSecond / sameRows.perSecond).toFixed(2)} × same-rows transactions/s`,
  );
}

interface CommittedRows {
  ledger: Record<string, unknown>[];
  chain: Record<string, unknown>[];
  outbox: Record<string, unknown>[];
}

/** Every row the gateway run committed for its passages, column by column, in commit order. */
function committedRows(file: string): CommittedRows {
  const db = new Database(file, { readonly: true });
  try {
    const all = (sql: string) => db.prepare<[], Record<string, unknown>>(sql).all();
    const rows = {
      ledger: all('SELECT * FROM ledger ORDER BY seq'),
      chain: all("SELECT * FROM chain WHERE kind = 'ledger' ORDER BY seq"),
      outbox: all('SELECT * FROM outbox ORDER BY id'),
    };
    if (rows.ledger.length !== N || rows.chain.length !== N || rows.outbox.length !== N) {
      throw new Error(`expected ${N} ledger, chain and outbox rows, got ${rows.ledger.length}, ${rows.chain.length}, ${rows.outbox.length}`);
    }
    return rows;
  } finally {
    db.close();
  }
}
