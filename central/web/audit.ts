// officer_audit: one row per state-changing action of the console and of `central officers`.
import type { Queryable } from '../db/adapter.js';

export type AuditAction =
  | 'sign-in'
  | 'sign-in-failed'
  | 'lockout'
  | 'sign-out'
  | 'officer-added'
  | 'officer-removed'
  | 'alerts-acked'
  | 'visitor-approval-created'
  | 'visitor-approval-revoked'
  | 'crew-registered'
  | 'crew-revoked'
  | 'roster-imported'
  | 'screening-exported';

export interface AuditEntry {
  at: number;
  officerId: string;
  action: AuditAction;
  /** The client address, or "cli:<user>" for the command line. */
  client: string;
  detail?: Record<string, unknown>;
}

export async function audit(db: Queryable, e: AuditEntry): Promise<void> {
  await db.query('INSERT INTO officer_audit (at, officer_id, action, client, detail) VALUES ($1, $2, $3, $4, $5)', [
    new Date(e.at),
    e.officerId.slice(0, 64),
    e.action,
    e.client,
    JSON.stringify(e.detail ?? {}),
  ]);
}

export interface AuditRow {
  at: string;
  officerId: string;
  action: AuditAction;
  client: string;
  detail: Record<string, unknown>;
}

export async function recentAudit(db: Queryable, limit = 100): Promise<AuditRow[]> {
  const rows = await db.query<{ at: unknown; officer_id: string; action: AuditAction; client: string; detail: unknown }>(
    'SELECT at, officer_id, action, client, detail FROM officer_audit ORDER BY id DESC LIMIT $1',
    [limit],
  );
  return rows.map((r) => ({
    at: new Date(r.at as string | Date).toISOString(),
    officerId: r.officer_id,
    action: r.action,
    client: r.client,
    detail: (typeof r.detail === 'string' ? JSON.parse(r.detail) : r.detail) as Record<string, unknown>,
  }));
}
