import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertRow } from '../../../gateway/http/guard-alerts.js';
import { OVERRIDE_ANSWERS_WITHIN_MS, answeredPassage, type GuardEvent } from '../../../gateway/http/guard-api.js';
import { decisionOutbox } from '../../../gateway/telemetry/alerts.js';
import { topicsFor } from '../../../gateway/telemetry/topics.js';
import { LaneOverrideError } from '../../../gateway/lane/lane.js';
import { reason } from '../../../gateway/policy/reasons.js';
import type { NewLedgerEntry, StoredAlert } from '../../../gateway/store/types.js';
import { PIN, cookieOf, login, signIn } from './guard-helpers.js';
import { errorOf, startHarness, type Harness } from './helpers.js';

// 10:30 China time on 4 Dec 2024: "today" runs from 2024-12-03T16:00Z.
const NOW = Date.parse('2024-12-04T10:30:00+08:00');
const DAY_START = Date.parse('2024-12-04T00:00:00+08:00');

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

let n = 0;
function row(over: Partial<NewLedgerEntry> = {}): NewLedgerEntry {
  n += 1;
  return {
    id: `ev-${n}`,
    at: NOW - 60_000,
    lane: 'north',
    kind: 'decision',
    outcome: 'admit',
    reasons: [],
    alerts: [],
    credential: 'health-pass',
    subjectRef: `p1_S-${n}`,
    subjectName: '张三',
    category: 'employee',
    temperature: 36.54,
    ...over,
  };
}

async function start(opts: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  h = await startHarness({ ...opts, guard: { now: NOW, ...(opts.guard ?? {}) } });
  return h;
}

