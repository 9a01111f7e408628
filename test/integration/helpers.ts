// Run the real gateway process and CLI from dist/ (built by the global setup) against
// a temporary data dir and a config copy with a unique site, so tests never collide.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll } from 'vitest';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

export const ROOT = path.resolve(import.meta.dirname, '../..');
const execFileP = promisify(execFile);

export interface GatewayProcess {
  child: ChildProcess;
  url: string;
  site: string;
  dir: string;
  /** The config file the gateway runs with (for the CLI). */
  config: string;
  logs: string[];
  stop(): Promise<number | null>;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** The demo config with a unique site id and absolute paths to the demo secret and trust dir. */
/** A copy of a shipped demo config (default config/gateway.yaml) with its own site and data dir. */
export function writeConfig(dir: string, site: string, extra = '', source = 'config/gateway.yaml'): string {
  const demo = readFileSync(path.join(ROOT, source), 'utf8')
    .replace(/^site: .*$/m, `site: ${site}`)
    .replace(/^dataDir: .*$/m, `dataDir: ${path.join(dir, 'data')}`)
    .replace(/pseudonymSecretFile: .*$/m, `pseudonymSecretFile: ${path.join(ROOT, 'config/demo/pseudonym.secret')}`)
    .replace(/passIssuersDir: .*$/m, `passIssuersDir: ${path.join(ROOT, 'config/trust')}`)
    .replace(/updateKeysDir: .*$/m, `updateKeysDir: ${path.join(ROOT, 'config/central')}`);
  const file = path.join(dir, 'gateway.yaml');
  writeFileSync(file, demo + extra);
  return file;
}

export function startGatewayProcess(opts: { site: string; env?: Record<string, string>; config?: string }): Promise<GatewayProcess> {
  const dir = tempDir('gw-int-');
  const config = opts.config ?? writeConfig(dir, opts.site);
  const child = spawn(process.execPath, ['dist/gateway/main.js'], {
    cwd: ROOT,
    env: { ...process.env, GATEWAY_CONFIG: config, HTTP_PORT: '0', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    const code = await exited;
    rmSync(dir, { recursive: true, force: true });
    return code;
  };
  child.stderr?.on('data', (d: Buffer) => logs.push(d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway not ready within 15 s:\n${logs.join('\n')}`)), 15_000);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code} before ready:\n${logs.join('\n')}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      logs.push(line);
      const m = /ready: kiosk at (http:\/\/[^/ ]+)\//.exec(line);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({ child, url: m[1], site: opts.site, dir, config, logs, stop });
      }
    });
  });
}

export async function cli(args: string[], env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
  return execFileP(process.execPath, ['dist/gateway/cli/main.js', ...args], { cwd: ROOT, env: { ...process.env, ...env } });
}

export async function cliFails(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stderr: string; stdout: string }> {
  try {
    await cli(args, env);
  } catch (err) {
    const e = err as { code: number; stderr: string; stdout: string };
    return { code: e.code, stderr: e.stderr, stdout: e.stdout };
  }
  throw new Error(`expected "${args.join(' ')}" to fail`);
}

/** Run a built entry point (e.g. dist/gateway/main.js) to its end; exit code and output, never throws. */
export function runProcess(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export async function postJson(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** Poll until `check` returns a value (not undefined), or fail after `timeoutMs`. */
export async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const GUARD_ID = 'IT-LEDGER';
const GUARD_PIN = '24681357';
const guardCookies = new WeakMap<GatewayProcess, Promise<string>>();

/** Adds a guard with the CLI (PIN on stdin) and signs in as the console does; the session cookie. */
async function signInGuard(gw: GatewayProcess): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ['dist/gateway/cli/main.js', 'guards', 'add', GUARD_ID, '--name', 'Integration tests', '--config', gw.config],
      { cwd: ROOT },
      (err, _stdout, stderr) => (err ? reject(new Error(`guards add failed: ${stderr}`)) : resolve()),
    );
    child.stdin?.end(`${GUARD_PIN}\n`);
  });
  const res = await fetch(`${gw.url}/api/guard/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: gw.url },
    body: JSON.stringify({ guardId: GUARD_ID, pin: GUARD_PIN }),
  });
  if (res.status !== 200) throw new Error(`guard sign-in failed: ${res.status} ${await res.text()}`);
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('gw_guard='));
  if (cookie === undefined) throw new Error('guard sign-in set no cookie');
  return cookie.split(';')[0] ?? '';
}

/**
 * GET a route that needs a guard session (/api/events, /metrics): the first call per
 * gateway adds a guard and signs in, later calls reuse the session.
 */
export async function guardGet(gw: GatewayProcess, pathAndQuery: string): Promise<Response> {
  let cookie = guardCookies.get(gw);
  if (cookie === undefined) {
    cookie = signInGuard(gw);
    guardCookies.set(gw, cookie);
  }
  return fetch(`${gw.url}${pathAndQuery}`, { headers: { cookie: await cookie } });
}

/** Temporary folders made through the returned function, removed after the test file. */
export function scratchDirs(): (prefix: string) => string {
  const made: string[] = [];
  afterAll(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  });
  return (prefix) => {
    const dir = tempDir(prefix);
    made.push(dir);
    return dir;
  };
}
