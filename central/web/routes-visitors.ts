// The visitors and contractors page (issue 12, item 5): the epidemic office's visitor
// approvals and contractor crew registrations, each signed and pushed to the checkpoints
// it concerns (central/visitors-sync.ts: per checkpoint, the full set), with what each
// gateway answered. Any signed-in role reads; only an admin creates or revokes.
import { randomUUID } from 'node:crypto';
import type express from 'express';
import { z } from 'zod';
import { CodedError } from '../../gateway/errors.js';
import { jsonBody, parseBody } from '../../gateway/http/body.js';
import { HttpError } from '../../gateway/http/errors.js';
import type { Approval, CrewRegistration } from '../../gateway/policy/types.js';
import { checkApprovals, checkCrews, isIsoDate, isIsoTimestamp } from '../../gateway/store/validate.js';
import { insertApproval, insertCrew, knownCheckpoints, revokeEntry, visitorsList, type VisitorKind } from '../console/visitors.js';
import { SYNC_OFFICER, VisitorSync, type SyncOutcome } from '../visitors-sync.js';
import { audit, type AuditAction } from './audit.js';
import { clientOf, sessionOf, type ConsoleContext } from './context.js';

/** Site and checkpoint ids as the update envelope takes them. */
const ID = /^[a-z0-9][a-z0-9-]{0,31}$/;
const siteId = z.string().regex(ID, 'expected a site id (1-32 of a-z 0-9 -)');
const text = (max: number) => z.string().trim().min(1, 'expected a non-empty text').max(max, `expected at most ${max} characters`);
const instant = z.string().refine(isIsoTimestamp, 'expected an ISO 8601 timestamp with a zone, e.g. 2026-12-05T08:30:00+08:00');
const day = z.string().refine((s) => isIsoDate(s) || isIsoTimestamp(s), 'expected an ISO date, e.g. 2026-11-28');
const unique = (list: readonly string[]): boolean => new Set(list).size === list.length;
const checkpoints = z
  .array(z.string().regex(ID, 'expected a checkpoint id (1-32 of a-z 0-9 -)'))
  .min(1, 'expected at least one checkpoint id; leave checkpoints out for every checkpoint of the site')
  .max(64)
  .refine(unique, 'expected each checkpoint once')
  .optional();

const approvalBody = z.strictObject({
  site: siteId,
  /** The visitor's pass subject (`sub`). */
  subjectId: text(128),
  /** Office only: never pushed. */
  name: text(100).optional(),
  approver: text(100),
  hostDepartment: text(100),
  validFrom: instant,
  validUntil: instant,
  maxUses: z.number().int('expected a whole number of uses').min(1, 'expected at least 1 use').max(100_000).optional(),
  checkpoints,
});
const APPROVAL_EXAMPLE =
  '{"site": "mine-a", "subjectId": "V-1001", "approver": "李主任", "hostDepartment": "安全科", "validFrom": "2026-12-05T08:00:00+08:00", "validUntil": "2026-12-05T18:00:00+08:00", "maxUses": 2, "checkpoints": ["gate-1"]}';

const crewBody = z.strictObject({
  site: siteId,
  responsible: text(100),
  /** Pass subjects of the crew's members. */
  members: z.array(text(128)).min(1, 'expected at least one member').max(300, 'expected at most 300 members').refine(unique, 'expected each member once'),
  validFrom: instant,
  validUntil: instant,
  itinerary: z.array(z.strictObject({ region: text(200), from: day, to: day })).max(100, 'expected at most 100 stops'),
  checkpoints,
});
const CREW_EXAMPLE =
  '{"site": "mine-a", "responsible": "赵工", "members": ["C-2001", "C-2002"], "validFrom": "2026-12-05T08:00:00+08:00", "validUntil": "2026-12-20T18:00:00+08:00", "itinerary": [{"region": "山西省太原市", "from": "2026-11-28", "to": "2026-12-02"}]}';

