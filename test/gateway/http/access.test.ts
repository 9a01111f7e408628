// What a client without a guard session can read: the kiosk page, /healthz and each lane's
// kiosk view (no more than the kiosk screens show now). A person's passages need a guard
// session; /metrics a guard session or the configured bearer token.
import { afterEach, describe, expect, it } from 'vitest';
import { bearerMatches, readMetricsToken } from '../../../gateway/http/access.js';
import type { LaneSnapshot } from '../../../gateway/lane/types.js';
import type { NewLedgerEntry } from '../../../gateway/store/types.js';
import { signIn } from './guard-helpers.js';
import { decision, errorOf, SseReader, startHarness, T0, TestClock, type Harness } from './helpers.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TOKEN = '0123456789abcdef0123456789abcdef-scrape';
const RESET_MS = 5000;

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function passage(n: number): NewLedgerEntry {
  return {
    id: `ev-${n}`,
    at: T0 + n,
    lane: 'north',
    kind: 'decision',
    outcome: 'refuse',
    reasons: [{ code: 'FEVER', zh: '体温异常', en: 'Temperature too high' }],
    alerts: [],
    credential: 'health-pass',
    subjectRef: 'p1_W-001',
    subjectName: '张三',
    category: 'employee',
    temperature: 38.2,
  };
}

describe('the ledger without a guard session', () => {
  it('refuses /api/events, with or without a subject, and tells nothing of the rows', async () => {
    h = await startHarness({ guard: { now: T0 } });
    h.store.appendDecision(passage(1), () => null);
    for (const q of ['', '?subject=p1_W-001', '?lane=north&limit=1000']) {
      const res = await fetch(`${h.url}/api/events${q}`);
      expect(res.status, q).toBe(401);
      const text = await res.text();
      expect(JSON.parse(text)).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
      expect(text).not.toMatch(/38\.2|FEVER|p1_W-001/);
    }
    // A forged or expired cookie is no better.
    expect((await fetch(`${h.url}/api/events`, { headers: { cookie: 'gw_guard=forged' } })).status).toBe(401);
  });

  it('answers /api/events to a signed-in guard, but not when another site asks with the guard\'s cookie', async () => {
    h = await startHarness({ guard: { now: T0 } });
    h.store.appendDecision(passage(1), () => null);
    const g = await signIn(h);
    const res = await fetch(`${h.url}/api/events?subject=p1_W-001`, { headers: g.get });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { events: unknown[] }).events).toHaveLength(1);
    const cross = await fetch(`${h.url}/api/events`, { headers: { ...g.get, 'sec-fetch-site': 'cross-site' } });
    expect(cross.status).toBe(403);
  });

  it('refuses /api/events on a gateway without a guard console', async () => {
    h = await startHarness();
    const res = await fetch(`${h.url}/api/events`);
    expect(res.status).toBe(401);
    expect((await errorOf(res)).code).toBe('UNAUTHENTICATED');
  });
});

