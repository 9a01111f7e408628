// Start-up time of the real process: spawn `node dist/gateway/main.js` with the demo
// config (free HTTP port) and time it until its "ready" log line: from the bundle with its
// code cache (what `npm start` runs) and from the modules (GATEWAY_BUNDLE=off, as before
// the bundle), each on a fresh data folder (first start: migrations) and on the folder of
// the run before (a restart). Baseline in the same run: a bare `node -e` that prints.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { row, summarize } from './stats.js';

const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 7);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

/** Resolves with [ms from spawn to the line, readyMs the process reported itself]. */
function timeUntil(args: string[], env: NodeJS.ProcessEnv, match: (line: string) => number | null): Promise<[number, number]> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no ready line within 10 s from ${args.join(' ')}`));
    }, 10_000);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0 && code !== null) reject(new Error(`exited with ${code}: ${stderr}`));
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const own = match(line);
      if (own === null) return;
      const wall = performance.now() - start;
      clearTimeout(timer);
      child.kill('SIGTERM');
      child.once('exit', () => resolve([wall, own]));
    });
  });
}

interface Variant {
  label: string;
  env: NodeJS.ProcessEnv;
  /** Start on the data folder of the previous run (a restart: migrations done), else a fresh one. */
  restart: boolean;
}

const VARIANTS: Variant[] = [
  { label: 'after: bundle + code cache, fresh data dir', env: {}, restart: false },
  { label: 'after: bundle + code cache, restart', env: {}, restart: true },
  { label: 'before: modules (BUNDLE=off), fresh data dir', env: { GATEWAY_BUNDLE: 'off' }, restart: false },
  { label: 'before: modules (BUNDLE=off), restart', env: { GATEWAY_BUNDLE: 'off' }, restart: true },
];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

export async function benchStartup(): Promise<void> {
  const wall = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]));
  const own = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]));
  const bare: number[] = [];
  const folders = new Map<Variant, string>();
  const folderFor = (v: Variant): string => {
    // A restart reuses the folder of the same build's first start; a first start gets a new one.
    const key = VARIANTS.find((f) => !f.restart && f.env['GATEWAY_BUNDLE'] === v.env['GATEWAY_BUNDLE']) ?? v;
    if (!v.restart) {
      const old = folders.get(key);
      if (old) rmSync(old, { recursive: true, force: true });
      folders.set(key, mkdtempSync(path.join(tmpdir(), 'bench-start-')));
    }
    return folders.get(key) as string;
  };
  try {
    // Interleaved, so load from other processes spreads over every variant alike.
    for (let i = 0; i < RUNS; i++) {
      for (const v of VARIANTS) {
        const [w, o] = await timeUntil(['dist/gateway/main.js'], { ...process.env, ...v.env, DATA_DIR: folderFor(v), HTTP_PORT: '0' }, (line) => {
          if (!line.includes('"readyMs"')) return null;
          return (JSON.parse(line) as { readyMs: number }).readyMs;
        });
        wall.get(v)?.push(w);
        own.get(v)?.push(o);
      }
      const [w] = await timeUntil(['-e', 'console.log("ready " + performance.now())'], process.env, (line) =>
        line.startsWith('ready ') ? Number(line.slice(6)) : null,
      );
      bare.push(w);
    }
  } finally {
    for (const dir of folders.values()) rmSync(dir, { recursive: true, force: true });
  }
  const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const bareP50 = median(bare);
  for (const v of VARIANTS) {
    const w = wall.get(v) ?? [];
    console.log(row(`${v.label}: spawn → ready`, summarize(w, total(w)), false) + `  ${(median(w) / bareP50).toFixed(1)}× bare`);
    const o = own.get(v) ?? [];
    console.log(row(`  readyMs it reports (since its start)`, summarize(o, total(o)), false));
  }
  console.log(row('baseline: bare node -e, spawn → first line', summarize(bare, total(bare)), false));
}
