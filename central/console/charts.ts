// The console's charts (issue 12, item 7), in China Standard Time (UTC+8, no daylight
// saving: a China day D is [D−1 16:00Z, D 16:00Z)): passages per checkpoint per hour of
// one day, refusals per reason code per day, fever alerts per day. Buckets are
// date_bin(…, at, <a China midnight>), not the database's time-zone tables, so PostgreSQL
// and PGlite give the same days on any server setting. Counts only: no subject, no name.
import { reason, isReasonCode } from '../../gateway/policy/reasons.js';
import { DAY_MS, HOUR_MS, LOCAL_OFFSET_MS, localDay, parseInstant } from '../../gateway/policy/time.js';
import type { Queryable } from '../db/adapter.js';

/** Days a day chart may span, today included. */
export const MAX_CHART_DAYS = 90;
export const DEFAULT_REFUSAL_DAYS = 14;
export const DEFAULT_FEVER_DAYS = 30;

export interface Label {
  zh: string;
  en: string;
}

export interface CheckpointHours {
  site: string;
  checkpoint: string;
  /** Per hour 0-23 of the day (China time); null for an hour that has not begun yet. */
  admitted: (number | null)[];
  refused: (number | null)[];
  /** Outcome `refer`: held for a guard (device down, unclear reading, …). */
  referred: (number | null)[];
  totals: { admitted: number; refused: number; referred: number };
}

export interface PassagesChart {
  /** The China-time day, YYYY-MM-DD. */
  date: string;
  from: string;
  to: string;
  /** Hours of the day begun at `now` (24 for a past day, 0 for a future one). */
  hoursBegun: number;
  /** Every checkpoint with events that day or a known status (zeros), by site then id. */
  checkpoints: CheckpointHours[];
}

export interface DaySpan {
  /** China-time days, oldest first, YYYY-MM-DD; the last one is today (partial). */
  days: string[];
  from: string;
  to: string;
}

export interface ReasonSeries extends Label {
  code: string;
  /** Refused passages that carried this code, per day. */
  counts: number[];
  total: number;
}

export interface RefusalsChart extends DaySpan {
  /** Refused passages per day (one passage may carry several reasons). */
  refused: number[];
  /** Most frequent first. */
  reasons: ReasonSeries[];
}

export interface FeverChart extends DaySpan {
  /** Fever alerts per day (a gateway's folded `count` counts as that many). */
  total: number[];
  sites: { site: string; counts: number[] }[];
}

/** Epoch ms of the China-time midnight starting `date` (YYYY-MM-DD); NaN when it is no date. */
export function chinaDayStart(date: string): number {
  return /^\d{4}-\d{2}-\d{2}$/.test(date) ? parseInstant(date) : Number.NaN;
}

