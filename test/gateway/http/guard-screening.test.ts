// GET /api/guard/screening: the guard's daily screening list (names stay local).
import { afterEach, describe, expect, it } from 'vitest';
import type { NewLedgerEntry } from '../../../gateway/store/types.js';
import { signIn } from './guard-helpers.js';
import { errorOf, startHarness, type Harness } from './helpers.js';

// 10:30 China time on 4 Dec 2024.
const NOW = Date.parse('2024-12-04T10:30:00+08:00');

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

let n = 0;
function row(staffId: string, at: number, over: Partial<NewLedgerEntry> = {}): NewLedgerEntry {
  n += 1;
  return {
    id: `scr-http-${n}`,
    at,
    lane: 'north',
    kind: 'decision',
    outcome: 'admit',
    reasons: [],
    alerts: [],
    credential: 'staff-badge',
    subjectRef: `p1_${staffId}`, // the harness's pseudonym
    subjectName: null,
    category: 'employee',
    temperature: 36.5,
    ...over,
  };
}

async function started(): Promise<Harness> {
  h = await startHarness({ guard: { now: NOW } });
  h.store.rosterUpsert(
    ['E-1', 'E-2'].map((staffId) => ({ staffId, name: `工人${staffId}`, category: 'employee' as const, health: { healthCode: 'green' as const }, active: true, updatedAt: 0 })),
  );
  h.store.appendDecision(row('E-1', NOW - 3_600_000), () => null);
  h.store.appendDecision(row('E-2', Date.parse('2024-12-03T09:00:00+08:00'), { lane: 'south' }), () => null);
  return h;
}

describe('the guard screening list', () => {
  it("lists today's screened and not yet screened workers by default", async () => {
    const h = await started();
    const s = await signIn(h);
    const res = await fetch(`${h.url}/api/guard/screening`, { headers: s.get });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as { date: string; workers: number; screened: { staffId: string; name: string; firstAt: string }[]; notScreened: { staffId: string }[] };
    expect(body.date).toBe('2024-12-04');
    expect(body.workers).toBe(2);
    expect(body.screened).toEqual([expect.objectContaining({ staffId: 'E-1', name: '工人E-1', firstAt: new Date(NOW - 3_600_000).toISOString(), lane: 'north' })]);
    expect(body.notScreened).toEqual([expect.objectContaining({ staffId: 'E-2' })]);
  });

  it('answers for another day given as ?date=YYYY-MM-DD', async () => {
    const h = await started();
    const s = await signIn(h);
    const body = (await (await fetch(`${h.url}/api/guard/screening?date=2024-12-03`, { headers: s.get })).json()) as {
      screened: { staffId: string; lane: string }[];
      notScreened: { staffId: string }[];
    };
    expect(body.screened).toEqual([expect.objectContaining({ staffId: 'E-2', lane: 'south' })]);
    expect(body.notScreened.map((w) => w.staffId)).toEqual(['E-1']);
  });

  it('refuses a date that is not a calendar day, and unknown parameters, with BAD_PARAMETER', async () => {
    const h = await started();
    const s = await signIn(h);
    for (const q of ['date=2024-02-30', 'date=04.12.2024', 'day=2024-12-04']) {
      const res = await fetch(`${h.url}/api/guard/screening?${q}`, { headers: s.get });
      expect(res.status).toBe(400);
      expect((await errorOf(res)).code).toBe('BAD_PARAMETER');
    }
  });
});
