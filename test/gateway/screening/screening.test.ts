// Daily screening: the report (who of the roster's workers was screened on a local day,
// and who not), the store reads behind it, and the count-only daily summary queued for
// the central office.
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { DailyScreeningSummary, MAX_CATCH_UP_DAYS, SUMMARY_META_KEY } from '../../../gateway/screening/daily-summary.js';
import { ScreeningError, buildScreeningReport, screeningDay, screeningDayOf, screeningReport } from '../../../gateway/screening/report.js';
import { openStore, type NewLedgerEntry, type RosterEntry, type SqliteStore } from '../../../gateway/store/index.js';
import { closeAndRemove, freshDir, track } from '../store/helpers.js';

const ref = (staffId: string): string => `p1_${staffId}`;
const at = (local: string): number => Date.parse(`${local}+08:00`);

function worker(staffId: string, over: Partial<RosterEntry> = {}): RosterEntry {
  return { staffId, name: `工人${staffId}`, category: 'employee', health: { healthCode: 'green' }, active: true, updatedAt: 0, ...over };
}

let n = 0;
function passage(staffId: string | null, when: number, over: Partial<NewLedgerEntry> = {}): NewLedgerEntry {
  n += 1;
  return {
    id: `scr-${n}`,
    at: when,
    lane: 'in-1',
    kind: 'decision',
    outcome: 'admit',
    reasons: [],
    alerts: [],
    credential: 'staff-badge',
    subjectRef: staffId === null ? null : ref(staffId),
    subjectName: null,
    category: 'employee',
    temperature: 36.5,
    ...over,
  };
}

function store(): SqliteStore {
  return track(openStore(freshDir()));
}
afterEach(closeAndRemove);

describe('the screening day', () => {
  it('runs from midnight to midnight China time, whatever the host zone', () => {
    const day = screeningDay('2024-12-04');
    expect(new Date(day.from).toISOString()).toBe('2024-12-03T16:00:00.000Z');
    expect(day.to - day.from).toBe(86_400_000);
    expect(screeningDayOf(at('2024-12-04T23:59:59.999')).date).toBe('2024-12-04');
    expect(screeningDayOf(at('2024-12-05T00:00:00')).date).toBe('2024-12-05');
  });

  it('refuses a date that is not a calendar day with SCREENING_DATE_INVALID', () => {
    for (const bad of ['2024-02-30', '2024-12-4', 'today', '2024-12-04T08:00']) {
      expect(() => screeningDay(bad)).toThrowError(ScreeningError);
      expect(() => screeningDay(bad)).toThrowError(/SCREENING_DATE_INVALID/);
    }
  });
});

describe('the screening report', () => {
  it('lists each active worker with their first screening of the day at any lane, and the rest as not screened', () => {
    const s = store();
    s.rosterUpsert([
      worker('E-1'),
      worker('E-2'),
      worker('C-1', { category: 'contractor' }),
      worker('E-9', { active: false }),
      worker('F-1', { category: 'family' }),
    ]);
    s.appendDecision(passage('E-1', at('2024-12-04T07:40:00'), { lane: 'in-2', outcome: 'refuse' }), () => null);
    s.appendDecision(passage('E-1', at('2024-12-04T07:45:00'), { lane: 'in-1' }), () => null);
    s.appendDecision(passage('C-1', at('2024-12-04T06:10:00')), () => null);
    s.appendDecision(passage('E-2', at('2024-12-03T23:59:00')), () => null); // the day before
    s.appendDecision(passage('E-9', at('2024-12-04T08:00:00')), () => null); // withdrawn badge
    s.appendDecision(passage('F-1', at('2024-12-04T08:00:00')), () => null); // not a worker
    const report = screeningReport(s, screeningDay('2024-12-04'), ref);
    expect(report).toMatchObject({ date: '2024-12-04', from: '2024-12-03T16:00:00.000Z', to: '2024-12-04T16:00:00.000Z', workers: 3 });
    expect(report.screened).toEqual([
      { staffId: 'C-1', name: '工人C-1', category: 'contractor', firstAt: new Date(at('2024-12-04T06:10:00')).toISOString(), lane: 'in-1', outcome: 'admit' },
      { staffId: 'E-1', name: '工人E-1', category: 'employee', firstAt: new Date(at('2024-12-04T07:40:00')).toISOString(), lane: 'in-2', outcome: 'refuse' },
    ]);
    expect(report.notScreened).toEqual([{ staffId: 'E-2', name: '工人E-2', category: 'employee' }]);
  });

  it('counts decisions only: an abandoned passage, a device fault or a guard override is no screening', () => {
    const s = store();
    s.rosterUpsert([worker('E-1'), worker('E-2'), worker('E-3')]);
    s.appendDecision(passage('E-1', at('2024-12-04T08:00:00'), { kind: 'timeout', outcome: 'refer' }), () => null);
    s.appendDecision(passage('E-2', at('2024-12-04T08:00:00'), { kind: 'fault' }), () => null);
    s.appendDecision(passage('E-3', at('2024-12-04T08:00:00'), { kind: 'override', actor: 'G-01', note: 'x' }), () => null);
    const report = screeningReport(s, screeningDay('2024-12-04'), ref);
    expect(report.screened).toEqual([]);
    expect(report.notScreened.map((w) => w.staffId)).toEqual(['E-1', 'E-2', 'E-3']);
  });

  it('picks the earlier ledger row when two first screenings share a millisecond', () => {
    const s = store();
    const when = at('2024-12-04T08:00:00');
    s.appendDecision(passage('E-1', when, { lane: 'in-1' }), () => null);
    s.appendDecision(passage('E-1', when, { lane: 'in-2' }), () => null);
    expect(s.firstPassages(screeningDay('2024-12-04').from, screeningDay('2024-12-04').to)).toEqual([
      { subjectRef: ref('E-1'), at: when, lane: 'in-1', outcome: 'admit' },
    ]);
  });

  it('refuses an empty or reversed range with STORE_INVALID_QUERY', () => {
    const s = store();
    expect(() => s.firstPassages(10, 10)).toThrowError(/STORE_INVALID_QUERY/);
  });

  it('reports an empty roster as no workers, none screened', () => {
    expect(buildScreeningReport(screeningDay('2024-12-04'), [], [], ref)).toMatchObject({ workers: 0, screened: [], notScreened: [] });
  });
});

