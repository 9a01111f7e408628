// Topic builders for one checkpoint. Everything the gateway publishes or subscribes to
// is named here, so a topic cannot drift between the link, the docs and the tests.
import { TelemetryError } from './errors.js';

export const DEFAULT_TOPIC_PREFIX = 'checkpoints';
/** The checkpoint segment that addresses every checkpoint of a site (inbound commands). */
export const ALL_CHECKPOINTS = 'all';

export interface TopicContext {
  /** May span levels ("acme/checkpoints"); default `checkpoints`. */
  prefix?: string;
  site: string;
  checkpoint: string;
}

export interface CheckpointTopics {
  readonly prefix: string;
  readonly site: string;
  readonly checkpoint: string;
  /** Retained `online` / `offline` (the latter also as last will). */
  readonly status: string;
  /** One JSON message per ledger row, QoS 1. */
  readonly events: string;
  readonly alerts: string;
  readonly stats: string;
  /** One count-only summary per local day of who was screened (daily screening), QoS 1 via the outbox. */
  readonly screening: string;
  /** Base of inbound commands for this checkpoint: `…/cmd/<kind>`. */
  readonly cmd: string;
  /** Base of the answers to commands: `…/response/<kind>`. */
  readonly response: string;
  /** Subscription filters for inbound commands: this checkpoint and the whole site. */
  readonly cmdFilters: readonly [string, string];
}

/** Builds and validates the topics of one checkpoint; throws TELEMETRY_TOPIC_INVALID. */
export function topicsFor(ctx: TopicContext): CheckpointTopics {
  const prefix = ctx.prefix ?? DEFAULT_TOPIC_PREFIX;
  assertPrefix(prefix);
  assertLevel('site', ctx.site);
  assertLevel('checkpoint', ctx.checkpoint);
  // `all` is how the central office addresses the whole site; a checkpoint of that name
  // would receive every site-wide command twice and be unaddressable on its own.
  if (ctx.checkpoint === ALL_CHECKPOINTS) {
    throw new TelemetryError('TELEMETRY_TOPIC_INVALID', `checkpoint: "${ALL_CHECKPOINTS}" is reserved for site-wide commands`);
  }
  const base = `${prefix}/${ctx.site}/${ctx.checkpoint}`;
  return {
    prefix,
    site: ctx.site,
    checkpoint: ctx.checkpoint,
    status: `${base}/status`,
    events: `${base}/events`,
    alerts: `${base}/alerts`,
    stats: `${base}/stats`,
    screening: `${base}/screening`,
    cmd: `${base}/cmd`,
    response: `${base}/response`,
    cmdFilters: [`${base}/cmd/#`, `${prefix}/${ctx.site}/${ALL_CHECKPOINTS}/cmd/#`],
  };
}

/** One topic level: non-empty, no separator, no wildcard, no NUL (MQTT forbids it). */
function assertLevel(what: string, value: string): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TelemetryError('TELEMETRY_TOPIC_INVALID', `${what}: expected a non-empty topic level`);
  }
  const bad = /[/+#\u0000]/.exec(value);
  if (bad) {
    throw new TelemetryError(
      'TELEMETRY_TOPIC_INVALID',
      `${what} "${value}": expected no "/", "+", "#" or NUL, found ${JSON.stringify(bad[0])}`,
    );
  }
}

function assertPrefix(prefix: string): void {
  if (typeof prefix !== 'string' || prefix.length === 0) {
    throw new TelemetryError('TELEMETRY_TOPIC_INVALID', 'prefix: expected a non-empty topic prefix');
  }
  // Topics starting with `$` are the broker's own ($SYS); subscribers' `#` skips them.
  if (prefix.startsWith('$')) {
    throw new TelemetryError('TELEMETRY_TOPIC_INVALID', `prefix "${prefix}": expected not to start with "$"`);
  }
  prefix.split('/').forEach((level, i) => assertLevel(`prefix "${prefix}" level ${i + 1}`, level));
}
