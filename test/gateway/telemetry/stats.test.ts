// …/stats carries the ledger's highest seq, so the office can tell that events after the
// last one it received are missing (a tail gap) and ask for them again, and the head of
// the ledger's hash chain, so it can tell a ledger cut back or rebuilt.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StatsReporter } from '../../../gateway/telemetry/stats.js';
import { checkMessage } from './asyncapi.js';
import { CTX, silentLogger, storeFixture, writeRows, type StoreFixture } from './helpers.js';

describe('stats message', () => {
  let f: StoreFixture;
  beforeEach(async () => {
    f = await storeFixture('stats');
  });
  afterEach(() => f.cleanup.run());

  function reporter(): { stats: StatsReporter; sent: string[] } {
    const sent: string[] = [];
    const stats = new StatsReporter({
      ...CTX,
      topic: f.topics.stats,
      intervalMs: 0,
      now: Date.now,
      logger: silentLogger(),
      publish: (_topic, payload) => {
        sent.push(payload);
        return true;
      },
      outboxDepth: () => f.store.outboxDepth(),
      unackedAlerts: () => 0,
      lastSeq: () => f.store.lastSeq(),
      chainHead: () => f.store.chainHead(),
      lanes: ['lane-1'],
    });
    return { stats, sent };
  }

  it("carries the ledger's highest seq (0 while the ledger is empty), as docs/asyncapi.yaml describes it", () => {
    const { stats, sent } = reporter();
    expect(stats.tick()).toBe(true);
    const rows = writeRows(f.store, f.topics, 3);
    expect(stats.tick()).toBe(true);
    const [empty, after] = sent.map((s) => JSON.parse(s) as { lastSeq?: number });
    expect(empty!.lastSeq).toBe(0);
    expect(after!.lastSeq).toBe(rows[2]!.seq);
    for (const s of sent) expect(checkMessage(f.topics.stats, s)).toEqual([]);
    expect(checkMessage(f.topics.stats, JSON.stringify({ ...JSON.parse(sent[1]!), lastSeq: -1 }))).not.toEqual([]);
  });

  it('carries the head of the hash chain, which moves with every ledger row, as docs/asyncapi.yaml describes it', () => {
    const { stats, sent } = reporter();
    stats.tick();
    writeRows(f.store, f.topics, 2);
    stats.tick();
    const [before, after] = sent.map((s) => JSON.parse(s) as { chain?: { seq: number; hash: string } });
    expect(before!.chain?.seq).toBe(1); // the genesis row of a new ledger
    expect(after!.chain).toEqual(f.store.chainHead());
    expect(after!.chain?.seq).toBe(3);
    expect(after!.chain?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(after!.chain?.hash).not.toBe(before!.chain?.hash);
    for (const s of sent) expect(checkMessage(f.topics.stats, s)).toEqual([]);
    // Older gateways send no chain: still a valid message.
    const { chain: _c, ...old } = JSON.parse(sent[1]!) as Record<string, unknown>;
    expect(checkMessage(f.topics.stats, JSON.stringify(old))).toEqual([]);
    expect(checkMessage(f.topics.stats, JSON.stringify({ ...old, chain: { seq: 3, hash: 'ABC' } }))).not.toEqual([]);
  });
});