/** The China-time date (YYYY-MM-DD) of an instant. */
export function chinaDate(epochMs: number): string {
  return new Date(localDay(epochMs) * DAY_MS).toISOString().slice(0, 10);
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Reason codes in words: the gateway's catalogue (the texts the kiosk showed), else the code. */
export function reasonLabel(code: string): Label {
  if (!isReasonCode(code)) return { zh: code, en: code };
  const r = reason(code);
  return { zh: r.zh, en: r.en };
}

/** Index of a bucket (date_bin's start, as the driver returns it) counted from `from` in steps of `step` ms. */
const bucket = (start: Date | string, from: number, step: number): number => Math.round((new Date(start).getTime() - from) / step);

export async function passagesPerHour(db: Queryable, q: { date: string; site?: string }, now: number): Promise<PassagesChart> {
  const from = chinaDayStart(q.date);
  if (Number.isNaN(from)) throw new RangeError(`date: expected YYYY-MM-DD, got "${q.date}"`);
  const to = from + DAY_MS;
  const params: unknown[] = [iso(from), iso(to)];
  const siteWhere = q.site === undefined ? '' : ` AND site = $${params.push(q.site)}`;
  const rows = await db.query<{ site: string; checkpoint: string; outcome: string; hour: Date | string; n: number | string }>(
    `SELECT site, checkpoint, outcome, date_bin('1 hour', at, $1::timestamptz) AS hour, count(*) AS n
       FROM events WHERE at >= $1::timestamptz AND at < $2::timestamptz${siteWhere}
      GROUP BY 1, 2, 3, 4`,
    params,
  );
  const known = await db.query<{ site: string; checkpoint: string }>(
    `SELECT site, checkpoint FROM checkpoints${q.site === undefined ? '' : ' WHERE site = $1'}`,
    q.site === undefined ? [] : [q.site],
  );
  const hoursBegun = Math.max(0, Math.min(24, Math.ceil((now - from) / HOUR_MS)));
  const blank = (): (number | null)[] => Array.from({ length: 24 }, (_, h) => (h < hoursBegun ? 0 : null));
  const byKey = new Map<string, CheckpointHours>();
  const entry = (site: string, checkpoint: string): CheckpointHours => {
    const key = JSON.stringify([site, checkpoint]);
    let e = byKey.get(key);
    if (e === undefined) {
      e = { site, checkpoint, admitted: blank(), refused: blank(), referred: blank(), totals: { admitted: 0, refused: 0, referred: 0 } };
      byKey.set(key, e);
    }
    return e;
  };
  for (const k of known) entry(k.site, k.checkpoint);
  for (const r of rows) {
    const e = entry(r.site, r.checkpoint);
    const which = r.outcome === 'admit' ? 'admitted' : r.outcome === 'refuse' ? 'refused' : 'referred';
    const n = Number(r.n);
    const h = bucket(r.hour, from, HOUR_MS);
    // An event stamped later than `now` (a gateway clock ahead) still counts in its hour.
    e[which][h] = (e[which][h] ?? 0) + n;
    e.totals[which] += n;
  }
  const checkpoints = [...byKey.values()].sort((a, b) => (a.site === b.site ? cmp(a.checkpoint, b.checkpoint) : cmp(a.site, b.site)));
  return { date: q.date, from: iso(from), to: iso(to), hoursBegun, checkpoints };
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The last `days` China-time days up to and including today. */
export function daySpan(days: number, now: number): DaySpan {
  if (!Number.isInteger(days) || days < 1 || days > MAX_CHART_DAYS) throw new RangeError(`days: expected 1-${MAX_CHART_DAYS}, got ${days}`);
  const today = localDay(now);
  const first = today - days + 1;
  const list = Array.from({ length: days }, (_, i) => new Date((first + i) * DAY_MS).toISOString().slice(0, 10));
  return { days: list, from: iso(first * DAY_MS - LOCAL_OFFSET_MS), to: iso((today + 1) * DAY_MS - LOCAL_OFFSET_MS) };
}

export async function refusalsByReason(db: Queryable, q: { days: number; site?: string }, now: number): Promise<RefusalsChart> {
  const span = daySpan(q.days, now);
  const params: unknown[] = [span.from, span.to];
  const siteWhere = q.site === undefined ? '' : ` AND site = $${params.push(q.site)}`;
  // One pass, grouped by the whole reasons array (a handful of distinct combinations):
  // the day's refusals are the sum over its combinations, a code's count the sum over
  // those holding it. Reads only the partial index events_refused_at (migration 10).
  const rows = await db.query<{ day: Date | string; reasons: string[]; n: number | string }>(
    `SELECT date_bin('1 day', at, $1::timestamptz) AS day, reasons, count(*) AS n
       FROM events WHERE outcome = 'refuse' AND at >= $1::timestamptz AND at < $2::timestamptz${siteWhere}
      GROUP BY 1, 2`,
    params,
  );
  const from = Date.parse(span.from);
  const refused = span.days.map(() => 0);
  const byCode = new Map<string, ReasonSeries>();
  for (const r of rows) {
    const i = bucket(r.day, from, DAY_MS);
    if (i < 0 || i >= span.days.length) continue;
    const n = Number(r.n);
    refused[i] = (refused[i] ?? 0) + n;
    for (const code of new Set(r.reasons)) {
      let s = byCode.get(code);
      if (s === undefined) {
        s = { code, ...reasonLabel(code), counts: span.days.map(() => 0), total: 0 };
        byCode.set(code, s);
      }
      s.counts[i] = (s.counts[i] ?? 0) + n;
      s.total += n;
    }
  }
  const reasons = [...byCode.values()].sort((a, b) => b.total - a.total || cmp(a.code, b.code));
  return { days: span.days, from: span.from, to: span.to, refused, reasons };
}

export async function feverAlertsPerDay(db: Queryable, q: { days: number; site?: string }, now: number): Promise<FeverChart> {
  const span = daySpan(q.days, now);
  const params: unknown[] = [span.from, span.to];
  const siteWhere = q.site === undefined ? '' : ` AND site = $${params.push(q.site)}`;
  // The same occurrence count as the alerts inbox: the gateway's `count`, absent = 1.
  const rows = await db.query<{ day: Date | string; site: string; n: number | string }>(
    `SELECT date_bin('1 day', at, $1::timestamptz) AS day, site,
            sum(CASE WHEN jsonb_typeof(payload->'count') = 'number' THEN GREATEST((payload->>'count')::numeric::bigint, 1) ELSE 1 END) AS n
       FROM alerts WHERE kind = 'fever' AND at >= $1::timestamptz AND at < $2::timestamptz${siteWhere}
      GROUP BY 1, 2`,
    params,
  );
  const from = Date.parse(span.from);
  const total = span.days.map(() => 0);
  const bySite = new Map<string, number[]>();
  for (const r of rows) {
    const i = bucket(r.day, from, DAY_MS);
    if (i < 0 || i >= span.days.length) continue;
    const n = Number(r.n);
    total[i] = (total[i] ?? 0) + n;
    let counts = bySite.get(r.site);
    if (counts === undefined) bySite.set(r.site, (counts = span.days.map(() => 0)));
    counts[i] = n;
  }
  const sites = [...bySite.entries()].sort(([a], [b]) => cmp(a, b)).map(([site, counts]) => ({ site, counts }));
  return { days: span.days, from: span.from, to: span.to, total, sites };
}
