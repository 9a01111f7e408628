// Memory footprint (issue 16): the small fanless checkpoint PC also runs the kiosk browser.
// 1. In-process (bench/footprint-child.ts, one child per lane count): RSS and heap after
//    start, after 10 000 passages and after a simulated 24 h of periodic jobs, with 1, 4
//    and 16 lanes of sim devices; heap after a full GC.
// 2. Heap snapshots after the passages and after the day (4 lanes): what grew, by constructor.
// 3. The real process (`node dist/gateway/main.js`, what a site runs: bundle + code cache;
//    bench/footprint-process.ts): RSS 1 s after ready and settled, with and without the
//    full GC at ready (GATEWAY_SETTLE_MEMORY=off), then after passages driven through its
//    HTTP sim API and settled again; baseline a bare node in the same run.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FootprintResult, MemoryPoint } from './footprint-child.js';
import { bundleProblem, measureBareNode, measureGatewayProcess, processPasses, SETTLE_MS, type ProcessFootprint, type Rss } from './footprint-process.js';
import { heapByConstructor, heapGrowth, totalSize } from './heap-diff.js';

const LANES = (process.env.BENCH_FOOTPRINT_LANES ?? '1,4,16').split(',').map(Number);
const SNAPSHOT_LANES = Number(process.env.BENCH_FOOTPRINT_SNAPSHOT_LANES ?? 4);
const RUNS = Number(process.env.BENCH_FOOTPRINT_RUNS ?? 2);
/** Passages driven through the real process's HTTP sim API, and on how many lanes. */
const PROCESS_PASSAGES = Number(process.env.BENCH_FOOTPRINT_PROCESS_PASSAGES ?? 1000);
const PASSAGE_LANES = Number(process.env.BENCH_FOOTPRINT_PASSAGE_LANES ?? 4);
/** Idle time after the passages before the last figure: V8's memory reducer takes 10–50 s to run after a burst. */
const IDLE_AFTER_MS = Number(process.env.BENCH_FOOTPRINT_IDLE_AFTER_MS ?? 60_000);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const MB = 1024 * 1024;
const mb = (bytes: number): string => `${(bytes / MB).toFixed(1)}`.padStart(6);

function runChild(lanes: number, outDir: string, snapshots: boolean): Promise<FootprintResult> {
  return new Promise((resolve, reject) => {
    const args = ['--expose-gc', path.join(root, 'dist/bench/footprint-child.js'), String(lanes), outDir, ...(snapshots ? ['snapshots'] : [])];
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`footprint child (${lanes} lanes) exited with ${code}: ${stderr}`));
      resolve(JSON.parse(readFileSync(path.join(outDir, `lanes-${lanes}.json`), 'utf8')) as FootprintResult);
    });
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

function pointCells(p: MemoryPoint): string {
  return `${mb(p.rss)} ${mb(p.heapUsed)} ${mb(p.heapTotal)}`;
}

