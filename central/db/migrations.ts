// Versioned schema of the office database, as SQL strings: each applied once, in order,
// in its own transaction together with its schema_migrations row, identically on
// PostgreSQL and PGlite. Never edit an applied migration; add the next one.
import { CentralError } from '../errors.js';
import type { Db } from './adapter.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'ingest: checkpoints, events, alerts, stats, screening, responses, conflicts, rejected',
    sql: `
-- Current state of each checkpoint, from its retained status (birth / last will).
CREATE TABLE checkpoints (
  site        text NOT NULL,
  checkpoint  text NOT NULL,
  state       text NOT NULL CHECK (state IN ('online', 'offline')),
  session     bigint NOT NULL,
  cause       text,
  status      jsonb NOT NULL,
  status_at   timestamptz,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (site, checkpoint)
);
CREATE TABLE checkpoint_status_history (
  site         text NOT NULL,
  checkpoint   text NOT NULL,
  session      bigint NOT NULL,
  state        text NOT NULL,
  cause        text,
  -- The message's own time ('' for a will, which has none): with session and state it
  -- names one status message, so a retained copy received again is not a new row.
  at_key       text NOT NULL,
  status       jsonb NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (site, checkpoint, session, state, at_key)
);

-- Dedupe by event id across partitions: a partitioned table's unique keys must include
-- the partition column, so the id's one-and-only row lives here (not partitioned).
-- seq is kept here too: the gap detector reads this narrow table, not the partitions.
CREATE TABLE event_keys (
  id            uuid PRIMARY KEY,
  site          text NOT NULL,
  checkpoint    text NOT NULL,
  seq           bigint NOT NULL,
  at            timestamptz NOT NULL,
  content_hash  text NOT NULL
);
CREATE INDEX event_keys_checkpoint_seq ON event_keys (site, checkpoint, seq);

CREATE TABLE events (
  id           uuid NOT NULL,
  site         text NOT NULL,
  checkpoint   text NOT NULL,
  seq          bigint NOT NULL,
  at           timestamptz NOT NULL,
  lane         text NOT NULL,
  kind         text NOT NULL,
  outcome      text NOT NULL,
  reasons      text[] NOT NULL,
  credential   text NOT NULL,
  subject      text,
  category     text,
  temperature  double precision,
  historical   boolean NOT NULL DEFAULT false,
  payload      jsonb NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now()
  -- No primary key here: event_keys holds the one row per id (a key on (id, at) would
  -- only repeat that check, at the price of one more random-uuid index write per row).
  -- A lookup by id reads event_keys for the time, then this table by its time index.
) PARTITION BY RANGE (at);
CREATE INDEX events_checkpoint_at ON events (site, checkpoint, at);
CREATE INDEX events_subject_at ON events (subject, at) WHERE subject IS NOT NULL;
CREATE INDEX events_at ON events (at);
-- "which passages were refused for FEVER on day D": GIN on the codes, time index for the day.
CREATE INDEX events_reasons ON events USING gin (reasons);

CREATE TABLE alert_keys (
  id            uuid PRIMARY KEY,
  at            timestamptz NOT NULL,
  content_hash  text NOT NULL
);
CREATE TABLE alerts (
  id           uuid NOT NULL,
  site         text NOT NULL,
  checkpoint   text NOT NULL,
  at           timestamptz NOT NULL,
  lane         text,
  kind         text NOT NULL,
  severity     text NOT NULL,
  code         text NOT NULL,
  event_id     text,  -- the schema allows any string here, so no uuid cast that could refuse one
  detail       text,
  historical   boolean NOT NULL DEFAULT false,
  payload      jsonb NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
CREATE INDEX alerts_checkpoint_at ON alerts (site, checkpoint, at);
CREATE INDEX alerts_code_at ON alerts (code, at);
CREATE INDEX alerts_kind_at ON alerts (kind, at);

CREATE TABLE stats (
  site         text NOT NULL,
  checkpoint   text NOT NULL,
  at           timestamptz NOT NULL,
  payload      jsonb NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (site, checkpoint, at)
);

CREATE TABLE daily_screening (
  site          text NOT NULL,
  checkpoint    text NOT NULL,
  date          date NOT NULL,
  workers       integer NOT NULL,
  screened      integer NOT NULL,
  not_screened  integer NOT NULL,
  payload       jsonb NOT NULL,
  received_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (site, checkpoint, date)
);

CREATE TABLE update_responses (
  site          text NOT NULL,
  checkpoint    text NOT NULL,
  kind          text NOT NULL,
  transaction   text NOT NULL,  -- '' when the gateway could not read it
  version       bigint NOT NULL, -- -1 when the gateway could not read it
  status        text NOT NULL,
  error_code    text,
  payload       jsonb NOT NULL,
  received_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (site, checkpoint, kind, transaction, version, status)
);

-- Same id, different content (ignoring the transport flag historical): kept aside,
-- the first row is never overwritten.
CREATE TABLE integrity_conflicts (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  message_kind   text NOT NULL,
  message_id     uuid NOT NULL,
  topic          text NOT NULL,
  stored_hash    text NOT NULL,
  received_hash  text NOT NULL,
  payload        jsonb NOT NULL,
  received_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (message_id, received_hash)
);

CREATE TABLE rejected_messages (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  topic        text NOT NULL,
  reason       text NOT NULL,
  payload      text NOT NULL,
  bytes        integer NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now()
);
`,
  },
  {
    version: 2,
    name: 'gap repair: per-checkpoint watermark and resend requests',
    sql: `
CREATE TABLE seq_watermarks (
  site             text NOT NULL,
  checkpoint       text NOT NULL,
  -- Every seq 1..contiguous is in event_keys.
  contiguous       bigint NOT NULL DEFAULT 0,
  -- The open gap after it, if any, and since when it has been open.
  gap_from         bigint,
  gap_to           bigint,
  gap_since        timestamptz,
  last_request_at  timestamptz,
  PRIMARY KEY (site, checkpoint)
);
CREATE TABLE resend_requests (
  transaction   text PRIMARY KEY,
  site          text NOT NULL,
  checkpoint    text NOT NULL,
  from_seq      bigint NOT NULL,
  to_seq        bigint NOT NULL,
  version       bigint NOT NULL,
  requested_at  timestamptz NOT NULL DEFAULT now(),
  instance      text NOT NULL,
  answered_at   timestamptz,
  status        text,
  resent        integer,
  last_seq      bigint,
  error_code    text
);
CREATE INDEX resend_requests_checkpoint ON resend_requests (site, checkpoint, requested_at);
`,
  },
  {
    version: 3,
    name: 'gap repair at the tail: the highest seq a gateway reported (stats, resend answers)',
    sql: `
-- Seqs up to here exist at the gateway: expected even when no later event reveals the hole.
ALTER TABLE seq_watermarks ADD COLUMN reported_seq bigint NOT NULL DEFAULT 0;
`,
  },
  {
    version: 4,
    name: 'office console: officer accounts, sessions, audit',
    sql: `
CREATE TABLE officers (
  id            text PRIMARY KEY,
  name          text NOT NULL,
  role          text NOT NULL CHECK (role IN ('viewer', 'duty-leader', 'admin')),
  secret_hash   text NOT NULL,
  -- Sign-in attempts since the last success, each counted before its scrypt check.
  failures      integer NOT NULL DEFAULT 0,
  locked_until  timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now()
);
-- The cookie holds a random token; only its SHA-256 is stored, so a copy of the table signs nobody in.
CREATE TABLE officer_sessions (
  token_hash    text PRIMARY KEY,
  officer_id    text NOT NULL REFERENCES officers (id) ON DELETE CASCADE,
  csrf_token    text NOT NULL,
  created_at    timestamptz NOT NULL,
  last_seen_at  timestamptz NOT NULL,
  expires_at    timestamptz NOT NULL
);
CREATE INDEX officer_sessions_officer ON officer_sessions (officer_id);
-- Every state-changing action; officer_id is the account acted on or by (as typed for an unknown id).
CREATE TABLE officer_audit (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at          timestamptz NOT NULL,
  officer_id  text NOT NULL,
  action      text NOT NULL,
  client      text NOT NULL,
  detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX officer_audit_at ON officer_audit (at);
CREATE INDEX officer_audit_officer_at ON officer_audit (officer_id, at);
`,
  },
  {
    version: 5,
    name: 'console: alert acknowledgement, published updates, newest-alerts index',
    sql: `
-- Who acknowledged an alert and when: set once (UPDATE … WHERE acked_by IS NULL), so a
-- second acknowledgement never overwrites the first officer.
ALTER TABLE alerts ADD COLUMN acked_by text;
ALTER TABLE alerts ADD COLUMN acked_at timestamptz;
-- The inbox reads the newest alerts across checkpoints: by time, not by checkpoint.
CREATE INDEX alerts_at ON alerts (at);
-- What the office published, per kind and target: the overview compares each
-- checkpoint's applied version (its birth's "updates") with the latest here.
CREATE TABLE published_updates (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  site          text NOT NULL,
  target        text NOT NULL,  -- a checkpoint id, or 'all'
  kind          text NOT NULL,
  version       bigint NOT NULL,
  transaction   text,
  published_by  text,
  published_at  timestamptz NOT NULL,
  UNIQUE (site, target, kind, version)
);
`,
  },
  {
    version: 6,
    name: 'console: the office roster',
    sql: `
-- The site roster the office holds (imported on the console, pushed signed as the
-- roster update kind). pseudonym = the site's keyed pseudonym of staff_id (sites.<site>
-- in the config), computed at import: the daily screening and contact tracing join it
-- to events.subject. department and team stay at the office (never pushed).
CREATE TABLE office_roster (
  site          text NOT NULL,
  staff_id      text NOT NULL,
  name          text NOT NULL,
  category      text NOT NULL,
  department    text,
  team          text,
  active        boolean NOT NULL,
  pseudonym     text,
  entry         jsonb NOT NULL,  -- the gateway's RosterEntry, as pushed
  updated_at    timestamptz NOT NULL,
  updated_by    text,
  PRIMARY KEY (site, staff_id)
);
CREATE INDEX office_roster_pseudonym ON office_roster (pseudonym) WHERE pseudonym IS NOT NULL;
`,
  },
  {
    version: 8,
    name: 'console: visitor approvals, contractor crews and the per-checkpoint pushes that carried them',
    sql: `
-- Visitor approvals the epidemic office made. entry = the gateway's Approval exactly as
-- pushed (id, subjectId, approver, hostDepartment, validFrom, validUntil, checkpoints?,
-- maxUses?). subject_name stays at the office (never pushed); pseudonym = the site's
-- keyed pseudonym of subject_id (what the gateways' events carry), when the office holds
-- the site's secret. checkpoints NULL = every checkpoint of the site.
CREATE TABLE office_approvals (
  id               text PRIMARY KEY,
  site             text NOT NULL,
  subject_id       text NOT NULL,
  subject_name     text,
  pseudonym        text,
  approver         text NOT NULL,
  host_department  text NOT NULL,
  valid_from       timestamptz NOT NULL,
  valid_until      timestamptz NOT NULL,
  max_uses         integer,
  checkpoints      text[],
  entry            jsonb NOT NULL,
  created_by       text NOT NULL,
  created_at       timestamptz NOT NULL,
  revoked_by       text,
  revoked_at       timestamptz
);
CREATE INDEX office_approvals_site_until ON office_approvals (site, valid_until);
-- Contractor crews registered with the office. entry = the gateway's CrewRegistration as
-- pushed. checkpoints (office only: a registration names none) limits where it is pushed;
-- NULL = every checkpoint of the site.
CREATE TABLE office_crews (
  id           text PRIMARY KEY,
  site         text NOT NULL,
  responsible  text NOT NULL,
  members      text[] NOT NULL,
  valid_from   timestamptz NOT NULL,
  valid_until  timestamptz NOT NULL,
  itinerary    jsonb NOT NULL,
  checkpoints  text[],
  entry        jsonb NOT NULL,
  created_by   text NOT NULL,
  created_at   timestamptz NOT NULL,
  revoked_by   text,
  revoked_at   timestamptz
);
CREATE INDEX office_crews_site_until ON office_crews (site, valid_until);
-- Every approvals / crews set the office pushed to one checkpoint (these kinds replace the
-- whole set at a gateway, so each push carries the full set for that checkpoint):
-- entry_ids = the ids it carried. The gateway's answer is in update_responses under
-- (site, checkpoint, kind, transaction).
CREATE TABLE visitor_pushes (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  site         text NOT NULL,
  checkpoint   text NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('approvals', 'crews')),
  version      bigint NOT NULL,
  transaction  text NOT NULL,
  entry_ids    text[] NOT NULL,
  pushed_by    text NOT NULL,
  pushed_at    timestamptz NOT NULL
);
CREATE INDEX visitor_pushes_checkpoint ON visitor_pushes (site, checkpoint, kind, version);
CREATE INDEX visitor_pushes_entries ON visitor_pushes USING gin (entry_ids);
`,
  },
  {
    version: 9,
    name: 'console: contact-tracing queries, append-only',
    sql: `
-- Every contact-tracing query and export of the console: who asked, when, from where,
-- why, what, and how many rows it returned. Written in the same statement that reads
-- the results (central/console/tracing.ts), so no result leaves without its row.
CREATE TABLE trace_queries (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at          timestamptz NOT NULL,
  officer_id  text NOT NULL,  -- no foreign key: the row outlives the account
  role        text NOT NULL,
  client      text NOT NULL,
  reason      text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  export      boolean NOT NULL,  -- true: the CSV export, itself a query
  site        text NOT NULL,
  staff_id    text NOT NULL,
  subject     text NOT NULL,     -- the pseudonym the staff id maps to at that site
  from_at     timestamptz NOT NULL,
  to_at       timestamptz NOT NULL,
  minutes     integer NOT NULL,
  passages    integer NOT NULL,
  contacts    integer NOT NULL,  -- (passage, other person) rows
  people      integer NOT NULL,  -- distinct other persons
  truncated   boolean NOT NULL
);
-- The audit page lists newest first, paged by (at, id).
CREATE INDEX trace_queries_at ON trace_queries (at DESC, id DESC);
-- Append-only: no console route updates or deletes, and the database refuses it too.
CREATE FUNCTION trace_queries_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION 'trace_queries is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$fn$;
CREATE TRIGGER trace_queries_no_update_delete BEFORE UPDATE OR DELETE ON trace_queries
  FOR EACH ROW EXECUTE FUNCTION trace_queries_append_only();
CREATE TRIGGER trace_queries_no_truncate BEFORE TRUNCATE ON trace_queries
  FOR EACH STATEMENT EXECUTE FUNCTION trace_queries_append_only();
`,
  },
  {
    version: 10,
    name: 'charts: refused passages by time',
    sql: `
-- The refusals chart reads only refused passages (a few per cent of events) over up to 90
-- days: a partial index with what it needs answers it without touching the admitted rows.
CREATE INDEX events_refused_at ON events (at) INCLUDE (site, reasons) WHERE outcome = 'refuse';
`,
  },
  {
    version: 12,
    name: 'ledger chain check: the chain head each checkpoint reported last, how far the stats were read',
    sql: `
-- The head of each checkpoint's ledger hash chain (…/stats chain) received last, by the
-- office's clock: the one a later head must not fall behind (central/chain-check.ts).
CREATE TABLE chain_heads (
  site         text NOT NULL,
  checkpoint   text NOT NULL,
  seq          bigint NOT NULL,
  hash         text NOT NULL,
  at           timestamptz NOT NULL,
  received_at  timestamptz NOT NULL,
  PRIMARY KEY (site, checkpoint)
);
-- The last stats row checked, in the order the check reads them (one row).
CREATE TABLE chain_check_state (
  id           boolean PRIMARY KEY DEFAULT true CHECK (id),
  received_at  timestamptz NOT NULL,
  site         text NOT NULL,
  checkpoint   text NOT NULL,
  at           timestamptz NOT NULL
);
-- The check reads the stats received since its last run, and the stats of one chain seq
-- (two hashes for one seq: a rebuilt ledger), each by an index.
CREATE INDEX stats_received_at ON stats (received_at);
CREATE INDEX stats_chain_seq ON stats (site, checkpoint, ((payload->'chain'->>'seq')::bigint)) WHERE payload ? 'chain';
`,
  },
];

/** Applies the migrations not yet applied; returns their versions. Safe to run from two instances at once. */
export async function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  await db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  const applied: number[] = [];
  for (const m of migrations) {
    try {
      const done = await db.transaction(async (tx) => {
        // Two instances starting together: the second waits here, then sees the row.
        await tx.query('SELECT pg_advisory_xact_lock(727400001)');
        const rows = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [m.version]);
        if (rows.length > 0) return false;
        await tx.exec(m.sql);
        await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
        return true;
      });
      if (done) applied.push(m.version);
    } catch (err) {
      throw new CentralError('CENTRAL_MIGRATION_FAILED', `migration ${m.version} (${m.name}): ${(err as Error).message}`, { cause: err });
    }
  }
  return applied;
}
