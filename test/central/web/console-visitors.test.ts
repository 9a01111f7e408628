// The visitors and contractors routes over real HTTP on a real database (PostgreSQL, and
// the main path on PGlite too), pushing through the real UpdatePusher to the shared
// Mosquitto: every field checked with a 400 that names it and nothing stored or pushed;
// only an admin creates or revokes; audit rows; each checkpoint gets its own full set
// (checkpoint-limited entries only where named, site-wide ones everywhere, never `all`),
// signed so the gateway's own verifyUpdate takes it; confirmations from the gateways'
// answers; a revocation empties the set; a checkpoint first seen later gets its set.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { JWK } from 'jose';
import { connect, type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { classify } from '../../../central/classify.js';
import type { Db } from '../../../central/db/adapter.js';
import { Partitions } from '../../../central/db/partitions.js';
import { UpdatePusher } from '../../../central/push.js';
import { loadValidators } from '../../../central/schemas.js';
import { SiteKeys } from '../../../central/sites.js';
import { recentAudit } from '../../../central/web/audit.js';
import { ChangeFeed } from '../../../central/web/changes.js';
import { monthsOf, writeBatch } from '../../../central/writer.js';
import { loadTrustDir } from '../../../gateway/config/trust.js';
import { secretFromHex } from '../../../gateway/telemetry/pseudonym.js';
import { verifyUpdate, type UpdateEnvelope } from '../../../gateway/updates/envelope.js';
import { Cleanup, SHARED_BROKER, clearRetained, subscribe, waitFor, type Subscriber } from '../../gateway/telemetry/helpers.js';
import { ENGINES, type Engine } from '../helpers.js';
import { seedConsole, SEED_SITE } from './seed.js';
import { PASSWORD, T0, errorCode, signIn, startConsole, type Console, type SignedIn } from './helpers.js';

const KEY = JSON.parse(readFileSync(path.resolve('config/demo/central-1.private.jwk.json'), 'utf8')) as JWK;
const SITE = SEED_SITE; // gate-1 online, gate-2 offline (seed.ts)
const HOUR = 3_600_000;
const iso = (ms: number): string => new Date(ms).toISOString();

interface Setup {
  c: Console;
  prefix: string;
  sub: Subscriber;
  changes: ChangeFeed;
  admin: SignedIn;
  leader: SignedIn;
  viewer: SignedIn;
  /** The office's broker connection: cut it (publishes fail) and make it again. */
  link: { cut(): Promise<void>; restore(): Promise<void> };
}

async function brokerClient(cleanup: Cleanup): Promise<MqttClient> {
  const client = connect(SHARED_BROKER, { clientId: `office-visitors-${randomUUID().slice(0, 8)}` });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  cleanup.add(() => client.endAsync());
  return client;
}

async function setup(cleanup: Cleanup, engine: Engine, o: { signingKey?: boolean } = {}): Promise<Setup> {
  const prefix = `test-visitors-${randomUUID().slice(0, 8)}`;
  const sub = await subscribe(cleanup, SHARED_BROKER, [`${prefix}/#`]);
  let client = await brokerClient(cleanup);
  const changes = new ChangeFeed({ minGapMs: 0 });
  cleanup.add(() => changes.close());
  const sites = new SiteKeys();
  sites.add(SITE, secretFromHex(readFileSync(path.resolve('config/demo/pseudonym.secret'), 'utf8'))!, '晋北矿区');
  const c = await startConsole(cleanup, engine, {}, changes, {
    sites,
    pusher: (db, now) =>
      new UpdatePusher({
        db: () => db,
        signingKey: o.signingKey === false ? null : KEY,
        prefix,
        publish: async (topic, payload, opts) => {
          await client.publishAsync(topic, payload, { qos: opts.qos, retain: opts.retain ?? false });
          cleanup.add(() => clearRetained(SHARED_BROKER, topic));
        },
        now,
      }),
  });
  await seedConsole(c.db.db, T0 - 20 * 60_000);
  await c.officers.add({ id: 'admin.chen', name: '陈管理', role: 'admin', secret: PASSWORD }, 'cli:test');
  await c.officers.add({ id: 'wang.li', name: '王丽', role: 'duty-leader', secret: PASSWORD }, 'cli:test');
  await c.officers.add({ id: 'zhao.min', name: '赵敏', role: 'viewer', secret: PASSWORD }, 'cli:test');
  const link = {
    cut: () => client.endAsync(),
    restore: async () => {
      client = await brokerClient(cleanup);
    },
  };
  return { c, prefix, sub, changes, link, admin: await signIn(c, 'admin.chen'), leader: await signIn(c, 'wang.li'), viewer: await signIn(c, 'zhao.min') };
}

function post(s: Setup, who: SignedIn, route: string, body: unknown): Promise<Response> {
  return fetch(`${s.c.url}${route}`, {
    method: 'POST',
    headers: { ...who.get, ...s.c.sameOrigin, 'content-type': 'application/json', 'x-csrf-token': who.csrfToken },
    body: JSON.stringify(body),
  });
}

const approval = (o: Record<string, unknown> = {}): Record<string, unknown> => ({
  site: SITE,
  subjectId: 'V-110101199001011234',
  name: '刘访客',
  approver: '李主任',
  hostDepartment: '安全科',
  validFrom: iso(T0 - HOUR),
  validUntil: iso(T0 + 8 * HOUR),
  maxUses: 2,
  checkpoints: ['gate-1'],
  ...o,
});

const crew = (o: Record<string, unknown> = {}): Record<string, unknown> => ({
  site: SITE,
  responsible: '赵工',
  members: ['C-2001', 'C-2002'],
  validFrom: iso(T0 - HOUR),
  validUntil: iso(T0 + 72 * HOUR),
  itinerary: [{ region: '山西省太原市', from: '2026-11-28', to: '2026-12-02' }],
  ...o,
});

async function list(s: Setup, who: SignedIn = s.viewer): Promise<{ approvals: Row[]; crews: Row[]; checkpoints: { checkpoint: string }[]; canPush: boolean }> {
  const res = await fetch(`${s.c.url}/api/visitors`, { headers: who.get });
  expect(res.status).toBe(200);
  return (await res.json()) as { approvals: Row[]; crews: Row[]; checkpoints: { checkpoint: string }[]; canPush: boolean };
}
interface Row {
  id: string;
  status: string;
  subject?: string;
  name?: string | null;
  pseudonym?: string | null;
  members?: number;
  checkpoints: string[] | null;
  gateways: { checkpoint: string; state: string; errorCode: string | null; version: number | null }[];
}

/** The signed updates published to one checkpoint's cmd topic, decoded (newest last). */
function pushed(s: Setup, checkpoint: string, kind: string): UpdateEnvelope[] {
  return s.sub.payloads(`${s.prefix}/${SITE}/${checkpoint}/cmd/${kind}`).filter((p) => p !== '').map((t) => JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString('utf8')) as UpdateEnvelope);
}