describe('the daily summary for the central office', () => {
  const TOPIC = 'checkpoints/mine/gate-1/screening';
  function summary(s: SqliteStore, clock: { t: number }): DailyScreeningSummary {
    return new DailyScreeningSummary({
      store: s,
      topic: TOPIC,
      site: 'mine',
      checkpoint: 'gate-1',
      pseudonym: ref,
      now: () => clock.t,
      logger: pino({ level: 'silent' }),
      checkEveryMs: 0,
      afterQueue: () => undefined,
    });
  }

  it("sends nothing at a first start, then queues the day's counts once after local midnight, with no name, staff id or pseudonym", () => {
    const s = store();
    s.rosterUpsert([worker('E-1'), worker('E-2'), worker('E-3')]);
    s.appendDecision(passage('E-1', at('2024-12-04T07:00:00')), () => null);
    s.appendDecision(passage('E-2', at('2024-12-04T07:05:00'), { outcome: 'refuse' }), () => null);
    const clock = { t: at('2024-12-04T06:00:00') };
    const daily = summary(s, clock);
    expect(daily.check()).toEqual([]); // first start: today is the first day it will report
    clock.t = at('2024-12-05T00:01:00');
    expect(daily.check()).toEqual(['2024-12-04']);
    expect(daily.check()).toEqual([]); // the same day is never queued twice
    const rows = s.outboxPending(10);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ topic: TOPIC, qos: 1 });
    const payload = rows[0]?.payload ?? '';
    expect(JSON.parse(payload)).toEqual({
      v: 1,
      at: new Date(clock.t).toISOString(),
      site: 'mine',
      checkpoint: 'gate-1',
      date: '2024-12-04',
      workers: 3,
      screened: 2,
      notScreened: 1,
      firstOutcomes: { admit: 1, refuse: 1, refer: 0 },
    });
    expect(payload).not.toMatch(/E-\d|工人|p1_/);
    expect(s.getMeta(SUMMARY_META_KEY)).toBe('2024-12-04');
  });

  it('catches up the days missed while the gateway was stopped, at most a week back, and survives a reopen', () => {
    const dir = freshDir();
    let s = openStore(dir);
    const clock = { t: at('2024-12-01T09:00:00') };
    expect(summary(s, clock).check()).toEqual([]);
    clock.t = at('2024-12-02T09:00:00');
    expect(summary(s, clock).check()).toEqual(['2024-12-01']);
    s.close();
    s = track(openStore(dir));
    clock.t = at('2024-12-05T09:00:00');
    expect(summary(s, clock).check()).toEqual(['2024-12-02', '2024-12-03', '2024-12-04']);
    clock.t = at('2024-12-30T09:00:00');
    const late = summary(s, clock).check();
    expect(late).toHaveLength(MAX_CATCH_UP_DAYS);
    expect(late.at(-1)).toBe('2024-12-29');
  });

  it('logs and skips a tick it cannot complete instead of throwing', () => {
    const s = store();
    s.setMeta(SUMMARY_META_KEY, 'not a date');
    expect(summary(s, { t: at('2024-12-05T09:00:00') }).check()).toEqual([]);
    expect(s.outboxDepth()).toBe(0);
  });
});
