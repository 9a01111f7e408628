// Inbound updates from the central office: verify, apply atomically, answer.
// One update at a time, in arrival order, so two updates of one kind can never race
// past each other's version check. Nothing changes before the whole update is verified;
// the facts, the new version and the response row commit in one SQLite transaction; the
// in-memory policy or trust list is swapped only after that commit.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { trustListFromJwks, type TrustList } from '../credentials/trust-list.js';
import { profileFromOverrides, type ProfileOverrides } from '../policy/profiles.js';
import type { PolicyProfile } from '../policy/types.js';
import type { AlertRecord, LedgerEntry, OutboxMessage, Store } from '../store/types.js';
import { alertOutbox, eventOutbox } from '../telemetry/alerts.js';
import type { InboundCommand } from '../telemetry/link.js';
import type { CheckpointTopics } from '../telemetry/topics.js';
import { UpdateError, isUpdateError, type UpdateErrorCode } from './errors.js';
import { UPDATE_KINDS, isUpdateKind, peekTransaction, verifyUpdate, type UpdateKind, type VerifiedUpdate } from './envelope.js';
import type { LivePolicy, LiveTrust } from './live.js';

export type UpdateStore = Pick<
  Store,
  'getMeta' | 'setMeta' | 'rosterUpsert' | 'watchlistReplace' | 'approvalsReplace' | 'crewsReplace' | 'riskAreasReplace' | 'appendAlert'
> & {
  transaction<T>(fn: () => T): T;
  outboxAppend(msg: OutboxMessage, createdAt?: number): number;
  ledgerRange(fromSeq: number, toSeq: number): LedgerEntry[];
  lastSeq(): number;
};

/** Version 1 of the payload on …/response/<kind>. */
export interface ResponseMessageV1 {
  v: 1;
  status: 'applied' | 'rejected';
  /** The update's transaction id; null when it could not be read from the payload. */
  transaction: string | null;
  kind: string;
  /** The version applied (or refused); null when it could not be read. */
  version: number | null;
  error?: { code: UpdateErrorCode; message: string };
  /** resend, applied: events queued again (ledger rows of the range that exist). */
  resent?: number;
  /** resend, applied: the ledger's highest seq now (0 when empty). */
  lastSeq?: number;
  at: string;
  site: string;
  checkpoint: string;
}

export interface UpdateResult {
  /** ignored: a retained copy of the update already applied (nothing written, no answer). */
  status: 'applied' | 'rejected' | 'ignored';
  kind: string;
  version: number | null;
  transaction: string | null;
  error?: { code: UpdateErrorCode; message: string };
}

export interface UpdateServiceOptions {
  store: UpdateStore;
  topics: CheckpointTopics;
  site: string;
  checkpoint: string;
  /** Trusted central-office keys (configured apart from the pass issuers). */
  centralKeys: TrustList;
  policy: LivePolicy;
  /** What a policy update's overrides apply to: the configured default profile. */
  policyBase?: PolicyProfile;
  trust: LiveTrust;
  now: () => number;
  logger: Logger;
  /** After every commit (applied or rejected): wake the outbox drain. */
  afterCommit?: () => void;
  /** After a rejection's alert committed (for the console). */
  onAlert?: (alert: AlertRecord) => void;
}

export const META = {
  version: (kind: UpdateKind) => `update.${kind}.version`,
  transaction: (kind: UpdateKind) => `update.${kind}.transaction`,
  appliedAt: (kind: UpdateKind) => `update.${kind}.appliedAt`,
  policyOverrides: 'update.policy.overrides',
  trustJwks: 'update.trust-keys.jwks',
} as const;

export class UpdateService {
  readonly #o: UpdateServiceOptions;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #toAlert: (a: AlertRecord) => OutboxMessage;
  readonly #toEvent: (row: LedgerEntry) => OutboxMessage;

  constructor(options: UpdateServiceOptions) {
    this.#o = options;
    const ctx = { site: options.site, checkpoint: options.checkpoint };
    this.#toAlert = alertOutbox(options.topics, ctx);
    this.#toEvent = eventOutbox(options.topics, ctx);
  }

