// The alerts inbox across checkpoints (issue 12, item 3): newest first; the same kind at
// the same checkpoint with no more than `foldMinutes` between consecutive alerts folded
// into one row; acknowledgement of one alert, a folded group or every alert a filter
// shows, each set once (the first officer stays); critical alerts left unacknowledged
// longer than `escalateAfterMs` flagged `escalated`.
import type { Queryable } from '../db/adapter.js';

export type Severity = 'info' | 'warning' | 'critical';

export const DEFAULT_FOLD_MINUTES = 5;
export const DEFAULT_INBOX_DAYS = 7;
export const MAX_INBOX_LIMIT = 500;

export interface AlertFilter {
  site?: string;
  checkpoint?: string;
  kinds?: readonly string[];
  severities?: readonly Severity[];
  /** Epoch ms, inclusive; default `to` − 7 days (keeps the fold's scan bounded). */
  from?: number;
  /** Epoch ms, exclusive; default `now`. For "acknowledge all shown", pass the `to` the page was read with. */
  to?: number;
}

export interface InboxQuery extends AlertFilter {
  /** Only rows with at least one unacknowledged member. */
  unackedOnly?: boolean;
  foldMinutes?: number;
  /** Critical and unacknowledged for longer than this (ms) → escalated. */
  escalateAfterMs: number;
  limit?: number;
  /** Paging: only rows whose newest member is older than this (epoch ms). */
  before?: number;
}

export interface InboxRow {
  site: string;
  checkpoint: string;
  kind: string;
  /** The highest severity among the members. */
  severity: Severity;
  /** Code, lane and detail of the newest member. */
  code: string;
  lane: string | null;
  detail: string | null;
  /** Occurrences: the members' gateway `count` (absent = 1), summed. */
  count: number;
  /** Member alert ids, newest first (acknowledge the group with these). */
  ids: string[];
  firstAt: string;
  lastAt: string;
  unacked: number;
  /** The first acknowledgement among the members, if any. */
  ackedBy: string | null;
  ackedAt: string | null;
  escalated: boolean;
}

const SEVERITY_RANK = `CASE severity WHEN 'critical' THEN 3 WHEN 'warning' THEN 2 ELSE 1 END`;

function whereOf(f: AlertFilter, now: number, params: unknown[]): string {
  const to = f.to ?? now;
  const from = f.from ?? to - DEFAULT_INBOX_DAYS * 86_400_000;
  const add = (v: unknown): string => {
    params.push(v);
    return `$${params.length}`;
  };
  const where = [`at >= ${add(new Date(from).toISOString())}::timestamptz`, `at < ${add(new Date(to).toISOString())}::timestamptz`];
  if (f.site !== undefined) where.push(`site = ${add(f.site)}`);
  if (f.checkpoint !== undefined) where.push(`checkpoint = ${add(f.checkpoint)}`);
  if (f.kinds !== undefined) where.push(`kind = ANY(${add([...f.kinds])}::text[])`);
  if (f.severities !== undefined) where.push(`severity = ANY(${add([...f.severities])}::text[])`);
  return where.join(' AND ');
}

type Raw = {
  site: string;
  checkpoint: string;
  kind: string;
  severity: string;
  code: string;
  lane: string | null;
  detail: string | null;
  count: number | string;
  ids: string[];
  first_at: Date | string;
  last_at: Date | string;
  unacked: number | string;
  acked_by: string | null;
  acked_at: Date | string | null;
  escalated: boolean;
};

