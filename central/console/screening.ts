// The mine-wide daily screening (issue 12, item 4): every active worker and contractor of
// the office roster with their first screening of a day (China time) at any checkpoint of
// the site, and who has not been screened, by department and team. The same rules as a
// gateway's own report (gateway/screening/report.ts, the store's first passages): the
// roster's worker categories, a ledger row of kind `decision` naming the person's
// pseudonym, the first by time — whatever its outcome (a refused worker was screened too).
// Only the office sees across gateways: a worker screened at checkpoint 1 is missing from
// checkpoint 2's own report, and screened here.
import { csvCell, CSV_BOM, localTime } from '../../gateway/http/csv.js';
import { WORKER_CATEGORIES, type ScreeningDay } from '../../gateway/screening/report.js';
import type { Queryable } from '../db/adapter.js';

export type Outcome = 'admit' | 'refuse' | 'refer';

export interface RosterPerson {
  staffId: string;
  name: string;
  category: string;
}

export interface ScreenedPerson extends RosterPerson {
  /** ISO time of the first screening of the day. */
  at: string;
  checkpoint: string;
  lane: string;
  outcome: Outcome;
}

export interface ScreeningGroup {
  /** null: the roster names none. */
  department: string | null;
  team: string | null;
  workers: number;
  /** By time of the first screening. */
  screened: ScreenedPerson[];
  /** By staff id. */
  notScreened: RosterPerson[];
}

export interface OfficeScreening {
  site: string;
  date: string;
  from: string;
  to: string;
  /** Active workers and contractors in the office roster. */
  workers: number;
  screened: number;
  notScreened: number;
  /** How the first screenings ended. */
  outcomes: Record<Outcome, number>;
  groups: ScreeningGroup[];
}

type Row = {
  staff_id: string;
  name: string;
  category: string;
  department: string | null;
  team: string | null;
  checkpoint: string | null;
  lane: string | null;
  /** ISO 8601 in UTC, made by the database: no timestamp parsing or formatting per row here. */
  at: string | null;
  outcome: Outcome | null;
};

const collator = new Intl.Collator('zh-CN');
/** Named groups first, in Chinese collation order; "none" last. */
const byName = (a: string | null, b: string | null): number => (a === b ? 0 : a === null ? 1 : b === null ? -1 : collator.compare(a, b));

/** The site's daily screening for `day` (screeningDay / screeningDayOf of the gateway's report). */
export async function dailyScreening(db: Queryable, site: string, day: ScreeningDay): Promise<OfficeScreening> {
  // The roster's active workers, and the first decision of the day naming each one's
  // pseudonym at any checkpoint of the site: first by time, then checkpoint and seq so
  // two rows in the same millisecond always give the same answer. The day's first
  // passages are sorted once (DISTINCT ON) and hash-joined to the roster: cheaper than a
  // semi-join on the roster's pseudonyms (figures: docs/central.md, Daily screening).
  const rows = await db.query<Row>(
    `SELECT o.staff_id, o.name, o.category, o.department, o.team, f.checkpoint, f.lane,
            to_char(f.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, f.outcome
       FROM office_roster o
       LEFT JOIN (
         SELECT DISTINCT ON (e.subject) e.subject, e.checkpoint, e.lane, e.at, e.outcome
           FROM events e
          WHERE e.site = $1 AND e.at >= $3 AND e.at < $4 AND e.kind = 'decision' AND e.subject IS NOT NULL
          ORDER BY e.subject, e.at, e.checkpoint, e.seq
       ) f ON f.subject = o.pseudonym
      WHERE o.site = $1 AND o.active AND o.category = ANY($2::text[])`,
    [site, WORKER_CATEGORIES, new Date(day.from).toISOString(), new Date(day.to).toISOString()],
  );
  // department → team → group (a Map keeps null apart from any text).
  const groups = new Map<string | null, Map<string | null, ScreeningGroup>>();
  const outcomes: Record<Outcome, number> = { admit: 0, refuse: 0, refer: 0 };
  let screened = 0;
  for (const r of rows) {
    let teams = groups.get(r.department);
    if (teams === undefined) groups.set(r.department, (teams = new Map()));
    let g = teams.get(r.team);
    if (g === undefined) teams.set(r.team, (g = { department: r.department, team: r.team, workers: 0, screened: [], notScreened: [] }));
    g.workers += 1;
    // Object literals, not spreads: this loop runs once per worker (10 000 at a mine).
    if (r.at === null || r.checkpoint === null || r.lane === null || r.outcome === null) {
      g.notScreened.push({ staffId: r.staff_id, name: r.name, category: r.category });
    } else {
      g.screened.push({ staffId: r.staff_id, name: r.name, category: r.category, at: r.at, checkpoint: r.checkpoint, lane: r.lane, outcome: r.outcome });
      outcomes[r.outcome] += 1;
      screened += 1;
    }
  }
  const list: ScreeningGroup[] = [];
  for (const teams of groups.values()) {
    for (const g of teams.values()) {
      // ISO strings of one day sort as their times do.
      g.screened.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.staffId < b.staffId ? -1 : 1));
      g.notScreened.sort((a, b) => (a.staffId < b.staffId ? -1 : 1));
      list.push(g);
    }
  }
  list.sort((a, b) => byName(a.department, b.department) || byName(a.team, b.team));
  return {
    site,
    date: day.date,
    from: new Date(day.from).toISOString(),
    to: new Date(day.to).toISOString(),
    workers: rows.length,
    screened,
    notScreened: rows.length - screened,
    outcomes,
    groups: list,
  };
}

const STATUS = { screened: '已筛查 screened', notScreened: '未筛查 not screened' } as const;
const OUTCOME: Record<Outcome, string> = { admit: '通行 admit', refuse: '拒绝 refuse', refer: '转人工 refer' };
const CATEGORY: Record<string, string> = { employee: '职工 employee', contractor: '外委 contractor' };
export const SCREENING_CSV_COLUMNS = ['日期 date', '部门 department', '班组 team', '状态 status', '工号 staff_id', '姓名 name', '类别 category', '首次筛查 first_screening', '检查站 checkpoint', '通道 lane', '结果 outcome'];

/**
 * The report as CSV for Excel: UTF-8 with a byte order mark (Chinese stays Chinese), CRLF,
 * cells a spreadsheet would run as a formula defused (gateway/http/csv.ts). One row per
 * worker, group by group, the screened first; times in China time.
 */
export function screeningCsv(s: OfficeScreening): string {
  const lines = [SCREENING_CSV_COLUMNS.map(csvCell).join(',')];
  for (const g of s.groups) {
    const row = (status: string, p: RosterPerson, seen: ScreenedPerson | null): string =>
      [s.date, g.department, g.team, status, p.staffId, p.name, CATEGORY[p.category] ?? p.category, seen === null ? null : localTime(Date.parse(seen.at)), seen?.checkpoint ?? null, seen?.lane ?? null, seen === null ? null : OUTCOME[seen.outcome]]
        .map(csvCell)
        .join(',');
    for (const p of g.screened) lines.push(row(STATUS.screened, p, p));
    for (const p of g.notScreened) lines.push(row(STATUS.notScreened, p, null));
  }
  return `${CSV_BOM}${lines.join('\r\n')}\r\n`;
}
