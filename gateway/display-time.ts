// Times for people (CLI tables, readable logs): China Standard Time (UTC+8, no daylight
// saving) whatever the host's zone, like the kiosk, the guard console and the policy.
// Machine output (--json, JSON logs) keeps ISO 8601 in UTC.
import { LOCAL_OFFSET_MS } from './policy/time.js';

/** "2026-12-04 08:30:15" (China time); with `ms`, "2026-12-04 08:30:15.250". */
export function chinaTime(at: number | string | Date, opts: { ms?: boolean } = {}): string {
  const t = typeof at === 'number' ? at : typeof at === 'string' ? Date.parse(at) : at.getTime();
  if (!Number.isFinite(t)) return String(at);
  const iso = new Date(t + LOCAL_OFFSET_MS).toISOString(); // the China wall clock, spelt as if UTC
  return `${iso.slice(0, 10)} ${iso.slice(11, opts.ms ? 23 : 19)}`;
}
