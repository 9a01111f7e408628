// One error type for the store. Codes are stable (logs, alerts and tests match on them);
// the code is printed in the message so a log line can be searched for it.
import { CodedError } from '../errors.js';

export const STORE_ERROR_CODES = [
  /** The data directory or the database file could not be opened. */
  'STORE_OPEN_FAILED',
  /** The database was written by a newer gateway than this one. */
  'STORE_SCHEMA_TOO_NEW',
  /** A migration failed; the database is left at the last good version. */
  'STORE_MIGRATION_FAILED',
  /** A ledger entry with this event id already exists; nothing was written. */
  'STORE_DUPLICATE_EVENT',
  /** A query argument (limit, range, filter) is out of its allowed set. */
  'STORE_INVALID_QUERY',
  /** A row handed to the store for writing does not have the expected shape. */
  'STORE_INVALID_ROW',
  /** The file predates the hash chain (store schema < 10): there is nothing to verify yet. */
  'STORE_NO_CHAIN',
] as const;
export type StoreErrorCode = (typeof STORE_ERROR_CODES)[number];

export class StoreError extends CodedError<StoreErrorCode> {
  /** Free-form context for logs (file, versions, offending value). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: StoreErrorCode, message: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super(code, `[${code}] ${message}`, cause === undefined ? undefined : { cause });
    this.details = details;
  }
}

export function isStoreError(err: unknown, code?: StoreErrorCode): err is StoreError {
  return err instanceof StoreError && (code === undefined || err.code === code);
}
