// The charts routes over real HTTP on PostgreSQL: any signed-in role reads the three
// charts' data (China-time day by default), a malformed, unknown or repeated parameter is
// a 400 that says what was expected, and uPlot is served from the console under two fixed
// names only. (Without a session and cross-site: console-http.test.ts, every route.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cleanup } from '../../gateway/telemetry/helpers.js';
import { PASSWORD, T0, errorCode, signIn, startConsole, type Console, type SignedIn } from './helpers.js';
import { seedConsole } from './seed.js';

const MIN = 60_000;

describe('console charts API', () => {
  const cleanup = new Cleanup();
  let c: Console;
  let viewer: SignedIn;
  beforeAll(async () => {
    c = await startConsole(cleanup, 'postgres');
    c.clock.now = T0 + 20 * MIN; // 2026-12-04 17:20 China time
    await c.officers.add({ id: 'zhao.min', name: '赵敏', role: 'viewer', secret: PASSWORD }, 'cli:test');
    await seedConsole(c.db.db, T0);
    viewer = await signIn(c, 'zhao.min');
  }, 60_000);
  afterAll(() => cleanup.run());

  const get = (path: string): Promise<Response> => fetch(`${c.url}${path}`, { headers: viewer.get });

  it('gives a viewer today\'s passages per checkpoint per China-time hour, the hours not yet begun empty', async () => {
    const res = await get('/api/charts/passages');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as { date: string; hoursBegun: number; checkpoints: { checkpoint: string; refused: (number | null)[]; totals: Record<string, number> }[] };
    expect(body).toMatchObject({ date: '2026-12-04', hoursBegun: 18 });
    // The seed's one passage: refused at gate-1, 09:06Z = 17:06 China time; gate-2 is known from its status.
    expect(body.checkpoints.map((r) => [r.checkpoint, r.totals])).toEqual([
      ['gate-1', { admitted: 0, refused: 1, referred: 0 }],
      ['gate-2', { admitted: 0, refused: 0, referred: 0 }],
    ]);
    expect(body.checkpoints[0]!.refused[17]).toBe(1);
    expect(body.checkpoints[0]!.refused[18]).toBeNull();
    const yesterday = (await (await get('/api/charts/passages?date=2026-12-03&site=mine-a')).json()) as { date: string; hoursBegun: number; checkpoints: { totals: { refused: number } }[] };
    expect(yesterday).toMatchObject({ date: '2026-12-03', hoursBegun: 24 });
    expect(yesterday.checkpoints.map((r) => r.totals.refused)).toEqual([0, 0]);
  });

  it('gives the refusals per reason over 14 days by default and the fever alerts per day over 30, for a site or all', async () => {
    const refusals = (await (await get('/api/charts/refusals')).json()) as { days: string[]; refused: number[]; reasons: { code: string; counts: number[] }[] };
    expect(refusals.days).toHaveLength(14);
    expect(refusals.days[13]).toBe('2026-12-04');
    expect(refusals.refused[13]).toBe(1);
    expect(refusals.reasons.map((r) => [r.code, r.counts[13]])).toEqual([['FEVER', 1]]);
    const fever = (await (await get('/api/charts/fever?site=mine-a')).json()) as { days: string[]; total: number[]; sites: { site: string }[] };
    expect(fever.days).toHaveLength(30);
    expect(fever.total[29]).toBe(3);
    expect(fever.sites.map((s) => s.site)).toEqual(['mine-a']);
    const elsewhere = (await (await get('/api/charts/fever?days=90&site=mine-b')).json()) as { days: string[]; total: number[] };
    expect(elsewhere.days).toHaveLength(90);
    expect(elsewhere.total.every((n) => n === 0)).toBe(true);
  });

  it.each([
    ['/api/charts/passages?date=2026-02-30', /date: expected a China-time date YYYY-MM-DD/],
    ['/api/charts/passages?date=04.12.2026', /date: expected/],
    ['/api/charts/passages?date=2026-12-04T00:00:00Z', /date: expected/],
    ['/api/charts/passages?site=Mine%20A', /site: expected a site id/],
    ['/api/charts/passages?day=2026-12-04', /unknown parameter "day": \/api\/charts\/passages takes date, site/],
    ['/api/charts/passages?site=mine-a&site=mine-b', /site: expected one value/],
    ['/api/charts/refusals?days=0', /days: expected a whole number 1-90/],
    ['/api/charts/refusals?days=91', /days: expected a whole number 1-90/],
    ['/api/charts/refusals?days=1.5', /days: expected a whole number/],
    ['/api/charts/refusals?days=-3', /days: expected a whole number/],
    ['/api/charts/refusals?days=014', /days: expected a whole number/],
    ['/api/charts/refusals?date=2026-12-04', /unknown parameter "date"/],
    ['/api/charts/fever?days=91', /days: expected a whole number 1-90/],
    ['/api/charts/fever?days[a]=1', /unknown parameter|days: expected one value/],
  ])('refuses %s with 400 BAD_PARAMETER and says what was expected', async (path, message) => {
    const res = await get(path);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('BAD_PARAMETER');
    expect(body.error.message).toMatch(message);
  });

  it('serves uPlot itself under two fixed names, and nothing else under /assets/vendor/', async () => {
    const js = await get('/assets/vendor/uplot.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await js.text()).toContain('export { uPlot as default }');
    const css = await get('/assets/vendor/uplot.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    expect(await css.text()).toContain('.uplot');
    for (const path of ['/assets/vendor/uPlot.esm.js', '/assets/vendor/uplot.min.css', '/assets/vendor/package.json', '/assets/vendor/..%2Fpackage.json']) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(await errorCode(res), path).toBe('NOT_FOUND');
    }
  });
});
