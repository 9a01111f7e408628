// Visitor approvals and contractor crews at the office (issue 12, item 5): what the
// epidemic office registered, which sets it pushed to which checkpoint, and what each
// gateway answered. Plain SQL over a Queryable; the pushing itself is central/visitors-sync.ts.
import type { Approval, CrewRegistration, ItineraryStop } from '../../gateway/policy/types.js';
import type { Queryable } from '../db/adapter.js';

export type VisitorKind = 'approvals' | 'crews';
export const VISITOR_KINDS: readonly VisitorKind[] = ['approvals', 'crews'];
const TABLE: Record<VisitorKind, string> = { approvals: 'office_approvals', crews: 'office_crews' };

/** Ended entries (revoked or expired) stay on the list this long. */
export const ENDED_SHOWN_MS = 7 * 86_400_000;
export const LIST_LIMIT = 500;

export interface NewApproval {
  entry: Approval & { id: string };
  site: string;
  /** Office only, never pushed. */
  subjectName: string | null;
  pseudonym: string | null;
  createdBy: string;
  at: number;
}

export interface NewCrew {
  entry: CrewRegistration;
  site: string;
  /** Where it is pushed (a registration names no checkpoint); null = every checkpoint of the site. */
  checkpoints: string[] | null;
  createdBy: string;
  at: number;
}

const iso = (v: Date | string): string => new Date(v).toISOString();
const isoOrNull = (v: Date | string | null): string | null => (v === null ? null : iso(v));

