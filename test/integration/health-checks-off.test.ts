// Acceptance of issue 14 item 4, on the built gateway process with simulated devices and
// the real Mosquitto: at an access-only profile a red-code pass is admitted on identity
// alone, with no temperature taken; a signed policy update (demo office key) turns health
// checks off on every lane without a restart; and no health field appears in the ledger
// file (read with better-sqlite3), the kiosk's open lane views, the guard console API or
// anything published on MQTT.
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_FILE } from '../../gateway/store/index.js';
import { Cleanup, clearRetained, subscribe, type Subscriber } from '../gateway/telemetry/helpers.js';
import { healthFindings } from './health-scan.js';
import { cli, guardGet, postJson, startGatewayProcess, tempDir, until, writeConfig, type GatewayProcess } from './helpers.js';

const site = `ith-${randomBytes(4).toString('hex')}`;
const checkpoint = 'mine-entrance';
const statusTopic = `checkpoints/${site}/${checkpoint}/status`;
const cleanup = new Cleanup();
let gw: GatewayProcess;
let sub: Subscriber;
let dir: string;
/** Where the gateway's config (and so its data dir) lives. */
let gwDir: string;

// A second lane on the access-only profile, beside the demo's in-1 (mine-entrance).
const ACCESS_LANE = `
  - id: staff-1
    name: 员工通道 / Staff gate
    profile: access-only
    scanner: { type: sim }
    thermometer: { type: sim }
    relay: { type: sim }
`;

interface GuardEvent {
  id: string;
  seq: number;
  lane: string;
  outcome: string;
  reasons: { code: string }[];
  temperature: number | null;
}

async function ledger(): Promise<GuardEvent[]> {
  return ((await (await guardGet(gw, '/api/guard/ledger?limit=100')).json()) as { events: GuardEvent[] }).events;
}

/** Scans a pass at a lane, with no temperature given, and returns its decision from the guard console. */
async function scan(lane: string, pass: string): Promise<GuardEvent> {
  const known = new Set((await ledger()).map((e) => e.id));
  expect((await postJson(`${gw.url}/api/sim/lanes/${lane}/scan`, { payload: pass })).status).toBe(202);
  return until(`the decision at ${lane}`, async () => (await ledger()).find((e) => !known.has(e.id)));
}

async function redPositivePass(sub: string): Promise<string> {
  const { stdout } = await cli(['pass', 'issue', '--sub', sub, '--name', '王五', '--health-code', 'red', '--test-result', 'positive', '--risk-level', 'high']);
  return stdout.trim();
}

/** The ledger rows of these events, every column, as the SQLite file holds them. */
function ledgerRows(ids: readonly string[]): Record<string, unknown>[] {
  const db = new Database(path.join(gwDir, 'data', DATABASE_FILE), { readonly: true, fileMustExist: true });
  try {
    return ids.map((id) => db.prepare('SELECT * FROM ledger WHERE id = ?').get(id) as Record<string, unknown>);
  } finally {
    db.close();
  }
}

/** The first `lane` event of the open stream (the lane as its kiosk shows it now). */
async function streamed(lane: string): Promise<unknown> {
  const ac = new AbortController();
  const res = await fetch(`${gw.url}/api/stream?lane=${lane}`, { signal: ac.signal });
  const reader = res.body!.getReader();
  let text = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended');
      text += Buffer.from(value).toString('utf8');
      const m = /event: lane\ndata: (.*)\n/.exec(text);
      if (m?.[1]) return JSON.parse(m[1]) as unknown;
    }
  } finally {
    ac.abort();
  }
}

/** Everything the kiosk and the guard console answer right after `event`, while its screen still shows it. */
async function surfaces(lane: string, event: GuardEvent): Promise<Record<string, unknown>> {
  const lanes = (await (await fetch(`${gw.url}/api/lanes`)).json()) as { lanes: { lane: string; last: { eventId: string } | null }[] };
  const shown = lanes.lanes.find((l) => l.lane === lane);
  expect(shown?.last?.eventId).toBe(event.id); // the decision is on the screen being scanned
  const ledgerRows = (await ledger()).filter((e) => e.id === event.id);
  const alerts = ((await (await guardGet(gw, '/api/guard/alerts?limit=100')).json()) as { rows: unknown[] }).rows.filter((r) => JSON.stringify(r).includes(event.id));
  return {
    lanes: shown,
    stream: await streamed(lane),
    guardLedger: ledgerRows,
    guardEvents: ((await (await guardGet(gw, `/api/events?limit=100`)).json()) as { events: { id: string }[] }).events.filter((e) => e.id === event.id),
    guardStatus: await (await guardGet(gw, '/api/guard/status')).json(),
    guardAlerts: alerts,
  };
}

/** What the broker delivered about these events: their events and alerts. */
function published(ids: readonly string[]): string[] {
  return sub.messages.filter((m) => !m.topic.endsWith('/status') && ids.some((id) => m.payload.includes(id))).map((m) => m.payload);
}

function lastBirth(): Record<string, unknown> | undefined {
  const births = sub.payloads(statusTopic).map((p) => JSON.parse(p) as Record<string, unknown>).filter((b) => b['state'] === 'online');
  return births.at(-1);
}

