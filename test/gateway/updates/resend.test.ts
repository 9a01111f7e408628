// The gateway side of gap repair: a signed `resend` request queues the events of a ledger
// range again (same ids, same content), records its version and answers with `resent`
// and `lastSeq`, all in one transaction; `all`, stale versions and large ranges are refused.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type SqliteStore } from '../../../gateway/store/index.js';
import type { LedgerEntry } from '../../../gateway/store/types.js';
import { decisionOutbox } from '../../../gateway/telemetry/alerts.js';
import { topicsFor, type CheckpointTopics } from '../../../gateway/telemetry/topics.js';
import { UpdateService, type UpdateStore } from '../../../gateway/updates/service.js';
import { checkMessage } from '../telemetry/asyncapi.js';
import { newEntry } from '../telemetry/helpers.js';
import { CHECKPOINT, SITE, centralKeys, signed, type CentralKeys, updateService } from './helpers.js';
import { freshDir, removeDirs } from '../store/helpers.js';

let keys: CentralKeys;
let store: SqliteStore;
let topics: CheckpointTopics;

beforeAll(async () => {
  keys = await centralKeys('central-resend');
});

beforeEach(() => {
  store = openStore(freshDir('resend-'));
  topics = topicsFor({ prefix: 'checkpoints', site: SITE, checkpoint: CHECKPOINT });
});

afterEach(() => {
  store.close();
  removeDirs();
});

function service(s: UpdateStore = store): UpdateService {
  return updateService(s, keys, topics, Date.parse('2022-12-05T09:00:00Z'));
}

function cmd(token: string) {
  return { topic: `${topics.cmd}/resend`, kind: 'resend', siteWide: false, retained: false, payload: Buffer.from(token) };
}

/** n decisions, each with its event (and a fever alert on every third) queued as live. */
function decisions(n: number): LedgerEntry[] {
  const toOutbox = decisionOutbox(store, topics, { site: SITE, checkpoint: CHECKPOINT });
  const rows: LedgerEntry[] = [];
  for (let i = 0; i < n; i++) {
    const alerts = i % 3 === 0 ? [{ kind: 'fever' as const, severity: 'critical' as const, code: 'TEMP_FEVER' }] : [];
    rows.push(store.appendDecision(newEntry({ alerts, outcome: alerts.length > 0 ? 'refuse' : 'admit' }), toOutbox));
  }
  return rows;
}

/** Drains the outbox as the link would (marks everything delivered) and returns the rows. */
function drain() {
  const rows = store.outboxPending(10_000);
  store.markDeliveredMany(rows.map((r) => r.id));
  return rows;
}

describe('resend (gap repair)', () => {
  it('queues the events of the range again with the same ids and content, created at 0, and answers resent and lastSeq', async () => {
    const rows = decisions(10);
    const first = new Map(drain().filter((r) => r.topic === topics.events).map((r) => [(JSON.parse(r.payload) as { id: string }).id, r.payload]));
    const result = await service().handle(cmd(await signed(keys, 'resend', 1_733_300_000_000, { fromSeq: rows[3]!.seq, toSeq: rows[6]!.seq })));
    expect(result).toMatchObject({ status: 'applied', kind: 'resend', version: 1_733_300_000_000 });

    const queued = drain();
    const events = queued.filter((r) => r.topic === topics.events);
    expect(events.map((r) => (JSON.parse(r.payload) as { seq: number }).seq)).toEqual([3, 4, 5, 6].map((i) => rows[i]!.seq));
    for (const e of events) {
      const id = (JSON.parse(e.payload) as { id: string }).id;
      expect(e.payload).toBe(first.get(id)); // byte for byte what was published live
      expect(e.createdAt).toBe(0); // the link flags it historical
      expect(checkMessage(e.topic, e.payload)).toEqual([]);
    }
    // Only events: the alerts of those decisions were delivered and are not repeated.
    expect(queued.filter((r) => r.topic === topics.alerts)).toEqual([]);
    const response = queued.find((r) => r.topic === `${topics.response}/resend`)!;
    expect(checkMessage(response.topic, response.payload)).toEqual([]);
    expect(JSON.parse(response.payload)).toMatchObject({ status: 'applied', kind: 'resend', resent: 4, lastSeq: rows[9]!.seq, transaction: 'tx-resend-1733300000000' });
    expect(store.getMeta('update.resend.version')).toBe('1733300000000');
  });

  it('leaves out seqs the ledger does not have and answers resent 0, lastSeq 0 on an empty ledger', async () => {
    const svc = service();
    await svc.handle(cmd(await signed(keys, 'resend', 1, { fromSeq: 1, toSeq: 50 })));
    expect(JSON.parse(drain().find((r) => r.topic.endsWith('/response/resend'))!.payload)).toMatchObject({ status: 'applied', resent: 0, lastSeq: 0 });
    const rows = decisions(3);
    drain();
    await svc.handle(cmd(await signed(keys, 'resend', 2, { fromSeq: rows[1]!.seq, toSeq: rows[2]!.seq + 100 })));
    const queued = drain();
    expect(queued.filter((r) => r.topic === topics.events)).toHaveLength(2);
    expect(JSON.parse(queued.find((r) => r.topic.endsWith('/response/resend'))!.payload)).toMatchObject({ resent: 2, lastSeq: rows[2]!.seq });
  });

  it('refuses a request for every checkpoint (all) with UPDATE_WRONG_TARGET and queues nothing else', async () => {
    decisions(2);
    drain();
    const result = await service().handle(cmd(await signed(keys, 'resend', 1, { fromSeq: 1, toSeq: 2 }, { checkpoint: 'all' })));
    expect(result.error?.code).toBe('UPDATE_WRONG_TARGET');
    const queued = drain();
    expect(queued.filter((r) => r.topic === topics.events)).toEqual([]);
    expect(JSON.parse(queued.find((r) => r.topic.endsWith('/response/resend'))!.payload)).not.toHaveProperty('resent');
  });

  it('refuses a stale version (a second office instance that lost the race) with UPDATE_VERSION_STALE', async () => {
    decisions(2);
    const svc = service();
    expect((await svc.handle(cmd(await signed(keys, 'resend', 2000, { fromSeq: 1, toSeq: 2 })))).status).toBe('applied');
    drain();
    const stale = await svc.handle(cmd(await signed(keys, 'resend', 1999, { fromSeq: 1, toSeq: 2 })));
    expect(stale.error?.code).toBe('UPDATE_VERSION_STALE');
    expect(drain().filter((r) => r.topic === topics.events)).toEqual([]);
  });

  it('refuses a range of 10 000 rows or more, and a reversed range, with UPDATE_SCHEMA_INVALID', async () => {
    const svc = service();
    expect((await svc.handle(cmd(await signed(keys, 'resend', 1, { fromSeq: 1, toSeq: 10_001 })))).error?.code).toBe('UPDATE_SCHEMA_INVALID');
    expect((await svc.handle(cmd(await signed(keys, 'resend', 2, { fromSeq: 5, toSeq: 4 })))).error?.code).toBe('UPDATE_SCHEMA_INVALID');
    expect((await svc.handle(cmd(await signed(keys, 'resend', 3, { fromSeq: 0, toSeq: 4 })))).error?.code).toBe('UPDATE_SCHEMA_INVALID');
    expect((await svc.handle(cmd(await signed(keys, 'resend', 4, { fromSeq: 1, toSeq: 10_000 })))).status).toBe('applied');
  });
});
