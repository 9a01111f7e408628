// The site roster the office holds (issue 12, item 4): imported on the console from the
// gateway's CSV format (plus the office's own department and team columns), stored in
// office_roster with each person's site pseudonym, and pushed signed to every gateway of
// the site as the `roster` update. The file is the site's whole roster: whoever the office
// holds and the file no longer names becomes inactive, and is pushed as such so the
// gateways withdraw the badge.
import { parseOfficeRosterCsv, type OfficeRosterCsvResult, type RosterCsvError } from '../../gateway/store/roster-csv.js';
import type { Queryable } from '../db/adapter.js';
import { ALL_CHECKPOINTS_TARGET, confirmations, type Pushed, type UpdatePusher } from '../push.js';

export class RosterImportError extends Error {
  constructor(readonly problems: RosterCsvError[]) {
    super(`the roster file has ${problems.length} problem(s); nothing was imported`);
  }
}

export interface RosterImportRequest {
  site: string;
  /** The file as text (UTF-8; a byte order mark is fine). */
  text: string;
  officerId: string;
  now: number;
  /** The site's keyed pseudonym of a staff id (SiteKeys.pseudonymOf). */
  pseudonymOf: (staffId: string) => string;
}

export interface RosterImported {
  site: string;
  /** Rows in the file, and of those the active and the inactive ones. */
  rows: number;
  active: number;
  inactive: number;
  /** Active at the office before, absent from the file: now inactive. */
  withdrawn: number;
  /** Entries in the signed update (the file's, and every inactive one the office holds besides). */
  pushedEntries: number;
  push: Pushed;
}

type RosterEntry = OfficeRosterCsvResult['rows'][number]['entry'];

// One import per site at a time in this process: the withdrawn set read before the push
// must still be true when the rows are written after it.
const importing = new Map<string, Promise<unknown>>();

/**
 * Parses the whole file (any problem: RosterImportError listing every one, nothing stored
 * or pushed), pushes the site's roster signed to target `all`, then stores it. Pushing
 * first means a failed push (the pusher's CentralError CENTRAL_PUSH_*) leaves the office roster as it
 * was: what the office shows is what it sent.
 */
export async function importRoster(db: Queryable, pusher: UpdatePusher, r: RosterImportRequest): Promise<RosterImported> {
  const before = importing.get(r.site) ?? Promise.resolve();
  const run = before.catch(() => undefined).then(() => importNow(db, pusher, r));
  importing.set(r.site, run);
  try {
    return await run;
  } finally {
    if (importing.get(r.site) === run) importing.delete(r.site);
  }
}

