// How the gateway's logs look: JSON lines (systemd's journal, tests, log shippers) or
// readable lines for a person at a terminal. No dependency, so the early relay all-off
// can use it before anything else is loaded.

export type LogFormat = 'json' | 'pretty';
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];

/**
 * LOG_FORMAT=json|pretty when set; else readable on a terminal and JSON otherwise.
 * An unknown LOG_FORMAT is returned as an error text (a configuration problem).
 */
export function logFormat(env: NodeJS.ProcessEnv = process.env, isTTY: boolean = process.stdout.isTTY === true): LogFormat | { error: string } {
  const asked = env['LOG_FORMAT'];
  if (asked === undefined || asked === '') return isTTY ? 'pretty' : 'json';
  const v = asked.trim().toLowerCase();
  if (v === 'json' || v === 'pretty') return v;
  return { error: `environment LOG_FORMAT: expected ${LOG_FORMATS.join(' or ')}, got "${asked}"` };
}
