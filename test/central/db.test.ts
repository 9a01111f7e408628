// The office database on both engines: migrations, monthly partitions, retention, and the
// writer's exactly-once effect (dedupe, conflicts kept aside, status by session).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { classify } from '../../central/classify.js';
import { MIGRATIONS, migrate } from '../../central/db/migrations.js';
import { Partitions } from '../../central/db/partitions.js';
import { loadValidators } from '../../central/schemas.js';
import { INTEGRITY_CODE, monthsOf, writeBatch, type WriteResult } from '../../central/writer.js';
import { Cleanup } from '../gateway/telemetry/helpers.js';
import { ENGINES, alertPayload, eventPayload, testDb, type TestDb } from './helpers.js';

const PREFIX = 'checkpoints';
const CTX = { site: 'mine-a', checkpoint: 'gate-1' };
const NOW = Date.UTC(2026, 11, 4, 9, 0, 0);
const validators = loadValidators();

describe.each(ENGINES)('office database on %s', (engine) => {
  let cleanup: Cleanup;
  let t: TestDb;
  let partitions: Partitions;

  beforeEach(async () => {
    cleanup = new Cleanup();
    t = await testDb(cleanup, engine);
    partitions = new Partitions(t.db);
  }, 60_000);
  afterEach(() => cleanup.run());

  async function commit(messages: [string, unknown][]): Promise<WriteResult> {
    const items = messages.map(([channel, body]) =>
      classify(`${PREFIX}/${CTX.site}/${CTX.checkpoint}/${channel}`, Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), PREFIX, validators),
    );
    await partitions.ensure(monthsOf(items, NOW));
    return t.db.transaction((tx) => writeBatch(tx, items, NOW));
  }
  const count = async (sql: string, params: unknown[] = []): Promise<number> => Number((await t.db.query<{ n: number }>(sql, params))[0]?.n);

  it('applies each migration once, in a transaction, and records it in schema_migrations', async () => {
    expect(await migrate(t.db)).toEqual([]);
    const rows = await t.db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
  });

  it('rolls a failing migration back entirely and says which one failed', async () => {
    const bad = [...MIGRATIONS, { version: 99, name: 'broken', sql: 'CREATE TABLE half_done (x int); SELECT no_such_column FROM half_done' }];
    await expect(migrate(t.db, bad)).rejects.toThrow(/CENTRAL_MIGRATION_FAILED: migration 99 \(broken\)/);
    expect(await count(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'half_done'`)).toBe(0);
    expect(await count('SELECT count(*)::int AS n FROM schema_migrations WHERE version = 99')).toBe(0);
  });

  it('runs a lone query outside any open transaction, and keeps the SQLSTATE of a refused value', async () => {
    await t.db.exec('CREATE TABLE probe (a int PRIMARY KEY)');
    let inserted!: () => void;
    const insertedP = new Promise<void>((resolve) => (inserted = resolve));
    const rolledBack = t.db.transaction(async (tx) => {
      await tx.query('INSERT INTO probe VALUES (1)');
      inserted();
      await new Promise((r) => setTimeout(r, 100));
      throw new Error('roll back');
    });
    await insertedP;
    // PostgreSQL answers from another connection, PGlite (one connection) after the
    // rollback: never from inside the open transaction.
    const seen = t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM probe');
    await expect(rolledBack).rejects.toThrow('roll back');
    expect(await seen).toEqual([{ n: 0 }]);
    await expect(t.db.query('INSERT INTO probe VALUES (1), (1)')).rejects.toMatchObject({ code: '23505' });
    await expect(t.db.query("SELECT '99999999999999999999'::bigint")).rejects.toMatchObject({ code: '22003' });
  });

  it('partitions events and alerts by month and drops whole months older than the retention', async () => {
    const kinds = await t.db.query<{ relname: string; partstrat: string }>(
      `SELECT c.relname, p.partstrat FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() ORDER BY 1`,
    );
    expect(kinds).toEqual([{ relname: 'alerts', partstrat: 'r' }, { relname: 'events', partstrat: 'r' }]);
    const old = eventPayload(CTX, 1, { at: '2024-01-15T08:00:00.000Z' });
    const recent = eventPayload(CTX, 2);
    await commit([['events', old], ['events', recent]]);
    const partitionNames = async (): Promise<string[]> =>
      (await t.db.query<{ relname: string }>(`SELECT relname FROM pg_class WHERE relname LIKE 'events_y%' AND relkind = 'r' AND relnamespace = current_schema()::regnamespace ORDER BY 1`)).map((r) => r.relname);
    expect(await partitionNames()).toEqual(['events_y2024m01', 'events_y2026m12']);
    const dropped = await partitions.dropOlderThan(24, NOW);
    expect(dropped.sort()).toEqual(['alerts_y2024m01', 'events_y2024m01']);
    expect(await partitionNames()).toEqual(['events_y2026m12']);
    expect(await count('SELECT count(*)::int AS n FROM events')).toBe(1);
    expect(await count('SELECT count(*)::int AS n FROM event_keys')).toBe(1);
  });

  it('stores an event once; a redelivery (historical) is counted as a duplicate, not a second row', async () => {
    const e = eventPayload(CTX, 1);
    expect((await commit([['events', e]])).committed).toEqual({ event: 1 });
    const again = await commit([['events', { ...e, historical: true }], ['events', e]]);
    expect(again).toMatchObject({ committed: {}, duplicates: 2, conflicts: [] });
    const rows = await t.db.query<{ reasons: string[]; subject: string; historical: boolean }>('SELECT reasons, subject, historical FROM events');
    expect(rows).toEqual([{ reasons: ['FEVER'], subject: e.subject, historical: false }]);
  });

  it('keeps the first content of an id; other content goes to integrity_conflicts and raises an integrity alert once', async () => {
    const e = eventPayload(CTX, 1);
    await commit([['events', e]]);
    const forged = { ...e, outcome: 'admit', reasons: [] };
    const r = await commit([['events', forged]]);
    expect(r.conflicts).toEqual([expect.objectContaining({ kind: 'event', id: e.id, site: 'mine-a', checkpoint: 'gate-1' })]);
    expect(await t.db.query('SELECT outcome FROM events')).toEqual([{ outcome: 'refuse' }]);
    expect(await count('SELECT count(*)::int AS n FROM integrity_conflicts WHERE message_id = $1', [e.id])).toBe(1);
    const alerts = await t.db.query<{ kind: string; code: string; event_id: string }>('SELECT kind, code, event_id FROM alerts');
    expect(alerts).toEqual([{ kind: 'integrity', code: INTEGRITY_CODE, event_id: e.id }]);
    // The same conflicting message again: nothing new.
    expect(await commit([['events', forged]])).toMatchObject({ duplicates: 1, conflicts: [] });
    expect(await count(`SELECT count(*)::int AS n FROM alerts WHERE kind = 'integrity'`)).toBe(1);
  });

  it('dedupes across partitions: the same id in another month is a conflict, not a second row', async () => {
    const e = eventPayload(CTX, 1);
    await commit([['events', e]]);
    const r = await commit([['events', { ...e, at: '2025-06-01T00:00:00.000Z' }]]);
    expect(r.conflicts).toHaveLength(1);
    expect(await count('SELECT count(*)::int AS n FROM events WHERE id = $1', [e.id])).toBe(1);
  });

  it('takes a repeat inside one batch as a duplicate of its first occurrence', async () => {
    const e = eventPayload(CTX, 1);
    const r = await commit([['events', e], ['events', { ...e, historical: true }]]);
    expect(r).toMatchObject({ committed: { event: 1 }, duplicates: 1 });
  });

  it('stores alerts once by id, like events', async () => {
    const e = eventPayload(CTX, 1);
    const a = alertPayload(CTX, e.id);
    expect((await commit([['events', e], ['alerts', a]])).committed).toEqual({ event: 1, alert: 1 });
    expect(await commit([['alerts', { ...a, historical: true }]])).toMatchObject({ committed: {}, duplicates: 1 });
  });

  it('stores the payload as it was sent: an integer written 7.0 is seq 7, and the same event written 7 is a duplicate', async () => {
    const e = eventPayload(CTX, 7);
    const sent = JSON.stringify(e).replace('"seq":7,', '"seq":7.0,');
    expect(sent).toContain('"seq":7.0,');
    expect((await commit([['events', sent]])).committed).toEqual({ event: 1 });
    const rows = await t.db.query<{ seq: number; payload_seq: string }>(`SELECT seq, payload->>'seq' AS payload_seq FROM events`);
    expect(rows).toEqual([{ seq: 7, payload_seq: '7.0' }]);
    expect(await count('SELECT seq::int AS n FROM event_keys')).toBe(7);
    expect(await commit([['events', { ...e, historical: true }]])).toMatchObject({ committed: {}, duplicates: 1, conflicts: [] });
  });

  it('stores a message failing the schema in rejected_messages with a truncated payload', async () => {
    const huge = JSON.stringify({ ...eventPayload(CTX, 1), seq: 0, padding: 'x'.repeat(10_000) });
    const r = await commit([['events', huge], ['events', 'not json {'], ['alerts', { v: 1 }]]);
    expect(r.committed).toEqual({ rejected: 3 });
    const rows = await t.db.query<{ reason: string; bytes: number; len: number }>('SELECT reason, bytes, length(payload)::int AS len FROM rejected_messages ORDER BY id');
    expect(rows[0]).toMatchObject({ bytes: huge.length, len: 4096 });
    expect(rows[0]!.reason).toMatch(/^EventMessage: /);
    expect(rows[1]!.reason).toBe('not JSON');
    expect(await count('SELECT count(*)::int AS n FROM events')).toBe(0);
  });

  it('derives status by session: a stale will of an older session never marks a newer session offline', async () => {
    const birth = (session: number, at: string) => ({ v: 1, state: 'online', session, at, version: '0.1.0', configHash: `sha256:${'0'.repeat(32)}`, lanes: [] });
    const will = (session: number) => ({ v: 1, state: 'offline', session, cause: 'lost' });
    const state = async () => (await t.db.query<{ state: string; session: number }>('SELECT state, session FROM checkpoints'))[0];
    await commit([['status', birth(2, '2026-12-04T08:00:00.000Z')]]);
    await commit([['status', will(1)]]);
    expect(await state()).toEqual({ state: 'online', session: 2 });
    await commit([['status', will(2)]]);
    expect(await state()).toEqual({ state: 'offline', session: 2 });
    // The retained birth of session 2, processed late by another instance: stays offline.
    await commit([['status', birth(2, '2026-12-04T08:00:00.000Z')]]);
    expect(await state()).toEqual({ state: 'offline', session: 2 });
    await commit([['status', birth(3, '2026-12-04T09:00:00.000Z')], ['status', will(2)]]);
    expect(await state()).toEqual({ state: 'online', session: 3 });
    // History: one row per distinct message, however often it was received.
    expect(await count('SELECT count(*)::int AS n FROM checkpoint_status_history')).toBe(4);
  });

  it('stores stats, daily screening summaries and update responses, each once', async () => {
    const stats = { v: 1, at: '2026-12-04T08:01:00.000Z', site: 'mine-a', checkpoint: 'gate-1', since: '2026-12-04T08:00:00.000Z', lanes: {}, outboxDepth: 0, unackedAlerts: 0 };
    const screening = { v: 1, at: '2026-12-05T00:00:41.000+08:00', site: 'mine-a', checkpoint: 'gate-1', date: '2026-12-04', workers: 3, screened: 2, notScreened: 1, firstOutcomes: { admit: 2, refuse: 0, refer: 0 } };
    const response = { v: 1, status: 'applied', transaction: 'tx-1', kind: 'watchlist', version: 42, at: '2026-12-04T08:02:00.000Z', site: 'mine-a', checkpoint: 'gate-1' };
    const r = await commit([['stats', stats], ['screening', screening], ['response/watchlist', response], ['stats', stats], ['screening', screening], ['response/watchlist', response]]);
    expect(r.committed).toEqual({ stats: 1, screening: 1, response: 1 });
  });
});
