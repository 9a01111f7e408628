// The ledger chain check, the office's side: stats stored by the real ingest path
// (classify → writeBatch), the check run as the service runs it, on PostgreSQL and PGlite.
// A head that goes back, or one seq with two hashes, becomes one critical `ledger-chain`
// alert in the inbox; a head that only grows, and a second look, raise nothing.
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHAIN_ALERT_KIND, ChainCheck } from '../../central/chain-check.js';
import { classify } from '../../central/classify.js';
import { alertsInbox } from '../../central/console/alerts.js';
import { Partitions } from '../../central/db/partitions.js';
import { loadValidators } from '../../central/schemas.js';
import { writeBatch } from '../../central/writer.js';
import Database from 'better-sqlite3';
import { RetentionJob } from '../../gateway/retention.js';
import { loadOrCreateGatewayKey, openStore } from '../../gateway/store/index.js';
import { ChainStatusSource } from '../../gateway/telemetry/chain-status.js';
import { entry, freshDir, removeDirs } from '../gateway/store/helpers.js';
import { Cleanup, silentLogger } from '../gateway/telemetry/helpers.js';
import { ENGINES, testDb, type TestDb } from './helpers.js';

const CTX = { site: 'mine-a', checkpoint: 'gate-1' };
const validators = loadValidators();
const hashOf = (label: string): string => Buffer.from(label.padEnd(32, '.')).toString('hex').slice(0, 64);

let n = 0;
function stats(chain: ({ seq: number; hash: string } & Record<string, unknown>) | null, ctx = CTX): Record<string, unknown> {
  n += 1;
  return {
    v: 1,
    at: new Date(Date.UTC(2026, 11, 4, 8, 0, 0) + n * 60_000).toISOString(),
    site: ctx.site,
    checkpoint: ctx.checkpoint,
    since: '2026-12-04T07:00:00.000Z',
    lanes: { 'in-1': { admitted: n, refused: 0, referred: 0 } },
    outboxDepth: 0,
    unackedAlerts: 0,
    lastSeq: chain?.seq ?? 0,
    ...(chain === null ? {} : { chain }),
  };
}

