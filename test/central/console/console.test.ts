// The console's data layer against the real PostgreSQL (PGlite: one smoke test): the
// checkpoints overview, the folded alerts inbox, acknowledgement (once, first officer
// wins, also under concurrency) and escalation with an injected clock.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { classify } from '../../../central/classify.js';
import { ackAlerts, ackShown, alertsInbox } from '../../../central/console/alerts.js';
import { checkpointsOverview } from '../../../central/console/checkpoints.js';
import { recordPublication } from '../../../central/console/published.js';
import { Partitions } from '../../../central/db/partitions.js';
import { loadValidators } from '../../../central/schemas.js';
import { monthsOf, writeBatch } from '../../../central/writer.js';
import { Cleanup } from '../../gateway/telemetry/helpers.js';
import { alertPayload, eventPayload, testDb, type Engine, type TestDb } from '../helpers.js';

const PREFIX = 'checkpoints';
const SITE = 'mine-a';
const T0 = Date.UTC(2026, 11, 4, 8, 0, 0);
const MIN = 60_000;
const NOW = T0 + 60 * MIN;
const validators = loadValidators();
const iso = (ms: number): string => new Date(ms).toISOString();

const birth = (session: number, at: number, updates: Record<string, number>) => ({
  v: 1, state: 'online', session, at: iso(at), version: '0.3.1', configHash: `sha256:${'c'.repeat(32)}`,
  lanes: [{ id: 'in-1', state: 'idle', devices: { scanner: { type: 'sim', state: 'connected' }, relay: { type: 'sim', state: 'disconnected' } } }],
  updates,
});
const will = (session: number) => ({ v: 1, state: 'offline', session, cause: 'lost' });

async function setup(cleanup: Cleanup, engine: Engine) {
  const t: TestDb = await testDb(cleanup, engine);
  const partitions = new Partitions(t.db);
  const commit = async (checkpoint: string, messages: [string, unknown][]): Promise<void> => {
    const items = messages.map(([channel, body]) => classify(`${PREFIX}/${SITE}/${checkpoint}/${channel}`, Buffer.from(JSON.stringify(body)), PREFIX, validators));
    for (const it of items) if (it.type === 'rejected') throw new Error(`test message rejected: ${it.reason}`);
    await partitions.ensure(monthsOf(items, NOW));
    await t.db.transaction((tx) => writeBatch(tx, items, NOW));
  };
  const alert = (checkpoint: string, at: number, o: Record<string, unknown> = {}) => alertPayload({ site: SITE, checkpoint }, null, { at: iso(at), ...o });
  return { t, commit, alert };
}

async function twoCheckpoints(s: Awaited<ReturnType<typeof setup>>): Promise<void> {
  // gate-1: online in session 3; the stale will of session 2 arrives after its birth.
  await s.commit('gate-1', [['status', birth(3, T0, { watchlist: 42, policy: 3 })], ['status', will(2)]]);
  await s.commit('gate-1', [['stats', { v: 1, at: iso(T0 + 5 * MIN), site: SITE, checkpoint: 'gate-1', since: iso(T0), lanes: {}, outboxDepth: 7, unackedAlerts: 0 }]]);
  await s.commit('gate-1', [['events', { ...eventPayload({ site: SITE, checkpoint: 'gate-1' }, 1), at: iso(T0 + 10 * MIN) }]]);
  // gate-2: born in session 5, then its current session's will: offline.
  await s.commit('gate-2', [['status', birth(5, T0 - 30 * MIN, { watchlist: 41, policy: 3 })]]);
  await s.commit('gate-2', [['status', will(4)]]);
  await s.commit('gate-2', [['status', will(5)]]);
  await recordPublication(s.t.db, { site: SITE, target: 'all', kind: 'watchlist', version: 42, at: T0 });
  await recordPublication(s.t.db, { site: SITE, target: 'gate-2', kind: 'policy', version: 4, at: T0, publishedBy: 'officer-1' });
}