export async function insertApproval(db: Queryable, a: NewApproval): Promise<void> {
  const e = a.entry;
  await db.query(
    `INSERT INTO office_approvals (id, site, subject_id, subject_name, pseudonym, approver, host_department, valid_from, valid_until,
       max_uses, checkpoints, entry, created_by, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
    [e.id, a.site, e.subjectId, a.subjectName, a.pseudonym, e.approver, e.hostDepartment, e.validFrom, e.validUntil, e.maxUses ?? null, e.checkpoints ?? null, JSON.stringify(e), a.createdBy, iso(new Date(a.at))],
  );
}

export async function insertCrew(db: Queryable, c: NewCrew): Promise<void> {
  const e = c.entry;
  await db.query(
    `INSERT INTO office_crews (id, site, responsible, members, valid_from, valid_until, itinerary, checkpoints, entry, created_by, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [e.id, c.site, e.responsible, e.members, e.validFrom, e.validUntil, JSON.stringify(e.itinerary), c.checkpoints, JSON.stringify(e), c.createdBy, iso(new Date(c.at))],
  );
}

export type RevokeResult = { ok: true; site: string } | { ok: false; why: 'unknown' } | { ok: false; why: 'revoked'; by: string; at: string };

/** Marks an entry revoked once (the first officer is kept). */
export async function revokeEntry(db: Queryable, kind: VisitorKind, id: string, officer: string, now: number): Promise<RevokeResult> {
  const done = await db.query<{ site: string }>(
    `UPDATE ${TABLE[kind]} SET revoked_by = $2, revoked_at = $3 WHERE id = $1 AND revoked_at IS NULL RETURNING site`,
    [id, officer, iso(new Date(now))],
  );
  if (done[0] !== undefined) return { ok: true, site: done[0].site };
  const row = (await db.query<{ revoked_by: string; revoked_at: Date | string }>(`SELECT revoked_by, revoked_at FROM ${TABLE[kind]} WHERE id = $1`, [id]))[0];
  return row === undefined ? { ok: false, why: 'unknown' } : { ok: false, why: 'revoked', by: row.revoked_by, at: iso(row.revoked_at) };
}

export type KnownCheckpoint = {
  site: string;
  checkpoint: string;
  state: string;
};

/** The checkpoints known from a status message (the `checkpoints` table). */
export async function knownCheckpoints(db: Queryable, site?: string): Promise<KnownCheckpoint[]> {
  return db.query<KnownCheckpoint>(
    `SELECT site, checkpoint, state FROM checkpoints ${site === undefined ? '' : 'WHERE site = $1'} ORDER BY site, checkpoint`,
    site === undefined ? [] : [site],
  );
}

/** Sites with an approval or crew (live or not): the ones the sync looks at. */
export async function sitesWithEntries(db: Queryable): Promise<string[]> {
  const rows = await db.query<{ site: string }>('SELECT site FROM office_approvals UNION SELECT site FROM office_crews ORDER BY site');
  return rows.map((r) => r.site);
}

export interface LiveEntry {
  id: string;
  /** null = every checkpoint of the site. */
  checkpoints: string[] | null;
  /** The gateway's entry, as pushed. */
  entry: Approval | CrewRegistration;
}

/** Unrevoked, unexpired entries of a site, by id. */
export async function liveEntries(db: Queryable, kind: VisitorKind, site: string, now: number): Promise<LiveEntry[]> {
  const rows = await db.query<{ id: string; checkpoints: string[] | null; entry: unknown }>(
    `SELECT id, checkpoints, entry FROM ${TABLE[kind]} WHERE site = $1 AND revoked_at IS NULL AND valid_until > $2 ORDER BY id`,
    [site, iso(new Date(now))],
  );
  return rows.map((r) => ({ id: r.id, checkpoints: r.checkpoints, entry: (typeof r.entry === 'string' ? JSON.parse(r.entry) : r.entry) as LiveEntry['entry'] }));
}

/** The ids the newest push of `kind` carried, per checkpoint of the site. */
export async function lastPushed(db: Queryable, kind: VisitorKind, site: string): Promise<Map<string, string[]>> {
  const rows = await db.query<{ checkpoint: string; entry_ids: string[] }>(
    'SELECT DISTINCT ON (checkpoint) checkpoint, entry_ids FROM visitor_pushes WHERE site = $1 AND kind = $2 ORDER BY checkpoint, version DESC, id DESC',
    [site, kind],
  );
  return new Map(rows.map((r) => [r.checkpoint, r.entry_ids]));
}

export interface VisitorPush {
  site: string;
  checkpoint: string;
  kind: VisitorKind;
  version: number;
  transaction: string;
  entryIds: string[];
  pushedBy: string;
  at: number;
}

export async function recordVisitorPush(db: Queryable, p: VisitorPush): Promise<void> {
  await db.query(
    'INSERT INTO visitor_pushes (site, checkpoint, kind, version, transaction, entry_ids, pushed_by, pushed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
    [p.site, p.checkpoint, p.kind, p.version, p.transaction, p.entryIds, p.pushedBy, iso(new Date(p.at))],
  );
}

// ---- the list the page shows -------------------------------------------------------

/**
 * One gateway's state for one entry. For an entry not revoked: `confirmed` (the gateway
 * applied the newest push that carried it), `rejected` (it refused that push: errorCode),
 * `waiting` (no answer yet), `unsent` (no push carried it there yet). For a revoked one,
 * about the push that took it out: `removed` (applied), `rejected`, `waiting`, `unsent`.
 */
export interface GatewayState {
  checkpoint: string;
  state: 'confirmed' | 'rejected' | 'waiting' | 'unsent' | 'removed';
  errorCode: string | null;
  /** The push's version (null when unsent). */
  version: number | null;
  /** When the gateway answered. */
  at: string | null;
}

export type EntryStatus = 'active' | 'upcoming' | 'expired' | 'revoked';

interface Common {
  id: string;
  site: string;
  status: EntryStatus;
  validFrom: string;
  validUntil: string;
  /** null = every checkpoint of the site. */
  checkpoints: string[] | null;
  createdBy: string;
  createdAt: string;
  revokedBy: string | null;
  revokedAt: string | null;
  gateways: GatewayState[];
}

export interface ApprovalRow extends Common {
  /** The visitor's id, masked (first 2 and last 2 characters). */
  subject: string;
  /** The visitor's name, masked (first character), when the office recorded one. */
  name: string | null;
  pseudonym: string | null;
  approver: string;
  hostDepartment: string;
  maxUses: number | null;
}

export interface CrewRow extends Common {
  responsible: string;
  members: number;
  itinerary: ItineraryStop[];
}

/** 110101199001011234 → 11**************34; short ids are all stars. */
export function maskId(s: string): string {
  const chars = [...s];
  if (chars.length <= 4) return '*'.repeat(chars.length);
  return `${chars.slice(0, 2).join('')}${'*'.repeat(chars.length - 4)}${chars.slice(-2).join('')}`;
}

/** 王小明 → 王**. */
export function maskName(s: string): string {
  const chars = [...s];
  return chars.length <= 1 ? '*' : `${chars[0]}${'*'.repeat(chars.length - 1)}`;
}

type Answer = { status: string | null; error_code: string | null; received_at: Date | string | null };
// The gateway's answer to one push: "applied" wins over a later repeat answered stale.
const ANSWER = `LEFT JOIN LATERAL (
    SELECT r.status, r.error_code, r.received_at FROM update_responses r
     WHERE r.site = p.site AND r.checkpoint = p.checkpoint AND r.kind = p.kind AND r.transaction = p.transaction
     ORDER BY (r.status = 'applied') DESC, r.received_at DESC LIMIT 1) a ON true`;

function answered(a: Answer, applied: GatewayState['state']): Pick<GatewayState, 'state' | 'errorCode' | 'at'> {
  if (a.status === null) return { state: 'waiting', errorCode: null, at: null };
  if (a.status === 'applied') return { state: applied, errorCode: null, at: isoOrNull(a.received_at) };
  return { state: 'rejected', errorCode: a.error_code, at: isoOrNull(a.received_at) };
}

interface EntryBase {
  id: string;
  site: string;
  checkpoints: string[] | null;
  revoked: boolean;
}

/** Per entry, the state at each gateway it concerns (see GatewayState). */
async function gatewayStates(db: Queryable, kind: VisitorKind, entries: readonly EntryBase[]): Promise<Map<string, GatewayState[]>> {
  const out = new Map<string, GatewayState[]>();
  if (entries.length === 0) return out;
  const ids = entries.map((e) => e.id);
  const sites = [...new Set(entries.map((e) => e.site))];
  // The newest push that carried each entry, per checkpoint, with its answer.
  const carried = await db.query<{ entry_id: string; checkpoint: string; version: number } & Answer>(
    `SELECT p.entry_id, p.checkpoint, p.version, a.status, a.error_code, a.received_at FROM (
       SELECT DISTINCT ON (e.id, v.checkpoint) e.id AS entry_id, v.site, v.checkpoint, v.kind, v.version, v.transaction
         FROM visitor_pushes v CROSS JOIN LATERAL unnest(v.entry_ids) AS e(id)
        WHERE v.kind = $1 AND v.entry_ids && $2::text[] AND e.id = ANY($2::text[])
        ORDER BY e.id, v.checkpoint, v.version DESC, v.id DESC) p
     ${ANSWER}`,
    [kind, ids],
  );
  // The newest push per checkpoint (for revoked entries: did it take the entry out?).
  const newest = await db.query<{ site: string; checkpoint: string; version: number; entry_ids: string[] } & Answer>(
    `SELECT p.site, p.checkpoint, p.version, p.entry_ids, a.status, a.error_code, a.received_at FROM (
       SELECT DISTINCT ON (site, checkpoint) * FROM visitor_pushes WHERE kind = $1 AND site = ANY($2::text[])
        ORDER BY site, checkpoint, version DESC, id DESC) p
     ${ANSWER}`,
    [kind, sites],
  );
  const known = await db.query<{ site: string; checkpoint: string }>('SELECT site, checkpoint FROM checkpoints WHERE site = ANY($1::text[])', [sites]);
  const bySite = new Map<string, string[]>();
  for (const k of known) bySite.set(k.site, [...(bySite.get(k.site) ?? []), k.checkpoint]);
  const carriedBy = new Map<string, Map<string, (typeof carried)[number]>>();
  for (const c of carried) {
    const m = carriedBy.get(c.entry_id) ?? new Map<string, (typeof carried)[number]>();
    m.set(c.checkpoint, c);
    carriedBy.set(c.entry_id, m);
  }
  const newestAt = new Map(newest.map((n) => [`${n.site}/${n.checkpoint}`, n]));
  for (const e of entries) {
    const pushes = carriedBy.get(e.id) ?? new Map<string, (typeof carried)[number]>();
    let scope: string[];
    if (e.revoked) scope = [...pushes.keys()];
    else scope = [...new Set([...(e.checkpoints ?? bySite.get(e.site) ?? []), ...pushes.keys()])];
    const states = scope.sort().map((cp): GatewayState => {
      const c = pushes.get(cp);
      if (!e.revoked) {
        return c === undefined ? { checkpoint: cp, state: 'unsent', errorCode: null, version: null, at: null } : { checkpoint: cp, version: c.version, ...answered(c, 'confirmed') };
      }
      const n = newestAt.get(`${e.site}/${cp}`);
      if (n === undefined || n.entry_ids.includes(e.id)) return { checkpoint: cp, state: 'unsent', errorCode: null, version: null, at: null };
      return { checkpoint: cp, version: n.version, ...answered(n, 'removed') };
    });
    out.set(e.id, states);
  }
  return out;
}

function statusOf(r: { revoked_at: unknown; valid_from: Date | string; valid_until: Date | string }, now: number): EntryStatus {
  if (r.revoked_at !== null) return 'revoked';
  if (new Date(r.valid_until).getTime() <= now) return 'expired';
  return new Date(r.valid_from).getTime() > now ? 'upcoming' : 'active';
}

type RowCommon = {
  id: string;
  site: string;
  valid_from: Date | string;
  valid_until: Date | string;
  checkpoints: string[] | null;
  created_by: string;
  created_at: Date | string;
  revoked_by: string | null;
  revoked_at: Date | string | null;
};

function common(r: RowCommon, now: number, gateways: Map<string, GatewayState[]>): Common {
  return {
    id: r.id,
    site: r.site,
    status: statusOf(r, now),
    validFrom: iso(r.valid_from),
    validUntil: iso(r.valid_until),
    checkpoints: r.checkpoints,
    createdBy: r.created_by,
    createdAt: iso(r.created_at),
    revokedBy: r.revoked_by,
    revokedAt: isoOrNull(r.revoked_at),
    gateways: gateways.get(r.id) ?? [],
  };
}

/** Live entries and those that ended in the last 7 days, newest first, with each gateway's state. */
export async function visitorsList(db: Queryable, filter: { site?: string }, now: number): Promise<{ approvals: ApprovalRow[]; crews: CrewRow[] }> {
  const since = iso(new Date(now - ENDED_SHOWN_MS));
  const where = `(revoked_at IS NULL AND valid_until > $1 OR revoked_at > $1) ${filter.site === undefined ? '' : 'AND site = $2'}`;
  const params = filter.site === undefined ? [since] : [since, filter.site];
  const a = await db.query<RowCommon & { subject_id: string; subject_name: string | null; pseudonym: string | null; approver: string; host_department: string; max_uses: number | null }>(
    `SELECT * FROM office_approvals WHERE ${where} ORDER BY created_at DESC, id LIMIT ${LIST_LIMIT}`,
    params,
  );
  const c = await db.query<RowCommon & { responsible: string; members: string[]; itinerary: unknown }>(
    `SELECT * FROM office_crews WHERE ${where} ORDER BY created_at DESC, id LIMIT ${LIST_LIMIT}`,
    params,
  );
  const base = (r: RowCommon): EntryBase => ({ id: r.id, site: r.site, checkpoints: r.checkpoints, revoked: r.revoked_at !== null });
  const ga = await gatewayStates(db, 'approvals', a.map(base));
  const gc = await gatewayStates(db, 'crews', c.map(base));
  return {
    approvals: a.map((r) => ({
      ...common(r, now, ga),
      subject: maskId(r.subject_id),
      name: r.subject_name === null ? null : maskName(r.subject_name),
      pseudonym: r.pseudonym,
      approver: r.approver,
      hostDepartment: r.host_department,
      maxUses: r.max_uses,
    })),
    crews: c.map((r) => ({
      ...common(r, now, gc),
      responsible: r.responsible,
      members: r.members.length,
      itinerary: (typeof r.itinerary === 'string' ? JSON.parse(r.itinerary) : r.itinerary) as ItineraryStop[],
    })),
  };
}
