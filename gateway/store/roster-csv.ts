// Roster import from a CSV file the central office or HR exports. Pure: text in,
// entries and a list of every problem out. The importer refuses the whole file when
// there is any error, so a half-imported roster never decides who passes.
import { CsvError } from 'csv-parse';
import { parse } from 'csv-parse/sync';
import { CATEGORIES, HEALTH_CODES, RISK_LEVELS, type Category, type HealthFacts } from '../credentials/types.js';
import type { RosterEntry } from './types.js';
import { parseInstant } from '../policy/time.js';
import { STAFF_ID_PATTERN, isIsoDate, isIsoTimestamp } from './validate.js';

export const ROSTER_CSV_COLUMNS = [
  'staff_id',
  'name',
  'category',
  'health_code',
  'test_result',
  'test_sampled_at',
  'travel_risk',
  'travel_as_of',
  'active',
  'leave_destination',
  'leave_out',
  'leave_back',
] as const;
export type RosterCsvColumn = (typeof ROSTER_CSV_COLUMNS)[number];
/**
 * Optional columns only the central office's import reads (parseOfficeRosterCsv): where a
 * person belongs, for the office's daily screening. Never pushed to a gateway, and unknown
 * to the gateway's own importer (parseRosterCsv), which refuses them as before.
 */
export const OFFICE_ROSTER_COLUMNS = ['department', 'team'] as const;
export type OfficeRosterColumn = (typeof OFFICE_ROSTER_COLUMNS)[number];
type Column = RosterCsvColumn | OfficeRosterColumn;
const OPTIONAL_COLUMNS: ReadonlySet<Column> = new Set(['active', 'leave_destination', 'leave_out', 'leave_back', ...OFFICE_ROSTER_COLUMNS]);

/** Timestamps later than the import time by more than this are refused as typos. */
export const FUTURE_TOLERANCE_MS = 10 * 60_000;
const MAX_NAME_LENGTH = 100;

export interface RosterCsvError {
  /** 1-based line in the file; the header is line 1. */
  line: number;
  /** Column name as in ROSTER_CSV_COLUMNS (or as written, for an unknown one); '' for the whole row or file. */
  column: string;
  /** What is wrong and what was expected. */
  message: string;
}

export interface RosterCsvResult {
  /** Only rows without errors; use them only when errors is empty. */
  entries: RosterEntry[];
  errors: RosterCsvError[];
}

/** The office's columns of one row; null for an empty cell or a column not in the file. */
export interface OfficeRosterColumns {
  department: string | null;
  team: string | null;
}

export interface OfficeRosterCsvResult {
  /** Only rows without errors, each with its office columns; use them only when errors is empty. */
  rows: { entry: RosterEntry; office: OfficeRosterColumns }[];
  errors: RosterCsvError[];
}

interface RawRow {
  cells: string[];
  line: number;
}

/**
 * How another spelling of the file maps onto the columns and words above (a Chinese
 * Excel export: roster-csv-zh.ts). Both return the canonical form, or the input as is.
 */
export interface RosterCsvDialect {
  /** The column a header cell names; undefined when the dialect does not know it. */
  column(header: string): string | undefined;
  /** A trimmed cell in the canonical words and formats (dates as ISO 8601). */
  value(column: RosterCsvColumn | OfficeRosterColumn, cell: string): string;
}

const TRUE_WORDS = new Set(['true', 'yes', 'y', '1']);
const FALSE_WORDS = new Set(['false', 'no', 'n', '0']);

/** Parse a roster CSV; every bad cell is reported, not just the first. `now` stamps updatedAt. */
export function parseRosterCsv(text: string, now: number, dialect?: RosterCsvDialect): RosterCsvResult {
  const { rows, errors } = parse_(text, now, ROSTER_CSV_COLUMNS, dialect);
  return { entries: rows.map((r) => r.entry), errors };
}

/**
 * The central office's import: the gateway's format plus the optional columns
 * OFFICE_ROSTER_COLUMNS (department, team), with the same checks and error list.
 */
