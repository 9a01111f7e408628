// Inbound updates from the central office: verify, apply atomically, answer.
// One update at a time, in arrival order, so two updates of one kind can never race
// past each other's version check. Nothing changes before the whole update is verified;
// the facts, the new version and the response row commit in one SQLite transaction; the
// in-memory policy or trust list is swapped only after that commit.
import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { trustListFromJwks, type TrustList } from '../credentials/trust-list.js';
import { profileFromOverrides, type ProfileOverrides } from '../policy/profiles.js';
import type { HealthChecks, PolicyProfile } from '../policy/types.js';
import type { ChainRecord, UpdateApplied } from '../store/chain.js';
import type { AlertRecord, LedgerEntry, OutboxMessage, Store } from '../store/types.js';
import { alertOutbox, eventOutbox } from '../telemetry/alerts.js';
import type { InboundCommand } from '../telemetry/link.js';
import type { CheckpointTopics } from '../telemetry/topics.js';
import { UpdateError, isUpdateError, type UpdateErrorCode } from './errors.js';
import { UPDATE_KINDS, isUpdateKind, peekTransaction, verifyUpdate, type UpdateKind, type VerifiedUpdate } from './envelope.js';
import type { DccTrustInput } from '../credentials/dcc/types.js';
import { checkDccTrustInputs } from '../credentials/dcc-trust-input.js';
import type { LiveHealthChecks, LivePolicy, LiveTrust } from './live.js';
import { RejectionFolder, type RejectionLimits } from './rejections.js';

export type UpdateStore = Pick<
  Store,
  'getMeta' | 'setMeta' | 'rosterUpsert' | 'watchlistReplace' | 'approvalsReplace' | 'crewsReplace' | 'riskAreasReplace' | 'appendAlert'
> & {
  transaction<T>(fn: () => T): T;
  outboxAppend(msg: OutboxMessage, createdAt?: number): number;
  ledgerRange(fromSeq: number, toSeq: number): LedgerEntry[];
  lastSeq(): number;
  /** The applied update's row in the ledger's hash chain, in the update's transaction. */
  recordInChain(record: ChainRecord): unknown;
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
  /** rejected: a repeat of a recent rejection, only counted (no response, no alert of its own). */
  folded?: boolean;
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
  /**
   * The gateway's health checks setting, and what it falls back to when a policy update
   * does not set it (the config's policy.healthChecks).
   */
  healthChecks?: { live: LiveHealthChecks; configured: HealthChecks };
  trust: LiveTrust;
  /**
   * The EU DCC signers in force (LiveDccTrust): `prepare` builds the verifier's trust before
   * anything is written (throws for a list it refuses), `replace` swaps it in after the commit.
   * Absent: a dcc-trust update is stored and restored at the next start only.
   */
  dccTrust?: { prepare(entries: readonly DccTrustInput[]): unknown; replace(entries: readonly DccTrustInput[], built: never): void };
  now: () => number;
  logger: Logger;
  /** After every commit (applied or rejected): wake the outbox drain. */
  afterCommit?: () => void;
  /** After a rejection's alert committed (for the console). */
  onAlert?: (alert: AlertRecord) => void;
  /** How rejections are folded and capped (defaults: DEFAULT_REJECTION_LIMITS). */
  rejections?: Partial<RejectionLimits>;
}

/** The cause's kind for topics that name no known kind (their number is anyone's choice). */
const UNKNOWN_KIND = '(unknown)';
/** Topics whose last rejected payload is remembered (a retained copy of it is then ignored). */
const MAX_REJECTED_REMEMBERED = 256;

export const META = {
  version: (kind: UpdateKind) => `update.${kind}.version`,
  transaction: (kind: UpdateKind) => `update.${kind}.transaction`,
  appliedAt: (kind: UpdateKind) => `update.${kind}.appliedAt`,
  policyOverrides: 'update.policy.overrides',
  /** on / off as the last policy update set it; empty when it left it to the config. */
  policyHealthChecks: 'update.policy.healthChecks',
  trustJwks: 'update.trust-keys.jwks',
  /** The applied dcc-trust update's certificates ({kid, certificate}[] as JSON). */
  dccTrust: 'update.dcc-trust.certificates',
} as const;

