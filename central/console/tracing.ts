// Contact tracing (issue 12, item 6): every passage of one person (the pseudonym the site's
// gateways give a staff id) in a bounded window, and for each passage the other persons
// who passed the same lane (site, checkpoint, lane) within ±N minutes, mapped back to the
// office roster where their pseudonym is known. Every query is recorded in trace_queries
// by the same SQL statement that reads its results (a data-modifying WITH): the record and
// the result are one atomic statement, so no result exists without its row, and the row
// counts it records are exactly what was returned. trace_queries is append-only
// (migration 9's trigger); the log lists it newest first.
import type { Queryable } from '../db/adapter.js';

export const MAX_WINDOW_DAYS = 31;
export const MAX_MINUTES = 120;
/** Beyond these the result is cut (and says so): narrow the window or ±N. */
export const MAX_PASSAGES = 1000;
export const MAX_CONTACT_ROWS = 20_000;
/** A reason needs at least this many letters or digits (any script: "发热病例密接" counts 6). */
export const MIN_REASON_CHARS = 4;
export const MAX_REASON_LENGTH = 500;

export interface TraceRequest {
  site: string;
  staffId: string;
  /** The pseudonym of staffId at site (SiteKeys.pseudonymOf). */
  subject: string;
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, exclusive. */
  to: number;
  /** ±minutes around each passage: 1..MAX_MINUTES. */
  minutes: number;
}

/** Who asks, and why: what trace_queries keeps beside the request. */
export interface TraceAsker {
  at: number;
  officerId: string;
  role: string;
  client: string;
  reason: string;
  export: boolean;
}

export interface RosterPerson {
  inRoster: boolean;
  staffId: string | null;
  name: string | null;
  department: string | null;
  team: string | null;
  active: boolean | null;
}

export interface Contact {
  /** The other person's pseudonym; with staffId/name/department when the office roster knows it. */
  subject: string;
  staffId: string | null;
  name: string | null;
  department: string | null;
  /** Their passage nearest to ours (ISO), and its offset from ours in seconds (negative: before). */
  at: string;
  offsetS: number;
}

export interface Passage {
  at: string;
  checkpoint: string;
  lane: string;
  kind: string;
  outcome: string;
  contacts: Contact[];
}

export interface TraceResult {
  /** The trace_queries row this result was recorded as. */
  id: number;
  at: string;
  passages: Passage[];
  counts: { passages: number; contacts: number; people: number };
  /** More passages or contact rows than MAX_PASSAGES / MAX_CONTACT_ROWS: the rest is not shown. */
  truncated: boolean;
}

/** Trimmed; null when too short to say anything (fewer than MIN_REASON_CHARS letters or digits). */
export function meaningfulReason(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const reason = raw.trim().replace(/\s+/g, ' ');
  const letters = reason.match(/[\p{L}\p{N}]/gu)?.length ?? 0;
  return letters >= MIN_REASON_CHARS && reason.length <= MAX_REASON_LENGTH ? reason : null;
}

/** What is wrong with a request's window and ±N, or null when it is within bounds. */
export function windowProblem(from: number, to: number, minutes: number): string | null {
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_MINUTES) return `minutes: expected a whole number 1-${MAX_MINUTES}, got ${minutes}`;
  if (!(to > from)) return `to: expected a time after from (${new Date(from).toISOString()}), got ${new Date(to).toISOString()}`;
  if (to - from > MAX_WINDOW_DAYS * 86_400_000) return `from/to: expected a window of at most ${MAX_WINDOW_DAYS} days, got ${((to - from) / 86_400_000).toFixed(1)} days`;
  return null;
}

/** The office roster's entry for a staff id at a site (inRoster false when there is none). */
export async function rosterPerson(db: Queryable, site: string, staffId: string): Promise<RosterPerson> {
  const rows = await db.query<{ name: string; department: string | null; team: string | null; active: boolean }>(
    'SELECT name, department, team, active FROM office_roster WHERE site = $1 AND staff_id = $2',
    [site, staffId],
  );
  const r = rows[0];
  return r === undefined
    ? { inRoster: false, staffId, name: null, department: null, team: null, active: null }
    : { inRoster: true, staffId, name: r.name, department: r.department, team: r.team, active: r.active };
}

