// The guard console's API (mounted under /api): sign-in, live feed, alerts, lane status,
// override, expected visitors, ledger search and CSV export, today's counts, zone counts.
// Every route but sign-in requires a session; every route refuses cross-site requests;
// every state-changing route requires the session's CSRF token.
import { Router, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { GatewayBus, LinkStatus } from '../bus.js';
import { CREDENTIAL_KINDS_LIST } from './guard-types.js';
import type { AuthResult, Guard } from '../guards/accounts.js';
import type { SessionManager } from '../guards/sessions.js';
import type { OverrideResult } from '../lane/lane.js';
import type { LaneHandle, LaneSnapshot } from '../lane/types.js';
import { OVERRIDE_REASON_CODES, overrideReason } from '../policy/reasons.js';
import { DAY_MS, LOCAL_OFFSET_MS, localDay, parseInstant } from '../policy/time.js';
import type { Reason } from '../policy/types.js';
import type { AlertStore, LedgerEntry, LedgerHourCount, LedgerQuery, ZoneCorrection } from '../store/types.js';
import { expiryBefore, type LedgerSearchOptions, type LedgerSearchPage } from '../store/index.js';
import type { SqliteStore } from '../store/sqlite-store.js';
import type { Approval } from '../policy/types.js';
import { ScreeningError, screeningDay, screeningDayOf, screeningReport, type ScreeningSource } from '../screening/report.js';
import { csvHeader, csvRow } from './csv.js';
import { alertRows } from './guard-alerts.js';
import { HttpError, describeValue, issueMessage } from './errors.js';
import { toPublicEvent, type PublicEvent } from './events.js';
import type { HealthReport } from './health.js';
import {
  RateLimiter,
  clearSessionCookie,
  requireCsrf,
  requireSession,
  sameOriginOnly,
  sessionOf,
  setSessionCookie,
  SESSION_COOKIE,
  readCookie,
} from './security.js';
import { jsonBody, parseBody } from './body.js';

export interface GuardApiDeps {
  lanes: readonly LaneHandle[];
  bus: GatewayBus;
  logger: Logger;
  health: () => HealthReport;
  accounts: { authenticate(id: string, pin: string): Promise<AuthResult>; get(id: string): Guard | undefined };
  sessions: SessionManager;
  store: {
    queryEvents(q: LedgerQuery): LedgerEntry[];
    searchEvents(q: LedgerQuery, o: LedgerSearchOptions): LedgerSearchPage;
    ledgerByIds(ids: readonly string[]): LedgerEntry[];
    ledgerHourly(from: number, to: number): LedgerHourCount[];
    approvalsAll(): Approval[];
  } & ScreeningSource &
    Pick<AlertStore, 'queryAlerts' | 'ackAlert' | 'unackedAlertCount'> &
    Pick<SqliteStore, 'zoneFacts' | 'zoneCorrect' | 'zoneCorrections'>;
  /** The configured occupancy zones (policy.zones), in config order. */
  zones: readonly ZoneInfo[];
  /** After a guard's correction was recorded (raise the office's alert). */
  onZoneCorrected?: (c: ZoneCorrection) => void;
  override: (lane: string, guardId: string, why: Reason, note: string) => Promise<OverrideResult>;
  /** The keyed pseudonym of a raw subject id, to find a person's rows. */
  pseudonym: (subjectId: string) => string;
  now: () => number;
  sessionTtlMs: number;
  /** Sign-in attempts per client address per minute. */
  loginPerMinute: number;
  /** privacy.personalDataDays (default 28): names are searched in rows this recent only, as older ones have none. */
  personalDataDays?: number;
  /** Rows a name is searched in per request (default NAME_SCAN_ROWS; tests set a few). */
  nameScanRows?: number;
}

/** An occupancy zone as configured (policy.zones), for the console. */
export interface ZoneInfo {
  id: string;
  /** What guards call it ("食堂 / Canteen"); the id when the config names none. */
  name: string;
  /** People inside at once; null = no limit. */
  limit: number | null;
  antiPassback: 'off' | 'hard' | 'soft' | 'timed';
  entryLanes: string[];
  exitLanes: string[];
  /** Daily resets to 0, "HH:MM" China time; may be empty. */
  resetAt: string[];
}

/** A zone correction as the API answers it: the time as ISO 8601. */
export interface ZoneCorrectionView extends Omit<ZoneCorrection, 'at'> {
  at: string;
}

/** How many of a zone's latest corrections GET /guard/zones lists. */
export const ZONE_CORRECTIONS_SHOWN = 5;

function toCorrectionView(c: ZoneCorrection): ZoneCorrectionView {
  return { ...c, at: new Date(c.at).toISOString() };
}

/** The refused or referred passage a guard's override answers. */
export interface AnsweredPassage {
  id: string;
  seq: number;
  at: string;
  outcome: LedgerEntry['outcome'];
  name: string | null;
}

/** A ledger row as the guard sees it: the public event plus the local name and who signed. */
export interface GuardEvent extends PublicEvent {
  name: string | null;
  actor: string | null;
  note: string | null;
  /** On an override: the passage it answers (see answeredPassage); null otherwise. */
  answers: AnsweredPassage | null;
}

export function toGuardEvent(e: LedgerEntry, answers: AnsweredPassage | null = null): GuardEvent {
  return { ...toPublicEvent(e), name: e.subjectName, actor: e.actor ?? null, note: e.note ?? null, answers };
}

/** An override answers the lane's last passage when that was refused or referred this long before at most. */
export const OVERRIDE_ANSWERS_WITHIN_MS = 10 * 60_000;

/**
 * The passage an override answers: the lane's last passage before it, when that was
 * refused or referred (a refusal, a timeout, a gate that did not open) within
 * OVERRIDE_ANSWERS_WITHIN_MS. The lane refuses an override while it handles someone, so
 * that passage is the one the guard saw at the gate.
 */
export function answeredPassage(store: Pick<GuardApiDeps['store'], 'queryEvents'>, e: LedgerEntry): AnsweredPassage | null {
  if (e.kind !== 'override') return null;
  const [before] = store.queryEvents({ lane: e.lane, beforeSeq: e.seq, from: e.at - OVERRIDE_ANSWERS_WITHIN_MS, limit: 1 });
  if (before === undefined || before.kind === 'override' || before.outcome === 'admit') return null;
  return { id: before.id, seq: before.seq, at: new Date(before.at).toISOString(), outcome: before.outcome, name: before.subjectName };
}

/** A ledger row for the console, an override with the passage it answers. */
function guardEventOf(store: Pick<GuardApiDeps['store'], 'queryEvents'>, e: LedgerEntry): GuardEvent {
  return toGuardEvent(e, answeredPassage(store, e));
}

/** Routes reachable without a session (they still refuse cross-site requests). */
export const PUBLIC_GUARD_ROUTES: readonly string[] = ['POST /guard/login', 'GET /guard/alerts/count'];

/** At most this many alert ids in one acknowledgement (the console sends more in batches). */
export const ACK_IDS_MAX = 250;

export const LEDGER_PAGE_MAX = 500;
/** Open alerts the alert list reads at most (the count above comes from SQL, not from them). */
export const ALERT_ROWS_OPEN_MAX = 1000;
export const CSV_MAX_ROWS = 100_000;
const HEARTBEAT_MS = 15_000;

const loginBody = z.object(
  {
    guardId: z.string({ error: 'expected a guard id' }).min(1, 'expected a guard id').max(32, 'expected at most 32 characters'),
    pin: z.string({ error: 'expected the PIN as a string of digits' }).min(1, 'expected a PIN').max(64, 'expected a PIN'),
  },
  { error: 'expected a JSON object like {"guardId": "G-01", "pin": "123456"}' },
);

/** A text of 1-200 characters once trimmed, with one message for every way it can be wrong. */
function shortText(expected: string): z.ZodString {
  return z.string({ error: expected }).trim().min(1, expected).max(200, expected);
}

const overrideBody = z.object(
  {
    reason: z.enum(OVERRIDE_REASON_CODES, { error: `expected one of ${OVERRIDE_REASON_CODES.join(', ')}` }),
    note: shortText('expected a short note (1-200 characters)'),
  },
  { error: 'expected a JSON object like {"reason": "OVERRIDE_IDENTITY_VERIFIED", "note": "..."}' },
);

const ackBody = z.object(
  {
    ids: z
      .array(z.string({ error: 'expected alert ids (strings)' }).min(1, 'expected an alert id').max(64, 'expected an alert id of at most 64 characters'), {
        error: 'expected the alert ids as an array of strings',
      })
      .min(1, 'expected at least one alert id')
      .max(ACK_IDS_MAX, `expected at most ${ACK_IDS_MAX} alert ids; send more in batches`),
  },
  { error: 'expected a JSON object like {"ids": ["<alert id>", ...]}' },
);

const zoneCountBody = z.object(
  {
    count: z
      .number({ error: 'expected the number of people inside, a whole number ≥ 0' })
      .int('expected the number of people inside, a whole number ≥ 0')
      .min(0, 'expected the number of people inside, a whole number ≥ 0'),
    reason: shortText('expected the reason for the correction (1-200 characters)'),
  },
  { error: 'expected a JSON object like {"count": 12, "reason": "..."}' },
);

const timestamp = z
  .string()
  .pipe(z.iso.datetime({ offset: true, error: 'expected an ISO 8601 timestamp with a time zone, e.g. 2024-12-04T08:00:00+08:00' }))
  .transform((s) => Date.parse(s));

const ledgerParams = z.object({
  lane: z.string().min(1).max(64, 'expected a lane id of at most 64 characters').optional(),
  outcome: z.enum(['admit', 'refuse', 'refer'], { error: 'expected one of admit, refuse, refer' }).optional(),
  credential: z.enum(CREDENTIAL_KINDS_LIST, { error: `expected one of ${CREDENTIAL_KINDS_LIST.join(', ')}` }).optional(),
  subject: z.string().trim().min(1, 'expected a name or subject id').max(100, 'expected at most 100 characters').optional(),
  from: timestamp.optional(),
  to: timestamp.optional(),
  limit: z
    .string()
    .regex(/^[0-9]{1,4}$/, `expected a whole number from 1 to ${LEDGER_PAGE_MAX}`)
    .transform(Number)
    .pipe(z.number().int().min(1, `expected a whole number from 1 to ${LEDGER_PAGE_MAX}`).max(LEDGER_PAGE_MAX, `expected a whole number from 1 to ${LEDGER_PAGE_MAX}`))
    .optional(),
  before: z
    .string()
    .regex(/^[0-9]{1,15}$/, 'expected a ledger seq')
    .transform(Number)
    .pipe(z.number().int().min(1, 'expected a ledger seq'))
    .optional(),
});
type LedgerParams = z.infer<typeof ledgerParams>;

function searchOf(req: Request): URLSearchParams {
  const i = req.originalUrl.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : req.originalUrl.slice(i + 1));
}

