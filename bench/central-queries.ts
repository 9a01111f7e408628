// Console queries over a large office database (issue 12: each page's data ≤ 300 ms over
// 10 million events). Fills a schema of its own on the local PostgreSQL in SQL
// (INSERT … SELECT generate_series: no client round trips, no extra package), then times
// each console query cold (its first run, on a fresh connection pool) and warm (repeats,
// parameters drawn from a small set), beside a raw baseline: count(*) of one day's events.
//
// The fill: N events over the 12 months before NOW, ~100 checkpoints, 20 000 pseudonyms,
// 2 % refused for FEVER; alerts = 1 % of N (five kinds, bursts at a checkpoint, some with a
// gateway `count`), stats every 10 min for the last 7 days, a birth per checkpoint with a
// few older sessions in the history, 90 online and 10 offline; for contact tracing, a crowd of 100 others within ±10 min of each
// of the traced persons' passages of the last 15 days. Payload columns hold `{}`:
// no console query reads them, and the real ~600-byte payloads would only slow the fill.
// event_keys/alert_keys (ingest dedupe) are not filled: no console query reads them.
// The office roster: 10 000 active workers in 20 departments × 5 teams, 9 000 of them with
// the pseudonyms the events carry (so each is screened most days) and 1 000 never seen,
// plus 500 inactive and 500 visitors the screening leaves out.
// "Cold" is cold for PostgreSQL's connection and plan caches only: the shared server is
// not restarted and the OS page cache not dropped (other work runs on this machine).
//
// Env: BENCH_QUERIES_EVENTS (10000000), BENCH_QUERIES_CHECKPOINTS (100),
// BENCH_QUERIES_REPEATS (30), BENCH_DATABASE_URL (postgres://postgres@127.0.0.1:5432/test),
// BENCH_QUERIES_KEEP=1 (keep the schema; its name is printed), BENCH_QUERIES_SCHEMA=<a kept
// schema> (time the queries on it again: no fill, and it is kept).
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { alertsInbox } from '../central/console/alerts.js';
import { chinaDate, feverAlertsPerDay, passagesPerHour, refusalsByReason } from '../central/console/charts.js';
import { checkpointsOverview } from '../central/console/checkpoints.js';
import { recordPublication } from '../central/console/published.js';
import { recordedTrace, traceLog } from '../central/console/tracing.js';
import { openDb, type Db } from '../central/db/adapter.js';
import { migrate } from '../central/db/migrations.js';
import { Partitions, addMonths, monthOf } from '../central/db/partitions.js';
import { rosterSummary } from '../central/console/roster.js';
import { dailyScreening } from '../central/console/screening.js';
import { newestEvents } from '../central/query.js';
import { screeningDayOf } from '../gateway/screening/report.js';
import { percentile } from './stats.js';

const env = process.env;
const int = (v: string | undefined, d: number): number => (v !== undefined && /^\d+$/.test(v) ? Number(v) : d);
const EVENTS = int(env.BENCH_QUERIES_EVENTS, 10_000_000);
const CHECKPOINTS = int(env.BENCH_QUERIES_CHECKPOINTS, 100);
const REPEATS = int(env.BENCH_QUERIES_REPEATS, 30);
const PG_URL = env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SUBJECTS = 20_000;
const TARGET_MS = 300;
const DAY = 86_400_000;
const SITE = 'mine-a';

/** The subjects the per-person queries look up (parameter sets k = 0…4). */
const TRACED = [0, 1, 2, 3, 4].map((k) => (k * 7919) % SUBJECTS);
const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

const cp = (i: number): string => `gate-${String(i).padStart(3, '0')}`;

async function timed(label: string, fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  const ms = performance.now() - t;
  console.log(`  fill: ${label.padEnd(44)} ${(ms / 1000).toFixed(1)} s`);
  return ms;
}

