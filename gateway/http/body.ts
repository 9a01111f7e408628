// JSON request bodies: one parser for every route that takes one, and one answer per way
// a client can get a body wrong (compression, charset, size, syntax, shape). All of them
// are the client's to fix, so they are 4xx with a stable code and never an error-level
// log line; only a failure of the server itself becomes a 500.
import express, { type Request, type RequestHandler } from 'express';
import type { z } from 'zod';
import { HttpError, issueMessage } from './errors.js';

/** Bodies here are a few short fields; a small limit keeps a runaway client cheap. */
export const JSON_BODY_LIMIT = '16kb';
/** What body-parser can inflate (Node 20 has no zstd). */
export const CONTENT_ENCODINGS = ['identity', 'gzip', 'deflate', 'br'] as const;

export function parseBody<T>(schema: z.ZodType<T>, req: Request, example: string): T {
  // The parser leaves the body undefined when the request is not declared as JSON.
  if (req.body === undefined) {
    throw new HttpError(400, 'BAD_BODY', `request body: expected JSON (Content-Type: application/json) like ${example}`);
  }
  const parsed = schema.safeParse(req.body);
  if (!parsed.success) throw new HttpError(400, 'BAD_BODY', issueMessage(parsed.error, req.body, 'body field'));
  return parsed.data;
}

/** Marks the invalid-UTF-8 refusal of `verify` so it can be told apart from the parser's own errors. */
const INVALID_UTF8 = 'body.utf8.invalid';

function contentEncoding(req: Request): string {
  return (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
}

/** The charset parameter of Content-Type, lower case; undefined when absent. */
function charsetOf(req: Request): string | undefined {
  const type = req.headers['content-type'] ?? '';
  const m = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(type);
  return m?.[1]?.toLowerCase();
}

/**
 * The client's mistake in a body the parser refused, as an HttpError; undefined when the
 * failure is not the client's (then it stays a 500).
 */
export function bodyError(err: unknown, req: Request, example: string): HttpError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { type?: unknown; status?: unknown; statusCode?: unknown; code?: unknown };
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 500) return undefined;
  const encoding = contentEncoding(req);
  switch (e.type) {
    case 'entity.too.large':
      return new HttpError(413, 'BODY_TOO_LARGE', `request body: expected at most ${JSON_BODY_LIMIT} of JSON (after decompression) like ${example}`);
    case 'encoding.unsupported':
      return new HttpError(415, 'UNSUPPORTED_ENCODING', `header Content-Encoding: expected one of ${CONTENT_ENCODINGS.join(', ')}, got ${JSON.stringify(encoding.slice(0, 40))}`);
    case 'charset.unsupported':
      // A charset is part of the body's form: a wrong one is a malformed body (400), like bad bytes.
      return new HttpError(400, 'BAD_CHARSET', `header Content-Type: expected charset=utf-8 (or none; JSON is UTF-8), got ${JSON.stringify((charsetOf(req) ?? '').slice(0, 40))}`);
    case INVALID_UTF8:
      return new HttpError(400, 'BAD_CHARSET', `request body: expected UTF-8 text, got bytes that are not valid UTF-8`);
    case 'entity.parse.failed':
      return new HttpError(400, 'BAD_JSON', `request body: expected a valid JSON object like ${example}`);
    case 'request.size.invalid':
      return new HttpError(400, 'BAD_BODY', 'request body: its length does not match the Content-Length header');
    case 'request.aborted':
      return new HttpError(400, 'BAD_BODY', 'request body: the client ended the request before the whole body arrived');
    default:
      break;
  }
  // zlib's refusal of the bytes (Z_DATA_ERROR, Z_BUF_ERROR, a brotli ERR_...): the body
  // is not what Content-Encoding says it is.
  if (encoding !== 'identity') {
    return new HttpError(400, 'BAD_ENCODING', `request body: Content-Encoding ${encoding.slice(0, 40)} but the body is not valid ${encoding.slice(0, 40)} data; expected ${encoding.slice(0, 40)}-compressed JSON like ${example}, or no Content-Encoding`);
  }
  return new HttpError(400, 'BAD_BODY', `request body: could not be read; expected JSON like ${example}`);
}

/** express.json with errors that tell the client which body the route expects. */
export function jsonBody(example: string): RequestHandler {
  const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });
  const parse = express.json({
    limit: JSON_BODY_LIMIT,
    strict: true,
    // JSON is UTF-8 (RFC 8259); UTF-16/32 declared or not is refused rather than guessed.
    verify: (_req, _res, buf) => {
      try {
        fatalUtf8.decode(buf);
      } catch {
        throw Object.assign(new Error('request body is not valid UTF-8'), { type: INVALID_UTF8 });
      }
    },
  });
  return (req, res, next) => {
    const charset = charsetOf(req);
    if (charset !== undefined && charset !== 'utf-8' && typeof req.is('application/json') === 'string') {
      // Read the body off anyway so the connection can carry the next request.
      req.resume();
      return next(bodyError({ type: 'charset.unsupported', status: 400 }, req, example));
    }
    parse(req, res, (err?: unknown) => {
      if (err === undefined || err === null) return next();
      return next(bodyError(err, req, example) ?? err);
    });
  };
}
