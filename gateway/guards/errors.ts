// One error type for guard accounts and sessions; codes are stable (logs, HTTP, CLI).
import { CodedError } from '../errors.js';
export const GUARD_ERROR_CODES = [
  /** A guard id that does not match the id pattern. */
  'GUARD_INVALID_ID',
  /** A PIN that is not 6 to 12 digits. */
  'GUARD_INVALID_PIN',
  /** A display name that is empty or too long. */
  'GUARD_INVALID_NAME',
  /** `add` of an id that exists already. */
  'GUARD_EXISTS',
  /** `remove` of an id that does not exist. */
  'GUARD_UNKNOWN',
  /** The guard tables are missing: the store was not migrated to version 3. */
  'GUARD_STORE_UNAVAILABLE',
] as const;
export type GuardErrorCode = (typeof GUARD_ERROR_CODES)[number];

export class GuardError extends CodedError<GuardErrorCode> {
  constructor(code: GuardErrorCode, message: string, cause?: unknown) {
    super(code, `[${code}] ${message}`, cause === undefined ? undefined : { cause });
  }
}
