// The gateway's logger. JSON lines by default (systemd's journal, tests, log shippers);
// readable lines on a terminal, or wherever LOG_FORMAT=pretty asks for them. pino-pretty
// runs in-process as a synchronous stream, not as a worker-thread transport: no extra
// thread at start, and no line is lost when the process exits right after logging.
import { pino, type Logger, type LoggerOptions } from 'pino';
import { chinaTime } from '../display-time.js';
import type { LogFormat } from './log-format.js';

export interface GatewayLoggerOptions {
  level: string;
  base: Record<string, unknown>;
  format: LogFormat;
  /** Colours in the readable format; default: stdout is a terminal and NO_COLOR is unset. */
  colorize?: boolean;
}

/** Log fields never printed: QR payloads and names, whatever a caller passes by mistake. */
export const REDACT: LoggerOptions['redact'] = { paths: ['payload', '*.payload', 'subjectName', '*.subjectName'], censor: '[redacted]' };

/** Loads pino-pretty only for the readable format, so a JSON start does not pay for it. */
export async function createGatewayLogger(opts: GatewayLoggerOptions): Promise<Logger> {
  const options: LoggerOptions = { level: opts.level, base: opts.base, redact: REDACT };
  if (opts.format === 'json') return pino(options);
  const { default: pretty } = await import('pino-pretty');
  const stream = pretty({
    sync: true,
    destination: 1,
    colorize: opts.colorize ?? (process.stdout.isTTY === true && !process.env['NO_COLOR']),
    singleLine: true,
    translateTime: false, // the time prettifier below prints China time from the epoch ms
    // One gateway per terminal: its site and checkpoint are in the ready line's config.
    ignore: 'pid,hostname,site,checkpoint,ready',
    customPrettifiers: { time: (t) => chinaTime(Number(t), { ms: true }) },
    // The ready line is the one a person waits for: make it stand out.
    messageFormat: (log, messageKey, _level, { colors }) => {
      const msg = String(log[messageKey] ?? '');
      return log['ready'] === true ? colors.bold(colors.green(`>>> ${msg}`)) : msg;
    },
  });
  return pino(options, stream);
}