function parseParams<T extends z.ZodObject>(schema: T, req: Request): z.infer<T> {
  const search = searchOf(req);
  const known = Object.keys(schema.shape);
  const raw: Record<string, string> = {};
  for (const name of new Set(search.keys())) {
    if (!known.includes(name)) throw new HttpError(400, 'BAD_PARAMETER', `unknown query parameter '${name}': expected one of ${known.join(', ')}`);
    const values = search.getAll(name);
    if (values.length > 1) throw new HttpError(400, 'BAD_PARAMETER', `query parameter '${name}': expected one value, got ${values.length}`);
    raw[name] = values[0] ?? '';
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new HttpError(400, 'BAD_PARAMETER', issueMessage(parsed.error, raw, 'query parameter'));
  return parsed.data as z.infer<T>;
}

function ledgerQuery(p: LedgerParams, pseudonym: (id: string) => string): LedgerQuery {
  if (p.from !== undefined && p.to !== undefined && p.to <= p.from) {
    throw new HttpError(400, 'BAD_PARAMETER', `query parameter 'to': expected a time after 'from', got ${describeValue(new Date(p.to).toISOString())}`);
  }
  const q: LedgerQuery = {};
  if (p.lane !== undefined) q.lane = p.lane;
  if (p.outcome !== undefined) q.outcome = p.outcome;
  if (p.credential !== undefined) q.credential = p.credential;
  // One box for "name or id": the id is matched through its pseudonym, the name as a substring.
  if (p.subject !== undefined) q.subjectMatch = { ref: pseudonym(p.subject), name: p.subject };
  if (p.from !== undefined) q.from = p.from;
  if (p.to !== undefined) q.to = p.to;
  if (p.before !== undefined) q.beforeSeq = p.before;
  return q;
}

/** Start (epoch ms) of the checkpoint's local calendar day holding `now`. */
export function localDayStart(now: number): number {
  return localDay(now) * DAY_MS - LOCAL_OFFSET_MS;
}

export interface HourBucket {
  hour: number;
  admit: number;
  refuse: number;
  refer: number;
}

export interface TodayStats {
  from: string;
  to: string;
  totals: { admit: number; refuse: number; refer: number; override: number; fault: number };
  hours: HourBucket[];
}

/** Passages (decisions and timeouts) by outcome and hour; overrides and faults counted apart. */
export function todayStats(rows: readonly LedgerHourCount[], from: number): TodayStats {
  const hours: HourBucket[] = Array.from({ length: 24 }, (_, hour) => ({ hour, admit: 0, refuse: 0, refer: 0 }));
  const totals = { admit: 0, refuse: 0, refer: 0, override: 0, fault: 0 };
  for (const r of rows) {
    if (r.kind === 'override') totals.override += r.n;
    else if (r.kind === 'fault') totals.fault += r.n;
    else {
      totals[r.outcome] += r.n;
      const b = hours[r.hour];
      if (b !== undefined) b[r.outcome] += r.n;
    }
  }
  return { from: new Date(from).toISOString(), to: new Date(from + DAY_MS).toISOString(), totals, hours };
}

export function guardRouter(deps: GuardApiDeps): Router {
  const { sessions, logger } = deps;
  const router = Router();
  const limiter = new RateLimiter(deps.loginPerMinute, 60_000, deps.now);
  const session: RequestHandler[] = [
    sameOriginOnly,
    requireSession(sessions, (id) => deps.accounts.get(id) !== undefined),
    requireCsrf,
  ];
  const laneById = (id: string): LaneHandle | undefined => deps.lanes.find((l) => l.id === id);
  const guardEvent = (e: LedgerEntry): GuardEvent => guardEventOf(deps.store, e);
  const searchOptions = (): LedgerSearchOptions => ({
    namesFrom: expiryBefore(deps.now(), deps.personalDataDays ?? 28),
    ...(deps.nameScanRows === undefined ? {} : { nameScanRows: deps.nameScanRows }),
  });
  const noStore: RequestHandler = (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  };

  const loginExample = '{"guardId": "G-01", "pin": "123456"}';
  router.post('/guard/login', sameOriginOnly, jsonBody(loginExample), async (req, res) => {
    const wait = limiter.hit(req.socket.remoteAddress ?? 'unknown');
    if (wait > 0) {
      res.setHeader('Retry-After', String(Math.ceil(wait / 1000)));
      throw new HttpError(429, 'RATE_LIMITED', `too many sign-in attempts from this address; try again in ${Math.ceil(wait / 1000)} s`);
    }
    const body = parseBody(loginBody, req, loginExample);
    const result = await deps.accounts.authenticate(body.guardId, body.pin);
    if (!result.ok) {
      logger.warn({ guard: body.guardId, reason: result.reason }, 'guard sign-in refused');
      if (result.reason === 'locked') {
        throw new HttpError(423, 'ACCOUNT_LOCKED', `account locked after repeated wrong PINs until ${new Date(result.until).toISOString()}`);
      }
      throw new HttpError(401, 'SIGN_IN_FAILED', 'wrong guard id or PIN');
    }
    // A fresh token at every sign-in: a token planted before sign-in is worthless after.
    sessions.end(readCookie(req.headers, SESSION_COOKIE));
    const { token, session: s } = sessions.create(result.guard.id);
    setSessionCookie(req, res, token, deps.sessionTtlMs);
    logger.info({ guard: result.guard.id }, 'guard signed in');
    res.setHeader('Cache-Control', 'no-store');
    res.json({ guard: { id: result.guard.id, name: result.guard.name }, csrfToken: s.csrfToken, expiresAt: s.expiresAt });
  });

  router.post('/guard/logout', ...session, (req, res) => {
    sessions.end(res.locals['sessionToken'] as string);
    clearSessionCookie(req, res);
    logger.info({ guard: sessionOf(res).guardId }, 'guard signed out');
    res.status(204).end();
  });

  router.get('/guard/session', ...session, noStore, (_req, res) => {
    const s = sessionOf(res);
    const guard = deps.accounts.get(s.guardId);
    res.json({
      guard: { id: s.guardId, name: guard?.name ?? s.guardId },
      csrfToken: s.csrfToken,
      expiresAt: s.expiresAt,
      now: deps.now(),
    });
  });

  router.get('/guard/status', ...session, noStore, (_req, res) => {
    const report = deps.health();
    res.json({
      lanes: deps.lanes.map((l) => {
        const snap = l.snapshot();
        return { id: l.id, name: snap.name, state: snap.state, since: snap.since, devices: snap.devices, ...(snap.healthChecks === 'off' ? { healthChecks: 'off' as const } : {}) };
      }),
      mqtt: report.mqtt,
      outboxDepth: report.outboxDepth,
      unackedAlerts: deps.store.unackedAlertCount(),
      now: deps.now(),
    });
  });

  router.get('/guard/ledger', ...session, noStore, (req, res) => {
    const p = parseParams(ledgerParams, req);
    const limit = p.limit ?? 100;
    const page = deps.store.searchEvents({ ...ledgerQuery(p, deps.pseudonym), limit }, searchOptions());
    const back = page.searchedBackTo;
    res.json({
      events: page.rows.map(guardEvent),
      nextBefore: page.nextBefore,
      // A name is searched in a bounded number of rows per request (docs/guard-console.md "Ledger search").
      searchedBackTo: back === null ? null : { seq: back.seq, at: new Date(back.at).toISOString() },
    });
  });

  router.get('/guard/ledger.csv', ...session, noStore, async (req, res) => {
    const p = parseParams(ledgerParams.omit({ limit: true, before: true }), req);
    const q = ledgerQuery(p, deps.pseudonym);
    const day = new Date(deps.now() + LOCAL_OFFSET_MS).toISOString().slice(0, 10);
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="ledger-${day}.csv"`);
    logger.info({ guard: sessionOf(res).guardId, query: p }, 'ledger exported as CSV');
    let out = csvHeader();
    let before: number | undefined;
    // Paged so a large export never holds more than one page of rows from SQLite at once.
    for (let total = 0; total < CSV_MAX_ROWS; ) {
      const page = deps.store.searchEvents({ ...q, limit: 1000, ...(before === undefined ? {} : { beforeSeq: before }) }, searchOptions());
      // Only the rows the page vouches for (at or above nextBefore): the rest come again, in order.
      for (const row of page.rows) {
        if (page.nextBefore !== null && row.seq < page.nextBefore) break;
        out += csvRow(row);
        total += 1;
      }
      if (page.nextBefore === null) break;
      before = page.nextBefore;
      // The lanes' passages go first between pages: a name searched over weeks is many pages.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    res.send(out);
  });

  router.get('/guard/alerts', ...session, noStore, (req, res) => {
    const p = parseParams(
      z.object({
        unacked: z.enum(['true', 'false'], { error: 'expected true or false' }).optional(),
        limit: z.string().regex(/^[0-9]{1,3}$/, 'expected a whole number from 1 to 500').transform(Number).pipe(z.number().int().min(1).max(500)).optional(),
      }),
      req,
    );
    const alerts = deps.store.queryAlerts({ open: p.unacked === 'true', limit: p.limit ?? 100 });
    // Every alert still to acknowledge is in a row, however old, and the latest others.
    const open = p.unacked === 'true' ? alerts : deps.store.queryAlerts({ open: true, limit: ALERT_ROWS_OPEN_MAX });
    const all = [...new Map([...open, ...alerts].map((a) => [a.id, a])).values()].sort((x, y) => y.at - x.at);
    const eventIds = [...new Set(all.flatMap((a) => (a.eventId === null ? [] : [a.eventId])))];
    const events = new Map(deps.store.ledgerByIds(eventIds).map((e) => [e.id, e]));
    res.json({ alerts, rows: alertRows(all, events), unacked: deps.store.unackedAlertCount() });
  });

  // The count alone, for the sign-in page: a guard arriving for a shift sees what is open.
  router.get('/guard/alerts/count', sameOriginOnly, noStore, (_req, res) => {
    res.json({ unacked: deps.store.unackedAlertCount() });
  });

  // Acknowledge the alerts the guard had on screen (a row, or every row shown), and only those.
  const ackExample = '{"ids": ["<alert id>", ...]}';
  router.post('/guard/alerts/ack', ...session, jsonBody(ackExample), (req, res) => {
    const body = parseBody(ackBody, req, ackExample);
    const guardId = sessionOf(res).guardId;
    const at = deps.now();
    let acked = 0;
    for (const id of new Set(body.ids)) if (deps.store.ackAlert(id, guardId, at)) acked += 1;
    logger.info({ guard: guardId, alerts: acked }, 'alerts acknowledged');
    res.json({ acked, ackedBy: guardId, unacked: deps.store.unackedAlertCount() });
  });

  router.post('/guard/alerts/:id/ack', ...session, (req, res) => {
    const id = String(req.params['id']);
    const guardId = sessionOf(res).guardId;
    if (!deps.store.ackAlert(id, guardId, deps.now())) {
      throw new HttpError(404, 'ALERT_UNKNOWN', `no unacknowledged alert ${JSON.stringify(id.slice(0, 64))}`);
    }
    logger.info({ guard: guardId, alert: id }, 'alert acknowledged');
    res.json({ acked: true, ackedBy: guardId, unacked: deps.store.unackedAlertCount() });
  });

  router.get('/guard/expected', ...session, noStore, (_req, res) => {
    const now = deps.now();
    const from = localDayStart(now);
    const to = from + DAY_MS;
    const people = deps.store
      .approvalsAll()
      .filter((a) => parseInstant(a.validFrom) < to && parseInstant(a.validUntil) > from)
      .map((a) => {
        const ref = deps.pseudonym(a.subjectId);
        const arrived = deps.store.queryEvents({ subjectRef: ref, outcome: 'admit', from, to, limit: 1 })[0];
        const seen = arrived ?? deps.store.queryEvents({ subjectRef: ref, limit: 1 })[0];
        return {
          subjectId: a.subjectId,
          name: seen?.subjectName ?? null,
          category: seen?.category ?? null,
          approver: a.approver,
          hostDepartment: a.hostDepartment,
          validFrom: a.validFrom,
          validUntil: a.validUntil,
          arrivedAt: arrived === undefined ? null : new Date(arrived.at).toISOString(),
          lane: arrived?.lane ?? null,
        };
      });
    res.json({ from: new Date(from).toISOString(), people });
  });

  router.get('/guard/stats', ...session, noStore, (_req, res) => {
    const from = localDayStart(deps.now());
    res.json(todayStats(deps.store.ledgerHourly(from, from + DAY_MS), from));
  });

  // Who of the roster's workers has been screened on a day (default today), and who not yet.
  router.get('/guard/screening', ...session, noStore, (req, res) => {
    const p = parseParams(z.object({ date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD').optional() }), req);
    let day;
    try {
      day = p.date === undefined ? screeningDayOf(deps.now()) : screeningDay(p.date);
    } catch (err) {
      if (err instanceof ScreeningError) throw new HttpError(400, 'BAD_PARAMETER', `query parameter 'date': expected a calendar date YYYY-MM-DD, got ${describeValue(p.date)}`);
      throw err;
    }
    res.json(screeningReport(deps.store, day, deps.pseudonym));
  });

  router.get('/guard/stream', ...session, (req, res) => {
    const token = res.locals['sessionToken'] as string;
    streamForGuard(req, res, deps, () => sessions.alive(token));
  });

  const overrideExample = '{"reason": "OVERRIDE_IDENTITY_VERIFIED", "note": "..."}';
  router.post('/lanes/:lane/override', ...session, jsonBody(overrideExample), async (req, res) => {
    const laneId = String(req.params['lane']);
    if (laneById(laneId) === undefined) {
      throw new HttpError(404, 'LANE_UNKNOWN', `no lane '${laneId}'; lanes: ${deps.lanes.map((l) => l.id).join(', ') || '(none)'}`);
    }
    const body = parseBody(overrideBody, req, overrideExample);
    const guardId = sessionOf(res).guardId;
    let result: OverrideResult;
    try {
      result = await deps.override(laneId, guardId, overrideReason(body.reason), body.note);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'LANE_BUSY' || code === 'RELAY_DOWN') throw new HttpError(409, code, (err as Error).message.replace(/^[A-Z_]+: /, ''));
      throw err;
    }
    logger.warn({ guard: guardId, lane: laneId, reason: body.reason, event: result.event.id, pulsed: result.pulsed }, 'guard override');
    res.json({ event: guardEvent(result.event), pulsed: result.pulsed });
  });

  router.get('/guard/zones', ...session, noStore, (_req, res) => {
    res.json({
      zones: deps.zones.map((zn) => ({
        ...zn,
        count: deps.store.zoneFacts(zn.id, null).count,
        corrections: deps.store.zoneCorrections(zn.id, ZONE_CORRECTIONS_SHOWN).reverse().map(toCorrectionView),
      })),
      now: deps.now(),
    });
  });

  // The guard sets a zone's count to what is really inside, signed with their id.
  const zoneCountExample = '{"count": 12, "reason": "..."}';
  router.post('/guard/zones/:zone/count', ...session, jsonBody(zoneCountExample), (req, res) => {
    const zoneId = String(req.params['zone']);
    const zone = deps.zones.find((zn) => zn.id === zoneId);
    if (zone === undefined) {
      throw new HttpError(404, 'ZONE_UNKNOWN', `no zone ${JSON.stringify(zoneId.slice(0, 64))}; zones: ${deps.zones.map((zn) => zn.id).join(', ') || '(none)'}`);
    }
    const body = parseBody(zoneCountBody, req, zoneCountExample);
    const guardId = sessionOf(res).guardId;
    const c = deps.store.zoneCorrect({ zone: zone.id, count: body.count, guard: guardId, reason: body.reason, at: deps.now() });
    logger.warn({ guard: guardId, zone: zone.id, from: c.from, to: c.to, reason: c.reason }, 'zone count corrected');
    deps.onZoneCorrected?.(c);
    // Above the limit is allowed: the count must show who is really inside.
    const over = zone.limit !== null && c.to > zone.limit;
    res.json({ ...toCorrectionView(c), ...(over ? { warning: `count ${c.to} is above the zone's limit of ${zone.limit}` } : {}) });
  });

  return router;
}

/** Server-sent events for the console: lane snapshots, ledger rows (with names), link status. Ends with the session. */
function streamForGuard(req: Request, res: Response, deps: GuardApiDeps, alive: () => boolean): void {
  req.socket.setNoDelay(true);
  req.socket.setTimeout(0);
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache, no-transform');
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  let closed = false;
  const write = (event: string, data: unknown): void => {
    if (closed) return;
    if (!alive()) {
      res.end();
      return;
    }
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    if (res.writableLength > 1 << 20) res.end();
  };
  res.write('retry: 2000\n\n');
  for (const l of deps.lanes) write('lane', l.snapshot());
  const offs = [
    deps.bus.on('lane', (s: LaneSnapshot) => write('lane', s)),
    deps.bus.on('ledger', (row: LedgerEntry) => write('ledger', guardEventOf(deps.store, row))),
    deps.bus.on('link', (s: LinkStatus) => write('link', s)),
  ];
  const heartbeat = setInterval(() => {
    if (!alive()) res.end();
    else res.write(': heartbeat\n\n');
  }, HEARTBEAT_MS);
  heartbeat.unref();
  const cleanup = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    for (const off of offs) off();
  };
  res.on('close', cleanup);
  res.on('error', cleanup);
}

/** "METHOD /path" of every route of a router, for the security test and the docs. */
export function routesOf(router: Router): { method: string; path: string }[] {
  const out: { method: string; path: string }[] = [];
  for (const layer of router.stack) {
    const route = (layer as { route?: { path: string; methods: Record<string, boolean> } }).route;
    if (route === undefined) continue;
    for (const [m, on] of Object.entries(route.methods)) if (on && m !== '_all') out.push({ method: m.toUpperCase(), path: route.path });
  }
  return out;
}
