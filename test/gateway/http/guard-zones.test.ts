// Zone counts in the guard console: the list with counts and the latest corrections, and
// a correction signed by the session's guard, stored through the same store as the CLI's.
import { afterEach, describe, expect, it } from 'vitest';
import type { ZoneInfo } from '../../../gateway/http/guard-api.js';
import type { ZoneCorrection } from '../../../gateway/store/types.js';
import { zoneCorrectedAlert } from '../../../gateway/telemetry/alerts.js';
import { signIn } from './guard-helpers.js';
import { errorOf, startHarness, type Harness } from './helpers.js';

const NOW = Date.parse('2024-12-04T11:30:00+08:00');
const ZONES: ZoneInfo[] = [
  { id: 'canteen', name: '食堂 / Canteen', limit: 40, antiPassback: 'soft', entryLanes: ['north'], exitLanes: ['south'], resetAt: ['10:00', '15:00'] },
  { id: 'bathhouse', name: 'bathhouse', limit: null, antiPassback: 'off', entryLanes: ['east'], exitLanes: [], resetAt: [] },
];

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

let corrected: ZoneCorrection[] = [];
async function start(): Promise<Harness> {
  corrected = [];
  h = await startHarness({ guard: { now: NOW, zones: ZONES, onZoneCorrected: (c) => corrected.push(c) } });
  return h;
}

interface ZoneJson {
  id: string;
  limit: number | null;
  count: number;
  antiPassback: string;
  entryLanes: string[];
  exitLanes: string[];
  resetAt: string[];
  corrections: { zone: string; at: string; guard: string; from: number; to: number; reason: string }[];
}

async function zones(h: Harness, headers: Record<string, string>): Promise<ZoneJson[]> {
  const res = await fetch(`${h.url}/api/guard/zones`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('cache-control')).toBe('no-store');
  return ((await res.json()) as { zones: ZoneJson[] }).zones;
}

function correct(h: Harness, post: Record<string, string>, zone: string, body: unknown): Promise<Response> {
  return fetch(`${h.url}/api/guard/zones/${zone}/count`, { method: 'POST', headers: post, body: JSON.stringify(body) });
}

