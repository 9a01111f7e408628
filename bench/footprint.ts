// Memory footprint (issue 16): the small fanless checkpoint PC also runs the kiosk browser.
// 1. In-process (bench/footprint-child.ts, one child per lane count): RSS and heap after
//    start, after 10 000 passages and after a simulated 24 h of periodic jobs, with 1, 4
//    and 16 lanes of sim devices; heap after a full GC.
// 2. Heap snapshots after the passages and after the day (4 lanes): what grew, by constructor.
// 3. The real process (`node dist/gateway/main.js`, what `npm start` runs): RSS once ready,
//    from the bundle and from the modules (GATEWAY_BUNDLE=off); baseline a bare node.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { FootprintResult, MemoryPoint } from './footprint-child.js';
import { heapByConstructor, heapGrowth, totalSize } from './heap-diff.js';

const LANES = (process.env.BENCH_FOOTPRINT_LANES ?? '1,4,16').split(',').map(Number);
const SNAPSHOT_LANES = Number(process.env.BENCH_FOOTPRINT_SNAPSHOT_LANES ?? 4);
const RUNS = Number(process.env.BENCH_FOOTPRINT_RUNS ?? 3);
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

function vmRssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

/** RSS of a process a second after it prints its ready line. */
function rssWhenReady(args: string[], env: NodeJS.ProcessEnv, ready: (line: string) => boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no ready line within 20 s from ${args.join(' ')}`));
    }, 20_000);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0 && code !== null) reject(new Error(`exited with ${code}: ${stderr}`));
    });
    let seen = false;
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (seen || !ready(line)) return;
      seen = true;
      clearTimeout(timer);
      setTimeout(() => {
        const rss = vmRssOf(child.pid ?? 0);
        child.kill('SIGTERM');
        child.once('exit', () => resolve(rss));
      }, 1000);
    });
  });
}

/** A demo configuration with N sim lanes, its paths absolute (it lives in a temporary folder). */
function demoConfig(dir: string, lanes: number): string {
  const c = (p: string) => JSON.stringify(path.join(root, 'config', p));
  const file = path.join(dir, 'gateway.yaml');
  writeFileSync(
    file,
    [
      'demo: true',
      'site: footprint',
      'checkpoint: bench',
      `dataDir: ${JSON.stringify(path.join(dir, 'data'))}`,
      'http: { host: 127.0.0.1, port: 0 }',
      'mqtt: { url: "mqtt://127.0.0.1:1883", embeddedFallback: true }',
      `privacy: { pseudonymSecretFile: ${c('demo/pseudonym.secret')} }`,
      `trust: { passIssuersDir: ${c('trust')} }`,
      `central: { updateKeysDir: ${c('central')} }`,
      'policy: { profile: mine-entrance }',
      'lanes:',
      ...Array.from({ length: lanes }, (_, i) => `  - { id: lane-${i + 1}, scanner: { type: sim }, thermometer: { type: sim }, relay: { type: sim } }`),
      '',
    ].join('\n'),
  );
  return file;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

function pointCells(p: MemoryPoint): string {
  return `${mb(p.rss)} ${mb(p.heapUsed)} ${mb(p.heapTotal)}`;
}

export async function benchFootprint(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-footprint-'));
  try {
    // 3. The real process first (quick): RSS once ready.
    console.log(`real process, RSS 1 s after "ready" (MB, median of ${RUNS}; fresh data folder each time)`);
    console.log(`${'lanes'.padEnd(6)} ${'bundle'.padStart(8)} ${'modules'.padStart(8)}`);
    for (const lanes of LANES) {
      const cells: string[] = [];
      for (const env of [{}, { GATEWAY_BUNDLE: 'off' }]) {
        const xs: number[] = [];
        for (let i = 0; i < RUNS; i++) {
          const run = mkdtempSync(path.join(dir, 'proc-'));
          xs.push(await rssWhenReady(['dist/gateway/main.js'], { ...process.env, ...env, GATEWAY_CONFIG: demoConfig(run, lanes), HTTP_PORT: '0' }, (l) => l.includes('"readyMs"')));
          rmSync(run, { recursive: true, force: true });
        }
        cells.push(mb(median(xs)).padStart(8));
      }
      console.log(`${String(lanes).padEnd(6)} ${cells.join(' ')}`);
    }
    const bare: number[] = [];
    for (let i = 0; i < RUNS; i++) bare.push(await rssWhenReady(['-e', 'console.log("ready"); setTimeout(() => {}, 5000)'], process.env, (l) => l === 'ready'));
    console.log(`baseline: bare node, RSS ${mb(median(bare)).trim()} MB`);

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