async function fill(db: Db, now: number): Promise<void> {
  const start = now - 365 * DAY;
  const months: string[] = [];
  for (let m = monthOf(start); m <= monthOf(now); m = addMonths(m, 1)) months.push(m);
  await new Partitions(db).ensure(months);
  const span = (now - start) / 1000; // seconds
  const t0 = performance.now();
  // Chunks of 1 M: each statement a bounded transaction, and progress on the terminal.
  const CHUNK = 1_000_000;
  for (let from = 0; from < EVENTS; from += CHUNK) {
    const to = Math.min(EVENTS, from + CHUNK) - 1;
    await timed(`events ${from}…${to}`, () =>
      db.query(
        `INSERT INTO events (id, site, checkpoint, seq, at, lane, kind, outcome, reasons, credential, subject, category, temperature, historical, payload)
         SELECT gen_random_uuid(), $1, 'gate-' || lpad((i % $2)::text, 3, '0'), i / $2 + 1,
                $3::timestamptz + make_interval(secs => i * $4::double precision),
                'in-' || (i % 3 + 1), 'decision',
                CASE WHEN i % 50 = 7 THEN 'refuse' ELSE 'admit' END,
                CASE WHEN i % 50 = 7 THEN ARRAY['FEVER'] ELSE ARRAY[]::text[] END,
                'health-pass', 'p1_' || substr(md5((i % $5)::text), 1, 22), 'employee',
                CASE WHEN i % 50 = 7 THEN 38.1 ELSE 36.4 + (i % 7) / 10.0 END, false, '{}'::jsonb
           FROM generate_series($6::bigint, $7::bigint) AS i`,
        [SITE, CHECKPOINTS, new Date(start).toISOString(), span / EVENTS, SUBJECTS, from, to],
      ),
    );
  }
  const alerts = Math.max(1, Math.round(EVENTS / 100));
  await timed(`alerts ${alerts}`, () =>
    db.query(
      `INSERT INTO alerts (id, site, checkpoint, at, lane, kind, severity, code, event_id, detail, historical, payload)
       SELECT gen_random_uuid(), $1, 'gate-' || lpad(((i / 4) % $2)::text, 3, '0'),
              -- bursts: runs of 4 at one checkpoint, a minute apart
              $3::timestamptz + make_interval(secs => (i / 4) * 4 * $4::double precision + (i % 4) * 60),
              'in-1', k.kind, k.severity, k.code, NULL, 'bench', false,
              CASE WHEN k.kind = 'update-rejected' THEN jsonb_build_object('count', 1 + i % 9) ELSE '{}'::jsonb END
         FROM generate_series(0, $5::bigint - 1) AS i
         CROSS JOIN LATERAL (SELECT (ARRAY['fever','device-down','tailgate','update-rejected','watchlist'])[1 + (i / 4) % 5] AS kind) kk
         CROSS JOIN LATERAL (SELECT kk.kind,
             CASE kk.kind WHEN 'fever' THEN 'critical' WHEN 'watchlist' THEN 'critical' WHEN 'device-down' THEN 'warning' WHEN 'tailgate' THEN 'warning' ELSE 'info' END AS severity,
             upper(replace(kk.kind, '-', '_')) AS code) k`,
      [SITE, CHECKPOINTS, new Date(start).toISOString(), span / alerts, alerts],
    ),
  );
  // Most of the older alerts were acknowledged long ago.
  await timed('acknowledge alerts older than 2 days', () =>
    db.query(`UPDATE alerts SET acked_by = 'officer-1', acked_at = at + interval '5 minutes' WHERE at < $1`, [new Date(now - 2 * DAY).toISOString()]),
  );
  await timed('stats every 10 min, last 7 days', () =>
    db.query(
      `INSERT INTO stats (site, checkpoint, at, payload)
       SELECT $1, 'gate-' || lpad(c::text, 3, '0'), $2::timestamptz - make_interval(mins => m * 10),
              jsonb_build_object('v', 1, 'outboxDepth', (c * m) % 13, 'lastSeq', 1000)
         FROM generate_series(0, $3::int - 1) AS c, generate_series(0, 7 * 144 - 1) AS m`,
      [SITE, new Date(now).toISOString(), CHECKPOINTS],
    ),
  );
  await timed('status history, checkpoints, watermarks', async () => {
    await db.query(
      `INSERT INTO checkpoint_status_history (site, checkpoint, session, state, cause, at_key, status, received_at)
       SELECT $1, 'gate-' || lpad(c::text, 3, '0'), s, st.state, CASE WHEN st.state = 'offline' THEN 'lost' END,
              CASE WHEN st.state = 'online' THEN to_char(($2::timestamptz - make_interval(days => 20 - s)) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') ELSE '' END,
              CASE WHEN st.state = 'online' THEN jsonb_build_object('v', 1, 'state', 'online', 'session', s, 'version', '0.3.' || (s % 3),
                     'configHash', 'sha256:' || md5(c::text), 'updates', jsonb_build_object('watchlist', 40 + s % 3, 'roster', 7, 'policy', 3),
                     'lanes', jsonb_build_array(jsonb_build_object('id', 'in-1', 'state', 'idle', 'devices', jsonb_build_object('scanner', jsonb_build_object('type', 'serial', 'state', 'connected')))))
                   ELSE jsonb_build_object('v', 1, 'state', 'offline', 'session', s, 'cause', 'lost') END,
              $2::timestamptz - make_interval(days => 20 - s)
         FROM generate_series(0, $3::int - 1) AS c, generate_series(1, 20) AS s,
              (VALUES ('online'), ('offline')) AS st(state)
        WHERE st.state = 'online' OR s < 20 OR c % 10 = 0`,
      [SITE, new Date(now).toISOString(), CHECKPOINTS],
    );
    await db.query(
      `INSERT INTO checkpoints (site, checkpoint, state, session, cause, status, status_at)
       SELECT DISTINCT ON (site, checkpoint) site, checkpoint, state, session, cause, status, nullif(at_key, '')::timestamptz
         FROM checkpoint_status_history ORDER BY site, checkpoint, session DESC, (state = 'offline') DESC`,
    );
    await db.query(`INSERT INTO seq_watermarks (site, checkpoint) SELECT site, checkpoint FROM checkpoints`);
    for (const [kind, version] of [['watchlist', 42], ['roster', 7], ['policy', 3]] as const) {
      await recordPublication(db, { site: SITE, target: 'all', kind, version, at: now - DAY });
    }
  });
  // Shift changes on the traced persons' lanes: 100 others (pseudonyms of the fill) within
  // ±10 min of each of their passages of the last 15 days, so a trace finds crowds (the
  // regular fill puts the next passage on a lane 300 events away, beyond ±15 min).
  await timed('crowds around the traced persons\' passages', () =>
    db.query(
      `INSERT INTO events (id, site, checkpoint, seq, at, lane, kind, outcome, reasons, credential, subject, category, temperature, historical, payload)
       SELECT gen_random_uuid(), e.site, e.checkpoint, 0, e.at + make_interval(secs => (g - 50) * 12), e.lane, 'decision', 'admit', ARRAY[]::text[],
              'health-pass', 'p1_' || substr(md5(((abs(hashtext(e.at::text)) + g * 197) % $3)::text), 1, 22), 'employee', 36.5, false, '{}'::jsonb
         FROM events e, generate_series(0, 99) AS g
        WHERE e.subject = ANY($1::text[]) AND e.at >= $2::timestamptz`,
      [TRACED.map((i) => `p1_${md5(String(i)).slice(0, 22)}`), new Date(now - 15 * DAY).toISOString(), SUBJECTS],
    ),
  );
  await timed('office roster 11 000 (10 000 active workers)', () =>
    db.query(
      `INSERT INTO office_roster (site, staff_id, name, category, department, team, active, pseudonym, entry, updated_at)
       SELECT $1, 'W-' || k, '工人' || k, CASE WHEN k >= 10500 THEN 'visitor' WHEN k % 2 = 0 THEN 'employee' ELSE 'contractor' END,
              '部门' || (k % 20), '班组' || (k % 5), k < 10000 OR k >= 10500,
              -- 0-8999: subjects of the events; 9000 on: never seen
              'p1_' || substr(md5((CASE WHEN k < 9000 THEN k ELSE $2::int + k END)::text), 1, 22), '{}'::jsonb, $3
         FROM generate_series(0, 10999) AS k`,
      [SITE, SUBJECTS, new Date(now).toISOString()],
    ),
  );
  await timed('VACUUM ANALYZE (what autovacuum would have done)', () =>
    // Only this schema's tables: a bare VACUUM would walk every schema of the shared database.
    // One statement each: VACUUM cannot run inside the implicit transaction of a multi-statement query.
    (async () => {
      for (const t of ['events', 'alerts', 'stats', 'checkpoint_status_history', 'checkpoints', 'seq_watermarks', 'published_updates', 'office_roster']) await db.exec(`VACUUM ANALYZE ${t}`);
    })(),
  );
  console.log(`  fill: total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

interface QueryCase {
  label: string;
  /** Runs once with parameter set `k` (k = 0 is the cold run). */
  run: (db: Db, k: number) => Promise<unknown>;
}

function cases(now: number): QueryCase[] {
  const day = (k: number): number => Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate()) - (3 + (k % 5) * 37) * DAY;
  const subject = async (db: Db, k: number): Promise<string> => (await db.query<{ s: string }>(`SELECT 'p1_' || substr(md5($1::text), 1, 22) AS s`, [TRACED[k % TRACED.length]]))[0]!.s;
  return [
    { label: 'baseline: count(*) of one day of events (raw SQL)', run: (db, k) => db.query('SELECT count(*) FROM events WHERE at >= $1 AND at < $2', [new Date(day(k)).toISOString(), new Date(day(k) + DAY).toISOString()]) },
    { label: 'checkpoints overview (all checkpoints)', run: (db) => checkpointsOverview(db, {}, now) },
    { label: 'alerts inbox, first page (50 rows, 7 days, folded)', run: (db) => alertsInbox(db, { escalateAfterMs: 15 * 60_000, limit: 50 }, now) },
    { label: 'alerts inbox, unacknowledged, 30 days', run: (db) => alertsInbox(db, { escalateAfterMs: 15 * 60_000, limit: 50, unackedOnly: true, from: now - 30 * DAY }, now) },
    { label: 'alerts inbox, one checkpoint, 90 days', run: (db, k) => alertsInbox(db, { escalateAfterMs: 15 * 60_000, limit: 50, checkpoint: cp(k % CHECKPOINTS), from: now - 90 * DAY }, now) },
    { label: 'events by checkpoint and time (one day)', run: (db, k) => db.query('SELECT id, at, lane, outcome, reasons FROM events WHERE site = $1 AND checkpoint = $2 AND at >= $3 AND at < $4 ORDER BY at', [SITE, cp((k * 13) % CHECKPOINTS), new Date(day(k)).toISOString(), new Date(day(k) + DAY).toISOString()]) },
    { label: '/api/events: newest 1000 of one checkpoint', run: (db, k) => newestEvents(db, { checkpoint: cp((k * 13) % CHECKPOINTS), limit: 1000 }) },
    { label: 'events by pseudonym and time (30 days)', run: async (db, k) => db.query('SELECT id, at, checkpoint, lane, outcome FROM events WHERE subject = $1 AND at >= $2 AND at < $3 ORDER BY at', [await subject(db, k), new Date(now - 30 * DAY).toISOString(), new Date(now).toISOString()]) },
    { label: 'charts: passages per checkpoint per hour, today', run: (db) => passagesPerHour(db, { date: chinaDate(now) }, now) },
    { label: 'charts: passages per checkpoint per hour, past day', run: (db, k) => passagesPerHour(db, { date: chinaDate(day(k)), site: SITE }, now) },
    { label: 'charts: refusals by reason per day, 14 days', run: (db) => refusalsByReason(db, { days: 14 }, now) },
    { label: 'charts: refusals by reason per day, 90 days (the most)', run: (db) => refusalsByReason(db, { days: 90 }, now) },
    { label: 'charts: fever alerts per day, 30 days', run: (db) => feverAlertsPerDay(db, { days: 30 }, now) },
    { label: 'charts: fever alerts per day, 90 days (the most)', run: (db) => feverAlertsPerDay(db, { days: 90 }, now) },
    // A person's 14 days (~20 passages at 10 M events) and everyone on the same lane within
    // ±N of each, recorded in trace_queries by the same statement (what POST /api/tracing runs).
    ...[15, 120].map((minutes): QueryCase => ({
      label: `contact tracing: 14 days, ±${minutes} min, recorded`,
      run: async (db, k) => {
        const s = await subject(db, k);
        return recordedTrace(db, { site: SITE, staffId: `E${String(TRACED[k % TRACED.length]).padStart(5, '0')}`, subject: s, from: now - 14 * DAY, to: now, minutes }, { at: now, officerId: 'bench', role: 'duty-leader', client: 'bench', reason: 'bench run', export: false });
      },
    })),
    { label: 'tracing log, first page (50 of the bench\'s queries)', run: (db) => traceLog(db, { limit: 50 }) },
    // A China-time day around the same dates (noon UTC lies inside it).
    { label: 'daily screening, 10 000 workers, one day', run: (db, k) => dailyScreening(db, SITE, screeningDayOf(day(k) + DAY / 2)) },
    { label: 'daily screening, today (the page\'s default)', run: (db) => dailyScreening(db, SITE, screeningDayOf(now)) },
    { label: 'roster summary (counts, last push)', run: (db) => rosterSummary(db, SITE) },
    { label: 'events by reason code and day (FEVER)', run: (db, k) => db.query(`SELECT id, at, checkpoint, subject, temperature FROM events WHERE reasons @> ARRAY['FEVER'] AND at >= $1 AND at < $2 ORDER BY at`, [new Date(day(k)).toISOString(), new Date(day(k) + DAY).toISOString()]) },
  ];
}

export async function benchCentralQueries(): Promise<void> {
  const reuse = env.BENCH_QUERIES_SCHEMA;
  const schema = reuse ?? `bench_q_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bench-queries-'));
  const now = Date.now();
  console.log(`PostgreSQL ${PG_URL.replace(/:[^:@/]*@/, ':***@')}, schema ${schema}; ${EVENTS} events, ${Math.round(EVENTS / 100)} alerts, ${CHECKPOINTS} checkpoints, 12 months; ${REPEATS} warm repeats`);
  let db = await openDb({ url: PG_URL, dataDir, schema, poolSize: 2 });
  try {
    if (reuse === undefined) {
      await migrate(db);
      await fill(db, now);
    }
    const sizes = await db.query<{ t: string; s: string }>(
      `SELECT 'events' AS t, pg_size_pretty(sum(pg_total_relation_size(c.oid))) AS s FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
        JOIN pg_namespace n ON n.oid = p.relnamespace WHERE n.nspname = current_schema() AND p.relname = 'events'`,
    );
    console.log(`  events with indexes: ${sizes[0]?.s ?? '?'}`);
    // Cold: a fresh pool, so no cached plans or catalog entries.
    await db.close();
    db = await openDb({ url: PG_URL, dataDir, schema, poolSize: 2 });
    for (const c of cases(now)) {
      const t = performance.now();
      await c.run(db, 0);
      const cold = performance.now() - t;
      const warm: number[] = [];
      for (let k = 0; k < REPEATS; k += 1) {
        const w = performance.now();
        await c.run(db, k % 5);
        warm.push(performance.now() - w);
      }
      warm.sort((a, b) => a - b);
      const p50 = percentile(warm, 50);
      const p99 = percentile(warm, 99);
      const verdict = Math.max(cold, p99) <= TARGET_MS ? 'ok' : `MISSES ${TARGET_MS} ms`;
      console.log(`${c.label.padEnd(54)} cold ${cold.toFixed(1).padStart(7)} ms  warm p50 ${p50.toFixed(1).padStart(7)} ms  p99 ${p99.toFixed(1).padStart(7)} ms  ${verdict}`);
    }
    const traced = await db.query<{ minutes: number; passages: string; contacts: string }>(
      'SELECT minutes, round(avg(passages), 1)::text AS passages, round(avg(contacts), 1)::text AS contacts FROM trace_queries GROUP BY minutes ORDER BY minutes',
    );
    for (const t of traced) console.log(`contact tracing ±${t.minutes} min: ${t.passages} passages and ${t.contacts} contact rows per query on average`);
    console.log(`target: each console query ≤ ${TARGET_MS} ms`);
  } finally {
    await db.close().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
    if (env.BENCH_QUERIES_KEEP === '1' || reuse !== undefined) console.log(`kept schema ${schema}`);
    else {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).finally(() => client.end());
    }
  }
}

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1]) {
  await benchCentralQueries();
}