describe('console queries on postgres', () => {
  let cleanup: Cleanup;
  let s: Awaited<ReturnType<typeof setup>>;
  beforeEach(async () => {
    cleanup = new Cleanup();
    s = await setup(cleanup, 'postgres');
  }, 60_000);
  afterEach(() => cleanup.run());

  it('lists each checkpoint online or offline by session, with its birth facts, outbox depth, last event and out-of-date updates', async () => {
    await twoCheckpoints(s);
    // gate-3: events but no status message yet.
    await s.commit('gate-3', [['events', { ...eventPayload({ site: SITE, checkpoint: 'gate-3' }, 1), at: iso(T0) }]]);
    const [g1, g2, g3] = await checkpointsOverview(s.t.db, {}, NOW);
    expect(g3).toMatchObject({ checkpoint: 'gate-3', state: 'unknown', session: null, since: null, version: null, lanes: [], lastEventAt: iso(T0) });
    expect(g3!.updates.map((u) => [u.kind, u.applied, u.outOfDate])).toEqual([['policy', null, false], ['watchlist', null, true]]);
    expect(g1).toMatchObject({
      checkpoint: 'gate-1', state: 'online', session: 3, since: iso(T0), forMs: 60 * MIN, version: '0.3.1', outboxDepth: 7,
      statsAt: iso(T0 + 5 * MIN), lastEventAt: iso(T0 + 10 * MIN),
    });
    expect(g1!.lanes).toEqual([{ id: 'in-1', state: 'idle', devices: [{ name: 'relay', type: 'sim', state: 'disconnected' }, { name: 'scanner', type: 'sim', state: 'connected' }] }]);
    expect(g1!.updates).toEqual([
      { kind: 'policy', applied: 3, published: null, outOfDate: false },
      { kind: 'watchlist', applied: 42, published: 42, outOfDate: false },
    ]);
    // Offline by the will of its current session; the birth facts stay those of its last birth.
    expect(g2).toMatchObject({ checkpoint: 'gate-2', state: 'offline', session: 5, cause: 'lost', version: '0.3.1', outboxDepth: null, lastEventAt: null });
    expect(g2!.since).not.toBeNull();
    expect(g2!.updates).toEqual([
      { kind: 'policy', applied: 3, published: 4, outOfDate: true },
      { kind: 'watchlist', applied: 41, published: 42, outOfDate: true },
    ]);
  });

  it('records a publication once per site, target, kind and version', async () => {
    const p = { site: SITE, target: 'all', kind: 'roster', version: 7, at: T0 };
    expect(await recordPublication(s.t.db, p)).toBe(true);
    expect(await recordPublication(s.t.db, { ...p, at: T0 + MIN })).toBe(false);
  });

  it('folds the same kind at the same checkpoint within the window into one row, newest first, summing gateway counts', async () => {
    await s.commit('gate-1', [
      ['alerts', s.alert('gate-1', T0)],
      ['alerts', s.alert('gate-1', T0 + 4 * MIN)],
      ['alerts', s.alert('gate-1', T0 + 8 * MIN, { severity: 'warning' })],
      ['alerts', s.alert('gate-1', T0 + 9 * MIN, { kind: 'update-rejected', severity: 'warning', code: 'UPDATE_VERSION_STALE', lane: null, count: 4 })],
      ['alerts', s.alert('gate-1', T0 + 20 * MIN)],
    ]);
    await s.commit('gate-2', [['alerts', s.alert('gate-2', T0 + 2 * MIN)]]);
    const rows = await alertsInbox(s.t.db, { escalateAfterMs: 60 * MIN }, NOW);
    expect(rows.map((r) => [r.checkpoint, r.kind, r.count, r.ids.length, r.firstAt, r.lastAt])).toEqual([
      ['gate-1', 'fever', 1, 1, iso(T0 + 20 * MIN), iso(T0 + 20 * MIN)],
      ['gate-1', 'update-rejected', 4, 1, iso(T0 + 9 * MIN), iso(T0 + 9 * MIN)],
      ['gate-1', 'fever', 3, 3, iso(T0), iso(T0 + 8 * MIN)],
      ['gate-2', 'fever', 1, 1, iso(T0 + 2 * MIN), iso(T0 + 2 * MIN)],
    ]);
    expect(rows[2]!.severity).toBe('critical');
    // Paging: the rows whose newest member is older than the second row's.
    const next = await alertsInbox(s.t.db, { escalateAfterMs: 60 * MIN, before: Date.parse(rows[1]!.lastAt) }, NOW);
    expect(next.map((r) => r.lastAt)).toEqual([rows[2]!.lastAt, rows[3]!.lastAt]);
    // A 3-minute window splits the chain 0, 4, 8 into three rows.
    const narrow = await alertsInbox(s.t.db, { escalateAfterMs: 60 * MIN, foldMinutes: 3, checkpoint: 'gate-1', kinds: ['fever'] }, NOW);
    expect(narrow.map((r) => r.count)).toEqual([1, 1, 1, 1]);
  });

  it('acknowledges one alert, a folded group and all shown, each once: a second acknowledgement keeps the first officer', async () => {
    const a = [0, 1, 2, 30, 31].map((m) => s.alert('gate-1', T0 + m * MIN));
    const late = s.alert('gate-2', NOW + MIN);
    await s.commit('gate-1', a.map((x) => ['alerts', x] as [string, unknown]));
    await s.commit('gate-2', [['alerts', late]]);
    const id = (i: number) => String(a[i]!.id);
    expect(await ackAlerts(s.t.db, [id(3)], 'alice', NOW)).toEqual({ acked: [id(3)] });
    expect(await ackAlerts(s.t.db, [id(3)], 'bob', NOW + MIN)).toEqual({ acked: [] });
    const [newest, group] = await alertsInbox(s.t.db, { escalateAfterMs: 60 * MIN }, NOW);
    expect(newest).toMatchObject({ unacked: 1, ackedBy: 'alice', ackedAt: iso(NOW) });
    expect((await ackAlerts(s.t.db, group!.ids, 'bob', NOW)).acked).toEqual([id(0), id(1), id(2)].sort());
    // "All shown" up to the page's own `to`: the alert that arrived later stays unacknowledged.
    expect((await ackShown(s.t.db, { to: NOW }, 'carol', NOW)).acked).toEqual([id(4)]);
    const rows = await s.t.db.query<{ id: string; acked_by: string | null }>('SELECT id::text AS id, acked_by FROM alerts ORDER BY at');
    expect(rows.map((r) => r.acked_by)).toEqual(['bob', 'bob', 'bob', 'alice', 'carol', null]);
    expect(await alertsInbox(s.t.db, { escalateAfterMs: 60 * MIN, unackedOnly: true, to: NOW + 2 * MIN }, NOW + 2 * MIN)).toHaveLength(1);
  });

  it('records each alert once when two officers acknowledge at the same time (single and overlapping group vs all shown)', async () => {
    const a = Array.from({ length: 40 }, (_, i) => s.alert('gate-1', T0 + i * 1000));
    await s.commit('gate-1', a.map((x) => ['alerts', x] as [string, unknown]));
    const ids = a.map((x) => String(x.id));
    for (const one of ids.slice(0, 10)) {
      const [r1, r2] = await Promise.all([ackAlerts(s.t.db, [one], 'alice', NOW), ackAlerts(s.t.db, [one], 'bob', NOW)]);
      expect(r1.acked.length + r2.acked.length).toBe(1);
      const [row] = await s.t.db.query<{ acked_by: string }>('SELECT acked_by FROM alerts WHERE id = $1', [one]);
      expect(row!.acked_by).toBe(r1.acked.length === 1 ? 'alice' : 'bob');
    }
    const [group, all] = await Promise.all([ackAlerts(s.t.db, [...ids].reverse(), 'alice', NOW), ackShown(s.t.db, { to: NOW }, 'bob', NOW)]);
    expect([...group.acked, ...all.acked].sort()).toEqual(ids.slice(10).sort());
    const byOfficer = await s.t.db.query<{ acked_by: string; n: number }>('SELECT acked_by, count(*)::int AS n FROM alerts WHERE acked_by IS NOT NULL GROUP BY acked_by ORDER BY acked_by');
    const tenFirst = await s.t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM alerts WHERE acked_by = 'alice' AND id = ANY($1::uuid[])`, [ids.slice(10)]);
    expect(tenFirst[0]!.n).toBe(group.acked.length);
    expect(byOfficer.reduce((n, r) => n + r.n, 0)).toBe(40);
  });

  it('flags critical alerts unacknowledged for longer than the configured time as escalated, until acknowledged', async () => {
    const crit = s.alert('gate-1', T0);
    await s.commit('gate-1', [['alerts', crit]]);
    await s.commit('gate-2', [['alerts', s.alert('gate-2', T0, { kind: 'device-down', severity: 'warning', code: 'DEVICE_DOWN' })]]);
    const q = { escalateAfterMs: 10 * MIN, from: T0 - MIN };
    expect((await alertsInbox(s.t.db, q, T0 + 9 * MIN)).map((r) => r.escalated)).toEqual([false, false]);
    const later = await alertsInbox(s.t.db, q, T0 + 11 * MIN);
    expect(later.map((r) => [r.checkpoint, r.escalated])).toEqual([['gate-1', true], ['gate-2', false]]);
    await ackAlerts(s.t.db, [String(crit.id)], 'alice', T0 + 12 * MIN);
    expect((await alertsInbox(s.t.db, q, T0 + 13 * MIN)).map((r) => r.escalated)).toEqual([false, false]);
  });
});

describe('console queries on pglite (smoke)', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('answers the overview, the inbox and an acknowledgement', async () => {
    const s = await setup(cleanup, 'pglite');
    await twoCheckpoints(s);
    const a = s.alert('gate-1', T0);
    await s.commit('gate-1', [['alerts', a], ['alerts', s.alert('gate-1', T0 + MIN)]]);
    expect((await checkpointsOverview(s.t.db, { site: SITE }, NOW)).map((r) => [r.checkpoint, r.state])).toEqual([['gate-1', 'online'], ['gate-2', 'offline']]);
    const [row] = await alertsInbox(s.t.db, { escalateAfterMs: 10 * MIN }, NOW);
    expect(row).toMatchObject({ count: 2, escalated: true });
    expect((await ackAlerts(s.t.db, row!.ids, 'alice', NOW)).acked).toHaveLength(2);
    expect((await ackAlerts(s.t.db, row!.ids, 'bob', NOW)).acked).toHaveLength(0);
  }, 60_000);
});
