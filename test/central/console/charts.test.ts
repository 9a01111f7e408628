// The charts' queries on PostgreSQL and PGlite, with events and alerts written through the
// real writer at chosen instants around China-time midnight (16:00Z): passages per
// checkpoint per hour, refusals per reason per day, fever alerts per day.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { classify } from '../../../central/classify.js';
import { chinaDate, feverAlertsPerDay, passagesPerHour, refusalsByReason } from '../../../central/console/charts.js';
import { Partitions } from '../../../central/db/partitions.js';
import { loadValidators } from '../../../central/schemas.js';
import { monthsOf, writeBatch } from '../../../central/writer.js';
import { Cleanup } from '../../gateway/telemetry/helpers.js';
import { ENGINES, alertPayload, eventPayload, testDb, type Engine, type TestDb } from '../helpers.js';

const PREFIX = 'checkpoints';
const validators = loadValidators();
const at = (s: string): number => Date.parse(s);
// 2026-12-04 in China time is [2026-12-03T16:00Z, 2026-12-04T16:00Z).
const DAY_END = at('2026-12-04T16:00:00Z');

async function setup(cleanup: Cleanup, engine: Engine) {
  const t: TestDb = await testDb(cleanup, engine);
  const partitions = new Partitions(t.db);
  let seq = 0;
  const commit = async (site: string, checkpoint: string, messages: [string, unknown][]): Promise<void> => {
    const items = messages.map(([channel, body]) => classify(`${PREFIX}/${site}/${checkpoint}/${channel}`, Buffer.from(JSON.stringify(body)), PREFIX, validators));
    for (const it of items) if (it.type === 'rejected') throw new Error(`test message rejected: ${it.reason}`);
    await partitions.ensure(monthsOf(items, DAY_END));
    await t.db.transaction((tx) => writeBatch(tx, items, DAY_END));
  };
  /** One event at `when` with this outcome and these reason codes. */
  const event = (site: string, checkpoint: string, when: string, outcome: 'admit' | 'refuse' | 'refer', reasons: string[] = []): Promise<void> => {
    seq += 1;
    return commit(site, checkpoint, [['events', eventPayload({ site, checkpoint }, seq, { at: new Date(at(when)).toISOString(), outcome, reasons, alerts: [] })]]);
  };
  const alert = (site: string, checkpoint: string, when: string, o: Record<string, unknown> = {}): Promise<void> =>
    commit(site, checkpoint, [['alerts', alertPayload({ site, checkpoint }, null, { at: new Date(at(when)).toISOString(), ...o })]]);
  return { t, commit, event, alert };
}