export function parseOfficeRosterCsv(text: string, now: number, dialect?: RosterCsvDialect): OfficeRosterCsvResult {
  return parse_(text, now, [...ROSTER_CSV_COLUMNS, ...OFFICE_ROSTER_COLUMNS], dialect);
}

function parse_(text: string, now: number, columns: readonly Column[], dialect?: RosterCsvDialect): OfficeRosterCsvResult {
  const errors: RosterCsvError[] = [];
  const rows = readRows(text, errors);

  const header = rows[0];
  if (header === undefined) {
    if (errors.length === 0) {
      errors.push({ line: 1, column: '', message: `expected a header row naming the columns: ${columns.join(',')}` });
    }
    return { rows: [], errors };
  }

  const index = readHeader(header, columns, errors, dialect);
  const entries: OfficeRosterCsvResult['rows'] = [];
  const seen = new Map<string, number>();

  for (const row of rows.slice(1)) {
    if (row.cells.length !== header.cells.length) {
      // Cells are probably shifted: checking them one by one would only add noise.
      errors.push({
        line: row.line,
        column: '',
        message: `expected ${header.cells.length} cells as in the header, found ${row.cells.length} (a comma inside a value must be quoted)`,
      });
      continue;
    }
    const { staffId, entry, office } = readEntry(row, index, now, errors, dialect);
    // A row with other errors still claims its staff id, so a later duplicate is reported too.
    if (staffId === undefined) continue;
    const first = seen.get(staffId);
    if (first !== undefined) {
      errors.push({
        line: row.line,
        column: 'staff_id',
        message: `expected each staff id once; ${JSON.stringify(staffId)} is already on line ${first}`,
      });
      continue;
    }
    seen.set(staffId, row.line);
    if (entry !== undefined) entries.push({ entry, office });
  }
  // In file order, as a person fixes them; the sort is stable so columns keep their order.
  errors.sort((x, y) => x.line - y.line);
  return { rows: entries, errors };
}

function readRows(text: string, errors: RosterCsvError[]): RawRow[] {
  // One line ending only: csv-parse miscounts lines when \r\n sits inside quotes,
  // and the line numbers are what a person fixing the file goes by.
  const normalized = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const rows: RawRow[] = [];
  let lastEnd = 0;
  try {
    parse(normalized, {
      relax_column_count: true, // reported per row below, with the line, instead of aborting
      skip_empty_lines: true,
      skip_records_with_empty_values: true, // a row of bare commas is a blank line too
      on_record: (record: string[], ctx) => {
        // ctx.lines is where the record ends; a quoted newline moves the start back.
        const inner = record.reduce((n, c) => n + (c.match(/\n/g)?.length ?? 0), 0);
        rows.push({ cells: record, line: ctx.lines - inner });
        lastEnd = ctx.lines;
        return null;
      },
    });
  } catch (err) {
    const message = `the file is not valid CSV: ${err instanceof Error ? err.message : String(err)}`;
    if (err instanceof CsvError && err.code === 'CSV_QUOTE_NOT_CLOSED') {
      // csv-parse names the end of the file; the person needs the row where the quote opened.
      errors.push({
        line: firstNonEmptyLineAfter(normalized, lastEnd),
        column: '',
        message: `${message} (the row starting here opens a quote that is never closed)`,
      });
    } else {
      const line = err instanceof CsvError && typeof err['lines'] === 'number' ? err['lines'] : lastEnd + 1;
      errors.push({ line, column: '', message });
    }
  }
  return rows;
}

function firstNonEmptyLineAfter(text: string, line: number): number {
  const lines = text.split('\n');
  for (let i = line; i < lines.length; i++) if ((lines[i] ?? '').trim() !== '') return i + 1;
  return line + 1;
}

