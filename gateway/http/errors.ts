// One error type for the HTTP edge: a stable code (searchable in logs and used by
// clients), the HTTP status, and a message that says what was wrong and what was expected.
import type { Response } from 'express';
import type { z } from 'zod';
import { CodedError } from '../errors.js';

export type HttpErrorCode =
  | 'BAD_PARAMETER'
  | 'BAD_BODY'
  | 'BAD_JSON'
  | 'BODY_TOO_LARGE'
  | 'BAD_ENCODING'
  | 'BAD_CHARSET'
  | 'UNSUPPORTED_ENCODING'
  /** Any other malformed request (e.g. a path that is not valid percent-encoding). */
  | 'BAD_REQUEST'
  /** The Host header names a host this gateway does not answer for (DNS rebinding). */
  | 'HOST_NOT_ALLOWED'
  | 'LANE_UNKNOWN'
  | 'LANE_NOT_SIMULATED'
  | 'NOT_FOUND'
  | 'INTERNAL'
  // guard console
  | 'UNAUTHENTICATED'
  | 'CROSS_SITE'
  | 'CSRF_TOKEN'
  | 'SIGN_IN_FAILED'
  | 'ACCOUNT_LOCKED'
  /** The office console: signed in, but the officer's role does not allow this. */
  | 'ROLE_REQUIRED'
  /** Contact tracing without a meaningful reason (and a site the office holds no pseudonym key for). */
  | 'TRACE_REASON_REQUIRED'
  | 'SITE_UNKNOWN'
  /** The office console's roster import and screening. */
  | 'ROSTER_INVALID'
  | 'PUSH_UNAVAILABLE'
  | 'PUSH_FAILED'
  | 'RATE_LIMITED'
  | 'LANE_BUSY'
  | 'RELAY_DOWN'
  | 'ALERT_UNKNOWN'
  | 'ZONE_UNKNOWN'
  | 'ALERTS_UNAVAILABLE'
  /** The office console cannot sign updates (no signing key): nothing was stored. */
  | 'PUSH_UNAVAILABLE'
  | 'ALREADY_REVOKED';

export interface ErrorBody {
  error: { code: HttpErrorCode; message: string };
}

export class HttpError extends CodedError<HttpErrorCode> {
  readonly status: number;
  /** The client-facing text, without the code prefix used in logs. */
  readonly publicMessage: string;

  constructor(status: number, code: HttpErrorCode, message: string) {
    super(code, `${code}: ${message}`);
    this.status = status;
    this.publicMessage = message;
  }
}

export function sendError(res: Response, status: number, code: HttpErrorCode, message: string): void {
  const body: ErrorBody = { error: { code, message } };
  res.status(status).json(body);
}

/** A short, safe description of what a client sent, for "got ..." in messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing (missing)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string': {
      if (value.length > 40) return `a string of ${value.length} characters`;
      return value.length === 0 ? 'an empty string' : JSON.stringify(value);
    }
    case 'number':
    case 'boolean':
      return String(value);
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

/**
 * Turns the first zod issue into "<where> '<name>': <expected>, got <value>". Only the
 * first issue: a client fixes one thing at a time and the message stays readable.
 */
export function issueMessage(err: z.ZodError, input: unknown, where: 'query parameter' | 'body field'): string {
  const issue = err.issues[0];
  if (issue === undefined) return `${where}: invalid`;
  const got = describeValue(valueAt(input, issue.path));
  if (issue.path.length === 0) return `request body: ${issue.message}, got ${got}`;
  const name = issue.path.map(String).join('.');
  return `${where} '${name}': ${issue.message}, got ${got}`;
}
