// Turns one received MQTT message into what the writer stores: a typed message checked
// against docs/asyncapi.yaml, or a rejection (topic, reason, truncated payload). Pure.
import { contentHash } from './canonical.js';
import { checkAgainst, type MessageSchema, type Validators } from './schemas.js';

export const REJECTED_PAYLOAD_MAX = 4096;

interface Base {
  topic: string;
  site: string;
  checkpoint: string;
  body: Record<string, unknown>;
}
export type Classified =
  | (Base & { type: 'event'; id: string; hash: string })
  | (Base & { type: 'alert'; id: string; hash: string })
  | (Base & { type: 'status' })
  | (Base & { type: 'stats' })
  | (Base & { type: 'screening' })
  | (Base & { type: 'response'; kind: string })
  | { type: 'rejected'; topic: string; reason: string; payload: string; bytes: number }
  /** A retained status being cleared (empty payload): nothing to store. */
  | { type: 'ignored'; topic: string };

const SCHEMA: Record<string, MessageSchema> = {
  events: 'EventMessage',
  alerts: 'AlertMessage',
  stats: 'StatsMessage',
  screening: 'ScreeningSummaryMessage',
  status: 'StatusMessage',
  response: 'ResponseMessage',
};

export function classify(topic: string, payload: Buffer, prefix: string, validators: Validators): Classified {
  const reject = (reason: string): Classified => ({
    type: 'rejected',
    topic,
    reason,
    payload: payload.subarray(0, REJECTED_PAYLOAD_MAX).toString('utf8'),
    bytes: payload.length,
  });
  if (!topic.startsWith(`${prefix}/`)) return reject(`topic outside the prefix ${prefix}`);
  const levels = topic.slice(prefix.length + 1).split('/');
  const [site, checkpoint, channel, sub] = levels;
  if (site === undefined || checkpoint === undefined || channel === undefined) return reject('topic: expected {prefix}/{site}/{checkpoint}/{channel}');
  const isResponse = channel === 'response' && levels.length === 4 && sub !== undefined && sub !== '';
  if (!(channel in SCHEMA) || (channel === 'response' ? !isResponse : levels.length !== 3)) return reject(`topic: unknown channel ${levels.slice(2).join('/')}`);
  if (payload.length === 0) return channel === 'status' ? { type: 'ignored', topic } : reject('empty payload');
  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch {
    return reject('not JSON');
  }
  const problem = checkAgainst(validators, SCHEMA[channel]!, body);
  if (problem !== null) return reject(problem);
  const b = body as Record<string, unknown>;
  // A payload naming another checkpoint than its topic is refused, not filed under either.
  for (const [k, v] of [['site', site], ['checkpoint', checkpoint]] as const) {
    if (b[k] !== undefined && b[k] !== v) return reject(`${k} ${JSON.stringify(b[k])} differs from the topic's ${JSON.stringify(v)}`);
  }
  const base = { topic, site, checkpoint, body: b };
  switch (channel) {
    case 'events':
      return { ...base, type: 'event', id: String(b.id).toLowerCase(), hash: contentHash(b) };
    case 'alerts':
      return { ...base, type: 'alert', id: String(b.id).toLowerCase(), hash: contentHash(b) };
    case 'response':
      return { ...base, type: 'response', kind: sub! };
    case 'status':
      return { ...base, type: 'status' };
    case 'stats':
      return { ...base, type: 'stats' };
    default:
      return { ...base, type: 'screening' };
  }
}