function readHeader(header: RawRow, columns: readonly Column[], errors: RosterCsvError[], dialect?: RosterCsvDialect): Map<Column, number> {
  const index = new Map<Column, number>();
  const known = new Set<string>(columns);
  header.cells.forEach((raw, i) => {
    const name = dialect?.column(raw) ?? raw.trim().toLowerCase();
    if (!known.has(name)) {
      errors.push({
        line: header.line,
        column: raw,
        message:
          name === ''
            ? `column ${i + 1} has no name: expected one of ${columns.join(', ')}`
            : `unknown column: expected one of ${columns.join(', ')}`,
      });
      return;
    }
    const col = name as Column;
    if (index.has(col)) {
      errors.push({ line: header.line, column: col, message: `expected each column once; it appears again as column ${i + 1}` });
      return;
    }
    index.set(col, i);
  });
  for (const col of columns) {
    if (!index.has(col) && !OPTIONAL_COLUMNS.has(col)) {
      errors.push({ line: header.line, column: col, message: 'required column is missing from the header row' });
    }
  }
  return index;
}

function readEntry(
  row: RawRow,
  index: Map<Column, number>,
  now: number,
  errors: RosterCsvError[],
  dialect?: RosterCsvDialect,
): { staffId: string | undefined; entry: RosterEntry | undefined; office: OfficeRosterColumns } {
  let ok = true;
  const fail = (column: Column, message: string): undefined => {
    errors.push({ line: row.line, column, message });
    ok = false;
    return undefined;
  };
  // Trimmed cells by column; a missing column has no entry (reported once, in the header).
  const raw = new Map<Column, string>();
  for (const [column, i] of index) {
    const v = (row.cells[i] ?? '').trim();
    raw.set(column, dialect ? dialect.value(column, v) : v);
  }
  const cell = (column: Column): string | undefined => {
    const v = raw.get(column);
    if (v !== undefined && v.includes('\n')) {
      return fail(column, 'expected a single line of text, found a line break inside the value');
    }
    if (v !== undefined && v.includes('\uFFFD')) {
      // What a GBK file read as UTF-8 looks like: names would be stored garbled.
      return fail(column, 'expected UTF-8 text, found bytes that are not UTF-8 (save the sheet as "CSV UTF-8")');
    }
    return v;
  };
  const oneOf = <T extends string>(column: Column, values: readonly T[], optional: boolean): T | undefined => {
    const v = cell(column);
    if (v === undefined || (v === '' && optional)) return undefined;
    const lower = v.toLowerCase();
    const match = values.find((x) => x === lower);
    if (match === undefined) {
      return fail(column, `expected one of ${values.join(', ')}${optional ? ' (or empty)' : ''}; got ${show(v)}`);
    }
    return match;
  };
  const timestamp = (column: Column): string | undefined => {
    const v = cell(column);
    if (v === undefined || v === '') return undefined;
    if (!isIsoTimestamp(v)) {
      return fail(column, `expected an ISO 8601 timestamp with a time zone, e.g. 2022-12-05T08:30:00+08:00; got ${show(v)}`);
    }
    if (Date.parse(v) > now + FUTURE_TOLERANCE_MS) {
      return fail(column, `expected a time not in the future (import time ${new Date(now).toISOString()}); got ${show(v)}`);
    }
    return v;
  };
  // Result and time make sense only together: report whichever half is missing.
  const pair = (aCol: Column, bCol: Column): void => {
    const aGiven = (raw.get(aCol) ?? '') !== '';
    const bGiven = (raw.get(bCol) ?? '') !== '';
    if (aGiven && !bGiven && index.has(bCol)) fail(bCol, `expected a value because ${aCol} is given`);
    if (bGiven && !aGiven && index.has(aCol)) fail(aCol, `expected a value because ${bCol} is given`);
  };

  const rawId = cell('staff_id');
  const staffId = rawId !== undefined && STAFF_ID_PATTERN.test(rawId) ? rawId : undefined;
  if (rawId !== undefined && staffId === undefined) {
    fail(
      'staff_id',
      `expected 1-32 upper-case letters, digits or dashes, starting with a letter or digit (${STAFF_ID_PATTERN.source}); got ${show(rawId)}`,
    );
  }
  const name = cell('name');
  if (name === '') fail('name', 'expected a name, found an empty cell');
  else if (name !== undefined && [...name].length > MAX_NAME_LENGTH) {
    fail('name', `expected at most ${MAX_NAME_LENGTH} characters, found ${[...name].length}`);
  }
  const category = oneOf<Category>('category', CATEGORIES, false);
  const healthCode = oneOf('health_code', HEALTH_CODES, false);
  const testResult = oneOf('test_result', ['negative', 'positive'] as const, true);
  const sampledAt = timestamp('test_sampled_at');
  pair('test_result', 'test_sampled_at');
  const travelRisk = oneOf('travel_risk', RISK_LEVELS, true);
  const travelAsOf = timestamp('travel_as_of');
  pair('travel_risk', 'travel_as_of');

  // Leave and return: a trip is a destination and a day out, the return once known.
  const leaveDate = (column: Column): string | undefined => {
    const v = cell(column);
    if (v === undefined || v === '') return undefined;
    if (!isIsoDate(v) && !isIsoTimestamp(v)) {
      return fail(column, `expected an ISO date (2022-12-04) or a timestamp with a time zone; got ${show(v)}`);
    }
    return v;
  };
  const destination = cell('leave_destination');
  if (destination !== undefined && [...destination].length > MAX_NAME_LENGTH) {
    fail('leave_destination', `expected at most ${MAX_NAME_LENGTH} characters, found ${[...destination].length}`);
  }
  const leaveOut = leaveDate('leave_out');
  const leaveBack = leaveDate('leave_back');
  pair('leave_destination', 'leave_out');
  if ((raw.get('leave_back') ?? '') !== '' && (raw.get('leave_out') ?? '') === '' && index.has('leave_out')) {
    fail('leave_out', 'expected a value because leave_back is given');
  }
  if (leaveOut !== undefined && leaveBack !== undefined && !(parseInstant(leaveBack) >= parseInstant(leaveOut))) {
    fail('leave_back', `expected a return on or after leave_out (${leaveOut}); got ${show(leaveBack)}`);
  }

  let active = true;
  const activeCell = cell('active');
  if (activeCell !== undefined && activeCell !== '') {
    const lower = activeCell.toLowerCase();
    if (TRUE_WORDS.has(lower)) active = true;
    else if (FALSE_WORDS.has(lower)) active = false;
    else fail('active', `expected true or false (also yes/no, 1/0, or empty for true); got ${show(activeCell)}`);
  }

  // The office's columns: free text like a name (one line, UTF-8, bounded), empty = none.
  const placeCell = (column: OfficeRosterColumn): string | null => {
    const v = cell(column);
    if (v === undefined || v === '') return null;
    if ([...v].length > MAX_NAME_LENGTH) return fail(column, `expected at most ${MAX_NAME_LENGTH} characters, found ${[...v].length}`) ?? null;
    return v;
  };
  const office: OfficeRosterColumns = { department: placeCell('department'), team: placeCell('team') };

  if (!ok || staffId === undefined || name === undefined || category === undefined || healthCode === undefined) {
    return { staffId, entry: undefined, office };
  }
  const health: HealthFacts = { healthCode };
  if (testResult !== undefined && sampledAt !== undefined) health.test = { result: testResult, sampledAt };
  // The CSV carries the travel code's verdict only, not the list of places visited.
  if (travelRisk !== undefined && travelAsOf !== undefined) health.travel = { riskLevel: travelRisk, visits: [], asOf: travelAsOf };
  const entry: RosterEntry = { staffId, name, category, health, active, updatedAt: now };
  if (destination !== undefined && destination !== '' && leaveOut !== undefined) entry.leave = { destination, out: leaveOut, back: leaveBack ?? null };
  return { staffId, entry, office };
}

function show(v: string): string {
  return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
}
