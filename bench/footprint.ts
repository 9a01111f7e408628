// Memory footprint (issue 16): the small fanless checkpoint PC also runs the kiosk browser.
// 1. In-process (bench/footprint-child.ts, one child per lane count): RSS and heap after
//    start, after 10 000 passages and after a simulated 24 h of periodic jobs, with 1, 4
//    and 16 lanes of sim devices; heap after a full GC.
// 2. Heap snapshots after the passages and after the day (4 lanes): what grew, by constructor.
// 3. The real process (`node dist/gateway/main.js`, what a site runs: bundle + code cache;
//    bench/footprint-process.ts): RSS 1 s after ready and settled, with and without the
//    full GC at ready (GATEWAY_SETTLE_MEMORY=off), then after passages driven through its
//    HTTP sim API and settled again, with and without the GC after traffic
//    (GATEWAY_SETTLE_MEMORY=ready); baseline a bare node in the same run.
//    BENCH_FOOTPRINT_ONLY=process: the real process only; =traffic: only its after-traffic part.
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
/** The malloc settings of deploy/systemd/checkpoint-gateway.service (docs/footprint.md "Memory"). */
const AS_UNIT: NodeJS.ProcessEnv = { MALLOC_ARENA_MAX: '2', MALLOC_TRIM_THRESHOLD_: '131072' };
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
    // "as unit": the malloc settings of deploy/systemd/checkpoint-gateway.service; "arena 2": MALLOC_ARENA_MAX=2 alone
    // (`npm start`); "settle": the default environment.
    const variants: { name: string; env: NodeJS.ProcessEnv }[] = [
      { name: 'as unit', env: AS_UNIT },
      { name: 'arena 2', env: { MALLOC_ARENA_MAX: '2' } },
      { name: 'settle', env: {} },
      { name: 'no GC', env: { GATEWAY_SETTLE_MEMORY: 'off' } },
    ];
    const only = process.env.BENCH_FOOTPRINT_ONLY;
    const cell = (xs: number[]): string => mb(median(xs)).padStart(7);
    const rssCells = (rs: Rss[]): string => `${cell(rs.map((r) => r.rss))} ${cell(rs.map((r) => r.anon))}`;
    const gcMs = (rs: ProcessFootprint[], when: string): string => {
      const ms = rs.flatMap((r) => r.settleLog.map((l) => (JSON.parse(l) as { settleMemory: { gcMs: number; when?: string } }).settleMemory).filter((m) => (m.when ?? 'ready') === when).map((m) => m.gcMs));
      return ms.length ? `${Math.min(...ms)}–${Math.max(...ms)} ms (${ms.length})` : '-';
    };
    if (only !== 'traffic') {
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
        console.log(`${String(lanes).padEnd(6)} ${v.name.padEnd(8)} ${rssCells(rs.map((r) => r.ready))} ${rssCells(rs.map((r) => r.settled))}   ${gcMs(rs, 'ready')}`);
      }
    }
    console.log(`${'bare'.padEnd(6)} ${'node'.padEnd(8)} ${rssCells(bareRuns.map((r) => r.ready))} ${rssCells(bareRuns.map((r) => r.settled))}`);
    }

    // The same process after a burst of passages through its HTTP API, then idle. Each round
    // runs every variant once, interleaved. "ready GC": as unit, the GC at ready only (none after traffic).
    // BENCH_FOOTPRINT_BASELINE_MAIN=<another build>/gateway/main.js adds that build as it ran
    // (BENCH_FOOTPRINT_BASELINE_ENV, JSON; default MALLOC_ARENA_MAX=2), for before/after in one run.
    const baseline = process.env.BENCH_FOOTPRINT_BASELINE_MAIN;
    // BENCH_FOOTPRINT_TRAFFIC_VARIANTS=name,name: only those (the whole part takes ~100 s per run).
    const pick = process.env.BENCH_FOOTPRINT_TRAFFIC_VARIANTS?.split(',');
    const trafficVariants: { name: string; env: NodeJS.ProcessEnv; main?: string }[] = [
      { name: 'as unit', env: AS_UNIT },
      { name: 'ready GC', env: { ...AS_UNIT, GATEWAY_SETTLE_MEMORY: 'ready' } },
      ...variants.slice(1),
      ...(baseline ? [{ name: 'baseline', env: JSON.parse(process.env.BENCH_FOOTPRINT_BASELINE_ENV ?? '{"MALLOC_ARENA_MAX":"2"}') as NodeJS.ProcessEnv, main: baseline }] : []),
    ].filter((v) => pick === undefined || pick.includes(v.name));
    const passes = await processPasses(Math.min(500, PROCESS_PASSAGES));
    const trafficRuns = new Map<string, ProcessFootprint[]>();
    for (let i = 0; i < RUNS; i++) {
      for (const v of trafficVariants) {
        const r = await measureGatewayProcess(dir, PASSAGE_LANES, PROCESS_PASSAGES, v.env, passes, IDLE_AFTER_MS, v.main);
        trafficRuns.set(v.name, [...(trafficRuns.get(v.name) ?? []), r]);
      }
    }
    console.log(`\nreal process, ${PASSAGE_LANES} lanes, ${PROCESS_PASSAGES} passages over HTTP (temperature + scan, each to its relay pulse), MB rss / anonymous, median of ${RUNS}`);
    console.log(`${'variant'.padEnd(8)} ${'settled'.padStart(15)} ${'after passages'.padStart(15)} ${`${IDLE_AFTER_MS / 1000} s idle`.padStart(15)}  passages/s  GC after traffic   each run's idle rss`);
    for (const v of trafficVariants) {
      const rs = trafficRuns.get(v.name) ?? [];
      const after = rs.flatMap((r) => (r.afterPassages ? [r.afterPassages] : []));
      const idle = rs.flatMap((r) => (r.settledAfterPassages ? [r.settledAfterPassages] : []));
      const rate = median(rs.map((r) => (PROCESS_PASSAGES * 1000) / r.passagesMs));
      console.log(
        `${v.name.padEnd(8)} ${rssCells(rs.map((r) => r.settled))} ${rssCells(after)} ${rssCells(idle)}  ${rate.toFixed(0).padStart(10)}  ${gcMs(rs, 'after traffic').padEnd(17)}  ${idle.map((r) => mb(r.rss).trim()).join(' ')}`,
      );
    }

    // BENCH_FOOTPRINT_ONLY=process|traffic: the real process only (the in-process runs take minutes).
    if (only === 'process' || only === 'traffic') return;

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
