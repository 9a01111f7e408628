// The central office's coded errors: one class, stable codes printed in the message so
// logs can be searched (the gateway's convention).
import { CodedError } from '../gateway/errors.js';

export type CentralErrorCode = 'CENTRAL_DB_FAILED' | 'CENTRAL_MIGRATION_FAILED' | 'CENTRAL_SCHEMA_MISSING' | 'CENTRAL_KEY_INVALID'
  | 'CENTRAL_SECRET_INVALID'
  | 'CENTRAL_PUSH_INVALID'
  | 'CENTRAL_PUSH_NO_KEY'
  | 'CENTRAL_PUSH_FAILED';

export class CentralError extends CodedError<CentralErrorCode> {
  constructor(code: CentralErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, `${code}: ${message}`, options);
  }
}