/** A gateway's answer, stored through the real writer as the ingest would. */
async function answer(db: Db, checkpoint: string, e: { kind: string; version: number; transaction: string }, status: 'applied' | 'rejected', code?: string): Promise<void> {
  const body = { v: 1, status, transaction: e.transaction, kind: e.kind, version: e.version, ...(code ? { error: { code, message: 'refused' } } : {}), at: iso(T0), site: SITE, checkpoint };
  const item = classify(`checkpoints/${SITE}/${checkpoint}/response/${e.kind}`, Buffer.from(JSON.stringify(body)), 'checkpoints', loadValidators());
  if (item.type === 'rejected') throw new Error(item.reason);
  await new Partitions(db).ensure(monthsOf([item], T0));
  await db.transaction((tx) => writeBatch(tx, [item], T0));
}

const counts = async (db: Db): Promise<Record<string, number>> => {
  const [r] = await db.query<{ a: number; c: number; p: number; u: number }>(
    `SELECT (SELECT count(*) FROM office_approvals)::int AS a, (SELECT count(*) FROM office_crews)::int AS c,
            (SELECT count(*) FROM visitor_pushes)::int AS p, (SELECT count(*) FROM published_updates WHERE kind IN ('approvals', 'crews'))::int AS u`,
  );
  return { approvals: r!.a, crews: r!.c, pushes: r!.p, published: r!.u };
};

