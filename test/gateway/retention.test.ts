// The retention job inside the gateway: on its timer (fake timers, injected clock) it
// purges delivered outbox rows, erases expired personal fields and cuts expired days behind
// a signed checkpoint, in steps of the batch size, leaving `ledger verify` clean; and what
// …/stats says of the chain (start, the checkpoint behind it, the row published last).
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DAY_MS } from '../../gateway/policy/time.js';
import { READ_AHEAD_WAIT_MS, RetentionJob, type RetentionJobOptions, WAL_WAIT_MS } from '../../gateway/retention.js';
import { loadOrCreateGatewayKey, openStore, type SqliteStore } from '../../gateway/store/index.js';
import { ChainStatusSource } from '../../gateway/telemetry/chain-status.js';
import { closeAndRemove, entry, freshDir, track } from './store/helpers.js';
import { silentLogger } from './telemetry/helpers.js';

afterEach(() => {
  vi.useRealTimers();
  closeAndRemove();
});

const T0 = Date.UTC(2024, 0, 1, 4);

function oldLedger(dir: string, clock: { now: number }): SqliteStore {
  const store = track(openStore(dir, { now: () => clock.now }));
  for (let d = 0; d < 5; d++) {
    for (let i = 0; i < 7; i++) store.appendDecision(entry({ at: T0 + d * DAY_MS + i * 60_000, subjectName: '张三', temperature: 36.6 }), (row) => ({ topic: 't/e', payload: JSON.stringify({ seq: row.seq }), qos: 1 }));
  }
  store.markDeliveredMany(store.outboxPending(100).map((r) => r.id));
  return store;
}

/** A job run by hand (runOnce) with the default days; `o` adds the hooks a test watches. */
function manualJob(store: SqliteStore, clock: { now: number }, o: Partial<RetentionJobOptions>): RetentionJob {
  return new RetentionJob({ room: store.retention!, personalDataDays: 28, ledgerDays: 365, everyMs: 0, now: () => clock.now, logger: silentLogger(), ...o });
}

