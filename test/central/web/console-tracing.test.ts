// Contact tracing and its audit log over real HTTP, on PostgreSQL and PGlite: a query
// without a reason is refused and leaves no record; one with a reason is answered and
// recorded with its row counts, which every signed-in role then reads on the log; viewers
// cannot query; the CSV export is a recorded query of its own; nothing changes the log.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Cleanup } from '../../gateway/telemetry/helpers.js';
import type { TraceLogEntry } from '../../../central/console/tracing.js';
import { ENGINES } from '../helpers.js';
import { PASSWORD, T0, errorCode, routesOf, signIn, startConsole, type Console, type SignedIn } from './helpers.js';
import { seedTracing, traceKeys, TRACE_SITE } from './seed-tracing.js';

const T = T0 - 86_400_000; // the passages happened the day before the console's clock
const REASON = '发热病例 E1001 的密接排查';

interface TraceAnswer {
  id: number;
  person: { site: string; staffId: string; inRoster: boolean; name: string | null; department: string | null };
  window: { from: string; to: string; minutes: number };
  passages: { at: string; checkpoint: string; lane: string; contacts: { staffId: string | null; name: string | null; subject: string; offsetS: number }[] }[];
  counts: { passages: number; contacts: number; people: number };
}
/** The log as JSON: the query module's entry type (dates are ISO strings in both). */
type LogEntry = TraceLogEntry;

