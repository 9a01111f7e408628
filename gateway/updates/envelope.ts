// The signed update: a compact JWS (EdDSA, Ed25519) by a central-office key, whose payload
// is an envelope naming kind, version, target and transaction around the kind's data.
// Everything here is pure (no store, no clock): it decides whether an update may be
// applied and prepares exactly what will be written, before anything changes.
import { compactVerify, decodeProtectedHeader } from 'jose';
import { z } from 'zod';
import type { DccTrustInput } from '../credentials/dcc/types.js';
import { buildDccTrust } from '../credentials/dcc/index.js';
import { MAX_DCC_SIGNERS, checkDccTrustInputs } from '../credentials/dcc-trust-input.js';
import type { TrustList } from '../credentials/trust-list.js';
import { trustListFromJwks } from '../credentials/trust-list.js';
import { profileFromOverrides, type ProfileOverrides } from '../policy/profiles.js';
import type { Approval, CrewRegistration, HealthChecks, PolicyProfile, RiskArea, WatchlistEntry } from '../policy/types.js';
import type { RosterEntry } from '../store/types.js';
import { checkApprovals, checkCrews, checkRiskAreas, checkRosterEntries, checkWatchlistEntries, isIsoTimestamp } from '../store/validate.js';
import { UpdateError } from './errors.js';
import { forbiddenKeyPath } from './keys.js';

export const UPDATE_KINDS = ['roster', 'watchlist', 'risk-areas', 'approvals', 'policy', 'trust-keys', 'crews', 'dcc-trust', 'resend'] as const;
export type UpdateKind = (typeof UPDATE_KINDS)[number];

/** JWS header `typ`: a health pass (or any other JWS) can never pass for an update. */
export const UPDATE_TYP = 'checkpoint-update+jws';
export const UPDATE_ALG = 'EdDSA';
/** A site roster of some 10 000 people is ~3 MB of JSON; this leaves room and stops abuse. */
export const MAX_UPDATE_BYTES = 16 * 1024 * 1024;
export const MAX_ENTRIES = 200_000;
/** The checkpoint value that addresses every checkpoint of the site. */
export const ALL = 'all';
/** A resend request names at most this many ledger rows (toSeq - fromSeq < this). */
export const MAX_RESEND_ROWS = 10_000;
/** Kinds that only make sense for one checkpoint (a ledger's seq is per gateway). */
const SINGLE_CHECKPOINT_KINDS: ReadonlySet<string> = new Set(['resend']);

export interface UpdateEnvelope {
  kind: UpdateKind;
  /** Rises with every update of this kind for the site (a counter or a timestamp). */
  version: number;
  site: string;
  /** A checkpoint id, or `all`. */
  checkpoint: string;
  /** The central office's id for this update; echoed in the response. */
  transaction: string;
  issuedAt: string;
  data: unknown;
}

export function isUpdateKind(s: string): s is UpdateKind {
  return (UPDATE_KINDS as readonly string[]).includes(s);
}

const TRANSACTION = /^[A-Za-z0-9._:-]{1,128}$/;

// Built at the first update rather than at module load: zod schemas cost time and garbage
// to build, and the start does not need these before its ready line (docs/footprint.md).
function buildSchemas() {
  const envelope = z.strictObject({
    kind: z.enum(UPDATE_KINDS),
    version: z.number().int('expected a whole number').min(1).max(Number.MAX_SAFE_INTEGER),
    site: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'expected a site id'),
    checkpoint: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'expected a checkpoint id or "all"'),
    transaction: z.string().regex(TRANSACTION, 'expected 1-128 letters, digits or . _ : -'),
    issuedAt: z.string().refine(isIsoTimestamp, 'expected an ISO 8601 timestamp with a zone'),
    data: z.unknown(),
  });

  const entries = z.strictObject({ entries: z.array(z.unknown()).max(MAX_ENTRIES) });
  const data = {
    roster: entries,
    watchlist: entries,
    'risk-areas': entries,
    approvals: entries,
    crews: entries,
    policy: z.strictObject({
      overrides: z.record(z.string(), z.unknown()),
      /** Every lane, every profile: off = access control only. Absent = as the gateway's config says. */
      healthChecks: z.enum(['on', 'off'], { error: 'expected on or off' }).optional(),
    }),
    'trust-keys': z.strictObject({ keys: z.array(z.unknown()).max(1000) }),
    // The EU DCC document signers: replaces trust.dccSignersDir's list (docs/mqtt.md).
    'dcc-trust': z.strictObject({ certificates: z.array(z.unknown()).max(MAX_DCC_SIGNERS) }),
    // Gap repair: the office asks for ledger rows it did not receive (docs/mqtt.md).
    resend: z
      .strictObject({
        fromSeq: z.number().int('expected a whole number').min(1).max(Number.MAX_SAFE_INTEGER),
        toSeq: z.number().int('expected a whole number').min(1).max(Number.MAX_SAFE_INTEGER),
      })
      .refine((d) => d.toSeq >= d.fromSeq, { message: 'expected toSeq ≥ fromSeq', path: ['toSeq'] })
      .refine((d) => d.toSeq - d.fromSeq < MAX_RESEND_ROWS, { message: `expected at most ${MAX_RESEND_ROWS} rows (toSeq - fromSeq < ${MAX_RESEND_ROWS})`, path: ['toSeq'] }),
  } as const;
  return { envelope, data };
}
let schemas: ReturnType<typeof buildSchemas> | undefined;
const updateSchemas = (): ReturnType<typeof buildSchemas> => (schemas ??= buildSchemas());