describe('the retention job', () => {
  it('runs on its timer: deletes delivered outbox rows after 7 days, erases personal fields after personalDataDays, cuts days after ledgerDays, in batch-sized steps, and the chain verifies', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const dir = freshDir();
    const clock = { now: T0 + 5 * DAY_MS };
    const store = oldLedger(dir, clock);
    const steps: number[] = [];
    const job = new RetentionJob({
      room: store.retention!,
      personalDataDays: 28,
      ledgerDays: 365,
      everyMs: 600_000,
      now: () => clock.now,
      logger: silentLogger(),
      key: loadOrCreateGatewayKey(dir),
      batch: { erase: 4, delete: 3, outbox: 5 },
      onStep: (ms) => steps.push(ms),
    });
    job.start();
    const db = track(new Database(store.path, { readonly: true }));
    const names = (): number => (db.prepare('SELECT count(*) AS n FROM ledger WHERE subject_name IS NOT NULL').get() as { n: number }).n;

    // Day 5: nothing is due yet.
    await vi.advanceTimersByTimeAsync(600_000);
    await job.runOnce();
    expect(job.counts()).toMatchObject({ erased: 0, deleted: 0, outboxDeleted: 0, checkpoints: 0 });

    // 40 days on: the rows are past 28 days (erased) and the outbox rows past 7 (deleted); none past 365.
    clock.now = T0 + 40 * DAY_MS;
    await vi.advanceTimersByTimeAsync(600_000);
    await job.runOnce();
    expect(job.counts()).toMatchObject({ erased: 35, deleted: 0, outboxDeleted: 35, checkpoints: 0 });
    expect(names()).toBe(0);
    expect(store.verifyChain()).toMatchObject({ ok: true, erased: { person: 35, health: 35 } });

    // 367 days after day 0: days 0 and 1 are cut behind one checkpoint, three chain rows a step.
    clock.now = T0 + 367 * DAY_MS;
    await vi.advanceTimersByTimeAsync(600_000);
    await job.runOnce();
    expect(job.counts()).toMatchObject({ checkpoints: 1 });
    expect(db.prepare('SELECT count(*) AS n FROM ledger').get()).toEqual({ n: 21 });
    const report = store.verifyChain();
    expect(report).toMatchObject({ ok: true, records: { ledger: 21 } });
    expect(report.cutBy).toBe(store.chainHead()!.seq);
    expect(steps.length).toBeGreaterThan(15 / 3);
    await job.stop();
  });

  it('waits for the WAL checkpointer before every step, then runs it', async () => {
    const clock = { now: T0 + 40 * DAY_MS };
    const store = oldLedger(freshDir(), clock);
    const events: string[] = [];
    const job = manualJob(store, clock, {
      batch: { erase: 100 },
      pauseMs: 0,
      walCaughtUp: async (maxMs) => {
        events.push(`wait ${maxMs}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return true;
      },
      onStep: () => events.push('step'),
    });
    const counts = await job.runOnce();
    expect(counts.erased).toBe(35);
    expect(events.filter((e) => e === 'step')).toHaveLength(counts.steps);
    // Each step came after its own wait, with the job's bound on it.
    expect(events).toEqual(new Array(counts.steps).fill([`wait ${WAL_WAIT_MS}`, 'step']).flat());
  });

  it('reads ahead each erase and delete step\'s rows as its pause begins, and waits for that before the step', async () => {
    const clock = { now: T0 + 400 * DAY_MS };
    const store = oldLedger(freshDir(), clock);
    const events: string[] = [];
    const job = manualJob(store, clock, {
      batch: { erase: 20, delete: 15 },
      yieldTo: async () => {
        events.push('pause');
        await new Promise((resolve) => setTimeout(resolve, 1));
      },
      readAhead: async (kind, rows, maxMs) => {
        events.push(`ahead ${kind} ${rows} ${maxMs}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        events.push('read');
        return true;
      },
      onStep: () => events.push('step'),
    });
    const counts = await job.runOnce();
    // 35 ledger rows and their 36 chain rows (the genesis too).
    expect(counts).toMatchObject({ erased: 35, deleted: 71, checkpoints: 1 });
    // The outbox steps read nothing ahead; every other step waited for its own read-ahead.
    const ledgerSteps = events.slice(events.indexOf(`ahead erase 20 ${READ_AHEAD_WAIT_MS}`));
    expect(events.slice(0, events.length - ledgerSteps.length).every((e) => e === 'pause' || e === 'step')).toBe(true);
    const erase = [`ahead erase 20 ${READ_AHEAD_WAIT_MS}`, 'pause', 'read', 'step'];
    const cut = [`ahead delete 15 ${READ_AHEAD_WAIT_MS}`, 'pause', 'read', 'step'];
    const nErase = ledgerSteps.filter((e) => e.startsWith('ahead erase')).length;
    expect(nErase).toBe(2);
    expect(ledgerSteps).toEqual([...new Array(nErase).fill(erase).flat(), ...new Array(ledgerSteps.length / 4 - nErase).fill(cut).flat()]);
  });

  it('says in …/stats where the chain starts, the checkpoint behind a cut, and the row it published last as it is now', async () => {
    const dir = freshDir();
    const clock = { now: T0 + 400 * DAY_MS };
    const store = oldLedger(dir, clock);
    const key = loadOrCreateGatewayKey(dir);
    const status = new ChainStatusSource(store, key);
    const first = status.next()!;
    expect(first).toMatchObject({ start: 1, key: { id: key.id } });
    expect(first.prev).toBeUndefined();
    const job = new RetentionJob({ room: store.retention!, personalDataDays: 28, ledgerDays: 28, everyMs: 0, now: () => clock.now, logger: silentLogger(), key });
    await job.runOnce();
    store.appendDecision(entry({ at: clock.now }), () => null);
    const after = status.next()!;
    expect(after.start).toBeGreaterThan(1);
    expect(after.cut).toMatchObject({ fromSeq: 1, toSeq: after.start! - 1 });
    expect(after.prev).toEqual({ seq: first.seq, hash: null }); // the published head was cut by the checkpoint it names
    expect(after.cut!.toSeq).toBeGreaterThanOrEqual(first.seq);
    // Kept across a restart: the next source says what the chain holds at the seq published last.
    expect(new ChainStatusSource(store).next()!.prev).toEqual({ seq: after.seq, hash: after.hash });
  });
});
