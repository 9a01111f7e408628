// The ledger as CSV for a spreadsheet: UTF-8 with a byte order mark (so Excel reads the
// Chinese as UTF-8), CRLF, every text cell quoted when needed, and cells a spreadsheet
// would run as a formula (=, +, -, @, tab, CR) defused with a leading apostrophe.
import { LOCAL_OFFSET_MS } from '../policy/time.js';
import type { LedgerEntry } from '../store/types.js';

export const CSV_BOM = '\uFEFF';

export const CSV_COLUMNS = [
  'time',
  'seq',
  'lane',
  'kind',
  'outcome',
  'reason_codes',
  'reasons_zh',
  'reasons_en',
  'credential',
  'category',
  'name',
  'subject',
  'temperature',
  'guard',
  'note',
  'event_id',
] as const;

const FORMULA_START = /^[=+\-@\t\r]/;

/** One cell: defused if a spreadsheet would evaluate it, quoted if it holds , " CR or LF. */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  let s = value;
  if (FORMULA_START.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** "2024-12-04 08:00:00" in China Standard Time, the checkpoint's clock; a spreadsheet reads it as a date. */
export function localTime(epochMs: number): string {
  const d = new Date(epochMs + LOCAL_OFFSET_MS);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

export function csvHeader(): string {
  return `${CSV_BOM}${CSV_COLUMNS.join(',')}\r\n`;
}

export function csvRow(e: LedgerEntry): string {
  const cells: (string | number | null)[] = [
    localTime(e.at),
    e.seq,
    e.lane,
    e.kind,
    e.outcome,
    e.reasons.map((r) => r.code).join(' '),
    e.reasons.map((r) => r.zh).join('；'),
    e.reasons.map((r) => r.en).join('; '),
    e.credential,
    e.category,
    e.subjectName,
    e.subjectRef,
    e.temperature === null ? null : Number(e.temperature.toFixed(1)),
    e.actor ?? null,
    e.note ?? null,
    e.id,
  ];
  return `${cells.map(csvCell).join(',')}\r\n`;
}
