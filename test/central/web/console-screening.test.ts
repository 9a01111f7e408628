// The daily screening page's routes over real HTTP on a real database: the roster import
// (admin only, the whole file refused with every problem listed, stored with pseudonyms,
// pushed signed through the real broker, people left out of the file withdrawn), the
// mine-wide screening of a day from events written through the real writer, and the CSV
// export for Excel. The pushes go to the shared Mosquitto under a prefix of this test's own.
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
import { pseudonym } from '../../../gateway/telemetry/pseudonym.js';
import { loadTrustDir } from '../../../gateway/config/trust.js';
import { verifyUpdate } from '../../../gateway/updates/envelope.js';
import { ROOT } from '../../integration/helpers.js';
import { Cleanup, SHARED_BROKER, clearRetained, uniquePrefix } from '../../gateway/telemetry/helpers.js';
import { ENGINES, eventPayload } from '../helpers.js';
import { PASSWORD, T0, errorCode, signIn, startConsole, type Console, type SignedIn } from './helpers.js';

const SITE = 'mine-a';
const SECRET = Buffer.alloc(32, 7);
const ref = (staffId: string): string => pseudonym(SECRET, staffId);
const SIGNING_KEY = JSON.parse(readFileSync(path.join(ROOT, 'config/demo/central-1.private.jwk.json'), 'utf8')) as JWK;
const SAMPLED = new Date(T0 - 3600_000).toISOString();
const HEADER = 'staff_id,name,category,health_code,test_result,test_sampled_at,travel_risk,travel_as_of,active,department,team';
const person = (id: string, name: string, category: string, department = '', team = '', active = ''): string =>
  `${id},${name},${category},green,negative,${SAMPLED},,,${active},${department},${team}`;
const ROSTER = [
  HEADER,
  person('E-A', '张伟', 'employee', '采煤一队', '甲班'),
  person('E-B', '王芳', 'employee', '采煤一队', '乙班'),
  person('C-C', '李娜', 'contractor', '机电部', ''),
  person('E-D', '赵强', 'employee', '', ''),
  person('V-E', '孙丽', 'visitor', '', ''),
  person('E-F', '周杰', 'employee', '采煤一队', '甲班', 'false'),
].join('\r\n');

interface Published {
  topic: string;
  payload: string;
}

