// Pure helpers of the guard console: text lookup, time formatting, the hour chart's
// geometry. Free of DOM types so the gateway's tests can check them; guard.ts paints.
// The wire types mirror gateway/http/guard-api.ts (the browser cannot import gateway code).

export interface Text {
  zh: string;
  en: string;
}

export interface GuardTexts {
  ui: Record<string, Text>;
  outcomes: Record<string, Text>;
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
}

export interface StoredAlert {
  id: string;
  at: number;
  lane: string | null;
  kind: string;
  severity: 'info' | 'warning' | 'critical';
  code: string;
  eventId: string | null;
  detail: string | null;
  ackedBy: string | null;
  ackedAt: number | null;
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
  /** Largest value on the y axis (a "nice" number ≥ the largest count). */
  max: number;
  bars: ChartBar[];
  /** x of each hour label (every third hour). */
  hourLabels: { hour: number; x: number }[];
  /** y gridlines with their values. */
  grid: { value: number; y: number }[];
}

function niceMax(n: number): number {
  if (n <= 5) return 5;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
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
  const max = niceMax(Math.max(0, ...hours.flatMap((h) => SERIES.map((s) => h[s]))));
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
  const grid = [0, 0.5, 1].map((f) => ({ value: Math.round(max * f * 10) / 10, y: baseline - f * plotH }));
  return { width, height, baseline, max, bars, hourLabels, grid };
}