export async function alertsInbox(db: Queryable, q: InboxQuery, now: number): Promise<InboxRow[]> {
  const params: unknown[] = [];
  const where = whereOf(q, now, params);
  const p = (v: unknown): string => {
    params.push(v);
    return `$${params.length}`;
  };
  const fold = p(`${Math.max(0, q.foldMinutes ?? DEFAULT_FOLD_MINUTES)} minutes`);
  const escalateBefore = p(new Date(now - q.escalateAfterMs).toISOString());
  const having = [q.unackedOnly ? 'count(*) FILTER (WHERE acked_by IS NULL) > 0' : 'true'];
  if (q.before !== undefined) having.push(`max(at) < ${p(new Date(q.before).toISOString())}::timestamptz`);
  const limit = p(Math.min(Math.max(1, Math.trunc(q.limit ?? 100)), MAX_INBOX_LIMIT));
  // Gaps and islands: a new group starts where the gap to the previous alert of the same
  // checkpoint and kind exceeds the fold window (so a steady drip stays one row).
  const rows = await db.query<Raw>(
    `WITH a AS (
       SELECT id, site, checkpoint, at, lane, kind, severity, code, detail, acked_by, acked_at,
              CASE WHEN jsonb_typeof(payload->'count') = 'number' THEN GREATEST((payload->>'count')::numeric::bigint, 1) ELSE 1 END AS n,
              CASE WHEN at - lag(at) OVER w <= ${fold}::interval THEN 0 ELSE 1 END AS brk
         FROM alerts WHERE ${where}
       WINDOW w AS (PARTITION BY site, checkpoint, kind ORDER BY at, id)),
     g AS (SELECT *, sum(brk) OVER (PARTITION BY site, checkpoint, kind ORDER BY at, id ROWS UNBOUNDED PRECEDING) AS grp FROM a)
     SELECT site, checkpoint, kind,
            (array_agg(severity ORDER BY ${SEVERITY_RANK} DESC))[1] AS severity,
            (array_agg(code ORDER BY at DESC, id DESC))[1] AS code,
            (array_agg(lane ORDER BY at DESC, id DESC))[1] AS lane,
            (array_agg(detail ORDER BY at DESC, id DESC))[1] AS detail,
            sum(n) AS count, array_agg(id::text ORDER BY at DESC, id DESC) AS ids,
            min(at) AS first_at, max(at) AS last_at,
            count(*) FILTER (WHERE acked_by IS NULL) AS unacked,
            (array_agg(acked_by ORDER BY acked_at) FILTER (WHERE acked_by IS NOT NULL))[1] AS acked_by,
            min(acked_at) AS acked_at,
            coalesce(bool_or(severity = 'critical' AND acked_by IS NULL AND at <= ${escalateBefore}::timestamptz), false) AS escalated
       FROM g GROUP BY site, checkpoint, kind, grp
     HAVING ${having.join(' AND ')}
      ORDER BY max(at) DESC, site, checkpoint, kind
      LIMIT ${limit}::int`,
    params,
  );
  return rows.map((r) => ({
    site: r.site,
    checkpoint: r.checkpoint,
    kind: r.kind,
    severity: (['info', 'warning', 'critical'].includes(r.severity) ? r.severity : 'info') as Severity,
    code: r.code,
    lane: r.lane,
    detail: r.detail,
    count: Number(r.count),
    ids: r.ids,
    firstAt: new Date(r.first_at).toISOString(),
    lastAt: new Date(r.last_at).toISOString(),
    unacked: Number(r.unacked),
    ackedBy: r.acked_by,
    ackedAt: r.acked_at === null ? null : new Date(r.acked_at).toISOString(),
    escalated: r.escalated,
  }));
}

export interface AckResult {
  /** The ids this call acknowledged (already-acknowledged ones are left as they were). */
  acked: string[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * One statement: rows are locked in id order (so two overlapping acknowledgements wait
 * for each other instead of deadlocking), a row another officer acknowledged meanwhile is
 * re-checked after the wait and skipped, so the first officer is never overwritten.
 */
async function ackWhere(db: Queryable, where: string, params: unknown[], officer: string, now: number): Promise<AckResult> {
  params.push(officer, new Date(now).toISOString());
  const rows = await db.query<{ id: string }>(
    `WITH t AS (SELECT id, at FROM alerts WHERE (${where}) AND acked_by IS NULL ORDER BY id, at FOR UPDATE)
     UPDATE alerts a SET acked_by = $${params.length - 1}, acked_at = $${params.length}::timestamptz
       FROM t WHERE a.id = t.id AND a.at = t.at AND a.acked_by IS NULL
     RETURNING a.id::text AS id`,
    params,
  );
  return { acked: rows.map((r) => r.id).sort() };
}

/** Acknowledges one alert or a folded group (its `ids`). */
export async function ackAlerts(db: Queryable, ids: readonly string[], officer: string, now: number): Promise<AckResult> {
  const valid = ids.filter((id) => UUID.test(id)).map((id) => id.toLowerCase());
  if (valid.length === 0) return { acked: [] };
  return ackWhere(db, 'id = ANY($1::uuid[])', [valid], officer, now);
}

/** Acknowledges every unacknowledged alert the filter shows (pass the page's own `to`, so later arrivals are not included). */
export async function ackShown(db: Queryable, filter: AlertFilter, officer: string, now: number): Promise<AckResult> {
  const params: unknown[] = [];
  const where = whereOf(filter, now, params);
  return ackWhere(db, where, params, officer, now);
}
