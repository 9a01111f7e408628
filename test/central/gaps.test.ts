// Gap repair, the office's side: the detector reads the events' seq from the database
// (so it works across instances), waits afterMs, then publishes one signed resend
// request per checkpoint per retryMs; the gateway's answer is stored with the request.
import path from 'node:path';
import { compactVerify, decodeProtectedHeader, type JWK } from 'jose';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { classify } from '../../central/classify.js';
import { Partitions } from '../../central/db/partitions.js';
import { GapDetector, MAX_RESEND_SPAN, findGap, type RequestedResend } from '../../central/gaps.js';
import { createMetrics } from '../../central/metrics.js';
import { loadValidators } from '../../central/schemas.js';
import { monthsOf, writeBatch } from '../../central/writer.js';
import { loadTrustDir } from '../../gateway/config/trust.js';
import { UPDATE_TYP, verifyUpdate } from '../../gateway/updates/envelope.js';
import { Cleanup, silentLogger } from '../gateway/telemetry/helpers.js';
import { eventPayload, testDb, type TestDb } from './helpers.js';

const CTX = { site: 'mine-a', checkpoint: 'gate-1' };
const KEY = JSON.parse(readFileSync(path.resolve('config/demo/central-1.private.jwk.json'), 'utf8')) as JWK;
const validators = loadValidators();

describe('findGap', () => {
  it('moves the watermark over a dense run and reports no gap', () => {
    expect(findGap(0, [1, 2, 3])).toEqual({ contiguous: 3, gap: null });
    expect(findGap(5, [])).toEqual({ contiguous: 5, gap: null });
  });

  it('reports the first hole, widened over later holes', () => {
    expect(findGap(0, [1, 2, 5, 6])).toEqual({ contiguous: 2, gap: { from: 3, to: 4 } });
    expect(findGap(2, [5, 6, 9])).toEqual({ contiguous: 2, gap: { from: 3, to: 8 } });
    expect(findGap(0, [2])).toEqual({ contiguous: 0, gap: { from: 1, to: 1 } });
  });

  it('never asks for more than the gateway accepts in one request', () => {
    const { gap } = findGap(0, [1, 50_000]);
    expect(gap).toEqual({ from: 2, to: 2 + MAX_RESEND_SPAN - 1 });
    expect(gap!.to - gap!.from).toBeLessThan(MAX_RESEND_SPAN);
  });

  it('asks for the seqs after the last one here up to the highest the gateway reported (a tail gap)', () => {
    expect(findGap(0, [1, 2, 3], 5)).toEqual({ contiguous: 3, gap: { from: 4, to: 5 } });
    expect(findGap(0, [1, 3], 6)).toEqual({ contiguous: 1, gap: { from: 2, to: 6 } });
    expect(findGap(4, [], 4)).toEqual({ contiguous: 4, gap: null });
    expect(findGap(0, [], 50_000)).toEqual({ contiguous: 0, gap: { from: 1, to: MAX_RESEND_SPAN } });
  });

  it('skips a seq below the watermark (the same seq under another id)', () => {
    expect(findGap(3, [3, 4])).toEqual({ contiguous: 4, gap: null });
  });
});

