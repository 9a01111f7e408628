// The signed `dcc-trust` update: the EU DCC document signers, checked like the pass-issuer
// keys (each a certificate with its own kid), versioned, applied in one transaction with
// its response, swapped in live after the commit, and restored at the next start.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DccTrustInput } from '../../../gateway/credentials/dcc/types.js';
import { MINE_ENTRANCE } from '../../../gateway/policy/profiles.js';
import { openStore, type SqliteStore } from '../../../gateway/store/index.js';
import { topicsFor, type CheckpointTopics } from '../../../gateway/telemetry/topics.js';
import { prepareUpdateData, verifyUpdate } from '../../../gateway/updates/envelope.js';
import { LiveDccTrust } from '../../../gateway/updates/live.js';
import { META, UpdateService, restoreUpdates } from '../../../gateway/updates/service.js';
import { makeCert, trustEntry, type MadeCert } from '../credentials/dcc-certs.js';
import { freshDir, removeDirs } from '../store/helpers.js';
import { checkMessage } from '../telemetry/asyncapi.js';
import { CHECKPOINT, SITE, centralKeys, codeOf, envelope, signed, type CentralKeys, updateService } from './helpers.js';

let keys: CentralKeys;
let a: MadeCert;
let b: MadeCert;
let store: SqliteStore;
let topics: CheckpointTopics;
/** What the lanes' decoders read: here the kids of the list in force, in order. */
let dcc: LiveDccTrust<string[]>;

const kids = (entries: readonly DccTrustInput[]) => entries.map((e) => e.kid);

beforeAll(async () => {
  keys = await centralKeys('central-dcc');
  a = makeCert('dsc-at');
  b = makeCert('dsc-de');
});

beforeEach(() => {
  store = openStore(freshDir('dcc-trust-update-'));
  topics = topicsFor({ prefix: 'checkpoints', site: SITE, checkpoint: CHECKPOINT });
  dcc = new LiveDccTrust([trustEntry(a)], kids);
});

afterEach(() => {
  store.close();
  removeDirs();
});

function service(build?: LiveDccTrust<string[]>): UpdateService {
  return updateService(store, keys, topics, Date.parse('2022-12-05T09:00:00Z'), build ? { dccTrust: build } : {});
}

const cmd = (token: string) => ({ topic: `${topics.cmd}/dcc-trust`, kind: 'dcc-trust', siteWide: false, retained: false, payload: Buffer.from(token) });

function responses(): Record<string, unknown>[] {
  return store
    .outboxPending(100)
    .filter((r) => r.topic === `${topics.response}/dcc-trust`)
    .map((r) => {
      expect(checkMessage(r.topic, r.payload)).toEqual([]);
      return JSON.parse(r.payload) as Record<string, unknown>;
    });
}