describe('guard sign-in', () => {
  it('signs a guard in with id and PIN, setting an HttpOnly SameSite=Strict cookie and returning a CSRF token', async () => {
    const h = await start();
    await h.guard!.accounts.add('G-01', '王保安', PIN);
    const res = await login(h);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { guard: { id: string; name: string }; csrfToken: string };
    expect(body.guard).toEqual({ id: 'G-01', name: '王保安' });
    expect(body.csrfToken).toMatch(/^[\w-]{20,}$/);
    const set = res.headers.getSetCookie().join('\n');
    expect(set).toMatch(/gw_guard=[\w-]{40,}/);
    expect(set).toMatch(/HttpOnly/i);
    expect(set).toMatch(/SameSite=Strict/i);
    expect(set).toMatch(/Path=\//);
    const session = await fetch(`${h.url}/api/guard/session`, { headers: { cookie: cookieOf(res) } });
    expect(session.status).toBe(200);
    expect(await session.json()).toMatchObject({ guard: { id: 'G-01', name: '王保安' }, csrfToken: body.csrfToken });
  });

  it('refuses a wrong PIN and an unknown guard with the same answer', async () => {
    const h = await start();
    await h.guard!.accounts.add('G-01', '王保安', PIN);
    for (const [id, pin] of [
      ['G-01', '00000000'],
      ['G-99', PIN],
    ]) {
      const res = await login(h, id, pin);
      expect(res.status).toBe(401);
      expect(await errorOf(res)).toEqual({ code: 'SIGN_IN_FAILED', message: 'wrong guard id or PIN' });
      expect(res.headers.getSetCookie()).toEqual([]);
    }
  });

  it('locks the account after five wrong PINs and says until when', async () => {
    const h = await start();
    await h.guard!.accounts.add('G-01', '王保安', PIN);
    for (let i = 0; i < 4; i++) expect((await login(h, 'G-01', '00000000')).status).toBe(401);
    const fifth = await login(h, 'G-01', '00000000');
    expect(fifth.status).toBe(423);
    expect((await errorOf(fifth)).code).toBe('ACCOUNT_LOCKED');
    const right = await login(h);
    expect(right.status).toBe(423);
    expect((await errorOf(right)).message).toContain(new Date(NOW + 15 * 60_000).toISOString());
  });

  it('rate-limits sign-in attempts from one address', async () => {
    const h = await start({ guard: { loginPerMinute: 3 } });
    for (let i = 0; i < 3; i++) expect((await login(h, 'G-01', '00000000')).status).toBe(401);
    const res = await login(h, 'G-01', '00000000');
    expect(res.status).toBe(429);
    expect((await errorOf(res)).code).toBe('RATE_LIMITED');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    h.guard!.clock.advance(60_000);
    expect((await login(h, 'G-01', '00000000')).status).toBe(401);
  });

  it('refuses a sign-in posted from another site', async () => {
    const h = await start();
    await h.guard!.accounts.add('G-01', '王保安', PIN);
    const res = await fetch(`${h.url}/api/guard/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://evil.example' },
      body: JSON.stringify({ guardId: 'G-01', pin: PIN }),
    });
    expect(res.status).toBe(403);
    expect((await errorOf(res)).code).toBe('CROSS_SITE');
  });

  it('ends the session on sign-out, after 30 idle minutes, and when the guard is removed', async () => {
    const h = await start();
    const a = await signIn(h);
    expect((await fetch(`${h.url}/api/guard/logout`, { method: 'POST', headers: a.post, body: '{}' })).status).toBe(204);
    expect((await fetch(`${h.url}/api/guard/session`, { headers: a.get })).status).toBe(401);

    const b = await signIn(h);
    h.guard!.clock.advance(30 * 60_000);
    const idle = await fetch(`${h.url}/api/guard/session`, { headers: b.get });
    expect(idle.status).toBe(401);
    expect((await errorOf(idle)).code).toBe('UNAUTHENTICATED');

    const c = await signIn(h);
    h.guard!.accounts.remove('G-01');
    expect((await fetch(`${h.url}/api/guard/session`, { headers: c.get })).status).toBe(401);
  });
});

describe('guard feed, alerts and status', () => {
  it('lists ledger rows with the local name, filtered by credential, name or subject id', async () => {
    const h = await start();
    const s = await signIn(h);
    h.store.appendDecision(row({ subjectName: '张伟', subjectRef: 'p1_E-0001' }), () => null);
    h.store.appendDecision(row({ subjectName: '李娜', credential: 'staff-badge', outcome: 'refuse', reasons: [reason('HEALTH_CODE_RED')] }), () => null);
    const all = (await (await fetch(`${h.url}/api/guard/ledger`, { headers: s.get })).json()) as { events: GuardEvent[] };
    expect(all.events.map((e) => e.name)).toEqual(['李娜', '张伟']);
    expect(all.events[0]).toMatchObject({ outcome: 'refuse', reasons: [{ code: 'HEALTH_CODE_RED', zh: '健康码为红码' }], actor: null });
    const badge = (await (await fetch(`${h.url}/api/guard/ledger?credential=staff-badge`, { headers: s.get })).json()) as { events: GuardEvent[] };
    expect(badge.events.map((e) => e.name)).toEqual(['李娜']);
    const byName = (await (await fetch(`${h.url}/api/guard/ledger?subject=${encodeURIComponent('伟')}`, { headers: s.get })).json()) as { events: GuardEvent[] };
    expect(byName.events.map((e) => e.name)).toEqual(['张伟']);
    const byId = (await (await fetch(`${h.url}/api/guard/ledger?subject=E-0001`, { headers: s.get })).json()) as { events: GuardEvent[] };
    expect(byId.events.map((e) => e.name)).toEqual(['张伟']);
    const bad = await fetch(`${h.url}/api/guard/ledger?credential=passport`, { headers: s.get });
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).message).toContain("query parameter 'credential'");
  });

  it('says how far back a name was searched, and continues from there with before (search older)', async () => {
    const h = await start({ guard: { nameScanRows: 3 } });
    const s = await signIn(h);
    h.store.appendDecision(row({ subjectName: '欧阳娜', subjectRef: 'p1_E-0007', at: NOW - 3_600_000 }), () => null);
    for (let i = 0; i < 5; i++) h.store.appendDecision(row({ at: NOW - 60_000 + i }), () => null);
    const get = async (q: string) => {
      const res = await fetch(`${h.url}/api/guard/ledger?${q}`, { headers: s.get });
      expect(res.status).toBe(200);
      return (await res.json()) as { events: GuardEvent[]; nextBefore: number | null; searchedBackTo: { seq: number; at: string } | null };
    };
    const first = await get(`subject=${encodeURIComponent('欧阳')}`);
    expect(first.events).toEqual([]);
    // Seqs 4-6 read; the next request starts below seq 4.
    expect(first.searchedBackTo).toEqual({ seq: 4, at: new Date(NOW - 60_000 + 2).toISOString() });
    expect(first.nextBefore).toBe(4);
    const older = await get(`subject=${encodeURIComponent('欧阳')}&before=${first.nextBefore}`);
    expect(older.events.map((e) => e.name)).toEqual(['欧阳娜']);
    expect(older).toMatchObject({ searchedBackTo: null, nextBefore: null });
    // The staff id is found on its pseudonym at once, however old its row.
    const byId = await get('subject=E-0007');
    expect(byId.events.map((e) => e.name)).toEqual(['欧阳娜']);
    expect(byId.searchedBackTo?.seq).toBe(4);
    // Without a name or id there is nothing to bound: no searchedBackTo.
    expect(await get('limit=2')).toMatchObject({ nextBefore: 5, searchedBackTo: null });
  });

  it('exports every row of a name search as CSV however many requests the names take', async () => {
    const h = await start({ guard: { nameScanRows: 2 } });
    const s = await signIn(h);
    for (let i = 0; i < 7; i++) h.store.appendDecision(row({ subjectName: i % 2 === 0 ? '王伟' : '李娜', at: NOW - 60_000 + i }), () => null);
    const res = await fetch(`${h.url}/api/guard/ledger.csv?subject=${encodeURIComponent('王')}`, { headers: s.get });
    expect(res.status).toBe(200);
    const records = parse(await res.text(), { columns: true }) as Record<string, string>[];
    expect(records).toHaveLength(4);
  });

  it('acknowledges an alert under the guard id, once, and counts what is left', async () => {
    const h = await start();
    const s = await signIn(h);
    for (const id of ['a-1', 'a-2']) {
      h.store.appendAlert({ id, at: NOW, lane: 'north', kind: 'health-code', severity: 'critical', code: 'HEALTH_CODE_RED', eventId: null, detail: null }, () => null);
    }
    const before = (await (await fetch(`${h.url}/api/guard/alerts`, { headers: s.get })).json()) as { alerts: StoredAlert[]; unacked: number };
    expect(before.unacked).toBe(2);
    const ack = await fetch(`${h.url}/api/guard/alerts/a-1/ack`, { method: 'POST', headers: s.post, body: '{}' });
    expect(ack.status).toBe(200);
    expect(await ack.json()).toEqual({ acked: true, ackedBy: 'G-01', unacked: 1 });
    const again = await fetch(`${h.url}/api/guard/alerts/a-1/ack`, { method: 'POST', headers: s.post, body: '{}' });
    expect(again.status).toBe(404);
    expect((await errorOf(again)).code).toBe('ALERT_UNKNOWN');
    const after = (await (await fetch(`${h.url}/api/guard/alerts`, { headers: s.get })).json()) as { alerts: StoredAlert[] };
    expect(after.alerts.find((a) => a.id === 'a-1')).toMatchObject({ ackedBy: 'G-01', ackedAt: NOW });
    const unacked = (await (await fetch(`${h.url}/api/guard/alerts?unacked=true`, { headers: s.get })).json()) as { alerts: StoredAlert[] };
    expect(unacked.alerts.map((a) => a.id)).toEqual(['a-2']);
  });

  it('lists a refusal that raised three alerts as one row, and acknowledges every alert shown in one request', async () => {
    const h = await start();
    const s = await signIn(h);
    const ctx = { site: 'site-a', checkpoint: 'gate-1' };
    const toOutbox = decisionOutbox(h.store, topicsFor({ prefix: 'checkpoints', site: 'site-a', checkpoint: 'gate-1' }), ctx);
    const refusal = row({
      outcome: 'refuse',
      subjectName: '赵访客',
      category: 'visitor',
      reasons: [reason('HEALTH_CODE_RED'), reason('TRAVEL_RISK_AREA', { level: 'high' }), reason('VISITOR_NO_APPROVAL')],
      alerts: [
        { kind: 'health-code', severity: 'critical', code: 'HEALTH_CODE_RED' },
        { kind: 'risk-area', severity: 'critical', code: 'TRAVEL_RISK_AREA' },
        { kind: 'visitor-refused', severity: 'warning', code: 'VISITOR_NO_APPROVAL' },
      ],
    });
    h.store.appendDecision(refusal, toOutbox);
    h.store.appendAlert({ id: 'up-1', at: NOW, lane: 'north', kind: 'device-up', severity: 'info', code: 'DEVICE_UP_THERMOMETER', eventId: null, detail: 'thermometer back in service' }, () => null);
    h.store.appendAlert({ id: 'down-1', at: NOW, lane: 'north', kind: 'device-down', severity: 'critical', code: 'DEVICE_DOWN_SCANNER', eventId: null, detail: null }, () => null);

    type Rows = { rows: AlertRow[]; unacked: number; alerts: StoredAlert[] };
    const list = (await (await fetch(`${h.url}/api/guard/alerts`, { headers: s.get })).json()) as Rows;
    expect(list.alerts).toHaveLength(5);
    expect(list.unacked).toBe(2); // the passage and the scanner; the thermometer back needs nothing
    expect(list.rows.map((r) => [r.state, r.kinds, r.count])).toEqual([
      ['open', ['device-down'], 1],
      ['open', ['health-code', 'risk-area', 'visitor-refused'], 1],
      ['info', ['device-up'], 1],
    ]);
    expect(list.rows[1]!.passage).toMatchObject({ id: refusal.id, outcome: 'refuse', name: '赵访客' });
    const open = (await (await fetch(`${h.url}/api/guard/alerts/count`)).json()) as { unacked: number };
    expect(open.unacked).toBe(2);

    const shown = list.rows.filter((r) => r.state === 'open').flatMap((r) => r.ids);
    // Raised after the guard looked: not among the ids sent, so it stays open.
    h.store.appendAlert({ id: 'late', at: NOW, lane: 'south', kind: 'tailgate', severity: 'warning', code: 'PASSAGE_WITHOUT_ADMISSION', eventId: null, detail: null }, () => null);
    const ack = await fetch(`${h.url}/api/guard/alerts/ack`, { method: 'POST', headers: s.post, body: JSON.stringify({ ids: shown }) });
    expect(ack.status).toBe(200);
    expect(await ack.json()).toEqual({ acked: 4, ackedBy: 'G-01', unacked: 1 });
    const after = (await (await fetch(`${h.url}/api/guard/alerts?unacked=true`, { headers: s.get })).json()) as Rows;
    expect(after.alerts.map((a) => a.id)).toEqual(['late']);

    const bad = await fetch(`${h.url}/api/guard/alerts/ack`, { method: 'POST', headers: s.post, body: JSON.stringify({ ids: [] }) });
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).message).toContain('at least one alert id');
  });

  it('reports each lane with its devices, the MQTT link, the outbox depth and the open alerts', async () => {
    const h = await start();
    const s = await signIn(h);
    const body = (await (await fetch(`${h.url}/api/guard/status`, { headers: s.get })).json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      lanes: [
        { id: 'north', state: 'idle', devices: { scanner: { state: 'connected' }, thermometer: { state: 'connected' }, relay: { state: 'connected' } } },
        { id: 'south' },
      ],
      mqtt: null,
      outboxDepth: 0,
      unackedAlerts: 0,
    });
  });
});

describe('guard override', () => {
  it('opens a lane once under the guard id with the catalogue reason and the note', async () => {
    const h = await start();
    const s = await signIn(h);
    const res = await fetch(`${h.url}/api/lanes/north/override`, {
      method: 'POST',
      headers: s.post,
      body: JSON.stringify({ reason: 'OVERRIDE_IDENTITY_VERIFIED', note: '当面核实身份证' }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { event: GuardEvent; pulsed: boolean };
    expect(body.pulsed).toBe(true);
    expect(body.event).toMatchObject({ kind: 'override', outcome: 'admit', actor: 'G-01', note: '当面核实身份证', lane: 'north' });
    expect(h.guard!.overrides).toEqual([
      { lane: 'north', guardId: 'G-01', why: { code: 'OVERRIDE_IDENTITY_VERIFIED', zh: '人工放行：已当面核实证件', en: 'Guard override: credentials checked in person' }, note: '当面核实身份证' },
    ]);
    expect(h.store.queryEvents({ limit: 1 })[0]).toMatchObject({ kind: 'override', actor: 'G-01', note: '当面核实身份证' });
  });

  it("links an override to the lane's refused passage it answers, and not to an admitted or a stale one", async () => {
    const h = await start();
    const s = await signIn(h);
    const override = async (lane: string): Promise<GuardEvent> => {
      const res = await fetch(`${h.url}/api/lanes/${lane}/override`, {
        method: 'POST',
        headers: s.post,
        body: JSON.stringify({ reason: 'OVERRIDE_IDENTITY_VERIFIED', note: '当面核实' }),
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { event: GuardEvent }).event;
    };
    const refused = h.store.appendDecision(row({ at: NOW - 60_000, outcome: 'refuse', subjectName: '李四', reasons: [reason('HEALTH_CODE_RED')] }), () => null);
    h.store.appendDecision(row({ at: NOW - 30_000, lane: 'south', outcome: 'admit' }), () => null);
    const first = await override('north');
    expect(first.answers).toEqual({ id: refused.id, seq: refused.seq, at: new Date(refused.at).toISOString(), outcome: 'refuse', name: '李四' });
    // A second override answers nothing: the refusal was answered by the first.
    expect((await override('north')).answers).toBeNull();
    // The south lane's last passage was admitted.
    expect((await override('south')).answers).toBeNull();
    // The ledger and the live feed give the same link.
    const page = (await (await fetch(`${h.url}/api/guard/ledger?lane=north`, { headers: s.get })).json()) as { events: GuardEvent[] };
    expect(page.events.map((e) => e.answers?.id ?? null)).toEqual([null, refused.id, null]);
    // A refusal longer ago than OVERRIDE_ANSWERS_WITHIN_MS is not what a guard answers now.
    const stale = h.store.appendDecision(row({ at: NOW - OVERRIDE_ANSWERS_WITHIN_MS - 1, lane: 'east', outcome: 'refuse' }), () => null);
    const late = h.store.appendDecision(row({ at: NOW, lane: 'east', kind: 'override', outcome: 'admit', subjectRef: null, subjectName: null, actor: 'G-01', note: 'n' }), () => null);
    expect(answeredPassage(h.store, late)).toBeNull();
    const inTime = h.store.appendDecision(row({ at: stale.at + OVERRIDE_ANSWERS_WITHIN_MS, lane: 'west', kind: 'override', outcome: 'admit', actor: 'G-01', note: 'n' }), () => null);
    h.store.appendDecision(row({ at: stale.at, lane: 'west', outcome: 'refer' }), () => null);
    // Only passages before the override (by ledger order) count, even at an earlier time.
    expect(answeredPassage(h.store, inTime)).toBeNull();
  });

  it('requires a reason from the pick-list and a note, and a configured lane', async () => {
    const h = await start();
    const s = await signIn(h);
    const post = (lane: string, body: unknown) =>
      fetch(`${h.url}/api/lanes/${lane}/override`, { method: 'POST', headers: s.post, body: JSON.stringify(body) });
    const noReason = await post('north', { note: 'x' });
    expect(noReason.status).toBe(400);
    expect((await errorOf(noReason)).message).toContain("body field 'reason'");
    const badReason = await post('north', { reason: 'BECAUSE', note: 'x' });
    expect((await errorOf(badReason)).message).toContain('OVERRIDE_IDENTITY_VERIFIED');
    const noNote = await post('north', { reason: 'OVERRIDE_OTHER', note: '   ' });
    expect((await errorOf(noNote)).message).toContain("body field 'note'");
    const unknown = await post('west', { reason: 'OVERRIDE_OTHER', note: 'x' });
    expect(unknown.status).toBe(404);
    expect((await errorOf(unknown)).code).toBe('LANE_UNKNOWN');
    expect(h.guard!.overrides).toEqual([]);
  });

  it('answers 409 when the lane is busy or its relay is down', async () => {
    const h = await start({
      guard: {
        override: async () => {
          throw new LaneOverrideError('RELAY_DOWN', 'the relay of lane north is disconnected; open the gate by hand');
        },
      },
    });
    const s = await signIn(h);
    const res = await fetch(`${h.url}/api/lanes/north/override`, {
      method: 'POST',
      headers: s.post,
      body: JSON.stringify({ reason: 'OVERRIDE_DEVICE_FAULT', note: '闸机故障' }),
    });
    expect(res.status).toBe(409);
    expect(await errorOf(res)).toEqual({ code: 'RELAY_DOWN', message: 'the relay of lane north is disconnected; open the gate by hand' });
  });
});

describe('ledger CSV export', () => {
  it('writes UTF-8 with a BOM and CRLF that parses back with Chinese intact and formulas defused', async () => {
    const h = await start();
    const s = await signIn(h);
    h.store.appendDecision(row({ subjectName: '欧阳 明, "老欧"', at: Date.parse('2024-12-04T08:05:09+08:00') }), () => null);
    h.store.appendDecision(
      row({ subjectName: '=HYPERLINK("http://x")', outcome: 'refuse', reasons: [reason('TEMP_FEVER', { celsius: 38.2 })], temperature: 38.2 }),
      () => null,
    );
    h.store.appendDecision(row({ kind: 'override', subjectName: null, subjectRef: null, credential: 'unknown', actor: 'G-01', note: '+1 @guard', temperature: null }), () => null);
    const res = await fetch(`${h.url}/api/guard/ledger.csv`, { headers: s.get });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="ledger-2024-12-04.csv"');
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    expect(text).toContain('\r\n');
    expect(text.replaceAll('\r\n', '')).not.toContain('\n');
    const records = parse(text, { bom: true, columns: true }) as Record<string, string>[];
    expect(records).toHaveLength(3);
    const [override, fever, first] = records;
    expect(first).toMatchObject({ time: '2024-12-04 08:05:09', name: '欧阳 明, "老欧"', outcome: 'admit', temperature: '36.5', lane: 'north' });
    expect(fever).toMatchObject({ name: `'=HYPERLINK("http://x")`, reason_codes: 'TEMP_FEVER', reasons_zh: '体温偏高（38.2℃）', temperature: '38.2' });
    expect(override).toMatchObject({ kind: 'override', guard: 'G-01', note: `'+1 @guard` });
  });

  it('exports only the rows matching the search', async () => {
    const h = await start();
    const s = await signIn(h);
    h.store.appendDecision(row({ outcome: 'admit' }), () => null);
    h.store.appendDecision(row({ outcome: 'refuse' }), () => null);
    const text = await (await fetch(`${h.url}/api/guard/ledger.csv?outcome=refuse`, { headers: s.get })).text();
    const records = parse(text, { bom: true, columns: true }) as Record<string, string>[];
    expect(records.map((r) => r['outcome'])).toEqual(['refuse']);
  });
});

describe("today's counts and expected visitors", () => {
  it('counts today by outcome and by local hour, overrides apart', async () => {
    const h = await start();
    const s = await signIn(h);
    const at = (hhmm: string) => Date.parse(`2024-12-04T${hhmm}:00+08:00`);
    h.store.appendDecision(row({ at: at('08:10'), outcome: 'admit' }), () => null);
    h.store.appendDecision(row({ at: at('08:50'), outcome: 'admit' }), () => null);
    h.store.appendDecision(row({ at: at('09:15'), outcome: 'refuse' }), () => null);
    h.store.appendDecision(row({ at: at('09:20'), outcome: 'refer', kind: 'timeout' }), () => null);
    h.store.appendDecision(row({ at: at('09:30'), kind: 'override', actor: 'G-01' }), () => null);
    h.store.appendDecision(row({ at: DAY_START - 1, outcome: 'refuse' }), () => null); // yesterday
    const body = (await (await fetch(`${h.url}/api/guard/stats`, { headers: s.get })).json()) as {
      from: string;
      totals: Record<string, number>;
      hours: { hour: number; admit: number; refuse: number; refer: number }[];
    };
    expect(body.from).toBe(new Date(DAY_START).toISOString());
    expect(body.totals).toEqual({ admit: 2, refuse: 1, refer: 1, override: 1, fault: 0 });
    expect(body.hours).toHaveLength(24);
    expect(body.hours[8]).toEqual({ hour: 8, admit: 2, refuse: 0, refer: 0 });
    expect(body.hours[9]).toEqual({ hour: 9, admit: 0, refuse: 1, refer: 1 });
  });

  it("lists today's approvals with who has arrived and who has not", async () => {
    const h = await start();
    const s = await signIn(h);
    h.store.approvalsReplace([
      { subjectId: 'V-1', approver: '刘主任', hostDepartment: '机电科', validFrom: '2024-12-04T08:00:00+08:00', validUntil: '2024-12-04T18:00:00+08:00' },
      { subjectId: 'V-2', approver: '刘主任', hostDepartment: '通风科', validFrom: '2024-12-04', validUntil: '2024-12-06' },
      { subjectId: 'V-3', approver: '刘主任', hostDepartment: '机电科', validFrom: '2024-12-05', validUntil: '2024-12-06' },
    ]);
    h.store.appendDecision(row({ subjectRef: 'p1_V-1', subjectName: '赵访客', category: 'visitor', at: NOW - 3_600_000 }), () => null);
    const body = (await (await fetch(`${h.url}/api/guard/expected`, { headers: s.get })).json()) as {
      people: { subjectId: string; name: string | null; arrivedAt: string | null; hostDepartment: string }[];
    };
    expect(body.people).toEqual([
      expect.objectContaining({ subjectId: 'V-1', name: '赵访客', hostDepartment: '机电科', arrivedAt: new Date(NOW - 3_600_000).toISOString() }),
      expect.objectContaining({ subjectId: 'V-2', name: null, arrivedAt: null }),
    ]);
  });
});

describe('guard console page and headers', () => {
  it('serves /guard with the catalogue texts in data attributes and no inline script', async () => {
    const h = await start();
    const res = await fetch(`${h.url}/guard`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<html lang="zh-CN">');
    expect(html).toContain('值守台');
    expect(html).toContain('data-texts="{&quot;ui&quot;');
    expect(html).not.toMatch(/\{\{\w+\}\}/);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('sends helmet headers with a CSP that allows only this server', async () => {
    const h = await start();
    for (const path of ['/', '/guard', '/api/guard/session', '/healthz']) {
      const res = await fetch(`${h.url}${path}`);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("default-src 'self'");
      expect(csp, path).toContain("script-src 'self'");
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).not.toMatch(/https?:|unsafe-inline|upgrade-insecure-requests/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('strict-transport-security')).toBeNull();
    }
  });
});