async function brokerClient(cleanup: Cleanup, prefix: string): Promise<{ client: MqttClient; seen: Published[] }> {
  const client = connect(SHARED_BROKER, { clientId: `screening-http-${prefix.slice(-8)}`, reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  const seen: Published[] = [];
  client.on('message', (topic, payload) => seen.push({ topic, payload: payload.toString() }));
  await client.subscribeAsync(`${prefix}/#`, { qos: 1 });
  cleanup.add(async () => {
    await client.endAsync();
    await clearRetained(SHARED_BROKER, `${prefix}/${SITE}/all/cmd/roster`);
  });
  return { client, seen };
}

async function startScreeningConsole(cleanup: Cleanup, engine: (typeof ENGINES)[number], prefix: string, client: MqttClient): Promise<Console> {
  let db: Db | undefined;
  const sites = new SiteKeys();
  sites.add(SITE, SECRET, '示范矿');
  const pusher = new UpdatePusher({
    db: () => db!,
    signingKey: SIGNING_KEY,
    prefix,
    publish: async (topic, payload, o) => {
      await client.publishAsync(topic, payload, o);
    },
    now: () => c.clock.now,
  });
  const c = await startConsole(cleanup, engine, {}, undefined, { pusher, sites });
  db = c.db.db;
  await c.officers.add({ id: 'an.admin', name: '防疫办', role: 'admin', secret: PASSWORD }, 'cli:test');
  await c.officers.add({ id: 'wang.li', name: '王丽', role: 'duty-leader', secret: PASSWORD }, 'cli:test');
  await c.officers.add({ id: 'zhao.min', name: '赵敏', role: 'viewer', secret: PASSWORD }, 'cli:test');
  return c;
}

function importCsv(c: Console, s: SignedIn, text: string | Buffer, query = `?site=${SITE}`): Promise<Response> {
  return fetch(`${c.url}/api/roster${query}`, {
    method: 'POST',
    headers: { ...s.get, ...c.sameOrigin, 'x-csrf-token': s.csrfToken, 'content-type': 'text/csv' },
    body: text,
  });
}

/** Writes gateway messages through the real ingest path (classify + writeBatch). */
async function commit(db: Db, checkpoint: string, events: object[]): Promise<void> {
  const validators = loadValidators();
  const items = events.map((e) => classify(`checkpoints/${SITE}/${checkpoint}/events`, Buffer.from(JSON.stringify(e)), 'checkpoints', validators));
  for (const it of items) if (it.type === 'rejected') throw new Error(`event rejected: ${it.reason}`);
  await new Partitions(db).ensure(monthsOf(items, T0));
  await db.transaction((tx) => writeBatch(tx, items, T0));
}

let seq = 0;
const passage = (checkpoint: string, staffId: string, at: string, o: Record<string, unknown> = {}): object =>
  eventPayload({ site: SITE, checkpoint }, ++seq, { at, subject: ref(staffId), credential: 'staff-badge', outcome: 'admit', reasons: [], alerts: [], temperature: 36.5, ...o });

interface ScreeningBody {
  sites: { id: string; name: string | null }[];
  canImport: boolean;
  screening: {
    site: string;
    date: string;
    workers: number;
    screened: number;
    notScreened: number;
    outcomes: Record<string, number>;
    groups: { department: string | null; team: string | null; workers: number; screened: { staffId: string; name: string; checkpoint: string; lane: string; at: string; outcome: string }[]; notScreened: { staffId: string; name: string }[] }[];
  };
  roster: { active: number; inactive: number; lastPush: { version: number; gateways: unknown[] } | null };
}

describe('daily screening and roster import over HTTP', () => {
  let cleanup: Cleanup;
  let prefix: string;
  let c: Console;
  let broker: { client: MqttClient; seen: Published[] };
  beforeEach(async () => {
    cleanup = new Cleanup();
    prefix = uniquePrefix();
    broker = await brokerClient(cleanup, prefix);
    c = await startScreeningConsole(cleanup, 'postgres', prefix, broker.client);
  });
  afterEach(() => cleanup.run());

  it('imports the roster as an admin: stored with pseudonyms and departments, pushed signed to every gateway of the site, audited with counts', async () => {
    const admin = await signIn(c, 'an.admin');
    const res = await importCsv(c, admin, `\uFEFF${ROSTER}\r\n`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { rows: number; active: number; inactive: number; withdrawn: number; pushedEntries: number; push: { topic: string; version: number; transaction: string } };
    expect(body).toMatchObject({ rows: 6, active: 5, inactive: 1, withdrawn: 0, pushedEntries: 6, push: { topic: `${prefix}/${SITE}/all/cmd/roster` } });
    expect(await c.db.db.query('SELECT staff_id, name, department, team, active, pseudonym FROM office_roster WHERE site = $1 ORDER BY staff_id', [SITE])).toEqual([
      { staff_id: 'C-C', name: '李娜', department: '机电部', team: null, active: true, pseudonym: ref('C-C') },
      { staff_id: 'E-A', name: '张伟', department: '采煤一队', team: '甲班', active: true, pseudonym: ref('E-A') },
      { staff_id: 'E-B', name: '王芳', department: '采煤一队', team: '乙班', active: true, pseudonym: ref('E-B') },
      { staff_id: 'E-D', name: '赵强', department: null, team: null, active: true, pseudonym: ref('E-D') },
      { staff_id: 'E-F', name: '周杰', department: '采煤一队', team: '甲班', active: false, pseudonym: ref('E-F') },
      { staff_id: 'V-E', name: '孙丽', department: null, team: null, active: true, pseudonym: ref('V-E') },
    ]);
    // What went over the broker is a roster update a gateway of the site accepts, without the office's columns.
    await expect.poll(() => broker.seen.length).toBe(1);
    const verified = await verifyUpdate(broker.seen[0]!.payload, { topicKind: 'roster', site: SITE, checkpoint: 'gate-1', keys: await loadTrustDir(path.join(ROOT, 'config/central')), appliedVersion: () => 0 });
    expect(verified.envelope).toMatchObject({ checkpoint: 'all', version: body.push.version, transaction: body.push.transaction });
    expect(verified.prepared.kind === 'roster' && verified.prepared.entries.map((e) => [e.staffId, e.name, e.active])).toEqual([
      ['E-A', '张伟', true], ['E-B', '王芳', true], ['C-C', '李娜', true], ['E-D', '赵强', true], ['V-E', '孙丽', true], ['E-F', '周杰', false],
    ]);
    expect(broker.seen[0]!.payload).not.toContain('采煤');
    const [audit] = await recentAudit(c.db.db, 1);
    expect(audit).toMatchObject({ officerId: 'an.admin', action: 'roster-imported', detail: { site: SITE, rows: 6, active: 5, inactive: 1, withdrawn: 0, pushedEntries: 6, version: body.push.version } });
  });

  it('takes the file as the whole roster: people the office holds and the file leaves out become inactive and are pushed as inactive', async () => {
    const admin = await signIn(c, 'an.admin');
    expect((await importCsv(c, admin, ROSTER)).status).toBe(200);
    c.clock.now += 60_000;
    const smaller = [HEADER, person('E-A', '张伟', 'employee', '采煤二队', '丙班'), person('E-B', '王芳', 'employee')].join('\n');
    const res = await importCsv(c, admin, smaller);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ rows: 2, active: 2, inactive: 0, withdrawn: 3, pushedEntries: 6 });
    expect(await c.db.db.query('SELECT staff_id, department, active FROM office_roster WHERE site = $1 ORDER BY staff_id', [SITE])).toEqual([
      { staff_id: 'C-C', department: '机电部', active: false },
      { staff_id: 'E-A', department: '采煤二队', active: true },
      { staff_id: 'E-B', department: null, active: true },
      { staff_id: 'E-D', department: null, active: false },
      { staff_id: 'E-F', department: '采煤一队', active: false },
      { staff_id: 'V-E', department: null, active: false },
    ]);
    await expect.poll(() => broker.seen.length).toBe(2);
    const second = await verifyUpdate(broker.seen[1]!.payload, { topicKind: 'roster', site: SITE, checkpoint: 'gate-1', keys: await loadTrustDir(path.join(ROOT, 'config/central')), appliedVersion: () => 0 });
    expect(second.prepared.kind === 'roster' && second.prepared.entries.map((e) => `${e.staffId}:${e.active}`).sort()).toEqual(['C-C:false', 'E-A:true', 'E-B:true', 'E-D:false', 'E-F:false', 'V-E:false']);
  });

  it('refuses a file with problems as a whole (400), listing every one with line, column and what was expected, and stores and pushes nothing', async () => {
    const admin = await signIn(c, 'an.admin');
    const bad = [HEADER, person('E-A', '张伟', 'employee'), 'e-b,王芳,boss,green,,,,,,,', person('E-A', '张伟', 'employee'), `E-G,${'名'.repeat(101)},employee,purple,,,,,,,`].join('\n');
    const res = await importCsv(c, admin, bad);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string; problems: { line: number; column: string; message: string }[] } };
    expect(body.error.code).toBe('ROSTER_INVALID');
    expect(body.error.message).toContain('nothing was imported');
    expect(body.error.problems.map((p) => `${p.line}:${p.column}`)).toEqual(['3:staff_id', '3:category', '4:staff_id', '5:name', '5:health_code']);
    expect(body.error.problems[1]!.message).toMatch(/expected one of employee, family, contractor, visitor, vendor, driver; got "boss"/);
    expect(body.error.problems[2]!.message).toMatch(/already on line 2/);
    // A sheet saved as GBK: its names are refused, with their place, instead of stored garbled.
    const gbk = Buffer.concat([Buffer.from(`${HEADER}\nE-A,`), Buffer.from([0xd5, 0xc5, 0xce, 0xb0]), Buffer.from(`,employee,green,,,,,,,\n`)]);
    const garbled = (await (await importCsv(c, admin, gbk)).json()) as typeof body;
    expect(garbled.error.problems).toEqual([{ line: 2, column: 'name', message: expect.stringMatching(/expected UTF-8 text/) }]);
    expect(await errorCode(await importCsv(c, admin, ''))).toBe('ROSTER_INVALID');
    expect(await errorCode(await importCsv(c, admin, HEADER))).toBe('ROSTER_INVALID');

    expect(await c.db.db.query('SELECT count(*)::int AS n FROM office_roster')).toEqual([{ n: 0 }]);
    expect(await c.db.db.query('SELECT count(*)::int AS n FROM published_updates')).toEqual([{ n: 0 }]);
    // Give a stray publication time to arrive: none does.
    await new Promise((r) => setTimeout(r, 300));
    expect(broker.seen).toEqual([]);
    expect((await recentAudit(c.db.db, 10)).map((a) => a.action)).not.toContain('roster-imported');
  });

  it('lets only an admin import (a viewer and a duty leader get 403), never without the CSRF token, and only for a site the office holds a key for', async () => {
    for (const id of ['zhao.min', 'wang.li']) {
      const s = await signIn(c, id);
      const res = await importCsv(c, s, ROSTER);
      expect(res.status, id).toBe(403);
      expect(await errorCode(res)).toBe('ROLE_REQUIRED');
    }
    const admin = await signIn(c, 'an.admin');
    const noToken = await fetch(`${c.url}/api/roster?site=${SITE}`, { method: 'POST', headers: { ...admin.get, ...c.sameOrigin, 'content-type': 'text/csv' }, body: ROSTER });
    expect(noToken.status).toBe(403);
    expect(await errorCode(noToken)).toBe('CSRF_TOKEN');
    const other = await importCsv(c, admin, ROSTER, '?site=mine-b');
    expect(other.status).toBe(400);
    expect(await errorCode(other)).toBe('SITE_UNKNOWN');
    expect(await c.db.db.query('SELECT count(*)::int AS n FROM office_roster')).toEqual([{ n: 0 }]);
    expect(broker.seen).toEqual([]);
  });

  it('exports the day as CSV for Excel: byte order mark, CRLF, Chinese intact, formulas defused, the date in the file name, audited', async () => {
    const admin = await signIn(c, 'an.admin');
    const roster = [HEADER, person('E-A', '张伟', 'employee', '采煤一队', '甲班'), person('E-B', '王芳', 'employee', '"=HYPERLINK(""http://x"")"', '')].join('\n');
    expect((await importCsv(c, admin, roster)).status).toBe(200);
    await commit(c.db.db, 'gate-1', [passage('gate-1', 'E-A', '2026-12-04T00:30:00.000Z')]);
    const viewer = await signIn(c, 'zhao.min');
    const res = await fetch(`${c.url}/api/screening.csv?date=2026-12-04`, { headers: viewer.get });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="screening-${SITE}-2026-12-04.csv"`);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(3));
    expect(text.split('\r\n')).toEqual([
      '日期 date,部门 department,班组 team,状态 status,工号 staff_id,姓名 name,类别 category,首次筛查 first_screening,检查站 checkpoint,通道 lane,结果 outcome',
      '2026-12-04,"\'=HYPERLINK(""http://x"")",,未筛查 not screened,E-B,王芳,职工 employee,,,,',
      '2026-12-04,采煤一队,甲班,已筛查 screened,E-A,张伟,职工 employee,2026-12-04 08:30:00,gate-1,in-1,通行 admit',
      '',
    ]);
    expect((await recentAudit(c.db.db, 1))[0]).toMatchObject({ officerId: 'zhao.min', action: 'screening-exported', detail: { site: SITE, date: '2026-12-04', rows: 2 } });
  });

  it('refuses a date that is not YYYY-MM-DD and a site the office does not know (400)', async () => {
    const viewer = await signIn(c, 'zhao.min');
    for (const [query, code] of [['?date=2026-13-01', 'BAD_PARAMETER'], ['?date=04.12.2026', 'BAD_PARAMETER'], ['?site=nowhere', 'SITE_UNKNOWN']] as const) {
      for (const route of ['/api/screening', '/api/screening.csv']) {
        const res = await fetch(`${c.url}${route}${query}`, { headers: viewer.get });
        expect(res.status, `${route}${query}`).toBe(400);
        expect(await errorCode(res)).toBe(code);
      }
    }
  });
});

describe.each(ENGINES)('the mine-wide daily screening on %s', (engine) => {
  let cleanup: Cleanup;
  let c: Console;
  beforeEach(async () => {
    cleanup = new Cleanup();
    const prefix = uniquePrefix();
    c = await startScreeningConsole(cleanup, engine, prefix, (await brokerClient(cleanup, prefix)).client);
  });
  afterEach(() => cleanup.run());

  it('shows workers screened at either checkpoint as screened, by their first decision of the China-time day, and the rest as not screened, by department and team', async () => {
    const admin = await signIn(c, 'an.admin');
    expect((await importCsv(c, admin, ROSTER)).status).toBe(200);
    // 2026-12-04 in China time is 2026-12-03T16:00Z … 2026-12-04T16:00Z.
    await commit(c.db.db, 'gate-1', [
      passage('gate-1', 'E-A', '2026-12-04T01:00:00.000Z'),
      passage('gate-1', 'E-B', '2026-12-03T15:59:59.000Z'), // the day before, in China time
      passage('gate-1', 'E-D', '2026-12-04T02:00:00.000Z', { kind: 'timeout' }), // no screening
      passage('gate-1', 'V-E', '2026-12-04T02:00:00.000Z'), // a visitor: not a worker
      passage('gate-1', 'E-F', '2026-12-04T02:00:00.000Z'), // inactive
    ]);
    await commit(c.db.db, 'gate-2', [
      passage('gate-2', 'E-B', '2026-12-03T16:00:00.000Z', { outcome: 'refuse', reasons: ['TEMP_FEVER'], lane: 'in-2' }),
      passage('gate-2', 'E-A', '2026-12-04T03:00:00.000Z'), // A's second screening
      passage('gate-2', 'E-B', '2026-12-04T15:59:59.999Z'),
    ]);
    const viewer = await signIn(c, 'zhao.min');
    const res = await fetch(`${c.url}/api/screening?date=2026-12-04`, { headers: viewer.get });
    expect(res.status).toBe(200);
    const body = (await res.json()) as ScreeningBody;
    expect(body.sites).toEqual([{ id: SITE, name: '示范矿' }]);
    expect(body.canImport).toBe(true);
    expect(body.screening).toMatchObject({ site: SITE, date: '2026-12-04', workers: 4, screened: 2, notScreened: 2, outcomes: { admit: 1, refuse: 1, refer: 0 } });
    expect(body.screening.groups).toEqual([
      { department: '采煤一队', team: '甲班', workers: 1, notScreened: [], screened: [{ staffId: 'E-A', name: '张伟', category: 'employee', checkpoint: 'gate-1', lane: 'in-1', at: '2026-12-04T01:00:00.000Z', outcome: 'admit' }] },
      { department: '采煤一队', team: '乙班', workers: 1, notScreened: [], screened: [{ staffId: 'E-B', name: '王芳', category: 'employee', checkpoint: 'gate-2', lane: 'in-2', at: '2026-12-03T16:00:00.000Z', outcome: 'refuse' }] },
      { department: '机电部', team: null, workers: 1, screened: [], notScreened: [{ staffId: 'C-C', name: '李娜', category: 'contractor' }] },
      { department: null, team: null, workers: 1, screened: [], notScreened: [{ staffId: 'E-D', name: '赵强', category: 'employee' }] },
    ]);
    expect(body.roster).toMatchObject({ active: 5, inactive: 1, lastPush: { gateways: [] } });
    // The default day is today in China time: T0 is 2026-12-04 17:00 there.
    const today = (await (await fetch(`${c.url}/api/screening`, { headers: viewer.get })).json()) as ScreeningBody;
    expect(today.screening.date).toBe('2026-12-04');
    c.clock.now = Date.parse('2026-12-04T16:00:00Z');
    const later = await signIn(c, 'zhao.min');
    const tomorrow = (await (await fetch(`${c.url}/api/screening`, { headers: later.get })).json()) as ScreeningBody;
    expect(tomorrow.screening).toMatchObject({ date: '2026-12-05', screened: 0, notScreened: 4 });
  });
});

describe('change feed', () => {
  it('tells the pages when a gateway answered an update', async () => {
    const feed = new ChangeFeed({ minGapMs: 0 });
    const got = new Promise<string[]>((resolve) => feed.subscribe(resolve));
    feed.committed([{ type: 'response', kind: 'roster' } as never]);
    expect(await got).toEqual(['updates']);
    feed.close();
  });
});
