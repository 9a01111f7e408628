// Security middleware of the HTTP edge: helmet's headers with a self-only CSP, a
// same-origin check for the guard API, session and CSRF checks, and the login limiter.
import type { IncomingHttpHeaders } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';
import type { Session, SessionManager } from '../guards/sessions.js';
import { HttpError } from './errors.js';

/** Every asset comes from this server: no CDN, no inline script, no framing. */
export const CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  connectSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES },
    // Plain HTTP on the checkpoint's LAN: HSTS or upgrade-insecure-requests would make
    // a kiosk on another PC unable to load anything.
    strictTransportSecurity: false,
    crossOriginEmbedderPolicy: false,
    referrerPolicy: { policy: 'no-referrer' },
  });
}

export const SESSION_COOKIE = 'gw_guard';
export const CSRF_HEADER = 'x-csrf-token';

export function readCookie(headers: IncomingHttpHeaders, name: string): string | undefined {
  const raw = headers.cookie;
  if (raw === undefined) return undefined;
  for (const part of raw.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    if (part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

export function setSessionCookie(req: Request, res: Response, token: string, maxAgeMs: number): void {
  res.cookie(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'strict',
    secure: req.secure,
    path: '/',
    maxAge: maxAgeMs,
  });
}

export function clearSessionCookie(req: Request, res: Response): void {
  res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/' });
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Refuses a request another site made the browser send. Browsers set Sec-Fetch-Site on
 * every request (same-origin / same-site / cross-site / none) and Origin on every
 * non-GET one; either pointing elsewhere is refused. A state-changing request must
 * carry one of them, so a non-browser client has to say where it comes from too.
 */
export const sameOriginOnly: RequestHandler = sameOriginOnlyFor('/guard');

/** sameOriginOnly with the refusal naming `consolePath` (the office console shares it). */
export function sameOriginOnlyFor(consolePath: string): RequestHandler {
  return (req, _res, next) => {
    const site = req.get('sec-fetch-site');
    if (site !== undefined && site !== 'same-origin' && site !== 'none') {
      throw new HttpError(403, 'CROSS_SITE', `cross-site request refused (Sec-Fetch-Site: ${site}); use the console at ${consolePath}`);
    }
    const origin = req.get('origin');
    if (origin !== undefined) {
      let host: string | null = null;
      try {
        host = origin === 'null' ? null : new URL(origin).host;
      } catch {
        host = null;
      }
      if (host === null || host !== req.get('host')) {
        throw new HttpError(403, 'CROSS_SITE', `cross-site request refused (Origin: ${origin.slice(0, 100)})`);
      }
    }
    if (!SAFE_METHODS.has(req.method) && site === undefined && origin === undefined) {
      throw new HttpError(403, 'CROSS_SITE', 'request refused: a state-changing request must carry Origin or Sec-Fetch-Site');
    }
    next();
  };
}

export function sessionOf(res: Response): Session {
  return res.locals['session'] as Session;
}

/** Requires a live session (cookie); GETs count as activity too. */
export function requireSession(sessions: SessionManager, guardExists: (id: string) => boolean): RequestHandler {
  return (req, res, next) => {
    const token = readCookie(req.headers, SESSION_COOKIE);
    const session = sessions.get(token);
    if (session === undefined || !guardExists(session.guardId)) {
      // A removed guard's sessions end with their account.
      if (session !== undefined) sessions.endAllOf(session.guardId);
      throw new HttpError(401, 'UNAUTHENTICATED', 'sign in at /guard first (no session, or it has expired)');
    }
    res.locals['session'] = session;
    res.locals['sessionToken'] = token;
    next();
  };
}

/** State-changing requests must echo the session's CSRF token in X-CSRF-Token. */
export const requireCsrf: RequestHandler = (req, res, next) => {
  if (!SAFE_METHODS.has(req.method)) {
    const session = sessionOf(res);
    const sent = req.get(CSRF_HEADER);
    const a = Buffer.from(session.csrfToken);
    const b = Buffer.from(sent ?? '');
    if (sent === undefined || a.length !== b.length || !a.equals(b)) {
      throw new HttpError(403, 'CSRF_TOKEN', `request refused: expected the session's token in the ${CSRF_HEADER} header`);
    }
  }
  next();
};

/** Fixed-window counter per key (client address): a cheap brake on PIN guessing. */
export class RateLimiter {
  readonly #hits = new Map<string, { windowStart: number; n: number }>();
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #now: () => number;

  constructor(limit: number, windowMs: number, now: () => number = Date.now) {
    this.#limit = limit;
    this.#windowMs = windowMs;
    this.#now = now;
  }

  /** Counts one attempt; returns ms to wait when over the limit, else 0. */
  hit(key: string): number {
    const now = this.#now();
    if (this.#hits.size > 10_000) {
      for (const [k, v] of this.#hits) if (now - v.windowStart >= this.#windowMs) this.#hits.delete(k);
    }
    let h = this.#hits.get(key);
    if (h === undefined || now - h.windowStart >= this.#windowMs) {
      h = { windowStart: now, n: 0 };
      this.#hits.set(key, h);
    }
    h.n++;
    return h.n > this.#limit ? h.windowStart + this.#windowMs - now : 0;
  }
}
