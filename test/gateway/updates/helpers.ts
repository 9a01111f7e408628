// Keys and envelopes for the update tests: a fresh central-office key pair per file, so
// no test depends on the demo key.
import type { JWK } from 'jose';
import { pino } from 'pino';
import { generateIssuerKeys } from '../../../gateway/credentials/issue.js';
import { trustListFromJwks, type TrustList } from '../../../gateway/credentials/trust-list.js';
import type { UpdateEnvelope, UpdateKind } from '../../../gateway/updates/envelope.js';
import { UpdateError } from '../../../gateway/updates/errors.js';
import { LivePolicy, LiveTrust } from '../../../gateway/updates/live.js';
import { UpdateService, type UpdateServiceOptions, type UpdateStore } from '../../../gateway/updates/service.js';
import { MINE_ENTRANCE } from '../../../gateway/policy/profiles.js';
import type { CheckpointTopics } from '../../../gateway/telemetry/topics.js';
import { signUpdate } from '../../../gateway/updates/sign.js';

export interface CentralKeys {
  privateJwk: JWK;
  publicJwk: JWK;
  trust: TrustList;
}

export async function centralKeys(kid = 'central-test-1'): Promise<CentralKeys> {
  const { privateJwk, publicJwk } = await generateIssuerKeys(kid);
  return { privateJwk, publicJwk, trust: await trustListFromJwks([publicJwk]) };
}

export const SITE = 'mine-a';
export const CHECKPOINT = 'gate-1';

/** An update service of SITE/CHECKPOINT trusting `keys`: mine-entrance policy, no pass issuers, a silent log; `over` replaces any option. */
export function updateService(store: UpdateStore, keys: CentralKeys, topics: CheckpointTopics, now: number, over: Partial<UpdateServiceOptions> = {}): UpdateService {
  return new UpdateService({
    store,
    topics,
    site: SITE,
    checkpoint: CHECKPOINT,
    centralKeys: keys.trust,
    policy: new LivePolicy(MINE_ENTRANCE),
    trust: new LiveTrust(new Map()),
    now: () => now,
    logger: pino({ level: 'silent' }),
    ...over,
  });
}

export function envelope(kind: UpdateKind, version: number, data: unknown, over: Partial<UpdateEnvelope> = {}): UpdateEnvelope {
  return {
    kind,
    version,
    site: SITE,
    checkpoint: CHECKPOINT,
    transaction: `tx-${kind}-${version}`,
    issuedAt: '2022-12-05T08:00:00+08:00',
    data,
    ...over,
  };
}

export async function signed(keys: CentralKeys, kind: UpdateKind, version: number, data: unknown, over: Partial<UpdateEnvelope> = {}): Promise<string> {
  return signUpdate(envelope(kind, version, data, over), keys.privateJwk);
}

/** A watchlist entry of a person by raw subject id (the gateway matches on it locally). */
export function watch(subjectId: string): Record<string, unknown> {
  return { subjectId, kind: 'close-contact', from: '2022-12-01', until: null, note: 'contact of case 17' };
}

/** "CODE: message" of the UpdateError `p` rejects with, or 'applied'. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof UpdateError) return `${err.code}: ${err.message}`;
    throw err;
  }
  return 'applied';
}
