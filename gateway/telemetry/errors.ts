// One error type for telemetry. Codes are stable (logs and tests match on them); the
// code is printed in the message so a log line can be searched for it.
import { CodedError } from '../errors.js';

export const TELEMETRY_ERROR_CODES = [
  /** A topic part (prefix, site, checkpoint) would break the topic tree. */
  'TELEMETRY_TOPIC_INVALID',
  /** The per-site pseudonym secret is missing or too short to be a key. */
  'TELEMETRY_SECRET_INVALID',
  /** The MQTT URL cannot be parsed or uses a scheme the link does not speak. */
  'TELEMETRY_URL_INVALID',
  /** The embedded broker could not listen on the requested address. */
  'TELEMETRY_BROKER_START_FAILED',
] as const;
export type TelemetryErrorCode = (typeof TELEMETRY_ERROR_CODES)[number];

export class TelemetryError extends CodedError<TelemetryErrorCode> {
  constructor(code: TelemetryErrorCode, message: string, cause?: unknown) {
    super(code, `[${code}] ${message}`, cause === undefined ? undefined : { cause });
  }
}

export function isTelemetryError(err: unknown, code?: TelemetryErrorCode): err is TelemetryError {
  return err instanceof TelemetryError && (code === undefined || err.code === code);
}
