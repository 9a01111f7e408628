// The console's checkpoints and alerts routes over real HTTP on PostgreSQL: any signed-in
// role reads them; acknowledging needs duty-leader or admin, the CSRF token and the same
// origin, records the first officer once and writes an `alerts-acked` audit row; the live
// stream sends a small "changed" notice after a commit.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recentAudit } from '../../../central/web/audit.js';
import { ChangeFeed } from '../../../central/web/changes.js';
import { Cleanup } from '../../gateway/telemetry/helpers.js';
import { PASSWORD, T0, errorCode, eventStream, signIn, startConsole, type Console, type SignedIn } from './helpers.js';
import { seedConsole } from './seed.js';

const MIN = 60_000;

describe('console pages API', () => {
  let cleanup: Cleanup;
  let c: Console;
  let changes: ChangeFeed;
  let ids: { feverIds: string[]; deviceId: string };
  beforeEach(async () => {
    cleanup = new Cleanup();
    changes = new ChangeFeed({ minGapMs: 1000 });
    cleanup.add(() => changes.close());
    c = await startConsole(cleanup, 'postgres', {}, changes);
    c.clock.now = T0 + 20 * MIN;
    await c.officers.add({ id: 'wang.li', name: '王丽', role: 'duty-leader', secret: PASSWORD }, 'cli:test');
    await c.officers.add({ id: 'zhao.min', name: '赵敏', role: 'viewer', secret: PASSWORD }, 'cli:test');
    ids = await seedConsole(c.db.db, T0);
  }, 60_000);
  afterEach(() => cleanup.run());

  const ack = (s: SignedIn, body: unknown, extra: Record<string, string> = {}) =>
    fetch(`${c.url}/api/alerts/ack`, {
      method: 'POST',
      headers: { cookie: s.cookie, ...c.sameOrigin, 'content-type': 'application/json', 'x-csrf-token': s.csrfToken, ...extra },
      body: JSON.stringify(body),
    });
  const inbox = async (s: SignedIn, query = ''): Promise<{ to: number; alerts: { checkpoint: string; kind: string; ids: string[]; count: number; unacked: number; ackedBy: string | null; escalated: boolean }[] }> => {
    const res = await fetch(`${c.url}/api/alerts${query}`, { headers: s.get });
    expect(res.status).toBe(200);
    return (await res.json()) as never;
  };

  it('shows a viewer every checkpoint with its state, version, lanes, outbox and out-of-date updates', async () => {
    const viewer = await signIn(c, 'zhao.min');
    const res = await fetch(`${c.url}/api/checkpoints`, { headers: viewer.get });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { checkpoints: Record<string, unknown>[] };
    expect(body.checkpoints.map((r) => [r['checkpoint'], r['state'], r['version'], r['outboxDepth']])).toEqual([
      ['gate-1', 'online', '0.3.1', 7],
      ['gate-2', 'offline', '0.3.1', null],
    ]);
    expect(body.checkpoints[0]).toMatchObject({ forMs: 20 * MIN, updates: [{ kind: 'policy', applied: 3, published: 4, outOfDate: true }, { kind: 'watchlist', applied: 42, outOfDate: false }] });
    expect(body.checkpoints[0]!['lanes']).toEqual([{ id: 'in-1', state: 'idle', devices: [{ name: 'relay', type: 'sim', state: 'disconnected' }, { name: 'scanner', type: 'sim', state: 'connected' }] }]);
  });

  it('lists the alerts folded, filtered by severity and checkpoint, and refuses an unknown severity', async () => {
    const viewer = await signIn(c, 'zhao.min');
    const all = await inbox(viewer);
    expect(all.alerts.map((a) => [a.checkpoint, a.kind, a.count])).toEqual([['gate-2', 'device-down', 1], ['gate-1', 'fever', 3]]);
    expect(all.alerts[1]!.escalated).toBe(true); // critical, unacknowledged for more than 15 min
    expect((await inbox(viewer, '?severity=critical')).alerts.map((a) => a.kind)).toEqual(['fever']);
    expect((await inbox(viewer, '?checkpoint=gate-2')).alerts.map((a) => a.kind)).toEqual(['device-down']);
    expect((await inbox(viewer, '?limit=1')).alerts.map((a) => a.kind)).toEqual(['device-down']);
    const bad = await fetch(`${c.url}/api/alerts?severity=loud`, { headers: viewer.get });
    expect(bad.status).toBe(400);
    expect(await errorCode(bad)).toBe('BAD_PARAMETER');
  });

  it('refuses acknowledgement to a viewer (403 ROLE_REQUIRED), without the CSRF token and from another site', async () => {
    const viewer = await signIn(c, 'zhao.min');
    const refused = await ack(viewer, { ids: ids.feverIds });
    expect(refused.status).toBe(403);
    expect(await errorCode(refused)).toBe('ROLE_REQUIRED');
    const leader = await signIn(c, 'wang.li');
    const noToken = await ack(leader, { ids: ids.feverIds }, { 'x-csrf-token': '' });
    expect(noToken.status).toBe(403);
    expect(await errorCode(noToken)).toBe('CSRF_TOKEN');
    const cross = await ack(leader, { ids: ids.feverIds }, { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' });
    expect(cross.status).toBe(403);
    expect(await errorCode(cross)).toBe('CROSS_SITE');
    expect((await inbox(leader, '?unacked=1')).alerts).toHaveLength(2);
    expect((await recentAudit(c.db.db)).filter((a) => a.action === 'alerts-acked')).toEqual([]);
  });

  it('acknowledges a folded group once for the first officer, audits it with the count, and takes it out of "unacknowledged"', async () => {
    await c.officers.add({ id: 'admin', name: '管理员', role: 'admin', secret: PASSWORD }, 'cli:test');
    const leader = await signIn(c, 'wang.li');
    const first = await ack(leader, { ids: ids.feverIds });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ acked: [...ids.feverIds].sort(), count: 3 });
    const admin = await signIn(c, 'admin');
    const again = await ack(admin, { ids: ids.feverIds });
    expect(await again.json()).toEqual({ acked: [], count: 0 });
    const open = await inbox(leader, '?unacked=1');
    expect(open.alerts.map((a) => a.kind)).toEqual(['device-down']);
    const fever = (await inbox(leader)).alerts.find((a) => a.kind === 'fever');
    expect(fever).toMatchObject({ unacked: 0, ackedBy: 'wang.li', escalated: false });
    const audit = (await recentAudit(c.db.db)).filter((a) => a.action === 'alerts-acked').reverse();
    expect(audit.map((a) => [a.officerId, a.detail['count']])).toEqual([['wang.li', 3], ['admin', 0]]);
  });

  it('acknowledges all alerts a filter shows, but not those that arrived after the page was read', async () => {
    const leader = await signIn(c, 'wang.li');
    const shown = await inbox(leader, `?unacked=1&to=${T0 + 3 * MIN + 30_000}`);
    expect(shown.alerts.map((a) => a.count)).toEqual([3]);
    const res = await ack(leader, { shown: { to: shown.to } });
    expect(((await res.json()) as { count: number }).count).toBe(3);
    expect((await inbox(leader, '?unacked=1')).alerts.map((a) => a.kind)).toEqual(['device-down']);
  });

  it('does not count a page\'s background re-fetch as activity, so an unattended console still idles out', async () => {
    const viewer = await signIn(c, 'zhao.min');
    const get = async (background: boolean): Promise<number> =>
      (await fetch(`${c.url}/api/checkpoints`, { headers: { ...viewer.get, ...(background ? { 'x-console-background': '1' } : {}) } })).status;
    c.clock.now += 25 * MIN;
    expect(await get(true)).toBe(200);
    c.clock.now += 6 * MIN; // 31 min after the last real activity
    expect(await get(true)).toBe(401);
    const leader = await signIn(c, 'wang.li');
    const active = async (): Promise<number> => (await fetch(`${c.url}/api/checkpoints`, { headers: leader.get })).status;
    c.clock.now += 25 * MIN;
    expect(await active()).toBe(200);
    c.clock.now += 6 * MIN;
    expect(await active()).toBe(200);
  });

  it('streams a small "changed" notice to a signed-in page after a commit', async () => {
    const viewer = await signIn(c, 'zhao.min');
    const controller = new AbortController();
    cleanup.add(() => controller.abort());
    const res = await fetch(`${c.url}/api/stream`, { headers: viewer.get, signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const stream = eventStream(res);
    await stream.until('retry:');
    changes.committed([{ type: 'alert' } as never, { type: 'event' } as never, { type: 'alert' } as never]);
    await stream.until('\n\nevent: changed');
    await stream.until('}\n\n');
    expect(stream.text()).toContain('data: {"changed":["alerts","events"]}');
  });
});

describe('change feed', () => {
  it('sends at most one notice per second, gathering the kinds committed meanwhile', async () => {
    const { vi } = await import('vitest');
    vi.useFakeTimers({ now: 0 });
    try {
      const feed = new ChangeFeed({ minGapMs: 1000, now: () => Date.now() });
      const got: string[][] = [];
      feed.subscribe((k) => got.push(k));
      feed.committed([{ type: 'event' } as never]);
      vi.advanceTimersByTime(0);
      expect(got).toEqual([['events']]);
      feed.committed([{ type: 'alert' } as never]);
      feed.committed([{ type: 'status' } as never, { type: 'event' } as never]);
      vi.advanceTimersByTime(999);
      expect(got).toHaveLength(1);
      vi.advanceTimersByTime(1);
      expect(got).toEqual([['events'], ['alerts', 'events', 'status']]);
      feed.committed([{ type: 'rejected' } as never]);
      vi.advanceTimersByTime(5000);
      expect(got).toHaveLength(2);
      feed.close();
    } finally {
      vi.useRealTimers();
    }
  });
});