describe('gap detector', () => {
  let cleanup: Cleanup;
  let t: TestDb;
  let now: number;
  let published: { topic: string; payload: string }[];

  beforeEach(async () => {
    cleanup = new Cleanup();
    t = await testDb(cleanup, 'postgres');
    now = Date.UTC(2026, 11, 4, 9, 0, 0);
    published = [];
  });
  afterEach(() => cleanup.run());

  function detector(instance = 'office-1', opts: { key?: JWK | null } = {}): GapDetector {
    return new GapDetector({
      db: t.db,
      logger: silentLogger(),
      metrics: createMetrics(false),
      prefix: 'checkpoints',
      afterMs: 30_000,
      retryMs: 60_000,
      instance,
      signingKey: opts.key === undefined ? KEY : opts.key,
      publish: async (topic, payload) => {
        published.push({ topic, payload });
      },
      now: () => now,
    });
  }

  async function store(channel: string, bodies: unknown[]): Promise<void> {
    const items = bodies.map((b) => classify(`checkpoints/${CTX.site}/${CTX.checkpoint}/${channel}`, Buffer.from(JSON.stringify(b)), 'checkpoints', validators));
    await new Partitions(t.db).ensure(monthsOf(items, now));
    await t.db.transaction((tx) => writeBatch(tx, items, now));
  }
  const events = (...seqs: number[]) => store('events', seqs.map((s) => eventPayload(CTX, s)));

  it('asks for a gap only once it has stayed open for afterMs, signed for that one checkpoint', async () => {
    const d = detector();
    await events(1, 2, 3, 6, 7);
    expect(await d.runOnce()).toEqual([]);
    now += 29_999;
    expect(await d.runOnce()).toEqual([]);
    now += 1;
    const [req] = await d.runOnce();
    expect(req).toBeDefined();
    expect(published).toEqual([{ topic: 'checkpoints/mine-a/gate-1/cmd/resend', payload: req!.token }]);
    expect(req!.envelope).toMatchObject({ kind: 'resend', site: 'mine-a', checkpoint: 'gate-1', version: now, data: { fromSeq: 4, toSeq: 5 } });
    // The signature verifies with the public key the demo gateway trusts (config/central/).
    expect(decodeProtectedHeader(req!.token)).toEqual({ alg: 'EdDSA', typ: UPDATE_TYP, kid: 'demo-central-1' });
    const trusted = await loadTrustDir(path.resolve('config/central'));
    const { payload } = await compactVerify(req!.token, trusted.get('demo-central-1')!.key);
    expect(JSON.parse(Buffer.from(payload).toString('utf8'))).toEqual(req!.envelope);
    const rows = await t.db.query('SELECT from_seq, to_seq, version, instance, answered_at FROM resend_requests');
    expect(rows).toEqual([{ from_seq: 4, to_seq: 5, version: now, instance: 'office-1', answered_at: null }]);
  });

  it('makes a request the gateway\'s own verification accepts', async () => {
    const d = detector();
    await events(1, 3);
    await d.runOnce();
    now += 30_000;
    const [req] = await d.runOnce();
    const verified = await verifyUpdate(req!.token, {
      topicKind: 'resend',
      site: 'mine-a',
      checkpoint: 'gate-1',
      keys: await loadTrustDir(path.resolve('config/central')),
      appliedVersion: () => 0,
    });
    expect(verified.envelope).toMatchObject({ kind: 'resend', data: { fromSeq: 2, toSeq: 2 } });
  });

  it('keeps at most one request per checkpoint per retryMs, across instances', async () => {
    const a = detector('office-a');
    const b = detector('office-b');
    await events(1, 4);
    await a.runOnce();
    now += 30_000;
    const both = [...(await a.runOnce()), ...(await b.runOnce())];
    expect(both).toHaveLength(1);
    now += 59_999;
    expect([...(await a.runOnce()), ...(await b.runOnce())]).toEqual([]);
    now += 1;
    const again = [...(await b.runOnce()), ...(await a.runOnce())];
    expect(again).toHaveLength(1);
    expect(again[0]!.envelope.version).toBeGreaterThan(both[0]!.envelope.version);
    expect(published).toHaveLength(2);
  });

  it('closes the gap when the missing rows arrive, and stores the gateway\'s answer with the request', async () => {
    const d = detector();
    await events(1, 2, 5);
    await d.runOnce();
    now += 30_000;
    const [req] = (await d.runOnce()) as [RequestedResend];
    await store('response/resend', [
      { v: 1, status: 'applied', transaction: req.transaction, kind: 'resend', version: req.envelope.version, at: new Date(now).toISOString(), site: 'mine-a', checkpoint: 'gate-1', resent: 2, lastSeq: 5 },
    ]);
    expect(await t.db.query('SELECT status, resent, last_seq FROM resend_requests')).toEqual([{ status: 'applied', resent: 2, last_seq: 5 }]);
    await events(3, 4);
    now += 120_000;
    expect(await d.runOnce()).toEqual([]);
    expect(await t.db.query('SELECT contiguous, gap_from FROM seq_watermarks')).toEqual([{ contiguous: 5, gap_from: null }]);
  });

  it('moves past rows still missing afterMs after the gateway answered that it resent what it has', async () => {
    const d = detector();
    await events(1, 2, 5);
    await d.runOnce();
    now += 30_000;
    const [req] = (await d.runOnce()) as [RequestedResend];
    const answer = { v: 1, status: 'applied', transaction: req.transaction, kind: 'resend', version: req.envelope.version, site: 'mine-a', checkpoint: 'gate-1', resent: 0, lastSeq: 5 };
    await store('response/resend', [{ ...answer, at: new Date(now).toISOString() }]);
    now += 29_999;
    expect(await d.runOnce()).toEqual([]); // the answer is fresh: resent rows may still be on their way
    expect(await t.db.query('SELECT contiguous FROM seq_watermarks')).toEqual([{ contiguous: 2 }]);
    now += 60_001;
    expect(await d.runOnce()).toEqual([]);
    expect(await t.db.query('SELECT contiguous, gap_from FROM seq_watermarks')).toEqual([{ contiguous: 4, gap_from: null }]);
    expect(await d.runOnce()).toEqual([]);
    expect(await t.db.query('SELECT contiguous FROM seq_watermarks')).toEqual([{ contiguous: 5 }]);
    expect(published).toHaveLength(1);
  });

  const stats = (lastSeq: number) =>
    store('stats', [{ v: 1, at: new Date(now).toISOString(), site: CTX.site, checkpoint: CTX.checkpoint, since: '2026-12-04T00:00:00.000Z', lanes: {}, outboxDepth: 0, unackedAlerts: 0, lastSeq }]);

  it('asks for events lost after the last one received, up to the lastSeq of the gateway\'s stats', async () => {
    const d = detector();
    await events(1, 2, 3);
    await d.runOnce();
    now += 60_000;
    expect(await d.runOnce()).toEqual([]); // nothing says more exist
    await stats(5);
    await stats(4); // an older stats message arriving late lowers nothing
    await d.runOnce();
    now += 30_000;
    expect((await d.runOnce()).map((r) => r.envelope.data)).toEqual([{ fromSeq: 4, toSeq: 5 }]);
  });

  it('takes the lastSeq of an applied resend answer as reported too', async () => {
    const d = detector();
    await events(1, 3);
    await d.runOnce();
    now += 30_000;
    const [req] = (await d.runOnce()) as [RequestedResend];
    expect(req.envelope.data).toEqual({ fromSeq: 2, toSeq: 2 });
    await store('response/resend', [
      { v: 1, status: 'applied', transaction: req.transaction, kind: 'resend', version: req.envelope.version, at: new Date(now).toISOString(), site: 'mine-a', checkpoint: 'gate-1', resent: 1, lastSeq: 6 },
    ]);
    await events(2);
    await d.runOnce();
    now += 60_000;
    expect((await d.runOnce()).map((r) => r.envelope.data)).toEqual([{ fromSeq: 4, toSeq: 6 }]);
  });

  it('starts the wait again when the watermark moves to a later gap', async () => {
    const d = detector();
    await events(1, 3, 5);
    await d.runOnce();
    now += 20_000;
    await events(2);
    expect(await d.runOnce()).toEqual([]); // now the gap is 4, open since this moment
    now += 29_999;
    expect(await d.runOnce()).toEqual([]);
    now += 1;
    expect((await d.runOnce()).map((r) => r.envelope.data)).toEqual([{ fromSeq: 4, toSeq: 4 }]);
  });

  it('asks nothing without a signing key', async () => {
    const d = detector('office-1', { key: null });
    await events(2);
    await d.runOnce();
    now += 60_000;
    expect(await d.runOnce()).toEqual([]);
    expect(published).toEqual([]);
  });
});
