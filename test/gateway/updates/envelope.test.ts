// verifyUpdate: what makes an inbound update acceptable, checked before anything changes.
import { CompactSign, importJWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { issuePass } from '../../../gateway/credentials/issue.js';
import { UpdateError, type UpdateErrorCode } from '../../../gateway/updates/errors.js';
import { verifyUpdate, type VerifyContext } from '../../../gateway/updates/envelope.js';
import { CHECKPOINT, SITE, centralKeys, envelope, signed, watch, type CentralKeys } from './helpers.js';

let keys: CentralKeys;
let other: CentralKeys;

beforeAll(async () => {
  keys = await centralKeys('central-a');
  other = await centralKeys('central-b');
});

function ctx(topicKind: string, over: Partial<VerifyContext> = {}): VerifyContext {
  return { topicKind, site: SITE, checkpoint: CHECKPOINT, keys: keys.trust, appliedVersion: () => 0, ...over };
}

async function refusal(p: Promise<unknown>): Promise<UpdateError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof UpdateError) return err;
    throw err;
  }
  throw new Error('expected the update to be refused');
}

async function expectCode(p: Promise<unknown>, code: UpdateErrorCode): Promise<UpdateError> {
  const err = await refusal(p);
  expect(err.code).toBe(code);
  expect(err.message).toContain(`[${code}]`);
  return err;
}

