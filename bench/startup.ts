// Start-up time of the real process: spawn `node dist/gateway/main.js` with the demo
// config (fresh data dir, free HTTP port) and time it until its "ready" log line.
// Baseline in the same run: a bare `node -e` that prints and exits.
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

export async function benchStartup(): Promise<void> {
  const gatewayWall: number[] = [];
  const gatewayOwn: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'bench-start-'));
    try {
      const [wall, own] = await timeUntil(['dist/gateway/main.js'], { ...process.env, DATA_DIR: dataDir, HTTP_PORT: '0' }, (line) => {
        if (!line.includes('"readyMs"')) return null;
        return (JSON.parse(line) as { readyMs: number }).readyMs;
      });
      gatewayWall.push(wall);
      gatewayOwn.push(own);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
    const [wall] = await timeUntil(['-e', 'console.log("ready " + performance.now())'], process.env, (line) =>
      line.startsWith('ready ') ? Number(line.slice(6)) : null,
    );
    bare.push(wall);
  }
  const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  console.log(row('gateway: spawn → "ready" line (wall)', summarize(gatewayWall, total(gatewayWall)), false));
  console.log(row('gateway: readyMs it reports (since process start)', summarize(gatewayOwn, total(gatewayOwn)), false));
  console.log(row('baseline: bare node -e, spawn → first line', summarize(bare, total(bare)), false));
}
