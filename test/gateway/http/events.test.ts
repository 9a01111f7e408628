import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventsResponse, PublicEvent } from '../../../gateway/http/events.js';
import type { NewLedgerEntry } from '../../../gateway/store/types.js';
import { signIn, type SignedIn } from './guard-helpers.js';
import { errorOf, startHarness, T0, type Harness } from './helpers.js';

const MIN = 60_000;

function entry(n: number, over: Partial<NewLedgerEntry> = {}): NewLedgerEntry {
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    at: T0 + n * MIN,
    lane: n % 2 === 0 ? 'north' : 'south',
    kind: 'decision',
    outcome: 'admit',
    reasons: [],
    alerts: [],
    credential: 'health-pass',
    subjectRef: `ref-${n % 3}`,
    subjectName: '张三丰',
    category: 'employee',
    temperature: 36.4,
    ...over,
  };
}

describe('GET /api/events', () => {
  let h: Harness;
  let guard: SignedIn;
  // A person's passages are for guards: every query here is made with a guard's session.
  const get = async (query: string): Promise<Response> => fetch(`${h.url}/api/events${query}`, { headers: guard.get });
  const events = async (query: string): Promise<PublicEvent[]> => {
    const res = await get(query);
    expect(res.status).toBe(200);
    return ((await res.json()) as EventsResponse).events;
  };

  beforeAll(async () => {
    h = await startHarness({ guard: { now: T0 } });
    guard = await signIn(h);
    for (let n = 1; n <= 10; n++) {
      const over: Partial<NewLedgerEntry> = {};
      if (n === 4) {
        over.outcome = 'refuse';
        over.temperature = 38.1;
        over.reasons = [
          { code: 'FEVER', zh: '体温异常', en: 'Temperature too high', next: { zh: '请到发热门诊', en: 'Please go to the fever clinic' } },
        ];
        over.alerts = [{ kind: 'fever', severity: 'critical', code: 'FEVER' }];
      }
      if (n === 7) over.outcome = 'refer';
      h.store.appendDecision(entry(n, over), () => null);
    }
  });
  afterAll(async () => {
    await h.close();
  });

  it('lists events newest first with the public fields and an ISO time', async () => {
    const list = await events('');
    expect(list.map((e) => e.seq)).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    const fever = list.find((e) => e.outcome === 'refuse')!;
    expect(fever).toEqual({
      id: entry(4).id,
      seq: 4,
      at: new Date(T0 + 4 * MIN).toISOString(),
      lane: 'north',
      kind: 'decision',
      outcome: 'refuse',
      reasons: [{ code: 'FEVER', zh: '体温异常', en: 'Temperature too high', next: { zh: '请到发热门诊', en: 'Please go to the fever clinic' } }],
      alerts: [{ kind: 'fever', severity: 'critical', code: 'FEVER' }],
      credential: 'health-pass',
      subject: 'ref-1',
      category: 'employee',
      temperature: 38.1,
    });
  });

  it('never includes the subject name', async () => {
    const text = await (await get('')).text();
    expect(text).not.toContain('张三丰');
    expect(text).not.toMatch(/"subjectName"|"name"/);
  });

  it('filters by lane and by outcome', async () => {
    expect((await events('?lane=south')).map((e) => e.seq)).toEqual([9, 7, 5, 3, 1]);
    expect((await events('?outcome=refer')).map((e) => e.seq)).toEqual([7]);
    expect((await events('?lane=north&outcome=refer')).map((e) => e.seq)).toEqual([]);
  });

  it('filters by subject pseudonym', async () => {
    expect((await events('?subject=ref-0')).map((e) => e.seq)).toEqual([9, 6, 3]);
  });

  it('filters by time, from inclusive and to exclusive, in any time zone', async () => {
    const from = new Date(T0 + 3 * MIN).toISOString();
    // The same instant as T0 + 6 min, written in China time.
    const to = '2024-12-04T08:06:00+08:00';
    expect((await events(`?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`)).map((e) => e.seq)).toEqual([5, 4, 3]);
  });

  it('pages with limit and before, and says where the next page starts', async () => {
    const first = (await (await get('?limit=4')).json()) as EventsResponse;
    expect(first.events.map((e) => e.seq)).toEqual([10, 9, 8, 7]);
    expect(first.nextBefore).toBe(7);
    const second = (await (await get(`?limit=4&before=${first.nextBefore}`)).json()) as EventsResponse;
    expect(second.events.map((e) => e.seq)).toEqual([6, 5, 4, 3]);
    const last = (await (await get('?limit=4&before=3')).json()) as EventsResponse;
    expect(last.events.map((e) => e.seq)).toEqual([2, 1]);
    expect(last.nextBefore).toBeNull();
  });

  const bad: [string, string, RegExp][] = [
    ['an empty lane', '?lane=', /query parameter 'lane': expected a lane id, got an empty string/],
    ['an unknown outcome', '?outcome=maybe', /query parameter 'outcome': expected one of admit, refuse, refer, got "maybe"/],
    ['a from that is not a timestamp', '?from=yesterday', /query parameter 'from': expected an ISO 8601 timestamp with a time zone.*got "yesterday"/],
    ['a from without a time zone', '?from=2024-12-04T08:00:00', /query parameter 'from': expected an ISO 8601 timestamp with a time zone/],
    ['a to that is a bare date', '?to=2024-12-04', /query parameter 'to': expected an ISO 8601 timestamp/],
    ['a to before from', '?from=2024-12-04T09:00:00Z&to=2024-12-04T08:00:00Z', /query parameter 'to': expected a time after 'from'/],
    ['a limit of 0', '?limit=0', /query parameter 'limit': expected a whole number from 1 to 1000, got "0"/],
    ['a limit above 1000', '?limit=1001', /query parameter 'limit': expected a whole number from 1 to 1000, got "1001"/],
    ['a limit that is not a number', '?limit=ten', /query parameter 'limit': expected a whole number from 1 to 1000, got "ten"/],
    ['a fractional limit', '?limit=2.5', /query parameter 'limit': expected a whole number/],
    ['a negative before', '?before=-1', /query parameter 'before': expected a whole number/],
    ['a repeated parameter', '?lane=north&lane=south', /query parameter 'lane': expected one value, got 2/],
    ['an unknown parameter', '?outcom=admit', /unknown query parameter 'outcom': expected one of lane, outcome, subject, from, to, limit, before/],
  ];
  for (const [what, query, message] of bad) {
    it(`answers ${what} with 400 naming the parameter`, async () => {
      const res = await get(query);
      expect(res.status).toBe(400);
      const err = await errorOf(res);
      expect(err.code).toBe('BAD_PARAMETER');
      expect(err.message).toMatch(message);
    });
  }
});
