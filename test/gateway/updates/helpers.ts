// Keys and envelopes for the update tests: a fresh central-office key pair per file, so
// no test depends on the demo key.
import type { JWK } from 'jose';
import { generateIssuerKeys } from '../../../gateway/credentials/issue.js';
import { trustListFromJwks, type TrustList } from '../../../gateway/credentials/trust-list.js';
import type { UpdateEnvelope, UpdateKind } from '../../../gateway/updates/envelope.js';
import { UpdateError } from '../../../gateway/updates/errors.js';
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
