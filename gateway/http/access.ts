// Who may read what without signing in. Open: the kiosk page and assets, /healthz, and
// each lane's kiosk view (GET /api/lanes, GET /api/stream), which carries no more than the
// kiosk screens show right now. Everything else needs a guard session; /metrics takes a
// guard session or the configured metrics token (a Prometheus scraper has no session).
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RequestHandler } from 'express';
import type { DeviceStatus } from '../../drivers/types.js';
import { CodedError } from '../errors.js';
import type { DecisionView, LaneSnapshot } from '../lane/types.js';
import { HttpError } from './errors.js';
import { isHealthReason } from '../policy/health-checks.js';
import { publicReasons } from './kiosk-texts.js';

export type HttpStartErrorCode = 'HTTP_METRICS_TOKEN_UNREADABLE' | 'HTTP_METRICS_TOKEN_WEAK';

export class HttpStartError extends CodedError<HttpStartErrorCode> {
  constructor(code: HttpStartErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, `${code}: ${message}`, options);
  }
}

/** Long enough that guessing over HTTP is hopeless (e.g. `openssl rand -hex 32` gives 64). */
export const METRICS_TOKEN_MIN_CHARS = 32;

/** The metrics token from its file: the first line, trimmed. */
export function readMetricsToken(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new HttpStartError('HTTP_METRICS_TOKEN_UNREADABLE', `http.metricsTokenFile ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
  }
  const token = (text.split(/\r?\n/)[0] ?? '').trim();
  if (token.length < METRICS_TOKEN_MIN_CHARS || !/^[\x21-\x7e]+$/.test(token)) {
    throw new HttpStartError(
      'HTTP_METRICS_TOKEN_WEAK',
      `http.metricsTokenFile ${file}: expected a token of at least ${METRICS_TOKEN_MIN_CHARS} printable characters on the first line (e.g. \`openssl rand -hex 32\`), got ${token.length}`,
    );
  }
  return token;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** `Authorization: Bearer <token>` against the configured token, in constant time (hashes of equal length). */
export function bearerMatches(authorization: string | undefined, token: string): boolean {
  const m = /^Bearer[ ]+([^\s]+)\s*$/i.exec(authorization ?? '');
  const sent = m?.[1] ?? '';
  // Compared even when nothing usable was sent, so the answer takes the same time.
  const same = timingSafeEqual(digest(sent), digest(token));
  return m !== null && same;
}

/**
 * /metrics: a valid bearer token passes; a wrong one is refused; without one, the next
 * handlers (the guard session checks) decide. No token configured: session only.
 */
export function metricsToken(token: string | null): RequestHandler {
  return (req, res, next) => {
    const auth = req.get('authorization');
    if (auth === undefined) {
      // Said on the 401 the session check may answer; the route removes it on success.
      res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
      return next();
    }
    if (token !== null && bearerMatches(auth, token)) {
      res.locals['metricsToken'] = true;
      return next();
    }
    res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
    throw new HttpError(401, 'UNAUTHENTICATED', token === null ? 'no metrics token is configured (http.metricsTokenFile); sign in at /guard' : 'wrong metrics token');
  };
}

/** When no guard console is mounted, nothing can be signed in to. */
export const noGuardConsole: RequestHandler = () => {
  throw new HttpError(401, 'UNAUTHENTICATED', 'needs a guard session, and the guard console is not enabled on this gateway');
};

function publicDevice(d: DeviceStatus): DeviceStatus {
  // No `detail`: it may name device paths; the kiosk shows only which device is down.
  return { type: d.type, state: d.state, since: d.since };
}

function publicDecision(d: DecisionView): DecisionView {
  // Reasons in the kiosk's public wording: e.g. never why someone is on a watchlist.
  return { eventId: d.eventId, at: d.at, outcome: d.outcome, reasons: publicReasons(d.reasons), maskedName: d.maskedName, temperature: d.temperature };
}

/**
 * A lane snapshot as the open routes give it: what the lane's kiosk screen shows at
 * `now`, built field by field. The last decision (masked name, temperature, reasons) is
 * there only while the kiosk shows it (`resetMs` after it was taken), so the open stream
 * and /api/lanes never hand out the previous person's result.
 */
export function kioskSnapshot(s: LaneSnapshot, now: number, resetMs: number): LaneSnapshot {
  const showing = s.last !== null && now < s.last.at + resetMs;
  const out: LaneSnapshot = {
    lane: s.lane,
    name: s.name,
    state: s.state,
    since: s.since,
    prompt: s.prompt,
    last: showing && s.last !== null ? publicDecision(s.last) : null,
    devices: {
      scanner: publicDevice(s.devices.scanner),
      thermometer: publicDevice(s.devices.thermometer),
      relay: publicDevice(s.devices.relay),
      ...(s.devices.sensor === undefined ? {} : { sensor: publicDevice(s.devices.sensor) }),
    },
  };
  if (s.zone !== undefined) out.zone = s.zone;
  if (s.healthChecks === 'off') {
    // Access control only: nothing health-related on the open view, whatever the lane held.
    out.healthChecks = 'off';
    if (out.last !== null) out.last = { ...out.last, temperature: null, reasons: out.last.reasons.filter((r) => !isHealthReason(r)) };
    if (out.prompt !== null && isHealthReason(out.prompt)) out.prompt = null;
  }
  return out;
}