/** What will be written, already validated. */
export type PreparedData =
  | { kind: 'roster'; entries: RosterEntry[] }
  | { kind: 'watchlist'; entries: WatchlistEntry[] }
  | { kind: 'risk-areas'; entries: RiskArea[] }
  | { kind: 'approvals'; entries: Approval[] }
  | { kind: 'crews'; entries: CrewRegistration[] }
  | { kind: 'policy'; overrides: ProfileOverrides; profile: PolicyProfile; healthChecks?: HealthChecks }
  | { kind: 'trust-keys'; jwks: Record<string, unknown>[]; trust: TrustList }
  | { kind: 'dcc-trust'; entries: DccTrustInput[] }
  | { kind: 'resend'; fromSeq: number; toSeq: number };

export interface VerifiedUpdate {
  envelope: UpdateEnvelope;
  prepared: PreparedData;
}

export interface VerifyContext {
  /** The kind named by the topic (…/cmd/<kind>). */
  topicKind: string;
  site: string;
  checkpoint: string;
  /** Trusted central-office keys, by kid. */
  keys: TrustList;
  /** The last applied version of a kind, 0 when none. */
  appliedVersion: (kind: UpdateKind) => number;
  /** The profile a policy update's overrides apply to (the configured default profile). */
  policyBase?: PolicyProfile;
}

/** The transaction id of a payload that may not verify, for the response; null if none. */
export function peekTransaction(token: string): string | null {
  try {
    const part = token.split('.')[1];
    if (part === undefined || part.length > MAX_UPDATE_BYTES) return null;
    const t = (JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as { transaction?: unknown }).transaction;
    return typeof t === 'string' && TRANSACTION.test(t) ? t : null;
  } catch {
    return null;
  }
}

/**
 * Checks everything in an order that never trusts unverified content: format, header,
 * kind, key, signature, envelope, target, version, data. Throws UpdateError.
 */
export async function verifyUpdate(token: string, ctx: VerifyContext): Promise<VerifiedUpdate> {
  if (token.length > MAX_UPDATE_BYTES) {
    throw new UpdateError('UPDATE_MALFORMED', `payload of ${token.length} bytes: expected at most ${MAX_UPDATE_BYTES}`);
  }
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token)) {
    throw new UpdateError('UPDATE_MALFORMED', 'expected a compact JWS (three base64url parts separated by ".")');
  }
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw new UpdateError('UPDATE_MALFORMED', 'the JWS header is not base64url JSON');
  }
  if (header.alg !== UPDATE_ALG) {
    throw new UpdateError('UPDATE_MALFORMED', `header alg ${JSON.stringify(header.alg)}: expected "${UPDATE_ALG}"`);
  }
  if (header.typ !== UPDATE_TYP) {
    throw new UpdateError('UPDATE_MALFORMED', `header typ ${JSON.stringify(header.typ)}: expected "${UPDATE_TYP}"`);
  }
  if (!isUpdateKind(ctx.topicKind)) {
    throw new UpdateError('UPDATE_KIND_UNKNOWN', `topic kind ${JSON.stringify(ctx.topicKind.slice(0, 64))}: expected one of ${UPDATE_KINDS.join(', ')}`);
  }
  const kid = header.kid;
  const key = typeof kid === 'string' ? ctx.keys.get(kid) : undefined;
  if (!key) {
    throw new UpdateError(
      'UPDATE_KEY_UNKNOWN',
      `signing key kid ${JSON.stringify(typeof kid === 'string' ? kid.slice(0, 64) : kid)} is not a trusted central-office key (${ctx.keys.size} configured)`,
    );
  }
  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(token, key.key, { algorithms: [UPDATE_ALG] }));
  } catch {
    throw new UpdateError('UPDATE_SIGNATURE_INVALID', `the signature does not verify with central-office key ${JSON.stringify(kid)}`);
  }

  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    throw new UpdateError('UPDATE_SCHEMA_INVALID', 'the signed payload is not JSON');
  }
  refuseForbiddenKeys(raw, 'envelope');
  const env = updateSchemas().envelope.safeParse(raw);
  if (!env.success) throw new UpdateError('UPDATE_SCHEMA_INVALID', `envelope: ${describe(env.error.issues)}`);
  const envelope = env.data as UpdateEnvelope;
  if (envelope.kind !== ctx.topicKind) {
    throw new UpdateError('UPDATE_KIND_MISMATCH', `signed as a ${envelope.kind} update but received on the ${ctx.topicKind} topic`);
  }
  if (envelope.site !== ctx.site || (envelope.checkpoint !== ALL && envelope.checkpoint !== ctx.checkpoint)) {
    throw new UpdateError(
      'UPDATE_WRONG_TARGET',
      `signed for ${envelope.site}/${envelope.checkpoint}: expected site ${ctx.site} and checkpoint ${ctx.checkpoint} or ${ALL}`,
    );
  }
  checkSingleCheckpoint(envelope);
  const applied = ctx.appliedVersion(envelope.kind);
  if (envelope.version <= applied) {
    throw new UpdateError(
      'UPDATE_VERSION_STALE',
      `${envelope.kind} version ${envelope.version} is not newer than the applied version ${applied}`,
    );
  }
  return { envelope, prepared: await prepareUpdateData(envelope, ctx.policyBase) };
}