const ms = (col: string): string => `floor(extract(epoch FROM ${col}) * 1000)::bigint`;

// $1 subject, $2 site, $3 from, $4 to, $5 minutes, $6 max passages, $7 max contact rows,
// $8… the asker. Passages come from events_subject_at; each passage's neighbours from
// events_checkpoint_at (site, checkpoint, at), the lane filtered on those few rows, and the
// partitions outside ±N pruned at run time. One row per other person and passage: their
// passage nearest to ours.
const TRACE_SQL = `
WITH p_all AS MATERIALIZED (
  SELECT e.at, e.checkpoint, e.lane, e.kind, e.outcome,
         row_number() OVER (ORDER BY e.at, e.checkpoint, e.lane) AS n
    FROM events e
   WHERE e.subject = $1 AND e.site = $2 AND e.at >= $3::timestamptz AND e.at < $4::timestamptz
),
p AS MATERIALIZED (SELECT * FROM p_all WHERE n <= $6),
c_all AS MATERIALIZED (
  SELECT p.n AS pn, x.subject, x.at, x.at - p.at AS offset_i,
         row_number() OVER (ORDER BY p.n, x.at, x.subject) AS n
    FROM p
   CROSS JOIN LATERAL (
     SELECT DISTINCT ON (o.subject) o.subject, o.at
       FROM events o
      WHERE o.site = $2 AND o.checkpoint = p.checkpoint
        AND o.at >= p.at - make_interval(mins => $5::int) AND o.at <= p.at + make_interval(mins => $5::int)
        AND o.lane = p.lane AND o.subject IS NOT NULL AND o.subject <> $1
      ORDER BY o.subject, abs(extract(epoch FROM o.at - p.at)), o.at
   ) x
),
c AS MATERIALIZED (SELECT * FROM c_all WHERE n <= $7),
rec AS (
  INSERT INTO trace_queries (at, officer_id, role, client, reason, export, site, staff_id, subject, from_at, to_at, minutes, passages, contacts, people, truncated)
  SELECT $8::timestamptz, $9, $10, $11, $12, $13, $2, $14, $1, $3::timestamptz, $4::timestamptz, $5::int,
         (SELECT count(*) FROM p), (SELECT count(*) FROM c), (SELECT count(DISTINCT subject) FROM c),
         (SELECT count(*) FROM p_all) > $6 OR (SELECT count(*) FROM c_all) > $7
  RETURNING id, at, passages, contacts, people, truncated
)
SELECT rec.id, ${ms('rec.at')} AS at_ms, rec.passages, rec.contacts, rec.people, rec.truncated,
  (SELECT coalesce(json_agg(json_build_object('n', n, 'at', ${ms('at')}, 'checkpoint', checkpoint, 'lane', lane, 'kind', kind, 'outcome', outcome) ORDER BY n), '[]'::json) FROM p) AS passages_json,
  (SELECT coalesce(json_agg(json_build_object('pn', c.pn, 'subject', c.subject, 'at', ${ms('c.at')}, 'offsetMs', ${ms('c.offset_i')},
            'staffId', r.staff_id, 'name', r.name, 'department', r.department) ORDER BY c.n), '[]'::json)
     FROM c LEFT JOIN LATERAL (SELECT staff_id, name, department FROM office_roster WHERE site = $2 AND pseudonym = c.subject ORDER BY staff_id LIMIT 1) r ON true) AS contacts_json
  FROM rec`;

type RawPassage = { n: number; at: number; checkpoint: string; lane: string; kind: string; outcome: string };
type RawContact = { pn: number; subject: string; at: number; offsetMs: number; staffId: string | null; name: string | null; department: string | null };
const fromJson = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;