  /** For the link's onCommand: queued, never throws. */
  handle(cmd: InboundCommand): Promise<UpdateResult> {
    const next = this.#queue.then(() => this.#process(cmd.kind, cmd.payload.toString('utf8'), cmd.retained || cmd.dup === true));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** Resolves when every update received so far has been answered. */
  idle(): Promise<void> {
    return this.#queue.then(() => undefined);
  }

  appliedVersion(kind: UpdateKind): number {
    const v = Number(this.#o.store.getMeta(META.version(kind)) ?? 0);
    return Number.isSafeInteger(v) ? v : 0;
  }

  async #process(topicKind: string, token: string, retained: boolean): Promise<UpdateResult> {
    // `retained`: a retained copy, or one the broker re-sends (DUP).
    const { logger } = this.#o;
    // The office may publish updates retained so that gateways offline at the time get
    // them on their next connect. The broker then repeats the copy on every reconnect:
    // the one already applied (same version and transaction) is passed over silently
    // instead of being answered as stale with an alert each time. The same for a copy
    // the broker marks DUP (re-sent because our PUBACK did not reach it).
    if (retained && isUpdateKind(topicKind)) {
      const applied = this.appliedVersion(topicKind);
      if (applied > 0 && peekVersion(token) === applied && peekTransaction(token) === this.#o.store.getMeta(META.transaction(topicKind))) {
        logger.debug({ kind: topicKind, version: applied }, 'update: retained copy of the applied update ignored');
        return { status: 'ignored', kind: topicKind, version: applied, transaction: peekTransaction(token) };
      }
    }
    let verified: VerifiedUpdate;
    try {
      verified = await verifyUpdate(token, {
        topicKind,
        site: this.#o.site,
        checkpoint: this.#o.checkpoint,
        keys: this.#o.centralKeys,
        appliedVersion: (k) => this.appliedVersion(k),
        ...(this.#o.policyBase ? { policyBase: this.#o.policyBase } : {}),
      });
    } catch (err) {
      const e = isUpdateError(err) ? err : new UpdateError('UPDATE_MALFORMED', 'could not be read', err);
      return this.#reject(topicKind, peekTransaction(token), peekVersion(token), e);
    }
    const { envelope, prepared } = verified;
    let extra: Pick<ResponseMessageV1, 'resent' | 'lastSeq'> = {};
    try {
      this.#o.store.transaction(() => {
        const s = this.#o.store;
        switch (prepared.kind) {
          case 'resend': {
            // Gap repair: the events of these ledger rows again, the same messages as
            // first queued (same ids). Created "at 0": the link flags them historical.
            const rows = s.ledgerRange(prepared.fromSeq, prepared.toSeq);
            for (const row of rows) s.outboxAppend(this.#toEvent(row), 0);
            extra = { resent: rows.length, lastSeq: s.lastSeq() };
            break;
          }
          case 'roster':
            s.rosterUpsert(prepared.entries);
            break;
          case 'watchlist':
            s.watchlistReplace(prepared.entries);
            break;
          case 'approvals':
            s.approvalsReplace(prepared.entries);
            break;
          case 'crews':
            s.crewsReplace(prepared.entries);
            break;
          case 'risk-areas':
            s.riskAreasReplace(prepared.entries);
            break;
          case 'policy':
            s.setMeta(META.policyOverrides, JSON.stringify(prepared.overrides));
            break;
          case 'trust-keys':
            s.setMeta(META.trustJwks, JSON.stringify(prepared.jwks));
            break;
        }
        s.setMeta(META.version(envelope.kind), String(envelope.version));
        s.setMeta(META.transaction(envelope.kind), envelope.transaction);
        s.setMeta(META.appliedAt(envelope.kind), new Date(this.#o.now()).toISOString());
        s.outboxAppend(this.#response(envelope.kind, { status: 'applied', transaction: envelope.transaction, version: envelope.version, ...extra }));
      });
    } catch (err) {
      logger.error({ err, kind: envelope.kind, version: envelope.version }, 'update: apply failed; nothing changed');
      const e = new UpdateError('UPDATE_APPLY_FAILED', 'writing the update failed; nothing was changed, send it again', err);
      return this.#reject(topicKind, envelope.transaction, envelope.version, e);
    }
    // Committed: now the running lanes may see it.
    if (prepared.kind === 'policy') this.#o.policy.set(prepared.profile);
    if (prepared.kind === 'trust-keys') this.#o.trust.replace(prepared.trust);
    logger.info({ kind: envelope.kind, version: envelope.version, transaction: envelope.transaction, ...extra }, 'update applied');
    this.#afterCommit();
    return { status: 'applied', kind: envelope.kind, version: envelope.version, transaction: envelope.transaction };
  }

  #reject(kind: string, transaction: string | null, version: number | null, err: UpdateError): UpdateResult {
    const error = { code: err.code, message: err.detail };
    this.#o.logger.warn({ kind: kind.slice(0, 64), code: err.code, transaction, version, reason: err.detail }, 'update rejected');
    const alert: AlertRecord = {
      id: randomUUID(),
      at: this.#o.now(),
      lane: null,
      kind: 'update-rejected',
      severity: 'warning',
      code: err.code,
      eventId: null,
      detail: `${kind.slice(0, 64)} update rejected: ${err.detail}`.slice(0, 500),
    };
    try {
      this.#o.store.transaction(() => {
        this.#o.store.outboxAppend(this.#response(kind, { status: 'rejected', transaction, version, error }));
        this.#o.store.appendAlert(alert, this.#toAlert);
      });
      try {
        this.#o.onAlert?.(alert);
      } catch (handlerErr) {
        this.#o.logger.error({ err: handlerErr }, 'alert handler threw');
      }
      this.#afterCommit();
    } catch (storeErr) {
      this.#o.logger.error({ err: storeErr }, 'update: could not record the rejection');
    }
    return { status: 'rejected', kind, version, transaction, error };
  }

  #response(kind: string, r: Omit<ResponseMessageV1, 'v' | 'kind' | 'at' | 'site' | 'checkpoint'>): OutboxMessage {
    const msg: ResponseMessageV1 = {
      v: 1,
      status: r.status,
      transaction: r.transaction,
      kind,
      version: r.version,
      ...(r.error ? { error: r.error } : {}),
      ...(r.resent !== undefined ? { resent: r.resent } : {}),
      ...(r.lastSeq !== undefined ? { lastSeq: r.lastSeq } : {}),
      at: new Date(this.#o.now()).toISOString(),
      site: this.#o.site,
      checkpoint: this.#o.checkpoint,
    };
    return { topic: `${this.#o.topics.response}/${kind}`, payload: JSON.stringify(msg), qos: 1 };
  }

  #afterCommit(): void {
    try {
      this.#o.afterCommit?.();
    } catch (err) {
      this.#o.logger.error({ err }, 'update: afterCommit threw');
    }
  }
}