/** Validates the data of an envelope for its kind (also used by `central sign` before signing). */
export async function prepareUpdateData(envelope: UpdateEnvelope, policyBase?: PolicyProfile): Promise<PreparedData> {
  refuseForbiddenKeys(envelope.data, 'data');
  const schema = updateSchemas().data[envelope.kind];
  const parsed = schema.safeParse(envelope.data);
  if (!parsed.success) throw new UpdateError('UPDATE_SCHEMA_INVALID', `data: ${describe(parsed.error.issues)}`);
  const data = parsed.data as Record<string, unknown>;
  // One place for the switch: beside the overrides it covers every lane; inside them it
  // would cover the default profile's lanes only.
  if (envelope.kind === 'policy' && isRecord(data.overrides) && Object.hasOwn(data.overrides, 'healthChecks')) {
    throw new UpdateError('UPDATE_SCHEMA_INVALID', 'data.overrides.healthChecks: expected healthChecks beside overrides (data.healthChecks), where it applies to every lane');
  }
  try {
    switch (envelope.kind) {
      case 'roster': {
        const updatedAt = Date.parse(envelope.issuedAt);
        const list = (data.entries as unknown[]).map((e) => (isRecord(e) ? { ...e, updatedAt } : e));
        checkRosterEntries(list);
        return { kind: 'roster', entries: list };
      }
      case 'watchlist': {
        const list = data.entries as unknown[];
        checkWatchlistEntries(list);
        return { kind: 'watchlist', entries: list };
      }
      case 'risk-areas': {
        const list = data.entries as unknown[];
        checkRiskAreas(list);
        return { kind: 'risk-areas', entries: list };
      }
      case 'approvals': {
        const list = data.entries as unknown[];
        checkApprovals(list);
        return { kind: 'approvals', entries: list };
      }
      case 'crews': {
        const list = data.entries as unknown[];
        checkCrews(list);
        return { kind: 'crews', entries: list };
      }
      case 'policy': {
        const overrides = data.overrides as ProfileOverrides;
        const healthChecks = data.healthChecks as HealthChecks | undefined;
        return { kind: 'policy', overrides, profile: profileFromOverrides(overrides, policyBase), ...(healthChecks === undefined ? {} : { healthChecks }) };
      }
      case 'trust-keys': {
        const jwks = data.keys as Record<string, unknown>[];
        return { kind: 'trust-keys', jwks, trust: await trustListFromJwks(jwks) };
      }
      case 'dcc-trust': {
        const entries = checkDccTrustInputs(data.certificates as unknown[]);
        // The verifier's own check too, so the office learns before signing what a gateway would refuse.
        buildDccTrust(entries);
        return { kind: 'dcc-trust', entries };
      }
      case 'resend': {
        const { fromSeq, toSeq } = data as { fromSeq: number; toSeq: number };
        return { kind: 'resend', fromSeq, toSeq };
      }
    }
  } catch (err) {
    throw new UpdateError('UPDATE_SCHEMA_INVALID', `data: ${scrub(err instanceof Error ? err.message : String(err))}`, err);
  }
}

/** A resend (a ledger's seq is per gateway) must name one checkpoint, never `all`. */
export function checkSingleCheckpoint(envelope: Pick<UpdateEnvelope, 'kind' | 'checkpoint'>): void {
  if (SINGLE_CHECKPOINT_KINDS.has(envelope.kind) && envelope.checkpoint === ALL) {
    throw new UpdateError('UPDATE_WRONG_TARGET', `a ${envelope.kind} update names one checkpoint: "${ALL}" is refused`);
  }
}

function refuseForbiddenKeys(value: unknown, root: string): void {
  const at = forbiddenKeyPath(value, root);
  if (at !== null) throw new UpdateError('UPDATE_SCHEMA_INVALID', `${at}: the key is not allowed (expected only the kind's own keys)`);
}

/**
 * The store's messages name an entry by its key (`subjectId "…"`), which may be an ID
 * number: that must not travel back over MQTT. Index and field are enough to fix it.
 */
function scrub(message: string): string {
  return message
    .replace(/\s\((subjectId|staffId|region) "[^"]*"\)/g, '')
    .slice(0, 500);
}

function describe(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(value)'}: ${i.message}`)
    .concat(issues.length > 5 ? [`and ${issues.length - 5} more`] : [])
    .join('; ');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