describe.each(ENGINES)('chart queries on %s', (engine) => {
  const cleanup = new Cleanup();
  let s: Awaited<ReturnType<typeof setup>>;
  // One database per engine (PGlite takes seconds to start); each test starts from empty tables.
  beforeAll(async () => {
    s = await setup(cleanup, engine);
  }, 60_000);
  afterEach(() => s.t.db.exec('TRUNCATE events, event_keys, alerts, alert_keys, checkpoints, checkpoint_status_history'));
  afterAll(() => cleanup.run());

  it('counts passages per checkpoint per China-time hour: 15:59:59.999Z is the day before, 16:00Z is 00:00 of the day', async () => {
    await s.event('mine-a', 'gate-1', '2026-12-03T15:59:59.999Z', 'admit'); // 2026-12-03 23:59 China time
    await s.event('mine-a', 'gate-1', '2026-12-03T16:00:00Z', 'admit'); // 00:00
    await s.event('mine-a', 'gate-1', '2026-12-04T00:30:00Z', 'admit'); // 08:30
    await s.event('mine-a', 'gate-1', '2026-12-04T00:59:59Z', 'admit'); // 08:59
    await s.event('mine-a', 'gate-1', '2026-12-04T00:45:00Z', 'refuse', ['TEMP_FEVER']);
    await s.event('mine-a', 'gate-2', '2026-12-04T01:10:00Z', 'refer', ['DEVICE_DOWN_THERMOMETER']); // 09:10
    await s.event('mine-a', 'gate-2', '2026-12-04T15:59:59Z', 'admit'); // 23:59
    await s.event('mine-a', 'gate-1', '2026-12-04T16:00:00Z', 'admit'); // the next day
    await s.event('mine-b', 'gate-9', '2026-12-04T02:00:00Z', 'admit');
    // A checkpoint known from its status but without a passage that day: listed with zeros.
    await s.commit('mine-a', 'gate-3', [['status', { v: 1, state: 'offline', session: 1, cause: 'lost' }]]);

    const day = await passagesPerHour(s.t.db, { date: '2026-12-04', site: 'mine-a' }, DAY_END + 3_600_000);
    expect(day).toMatchObject({ date: '2026-12-04', from: '2026-12-03T16:00:00.000Z', to: '2026-12-04T16:00:00.000Z', hoursBegun: 24 });
    const [g1, g2, g3] = day.checkpoints;
    expect(day.checkpoints.map((c) => c.checkpoint)).toEqual(['gate-1', 'gate-2', 'gate-3']);
    const hours = (xs: (number | null)[]): Record<number, number | null> => Object.fromEntries(xs.flatMap((n, h) => (n === 0 ? [] : [[h, n]])));
    expect(hours(g1!.admitted)).toEqual({ 0: 1, 8: 2 });
    expect(hours(g1!.refused)).toEqual({ 8: 1 });
    expect(g1!.totals).toEqual({ admitted: 3, refused: 1, referred: 0 });
    expect(hours(g2!.referred)).toEqual({ 9: 1 });
    expect(hours(g2!.admitted)).toEqual({ 23: 1 });
    expect(g3!.totals).toEqual({ admitted: 0, refused: 0, referred: 0 });

    // Every site: mine-b's checkpoint too, sorted by site.
    const all = await passagesPerHour(s.t.db, { date: '2026-12-04' }, DAY_END);
    expect(all.checkpoints.map((c) => `${c.site}/${c.checkpoint}`)).toEqual(['mine-a/gate-1', 'mine-a/gate-2', 'mine-a/gate-3', 'mine-b/gate-9']);
    // The day before holds only the 15:59:59.999Z passage, in its last hour.
    const before = await passagesPerHour(s.t.db, { date: '2026-12-03', site: 'mine-a' }, DAY_END);
    expect(hours(before.checkpoints[0]!.admitted)).toEqual({ 23: 1 });
  });

  it('leaves the hours of today that have not begun empty (null), not zero', async () => {
    await s.event('mine-a', 'gate-1', '2026-12-04T02:10:00Z', 'admit'); // 10:10 China time
    const now = at('2026-12-04T02:30:00Z'); // 10:30 China time
    expect(chinaDate(now)).toBe('2026-12-04');
    const today = await passagesPerHour(s.t.db, { date: '2026-12-04' }, now);
    expect(today.hoursBegun).toBe(11);
    expect(today.checkpoints[0]!.admitted).toEqual([...Array<number>(10).fill(0), 1, ...Array<null>(13).fill(null)]);
    expect((await passagesPerHour(s.t.db, { date: '2026-12-05' }, now)).hoursBegun).toBe(0);
  });

  it('counts refused passages per reason code and China-time day over the last 14 days, each reason of a passage once, in words', async () => {
    const now = at('2026-12-04T10:00:00Z'); // today: 2026-12-04 China time; first day 2026-11-21
    await s.event('mine-a', 'gate-1', '2026-11-20T15:59:59Z', 'refuse', ['TEMP_FEVER']); // 2026-11-20: outside
    await s.event('mine-a', 'gate-1', '2026-11-20T16:00:00Z', 'refuse', ['TEMP_FEVER', 'HEALTH_CODE_RED']); // 2026-11-21: day 0
    await s.event('mine-a', 'gate-2', '2026-12-03T15:59:59Z', 'refuse', ['HEALTH_CODE_RED']); // 2026-12-03
    await s.event('mine-a', 'gate-2', '2026-12-03T16:00:00Z', 'refuse', ['HEALTH_CODE_RED']); // 2026-12-04
    await s.event('mine-a', 'gate-2', '2026-12-04T01:00:00Z', 'refuse', ['SOMETHING_NEW']); // a code the catalogue does not know
    await s.event('mine-a', 'gate-2', '2026-12-04T01:00:00Z', 'refer', ['DEVICE_DOWN_SCANNER']); // referred, not refused
    await s.event('mine-a', 'gate-2', '2026-12-04T01:00:00Z', 'admit');
    await s.event('mine-b', 'gate-9', '2026-12-04T01:00:00Z', 'refuse', ['TEMP_FEVER']);

    const r = await refusalsByReason(s.t.db, { days: 14, site: 'mine-a' }, now);
    expect(r.days).toHaveLength(14);
    expect([r.days[0], r.days[13]]).toEqual(['2026-11-21', '2026-12-04']);
    expect([r.from, r.to]).toEqual(['2026-11-20T16:00:00.000Z', '2026-12-04T16:00:00.000Z']);
    const nonZero = (xs: number[]): Record<string, number> => Object.fromEntries(xs.flatMap((n, i) => (n === 0 ? [] : [[r.days[i]!, n]])));
    expect(nonZero(r.refused)).toEqual({ '2026-11-21': 1, '2026-12-03': 1, '2026-12-04': 2 });
    expect(r.reasons.map((x) => [x.code, x.zh, x.en, x.total, nonZero(x.counts)])).toEqual([
      ['HEALTH_CODE_RED', '健康码为红码', 'Health code is red', 3, { '2026-11-21': 1, '2026-12-03': 1, '2026-12-04': 1 }],
      ['SOMETHING_NEW', 'SOMETHING_NEW', 'SOMETHING_NEW', 1, { '2026-12-04': 1 }],
      ['TEMP_FEVER', '体温偏高', 'Temperature too high', 1, { '2026-11-21': 1 }],
    ]);
    // Every site: mine-b's fever refusal adds to today.
    const all = await refusalsByReason(s.t.db, { days: 14 }, now);
    expect(all.refused[13]).toBe(3);
    expect(all.reasons.find((x) => x.code === 'TEMP_FEVER')!.counts[13]).toBe(1);
  });

  it('counts fever alerts per China-time day and site, a gateway-folded count as that many, other kinds not at all', async () => {
    const now = at('2026-12-04T10:00:00Z');
    await s.alert('mine-a', 'gate-1', '2026-12-03T15:59:59Z'); // 2026-12-03
    await s.alert('mine-a', 'gate-1', '2026-12-03T16:00:00Z'); // 2026-12-04
    await s.alert('mine-a', 'gate-2', '2026-12-04T09:00:00Z', { count: 3 }); // 2026-12-04, three occurrences
    await s.alert('mine-a', 'gate-2', '2026-12-04T09:00:00Z', { kind: 'device-down', severity: 'warning', code: 'DEVICE_DOWN_SCANNER' });
    await s.alert('mine-b', 'gate-9', '2026-12-04T09:00:00Z');
    await s.alert('mine-a', 'gate-1', '2026-11-04T15:59:59Z'); // 2026-11-04: the day before a 30-day window

    const f = await feverAlertsPerDay(s.t.db, { days: 30 }, now);
    expect([f.days[0], f.days[29]]).toEqual(['2026-11-05', '2026-12-04']);
    expect(f.total.reduce((a, b) => a + b, 0)).toBe(6);
    expect([f.total[28], f.total[29]]).toEqual([1, 5]);
    expect(f.sites).toEqual([
      { site: 'mine-a', counts: [...Array<number>(28).fill(0), 1, 4] },
      { site: 'mine-b', counts: [...Array<number>(29).fill(0), 1] },
    ]);
    const one = await feverAlertsPerDay(s.t.db, { days: 1, site: 'mine-b' }, now);
    expect(one).toMatchObject({ days: ['2026-12-04'], total: [1] });
  });
});

describe('chart query arguments', () => {
  it('refuses a date that is no calendar day and a day count out of range', async () => {
    const db = { query: async () => [], exec: async () => undefined };
    await expect(passagesPerHour(db, { date: '2026-02-30' }, DAY_END)).rejects.toThrow(/date: expected YYYY-MM-DD/);
    await expect(refusalsByReason(db, { days: 91 }, DAY_END)).rejects.toThrow(/days: expected 1-90/);
    await expect(feverAlertsPerDay(db, { days: 0 }, DAY_END)).rejects.toThrow(/days: expected 1-90/);
  });
});
