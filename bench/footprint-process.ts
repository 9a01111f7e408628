// The real gateway process as a site runs it (`node dist/gateway/main.js`: the bundle and
// its code cache), measured from outside (/proc/<pid>/smaps_rollup): RSS 1 s after its
// "ready" line and once settled, then again after N passages driven through its HTTP sim
// API (temperature, then the signed pass, each to its relay pulse) and once settled after
// that. Settled = after SETTLE_MS with nothing to do: V8 gives heap pages back only when
// its memory reducer runs, some seconds after a full GC (docs/footprint.md "Memory").
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { bundleFiles, bundleStaleness } from '../gateway/boot/bundle-loader.js';
import { demoPasses } from './sim-lane.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const SETTLE_MS = Number(process.env.BENCH_FOOTPRINT_SETTLE_MS ?? 30_000);

/** Resident memory of a process, bytes: all of it and its anonymous part (heap, malloc; not the binary's pages). */
export interface Rss {
  rss: number;
  anon: number;
}

export function rssOf(pid: number): Rss {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN) * 1024;
  return { rss: kb('Rss'), anon: kb('Anonymous') };
}

/** A demo configuration with N sim lanes, its paths absolute (it lives in a temporary folder). */
export function demoConfig(dir: string, lanes: number): string {
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

export interface Started {
  child: ChildProcess;
  pid: number;
  /** The "ready" line, parsed (url, readyMs, ...). */
  ready: Record<string, unknown>;
  /** Every later line of stdout. */
  lines: string[];
  stop(): Promise<void>;
}

/** Spawns `args` and resolves once it prints a line that `isReady` accepts. */
export function startUntilReady(args: string[], env: NodeJS.ProcessEnv, isReady: (line: string) => boolean, timeoutMs = 20_000): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no ready line within ${timeoutMs} ms from ${args.join(' ')}`));
    }, timeoutMs);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0 && code !== null) reject(new Error(`exited with ${code}: ${stderr}`));
    });
    const lines: string[] = [];
    let seen = false;
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (seen) return void lines.push(line);
      if (!isReady(line)) return;
      seen = true;
      clearTimeout(timer);
      let ready: Record<string, unknown> = {};
      try {
        ready = JSON.parse(line) as Record<string, unknown>;
      } catch {
        // a bare node's "ready"
      }
      resolve({
        child,
        pid: child.pid ?? 0,
        ready,
        lines,
        stop: async () => {
          child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function post(url: string, body: unknown): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  if (res.status !== 202) throw new Error(`POST ${url}: ${res.status}`);
}

async function pulses(url: string): Promise<number> {
  const res = await fetch(url);
  return ((await res.json()) as { pulses: unknown[] }).pulses.length;
}

/**
 * Drives `n` passages through the gateway's sim API, its lanes in parallel and each lane
 * one person at a time: temperature, scan, then wait for the relay pulse (every pass is
 * admissible, so each passage ends in one).
 */
export async function drivePassages(base: string, lanes: number, n: number, passes: readonly string[]): Promise<void> {
  await Promise.all(
    Array.from({ length: lanes }, async (_, l) => {
      const lane = `${base}/api/sim/lanes/lane-${l + 1}`;
      let done = await pulses(`${lane}/relay`);
      for (let i = l; i < n; i += lanes) {
        await post(`${lane}/temperature`, { celsius: 36.5 });
        await post(`${lane}/scan`, { payload: passes[i % passes.length] });
        const end = Date.now() + 10_000;
        while ((await pulses(`${lane}/relay`)) <= done) {
          if (Date.now() > end) throw new Error(`footprint: no relay pulse on lane-${l + 1} for passage ${i}`);
          await sleep(2);
        }
        done++;
      }
    }),
  );
}

export interface ProcessFootprint {
  /** 1 s after "ready", and after SETTLE_MS more. */
  ready: Rss;
  settled: Rss;
  /** Right after the passages, and after idleAfterMs idle. */
  afterPassages: Rss | null;
  settledAfterPassages: Rss | null;
  /** The passages' wall time, ms. */
  passagesMs: number;
  /** What the gateway logged about settling its memory (the GC's ms). */
  settleLog: string[];
}

/** Why `node dist/gateway/main.js` would start from the modules rather than the bundle (null: it runs the bundle). */
export function bundleProblem(): string | null {
  return bundleStaleness(bundleFiles(path.join(root, 'dist/gateway/bundle')));
}

/**
 * One gateway process on a fresh data folder: `lanes` sim lanes, `passages` driven after
 * the first settled figure (0: none); `main`: another build's main.js (relative to the root).
 */
export async function measureGatewayProcess(
  workDir: string,
  lanes: number,
  passages: number,
  env: NodeJS.ProcessEnv = {},
  passes: readonly string[] = [],
  idleAfterMs = SETTLE_MS,
  main = 'dist/gateway/main.js',
): Promise<ProcessFootprint> {
  const run = mkdtempSync(path.join(workDir, 'proc-'));
  const g = await startUntilReady([main], { ...process.env, ...env, GATEWAY_CONFIG: demoConfig(run, lanes), HTTP_PORT: '0' }, (l) => l.includes('"readyMs"'));
  try {
    await sleep(1000);
    const ready = rssOf(g.pid);
    await sleep(SETTLE_MS - 1000);
    const settled = rssOf(g.pid);
    let afterPassages: Rss | null = null;
    let settledAfterPassages: Rss | null = null;
    let passagesMs = 0;
    if (passages > 0) {
      const t0 = Date.now();
      await drivePassages(String(g.ready['url']), lanes, passages, passes);
      passagesMs = Date.now() - t0;
      afterPassages = rssOf(g.pid);
      await sleep(idleAfterMs);
      settledAfterPassages = rssOf(g.pid);
    }
    return { ready, settled, afterPassages, settledAfterPassages, passagesMs, settleLog: g.lines.filter((l) => l.includes('"settleMemory"')) };
  } finally {
    await g.stop();
    rmSync(run, { recursive: true, force: true });
  }
}

/** A bare node, 1 s after start and after SETTLE_MS. */
export async function measureBareNode(): Promise<{ ready: Rss; settled: Rss }> {
  const g = await startUntilReady(['-e', 'console.log("ready"); setInterval(() => {}, 1000)'], process.env, (l) => l === 'ready');
  try {
    await sleep(1000);
    const ready = rssOf(g.pid);
    await sleep(SETTLE_MS - 1000);
    return { ready, settled: rssOf(g.pid) };
  } finally {
    await g.stop();
  }
}

/** Passes for the process runs, signed now (valid for hours). */
export function processPasses(n: number): Promise<string[]> {
  return demoPasses(n, Date.now(), 'fpp');
}
