// What the office published (kind, version, target): the overview's "latest published"
// against which each checkpoint's applied versions are compared.
import type { Queryable } from '../db/adapter.js';

export const ALL_CHECKPOINTS = 'all';

export interface Publication {
  site: string;
  /** A checkpoint id, or "all". */
  target: string;
  kind: string;
  version: number;
  transaction?: string | null;
  /** The officer (or CLI user) who published it. */
  publishedBy?: string | null;
  /** Epoch ms. */
  at: number;
}

/** Records one publication; the same (site, target, kind, version) again is a no-op. Returns whether it was new. */
export async function recordPublication(db: Queryable, p: Publication): Promise<boolean> {
  const rows = await db.query(
    `INSERT INTO published_updates (site, target, kind, version, transaction, published_by, published_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (site, target, kind, version) DO NOTHING RETURNING 1`,
    [p.site, p.target, p.kind, p.version, p.transaction ?? null, p.publishedBy ?? null, new Date(p.at).toISOString()],
  );
  return rows.length > 0;
}

export interface LatestPublished {
  site: string;
  target: string;
  kind: string;
  version: number;
  publishedAt: string;
}

/** The highest version published per (site, target, kind). */
export async function latestPublications(db: Queryable): Promise<LatestPublished[]> {
  const rows = await db.query<{ site: string; target: string; kind: string; version: number; published_at: Date | string }>(
    `SELECT DISTINCT ON (site, target, kind) site, target, kind, version, published_at
       FROM published_updates ORDER BY site, target, kind, version DESC`,
  );
  return rows.map((r) => ({ site: r.site, target: r.target, kind: r.kind, version: Number(r.version), publishedAt: new Date(r.published_at).toISOString() }));
}

/** The latest version of `kind` that applies to a checkpoint: published to it by name or to "all" of its site. */
export function latestFor(pubs: readonly LatestPublished[], site: string, checkpoint: string, kind: string): number | null {
  let best: number | null = null;
  for (const p of pubs) {
    if (p.site !== site || p.kind !== kind || (p.target !== checkpoint && p.target !== ALL_CHECKPOINTS)) continue;
    if (best === null || p.version > best) best = p.version;
  }
  return best;
}
