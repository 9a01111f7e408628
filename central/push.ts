// Pushing a signed update from the office to its gateways (roster, approvals, crews …):
// the data is checked with the gateway's own rules first (a gateway would refuse it
// anyway; here the officer learns why), signed with updates.signingKeyFile, published
// retained at QoS 1 on <prefix>/<site>/<target>/cmd/<kind> (a gateway offline now gets it
// when it connects; one that already applied it passes the retained copy over), and
// recorded in published_updates. The gateways' answers arrive as update responses
// (ingest) under the transaction returned here.
import { randomUUID } from 'node:crypto';
import type { JWK } from 'jose';
import { ALL, prepareUpdateData, type UpdateEnvelope, type UpdateKind } from '../gateway/updates/envelope.js';
import { isUpdateError } from '../gateway/updates/errors.js';
import { signUpdate } from '../gateway/updates/sign.js';
import type { Queryable } from './db/adapter.js';
import { recordPublication } from './console/published.js';
import { CentralError } from './errors.js';

export interface PushDeps {
  db: () => Queryable;
  signingKey: JWK | null;
  prefix: string;
  publish: (topic: string, payload: string, opts: { qos: 0 | 1; retain?: boolean }) => Promise<void>;
  now: () => number;
}

export interface PushRequest {
  site: string;
  /** A checkpoint id, or "all". */
  target: string;
  kind: Exclude<UpdateKind, 'resend'>;
  /** The kind's data, as `central sign` takes it (e.g. `{ entries: [...] }`). */
  data: unknown;
  /** Who pushed it (recorded with the publication). */
  officerId: string;
}

export interface Pushed {
  site: string;
  target: string;
  kind: string;
  version: number;
  transaction: string;
  topic: string;
  publishedAt: string;
}

export class UpdatePusher {
  readonly #d: PushDeps;
  constructor(deps: PushDeps) {
    this.#d = deps;
  }

  get canPush(): boolean {
    return this.#d.signingKey !== null;
  }

  /**
   * Checks, signs, publishes and records one update. Throws CentralError
   * CENTRAL_PUSH_INVALID (the data breaks the gateway's rules: the message names the entry
   * and field), CENTRAL_PUSH_NO_KEY, or CENTRAL_PUSH_FAILED (the broker did not take it).
   */
  async push(r: PushRequest): Promise<Pushed> {
    const key = this.#d.signingKey;
    if (key === null) throw new CentralError('CENTRAL_PUSH_NO_KEY', 'no updates.signingKeyFile is configured: the office cannot sign updates');
    const now = this.#d.now();
    // Versions rise per kind at each gateway; a timestamp rises by itself, and +1 over the
    // newest one recorded keeps two pushes within one millisecond (or a clock step back) in order.
    const rows = await this.#d.db().query<{ v: string | number | null }>('SELECT max(version) AS v FROM published_updates WHERE site = $1 AND kind = $2', [r.site, r.kind]);
    const version = Math.max(now, Number(rows[0]?.v ?? 0) + 1);
    const envelope: UpdateEnvelope = {
      kind: r.kind,
      version,
      site: r.site,
      checkpoint: r.target,
      transaction: `office-${randomUUID()}`,
      issuedAt: new Date(now).toISOString(),
      data: r.data,
    };
    try {
      await prepareUpdateData(envelope);
    } catch (err) {
      if (isUpdateError(err)) throw new CentralError('CENTRAL_PUSH_INVALID', err.message);
      throw err;
    }
    const token = await signUpdate(envelope, key);
    const topic = `${this.#d.prefix}/${r.site}/${r.target}/cmd/${r.kind}`;
    try {
      await this.#d.publish(topic, token, { qos: 1, retain: true });
    } catch (err) {
      throw new CentralError('CENTRAL_PUSH_FAILED', `${r.kind} for ${r.site}/${r.target} not published: ${(err as Error).message}`);
    }
    await recordPublication(this.#d.db(), { site: r.site, target: r.target, kind: r.kind, version, transaction: envelope.transaction, publishedBy: r.officerId, at: now });
    return { site: r.site, target: r.target, kind: r.kind, version, transaction: envelope.transaction, topic, publishedAt: envelope.issuedAt };
  }
}

export interface Confirmation {
  checkpoint: string;
  status: string;
  errorCode: string | null;
  at: string;
}

/** The gateways' answers to one pushed update (by its transaction), newest per checkpoint. */
export async function confirmations(db: Queryable, site: string, kind: string, transaction: string): Promise<Confirmation[]> {
  const rows = await db.query<{ checkpoint: string; status: string; error_code: string | null; received_at: Date | string }>(
    `SELECT DISTINCT ON (checkpoint) checkpoint, status, error_code, received_at FROM update_responses
      WHERE site = $1 AND kind = $2 AND transaction = $3 ORDER BY checkpoint, received_at DESC`,
    [site, kind, transaction],
  );
  return rows.map((r) => ({ checkpoint: r.checkpoint, status: r.status, errorCode: r.error_code, at: new Date(r.received_at).toISOString() }));
}

export { ALL as ALL_CHECKPOINTS_TARGET };