for (const engine of ENGINES) {
  describe(`contact tracing API on ${engine}`, () => {
    let cleanup: Cleanup;
    let c: Console;
    let leader: SignedIn;
    let viewer: SignedIn;
    let p: Record<string, string>;
    beforeEach(async () => {
      cleanup = new Cleanup();
      c = await startConsole(cleanup, engine, {}, undefined, { sites: traceKeys() });
      await c.officers.add({ id: 'wang.li', name: '王丽', role: 'duty-leader', secret: PASSWORD }, 'cli:test');
      await c.officers.add({ id: 'zhao.min', name: '赵敏', role: 'viewer', secret: PASSWORD }, 'cli:test');
      p = await seedTracing(c.db.db, T);
      leader = await signIn(c, 'wang.li');
      viewer = await signIn(c, 'zhao.min');
    }, 60_000);
    afterEach(() => cleanup.run());
    // PGlite runs the acceptance cases (reason, record, log, export); the rest are the same
    // SQL and HTTP checks, defined for PostgreSQL only (not registered, rather than skipped).
    const pgOnly = engine === 'postgres' ? it : ((() => undefined) as unknown as typeof it);

    const body = (o: Record<string, unknown> = {}): Record<string, unknown> => ({
      site: TRACE_SITE, staffId: 'E1001', from: new Date(T - 3600_000).toISOString(), to: new Date(T + 6 * 3600_000).toISOString(), minutes: 5, reason: REASON, ...o,
    });
    const post = (s: SignedIn, path: string, b: unknown, extra: Record<string, string> = {}): Promise<Response> =>
      fetch(`${c.url}${path}`, {
        method: 'POST',
        headers: { cookie: s.cookie, ...c.sameOrigin, 'content-type': 'application/json', 'x-csrf-token': s.csrfToken, ...extra },
        body: JSON.stringify(b),
      });
    const log = async (s: SignedIn, query = ''): Promise<LogEntry[]> => {
      const res = await fetch(`${c.url}/api/audit/tracing${query}`, { headers: s.get });
      expect(res.status).toBe(200);
      return ((await res.json()) as { entries: LogEntry[] }).entries;
    };
    const recorded = async (): Promise<number> => Number((await c.db.db.query<{ n: number }>('SELECT count(*)::int AS n FROM trace_queries'))[0]!.n);

    it('refuses a query without a reason, or with a blank or empty one (400 TRACE_REASON_REQUIRED), and records nothing', async () => {
      const { reason: _, ...noReason } = body();
      for (const b of [noReason, body({ reason: '' }), body({ reason: '   ' }), body({ reason: '…!?' }), body({ reason: null })]) {
        const res = await post(leader, '/api/tracing', b);
        expect(res.status, JSON.stringify(b)).toBe(400);
        expect(await errorCode(res)).toBe('TRACE_REASON_REQUIRED');
      }
      const exp = await post(leader, '/api/tracing/export', noReason);
      expect(exp.status).toBe(400);
      expect(await errorCode(exp)).toBe('TRACE_REASON_REQUIRED');
      expect(await recorded()).toBe(0);
      expect(await log(viewer)).toEqual([]);
    });

    it('answers a duty leader with the passages and contacts and records the query with its row counts, which a viewer reads on the log', async () => {
      const res = await post(leader, '/api/tracing', body());
      expect(res.status).toBe(200);
      const a = (await res.json()) as TraceAnswer;
      expect(a.person).toMatchObject({ site: TRACE_SITE, staffId: 'E1001', inRoster: true, name: '王伟', department: '采掘一队' });
      expect(a.window.minutes).toBe(5);
      expect(a.passages.map((x) => [x.checkpoint, x.lane, x.contacts.map((y) => `${y.staffId}:${y.offsetS}`)])).toEqual([
        ['gate-1', 'in-1', ['E1002:180']],
        ['gate-2', 'in-1', ['E1005:60']],
      ]);
      expect(a.counts).toEqual({ passages: 2, contacts: 2, people: 2 });
      const entries = await log(viewer);
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({
        id: a.id, officerId: 'wang.li', officerName: '王丽', role: 'duty-leader', reason: REASON, export: false,
        site: TRACE_SITE, staffId: 'E1001', minutes: 5, passages: 2, contacts: 2, people: 2,
        from: new Date(T - 3600_000).toISOString(), to: new Date(T + 6 * 3600_000).toISOString(),
      });
    });

    pgOnly('says when the person is not in the office roster and still traces the pseudonym the site key gives', async () => {
      const res = await post(leader, '/api/tracing', body({ staffId: 'E2001', minutes: 15 }));
      expect(res.status).toBe(200);
      const a = (await res.json()) as TraceAnswer;
      expect(a.person).toMatchObject({ inRoster: false, name: null, staffId: 'E2001' });
      expect(a.passages[0]!.contacts.map((x) => [x.staffId, x.offsetS])).toEqual([['E1001', 600], ['E1002', 780]]);
    });

    pgOnly('refuses a viewer (403 ROLE_REQUIRED), a missing CSRF token and another site, and records none of them', async () => {
      const asViewer = await post(viewer, '/api/tracing', body());
      expect(asViewer.status).toBe(403);
      expect(await errorCode(asViewer)).toBe('ROLE_REQUIRED');
      expect((await post(viewer, '/api/tracing/export', body())).status).toBe(403);
      const noCsrf = await post(leader, '/api/tracing', body(), { 'x-csrf-token': '' });
      expect(await errorCode(noCsrf)).toBe('CSRF_TOKEN');
      const cross = await post(leader, '/api/tracing', body(), { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' });
      expect(await errorCode(cross)).toBe('CROSS_SITE');
      expect(await recorded()).toBe(0);
    });

    pgOnly('refuses a site without a key, a window over 31 days, ±N over 120 and a time without its zone, recording nothing', async () => {
      const cases: [Record<string, unknown>, string, RegExp][] = [
        [body({ site: 'mine-z' }), 'SITE_UNKNOWN', /no pseudonym key for site "mine-z".*known: mine-a, mine-b/],
        [body({ from: T - 40 * 86_400_000 }), 'BAD_BODY', /at most 31 days/],
        [body({ minutes: 121 }), 'BAD_BODY', /minutes/],
        [body({ from: '2026-12-01T08:00' }), 'BAD_BODY', /with its zone/],
        [body({ to: T - 7200_000 }), 'BAD_BODY', /after from/],
      ];
      for (const [b, code, message] of cases) {
        const res = await post(leader, '/api/tracing', b);
        expect(res.status, JSON.stringify(b)).toBe(400);
        const e = (await res.json()) as { error: { code: string; message: string } };
        expect(e.error.code).toBe(code);
        expect(e.error.message).toMatch(message);
      }
      expect(await recorded()).toBe(0);
    });

    it('exports the result as CSV for a spreadsheet (BOM, CRLF, formulas defused) and records the export with its own reason', async () => {
      const res = await post(leader, '/api/tracing/export', body({ reason: '上报疾控中心 export for the CDC' }));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="trace-\d+\.csv"$/);
      const csv = new TextDecoder('utf-8', { ignoreBOM: true }).decode(await res.arrayBuffer());
      expect(csv.startsWith('\uFEFFtraced_site,traced_staff_id,passage_time,')).toBe(true);
      const lines = csv.slice(1).split('\r\n');
      expect(lines.at(-1)).toBe('');
      expect(lines.slice(1, -1)).toEqual([
        `mine-a,E1001,${local(T)},gate-1,in-1,decision,admit,李娜,E1002,机电科,${p['E1002']},${local(T + 180_000)},3`,
        `mine-a,E1001,${local(T + 7200_000)},gate-2,in-1,decision,admit,"'=HYPERLINK(""http://evil.example"",""x"")",E1005,'+运输队,${p['E1005']},${local(T + 7260_000)},1`,
      ]);
      const entries = await log(leader);
      expect(entries.map((e) => [e.export, e.reason, e.contacts])).toEqual([[true, '上报疾控中心 export for the CDC', 2]]);
    });

    pgOnly('lists the log newest first in pages, to every role, and offers no route that changes or erases it', async () => {
      for (const minutes of [2, 5, 15]) {
        c.clock.now += 1000;
        expect((await post(leader, '/api/tracing', body({ minutes }))).status).toBe(200);
      }
      const all = await log(viewer);
      expect(all.map((e) => [e.minutes, e.contacts])).toEqual([[15, 3], [5, 2], [2, 1]]);
      expect((await log(viewer, '?limit=2')).map((e) => e.minutes)).toEqual([15, 5]);
      expect((await log(viewer, `?limit=2&before=${all[1]!.id}`)).map((e) => e.minutes)).toEqual([2]);
      expect((await fetch(`${c.url}/api/audit/tracing?limit=x`, { headers: viewer.get })).status).toBe(400);
      const writes = routesOf(c.app).filter((r) => /tracing|audit/.test(r) && !r.startsWith('GET '));
      expect(writes.sort()).toEqual(['POST /api/tracing', 'POST /api/tracing/export']);
      for (const method of ['DELETE', 'PUT', 'PATCH']) {
        const res = await fetch(`${c.url}/api/audit/tracing`, { method, headers: { cookie: leader.cookie, ...c.sameOrigin, 'x-csrf-token': leader.csrfToken } });
        expect(res.status, method).toBe(404);
      }
      expect(await recorded()).toBe(3);
    });
  });
}

/** As the CSV writes times: China Standard Time, "YYYY-MM-DD HH:MM:SS". */
function local(ms: number): string {
  return new Date(ms + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
}