describe('guard zones', () => {
  it('lists every configured zone with its limit, count now, rules, reset times and no corrections yet', async () => {
    const h = await start();
    h.store.zoneEnter('canteen', 'p1_A', NOW - 60_000);
    h.store.zoneEnter('canteen', 'p1_B', NOW - 30_000);
    const s = await signIn(h);
    expect(await zones(h, s.get)).toEqual([
      { id: 'canteen', name: '食堂 / Canteen', limit: 40, count: 2, antiPassback: 'soft', entryLanes: ['north'], exitLanes: ['south'], resetAt: ['10:00', '15:00'], corrections: [] },
      { id: 'bathhouse', name: 'bathhouse', limit: null, count: 0, antiPassback: 'off', entryLanes: ['east'], exitLanes: [], resetAt: [], corrections: [] },
    ]);
  });

  it("sets the count under the session's guard id, stores it and lists it as the latest correction", async () => {
    const h = await start();
    h.store.zoneEnter('canteen', 'p1_A', NOW - 60_000);
    const s = await signIn(h, 'G-07', '李保安');
    const res = await correct(h, s.post, 'canteen', { count: 12, reason: '  当面清点 / counted in person  ' });
    expect(res.status).toBe(200);
    const at = new Date(NOW).toISOString();
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({ zone: 'canteen', at, guard: 'G-07', from: 1, to: 12, reason: '当面清点 / counted in person' });
    expect(h.store.zoneFacts('canteen', null).count).toBe(12);
    expect(h.store.zoneCorrections('canteen')).toEqual([{ zone: 'canteen', at: NOW, guard: 'G-07', from: 1, to: 12, reason: '当面清点 / counted in person' }]);
    const [canteen] = await zones(h, s.get);
    expect(canteen).toMatchObject({ count: 12, corrections: [{ guard: 'G-07', from: 1, to: 12, at }] });
    expect(h.logs().find((l) => l['msg'] === 'zone count corrected')).toMatchObject({ guard: 'G-07', zone: 'canteen', from: 1, to: 12 });
    // The office's alert: who and how much, never the guard's free-text reason.
    expect(corrected).toHaveLength(1);
    const alert = zoneCorrectedAlert(corrected[0]!, false);
    expect(alert).toMatchObject({ lane: null, kind: 'zone-corrected', severity: 'info', code: 'ZONE_COUNT_CORRECTED', detail: 'zone canteen: 1 → 12, corrected by guard G-07' });
    expect(JSON.stringify(alert)).not.toContain('当面清点');
  });

  it('lists the last five corrections, newest first', async () => {
    const h = await start();
    const s = await signIn(h);
    for (let i = 1; i <= 7; i += 1) {
      h.guard!.clock.advance(60_000);
      expect((await correct(h, s.post, 'canteen', { count: i, reason: `round ${i}` })).status).toBe(200);
    }
    const [canteen] = await zones(h, s.get);
    expect(canteen?.count).toBe(7);
    expect(canteen?.corrections.map((c) => [c.from, c.to, c.reason])).toEqual([
      [6, 7, 'round 7'],
      [5, 6, 'round 6'],
      [4, 5, 'round 5'],
      [3, 4, 'round 4'],
      [2, 3, 'round 3'],
    ]);
  });

  it('accepts a count above the limit, with a warning, because the guard sees who is really inside', async () => {
    const h = await start();
    const s = await signIn(h);
    const over = await correct(h, s.post, 'canteen', { count: 45, reason: 'queue pushed in' });
    expect(over.status).toBe(200);
    expect(((await over.json()) as { warning?: string }).warning).toBe("count 45 is above the zone's limit of 40");
    expect(h.store.zoneFacts('canteen', null).count).toBe(45);
    const atLimit = await correct(h, s.post, 'canteen', { count: 40, reason: 'recount' });
    expect((await atLimit.json()) as object).not.toHaveProperty('warning');
    const noLimit = await correct(h, s.post, 'bathhouse', { count: 500, reason: 'recount' });
    expect((await noLimit.json()) as object).not.toHaveProperty('warning');
  });

  it('answers 404 ZONE_UNKNOWN for a zone that is not configured, naming the configured ones', async () => {
    const h = await start();
    const s = await signIn(h);
    const res = await correct(h, s.post, 'library', { count: 1, reason: 'x' });
    expect(res.status).toBe(404);
    const err = await errorOf(res);
    expect(err.code).toBe('ZONE_UNKNOWN');
    expect(err.message).toBe('no zone "library"; zones: canteen, bathhouse');
    expect(h.store.zoneCorrections('library')).toEqual([]);
  });

  const COUNT = 'expected the number of people inside, a whole number ≥ 0';
  const REASON = 'expected the reason for the correction (1-200 characters)';
  it.each([
    { what: 'a missing count', body: { reason: 'x' }, message: `body field 'count': ${COUNT}, got nothing (missing)` },
    { what: 'a negative count', body: { count: -1, reason: 'x' }, message: `body field 'count': ${COUNT}, got -1` },
    { what: 'a fractional count', body: { count: 2.5, reason: 'x' }, message: `body field 'count': ${COUNT}, got 2.5` },
    { what: 'a count as a string', body: { count: '12', reason: 'x' }, message: `body field 'count': ${COUNT}, got "12"` },
    { what: 'a missing reason', body: { count: 12 }, message: `body field 'reason': ${REASON}, got nothing (missing)` },
    { what: 'a blank reason', body: { count: 12, reason: '   ' }, message: `body field 'reason': ${REASON}, got "   "` },
    { what: 'a reason of 201 characters', body: { count: 12, reason: 'x'.repeat(201) }, message: `body field 'reason': ${REASON}, got a string of 201 characters` },
    { what: 'an array', body: [12, 'x'], message: 'request body: expected a JSON object like {"count": 12, "reason": "..."}, got an array' },
  ])('refuses $what with 400 BAD_BODY saying what, where and what was expected', async ({ body, message }) => {
    const h = await start();
    const s = await signIn(h);
    const res = await correct(h, s.post, 'canteen', body);
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toEqual({ code: 'BAD_BODY', message });
    expect(h.store.zoneCorrections('canteen')).toEqual([]);
  });

  it('refuses a body that is not JSON', async () => {
    const h = await start();
    const s = await signIn(h);
    const res = await fetch(`${h.url}/api/guard/zones/canteen/count`, { method: 'POST', headers: s.post, body: '{count: 12' });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toEqual({ code: 'BAD_JSON', message: 'request body: expected a valid JSON object like {"count": 12, "reason": "..."}' });
  });

  it('refuses both routes without a session, and changes nothing', async () => {
    const h = await start();
    const list = await fetch(`${h.url}/api/guard/zones`);
    expect(list.status).toBe(401);
    expect((await errorOf(list)).code).toBe('UNAUTHENTICATED');
    const set = await fetch(`${h.url}/api/guard/zones/canteen/count`, {
      method: 'POST',
      headers: { origin: h.url, 'content-type': 'application/json' },
      body: JSON.stringify({ count: 3, reason: 'x' }),
    });
    expect(set.status).toBe(401);
    expect((await errorOf(set)).code).toBe('UNAUTHENTICATED');
    expect(h.store.zoneFacts('canteen', null).count).toBe(0);
    expect(h.store.zoneCorrections('canteen')).toEqual([]);
  });
});