describe('the dcc-trust update', () => {
  it('replaces the list live, records version and certificates, and answers applied', async () => {
    const result = await service(dcc).handle(cmd(await signed(keys, 'dcc-trust', 5, { certificates: [trustEntry(b)] })));
    expect(result).toMatchObject({ status: 'applied', kind: 'dcc-trust', version: 5 });
    expect(dcc.current).toEqual([b.kid]);
    expect(store.getMeta('update.dcc-trust.version')).toBe('5');
    expect(JSON.parse(store.getMeta(META.dccTrust) ?? 'null')).toEqual([trustEntry(b)]);
    expect(responses()).toEqual([expect.objectContaining({ status: 'applied', kind: 'dcc-trust', version: 5 })]);
  });

  it('may empty the list (the office withdraws every signer)', async () => {
    await service(dcc).handle(cmd(await signed(keys, 'dcc-trust', 1, { certificates: [] })));
    expect(dcc.current).toEqual([]);
  });

  it.each([
    ['a kid that is not its certificate\'s', () => ({ certificates: [{ kid: 'AAAAAAAAAAA=', certificate: a.der.toString('base64') }] }), /certificates\[0\]: expected "kid"/],
    ['something that is not a certificate', () => ({ certificates: [{ kid: 'x', certificate: Buffer.from('nope').toString('base64') }] }), /X\.509/],
    ['a bare list instead of {certificates}', () => [trustEntry(a)], /data/],
    ['another key beside certificates', () => ({ certificates: [], keys: [] }), /data/],
  ])('refuses %s, changing nothing', async (_name, data, message) => {
    const result = await service(dcc).handle(cmd(await signed(keys, 'dcc-trust', 2, data())));
    expect(result).toMatchObject({ status: 'rejected', error: { code: 'UPDATE_SCHEMA_INVALID' } });
    expect(result.error?.message).toMatch(message);
    expect(dcc.current).toEqual([a.kid]);
    expect(store.getMeta('update.dcc-trust.version')).toBeUndefined();
    expect(responses()).toEqual([expect.objectContaining({ status: 'rejected', error: expect.objectContaining({ code: 'UPDATE_SCHEMA_INVALID' }) })]);
  });

  it('refuses a list the verifier will not build, before anything is written', async () => {
    const picky = new LiveDccTrust<string[]>([], (entries) => {
      if (entries.some((e) => e.kid === b.kid)) throw new Error('[TRUST_KEY_INVALID] certificates[0]: not a signing key the verifier takes');
      return kids(entries);
    });
    const result = await service(picky).handle(cmd(await signed(keys, 'dcc-trust', 3, { certificates: [trustEntry(b)] })));
    expect(result).toMatchObject({ status: 'rejected', error: { code: 'UPDATE_SCHEMA_INVALID' } });
    expect(picky.current).toEqual([]);
    expect(store.getMeta(META.dccTrust)).toBeUndefined();
  });

  it('refuses a version not above the applied one as stale', async () => {
    const svc = service(dcc);
    await svc.handle(cmd(await signed(keys, 'dcc-trust', 9, { certificates: [trustEntry(b)] })));
    const again = await svc.handle(cmd(await signed(keys, 'dcc-trust', 9, { certificates: [] })));
    expect(again.error?.code).toBe('UPDATE_VERSION_STALE');
    expect(dcc.current).toEqual([b.kid]);
  });

  it('is restored at the next start over the trust folder\'s list', async () => {
    await service(dcc).handle(cmd(await signed(keys, 'dcc-trust', 4, { certificates: [trustEntry(b), trustEntry(a)] })));
    const restored = await restoreUpdates(store, { profile: MINE_ENTRANCE, trust: new Map(), dccTrust: [trustEntry(a)] });
    expect(restored.dccTrust).toEqual([trustEntry(b), trustEntry(a)]);
    expect(restored.restored).toContain('dcc-trust');
  });

  it('leaves the folder\'s list in force when none was applied', async () => {
    const restored = await restoreUpdates(store, { profile: MINE_ENTRANCE, trust: new Map(), dccTrust: [trustEntry(a)] });
    expect(restored.dccTrust).toEqual([trustEntry(a)]);
    expect(restored.restored).not.toContain('dcc-trust');
  });

  it('is checked the same way by the office before signing (prepareUpdateData)', async () => {
    expect(await prepareUpdateData(envelope('dcc-trust', 1, { certificates: [trustEntry(a)] }))).toEqual({ kind: 'dcc-trust', entries: [trustEntry(a)] });
    expect(await codeOf(prepareUpdateData(envelope('dcc-trust', 1, { certificates: [trustEntry(a), trustEntry(a)] })))).toMatch(/UPDATE_SCHEMA_INVALID: .*appears more than once/);
  });

  it('is verified on its own topic only', async () => {
    const token = await signed(keys, 'dcc-trust', 1, { certificates: [] });
    const ctx = { site: SITE, checkpoint: CHECKPOINT, keys: keys.trust, appliedVersion: () => 0 };
    expect((await verifyUpdate(token, { ...ctx, topicKind: 'dcc-trust' })).prepared.kind).toBe('dcc-trust');
    expect(await codeOf(verifyUpdate(token, { ...ctx, topicKind: 'trust-keys' }))).toMatch(/^UPDATE_KIND_MISMATCH/);
  });
});
