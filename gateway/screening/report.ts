// Daily screening (issue 6, item 9): every active rostered worker with their first
// screening of a local day (China time, as the policy reads dates) at any lane of this
// gateway, and who has not been screened yet. Pure: the caller reads the roster and the
// first passages from the store and passes them in.
import { CodedError } from '../errors.js';
import type { Category } from '../credentials/types.js';
import type { Outcome } from '../policy/types.js';
import { DAY_MS, LOCAL_OFFSET_MS, localDay, parseInstant } from '../policy/time.js';
import type { FirstPassage, RosterEntry } from '../store/types.js';

/** Who must be screened every day: the people of the work area, not families, visitors, vendors or drivers. */
export const WORKER_CATEGORIES: readonly Category[] = ['employee', 'contractor'];

export const SCREENING_ERROR_CODES = ['SCREENING_DATE_INVALID'] as const;
export type ScreeningErrorCode = (typeof SCREENING_ERROR_CODES)[number];

export class ScreeningError extends CodedError<ScreeningErrorCode> {
  constructor(code: ScreeningErrorCode, message: string) {
    super(code, `[${code}] ${message}`);
  }
}

/** One local calendar day as epoch ms [from, to). */
export interface ScreeningDay {
  /** YYYY-MM-DD in China time. */
  date: string;
  from: number;
  to: number;
}

/** The local day holding `now`. */
export function screeningDayOf(now: number): ScreeningDay {
  const from = localDay(now) * DAY_MS - LOCAL_OFFSET_MS;
  return { date: new Date(from + LOCAL_OFFSET_MS).toISOString().slice(0, 10), from, to: from + DAY_MS };
}

/** A YYYY-MM-DD date read in China time; throws SCREENING_DATE_INVALID for anything else. */
export function screeningDay(date: string): ScreeningDay {
  const from = /^\d{4}-\d{2}-\d{2}$/.test(date) ? parseInstant(date) : Number.NaN;
  if (!Number.isFinite(from)) {
    throw new ScreeningError('SCREENING_DATE_INVALID', `date ${JSON.stringify(date.slice(0, 40))}: expected a calendar date YYYY-MM-DD, e.g. 2026-11-28`);
  }
  return { date, from, to: from + DAY_MS };
}

export interface ScreenedWorker {
  staffId: string;
  name: string;
  category: Category;
  /** ISO time of the first screening of the day. */
  firstAt: string;
  lane: string;
  /** How that first screening ended (a refused worker was screened too). */
  outcome: Outcome;
}

export interface UnscreenedWorker {
  staffId: string;
  name: string;
  category: Category;
}

/** Local only (names and staff ids): the guard console and the CLI. Never published. */
export interface ScreeningReport {
  date: string;
  from: string;
  to: string;
  /** Active rostered workers. */
  workers: number;
  screened: ScreenedWorker[];
  notScreened: UnscreenedWorker[];
}

export function buildScreeningReport(
  day: ScreeningDay,
  roster: readonly RosterEntry[],
  firsts: readonly FirstPassage[],
  pseudonym: (staffId: string) => string,
): ScreeningReport {
  // The ledger keeps pseudonyms only, so the roster is matched through the same key.
  const byRef = new Map(firsts.map((f) => [f.subjectRef, f]));
  const screened: ScreenedWorker[] = [];
  const notScreened: UnscreenedWorker[] = [];
  let workers = 0;
  for (const r of roster) {
    if (!r.active || !WORKER_CATEGORIES.includes(r.category)) continue;
    workers += 1;
    const first = byRef.get(pseudonym(r.staffId));
    if (first === undefined) notScreened.push({ staffId: r.staffId, name: r.name, category: r.category });
    else screened.push({ staffId: r.staffId, name: r.name, category: r.category, firstAt: new Date(first.at).toISOString(), lane: first.lane, outcome: first.outcome });
  }
  screened.sort((a, b) => (a.firstAt < b.firstAt ? -1 : a.firstAt > b.firstAt ? 1 : a.staffId < b.staffId ? -1 : 1));
  return { date: day.date, from: new Date(day.from).toISOString(), to: new Date(day.to).toISOString(), workers, screened, notScreened };
}

/** The store reads a report needs. */
export interface ScreeningSource {
  rosterAll(): RosterEntry[];
  firstPassages(from: number, to: number): FirstPassage[];
}

export function screeningReport(store: ScreeningSource, day: ScreeningDay, pseudonym: (staffId: string) => string): ScreeningReport {
  return buildScreeningReport(day, store.rosterAll(), store.firstPassages(day.from, day.to), pseudonym);
}

/** Version 1 of the payload on …/screening: counts only, never a name or an id. */
export interface ScreeningSummaryV1 {
  v: 1;
  at: string;
  site: string;
  checkpoint: string;
  date: string;
  workers: number;
  screened: number;
  notScreened: number;
  /** How the first screenings of the day ended. */
  firstOutcomes: Record<Outcome, number>;
}

export function screeningSummary(report: ScreeningReport, ctx: { site: string; checkpoint: string }, now: number): ScreeningSummaryV1 {
  const firstOutcomes: Record<Outcome, number> = { admit: 0, refuse: 0, refer: 0 };
  for (const s of report.screened) firstOutcomes[s.outcome] += 1;
  return {
    v: 1,
    at: new Date(now).toISOString(),
    site: ctx.site,
    checkpoint: ctx.checkpoint,
    date: report.date,
    workers: report.workers,
    screened: report.screened.length,
    notScreened: report.notScreened.length,
    firstOutcomes,
  };
}
