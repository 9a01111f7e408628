// UpdateService with a real SQLite store: apply atomically, answer, alert on refusal,
// keep the last good copy, restore it after a restart.
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateIssuerKeys } from '../../../gateway/credentials/issue.js';
import { trustListFromJwks } from '../../../gateway/credentials/trust-list.js';
import { MINE_ENTRANCE } from '../../../gateway/policy/profiles.js';
import { openStore, type SqliteStore } from '../../../gateway/store/index.js';
import { topicsFor, type CheckpointTopics } from '../../../gateway/telemetry/topics.js';
import { LivePolicy, LiveTrust } from '../../../gateway/updates/live.js';
import { UpdateService, restoreUpdates, type ResponseMessageV1, type UpdateStore } from '../../../gateway/updates/service.js';
import { checkMessage } from '../telemetry/asyncapi.js';
import { CHECKPOINT, SITE, centralKeys, signed, watch, type CentralKeys } from './helpers.js';
import { freshDir, removeDirs } from '../store/helpers.js';

let keys: CentralKeys;
let dir: string;
let store: SqliteStore;
let topics: CheckpointTopics;
let policy: LivePolicy;
let trust: LiveTrust;

beforeAll(async () => {
  keys = await centralKeys('central-svc');
});

beforeEach(() => {
  dir = freshDir('updates-');
  store = openStore(dir);
  topics = topicsFor({ prefix: 'checkpoints', site: SITE, checkpoint: CHECKPOINT });
  policy = new LivePolicy(MINE_ENTRANCE);
  trust = new LiveTrust(new Map());
});

afterEach(() => {
  store.close();
  removeDirs();
});

function service(s: UpdateStore = store): UpdateService {
  return new UpdateService({
    store: s,
    topics,
    site: SITE,
    checkpoint: CHECKPOINT,
    centralKeys: keys.trust,
    policy,
    trust,
    now: () => Date.parse('2022-12-05T09:00:00Z'),
    logger: pino({ level: 'silent' }),
  });
}

function cmd(kind: string, token: string, retained = false) {
  return { topic: `${topics.cmd}/${kind}`, kind, siteWide: false, retained, payload: Buffer.from(token) };
}

/** The outbox rows on response/alert topics, parsed, each checked against the AsyncAPI schema. */
function queued(suffix: string): Record<string, unknown>[] {
  return store
    .outboxPending(1000)
    .filter((r) => r.topic.startsWith(`${topics.response}/`) ? suffix.startsWith('response') && r.topic.endsWith(suffix.slice('response'.length)) : r.topic === topics.alerts && suffix === 'alerts')
    .map((r) => {
      expect(checkMessage(r.topic, r.payload)).toEqual([]);
      return JSON.parse(r.payload) as Record<string, unknown>;
    });
}