async function importNow(db: Queryable, pusher: UpdatePusher, r: RosterImportRequest): Promise<RosterImported> {
  const { rows, errors } = parseOfficeRosterCsv(r.text, r.now);
  if (errors.length > 0) throw new RosterImportError(errors);
  if (rows.length === 0) throw new RosterImportError([{ line: 2, column: '', message: 'expected at least one person after the header row (the file is the whole roster of the site)' }]);

  const inFile = new Set(rows.map((x) => x.entry.staffId));
  const held = await db.query<{ staff_id: string; active: boolean; entry: RosterEntry | string }>('SELECT staff_id, active, entry FROM office_roster WHERE site = $1', [r.site]);
  // Everyone the office holds and the file leaves out, inactive; a trip stays where it was reported.
  const others = held
    .filter((h) => !inFile.has(h.staff_id))
    .map((h) => {
      const { leave: _trip, ...entry } = typeof h.entry === 'string' ? (JSON.parse(h.entry) as RosterEntry) : h.entry;
      return { entry: { ...entry, active: false, updatedAt: h.active ? r.now : entry.updatedAt }, wasActive: h.active };
    });
  const entries = [...rows.map((x) => x.entry), ...others.map((o) => o.entry)];
  const push = await pusher.push({ site: r.site, target: ALL_CHECKPOINTS_TARGET, kind: 'roster', data: { entries }, officerId: r.officerId });

  const records = rows.map(({ entry, office }) => ({
    staff_id: entry.staffId,
    name: entry.name,
    category: entry.category,
    department: office.department,
    team: office.team,
    active: entry.active,
    pseudonym: r.pseudonymOf(entry.staffId),
    entry,
  }));
  const withdrawn = others.filter((o) => o.wasActive).map((o) => ({ staff_id: o.entry.staffId, entry: o.entry }));
  // One statement, so one transaction: the file's rows, and the withdrawn made inactive.
  await db.query(
    `WITH upsert AS (
       INSERT INTO office_roster (site, staff_id, name, category, department, team, active, pseudonym, entry, updated_at, updated_by)
       SELECT $1, x.staff_id, x.name, x.category, x.department, x.team, x.active, x.pseudonym, x.entry, $4, $5
         FROM jsonb_to_recordset($2::jsonb) AS x(staff_id text, name text, category text, department text, team text, active boolean, pseudonym text, entry jsonb)
       ON CONFLICT (site, staff_id) DO UPDATE SET name = excluded.name, category = excluded.category, department = excluded.department,
         team = excluded.team, active = excluded.active, pseudonym = excluded.pseudonym, entry = excluded.entry,
         updated_at = excluded.updated_at, updated_by = excluded.updated_by
       RETURNING 1
     ), withdraw AS (
       UPDATE office_roster o SET active = false, entry = x.entry, updated_at = $4, updated_by = $5
         FROM jsonb_to_recordset($3::jsonb) AS x(staff_id text, entry jsonb)
        WHERE o.site = $1 AND o.staff_id = x.staff_id
       RETURNING 1
     )
     SELECT (SELECT count(*) FROM upsert) AS upserted, (SELECT count(*) FROM withdraw) AS withdrawn`,
    [r.site, JSON.stringify(records), JSON.stringify(withdrawn), new Date(r.now), r.officerId],
  );
  const active = rows.filter((x) => x.entry.active).length;
  return {
    site: r.site,
    rows: rows.length,
    active,
    inactive: rows.length - active,
    withdrawn: withdrawn.length,
    pushedEntries: entries.length,
    push,
  };
}

export interface RosterSummary {
  site: string;
  /** People the office holds for the site, active and not. */
  active: number;
  inactive: number;
  /** The latest roster push to the site's gateways and their answers; null before the first. */
  lastPush: null | {
    version: number;
    transaction: string | null;
    publishedAt: string;
    publishedBy: string | null;
    /** Every checkpoint of the site the office knows, with its answer (status null: none yet). */
    gateways: { checkpoint: string; status: string | null; errorCode: string | null; at: string | null }[];
  };
}

/** The site's roster counts and the confirmations of its latest push. */
export async function rosterSummary(db: Queryable, site: string): Promise<RosterSummary> {
  const [counts] = await db.query<{ active: number; inactive: number }>(
    'SELECT count(*) FILTER (WHERE active)::int AS active, count(*) FILTER (WHERE NOT active)::int AS inactive FROM office_roster WHERE site = $1',
    [site],
  );
  const [last] = await db.query<{ version: number; transaction: string | null; published_at: Date | string; published_by: string | null }>(
    `SELECT version, transaction, published_at, published_by FROM published_updates
      WHERE site = $1 AND kind = 'roster' AND target = $2 ORDER BY version DESC LIMIT 1`,
    [site, ALL_CHECKPOINTS_TARGET],
  );
  const summary: RosterSummary = { site, active: counts?.active ?? 0, inactive: counts?.inactive ?? 0, lastPush: null };
  if (last === undefined) return summary;
  const answers = last.transaction === null ? [] : await confirmations(db, site, 'roster', last.transaction);
  const known = await db.query<{ checkpoint: string }>('SELECT checkpoint FROM checkpoints WHERE site = $1', [site]);
  const byCheckpoint = new Map(answers.map((a) => [a.checkpoint, a]));
  const checkpoints = [...new Set([...known.map((k) => k.checkpoint), ...byCheckpoint.keys()])].sort();
  summary.lastPush = {
    version: last.version,
    transaction: last.transaction,
    publishedAt: new Date(last.published_at).toISOString(),
    publishedBy: last.published_by,
    gateways: checkpoints.map((checkpoint) => {
      const a = byCheckpoint.get(checkpoint);
      return { checkpoint, status: a?.status ?? null, errorCode: a?.errorCode ?? null, at: a?.at ?? null };
    }),
  };
  return summary;
}

/** The sites the office holds a roster for. */
export async function rosterSites(db: Queryable): Promise<string[]> {
  return (await db.query<{ site: string }>('SELECT DISTINCT site FROM office_roster ORDER BY site')).map((r) => r.site);
}
