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
/** An event or alert: `text` is the payload as received (valid JSON), what the writer sends on. */
interface Keyed extends Base {
  id: string;
  hash: string;
  text: string;
}
export type Classified =
  | (Keyed & { type: 'event' })
  | (Keyed & { type: 'alert' })
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
  if (!topic.startsWith(`${prefix}/`)) return reject(topic, payload, `topic outside the prefix ${prefix}`);
  const levels = topic.slice(prefix.length + 1).split('/');
  const [site, checkpoint, channel, sub] = levels;
  if (site === undefined || checkpoint === undefined || channel === undefined) return reject(topic, payload, 'topic: expected {prefix}/{site}/{checkpoint}/{channel}');
  const isResponse = channel === 'response' && levels.length === 4 && sub !== undefined && sub !== '';
  if (!Object.hasOwn(SCHEMA, channel) || (channel === 'response' ? !isResponse : levels.length !== 3)) return reject(topic, payload, `topic: unknown channel ${levels.slice(2).join('/')}`);
  if (payload.length === 0) return channel === 'status' ? { type: 'ignored', topic } : reject(topic, payload, 'empty payload');
  const text = payload.toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return reject(topic, payload, 'not JSON');
  }
  const problem = checkAgainst(validators, SCHEMA[channel]!, body);
  if (problem !== null) return reject(topic, payload, problem);
  const b = body as Record<string, unknown>;
  // A payload naming another checkpoint than its topic is refused, not filed under either.
  if (b.site !== undefined && b.site !== site) return reject(topic, payload, `site ${JSON.stringify(b.site)} differs from the topic's ${JSON.stringify(site)}`);
  if (b.checkpoint !== undefined && b.checkpoint !== checkpoint) {
    return reject(topic, payload, `checkpoint ${JSON.stringify(b.checkpoint)} differs from the topic's ${JSON.stringify(checkpoint)}`);
  }
  // Object literals, no spreads: this runs for every message received.
  switch (channel) {
    case 'events':
    case 'alerts':
      return { type: channel === 'events' ? 'event' : 'alert', topic, site, checkpoint, body: b, id: String(b.id).toLowerCase(), hash: contentHash(b), text };
    case 'response':
      return { type: 'response', topic, site, checkpoint, body: b, kind: sub! };
    case 'status':
      return { type: 'status', topic, site, checkpoint, body: b };
    case 'stats':
      return { type: 'stats', topic, site, checkpoint, body: b };
    default:
      return { type: 'screening', topic, site, checkpoint, body: b };
  }
}

function reject(topic: string, payload: Buffer, reason: string): Classified {
  return { type: 'rejected', topic, reason, payload: payload.subarray(0, REJECTED_PAYLOAD_MAX).toString('utf8'), bytes: payload.length };
}
