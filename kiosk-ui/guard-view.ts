// Pure helpers of the guard console: text lookup, time formatting, the hour chart's
// geometry. Free of DOM types so the gateway's tests can check them; guard.ts paints.
// The wire types mirror gateway/http/guard-api.ts (the browser cannot import gateway code).

export interface Text {
  zh: string;
  en: string;
}

export interface GuardTexts {
  ui: Record<string, Text>;
  /** In the guard's words: 放行 / 拒绝 / 转人工. */
  outcomes: Record<string, Text>;
  alertKinds: Record<string, Text>;
  categories: Record<string, Text>;
  overrideReasons: { code: string; zh: string; en: string }[];
  reasons: Record<string, Text>;
}

export interface WireReason {
  code: string;
  zh: string;
  en: string;
  next?: Text;
}

export interface GuardEvent {
  id: string;
  seq: number;
  at: string;
  lane: string;
  kind: string;
  outcome: 'admit' | 'refuse' | 'refer';
  reasons: WireReason[];
  credential: string;
  subject: string | null;
  category: string | null;
  temperature: number | null;
  name: string | null;
  actor: string | null;
  note: string | null;
  /** On an override: the refused or referred passage it answers. */
  answers: { id: string; seq: number; at: string; outcome: 'admit' | 'refuse' | 'refer'; name: string | null } | null;
}

/** One row of the alert list (gateway/http/guard-alerts.ts AlertRow). */
export interface AlertRow {
  ids: string[];
  state: 'open' | 'info' | 'done';
  lane: string | null;
  severity: 'info' | 'warning' | 'critical';
  kinds: string[];
  codes: string[];
  count: number;
  first: number;
  last: number;
  passage: {
    id: string;
    seq: number;
    at: string;
    kind: string;
    outcome: 'admit' | 'refuse' | 'refer';
    name: string | null;
    reasons: { code: string; zh: string; en: string }[];
  } | null;
  ackedBy: string | null;
  ackedAt: number | null;
  detail: string | null;
}

/** The ids to acknowledge for "acknowledge all shown": every open row's, in batches the API takes. */
export function ackBatches(rows: readonly AlertRow[], size: number): string[][] {
  const ids = rows.filter((r) => r.state === 'open').flatMap((r) => r.ids);
  const out: string[][] = [];
  for (let i = 0; i < ids.length; i += size) out.push(ids.slice(i, i + size));
  return out;
}

/** What a row says, in words: its passage's reasons, else the text of each code, else the kind. */
export function alertLines(row: AlertRow, texts: GuardTexts): Text[] {
  if (row.passage !== null && row.passage.reasons.length > 0) return row.passage.reasons.map((r) => ({ zh: r.zh, en: r.en }));
  const lines = row.codes.flatMap((c) => {
    const t = texts.reasons[c];
    return t === undefined ? [] : [t];
  });
  if (lines.length > 0) return lines;
  return row.kinds.map((k) => texts.alertKinds[k] ?? textOf(texts, 'alerts'));
}

export interface ScreenedWorker {
  staffId: string;
  name: string;
  category: string;
  firstAt: string;
  lane: string;
  outcome: 'admit' | 'refuse' | 'refer';
}

export interface ScreeningReport {
  date: string;
  workers: number;
  screened: ScreenedWorker[];
  notScreened: { staffId: string; name: string; category: string }[];
}

export interface HourBucket {
  hour: number;
  admit: number;
  refuse: number;
  refer: number;
}

export interface ZoneCorrection {
  zone: string;
  at: string;
  guard: string;
  from: number;
  to: number;
  reason: string;
}

export interface ZoneView {
  id: string;
  name: string;
  limit: number | null;
  count: number;
  antiPassback: 'off' | 'hard' | 'soft' | 'timed';
  entryLanes: string[];
  exitLanes: string[];
  resetAt: string[];
  /** Newest first. */
  corrections: ZoneCorrection[];
}

export type ZoneLoad = 'open' | 'full' | 'over';

/** Whether a zone has room: full at its limit, over above it (a correction may say so); open without a limit. */
export function zoneLoad(count: number, limit: number | null): ZoneLoad {
  if (limit === null || count < limit) return 'open';
  return count === limit ? 'full' : 'over';
}