describe('verifyUpdate', () => {
  it('accepts a watchlist update signed by a trusted central key and prepares its entries', async () => {
    const token = await signed(keys, 'watchlist', 3, { entries: [watch('110101199003071234')] });
    const v = await verifyUpdate(token, ctx('watchlist', { appliedVersion: () => 2 }));
    expect(v.envelope).toMatchObject({ kind: 'watchlist', version: 3, transaction: 'tx-watchlist-3' });
    expect(v.prepared).toEqual({ kind: 'watchlist', entries: [watch('110101199003071234')] });
  });

  it('accepts an update addressed to every checkpoint of the site', async () => {
    const token = await signed(keys, 'risk-areas', 1, { entries: [{ region: '石家庄', level: 'high', since: '2022-12-01', until: null }] }, { checkpoint: 'all' });
    await expect(verifyUpdate(token, ctx('risk-areas'))).resolves.toMatchObject({ prepared: { kind: 'risk-areas' } });
  });

  it('refuses a payload that is not a compact JWS with UPDATE_MALFORMED', async () => {
    await expectCode(verifyUpdate('{"entries":[]}', ctx('watchlist')), 'UPDATE_MALFORMED');
  });

  it('refuses a health pass signed by a trusted key, because its header is not an update header', async () => {
    const pass = await issuePass(
      { sub: 'x', name: '张三', category: 'employee', healthCode: 'green' },
      keys.privateJwk as Parameters<typeof issuePass>[1],
      { now: Date.now() },
    );
    const err = await expectCode(verifyUpdate(pass, ctx('watchlist')), 'UPDATE_MALFORMED');
    expect(err.message).toContain('checkpoint-update+jws');
  });

  it('refuses an update signed by a key the gateway does not trust with UPDATE_KEY_UNKNOWN', async () => {
    const token = await signed(other, 'watchlist', 1, { entries: [] });
    const err = await expectCode(verifyUpdate(token, ctx('watchlist')), 'UPDATE_KEY_UNKNOWN');
    expect(err.message).toContain('central-b');
  });

  it('refuses a forged update (right kid, wrong key) with UPDATE_SIGNATURE_INVALID', async () => {
    const forger = await centralKeys('central-a'); // same kid, different key
    const token = await signed(forger, 'watchlist', 1, { entries: [] });
    await expectCode(verifyUpdate(token, ctx('watchlist')), 'UPDATE_SIGNATURE_INVALID');
  });

  it('refuses a tampered payload with UPDATE_SIGNATURE_INVALID', async () => {
    const token = await signed(keys, 'watchlist', 1, { entries: [] });
    const [h, , s] = token.split('.');
    const body = Buffer.from(JSON.stringify(envelope('watchlist', 99, { entries: [] }))).toString('base64url');
    await expectCode(verifyUpdate(`${h}.${body}.${s}`, ctx('watchlist')), 'UPDATE_SIGNATURE_INVALID');
  });

  it('refuses a topic kind it does not know with UPDATE_KIND_UNKNOWN', async () => {
    const token = await signed(keys, 'watchlist', 1, { entries: [] });
    await expectCode(verifyUpdate(token, ctx('firmware')), 'UPDATE_KIND_UNKNOWN');
  });

  it('refuses an update replayed on another kind\'s topic with UPDATE_KIND_MISMATCH', async () => {
    const token = await signed(keys, 'approvals', 1, { entries: [] });
    await expectCode(verifyUpdate(token, ctx('watchlist')), 'UPDATE_KIND_MISMATCH');
  });

  it('refuses an update signed for another site or another checkpoint with UPDATE_WRONG_TARGET', async () => {
    const site = await signed(keys, 'watchlist', 1, { entries: [] }, { site: 'mine-b' });
    await expectCode(verifyUpdate(site, ctx('watchlist')), 'UPDATE_WRONG_TARGET');
    const cp = await signed(keys, 'watchlist', 1, { entries: [] }, { checkpoint: 'gate-2' });
    await expectCode(verifyUpdate(cp, ctx('watchlist')), 'UPDATE_WRONG_TARGET');
  });

  it('refuses a repeated or older version with UPDATE_VERSION_STALE, naming both versions', async () => {
    const same = await signed(keys, 'watchlist', 5, { entries: [] });
    const err = await expectCode(verifyUpdate(same, ctx('watchlist', { appliedVersion: () => 5 })), 'UPDATE_VERSION_STALE');
    expect(err.message).toContain('version 5 is not newer than the applied version 5');
    const older = await signed(keys, 'watchlist', 4, { entries: [] });
    await expectCode(verifyUpdate(older, ctx('watchlist', { appliedVersion: () => 5 })), 'UPDATE_VERSION_STALE');
  });

  it('refuses a malformed watchlist entry naming its index and field, without echoing the ID number', async () => {
    const bad = { ...watch('110101199003071234'), kind: 'quarantine' };
    const token = await signed(keys, 'watchlist', 1, { entries: [watch('A-1'), bad] });
    const err = await expectCode(verifyUpdate(token, ctx('watchlist')), 'UPDATE_SCHEMA_INVALID');
    expect(err.message).toMatch(/entry 1.*kind/);
    expect(err.message).not.toContain('110101199003071234');
  });

  it('refuses an envelope missing its transaction with UPDATE_SCHEMA_INVALID', async () => {
    const { transaction: _t, ...rest } = envelope('watchlist', 1, { entries: [] });
    const key = await importJWK({ ...keys.privateJwk }, 'EdDSA');
    const token = await new CompactSign(new TextEncoder().encode(JSON.stringify(rest)))
      .setProtectedHeader({ alg: 'EdDSA', typ: 'checkpoint-update+jws', kid: 'central-a' })
      .sign(key);
    const err = await expectCode(verifyUpdate(token, ctx('watchlist')), 'UPDATE_SCHEMA_INVALID');
    expect(err.message).toContain('transaction');
  });

  it('refuses a policy whose fever threshold is out of range, and prepares a valid one as a profile', async () => {
    const bad = await signed(keys, 'policy', 1, { overrides: { feverThreshold: 99.5 } });
    const err = await expectCode(verifyUpdate(bad, ctx('policy')), 'UPDATE_SCHEMA_INVALID');
    expect(err.message).toContain('feverThreshold');
    const good = await signed(keys, 'policy', 1, { overrides: { feverThreshold: 37.0 } });
    const v = await verifyUpdate(good, ctx('policy'));
    expect(v.prepared.kind === 'policy' && v.prepared.profile.feverThreshold).toBe(37.0);
  });

  it('refuses a trust-keys update that carries a private key', async () => {
    const token = await signed(keys, 'trust-keys', 1, { keys: [other.privateJwk] });
    const err = await expectCode(verifyUpdate(token, ctx('trust-keys')), 'UPDATE_SCHEMA_INVALID');
    expect(err.message).toContain('TRUST_KEY_PRIVATE');
  });

  it('fills a roster entry\'s updatedAt from the update\'s issue time', async () => {
    const entry = { staffId: 'E-0001', name: '张伟', category: 'employee', health: { healthCode: 'green' }, active: true };
    const token = await signed(keys, 'roster', 1, { entries: [entry] });
    const v = await verifyUpdate(token, ctx('roster'));
    expect(v.prepared).toEqual({ kind: 'roster', entries: [{ ...entry, updatedAt: Date.parse('2022-12-05T08:00:00+08:00') }] });
  });
});
