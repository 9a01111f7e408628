// One error type for inbound updates. Codes are stable: they go into the response the
// central office reads, into the `update-rejected` alert and into the log.
import { CodedError } from '../errors.js';

export const UPDATE_ERROR_CODES = [
  /** Not a compact JWS, too large, or its header is not an update's header. */
  'UPDATE_MALFORMED',
  /** The topic names a kind this gateway does not know. */
  'UPDATE_KIND_UNKNOWN',
  /** The signing key's kid is not among the trusted central-office keys. */
  'UPDATE_KEY_UNKNOWN',
  /** The signature does not verify with the key its kid names. */
  'UPDATE_SIGNATURE_INVALID',
  /** The signed kind differs from the topic's kind (an update replayed on another topic). */
  'UPDATE_KIND_MISMATCH',
  /** Signed for another site or checkpoint. */
  'UPDATE_WRONG_TARGET',
  /** The version is not above the last applied version of this kind (stale or repeated). */
  'UPDATE_VERSION_STALE',
  /** The envelope or the data does not match the kind's schema. */
  'UPDATE_SCHEMA_INVALID',
  /** Valid, but writing it failed (disk, lock); nothing was changed. */
  'UPDATE_APPLY_FAILED',
] as const;
export type UpdateErrorCode = (typeof UPDATE_ERROR_CODES)[number];

export class UpdateError extends CodedError<UpdateErrorCode> {
  constructor(code: UpdateErrorCode, message: string, cause?: unknown) {
    super(code, `[${code}] ${message}`, cause === undefined ? undefined : { cause });
  }

  /** The message without the code prefix, for the response's error.message. */
  get detail(): string {
    return this.message.replace(/^\[[A-Z_]+\] /, '');
  }
}

export function isUpdateError(err: unknown, code?: UpdateErrorCode): err is UpdateError {
  return err instanceof UpdateError && (code === undefined || err.code === code);
}
