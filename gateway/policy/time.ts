// Time helpers for the policy: parsing the ISO strings of facts and passes, calendar days
// and display dates. The mine runs on China Standard Time (UTC+8, no daylight saving), so
// a date without an offset is read in that zone, never in the host's zone: the same input
// must give the same decision on any machine.

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
/** China Standard Time. Fixed: China has no daylight saving. */
export const LOCAL_OFFSET_MS = 8 * HOUR_MS;

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
/** A date-time with neither "Z" nor a numeric offset. */
const LOCAL_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?$/;

/**
 * Epoch ms of an ISO string; NaN when it cannot be read.
 * "2021-12-04" is local midnight; "2021-12-04T08:00" is local time; anything with "Z" or
 * an offset is taken as written.
 */
export function parseInstant(iso: string): number {
  if (typeof iso !== 'string') return Number.NaN;
  const s = iso.trim();
  const d = DATE_ONLY.exec(s);
  if (d) return dayStart(Number(d[1]), Number(d[2]), Number(d[3]));
  if (LOCAL_DATE_TIME.test(s)) return Date.parse(`${s}+08:00`);
  return Date.parse(s);
}

/** Local calendar day number (days since 1970-01-01 local) of an instant. */
export function localDay(epochMs: number): number {
  return Math.floor((epochMs + LOCAL_OFFSET_MS) / DAY_MS);
}

/** Local calendar day number of an ISO date or date-time; NaN when it cannot be read. */
export function parseDay(iso: string): number {
  return localDay(parseInstant(iso));
}

function dayStart(y: number, m: number, d: number): number {
  const utc = Date.UTC(y, m - 1, d);
  // Date.UTC rolls 2021-02-30 over to March: reject it instead of guessing.
  const check = new Date(utc);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d) return Number.NaN;
  return utc - LOCAL_OFFSET_MS;
}

const MONTHS_EN = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

export interface DisplayDate {
  zh: string;
  en: string;
  /** true when only a date is shown (the instant was local midnight). */
  dateOnly: boolean;
}

/**
 * A short local date for people: "12月18日" / "18 Dec", with the time only when it is not
 * midnight. `endExclusive`: the instant is an exclusive end, so a midnight end is shown as
 * the day before (the last whole day), which is how people read "至12月17日".
 * null when the input cannot be read.
 */
export function displayDate(at: string | number, endExclusive = false): DisplayDate | null {
  const ms = typeof at === 'number' ? at : parseInstant(at);
  if (!Number.isFinite(ms)) return null;
  const local = new Date(ms + LOCAL_OFFSET_MS);
  if (Number.isNaN(local.getTime())) return null;
  const midnight = local.getUTCHours() === 0 && local.getUTCMinutes() === 0 && local.getUTCSeconds() === 0 && local.getUTCMilliseconds() === 0;
  if (midnight) {
    const day = endExclusive ? new Date(local.getTime() - DAY_MS) : local;
    const m = day.getUTCMonth();
    const d = day.getUTCDate();
    return { zh: `${m + 1}月${d}日`, en: `${d} ${MONTHS_EN[m] ?? ''}`, dateOnly: true };
  }
  const m = local.getUTCMonth();
  const d = local.getUTCDate();
  const hh = String(local.getUTCHours()).padStart(2, '0');
  const mm = String(local.getUTCMinutes()).padStart(2, '0');
  return { zh: `${m + 1}月${d}日 ${hh}:${mm}`, en: `${d} ${MONTHS_EN[m] ?? ''} ${hh}:${mm}`, dateOnly: false };
}

const TIME_OF_DAY = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Minutes after local midnight of "HH:MM"; NaN when it is not a time of day. */
export function minutesOfDay(hhmm: string): number {
  const m = TIME_OF_DAY.exec(hhmm);
  return m ? Number(m[1]) * 60 + Number(m[2]) : Number.NaN;
}

/**
 * The latest instant at or before `now` that falls on one of the local times of day
 * ("HH:MM", China time), with the time it matched; null for an empty or unreadable list.
 */
export function latestTimeOfDay(now: number, times: readonly string[]): { at: number; time: string } | null {
  const midnight = localDay(now) * DAY_MS - LOCAL_OFFSET_MS;
  let best: { at: number; time: string } | null = null;
  for (const time of times) {
    const min = minutesOfDay(time);
    if (!Number.isFinite(min)) continue;
    const today = midnight + min * 60_000;
    const at = today <= now ? today : today - DAY_MS;
    if (best === null || at > best.at) best = { at, time };
  }
  return best;
}
