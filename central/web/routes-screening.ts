// The daily screening page's routes (issue 12, item 4): the mine-wide report of a day, its
// CSV export, and the roster import that feeds it (admin: the epidemic office). Mounted
// after the session check (central/web/app.ts).
import express, { type Request, type RequestHandler } from 'express';
import { HttpError } from '../../gateway/http/errors.js';
import { ScreeningError, screeningDay, screeningDayOf, type ScreeningDay } from '../../gateway/screening/report.js';
import { importRoster, RosterImportError, rosterSites, rosterSummary } from '../console/roster.js';
import { dailyScreening, screeningCsv } from '../console/screening.js';
import { CentralError } from '../errors.js';
import { audit } from './audit.js';
import { clientOf, sessionOf, type ConsoleContext } from './context.js';

/** A site roster of ~10 000 people is ~1.5 MB of CSV; room for far more, a bound for abuse. */
const CSV_LIMIT = '16mb';
const SITE_ID = /^[a-z0-9][a-z0-9-]{0,31}$/;

function param(req: Request, key: string): string | undefined {
  const v = req.query[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function dayOf(req: Request, now: number): ScreeningDay {
  const date = param(req, 'date');
  if (date === undefined) return screeningDayOf(now);
  try {
    return screeningDay(date);
  } catch (err) {
    if (err instanceof ScreeningError) throw new HttpError(400, 'BAD_PARAMETER', `date: expected a calendar date YYYY-MM-DD (China time), e.g. 2026-12-04, got ${JSON.stringify(date.slice(0, 40))}`);
    throw err;
  }
}

/** The file's bytes as they came (the page sends the file itself); 413 beyond CSV_LIMIT. */
function csvBody(): RequestHandler {
  const raw = express.raw({ type: () => true, limit: CSV_LIMIT });
  return (req, res, next) => {
    raw(req, res, (err?: unknown) => {
      if (err === undefined || err === null) return next();
      const type = (err as { type?: unknown }).type;
      if (type === 'entity.too.large') return next(new HttpError(413, 'BODY_TOO_LARGE', `request body: expected a roster CSV file of at most ${CSV_LIMIT}`));
      if (type === 'encoding.unsupported') return next(new HttpError(415, 'UNSUPPORTED_ENCODING', 'header Content-Encoding: expected none, gzip, deflate or br'));
      return next(new HttpError(400, 'BAD_BODY', 'request body: could not be read; expected the roster CSV file as the body'));
    });
  };
}

const withoutCode = (err: CentralError): string => err.message.replace(`${err.code}: `, '');

export function mountScreening(r: express.Router, ctx: ConsoleContext): void {
  const keyed = (): string[] => (ctx.sites?.list() ?? []).map((s) => s.id);
  const siteNames = (): Map<string, string | null> => new Map((ctx.sites?.list() ?? []).map((s) => [s.id, s.name]));

  /** The site asked for, else the only (or first) one the office knows; null when none. */
  async function siteOf(req: Request): Promise<{ site: string | null; sites: { id: string; name: string | null }[] }> {
    const names = siteNames();
    const ids = [...new Set([...keyed(), ...(await rosterSites(ctx.db()))])].sort();
    const sites = ids.map((id) => ({ id, name: names.get(id) ?? null }));
    const asked = param(req, 'site');
    if (asked === undefined) return { site: ids[0] ?? null, sites };
    if (!ids.includes(asked)) {
      throw new HttpError(400, 'SITE_UNKNOWN', `site ${JSON.stringify(asked.slice(0, 40))}: expected one of the office's sites (${ids.join(', ') || 'none configured'})`);
    }
    return { site: asked, sites };
  }

  r.get('/api/screening', async (req, res) => {
    const now = ctx.now();
    const day = dayOf(req, now);
    const { site, sites } = await siteOf(req);
    res.setHeader('Cache-Control', 'no-store');
    res.json({
      at: new Date(now).toISOString(),
      sites,
      screening: site === null ? null : await dailyScreening(ctx.db(), site, day),
      roster: site === null ? null : await rosterSummary(ctx.db(), site),
      canImport: ctx.pusher?.canPush === true && site !== null && keyed().includes(site),
    });
  });

  r.get('/api/screening.csv', async (req, res) => {
    const now = ctx.now();
    const day = dayOf(req, now);
    const { site } = await siteOf(req);
    if (site === null) throw new HttpError(400, 'SITE_UNKNOWN', 'the office knows no site yet: import a roster first');
    const report = await dailyScreening(ctx.db(), site, day);
    await audit(ctx.db(), { at: now, officerId: sessionOf(res).officerId, action: 'screening-exported', client: clientOf(req), detail: { site, date: day.date, rows: report.workers } });
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Disposition', `attachment; filename="screening-${site}-${day.date}.csv"`);
    res.type('text/csv; charset=utf-8').send(screeningCsv(report));
  });

  // The site's whole roster as CSV (the gateway's format plus department and team).
  r.post('/api/roster', ctx.requireRole('admin'), csvBody(), async (req, res) => {
    const keys = keyed();
    const site = param(req, 'site') ?? (keys.length === 1 ? keys[0] : undefined);
    if (site === undefined) throw new HttpError(400, 'BAD_PARAMETER', `site: expected one of ${keys.join(', ') || '(none configured)'} in ?site=`);
    const pseudonymOf = SITE_ID.test(site) && ctx.sites?.has(site) === true ? ctx.sites : undefined;
    if (pseudonymOf === undefined) {
      throw new HttpError(400, 'SITE_UNKNOWN', `site ${JSON.stringify(site.slice(0, 40))}: the office holds no pseudonym secret for it (config sites.<site>.pseudonymSecretFile), so its roster could not be matched to the events; expected one of ${keys.join(', ') || '(none configured)'}`);
    }
    if (ctx.pusher?.canPush !== true) throw new HttpError(503, 'PUSH_UNAVAILABLE', 'the office cannot sign updates (no updates.signingKeyFile configured): a roster is imported only together with its push to the gateways');
    const s = sessionOf(res);
    const now = ctx.now();
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    let result;
    try {
      // Not fatal on bad bytes: the parser names the line and column of each garbled cell.
      result = await importRoster(ctx.db(), ctx.pusher, { site, text: new TextDecoder('utf-8').decode(body), officerId: s.officerId, now, pseudonymOf: (id) => pseudonymOf.pseudonymOf(site, id)! });
    } catch (err) {
      if (err instanceof RosterImportError) {
        res.status(400).json({ error: { code: 'ROSTER_INVALID', message: err.message, problems: err.problems } });
        return;
      }
      if (err instanceof CentralError && err.code === 'CENTRAL_PUSH_INVALID') throw new HttpError(400, 'ROSTER_INVALID', `the roster breaks the gateways' rules, nothing was imported: ${withoutCode(err)}`);
      if (err instanceof CentralError && err.code === 'CENTRAL_PUSH_FAILED') throw new HttpError(502, 'PUSH_FAILED', `${withoutCode(err)}; nothing was imported, try again when the broker is reachable`);
      throw err;
    }
    const { push, ...counts } = result;
    await audit(ctx.db(), { at: now, officerId: s.officerId, action: 'roster-imported', client: clientOf(req), detail: { ...counts, version: push.version, transaction: push.transaction } });
    res.json({ ...result, roster: await rosterSummary(ctx.db(), site) });
  });
}