/** "12 / 40", or "12" for a zone without a limit. */
export function zoneCount(count: number, limit: number | null): string {
  return limit === null ? String(count) : `${count} / ${limit}`;
}

/** The catalogue text for a key; the key itself (visible, testable) when missing. */
export function textOf(texts: GuardTexts, key: string): Text {
  return texts.ui[key] ?? { zh: key, en: key };
}

export function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/**
 * The checkpoint's clock: China Standard Time (UTC+8, no daylight saving), as the
 * policy, the hourly chart and the screening report count days and hours, whatever zone
 * the browser's machine is set to.
 */
export const CHECKPOINT_OFFSET_MS = 8 * 3_600_000;

function checkpointClock(at: number | string): Date {
  return new Date(new Date(at).getTime() + CHECKPOINT_OFFSET_MS);
}

/** "08:05:09", checkpoint time. */
export function clockTime(at: number | string): string {
  const d = checkpointClock(at);
  return `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
}

/** "2024-12-04 08:05", checkpoint time. */
export function dateTime(at: number | string): string {
  const d = checkpointClock(at);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
}

/** A datetime-local field's "2024-12-04T08:05", read as checkpoint time, as an ISO instant; null when empty or unreadable. */
export function checkpointInstant(local: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(local)) return null;
  const ms = Date.parse(`${local}+08:00`);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/** Epoch ms as a datetime-local field's "2024-12-04T08:05", checkpoint time (the inverse of checkpointInstant). */
export function checkpointLocalInput(at: number): string {
  return dateTime(at).replace(' ', 'T');
}

/** One decimal, as on the kiosk. */
export function celsius(t: number | null): string {
  return t === null || !Number.isFinite(t) ? '' : `${t.toFixed(1)} °C`;
}

/** Whether a feed row passes the feed's filters ('' = any). */
export function feedMatches(e: GuardEvent, lane: string, outcome: string): boolean {
  return (lane === '' || e.lane === lane) && (outcome === '' || e.outcome === outcome);
}

export const SERIES = ['admit', 'refuse', 'refer'] as const;
export type Series = (typeof SERIES)[number];

export interface ChartBar {
  hour: number;
  series: Series;
  n: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ChartModel {
  width: number;
  height: number;
  /** Bottom of the plot area. */
  baseline: number;
  /** Largest value on the y axis: a whole number of grid steps ≥ the largest count. */
  max: number;
  bars: ChartBar[];
  /** x of each hour label (every third hour). */
  hourLabels: { hour: number; x: number }[];
  /** y gridlines with their values: whole numbers (people), at most six. */
  grid: { value: number; y: number }[];
}

/** A whole step of 1, 2 or 5 × 10^k that covers `n` in at most five steps (n ≥ 5 assumed). */
function gridStep(n: number): number {
  for (let p = 1; ; p *= 10) for (const m of [1, 2, 5]) if (m * p * 5 >= n) return m * p;
}

/** Grouped bars, three per hour (admitted, refused, referred), 24 hours across. */
export function chartModel(hours: readonly HourBucket[], width = 480, height = 180): ChartModel {
  const left = 36;
  const right = 8;
  const top = 10;
  const bottom = 24;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const baseline = top + plotH;
  const largest = Math.max(5, ...hours.flatMap((h) => SERIES.map((s) => h[s])));
  const step = gridStep(largest);
  const max = step * Math.ceil(largest / step);
  const slot = plotW / 24;
  const barW = Math.max(1, (slot - 2) / 3);
  const bars: ChartBar[] = [];
  for (const h of hours) {
    if (h.hour < 0 || h.hour > 23) continue;
    SERIES.forEach((s, i) => {
      const n = h[s];
      if (n <= 0) return;
      const bh = (n / max) * plotH;
      bars.push({ hour: h.hour, series: s, n, x: left + h.hour * slot + 1 + i * barW, y: baseline - bh, width: barW, height: bh });
    });
  }
  const hourLabels = Array.from({ length: 8 }, (_, i) => ({ hour: i * 3, x: left + i * 3 * slot + slot / 2 }));
  const grid = Array.from({ length: max / step + 1 }, (_, i) => ({ value: i * step, y: baseline - ((i * step) / max) * plotH }));
  return { width, height, baseline, max, bars, hourLabels, grid };
}