export async function benchFootprint(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-footprint-'));
  try {
    // A `tsc` after `npm run build` leaves the bundle stale, and the process then starts from the modules.
    const stale = bundleProblem();
    if (stale !== null) throw new Error(`footprint: the gateway would not start from its bundle (${stale}); run \`npm run build\` first`);

    // 3. The real process first. Each round runs every variant once, interleaved (the machine's load drifts).
    // "as unit": the environment of deploy/systemd/checkpoint-gateway.service and `npm start` (MALLOC_ARENA_MAX=2).
    const variants: { name: string; env: NodeJS.ProcessEnv }[] = [
      { name: 'as unit', env: { MALLOC_ARENA_MAX: '2' } },
      { name: 'settle', env: {} },
      { name: 'no GC', env: { GATEWAY_SETTLE_MEMORY: 'off' } },
    ];
    const cell = (xs: number[]): string => mb(median(xs)).padStart(7);
    const rssCells = (rs: Rss[]): string => `${cell(rs.map((r) => r.rss))} ${cell(rs.map((r) => r.anon))}`;
    console.log(`real process (bundle), MB rss / anonymous, median of ${RUNS}; "settled" = ${SETTLE_MS / 1000} s after ready; fresh data folder each`);
    console.log(`${'lanes'.padEnd(6)} ${'variant'.padEnd(8)} ${'1 s after ready'.padStart(15)} ${'settled'.padStart(15)}   full GC at ready`);
    const runs = new Map<string, ProcessFootprint[]>();
    const bareRuns: { ready: Rss; settled: Rss }[] = [];
    for (let i = 0; i < RUNS; i++) {
      bareRuns.push(await measureBareNode());
      for (const lanes of LANES) for (const v of variants) {
        const key = `${lanes}/${v.name}`;
        runs.set(key, [...(runs.get(key) ?? []), await measureGatewayProcess(dir, lanes, 0, v.env)]);
      }
    }
    for (const lanes of LANES) {
      for (const v of variants) {
        const rs = runs.get(`${lanes}/${v.name}`) ?? [];
        const gc = rs.flatMap((r) => r.settleLog.map((l) => (JSON.parse(l) as { settleMemory: { gcMs: number } }).settleMemory.gcMs));
        console.log(`${String(lanes).padEnd(6)} ${v.name.padEnd(8)} ${rssCells(rs.map((r) => r.ready))} ${rssCells(rs.map((r) => r.settled))}   ${gc.length ? `${Math.min(...gc)}–${Math.max(...gc)} ms` : '-'}`);
      }
    }
    console.log(`${'bare'.padEnd(6)} ${'node'.padEnd(8)} ${rssCells(bareRuns.map((r) => r.ready))} ${rssCells(bareRuns.map((r) => r.settled))}`);

    // The same process after a burst of passages through its HTTP API, then idle.
    const passes = await processPasses(Math.min(500, PROCESS_PASSAGES));
    console.log(`\nreal process, ${PASSAGE_LANES} lanes, ${PROCESS_PASSAGES} passages over HTTP (temperature + scan, each to its relay pulse), MB rss / anonymous, one run each`);
    console.log(`${'variant'.padEnd(8)} ${'settled'.padStart(15)} ${'after passages'.padStart(15)} ${`${IDLE_AFTER_MS / 1000} s idle`.padStart(15)}  passages/s`);
    for (const v of variants) {
      const r = await measureGatewayProcess(dir, PASSAGE_LANES, PROCESS_PASSAGES, v.env, passes, IDLE_AFTER_MS);
      const after = r.afterPassages ? rssCells([r.afterPassages]) : '';
      const idle = r.settledAfterPassages ? rssCells([r.settledAfterPassages]) : '';
      console.log(`${v.name.padEnd(8)} ${rssCells([r.settled])} ${after} ${idle}  ${((PROCESS_PASSAGES * 1000) / r.passagesMs).toFixed(0)}`);
    }

    // BENCH_FOOTPRINT_ONLY=process: the real process only (the in-process runs take minutes).
    if (process.env.BENCH_FOOTPRINT_ONLY === 'process') return;

    // 1. In-process: start, after the passages, after the simulated day.
    console.log('\nin-process gateway (modules), MB after a full GC: rss heapUsed heapTotal');
    console.log(`${'lanes'.padEnd(6)} ${'start'.padEnd(20)} ${'after passages'.padEnd(20)} ${'after 24 h'.padEnd(20)}  periodic job runs`);
    for (const lanes of LANES) {
      const out = mkdtempSync(path.join(dir, `child-${lanes}-`));
      const r = await runChild(lanes, out, false);
      console.log(`${String(lanes).padEnd(6)} ${pointCells(r.points.start)}  ${pointCells(r.points.afterPassages)}  ${pointCells(r.points.afterSoak)}  ${r.periodicRuns}`);
      rmSync(out, { recursive: true, force: true });
    }

    // 2. What grew between the two later points (a separate run: writing a snapshot itself raises RSS).
    const out = mkdtempSync(path.join(dir, 'snap-'));
    const r = await runChild(SNAPSHOT_LANES, out, true);
    if (!r.snapshots) throw new Error('footprint: the snapshot run wrote no snapshots');
    const a = heapByConstructor(r.snapshots[0]);
    const b = heapByConstructor(r.snapshots[1]);
    console.log(
      `\nheap snapshot diff, ${SNAPSHOT_LANES} lanes, after ${r.passages} passages → after ${r.soakHours} h: live heap ${mb(totalSize(a)).trim()} → ${mb(totalSize(b)).trim()} MB`,
    );
    console.log(`${'constructor'.padEnd(40)} ${'Δcount'.padStart(9)} ${'Δbytes'.padStart(11)}`);
    for (const g of heapGrowth(a, b).slice(0, 12)) console.log(`${g.name.slice(0, 40).padEnd(40)} ${String(g.count).padStart(9)} ${String(g.size).padStart(11)}`);
    rmSync(out, { recursive: true, force: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