describe('/metrics', () => {
  it('refuses a scrape without the token or a guard session, and one with a wrong token', async () => {
    h = await startHarness({ guard: {}, metricsToken: TOKEN });
    const none = await fetch(`${h.url}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
    expect((await none.text())).not.toContain('checkpoint_');
    for (const auth of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, 'Bearer ', `Basic ${TOKEN}`, TOKEN, `Bearer ${TOKEN} extra`]) {
      const res = await fetch(`${h.url}/metrics`, { headers: { authorization: auth } });
      expect(res.status, auth).toBe(401);
      expect((await errorOf(res)).code).toBe('UNAUTHENTICATED');
    }
  });

  it('answers the configured bearer token and a signed-in guard', async () => {
    h = await startHarness({ guard: {}, metricsToken: TOKEN });
    const scraper = await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(scraper.status).toBe(200);
    expect(await scraper.text()).toContain('checkpoint_outbox_depth');
    const lower = await fetch(`${h.url}/metrics`, { headers: { authorization: `bearer ${TOKEN}` } });
    expect(lower.status).toBe(200);
    const g = await signIn(h);
    expect((await fetch(`${h.url}/metrics`, { headers: g.get })).status).toBe(200);
  });

  it('is closed even on loopback when neither a token nor a guard console is configured', async () => {
    h = await startHarness();
    expect((await fetch(`${h.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(401);
  });
});

describe('the metrics token', () => {
  it('is compared whole, in constant time, and must be long enough in its file', () => {
    expect(bearerMatches(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(bearerMatches(`Bearer ${TOKEN}`, `${TOKEN}x`)).toBe(false);
    expect(bearerMatches(undefined, TOKEN)).toBe(false);
    const dir = mkdtempSync(join(tmpdir(), 'gw-token-'));
    try {
      writeFileSync(join(dir, 'ok'), `${TOKEN}\nsecond line ignored\n`);
      expect(readMetricsToken(join(dir, 'ok'))).toBe(TOKEN);
      writeFileSync(join(dir, 'short'), 'secret\n');
      expect(() => readMetricsToken(join(dir, 'short'))).toThrow(/HTTP_METRICS_TOKEN_WEAK/);
      expect(() => readMetricsToken(join(dir, 'missing'))).toThrow(/HTTP_METRICS_TOKEN_UNREADABLE: .*ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the open lane views', () => {
  async function lanes(harness: Harness): Promise<LaneSnapshot[]> {
    return ((await (await fetch(`${harness.url}/api/lanes`)).json()) as { lanes: LaneSnapshot[] }).lanes;
  }

  it('carry the last decision only while the kiosk shows it, and never a device detail', async () => {
    const clock = new TestClock(T0);
    h = await startHarness({ now: clock.now, kioskResetMs: RESET_MS });
    const north = h.lanes[0]!;
    north.set(h.bus, {
      state: 'idle',
      last: decision('refuse', T0, { temperature: 38.2, maskedName: '张*' }),
      devices: { ...north.snapshot().devices, scanner: { type: 'gm65', state: 'fault', since: T0, detail: 'open /dev/ttyUSB0: EACCES' } },
    });
    const shown = (await lanes(h))[0]!;
    expect(shown.last).toMatchObject({ outcome: 'refuse', temperature: 38.2, maskedName: '张*' });
    expect(JSON.stringify(shown)).not.toContain('ttyUSB0');
    expect(Object.keys(shown.devices.scanner).sort()).toEqual(['since', 'state', 'type']);

    clock.advance(RESET_MS);
    const after = (await lanes(h))[0]!;
    expect(after.last).toBeNull();
    expect(JSON.stringify(after)).not.toMatch(/38\.2|张/);
  });

  it('send only the kiosk view over the open stream: a new client never gets the previous person\'s result', async () => {
    const clock = new TestClock(T0);
    h = await startHarness({ now: clock.now, kioskResetMs: RESET_MS });
    h.lanes[0]!.set(h.bus, { state: 'idle', last: decision('refuse', T0, { temperature: 38.2 }) });
    clock.advance(RESET_MS + 1);
    for (const path of ['/api/stream?lane=north', '/api/stream']) {
      const abort = new AbortController();
      const res = await fetch(`${h.url}${path}`, { signal: abort.signal });
      const sse = new SseReader(res.body!);
      const first = JSON.parse((await sse.next()).data) as LaneSnapshot;
      expect(first.lane).toBe('north');
      expect(first.last, path).toBeNull();
      // A later lane event (a device change) does not bring it back either.
      h.lanes[0]!.set(h.bus, { state: 'out-of-service' });
      let next = JSON.parse((await sse.next()).data) as LaneSnapshot;
      while (next.lane !== 'north') next = JSON.parse((await sse.next()).data) as LaneSnapshot;
      expect(next.last, path).toBeNull();
      abort.abort();
      h.lanes[0]!.set(h.bus, { state: 'idle' });
    }
  });

  it('leave the kiosk page, its assets, /healthz and the lane views open, and nothing else', async () => {
    h = await startHarness({ guard: {} });
    for (const path of ['/?lane=north', '/guard', '/kiosk.css', '/healthz', '/api/lanes']) {
      expect((await fetch(`${h.url}${path}`)).status, path).toBe(200);
    }
    for (const path of ['/api/events', '/metrics', '/api/guard/session', '/api/guard/ledger', '/api/guard/status', '/api/guard/alerts', '/api/guard/stream', '/api/guard/zones']) {
      expect((await fetch(`${h.url}${path}`)).status, path).toBe(401);
    }
  });
});
