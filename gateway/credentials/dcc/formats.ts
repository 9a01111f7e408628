// RFC 3339 full-date and date-time, as JSON Schema's "date" and "date-time" formats mean
// them (the DCC schemas use both): a real calendar date, seconds required, a zone required.

const DATE = /^(\d\d\d\d)-(\d\d)-(\d\d)$/;
const TIME = /^(\d\d):(\d\d):(\d\d(?:\.\d+)?)(z|([+-])(\d\d)(?::?(\d\d))?)?$/i;
const DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

export function isFullDate(s: string): boolean {
  const m = DATE.exec(s);
  if (m === null) return false;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  return month >= 1 && month <= 12 && day >= 1 && day <= (month === 2 && isLeapYear(year) ? 29 : (DAYS[month] ?? 0));
}

function isTime(s: string): boolean {
  const m = TIME.exec(s);
  if (m === null) return false;
  const hr = Number(m[1]);
  const min = Number(m[2]);
  const sec = Number(m[3]);
  const zone = m[4];
  const sign = m[5] === '-' ? -1 : 1;
  const zoneH = Number(m[6] ?? 0);
  const zoneM = Number(m[7] ?? 0);
  if (zone === undefined || zoneH > 23 || zoneM > 59) return false;
  if (hr <= 23 && min <= 59 && sec < 60) return true;
  // A leap second is only 23:59:60 UTC.
  const utcMin = min - zoneM * sign;
  const utcHr = hr - zoneH * sign - (utcMin < 0 ? 1 : 0);
  return (utcHr === 23 || utcHr === -1) && (utcMin === 59 || utcMin === -1) && sec < 61;
}

/** "T", "t" or a space between date and time (RFC 3339 §5.6 note). */
export function isDateTime(s: string): boolean {
  const parts = s.split(/t|\s/i);
  return parts.length === 2 && isFullDate(parts[0] ?? '') && isTime(parts[1] ?? '');
}