describe('visitors and contractors routes', () => {
  let cleanup: Cleanup;
  beforeEach(() => {
    cleanup = new Cleanup();
  });
  afterEach(() => cleanup.run());

  it('refuses bad input with a 400 naming the field, and stores and pushes nothing', async () => {
    const s = await setup(cleanup, 'postgres');
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['/api/visitors/approvals', approval({ approver: undefined }), /body field 'approver'/],
      ['/api/visitors/approvals', approval({ approver: '  ' }), /body field 'approver': expected a non-empty text/],
      ['/api/visitors/approvals', approval({ validUntil: iso(T0 - 2 * HOUR) }), /body field 'validUntil': expected validUntil to be after validFrom .*a gateway would refuse it/],
      ['/api/visitors/approvals', approval({ validFrom: '2026-12-04 08:00' }), /body field 'validFrom': expected an ISO 8601 timestamp with a zone/],
      ['/api/visitors/approvals', approval({ validFrom: iso(T0 - 9 * HOUR), validUntil: iso(T0 - HOUR) }), /body field 'validUntil': expected a time after now/],
      ['/api/visitors/approvals', approval({ maxUses: 0 }), /body field 'maxUses': expected at least 1 use/],
      ['/api/visitors/approvals', approval({ maxUses: 1.5 }), /body field 'maxUses': expected a whole number/],
      ['/api/visitors/approvals', approval({ checkpoints: [] }), /body field 'checkpoints': expected at least one checkpoint id/],
      ['/api/visitors/approvals', approval({ checkpoints: ['gate-1', 'gate-1'] }), /body field 'checkpoints': expected each checkpoint once/],
      ['/api/visitors/approvals', approval({ checkpoints: ['all'] }), /body field 'checkpoints.0': unknown checkpoint "all" of site mine-a: expected one of gate-1, gate-2/],
      ['/api/visitors/approvals', approval({ site: 'mine-z' }), /body field 'site': unknown site "mine-z": expected one of mine-a/],
      ['/api/visitors/approvals', approval({ uses: 3 }), /Unrecognized key.*uses/],
      ['/api/visitors/crews', crew({ members: [] }), /body field 'members': expected at least one member/],
      ['/api/visitors/crews', crew({ members: ['C-1', 'C-1'] }), /body field 'members': expected each member once/],
      ['/api/visitors/crews', crew({ responsible: '' }), /body field 'responsible'/],
      ['/api/visitors/crews', crew({ itinerary: [{ region: '太原', from: '2026-12-02', to: '2026-11-28' }] }), /body field 'itinerary.0.to': expected to on or after from .*a gateway would refuse it/],
      ['/api/visitors/crews', crew({ itinerary: [{ region: '太原', from: '2026-02-30', to: '2026-03-01' }] }), /body field 'itinerary.0.from': expected an ISO date/],
      ['/api/visitors/crews', crew({ validUntil: iso(T0 - 2 * HOUR) }), /body field 'validUntil'/],
    ];
    for (const [route, body, message] of cases) {
      const res = await post(s, s.admin, route, body);
      const text = await res.text();
      expect(res.status, text).toBe(400);
      expect((JSON.parse(text) as { error: { code: string; message: string } }).error.message, JSON.stringify(body)).toMatch(message);
    }
    expect(await counts(s.c.db.db)).toEqual({ approvals: 0, crews: 0, pushes: 0, published: 0 });
    expect(s.sub.messages.filter((m) => m.topic.includes('/cmd/'))).toEqual([]);
    expect((await recentAudit(s.c.db.db)).filter((e) => /^(visitor|crew)-/.test(e.action))).toEqual([]);
  });

  it('lets only an admin create or revoke (403 for a duty leader and a viewer), and every role read', async () => {
    const s = await setup(cleanup, 'postgres');
    for (const who of [s.viewer, s.leader]) {
      const a = await post(s, who, '/api/visitors/approvals', approval());
      expect(a.status).toBe(403);
      expect(await errorCode(a)).toBe('ROLE_REQUIRED');
      expect((await post(s, who, '/api/visitors/crews', crew())).status).toBe(403);
      expect((await post(s, who, `/api/visitors/approvals/ap-${randomUUID()}/revoke`, {})).status).toBe(403);
      expect((await post(s, who, `/api/visitors/crews/cr-${randomUUID()}/revoke`, {})).status).toBe(403);
    }
    // Without the CSRF token even an admin is refused.
    const noToken = await fetch(`${s.c.url}/api/visitors/approvals`, { method: 'POST', headers: { ...s.admin.get, ...s.c.sameOrigin, 'content-type': 'application/json' }, body: JSON.stringify(approval()) });
    expect(await errorCode(noToken)).toBe('CSRF_TOKEN');
    expect(await counts(s.c.db.db)).toEqual({ approvals: 0, crews: 0, pushes: 0, published: 0 });
    expect((await list(s, s.viewer)).approvals).toEqual([]);
  });

  it('refuses to register anything when the office cannot sign (503), storing nothing', async () => {
    const s = await setup(cleanup, 'postgres', { signingKey: false });
    const res = await post(s, s.admin, '/api/visitors/approvals', approval());
    expect(res.status).toBe(503);
    expect(await errorCode(res)).toBe('PUSH_UNAVAILABLE');
    expect(await counts(s.c.db.db)).toEqual({ approvals: 0, crews: 0, pushes: 0, published: 0 });
    expect((await list(s)).canPush).toBe(false);
  });

  describe.each(ENGINES)('on %s', (engine) => {
    it('pushes each checkpoint its own full set, shows the gateways\' answers, and empties a set on revocation', async () => {
      const s = await setup(cleanup, engine);
      const a = await post(s, s.admin, '/api/visitors/approvals', approval());
      expect(a.status).toBe(201);
      const created = (await a.json()) as { id: string; pushed: { checkpoint: string; kind: string }[]; failed: unknown[] };
      expect(created.id).toMatch(/^ap-/);
      expect(created.pushed.map((p) => `${p.checkpoint}:${p.kind}`)).toEqual(['gate-1:approvals']);
      const c = await post(s, s.admin, '/api/visitors/crews', crew());
      expect(c.status).toBe(201);
      const crewId = ((await c.json()) as { id: string }).id;

      // The approval for gate-1 only went to gate-1; the site-wide crew to both; never to `all`.
      await waitFor('the three pushes on the broker', () => s.sub.messages.filter((m) => m.topic.includes('/cmd/')).length >= 3);
      expect(s.sub.messages.filter((m) => m.topic.includes('/cmd/')).map((m) => `${m.topic.replace(`${s.prefix}/${SITE}/`, '')}${m.retain ? ' retained' : ''}`).sort()).toEqual([
        'gate-1/cmd/approvals',
        'gate-1/cmd/crews',
        'gate-2/cmd/crews',
      ]);
      const [toGate1] = pushed(s, 'gate-1', 'approvals');
      expect(toGate1).toMatchObject({ kind: 'approvals', site: SITE, checkpoint: 'gate-1' });
      expect(toGate1!.data).toEqual({
        entries: [{ id: created.id, subjectId: 'V-110101199001011234', approver: '李主任', hostDepartment: '安全科', validFrom: iso(T0 - HOUR), validUntil: iso(T0 + 8 * HOUR), checkpoints: ['gate-1'], maxUses: 2 }],
      });
      // The name stays at the office.
      expect(JSON.stringify(['gate-1', 'gate-2'].flatMap((cp) => [...pushed(s, cp, 'approvals'), ...pushed(s, cp, 'crews')]))).not.toContain('刘访客');
      // The gateway's own check takes the signed set.
      const token = s.sub.payloads(`${s.prefix}/${SITE}/gate-2/cmd/crews`)[0]!;
      const verified = await verifyUpdate(token, { topicKind: 'crews', site: SITE, checkpoint: 'gate-2', keys: await loadTrustDir(path.resolve('config/central')), appliedVersion: () => 0 });
      expect(verified.prepared).toMatchObject({ kind: 'crews', entries: [{ id: crewId, responsible: '赵工', members: ['C-2001', 'C-2002'] }] });

      let shown = await list(s);
      expect(shown.approvals).toEqual([
        expect.objectContaining({ id: created.id, status: 'active', subject: `V-${'*'.repeat(16)}34`, name: '刘**', checkpoints: ['gate-1'], gateways: [expect.objectContaining({ checkpoint: 'gate-1', state: 'waiting' })] }),
      ]);
      expect(shown.approvals[0]!.pseudonym).toMatch(/^p1_/);
      expect(shown.crews[0]!.gateways.map((g) => `${g.checkpoint}:${g.state}`)).toEqual(['gate-1:waiting', 'gate-2:waiting']);
      // The list never carries the visitor's full id or name.
      const raw = await (await fetch(`${s.c.url}/api/visitors`, { headers: s.viewer.get })).text();
      expect(raw).not.toContain('V-110101199001011234');
      expect(raw).not.toContain('刘访客');

      // Answers: gate-1 applied both, gate-2 refused the crews set.
      await answer(s.c.db.db, 'gate-1', toGate1!, 'applied');
      await answer(s.c.db.db, 'gate-1', pushed(s, 'gate-1', 'crews')[0]!, 'applied');
      await answer(s.c.db.db, 'gate-2', pushed(s, 'gate-2', 'crews')[0]!, 'rejected', 'UPDATE_KEY_UNKNOWN');
      shown = await list(s);
      expect(shown.approvals[0]!.gateways.map((g) => `${g.checkpoint}:${g.state}`)).toEqual(['gate-1:confirmed']);
      expect(shown.crews[0]!.gateways.map((g) => `${g.checkpoint}:${g.state}:${g.errorCode}`)).toEqual(['gate-1:confirmed:null', 'gate-2:rejected:UPDATE_KEY_UNKNOWN']);

      // A second approval, site-wide: gate-1 gets both (the full set), gate-2 only the new one.
      const b = await post(s, s.admin, '/api/visitors/approvals', approval({ subjectId: 'V-2', name: undefined, maxUses: undefined, checkpoints: undefined }));
      const second = ((await b.json()) as { id: string }).id;
      await waitFor('the second approvals pushes', () => pushed(s, 'gate-1', 'approvals').length === 2 && pushed(s, 'gate-2', 'approvals').length === 1);
      expect((pushed(s, 'gate-1', 'approvals')[1]!.data as { entries: { id: string }[] }).entries.map((e) => e.id).sort()).toEqual([created.id, second].sort());
      expect((pushed(s, 'gate-2', 'approvals')[0]!.data as { entries: { id: string; checkpoints?: string[] }[] }).entries).toEqual([expect.not.objectContaining({ checkpoints: expect.anything() })]);
      // The first approval now rides on gate-1's newer push, not answered yet.
      expect((await list(s)).approvals.find((r) => r.id === created.id)!.gateways.map((g) => `${g.checkpoint}:${g.state}`)).toEqual(['gate-1:waiting']);

      // Revoke the first: gate-1 gets a set without it; a second revoke is a conflict.
      const r = await post(s, s.admin, `/api/visitors/approvals/${created.id}/revoke`, {});
      expect(r.status).toBe(200);
      await waitFor('the set without it', () => pushed(s, 'gate-1', 'approvals').length === 3);
      const third = pushed(s, 'gate-1', 'approvals')[2]!;
      expect((third.data as { entries: { id: string }[] }).entries.map((e) => e.id)).toEqual([second]);
      expect(pushed(s, 'gate-2', 'approvals')).toHaveLength(1); // its set did not change
      let revoked = (await list(s)).approvals.find((x) => x.id === created.id)!;
      expect(revoked).toMatchObject({ status: 'revoked', gateways: [{ checkpoint: 'gate-1', state: 'waiting' }] });
      await answer(s.c.db.db, 'gate-1', third, 'applied');
      revoked = (await list(s)).approvals.find((x) => x.id === created.id)!;
      expect(revoked.gateways.map((g) => `${g.checkpoint}:${g.state}`)).toEqual(['gate-1:removed']);
      const again = await post(s, s.admin, `/api/visitors/approvals/${created.id}/revoke`, {});
      expect(again.status).toBe(409);
      expect(await errorCode(again)).toBe('ALREADY_REVOKED');
      expect((await post(s, s.admin, `/api/visitors/crews/cr-${randomUUID()}/revoke`, {})).status).toBe(404);

      // Revoking the crew empties both crews sets.
      expect((await post(s, s.admin, `/api/visitors/crews/${crewId}/revoke`, {})).status).toBe(200);
      await waitFor('empty crews sets', () => pushed(s, 'gate-1', 'crews').length === 2 && pushed(s, 'gate-2', 'crews').length === 2);
      expect(pushed(s, 'gate-2', 'crews')[1]!.data).toEqual({ entries: [] });

      const audit = (await recentAudit(s.c.db.db)).filter((e) => /^(visitor|crew)-/.test(e.action)).reverse();
      expect(audit.map((e) => `${e.officerId} ${e.action} ${String(e.detail['id'])}`)).toEqual([
        `admin.chen visitor-approval-created ${created.id}`,
        `admin.chen crew-registered ${crewId}`,
        `admin.chen visitor-approval-created ${second}`,
        `admin.chen visitor-approval-revoked ${created.id}`,
        `admin.chen crew-revoked ${crewId}`,
      ]);
      expect(audit[0]!.detail).toEqual({ site: SITE, id: created.id, checkpoints: ['gate-1'] });
      expect(audit[1]!.detail).toEqual({ site: SITE, id: crewId, members: 2, checkpoints: 'all' });
      expect(JSON.stringify(audit)).not.toContain('V-110101199001011234');
    }, 60_000);
  });

  it('tells the pages of a gateway\'s answer to an update as an "updates" notice', async () => {
    const feed = new ChangeFeed({ minGapMs: 0 });
    cleanup.add(() => feed.close());
    const got = new Promise<string[]>((resolve) => feed.subscribe(resolve));
    feed.committed([{ type: 'response' } as never]);
    expect(await got).toEqual(['updates']);
  });

  it('keeps an entry whose push the broker did not take, shows it not sent, and pushes it at the next status notice', async () => {
    const s = await setup(cleanup, 'postgres');
    await s.link.cut();
    const res = await post(s, s.admin, '/api/visitors/approvals', approval());
    expect(res.status).toBe(201);
    const body = (await res.json()) as { id: string; pushed: unknown[]; failed: { checkpoint: string; kind: string; message: string }[] };
    expect(body.pushed).toEqual([]);
    expect(body.failed).toEqual([expect.objectContaining({ checkpoint: 'gate-1', kind: 'approvals' })]);
    const shown = (await (await fetch(`${s.c.url}/api/visitors`, { headers: s.viewer.get })).json()) as { syncFailure: { message: string } | null; approvals: Row[] };
    expect(shown.syncFailure?.message).toContain('approvals for mine-a/gate-1 not published');
    expect(shown.approvals[0]!.gateways.map((g) => `${g.checkpoint}:${g.state}`)).toEqual(['gate-1:unsent']);

    await s.link.restore();
    const stats = classify(`checkpoints/${SITE}/gate-1/stats`, Buffer.from(JSON.stringify({ v: 1, at: iso(T0), site: SITE, checkpoint: 'gate-1', since: iso(T0 - HOUR), lanes: {}, outboxDepth: 0, unackedAlerts: 0 })), 'checkpoints', loadValidators());
    s.changes.committed([stats]);
    await waitFor('the set pushed by the next sync', () => pushed(s, 'gate-1', 'approvals').length === 1);
    expect((pushed(s, 'gate-1', 'approvals')[0]!.data as { entries: { id: string }[] }).entries.map((e) => e.id)).toEqual([body.id]);
    await waitFor('the failure cleared', async () => ((await (await fetch(`${s.c.url}/api/visitors`, { headers: s.viewer.get })).json()) as { syncFailure: unknown }).syncFailure === null);
    expect((await list(s)).approvals[0]!.gateways.map((g) => `${g.checkpoint}:${g.state}`)).toEqual(['gate-1:waiting']);
  });

  it('pushes the site-wide set to a checkpoint first seen after the push, on its birth', async () => {
    const s = await setup(cleanup, 'postgres');
    expect((await post(s, s.admin, '/api/visitors/crews', crew())).status).toBe(201);
    expect((await post(s, s.admin, '/api/visitors/approvals', approval())).status).toBe(201);
    // Drain the notices of the setup, then a new gateway's birth arrives through the ingest path.
    const birth = { v: 1, state: 'online', session: 1, at: iso(T0), version: '0.3.1', configHash: `sha256:${'d'.repeat(32)}`, lanes: [], updates: {} };
    const item = classify(`checkpoints/${SITE}/gate-3/status`, Buffer.from(JSON.stringify(birth)), 'checkpoints', loadValidators());
    await s.c.db.db.transaction((tx) => writeBatch(tx, [item], T0));
    s.changes.committed([item]);
    await waitFor('the crews set at gate-3', () => pushed(s, 'gate-3', 'crews').length === 1);
    expect((pushed(s, 'gate-3', 'crews')[0]!.data as { entries: unknown[] }).entries).toHaveLength(1);
    // The approval names gate-1 only: nothing for gate-3. And nothing twice on the next
    // notice: its sync is queued before the one of the next change, which is awaited.
    const noticed = new Promise<void>((resolve) => {
      const off = s.changes.subscribe(() => {
        off();
        resolve();
      });
    });
    s.changes.committed([item]);
    await noticed;
    expect((await post(s, s.admin, '/api/visitors/approvals', approval({ subjectId: 'V-3' }))).status).toBe(201);
    expect(pushed(s, 'gate-3', 'approvals')).toEqual([]);
    expect(pushed(s, 'gate-3', 'crews')).toHaveLength(1);
    expect((await list(s)).crews[0]!.gateways.map((g) => `${g.checkpoint}:${g.state}`)).toEqual(['gate-1:waiting', 'gate-2:waiting', 'gate-3:waiting']);
  });
});