const ENTRY_ID: Record<VisitorKind, RegExp> = {
  approvals: /^ap-[0-9a-f-]{36}$/,
  crews: /^cr-[0-9a-f-]{36}$/,
};

/** The gateway's own check of one entry; its refusal names the field, never the person. */
function gatewayCheck(check: (entries: unknown) => void, entry: unknown): void {
  try {
    check([entry]);
  } catch (err) {
    if (!(err instanceof CodedError) || err.code !== 'STORE_INVALID_ROW') throw err;
    const issue = ((err as { details?: { issues?: { path: string; message: string }[] } }).details?.issues ?? [])[0];
    throw new HttpError(400, 'BAD_BODY', issue === undefined ? 'a gateway would refuse this entry' : `body field '${issue.path}': ${issue.message} (a gateway would refuse it)`);
  }
}

export function mountVisitors(r: express.Router, ctx: ConsoleContext): void {
  const sync = new VisitorSync({
    db: ctx.db,
    pusher: ctx.pusher,
    now: ctx.now,
    onPushed: () => ctx.changes?.changed(['updates']),
  });
  // A checkpoint first seen (its birth) gets its set; expired entries leave the sets.
  if (ctx.pusher?.canPush === true) {
    ctx.changes?.subscribe((kinds) => {
      if (kinds.includes('status')) sync.background(SYNC_OFFICER);
    });
  }

  /** The configured sites (with their names), then those only known from a checkpoint's status. */
  const sitesKnown = async (): Promise<{ id: string; name: string | null }[]> => {
    const named = ctx.sites?.list() ?? [];
    const fromStatus = new Set((await knownCheckpoints(ctx.db())).map((k) => k.site));
    for (const s of named) fromStatus.delete(s.id);
    return [...named, ...[...fromStatus].map((id) => ({ id, name: null }))];
  };

  /** The site is known and so is every checkpoint named; the window ends in the future. */
  const checkPlace = async (b: { site: string; checkpoints?: string[] | undefined; validUntil: string }): Promise<void> => {
    const sites = await sitesKnown();
    if (!sites.some((s) => s.id === b.site)) {
      throw new HttpError(400, 'BAD_BODY', `body field 'site': unknown site "${b.site}": expected one of ${sites.map((s) => s.id).join(', ') || '(none known yet)'}`);
    }
    const known = (await knownCheckpoints(ctx.db(), b.site)).map((k) => k.checkpoint);
    (b.checkpoints ?? []).forEach((cp, i) => {
      if (!known.includes(cp)) throw new HttpError(400, 'BAD_BODY', `body field 'checkpoints.${i}': unknown checkpoint "${cp}" of site ${b.site}: expected one of ${known.join(', ') || '(none known yet)'}`);
    });
    if (Date.parse(b.validUntil) <= ctx.now()) {
      throw new HttpError(400, 'BAD_BODY', `body field 'validUntil': expected a time after now (${new Date(ctx.now()).toISOString()}), got ${b.validUntil}`);
    }
  };

  const requirePusher = (): void => {
    if (ctx.pusher?.canPush !== true) throw new HttpError(503, 'PUSH_UNAVAILABLE', 'the office cannot sign updates (no updates.signingKeyFile configured): nothing was stored');
  };

  /** Audits the change (before pushing: the row exists whatever the push does), then pushes the sets it changed. */
  const afterChange = async (req: express.Request, res: express.Response, action: AuditAction, site: string, detail: Record<string, unknown>): Promise<SyncOutcome> => {
    const officer = sessionOf(res).officerId;
    // No names or subject ids in the audit: the entry id leads to them.
    await audit(ctx.db(), { at: ctx.now(), officerId: officer, action, client: clientOf(req), detail: { site, ...detail } });
    return sync.sync([site], officer);
  };

  r.get('/api/visitors', async (req, res) => {
    const site = typeof req.query['site'] === 'string' && req.query['site'] !== '' ? req.query['site'] : undefined;
    const now = ctx.now();
    const list = await visitorsList(ctx.db(), site === undefined ? {} : { site }, now);
    res.setHeader('Cache-Control', 'no-store');
    res.json({
      at: new Date(now).toISOString(),
      canPush: ctx.pusher?.canPush === true,
      syncFailure: sync.lastFailure,
      sites: await sitesKnown(),
      checkpoints: await knownCheckpoints(ctx.db(), site),
      ...list,
    });
  });

  r.post('/api/visitors/approvals', ctx.requireRole('admin'), jsonBody(APPROVAL_EXAMPLE), async (req, res) => {
    const b = parseBody(approvalBody, req, APPROVAL_EXAMPLE);
    const entry: Approval & { id: string } = {
      id: `ap-${randomUUID()}`,
      subjectId: b.subjectId,
      approver: b.approver,
      hostDepartment: b.hostDepartment,
      validFrom: b.validFrom,
      validUntil: b.validUntil,
      ...(b.checkpoints ? { checkpoints: b.checkpoints } : {}),
      ...(b.maxUses !== undefined ? { maxUses: b.maxUses } : {}),
    };
    gatewayCheck(checkApprovals, entry);
    await checkPlace(b);
    requirePusher();
    const now = ctx.now();
    await insertApproval(ctx.db(), {
      entry,
      site: b.site,
      subjectName: b.name ?? null,
      pseudonym: ctx.sites?.pseudonymOf(b.site, b.subjectId) ?? null,
      createdBy: sessionOf(res).officerId,
      at: now,
    });
    const outcome = await afterChange(req, res, 'visitor-approval-created', b.site, { id: entry.id, checkpoints: b.checkpoints ?? 'all' });
    res.status(201).json({ id: entry.id, ...outcome });
  });

  r.post('/api/visitors/crews', ctx.requireRole('admin'), jsonBody(CREW_EXAMPLE), async (req, res) => {
    const b = parseBody(crewBody, req, CREW_EXAMPLE);
    const entry: CrewRegistration = {
      id: `cr-${randomUUID()}`,
      responsible: b.responsible,
      members: b.members,
      validFrom: b.validFrom,
      validUntil: b.validUntil,
      itinerary: b.itinerary,
    };
    gatewayCheck(checkCrews, entry);
    await checkPlace(b);
    requirePusher();
    await insertCrew(ctx.db(), { entry, site: b.site, checkpoints: b.checkpoints ?? null, createdBy: sessionOf(res).officerId, at: ctx.now() });
    const outcome = await afterChange(req, res, 'crew-registered', b.site, { id: entry.id, members: b.members.length, checkpoints: b.checkpoints ?? 'all' });
    res.status(201).json({ id: entry.id, ...outcome });
  });

  for (const kind of ['approvals', 'crews'] as const) {
    r.post(`/api/visitors/${kind}/:id/revoke`, ctx.requireRole('admin'), async (req, res) => {
      const id = String(req.params['id']);
      if (!ENTRY_ID[kind].test(id)) throw new HttpError(404, 'NOT_FOUND', `no ${kind === 'approvals' ? 'visitor approval' : 'crew registration'} ${id.slice(0, 40)}`);
      requirePusher();
      const result = await revokeEntry(ctx.db(), kind, id, sessionOf(res).officerId, ctx.now());
      if (!result.ok && result.why === 'unknown') throw new HttpError(404, 'NOT_FOUND', `no ${kind === 'approvals' ? 'visitor approval' : 'crew registration'} ${id}`);
      if (!result.ok) throw new HttpError(409, 'ALREADY_REVOKED', `${id} was revoked by ${result.by} at ${result.at}`);
      const outcome = await afterChange(req, res, kind === 'approvals' ? 'visitor-approval-revoked' : 'crew-revoked', result.site, { id });
      res.json({ id, ...outcome });
    });
  }
}
