// The office console over real HTTP on a real database: createHttpApp on a migrated test
// database (PostgreSQL schema or PGlite folder), a clock the test moves, and sign-in helpers.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type express from 'express';
import { createHttpApp, listen, type CentralHealth } from '../../../central/http.js';
import { createMetrics } from '../../../central/metrics.js';
import type { ConsoleDeps } from '../../../central/web/app.js';
import type { ChangeFeed } from '../../../central/web/changes.js';
import { Officers } from '../../../central/web/officers.js';
import type { UpdatePusher } from '../../../central/push.js';
import type { SiteKeys } from '../../../central/sites.js';
import type { Cleanup } from '../../gateway/telemetry/helpers.js';
import { testDb, type Engine, type TestDb } from '../helpers.js';

export const PASSWORD = 'correct horse 42';
export const T0 = Date.parse('2026-12-04T09:00:00Z');

export interface Console {
  url: string;
  origin: string;
  app: express.Express;
  db: TestDb;
  clock: { now: number };
  officers: Officers;
  /** Headers a same-origin page in a browser sends. */
  sameOrigin: Record<string, string>;
}

export async function startConsole(
  cleanup: Cleanup,
  engine: Engine = 'postgres',
  o: Partial<ConsoleDeps> = {},
  changes?: ChangeFeed,
  /** The signed-update pusher and the sites' keys, for pages that push (built on the test db). */
  more: { pusher?: UpdatePusher | ((db: TestDb['db'], now: () => number) => UpdatePusher); sites?: SiteKeys } = {},
): Promise<Console> {
  const db = await testDb(cleanup, engine);
  const clock = { now: T0 };
  const now = (): number => clock.now;
  const health = async (): Promise<CentralHealth> => ({
    status: 'ok',
    version: 'test',
    uptimeS: 0,
    instance: 'test',
    database: { engine: db.db.engine, ok: true },
    broker: { connected: false } as CentralHealth['broker'],
    backlog: 0,
    lastCommitAgoMs: null,
  });
  const deps: ConsoleDeps = {
    db: () => db.db,
    listenHost: '127.0.0.1',
    allowedHosts: [],
    metricsToken: null,
    cliToken: null,
    sessionTtlMs: 8 * 3600_000,
    idleTimeoutMs: 30 * 60_000,
    lockoutFailures: 5,
    lockoutMs: 15 * 60_000,
    // Tests sign in often on a clock that stands still; the limit has its own test.
    signInPerMinute: 10_000,
    now,
    ...o,
  };
  const app = createHttpApp(
    {
      health,
      metrics: createMetrics(false),
      db: () => db.db,
      ...(changes ? { changes } : {}),
      ...(more.pusher ? { pusher: typeof more.pusher === 'function' ? more.pusher(db.db, now) : more.pusher } : {}),
      ...(more.sites ? { sites: more.sites } : {}),
    },
    deps,
  );
  const server: Server = await listen(app, '127.0.0.1', 0);
  cleanup.add(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const officers = new Officers(db.db, { maxFailures: deps.lockoutFailures, lockoutMs: deps.lockoutMs, now });
  return { url, origin: url, app, db, clock, officers, sameOrigin: { origin: url, 'sec-fetch-site': 'same-origin' } };
}

export function signInRequest(c: Console, id: string, password: string): Promise<Response> {
  return fetch(`${c.url}/api/session`, {
    method: 'POST',
    headers: { ...c.sameOrigin, 'content-type': 'application/json' },
    body: JSON.stringify({ id, password }),
  });
}

export interface SignedIn {
  cookie: string;
  csrfToken: string;
  /** Headers of a same-origin GET with the session cookie. */
  get: Record<string, string>;
}

export async function signIn(c: Console, id: string, password = PASSWORD): Promise<SignedIn> {
  const res = await signInRequest(c, id, password);
  if (res.status !== 200) throw new Error(`sign-in of ${id}: HTTP ${res.status} ${await res.text()}`);
  const set = res.headers.getSetCookie()[0] ?? '';
  const cookie = set.split(';')[0] ?? '';
  const { csrfToken } = (await res.json()) as { csrfToken: string };
  return { cookie, csrfToken, get: { cookie, 'sec-fetch-site': 'same-origin' } };
}

export async function errorCode(res: Response): Promise<string | undefined> {
  const body = (await res.json().catch(() => ({}))) as { error?: { code?: string } };
  return body.error?.code;
}

/** Reads a server-sent-events response as text; `until(s)` waits for `s` in what arrived. */
export function eventStream(res: Response): { until(s: string): Promise<void>; text(): string } {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  return {
    async until(s: string): Promise<void> {
      while (!text.includes(s)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before "${s}": ${text}`);
        text += decoder.decode(value);
      }
    },
    text: () => text,
  };
}

/** Every route the app declares, as "METHOD /path" (walking mounted routers too). */
export function routesOf(app: express.Express): string[] {
  const out: string[] = [];
  type Layer = { route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: Layer[] } };
  const walk = (stack: Layer[]): void => {
    for (const layer of stack) {
      if (layer.route) for (const m of Object.keys(layer.route.methods)) out.push(`${m.toUpperCase()} ${layer.route.path}`);
      else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return out;
}