/** Runs the query and records it (with `asker`, and the row counts) in one statement. */
export async function recordedTrace(db: Queryable, q: TraceRequest, asker: TraceAsker): Promise<TraceResult> {
  const rows = await db.query<{
    id: number;
    at_ms: number;
    passages: number;
    contacts: number;
    people: number;
    truncated: boolean;
    passages_json: unknown;
    contacts_json: unknown;
  }>(TRACE_SQL, [
    q.subject,
    q.site,
    new Date(q.from).toISOString(),
    new Date(q.to).toISOString(),
    q.minutes,
    MAX_PASSAGES,
    MAX_CONTACT_ROWS,
    new Date(asker.at).toISOString(),
    asker.officerId,
    asker.role,
    asker.client,
    asker.reason,
    asker.export,
    q.staffId,
  ]);
  const r = rows[0];
  if (r === undefined) throw new Error('trace query recorded no row');
  const byN = new Map<number, Passage>();
  const passages = fromJson<RawPassage[]>(r.passages_json).map((p) => {
    const passage: Passage = { at: new Date(Number(p.at)).toISOString(), checkpoint: p.checkpoint, lane: p.lane, kind: p.kind, outcome: p.outcome, contacts: [] };
    byN.set(Number(p.n), passage);
    return passage;
  });
  for (const c of fromJson<RawContact[]>(r.contacts_json)) {
    byN.get(Number(c.pn))?.contacts.push({
      subject: c.subject,
      staffId: c.staffId,
      name: c.name,
      department: c.department,
      at: new Date(Number(c.at)).toISOString(),
      offsetS: Math.round(Number(c.offsetMs) / 1000),
    });
  }
  return {
    id: Number(r.id),
    at: new Date(Number(r.at_ms)).toISOString(),
    passages,
    counts: { passages: Number(r.passages), contacts: Number(r.contacts), people: Number(r.people) },
    truncated: r.truncated,
  };
}

export interface TraceLogEntry {
  id: number;
  at: string;
  officerId: string;
  /** The officer's name now; null once the account is removed. */
  officerName: string | null;
  role: string;
  client: string;
  reason: string;
  export: boolean;
  site: string;
  staffId: string;
  from: string;
  to: string;
  minutes: number;
  passages: number;
  contacts: number;
  people: number;
  truncated: boolean;
}

export const DEFAULT_LOG_LIMIT = 50;
export const MAX_LOG_LIMIT = 500;

/** trace_queries newest first; `before` = the id of the last entry of the previous page. */
export async function traceLog(db: Queryable, o: { limit?: number; before?: number } = {}): Promise<TraceLogEntry[]> {
  const limit = Math.min(MAX_LOG_LIMIT, Math.max(1, o.limit ?? DEFAULT_LOG_LIMIT));
  const params: unknown[] = [limit];
  let where = '';
  if (o.before !== undefined) {
    params.push(o.before);
    where = 'WHERE (t.at, t.id) < (SELECT at, id FROM trace_queries WHERE id = $2)';
  }
  const rows = await db.query<{
    id: number; at_ms: number; officer_id: string; officer_name: string | null; role: string; client: string; reason: string; export: boolean;
    site: string; staff_id: string; from_ms: number; to_ms: number; minutes: number; passages: number; contacts: number; people: number; truncated: boolean;
  }>(
    `SELECT t.id, ${ms('t.at')} AS at_ms, t.officer_id, o.name AS officer_name, t.role, t.client, t.reason, t.export, t.site, t.staff_id,
            ${ms('t.from_at')} AS from_ms, ${ms('t.to_at')} AS to_ms, t.minutes, t.passages, t.contacts, t.people, t.truncated
       FROM trace_queries t LEFT JOIN officers o ON o.id = t.officer_id
       ${where}
      ORDER BY t.at DESC, t.id DESC
      LIMIT $1`,
    params,
  );
  const iso = (v: number): string => new Date(Number(v)).toISOString();
  return rows.map((r) => ({
    id: Number(r.id),
    at: iso(r.at_ms),
    officerId: r.officer_id,
    officerName: r.officer_name,
    role: r.role,
    client: r.client,
    reason: r.reason,
    export: r.export,
    site: r.site,
    staffId: r.staff_id,
    from: iso(r.from_ms),
    to: iso(r.to_ms),
    minutes: Number(r.minutes),
    passages: Number(r.passages),
    contacts: Number(r.contacts),
    people: Number(r.people),
    truncated: r.truncated,
  }));
}