beforeAll(async () => {
  dir = tempDir('health-off-');
  sub = await subscribe(cleanup, 'mqtt://127.0.0.1:1883', [`checkpoints/${site}/#`]);
  gwDir = tempDir('gw-health-');
  const config = writeConfig(gwDir, site, ACCESS_LANE);
  // A decision stays on the kiosk for a minute, so a slow machine still reads it there.
  writeFileSync(config, readFileSync(config, 'utf8').replace(/kioskResetMs: \d+/, 'kioskResetMs: 60000'));
  gw = await startGatewayProcess({ site, config });
  await until('gateway online', () => (lastBirth()?.['lanes'] as unknown[] | undefined)?.length === 2 || undefined, 15_000);
});

afterAll(async () => {
  const code = await gw?.stop();
  rmSync(gwDir, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
  await clearRetained('mqtt://127.0.0.1:1883', statusTopic);
  await cleanup.run(); // also fails the file if any message broke docs/asyncapi.yaml
  expect(code).toBe(0);
});

describe('retiring health checks, end to end', () => {
  const offEvents: GuardEvent[] = [];

  it('admits a red-code, positive-test pass on identity alone at the access-only lane, with no temperature taken', { timeout: 60_000 }, async () => {
    const birth = lastBirth();
    expect(birth?.['healthChecks']).toBe('on');
    expect(birth?.['lanes']).toEqual([expect.not.objectContaining({ healthChecks: 'off' }), expect.objectContaining({ id: 'staff-1', healthChecks: 'off' })]);

    const event = await scan('staff-1', await redPositivePass(`it-red-${randomBytes(3).toString('hex')}`));
    expect(event).toMatchObject({ lane: 'staff-1', outcome: 'admit', reasons: [], temperature: null });
    offEvents.push(event);
    const seen = await surfaces('staff-1', event);
    expect(healthFindings(seen)).toEqual([]);
    await until('the event on MQTT', () => (published([event.id]).length > 0 ? true : undefined));
  });

  it('refuses the same kind of pass at the mine entrance while health checks are on (and the scan finds it)', { timeout: 60_000 }, async () => {
    const event = await scan('in-1', await redPositivePass(`it-red-${randomBytes(3).toString('hex')}`));
    expect(event.outcome).toBe('refuse');
    expect(event.reasons.map((r) => r.code)).toEqual(expect.arrayContaining(['HEALTH_CODE_RED', 'TEST_POSITIVE']));
    // The scans used below do see health data where there is some.
    expect(healthFindings(ledgerRows([event.id]))).not.toEqual([]);
    const seen = await surfaces('in-1', event);
    for (const where of ['lanes', 'stream', 'guardLedger', 'guardEvents', 'guardAlerts']) expect(healthFindings(seen[where]), where).not.toEqual([]);
    await until('its event and alert on MQTT', () => (published([event.id]).length >= 2 ? true : undefined));
    expect(healthFindings(published([event.id]))).not.toEqual([]);
  });

  it('turns health checks off on every lane by a signed policy update, without a restart', { timeout: 60_000 }, async () => {
    const data = path.join(dir, 'policy.json');
    writeFileSync(data, JSON.stringify({ overrides: {}, healthChecks: 'off' }));
    const { stdout: token } = await cli(['central', 'sign', 'policy', data, '--update-version', '1', '--site', site, '--checkpoint', checkpoint, '--transaction', 'tx-health-off']);
    const file = path.join(dir, 'policy.jws');
    writeFileSync(file, token.trim());
    const { stdout } = await cli(['central', 'publish', 'policy', file, '--site', site, '--checkpoint', checkpoint, '--wait', '15000']);
    expect(JSON.parse(stdout.trim())).toMatchObject({ status: 'applied', kind: 'policy', version: 1 });

    // The office sees the mode in the birth, sent again at once.
    await until('a birth saying health checks off', () => (lastBirth()?.['healthChecks'] === 'off' ? true : undefined));
    expect(lastBirth()?.['lanes']).toEqual([expect.objectContaining({ id: 'in-1', healthChecks: 'off' }), expect.objectContaining({ id: 'staff-1', healthChecks: 'off' })]);

    // The mine entrance now admits the red-code pass on identity alone: no temperature asked for.
    const event = await scan('in-1', await redPositivePass(`it-red-${randomBytes(3).toString('hex')}`));
    expect(event).toMatchObject({ lane: 'in-1', outcome: 'admit', reasons: [], temperature: null });
    offEvents.push(event);
    const seen = await surfaces('in-1', event);
    expect(healthFindings(seen)).toEqual([]);
    expect((seen['guardStatus'] as { lanes: { devices: object }[] }).lanes).toHaveLength(2);
  });

  it('kept no health field in the ledger file and published none', { timeout: 30_000 }, async () => {
    const rows = ledgerRows(offEvents.map((e) => e.id));
    expect(rows.map((r) => r['outcome'])).toEqual(['admit', 'admit']);
    for (const row of rows) {
      expect(row['temperature']).toBeNull();
      const facts = JSON.parse(String(row['facts'])) as Record<string, unknown>;
      expect(facts['credential']).toEqual({ ok: true, kind: 'health-pass', category: 'employee' });
    }
    expect(healthFindings(rows)).toEqual([]);

    await until('both events on MQTT', () => (offEvents.every((e) => published([e.id]).length > 0) ? true : undefined));
    const messages = published(offEvents.map((e) => e.id));
    expect(messages.every((m) => JSON.parse(m).temperature === null)).toBe(true);
    expect(healthFindings(messages)).toEqual([]);
    expect(healthFindings(lastBirth())).toEqual([]);
  });
});
