// The batcher: one transaction per batch, acknowledgements only after the commit, none
// for a failed commit (which is retried, then acknowledged once it commits).
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { classify } from '../../central/classify.js';
import { Partitions } from '../../central/db/partitions.js';
import { Ingest } from '../../central/ingest.js';
import { subscriptionsFor } from '../../central/link.js';
import { createMetrics } from '../../central/metrics.js';
import { loadValidators } from '../../central/schemas.js';
import { Cleanup, silentLogger, waitFor } from '../gateway/telemetry/helpers.js';
import { eventPayload, PG_URL, testDb, type TestDb } from './helpers.js';

const CTX = { site: 'mine-a', checkpoint: 'gate-1' };
const validators = loadValidators();

describe('ingest', () => {
  let cleanup: Cleanup;
  let t: TestDb;

  beforeEach(async () => {
    cleanup = new Cleanup();
    t = await testDb(cleanup, 'postgres');
  });
  afterEach(() => cleanup.run());

  let metrics: ReturnType<typeof createMetrics>;
  function ingest(batchMax: number, onCommit?: () => void): Ingest {
    metrics = createMetrics(false);
    const i = new Ingest({
      db: t.db,
      partitions: new Partitions(t.db),
      metrics,
      logger: silentLogger(),
      batchMax,
      batchMs: 5,
      ...(onCommit ? { onCommit } : {}),
    });
    cleanup.add(() => i.stop());
    return i;
  }
  const item = (seq: number) => classify('checkpoints/mine-a/gate-1/events', Buffer.from(JSON.stringify(eventPayload(CTX, seq))), 'checkpoints', validators);
  const rows = async (): Promise<number> => Number((await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM events'))[0]?.n);

  it('acknowledges each message only after the transaction holding its row committed, in batches of at most batchMax', async () => {
    const acked: number[] = [];
    const rowsAtAck: number[] = [];
    const i = ingest(4);
    for (let seq = 1; seq <= 10; seq++) {
      i.push({
        item: item(seq),
        ack: () => {
          acked.push(seq);
          void rows().then((n) => rowsAtAck.push(n));
        },
      });
    }
    await waitFor('all acked', () => acked.length === 10);
    await waitFor('counts read', () => rowsAtAck.length === 10);
    expect(acked).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // When a message is acknowledged its row is already visible to another connection.
    for (const [k, n] of rowsAtAck.entries()) expect(n).toBeGreaterThanOrEqual(k + 1);
  });

  it('acknowledges nothing while commits fail, and everything once the database works again', async () => {
    await t.db.exec('ALTER TABLE event_keys RENAME TO event_keys_away');
    let acks = 0;
    let commits = 0;
    const i = ingest(100, () => (commits += 1));
    for (let seq = 1; seq <= 5; seq++) i.push({ item: item(seq), ack: () => (acks += 1) });
    const failures = async (): Promise<number> => (await metrics.commitFailures.get()).values[0]?.value ?? 0;
    await waitFor('two failed attempts', async () => (await failures()) >= 2);
    expect(acks).toBe(0);
    expect(i.backlog).toBe(5);
    await t.db.exec('ALTER TABLE event_keys_away RENAME TO event_keys');
    await waitFor('acked after the retry', () => acks === 5, 15_000);
    expect(commits).toBe(1);
    expect(await rows()).toBe(5);
  });

  it('sets a message the database refuses aside in rejected_messages instead of blocking the queue', async () => {
    const poison = { ...eventPayload(CTX, 1), seq: 1e19 }; // schema-valid, beyond bigint
    let acks = 0;
    const i = ingest(100);
    i.push({ item: classify('checkpoints/mine-a/gate-1/events', Buffer.from(JSON.stringify(poison)), 'checkpoints', validators), ack: () => (acks += 1) });
    for (let seq = 2; seq <= 4; seq++) i.push({ item: item(seq), ack: () => (acks += 1) });
    await waitFor('all acked', () => acks === 4, 15_000);
    expect(await rows()).toBe(3);
    const rejected = await t.db.query<{ reason: string; payload: string }>('SELECT reason, payload FROM rejected_messages');
    expect(rejected).toEqual([{ reason: expect.stringMatching(/^the database refused it: .*bigint/), payload: expect.stringContaining(poison.id) }]);
  });

  it('writes two batches at once but acknowledges a later batch only after the earlier one committed', async () => {
    // Another connection holds rejected_messages: the first batch (a junk message and
    // seq 2) waits on it, the second (seq 3, 4) commits meanwhile on its own connection.
    const blocker = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${t.schema}` });
    await blocker.connect();
    cleanup.add(() => blocker.end());
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE rejected_messages IN ACCESS EXCLUSIVE MODE');
    const acked: string[] = [];
    const i = ingest(2);
    // The checkpoint's first event makes its row in seq_watermarks (a second batch would
    // wait for that uncommitted row): let it be committed before the test proper.
    i.push({ item: item(1), ack: () => acked.push('1') });
    await waitFor('the first event', () => acked.length === 1);
    acked.length = 0;
    const junk = classify('checkpoints/mine-a/gate-1/events', Buffer.from('not json'), 'checkpoints', validators);
    i.push({ item: junk, ack: () => acked.push('junk') });
    for (let seq = 2; seq <= 4; seq++) i.push({ item: item(seq), ack: () => acked.push(String(seq)) });
    const visible = async (): Promise<number> => Number((await blocker.query<{ n: number }>('SELECT count(*)::int AS n FROM events')).rows[0]?.n);
    await waitFor('the second batch committed', async () => (await visible()) === 3);
    expect(acked).toEqual([]);
    await blocker.query('COMMIT');
    await waitFor('all acked', () => acked.length === 4);
    expect(acked).toEqual(['junk', '2', '3', '4']);
    expect(await rows()).toBe(4);
  });
});

describe('subscriptions', () => {
  it('shares the load-shared channels in the group and never the retained status', () => {
    expect(subscriptionsFor('acme/checkpoints', 'office')).toEqual([
      '$share/office/acme/checkpoints/+/+/events',
      '$share/office/acme/checkpoints/+/+/alerts',
      '$share/office/acme/checkpoints/+/+/stats',
      '$share/office/acme/checkpoints/+/+/screening',
      '$share/office/acme/checkpoints/+/+/response/+',
      'acme/checkpoints/+/+/status',
    ]);
    expect(subscriptionsFor('checkpoints')).toContain('checkpoints/+/+/events');
  });
});
