// The office console over real HTTP on PostgreSQL: every route refused without a session
// (401) and from another site (403) but the sign-in page, its assets and /healthz; the
// lockout under bursts; session lifetime and idle timeout on an injected clock; the Host
// allow-list; sign-out with the CSRF token; roles; the two bearer tokens.
import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recentAudit } from '../../../central/web/audit.js';
import { OFFICE_COOKIE } from '../../../central/web/app.js';
import { Cleanup } from '../../gateway/telemetry/helpers.js';
import { PASSWORD, T0, errorCode, routesOf, signIn, signInRequest, startConsole, type Console } from './helpers.js';

const METRICS_TOKEN = 'm'.repeat(40);
const CLI_TOKEN = 'c'.repeat(43);

/** GET with a Host header of our choosing (fetch sets its own). */
function getWithHost(base: string, path: string, host: string): Promise<{ status: number; body: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, headers: { host }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const concrete = (path: string): string => path.replace(':file', 'office.css');
const OPEN = new Set(['GET /healthz', 'GET /sign-in', 'GET /assets/:file']);

describe('office console HTTP', () => {
  let cleanup: Cleanup;
  let c: Console;
  beforeEach(async () => {
    cleanup = new Cleanup();
    c = await startConsole(cleanup, 'postgres', { metricsToken: METRICS_TOKEN, cliToken: CLI_TOKEN });
    await c.officers.add({ id: 'wang.li', name: '王丽', role: 'duty-leader', secret: PASSWORD }, 'cli:test');
  });
  afterEach(() => cleanup.run());

  it('refuses every route but the sign-in page, its assets and /healthz without a session (401), and from another site with one (403)', async () => {
    const routes = routesOf(c.app);
    // The enumeration sees the console's and the service's routes.
    expect(routes).toEqual(expect.arrayContaining(['GET /', 'GET /api/events', 'GET /metrics', 'DELETE /api/session', 'GET /api/audit', 'GET /api/checkpoints', 'GET /api/alerts', 'POST /api/alerts/ack', 'GET /api/stream', 'GET /api/charts/passages', 'GET /api/charts/refusals', 'GET /api/charts/fever', 'GET /assets/vendor/uplot.js', 'GET /assets/vendor/uplot.css', 'GET /api/tracing/sites', 'POST /api/tracing', 'POST /api/tracing/export', 'GET /api/audit/tracing',
      'GET /api/visitors', 'POST /api/visitors/approvals', 'POST /api/visitors/crews', 'POST /api/visitors/approvals/:id/revoke', 'POST /api/visitors/crews/:id/revoke',
      'POST /api/roster', 'GET /api/screening', 'GET /api/screening.csv', ...OPEN]));
    const s = await signIn(c, 'wang.li');
    for (const route of [...routes, 'GET /no-such-page']) {
      const [method = 'GET', path = '/'] = route.split(' ');
      const url = `${c.url}${concrete(path)}`;
      const body = method === 'POST' ? JSON.stringify({ id: 'wang.li', password: 'wrong password' }) : undefined;
      const headers = { 'content-type': 'application/json' };
      if (route === 'POST /api/session') {
        // The sign-in itself: open, but only from this origin (no login CSRF).
        expect((await fetch(url, { method, body, headers: { ...headers, ...c.sameOrigin } })).status, route).toBe(401);
        expect((await fetch(url, { method, body, headers: { ...headers, origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' } })).status, route).toBe(403);
        continue;
      }
      const anonymous = await fetch(url, { method, body, headers: { ...headers, ...c.sameOrigin } });
      expect(anonymous.status, route).toBe(OPEN.has(route) ? 200 : 401);
      if (OPEN.has(route)) continue;
      const cross = await fetch(url, { method, body, headers: { ...headers, cookie: s.cookie, origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' } });
      expect(cross.status, route).toBe(403);
      expect(await errorCode(cross), route).toBe('CROSS_SITE');
    }
  });

  it('shows the shell to a signed-in officer, sends a browser without a session to the sign-in page, and audits sign-in and sign-out', async () => {
    const anonymous = await fetch(`${c.url}/`, { headers: { accept: 'text/html' } });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.text()).toContain('url=/sign-in');
    const res = await signInRequest(c, 'wang.li', PASSWORD);
    const cookie = res.headers.getSetCookie()[0] ?? '';
    expect(cookie).toMatch(new RegExp(`^${OFFICE_COOKIE}=[A-Za-z0-9_-]{43}; Max-Age=28800; Path=/; Expires=.*; HttpOnly; SameSite=Strict$`));
    const { csrfToken } = (await res.json()) as { csrfToken: string };
    const get = { cookie: cookie.split(';')[0] ?? '' };
    const shell = await fetch(`${c.url}/`, { headers: get });
    expect(shell.status).toBe(200);
    const html = await shell.text();
    for (const text of ['王丽', '值班负责人 · Duty leader', '检查站', '告警', '每日筛查', '访客与外包', '流调', '图表', '审计']) expect(html).toContain(text);
    expect(shell.headers.get('content-security-policy')).toContain("script-src 'self'");
    // Sign-out is state-changing: without the CSRF token it is refused and the session lives on.
    const noToken = await fetch(`${c.url}/api/session`, { method: 'DELETE', headers: { ...get, ...c.sameOrigin } });
    expect(noToken.status).toBe(403);
    expect(await errorCode(noToken)).toBe('CSRF_TOKEN');
    const out = await fetch(`${c.url}/api/session`, { method: 'DELETE', headers: { ...get, ...c.sameOrigin, 'x-csrf-token': csrfToken } });
    expect(out.status).toBe(204);
    expect((await fetch(`${c.url}/api/session`, { headers: get })).status).toBe(401);
    const audit = (await recentAudit(c.db.db)).map((a) => `${a.officerId} ${a.action} ${a.client}`).reverse();
    expect(audit).toEqual(['wang.li officer-added cli:test', 'wang.li sign-in 127.0.0.1', 'wang.li sign-out 127.0.0.1']);
  });

  for (const burst of [9, 50]) {
    it(`locks the account after ${burst} parallel wrong passwords exactly as after five sequential ones, and then refuses the right one`, async () => {
      const statuses = await Promise.all(Array.from({ length: burst }, async () => (await signInRequest(c, 'wang.li', 'wrong password')).status));
      expect(statuses.filter((s) => s === 401)).toHaveLength(4);
      expect(statuses.filter((s) => s === 423)).toHaveLength(burst - 4);
      const right = await signInRequest(c, 'wang.li', PASSWORD);
      expect(right.status).toBe(423);
      expect(await errorCode(right)).toBe('ACCOUNT_LOCKED');
      expect(right.headers.getSetCookie()).toEqual([]);
      const audit = await recentAudit(c.db.db, 1000);
      expect(audit.filter((a) => a.action === 'lockout')).toHaveLength(1);
      expect(audit.filter((a) => a.action === 'sign-in-failed')).toHaveLength(burst + 1);
      c.clock.now = T0 + 15 * 60_000;
      expect((await signInRequest(c, 'wang.li', PASSWORD)).status).toBe(200);
    });
  }

  it('ends a session after the idle timeout, and after its lifetime however active it was', async () => {
    const s = await signIn(c, 'wang.li');
    const status = async (): Promise<number> => (await fetch(`${c.url}/api/session`, { headers: s.get })).status;
    c.clock.now = T0 + 29 * 60_000;
    expect(await status()).toBe(200); // activity: the idle clock starts again
    c.clock.now = T0 + 58 * 60_000;
    expect(await status()).toBe(200);
    c.clock.now = T0 + 88 * 60_000 + 1;
    expect(await status()).toBe(401); // 30 min idle
    const t = await signIn(c, 'wang.li');
    for (let m = 0; m < 8 * 60; m += 20) {
      c.clock.now = T0 + 88 * 60_000 + m * 60_000;
      expect((await fetch(`${c.url}/api/session`, { headers: t.get })).status).toBe(200);
    }
    c.clock.now = T0 + 88 * 60_000 + 8 * 3600_000 + 1;
    expect((await fetch(`${c.url}/api/session`, { headers: t.get })).status).toBe(401); // 8 h lifetime
  });

  it('ends the sessions of an officer who is removed', async () => {
    const s = await signIn(c, 'wang.li');
    expect((await fetch(`${c.url}/api/session`, { headers: s.get })).status).toBe(200);
    await c.officers.remove('wang.li', 'cli:test');
    expect((await fetch(`${c.url}/api/session`, { headers: s.get })).status).toBe(401);
  });

  it('refuses a Host that is not on the allow-list with 421, the sign-in page and /healthz included', async () => {
    for (const path of ['/sign-in', '/healthz', '/api/session', '/assets/office.css']) {
      const res = await getWithHost(c.url, path, 'evil.example:8090');
      expect(res.status, path).toBe(421);
      expect(res.body).toContain('HOST_NOT_ALLOWED');
    }
    expect((await getWithHost(c.url, '/sign-in', 'localhost:8090')).status).toBe(200);
  });

  it('opens the audit list to an admin only', async () => {
    await c.officers.add({ id: 'admin', name: '管理员', role: 'admin', secret: PASSWORD }, 'cli:test');
    const leader = await signIn(c, 'wang.li');
    const refused = await fetch(`${c.url}/api/audit`, { headers: leader.get });
    expect(refused.status).toBe(403);
    expect(await errorCode(refused)).toBe('ROLE_REQUIRED');
    const admin = await signIn(c, 'admin');
    const ok = await fetch(`${c.url}/api/audit`, { headers: admin.get });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { entries: { action: string }[] }).entries[0]).toMatchObject({ officerId: 'admin', action: 'sign-in' });
  });

  it('limits sign-in attempts per address across accounts with 429 and Retry-After, and lets the next minute try again', async () => {
    const limited = await startConsole(cleanup, 'postgres', { signInPerMinute: 3 });
    await limited.officers.add({ id: 'li.na', name: '李娜', role: 'viewer', secret: PASSWORD }, 'cli:test');
    for (const id of ['wang.li', 'li.na', 'nobody']) expect((await signInRequest(limited, id, 'wrong password 1')).status).toBe(401);
    const refused = await signInRequest(limited, 'li.na', PASSWORD);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('60');
    expect(await errorCode(refused)).toBe('RATE_LIMITED');
    limited.clock.now = T0 + 60_000;
    expect((await signInRequest(limited, 'li.na', PASSWORD)).status).toBe(200);
  });

  it('serves /metrics to its bearer token and /api/events to the CLI token, each only there', async () => {
    const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
    expect((await fetch(`${c.url}/metrics`, { headers: bearer(METRICS_TOKEN) })).status).toBe(200);
    expect((await fetch(`${c.url}/metrics`, { headers: bearer('x'.repeat(40)) })).status).toBe(401);
    expect((await fetch(`${c.url}/api/events`, { headers: bearer(CLI_TOKEN) })).status).toBe(200);
    expect((await fetch(`${c.url}/api/events`, { headers: bearer(METRICS_TOKEN) })).status).toBe(401);
    expect((await fetch(`${c.url}/metrics`, { headers: bearer(CLI_TOKEN) })).status).toBe(401);
    expect((await fetch(`${c.url}/`, { headers: bearer(CLI_TOKEN) })).status).toBe(401);
    expect((await fetch(`${c.url}/api/audit`, { headers: bearer(METRICS_TOKEN) })).status).toBe(401);
  });
});

describe('office console HTTP on PGlite', () => {
  let cleanup: Cleanup;
  beforeEach(() => {
    cleanup = new Cleanup();
  });
  afterEach(() => cleanup.run());

  it('signs in, keeps the session while active and ends it after the idle timeout', async () => {
    const c = await startConsole(cleanup, 'pglite');
    await c.officers.add({ id: 'wang.li', name: '王丽', role: 'viewer', secret: PASSWORD }, 'cli:test');
    const s = await signIn(c, 'wang.li');
    const status = async (): Promise<number> => (await fetch(`${c.url}/api/session`, { headers: s.get })).status;
    c.clock.now = T0 + 29 * 60_000;
    expect(await status()).toBe(200);
    c.clock.now = T0 + 59 * 60_000 + 1;
    expect(await status()).toBe(401);
  });
});
