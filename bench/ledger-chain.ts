// The hash chain at scale, BENCH_LEDGER_ROWS rows (default 100 000; realistic rows: names,
// facts, a plate on some): the same appends through the store with the chain (schema 10)
// and without it (the store opened at schema 9, in the same run: the baseline), both in
// transactions of 1 000 rows so the fsync does not hide the work; the bytes a row costs
// each way; migration 10 on a ledger of that size (the upgraded gateway's start); and
// `ledger verify` of the chained ledger. The per-decision cost with a commit each is in
// the decide bench.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DATABASE_FILE, MIGRATIONS, openStore, verifyLedger, type NewLedgerEntry } from '../gateway/store/index.js';

const N = Number(process.env.BENCH_LEDGER_ROWS ?? 100_000);
const BATCH = 1000;

const FACTS = {
  v: 1 as const,
  now: 1_764_800_000_000,
  credential: {
    ok: true as const,
    kind: 'health-pass' as const,
    category: 'employee' as const,
    health: {
      code: 'green' as const,
      test: { result: 'negative' as const, sampledAt: '2026-12-04T08:00:00+08:00' },
      travel: { riskLevel: 'none' as const, visits: [], asOf: '2026-12-04T07:00:00+08:00' },
    },
  },
  readings: [{ celsius: 36.5, at: 1_764_800_000_000 }],
  watchlist: [],
  approvals: [],
  riskAreas: [],
} as unknown as NonNullable<NewLedgerEntry['facts']>;

function entry(i: number): NewLedgerEntry {
  const fever = i % 50 === 0;
  return {
    id: `bench-${i}-0000-0000-0000-000000000000`,
    at: 1_764_800_000_000 + i * 1500,
    lane: 'in-1',
    kind: 'decision',
    outcome: fever ? 'refuse' : 'admit',
    reasons: fever ? [{ code: 'TEMP_FEVER', zh: '体温 37.8 °C，超过 37.3 °C', en: 'Temperature 37.8 °C is at or above 37.3 °C' } as unknown as NewLedgerEntry['reasons'][number]] : [],
    alerts: fever ? [{ kind: 'fever', severity: 'critical', code: 'TEMP_FEVER' }] : [],
    credential: 'health-pass',
    subjectRef: `p1_${String(i % 3000).padStart(22, 'A')}`,
    subjectName: `工人${i % 3000}`,
    category: 'employee',
    temperature: fever ? 37.8 : 36.5,
    profile: 'mine-entrance',
    profileHash: 'a'.repeat(64),
    facts: FACTS,
    ...(i % 20 === 0 ? { plate: `晋A${10000 + (i % 900)}`, goods: 'coal' } : {}),
  };
}

/** Appends N rows in transactions of BATCH; returns ms and the file's bytes per row. */
function fill(dir: string, chained: boolean): { ms: number; bytesPerRow: number } {
  const store = openStore(dir, chained ? {} : { migrations: MIGRATIONS.slice(0, 9) });
  const t = performance.now();
  for (let from = 0; from < N; from += BATCH) {
    store.transaction(() => {
      for (let i = from; i < Math.min(N, from + BATCH); i++) store.appendDecision(entry(i), () => null);
    });
  }
  const ms = performance.now() - t;
  store.close();
  return { ms, bytesPerRow: statSync(path.join(dir, DATABASE_FILE)).size / N };
}

export async function benchLedgerChain(): Promise<void> {
  const plainDir = mkdtempSync(path.join(tmpdir(), 'bench-chain-plain-'));
  const chainDir = mkdtempSync(path.join(tmpdir(), 'bench-chain-'));
  try {
    const plain = fill(plainDir, false);
    const chained = fill(chainDir, true);

    // The plain ledger is a schema-9 file: opening it now applies migration 10.
    let t = performance.now();
    openStore(plainDir).close();
    const migration = performance.now() - t;

    t = performance.now();
    const report = verifyLedger(chainDir);
    const verify = performance.now() - t;
    if (!report.ok || report.records.ledger !== N) throw new Error(`verify: ${report.problem?.detail ?? `${report.records.ledger} rows`}`);

    const perRow = (ms: number): string => `${((ms * 1000) / N).toFixed(1).padStart(6)} µs/row ${`${Math.round((N / ms) * 1000)}/s`.padStart(9)}`;
    console.log(`ledger rows: ${N}, appended in transactions of ${BATCH}`);
    console.log(`append with the chain (schema 10)              ${perRow(chained.ms)}   ${Math.round(chained.bytesPerRow)} bytes/row`);
    console.log(`baseline: append without it (schema 9)         ${perRow(plain.ms)}   ${Math.round(plain.bytesPerRow)} bytes/row`);
    console.log(`ledger verify (whole chain, read-only)         ${perRow(verify)}`);
    console.log(`migration 10 of the schema-9 ledger (genesis)  ${migration.toFixed(1).padStart(6)} ms`);
  } finally {
    rmSync(plainDir, { recursive: true, force: true });
    rmSync(chainDir, { recursive: true, force: true });
  }
}