export class UpdateService {
  readonly #o: UpdateServiceOptions;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #toAlert: (a: AlertRecord) => OutboxMessage;
  readonly #folder: RejectionFolder;
  #summaryTimer: NodeJS.Timeout | null = null;
  #stopped = false;
  /** topic → sha256 of the payload last rejected there (bounded). */
  readonly #rejected = new Map<string, string>();
  readonly #toEvent: (row: LedgerEntry) => OutboxMessage;

  constructor(options: UpdateServiceOptions) {
    this.#o = options;
    // A resend under health checks off goes out without health data, whenever the row was stored.
    const health = options.healthChecks;
    const ctx = { site: options.site, checkpoint: options.checkpoint, ...(health ? { healthChecks: () => health.live.current } : {}) };
    this.#toAlert = alertOutbox(options.topics, ctx);
    this.#toEvent = eventOutbox(options.topics, ctx);
    this.#folder = new RejectionFolder(options.rejections);
  }

  /** For the link's onCommand: queued, never throws. Resolves once stored or rejected. */
  handle(cmd: InboundCommand): Promise<UpdateResult> {
    return this.#enqueue(() => this.#process(cmd));
  }

  /** Writes the pending rejection summaries (counts are not lost at shutdown) and stops the timer. */
  stop(): Promise<void> {
    this.#stopped = true;
    if (this.#summaryTimer) clearTimeout(this.#summaryTimer);
    this.#summaryTimer = null;
    return this.#enqueue(() => this.#summarise(true));
  }

  #enqueue<T>(fn: () => Promise<T> | T): Promise<T> {
    const next = this.#queue.then(fn);
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

  async #process(cmd: InboundCommand): Promise<UpdateResult> {
    const topicKind = cmd.kind;
    const token = cmd.payload.toString('utf8');
    // A retained copy, or one the broker re-sends (DUP): both may come again and again.
    const retained = cmd.retained || cmd.dup === true;
    const { logger } = this.#o;
    // A retained message we rejected comes back on every new subscription (each
    // reconnect with MQTT 3.1.1, or after the session expired): once is enough. Its first
    // delivery may have come live (we were subscribed when it was published, so without
    // the retain flag): every rejection is remembered, and only a retained copy matched.
    // Hashed only when needed: an applied update (a roster may be megabytes) is never hashed.
    let hash: string | undefined;
    const fingerprint = (): string => (hash ??= createHash('sha256').update(cmd.payload).digest('base64url'));
    const rejectedHere = this.#rejected.get(cmd.topic);
    if (retained && rejectedHere !== undefined && rejectedHere === fingerprint()) {
      logger.debug({ kind: topicKind.slice(0, 64) }, 'update: retained copy of a rejected update ignored');
      return { status: 'ignored', kind: topicKind, version: peekVersion(token), transaction: peekTransaction(token) };
    }
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
      this.#rememberRejected(cmd.topic, fingerprint());
      return this.#reject(topicKind, peekTransaction(token), peekVersion(token), e);
    }
    const { envelope, prepared } = verified;
    // The verifier builds its trust before anything is written: a list it refuses changes nothing.
    let dccBuilt: unknown;
    if (prepared.kind === 'dcc-trust' && this.#o.dccTrust) {
      try {
        dccBuilt = this.#o.dccTrust.prepare(prepared.entries);
      } catch (err) {
        const e = new UpdateError('UPDATE_SCHEMA_INVALID', `data: ${err instanceof Error ? err.message : String(err)}`.slice(0, 500), err);
        return this.#reject(topicKind, envelope.transaction, envelope.version, e);
      }
    }
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
            s.setMeta(META.policyHealthChecks, prepared.healthChecks ?? '');
            break;
          case 'trust-keys':
            s.setMeta(META.trustJwks, JSON.stringify(prepared.jwks));
            break;
          case 'dcc-trust':
            s.setMeta(META.dccTrust, JSON.stringify(prepared.entries));
            break;
        }
        s.setMeta(META.version(envelope.kind), String(envelope.version));
        s.setMeta(META.transaction(envelope.kind), envelope.transaction);
        s.setMeta(META.appliedAt(envelope.kind), new Date(this.#o.now()).toISOString());
        // The chain records which signed update changed the facts (or asked for a resend).
        const applied: UpdateApplied = {
          kind: envelope.kind,
          version: envelope.version,
          transaction: envelope.transaction,
          digest: createHash('sha256').update(token).digest('hex'),
        };
        s.recordInChain({ kind: 'update', at: this.#o.now(), body: { ...applied } });
        s.outboxAppend(this.#response(envelope.kind, { status: 'applied', transaction: envelope.transaction, version: envelope.version, ...extra }));
      });
    } catch (err) {
      logger.error({ err, kind: envelope.kind, version: envelope.version }, 'update: apply failed; nothing changed');
      const e = new UpdateError('UPDATE_APPLY_FAILED', 'writing the update failed; nothing was changed, send it again', err);
      return this.#reject(topicKind, envelope.transaction, envelope.version, e);
    }
    // Committed: now the running lanes may see it.
    if (prepared.kind === 'policy') {
      // Both in one turn of the event loop: no decision sees the one without the other.
      this.#o.policy.set(prepared.profile);
      const h = this.#o.healthChecks;
      if (h) h.live.set(prepared.healthChecks ?? h.configured);
    }
    if (prepared.kind === 'trust-keys') this.#o.trust.replace(prepared.trust);
    if (prepared.kind === 'dcc-trust') this.#o.dccTrust?.replace(prepared.entries, dccBuilt as never);
    logger.info({ kind: envelope.kind, version: envelope.version, transaction: envelope.transaction, ...extra }, 'update applied');
    this.#afterCommit();
    return { status: 'applied', kind: envelope.kind, version: envelope.version, transaction: envelope.transaction };
  }

  #reject(kind: string, transaction: string | null, version: number | null, err: UpdateError): UpdateResult {
    const error = { code: err.code, message: err.detail };
    const now = this.#o.now();
    // Repeats of one cause are folded (see rejections.ts): the cause is the code and the
    // topic kind, unknown kinds together, so a flood cannot make the set of causes grow.
    const verdict = this.#folder.record(err.code, isUpdateKind(kind) ? kind : UNKNOWN_KIND, now);
    this.#scheduleSummary();
    const log = { kind: kind.slice(0, 64), code: err.code, transaction, version, reason: err.detail };
    if (!verdict.respond && !verdict.alert) {
      this.#o.logger.debug(log, 'update rejected (repeat, counted)');
      return { status: 'rejected', kind, version, transaction, error, folded: true };
    }
    this.#o.logger.warn(log, 'update rejected');
    const alert: AlertRecord | null = verdict.alert
      ? {
          id: randomUUID(),
          at: now,
          lane: null,
          kind: 'update-rejected',
          severity: 'warning',
          code: err.code,
          eventId: null,
          detail: `${kind.slice(0, 64)} update rejected: ${err.detail}`.slice(0, 500),
          count: 1,
        }
      : null;
    try {
      this.#o.store.transaction(() => {
        if (verdict.respond) this.#o.store.outboxAppend(this.#response(kind, { status: 'rejected', transaction, version, error }));
        if (alert) this.#o.store.appendAlert(alert, this.#toAlert);
      });
      if (alert) this.#alerted(alert);
      this.#afterCommit();
    } catch (storeErr) {
      this.#o.logger.error({ err: storeErr }, 'update: could not record the rejection');
    }
    return { status: 'rejected', kind, version, transaction, error };
  }

  /** Summary alerts of the causes whose window ended with repeats (all of them at stop). */
  #summarise(all = false): void {
    const summaries = this.#folder.due(this.#o.now(), all);
    if (summaries.length === 0) return;
    const alerts = summaries.map((sum): AlertRecord => ({
      id: randomUUID(),
      at: sum.last,
      lane: null,
      kind: 'update-rejected',
      severity: 'warning',
      code: sum.code,
      eventId: null,
      detail:
        `${sum.kind} update rejected ${sum.count} more time${sum.count === 1 ? '' : 's'} (${sum.code}) ` +
        `from ${new Date(sum.first).toISOString()} to ${new Date(sum.last).toISOString()}`,
      count: sum.count,
    }));
    try {
      this.#o.store.transaction(() => {
        for (const a of alerts) this.#o.store.appendAlert(a, this.#toAlert);
      });
      for (const a of alerts) this.#alerted(a);
      this.#o.logger.warn({ causes: summaries.map((x) => ({ cause: x.cause, count: x.count })) }, 'repeated update rejections summarised');
      this.#afterCommit();
    } catch (storeErr) {
      this.#o.logger.error({ err: storeErr }, 'update: could not record the rejection summary');
    }
  }

  /** One timer for the earliest window end; it queues the summaries behind the updates. */
  #scheduleSummary(): void {
    if (this.#stopped || this.#summaryTimer) return;
    const next = this.#folder.nextDue();
    if (next === null) return;
    this.#summaryTimer = setTimeout(() => {
      this.#summaryTimer = null;
      void this.#enqueue(() => {
        this.#summarise();
        this.#scheduleSummary();
      });
    }, Math.max(0, next - this.#o.now()));
    this.#summaryTimer.unref();
  }

  #rememberRejected(topic: string, fingerprint: string): void {
    this.#rejected.delete(topic);
    this.#rejected.set(topic, fingerprint);
    // Bounded: topics under cmd/# are anyone's choice. Oldest first out.
    if (this.#rejected.size > MAX_REJECTED_REMEMBERED) {
      const oldest = this.#rejected.keys().next().value;
      if (oldest !== undefined) this.#rejected.delete(oldest);
    }
  }

  #alerted(alert: AlertRecord): void {
    try {
      this.#o.onAlert?.(alert);
    } catch (handlerErr) {
      this.#o.logger.error({ err: handlerErr }, 'alert handler threw');
    }
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
  fallback: { profile: PolicyProfile; trust: TrustList; healthChecks?: HealthChecks; dccTrust?: readonly DccTrustInput[] },
): Promise<{ profile: PolicyProfile; trust: TrustList; healthChecks: HealthChecks; dccTrust: readonly DccTrustInput[]; restored: UpdateKind[] }> {
  const restored: UpdateKind[] = [];

  let profile = fallback.profile;
  let trust = fallback.trust;
  let healthChecks = fallback.healthChecks ?? 'on';
  const overrides = store.getMeta(META.policyOverrides);
  if (overrides !== undefined) {
    // On top of the configured default profile, as when it was applied.
    profile = profileFromOverrides(JSON.parse(overrides) as ProfileOverrides, fallback.profile);
    restored.push('policy');
  }
  const health = store.getMeta(META.policyHealthChecks);
  if (health === 'on' || health === 'off') healthChecks = health;
  const jwks = store.getMeta(META.trustJwks);
  if (jwks !== undefined) {
    trust = await trustListFromJwks(JSON.parse(jwks) as Record<string, unknown>[]);
    restored.push('trust-keys');
  }
  let dccTrust = fallback.dccTrust ?? [];
  const dcc = store.getMeta(META.dccTrust);
  if (dcc !== undefined) {
    dccTrust = checkDccTrustInputs(JSON.parse(dcc) as unknown[]);
    restored.push('dcc-trust');
  }
  return { profile, trust, healthChecks, dccTrust, restored };
}

export { UPDATE_KINDS, isUpdateKind };