describe('UpdateService', () => {
  it('applies a signed watchlist update, records its version and queues an applied response', async () => {
    const result = await service().handle(cmd('watchlist', await signed(keys, 'watchlist', 7, { entries: [watch('P-1')] })));
    expect(result).toMatchObject({ status: 'applied', version: 7, transaction: 'tx-watchlist-7' });
    expect(store.watchlistFor('P-1')).toHaveLength(1);
    expect(store.getMeta('update.watchlist.version')).toBe('7');
    const [response] = queued('response/watchlist');
    expect(response).toMatchObject({ v: 1, status: 'applied', transaction: 'tx-watchlist-7', kind: 'watchlist', version: 7, site: SITE, checkpoint: CHECKPOINT });
    expect(response).not.toHaveProperty('error');
    expect(queued('alerts')).toEqual([]);
  });

  it('links each applied update into the ledger\'s hash chain with the digest of the signed update, and no rejected one', async () => {
    const svc = service();
    const token = await signed(keys, 'watchlist', 7, { entries: [watch('P-1')] });
    await svc.handle(cmd('watchlist', token));
    await svc.handle(cmd('watchlist', await signed(keys, 'watchlist', 7, { entries: [] }))); // stale: rejected
    const db = new Database(store.path, { readonly: true });
    try {
      const rows = db.prepare("SELECT seq, at, body FROM chain WHERE kind = 'update'").all() as { seq: number; at: number; body: string }[];
      expect(rows).toHaveLength(1);
      expect(JSON.parse(rows[0]!.body)).toEqual({ kind: 'watchlist', version: 7, transaction: 'tx-watchlist-7', digest: createHash('sha256').update(token).digest('hex') });
      expect(rows[0]!.at).toBe(Date.parse('2022-12-05T09:00:00Z'));
    } finally {
      db.close();
    }
    expect(store.verifyChain()).toMatchObject({ ok: true, records: { updates: 1 } });
  });

  it('rejects a forged update: state unchanged, a response naming the problem and an update-rejected alert', async () => {
    const svc = service();
    await svc.handle(cmd('watchlist', await signed(keys, 'watchlist', 1, { entries: [watch('P-1')] })));
    const forger = await centralKeys('central-svc');
    const result = await svc.handle(cmd('watchlist', await signed(forger, 'watchlist', 2, { entries: [] })));
    expect(result).toMatchObject({ status: 'rejected', error: { code: 'UPDATE_SIGNATURE_INVALID' } });
    expect(store.watchlistFor('P-1')).toHaveLength(1);
    expect(store.getMeta('update.watchlist.version')).toBe('1');
    const responses = queued('response/watchlist');
    expect(responses.at(-1)).toMatchObject({ status: 'rejected', transaction: 'tx-watchlist-2', version: 2, error: { code: 'UPDATE_SIGNATURE_INVALID' } });
    const [alert] = queued('alerts');
    expect(alert).toMatchObject({ kind: 'update-rejected', severity: 'warning', code: 'UPDATE_SIGNATURE_INVALID', lane: null });
    expect(store.queryAlerts({})).toHaveLength(1);
  });

  it('rejects a repeated version as stale and a malformed one as a schema error, changing nothing', async () => {
    const svc = service();
    await svc.handle(cmd('watchlist', await signed(keys, 'watchlist', 3, { entries: [watch('P-1')] })));
    const again = await svc.handle(cmd('watchlist', await signed(keys, 'watchlist', 3, { entries: [] })));
    expect(again.error?.code).toBe('UPDATE_VERSION_STALE');
    const bad = await svc.handle(cmd('watchlist', await signed(keys, 'watchlist', 4, { entries: [{ subjectId: 'P-2' }] })));
    expect(bad.error?.code).toBe('UPDATE_SCHEMA_INVALID');
    expect(store.watchlistFor('P-1')).toHaveLength(1);
    expect(store.watchlistFor('P-2')).toHaveLength(0);
    expect(store.getMeta('update.watchlist.version')).toBe('3');
    expect(queued('alerts').map((a) => a.code)).toEqual(['UPDATE_VERSION_STALE', 'UPDATE_SCHEMA_INVALID']);
  });

  it('answers garbage on an unknown kind with a rejection on that kind\'s response topic', async () => {
    const result = await service().handle(cmd('firmware', 'not-a-jws'));
    expect(result).toMatchObject({ status: 'rejected', kind: 'firmware', transaction: null, version: null, error: { code: 'UPDATE_MALFORMED' } });
    expect(queued('response/firmware')).toHaveLength(1);
  });

  it('rolls everything back when writing fails half way, and answers UPDATE_APPLY_FAILED', async () => {
    await service().handle(cmd('watchlist', await signed(keys, 'watchlist', 1, { entries: [watch('P-1')] })));
    // A store whose disk "fails" after the watchlist was replaced, inside the transaction.
    const failing: UpdateStore = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'setMeta') {
          return (key: string, value: string) => {
            if (key === 'update.watchlist.version') throw new Error('disk I/O error');
            target.setMeta(key, value);
          };
        }
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const result = await service(failing).handle(cmd('watchlist', await signed(keys, 'watchlist', 2, { entries: [watch('P-2')] })));
    expect(result.error?.code).toBe('UPDATE_APPLY_FAILED');
    expect(store.watchlistFor('P-1')).toHaveLength(1);
    expect(store.watchlistFor('P-2')).toHaveLength(0);
    expect(store.getMeta('update.watchlist.version')).toBe('1');
    expect(queued('response/watchlist').map((r) => r.status)).toEqual(['applied', 'rejected']);
  });

  it('takes a policy update into the live profile and keeps it across a restart', async () => {
    const view = policy.view;
    expect(view.feverThreshold).toBe(37.3);
    const result = await service().handle(cmd('policy', await signed(keys, 'policy', 1, { overrides: { feverThreshold: 37.0 } })));
    expect(result.status).toBe('applied');
    expect(view.feverThreshold).toBe(37.0); // the object the lanes hold follows the update
    store.close();
    store = openStore(dir);
    const restored = await restoreUpdates(store, { profile: MINE_ENTRANCE, trust: new Map() });
    expect(restored.restored).toEqual(['policy']);
    expect(restored.profile.feverThreshold).toBe(37.0);
  });

  it('replaces the trusted pass issuers with a trust-keys update, persisted for the next start', async () => {
    const oldIssuer = await generateIssuerKeys('issuer-old');
    const newIssuer = await generateIssuerKeys('issuer-new');
    trust.replace(await trustListFromJwks([oldIssuer.publicJwk]));
    const view = trust.view;
    const result = await service().handle(cmd('trust-keys', await signed(keys, 'trust-keys', 1, { keys: [newIssuer.publicJwk] })));
    expect(result.status).toBe('applied');
    expect([...view.keys()]).toEqual(['issuer-new']);
    store.close();
    store = openStore(dir);
    const restored = await restoreUpdates(store, { profile: MINE_ENTRANCE, trust: await trustListFromJwks([oldIssuer.publicJwk]) });
    expect([...restored.trust.keys()]).toEqual(['issuer-new']);
  });

  it('handles updates one at a time in arrival order, so an older one sent later is stale', async () => {
    const svc = service();
    const [v2, v1] = [await signed(keys, 'risk-areas', 2, { entries: [] }), await signed(keys, 'risk-areas', 1, { entries: [] })];
    const results = await Promise.all([svc.handle(cmd('risk-areas', v2)), svc.handle(cmd('risk-areas', v1))]);
    expect(results.map((r) => r.status)).toEqual(['applied', 'rejected']);
    expect(results[1]?.error?.code).toBe('UPDATE_VERSION_STALE');
  });

  it('passes over a retained copy of the update already applied, without answer or alert', async () => {
    const svc = service();
    const token = await signed(keys, 'watchlist', 4, { entries: [watch('P-1')] });
    expect((await svc.handle(cmd('watchlist', token, true))).status).toBe('applied'); // first delivery
    expect((await svc.handle(cmd('watchlist', token, true))).status).toBe('ignored'); // after a reconnect
    expect(queued('response/watchlist')).toHaveLength(1);
    expect(queued('alerts')).toEqual([]);
    // Not retained, the same copy is a replay: answered stale, with an alert.
    expect((await svc.handle(cmd('watchlist', token))).error?.code).toBe('UPDATE_VERSION_STALE');
    expect(queued('alerts')).toHaveLength(1);
  });

  it('passes over a copy the broker re-sends (DUP) of the update already applied', async () => {
    const svc = service();
    const token = await signed(keys, 'watchlist', 5, { entries: [watch('P-1')] });
    expect((await svc.handle(cmd('watchlist', token))).status).toBe('applied');
    expect((await svc.handle({ ...cmd('watchlist', token), dup: true })).status).toBe('ignored');
    expect(queued('response/watchlist')).toHaveLength(1);
    expect(queued('alerts')).toEqual([]);
  });

  it('passes over a retained copy of a rejected update that first came live, but not a live repeat or other junk', async () => {
    // Subscribed when the office published it retained, we got it without the retain flag;
    // every reconnect (MQTT 3.1.1) then hands the same junk again, retained.
    const svc = service();
    expect((await svc.handle(cmd('policy', 'retained.junk.update'))).status).toBe('rejected');
    expect(queued('alerts')).toHaveLength(1);
    expect((await svc.handle(cmd('policy', 'retained.junk.update', true))).status).toBe('ignored');
    expect(queued('response/policy')).toHaveLength(1);
    expect((await svc.handle(cmd('policy', 'other.junk.update', true))).status).toBe('rejected');
    expect((await svc.handle(cmd('policy', 'other.junk.update'))).status).toBe('rejected');
    expect((await svc.handle(cmd('watchlist', 'other.junk.update', true))).status).toBe('rejected');
  });

  it('never puts a roster name or an ID number into a response or an alert', async () => {
    const entry = { staffId: 'E-0001', name: '张伟', category: 'employee', health: { healthCode: 'purple' }, active: true };
    await service().handle(cmd('roster', await signed(keys, 'roster', 1, { entries: [entry, watch('110101199003071234')] })));
    const text = JSON.stringify(store.outboxPending(1000));
    expect(text).not.toContain('张伟');
    expect(text).not.toContain('110101199003071234');
    expect(text).not.toContain('E-0001');
    expect(queued('response/roster')[0]).toMatchObject({ status: 'rejected', error: { code: 'UPDATE_SCHEMA_INVALID' } });
  });
});
