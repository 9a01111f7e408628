// `central tail` as people read it: one line per message, China time first, then the
// checkpoint and what happened. Pure; --json prints the messages as they came.
import { chinaTime } from '../display-time.js';

type Body = Record<string, unknown>;

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const isBody = (v: unknown): v is Body => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Sum of one counter over the lanes of a stats message. */
function laneSum(lanes: unknown, key: string): number {
  if (!isBody(lanes)) return 0;
  return Object.values(lanes).reduce<number>((n, l) => n + (isBody(l) ? (num(l[key]) ?? 0) : 0), 0);
}

function summary(kind: string, sub: string | null, b: Body): string | null {
  switch (kind) {
    case 'events': {
      const reasons = Array.isArray(b['reasons']) && b['reasons'].length > 0 ? b['reasons'].join(',') : '-';
      const temp = num(b['temperature']);
      return [
        `#${num(b['seq']) ?? '?'}`,
        str(b['lane']) ?? '-',
        str(b['kind']) === 'decision' || b['kind'] === undefined ? null : str(b['kind']),
        (str(b['outcome']) ?? '?').padEnd(6),
        reasons,
        temp === null ? null : `${temp.toFixed(1)} °C`,
        str(b['credential']),
        str(b['category']),
        str(b['subject']),
        b['historical'] === true ? '(historical)' : null,
      ]
        .filter((x) => x !== null)
        .join('  ');
    }
    case 'alerts': {
      const count = num(b['count']);
      return [`ALERT ${str(b['severity']) ?? ''} ${str(b['kind']) ?? '?'}`.replace(/ {2,}/, ' '), str(b['lane']), str(b['code']), str(b['detail']), count !== null && count > 1 ? `×${count}` : null, b['historical'] === true ? '(historical)' : null]
        .filter((x) => x !== null)
        .join('  ');
    }
    case 'screening': {
      const o = isBody(b['firstOutcomes']) ? b['firstOutcomes'] : {};
      return `screening ${str(b['date']) ?? '?'}: ${num(b['screened']) ?? '?'} of ${num(b['workers']) ?? '?'} workers screened, ${num(b['notScreened']) ?? '?'} not yet (first passages: admit ${num(o['admit']) ?? 0}, refuse ${num(o['refuse']) ?? 0}, refer ${num(o['refer']) ?? 0})`;
    }
    case 'status': {
      const state = str(b['state']) ?? '?';
      if (state !== 'online') return `status ${state}${str(b['cause']) ? ` (${str(b['cause'])})` : ''}`;
      const lanes = Array.isArray(b['lanes']) ? b['lanes'].length : null;
      return `status online (version ${str(b['version']) ?? '?'}${lanes === null ? '' : `, ${lanes} lane${lanes === 1 ? '' : 's'}`}${num(b['session']) === null ? '' : `, session ${num(b['session'])}`})`;
    }
    case 'stats': {
      const zones = isBody(b['zones'])
        ? Object.entries(b['zones']).map(([z, v]) => (isBody(v) ? `${z} ${num(v['count']) ?? '?'}/${num(v['limit']) ?? '∞'}` : z))
        : [];
      return (
        `stats: admitted ${laneSum(b['lanes'], 'admitted')}, refused ${laneSum(b['lanes'], 'refused')}, referred ${laneSum(b['lanes'], 'referred')}; ` +
        `outbox ${num(b['outboxDepth']) ?? '?'}, unacknowledged alerts ${num(b['unackedAlerts']) ?? '?'}, last seq ${num(b['lastSeq']) ?? '?'}${zones.length > 0 ? `; zones ${zones.join(', ')}` : ''}`
      );
    }
    case 'response': {
      const err = isBody(b['error']) ? `  ${str(b['error']['code']) ?? ''} ${str(b['error']['message']) ?? ''}`.trimEnd() : '';
      return `response ${str(b['kind']) ?? sub ?? '?'} v${num(b['version']) ?? '?'} ${str(b['status']) ?? '?'}${err}`;
    }
    default:
      return null;
  }
}

/**
 * One readable line for a tailed message: "2026-12-04 08:30:15  mine-a/gate-1  …".
 * `prefix` is the topic prefix; `receivedAt` stands in for a message without `at`.
 */
export function formatTailLine(topic: string, text: string, prefix: string, receivedAt: number): string {
  const levels = topic.startsWith(`${prefix}/`) ? topic.slice(prefix.length + 1).split('/') : [];
  const [site, checkpoint, kind, sub] = levels;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  const what = site && checkpoint && kind && isBody(body) ? summary(kind, sub ?? null, body) : null;
  if (what === null) return `${chinaTime(receivedAt)}  ${topic}  ${text}`;
  const at = isBody(body) && str(body['at']) !== null ? Date.parse(str(body['at']) ?? '') : Number.NaN;
  return `${chinaTime(Number.isFinite(at) ? at : receivedAt)}  ${site}/${checkpoint}  ${what}`;
}