describe.each(ENGINES)('ledger chain check (%s)', (engine) => {
  let cleanup: Cleanup;
  let t: TestDb;
  const now = Date.UTC(2026, 11, 4, 9, 0, 0);

  beforeEach(async () => {
    cleanup = new Cleanup();
    t = await testDb(cleanup, engine);
  });
  afterEach(() => cleanup.run());

  const check = (): ChainCheck => new ChainCheck({ db: t.db, partitions: new Partitions(t.db), logger: silentLogger(), now: () => now, settleMs: 0 });

  /** Each call one ingest transaction, so each is received after the one before. */
  async function receive(...bodies: Record<string, unknown>[]): Promise<void> {
    for (const b of bodies) {
      const item = classify(`checkpoints/${String(b.site)}/${String(b.checkpoint)}/stats`, Buffer.from(JSON.stringify(b)), 'checkpoints', validators);
      expect(item.type).toBe('stats');
      await t.db.transaction((tx) => writeBatch(tx, [item], now));
    }
  }

  async function chainAlerts(): Promise<{ code: string; severity: string; detail: string; site: string; checkpoint: string }[]> {
    return t.db.query('SELECT code, severity, detail, site, checkpoint FROM alerts WHERE kind = $1 ORDER BY code', [CHAIN_ALERT_KIND]);
  }

  it('raises nothing while heads only grow, nor for stats of gateways that send no chain', async () => {
    await receive(stats({ seq: 10, hash: hashOf('a') }), stats(null), stats({ seq: 12, hash: hashOf('b') }), stats({ seq: 12, hash: hashOf('b') }));
    expect(await check().runOnce()).toEqual([]);
    await receive(stats({ seq: 40, hash: hashOf('c') }));
    expect(await check().runOnce()).toEqual([]);
    expect(await chainAlerts()).toEqual([]);
    expect(await t.db.query('SELECT seq, hash FROM chain_heads')).toEqual([{ seq: 40, hash: hashOf('c') }]);
  });

  it('raises one critical alert when a checkpoint\'s head goes back, in the inbox, and none on a second look or as the shorter chain grows again', async () => {
    await receive(stats({ seq: 10, hash: hashOf('a') }), stats({ seq: 12, hash: hashOf('b') }));
    await check().runOnce();
    await receive(stats({ seq: 7, hash: hashOf('cut') }));
    const [b, ...more] = await check().runOnce();
    expect(more).toEqual([]);
    expect(b).toMatchObject({ ...CTX, kind: 'backwards', seen: { seq: 12, hash: hashOf('b') }, got: { seq: 7, hash: hashOf('cut') } });
    expect(await check().runOnce()).toEqual([]);
    await receive(stats({ seq: 9, hash: hashOf('regrown') }));
    expect(await check().runOnce()).toEqual([]);

    const alerts = await chainAlerts();
    expect(alerts).toEqual([{ code: 'LEDGER_CHAIN_BACKWARDS', severity: 'critical', detail: expect.stringContaining('seq 12') as unknown as string, ...CTX }]);
    expect(alerts[0]!.detail).toContain('账本哈希链回退');
    expect(alerts[0]!.detail).toContain('seq 7');
    const inbox = await alertsInbox(t.db, { escalateAfterMs: 15 * 60_000, kinds: [CHAIN_ALERT_KIND] }, now + 1000);
    expect(inbox).toMatchObject([{ ...CTX, kind: CHAIN_ALERT_KIND, severity: 'critical', code: 'LEDGER_CHAIN_BACKWARDS', unacked: 1, ids: [b!.alertId] }]);
  });

  it('raises a fork alert when the same seq comes with another hash, and also when it comes back far apart', async () => {
    await receive(stats({ seq: 5, hash: hashOf('a') }), stats({ seq: 6, hash: hashOf('x') }));
    await check().runOnce();
    await receive(stats({ seq: 6, hash: hashOf('y') }));
    expect((await check().runOnce()).map((b) => b.kind)).toEqual(['forked']);

    // Later the head is at 9; then seq 5 again under another hash: back, and a fork of seq 5.
    await receive(stats({ seq: 9, hash: hashOf('z') }), stats({ seq: 5, hash: hashOf('rebuilt') }));
    const breaks = await check().runOnce();
    expect(breaks.map((b) => `${b.kind} ${b.seen.seq}:${b.seen.hash.slice(0, 2)} → ${b.got.seq}:${b.got.hash.slice(0, 2)}`).sort()).toEqual([
      `backwards 9:${hashOf('z').slice(0, 2)} → 5:${hashOf('rebuilt').slice(0, 2)}`,
      `forked 5:${hashOf('a').slice(0, 2)} → 5:${hashOf('rebuilt').slice(0, 2)}`,
    ]);
    expect((await chainAlerts()).map((a) => a.code)).toEqual(['LEDGER_CHAIN_BACKWARDS', 'LEDGER_CHAIN_FORKED', 'LEDGER_CHAIN_FORKED']);
  });

  it('keeps checkpoints apart: one going back alerts for that one only', async () => {
    const other = { site: 'mine-a', checkpoint: 'gate-2' };
    await receive(stats({ seq: 20, hash: hashOf('a') }), stats({ seq: 3, hash: hashOf('b') }, other));
    await check().runOnce();
    await receive(stats({ seq: 21, hash: hashOf('c') }), stats({ seq: 2, hash: hashOf('d') }, other));
    const breaks = await check().runOnce();
    expect(breaks.map((b) => [b.checkpoint, b.kind])).toEqual([['gate-2', 'backwards']]);
  });

  it('raises nothing for a ledger cut by retention (its start follows a checkpoint that covers it), and one truncation alert for a start no checkpoint explains', async () => {
    await receive(stats({ seq: 10, hash: hashOf('a'), start: 1 }));
    await check().runOnce();
    await receive(stats({ seq: 20, hash: hashOf('b'), start: 9, cut: { seq: 19, fromSeq: 1, toSeq: 8 }, prev: { seq: 10, hash: hashOf('a') } }));
    await receive(stats({ seq: 22, hash: hashOf('c'), start: 12, cut: { seq: 19, fromSeq: 1, toSeq: 12 }, prev: { seq: 20, hash: hashOf('b') } })); // a cut in progress
    expect(await check().runOnce()).toEqual([]);
    // Old rows deleted by hand: the chain starts at 15, which no checkpoint states.
    await receive(stats({ seq: 23, hash: hashOf('d'), start: 15, cut: { seq: 19, fromSeq: 1, toSeq: 12 }, prev: { seq: 22, hash: hashOf('c') } }));
    await receive(stats({ seq: 24, hash: hashOf('e'), start: 15, cut: { seq: 19, fromSeq: 1, toSeq: 12 }, prev: { seq: 23, hash: hashOf('d') } }));
    expect((await check().runOnce()).map((b) => b.kind)).toEqual(['truncated']);
    expect(await check().runOnce()).toEqual([]);
    const alerts = await chainAlerts();
    expect(alerts).toEqual([{ code: 'LEDGER_CHAIN_TRUNCATED', severity: 'critical', detail: expect.stringContaining('no retention checkpoint states') as unknown as string, ...CTX }]);
  });

  it('raises an alert when the head the office stored is gone or changed though the chain grew past it (cut at its end by hand, then grown again)', async () => {
    await receive(stats({ seq: 40, hash: hashOf('a'), start: 1 }));
    await check().runOnce();
    await receive(stats({ seq: 45, hash: hashOf('x'), start: 1, prev: { seq: 40, hash: hashOf('other') } }));
    expect((await check().runOnce()).map((b) => `${b.kind} ${b.got.seq}`)).toEqual(['forked 40']);
    await receive(stats({ seq: 50, hash: hashOf('y'), start: 1, prev: { seq: 45, hash: null } }));
    expect((await check().runOnce()).map((b) => `${b.kind} ${b.seen.seq}`)).toEqual(['truncated 45']);
    // A row gone because a retention checkpoint cut it is no finding.
    await receive(stats({ seq: 60, hash: hashOf('z'), start: 52, cut: { seq: 59, fromSeq: 1, toSeq: 51 }, prev: { seq: 50, hash: null } }));
    expect(await check().runOnce()).toEqual([]);
  });

  it('raises nothing for a real gateway ledger cut by its retention job, and an alert once the same ledger is cut by hand', async () => {
    const dir = freshDir();
    cleanup.add(() => removeDirs());
    const DAY = 86_400_000;
    const clock = { now: Date.UTC(2025, 0, 1, 4) };
    const store = openStore(dir, { now: () => clock.now });
    cleanup.add(() => store.close());
    const key = loadOrCreateGatewayKey(dir);
    const status = new ChainStatusSource(store, key);
    const day = (d: number): void => {
      for (let i = 0; i < 5; i++) store.appendDecision(entry({ at: Date.UTC(2025, 0, 1, 4) + d * DAY + i * 1000 }), () => null);
    };
    const publish = async (): Promise<void> => receive(stats(status.next() as unknown as { seq: number; hash: string }));
    for (let d = 0; d < 400; d += 50) {
      clock.now = Date.UTC(2025, 0, 1, 4) + d * DAY;
      day(d);
      await publish();
    }
    clock.now = Date.UTC(2025, 0, 1, 4) + 400 * DAY; // day 0 is past 365 days
    const job = new RetentionJob({ room: store.retention!, personalDataDays: 28, ledgerDays: 365, everyMs: 0, now: () => clock.now, logger: silentLogger(), key, pauseMs: 0 });
    await job.runOnce();
    expect(job.counts().checkpoints).toBe(1);
    day(400);
    await publish();
    expect(store.verifyChain()).toMatchObject({ ok: true });
    expect(await check().runOnce()).toEqual([]);

    // By hand: the oldest rows left deleted without a checkpoint (the PC's chain now starts after what the checkpoint states).
    const db = new Database(store.path);
    const first = (db.prepare('SELECT min(seq) AS s FROM chain').get() as { s: number }).s;
    db.exec(`DROP TRIGGER chain_no_delete; DELETE FROM chain WHERE seq <= ${first + 2}`);
    db.close();
    day(401);
    await publish();
    expect((await check().runOnce()).map((b) => b.kind)).toEqual(['truncated']);
  });

  it('raises one alert when two instances check the same stats at once', async () => {
    await receive(stats({ seq: 30, hash: hashOf('a') }), stats({ seq: 4, hash: hashOf('b') }));
    const [a, b] = await Promise.all([check().runOnce(), check().runOnce()]);
    expect(a!.length + b!.length).toBe(1);
    expect(await chainAlerts()).toHaveLength(1);
  });
});

describe('stats with and without the chain head', () => {
  it('are both valid messages for the office; a malformed head is rejected', () => {
    const parse = (b: Record<string, unknown>) => classify('checkpoints/mine-a/gate-1/stats', Buffer.from(JSON.stringify(b)), 'checkpoints', validators).type;
    expect(parse(stats(null))).toBe('stats');
    expect(parse(stats({ seq: 3, hash: randomBytes(32).toString('hex') }))).toBe('stats');
    expect(parse(stats({ seq: 3, hash: 'not-hex' }))).toBe('rejected');
    expect(parse(stats({ seq: 0, hash: randomBytes(32).toString('hex') }))).toBe('rejected');
    const h = randomBytes(32).toString('hex');
    const full = { seq: 9, hash: h, start: 4, cut: { seq: 8, fromSeq: 1, toSeq: 3 }, prev: { seq: 7, hash: null }, key: { id: '0123456789abcdef', publicKey: 'A'.repeat(43) } };
    expect(parse(stats(full))).toBe('stats');
    expect(parse(stats({ ...full, prev: { seq: 7, hash: h } }))).toBe('stats');
    expect(parse(stats({ ...full, cut: { seq: 8 } }))).toBe('rejected');
  });
});
