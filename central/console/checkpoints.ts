// The checkpoints overview (issue 12, item 2): one row per known checkpoint with its
// connection state by session (the writer already resolves birth vs stale wills into
// `checkpoints`), the facts of its latest birth, its outbox depth and last event, and
// per pushed update kind the version it applied against the latest the office published.
import type { Queryable } from '../db/adapter.js';
import { latestFor, latestPublications } from './published.js';

export interface DeviceState {
  name: string;
  type: string | null;
  state: string | null;
}

export interface LaneState {
  id: string;
  state: string | null;
  devices: DeviceState[];
  /** Present when the lane checks no health (access control only), from its birth entry. */
  accessOnly?: true;
}

export interface UpdateState {
  kind: string;
  /** From the birth's `updates` map (0 = never applied). */
  applied: number | null;
  /** The latest version the office published to this checkpoint (by name or "all"); null = none recorded. */
  published: number | null;
  outOfDate: boolean;
}

export interface CheckpointOverviewRow {
  site: string;
  checkpoint: string;
  /** `unknown`: events seen, but no status message yet. */
  state: 'online' | 'offline' | 'unknown';
  session: number | null;
  /** Why offline (`lost`, `stopped`), from the will or stop message. */
  cause: string | null;
  /** When the current state began (ISO): the session's first birth, or when the will arrived. */
  since: string | null;
  /** ms in the current state at `now`. */
  forMs: number | null;
  version: string | null;
  configHash: string | null;
  /** policy.healthChecks as its latest birth says; null = not said (a gateway from before the switch). */
  healthChecks: 'on' | 'off' | null;
  lanes: LaneState[];
  /** From the newest stats message. */
  outboxDepth: number | null;
  statsAt: string | null;
  lastEventAt: string | null;
  updates: UpdateState[];
}

export interface OverviewFilter {
  site?: string;
}

type Raw = {
  site: string;
  checkpoint: string;
  state: string | null;
  session: number | null;
  cause: string | null;
  since: Date | string | null;
  birth: Record<string, unknown> | null;
  outbox_depth: unknown;
  stats_at: Date | string | null;
  last_event_at: Date | string | null;
};

// Every lookup is one index probe per checkpoint (history by its key, stats by its key,
// events by events_checkpoint_at per partition), so the page stays flat as events grow.
const OVERVIEW_SQL = `
WITH known AS (
  SELECT site, checkpoint FROM checkpoints
  UNION SELECT site, checkpoint FROM seq_watermarks)
SELECT k.site, k.checkpoint, c.state, c.session, c.cause,
  (SELECT coalesce(min(nullif(h.at_key, '')::timestamptz), min(h.received_at))
     FROM checkpoint_status_history h
    WHERE h.site = k.site AND h.checkpoint = k.checkpoint AND h.session = c.session AND h.state = c.state) AS since,
  (SELECT h.status FROM checkpoint_status_history h
    WHERE h.site = k.site AND h.checkpoint = k.checkpoint AND h.state = 'online'
    ORDER BY h.session DESC, h.at_key DESC, h.received_at DESC LIMIT 1) AS birth,
  s.payload->'outboxDepth' AS outbox_depth, s.at AS stats_at,
  (SELECT max(e.at) FROM events e WHERE e.site = k.site AND e.checkpoint = k.checkpoint) AS last_event_at
FROM known k
LEFT JOIN checkpoints c ON c.site = k.site AND c.checkpoint = k.checkpoint
LEFT JOIN LATERAL (
  SELECT payload, at FROM stats st WHERE st.site = k.site AND st.checkpoint = k.checkpoint ORDER BY st.at DESC LIMIT 1) s ON true
WHERE ($1::text IS NULL OR k.site = $1)
ORDER BY k.site, k.checkpoint`;

const iso = (v: Date | string | null): string | null => (v === null ? null : new Date(v).toISOString());
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export async function checkpointsOverview(db: Queryable, filter: OverviewFilter, now: number): Promise<CheckpointOverviewRow[]> {
  const [rows, pubs] = await Promise.all([db.query<Raw>(OVERVIEW_SQL, [filter.site ?? null]), latestPublications(db)]);
  return rows.map((r) => {
    const birth = r.birth ?? {};
    const since = iso(r.since);
    const applied = isRecord(birth.updates) ? birth.updates : {};
    const kinds = new Set([...Object.keys(applied), ...pubs.filter((p) => p.site === r.site).map((p) => p.kind)]);
    const updates = [...kinds].sort().map((kind): UpdateState => {
      const a = applied[kind];
      const appliedVersion = typeof a === 'number' ? a : null;
      const published = latestFor(pubs, r.site, r.checkpoint, kind);
      return { kind, applied: appliedVersion, published, outOfDate: published !== null && (appliedVersion ?? 0) < published };
    });
    const state = r.state === 'online' || r.state === 'offline' ? r.state : 'unknown';
    return {
      site: r.site,
      checkpoint: r.checkpoint,
      state,
      session: r.session === null ? null : Number(r.session),
      cause: r.cause,
      since,
      forMs: since === null ? null : Math.max(0, now - Date.parse(since)),
      version: str(birth.version),
      configHash: str(birth.configHash),
      healthChecks: birth.healthChecks === 'on' || birth.healthChecks === 'off' ? birth.healthChecks : null,
      lanes: Array.isArray(birth.lanes) ? birth.lanes.filter(isRecord).map(toLane) : [],
      outboxDepth: typeof r.outbox_depth === 'number' ? r.outbox_depth : null,
      statsAt: iso(r.stats_at),
      lastEventAt: iso(r.last_event_at),
      updates,
    };
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function toLane(l: Record<string, unknown>): LaneState {
  const devices = isRecord(l.devices) ? l.devices : {};
  return {
    id: String(l.id),
    state: str(l.state),
    ...(l.healthChecks === 'off' ? { accessOnly: true as const } : {}),
    // By name: jsonb does not keep the gateway's key order.
    devices: Object.entries(devices).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, d]) => ({
      name,
      type: isRecord(d) ? str(d.type) : null,
      state: isRecord(d) ? str(d.state) : null,
    })),
  };
}