function peekVersion(token: string): number | null {
  try {
    const part = token.split('.')[1];
    if (part === undefined) return null;
    const v = (JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as { version?: unknown }).version;
    return typeof v === 'number' && Number.isSafeInteger(v) ? v : null;
  } catch {
    return null;
  }
}

/**
 * At start: the last applied policy and trust list (kept in SQLite) win over the config
 * file's, so a gateway restarted while offline decides as it did before.
 */
export async function restoreUpdates(
  store: Pick<Store, 'getMeta'>,
  fallback: { profile: PolicyProfile; trust: TrustList },
): Promise<{ profile: PolicyProfile; trust: TrustList; restored: UpdateKind[] }> {
  const restored: UpdateKind[] = [];
  let profile = fallback.profile;
  let trust = fallback.trust;
  const overrides = store.getMeta(META.policyOverrides);
  if (overrides !== undefined) {
    // On top of the configured default profile, as when it was applied.
    profile = profileFromOverrides(JSON.parse(overrides) as ProfileOverrides, fallback.profile);
    restored.push('policy');
  }
  const jwks = store.getMeta(META.trustJwks);
  if (jwks !== undefined) {
    trust = await trustListFromJwks(JSON.parse(jwks) as Record<string, unknown>[]);
    restored.push('trust-keys');
  }
  return { profile, trust, restored };
}

export { UPDATE_KINDS, isUpdateKind };
