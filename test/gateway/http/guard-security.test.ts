// Every guard route, enumerated from the express router itself, refuses requests without
// a session, requests another site made the browser send, and (for state changes)
// requests without the session's CSRF token. A route added later is covered by itself.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayBus } from '../../../gateway/bus.js';
import { PUBLIC_GUARD_ROUTES, guardRouter, routesOf } from '../../../gateway/http/guard-api.js';
import { SessionManager } from '../../../gateway/guards/sessions.js';
import { signIn, type SignedIn } from './guard-helpers.js';
import { errorOf, startHarness, type Harness } from './helpers.js';

const router = guardRouter({
  lanes: [],
  bus: new GatewayBus(() => undefined),
  logger: pino({ level: 'silent' }),
  health: () => {
    throw new Error('not called');
  },
  accounts: { authenticate: async () => ({ ok: false, reason: 'bad-credentials' }), get: () => undefined },
  sessions: new SessionManager({ ttlMs: 1000, idleMs: 1000 }),
  store: {
    queryEvents: () => [],
    searchEvents: () => ({ rows: [], nextBefore: null, searchedBackTo: null }),
    ledgerByIds: () => [],
    ledgerHourly: () => [],
    approvalsAll: () => [],
    rosterAll: () => [],
    firstPassages: () => [],
    queryAlerts: () => [],
    ackAlert: () => false,
    unackedAlertCount: () => 0,
    zoneFacts: () => ({ count: 0, openEntryAt: null }),
    zoneCorrect: () => {
      throw new Error('not called');
    },
    zoneCorrections: () => [],
  },
  zones: [],
  override: async () => {
    throw new Error('not called');
  },
  pseudonym: (id) => id,
  now: Date.now,
  sessionTtlMs: 1000,
  loginPerMinute: 1000,
});
const ROUTES = routesOf(router).map((r) => ({ ...r, name: `${r.method} ${r.path}` }));
const PROTECTED = ROUTES.filter((r) => !PUBLIC_GUARD_ROUTES.includes(r.name));
const STATE_CHANGING = PROTECTED.filter((r) => r.method !== 'GET');

/** The URL of a route under /api with its parameters filled in. */
function urlOf(h: Harness, path: string): string {
  return `${h.url}/api${path.replace(':lane', 'north').replace(':id', 'a-1').replace(':zone', 'canteen')}`;
}

function bodyFor(method: string, path: string): string | undefined {
  if (method === 'GET') return undefined;
  if (path.includes('override')) return JSON.stringify({ reason: 'OVERRIDE_OTHER', note: 'test' });
  if (path.includes('zones')) return JSON.stringify({ count: 3, reason: 'test' });
  if (path === '/guard/alerts/ack') return JSON.stringify({ ids: ['a-1'] });
  return '{}';
}

let h: Harness;
let s: SignedIn;
beforeAll(async () => {
  h = await startHarness({
    guard: {
      loginPerMinute: 1000,
      zones: [{ id: 'canteen', name: 'canteen', limit: 40, antiPassback: 'off', entryLanes: ['north'], exitLanes: ['south'], resetAt: [] }],
    },
  });
  s = await signIn(h);
  h.store.appendAlert({ id: 'a-1', at: Date.now(), lane: 'north', kind: 'fever', severity: 'critical', code: 'TEMP_FEVER', eventId: null, detail: null }, () => null);
});
afterAll(async () => {
  await h.close();
});

describe('guard routes', () => {
  it('are enumerated from the router, and only sign-in and the open-alert count need no session', () => {
    const names = ROUTES.map((r) => r.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'POST /guard/login',
        'POST /guard/logout',
        'GET /guard/session',
        'GET /guard/status',
        'GET /guard/ledger',
        'GET /guard/ledger.csv',
        'GET /guard/alerts',
        'GET /guard/alerts/count',
        'POST /guard/alerts/:id/ack',
        'POST /guard/alerts/ack',
        'GET /guard/expected',
        'GET /guard/stats',
        'GET /guard/screening',
        'GET /guard/stream',
        'POST /lanes/:lane/override',
        'GET /guard/zones',
        'POST /guard/zones/:zone/count',
      ]),
    );
    expect(PUBLIC_GUARD_ROUTES).toEqual(['POST /guard/login', 'GET /guard/alerts/count']);
    expect(PROTECTED.length).toBe(ROUTES.length - 2);
  });

  it.each(PROTECTED)('$name refuses a request without a session', async ({ method, path }) => {
    const body = bodyFor(method, path);
    const res = await fetch(urlOf(h, path), {
      method,
      headers: { origin: h.url, 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
      ...(body === undefined ? {} : { body }),
    });
    expect(res.status).toBe(401);
    expect((await errorOf(res)).code).toBe('UNAUTHENTICATED');
  });

  it.each(PROTECTED)('$name refuses a request with a forged or expired session cookie', async ({ method, path }) => {
    const body = bodyFor(method, path);
    const res = await fetch(urlOf(h, path), {
      method,
      headers: { cookie: 'gw_guard=forged-token', origin: h.url, 'content-type': 'application/json', 'x-csrf-token': s.csrf },
      ...(body === undefined ? {} : { body }),
    });
    expect(res.status).toBe(401);
    await res.arrayBuffer();
  });

  it.each(ROUTES)('$name refuses a cross-site request even with a valid session', async ({ method, path }) => {
    const body = bodyFor(method, path);
    const res = await fetch(urlOf(h, path), {
      method,
      headers: { ...s.post, origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' },
      ...(body === undefined ? {} : { body }),
    });
    expect(res.status).toBe(403);
    expect((await errorOf(res)).code).toBe('CROSS_SITE');
  });

  it.each(ROUTES)('$name refuses a request from a sibling site (Sec-Fetch-Site: same-site)', async ({ method, path }) => {
    const body = bodyFor(method, path);
    const res = await fetch(urlOf(h, path), {
      method,
      headers: { ...s.post, 'sec-fetch-site': 'same-site' },
      ...(body === undefined ? {} : { body }),
    });
    expect(res.status).toBe(403);
    await res.arrayBuffer();
  });

  it.each(STATE_CHANGING)('$name refuses a state change without the CSRF token', async ({ method, path }) => {
    const { 'x-csrf-token': _t, ...headers } = s.post;
    const res = await fetch(urlOf(h, path), { method, headers, body: bodyFor(method, path) ?? '{}' });
    expect(res.status).toBe(403);
    expect((await errorOf(res)).code).toBe('CSRF_TOKEN');
  });

  it.each(STATE_CHANGING)('$name refuses a state change that names neither Origin nor Sec-Fetch-Site', async ({ method, path }) => {
    const { origin: _o, ...headers } = s.post;
    const res = await fetch(urlOf(h, path), { method, headers, body: bodyFor(method, path) ?? '{}' });
    expect(res.status).toBe(403);
    expect((await errorOf(res)).code).toBe('CROSS_SITE');
  });

  it('tells the sign-in page how many alerts are open, and nothing else, without a session', async () => {
    const res = await fetch(`${h.url}/api/guard/alerts/count`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ unacked: 1 });
  });

  it('leaves the guard page itself public: it is the sign-in form', async () => {
    const res = await fetch(`${h.url}/guard`);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  });
});
