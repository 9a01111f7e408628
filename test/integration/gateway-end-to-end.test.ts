// The whole gateway as a new user runs it: the built process, the CLI, the real
// Mosquitto on 127.0.0.1:1883, a real SQLite file, HTTP over loopback.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, guardGet, postJson, startGatewayProcess, tempDir, until, type GatewayProcess } from './helpers.js';

interface PublicEvent {
  id: string;
  outcome: string;
  reasons: { code: string; zh: string; en: string }[];
  temperature: number | null;
  credential: string;
}

const site = `it-${randomBytes(4).toString('hex')}`;
let gw: GatewayProcess;
let sub: mqtt.MqttClient;
const received: { topic: string; payload: string; retain: boolean }[] = [];

async function events(): Promise<PublicEvent[]> {
  const res = await guardGet(gw, '/api/events?limit=100');
  expect(res.status).toBe(200);
  return ((await res.json()) as { events: PublicEvent[] }).events;
}

/** Scan a pass with the given readings (before and after the scan) and return the new event. */
async function passage(pass: string, before: number[], after: number[] = []): Promise<PublicEvent> {
  const known = new Set((await events()).map((e) => e.id));
  for (const c of before) expect((await postJson(`${gw.url}/api/sim/lanes/in-1/temperature`, { celsius: c })).status).toBe(202);
  expect((await postJson(`${gw.url}/api/sim/lanes/in-1/scan`, { payload: pass })).status).toBe(202);
  for (const c of after) {
    await until('the lane to ask for a measurement', async () => {
      const res = (await (await fetch(`${gw.url}/api/lanes`)).json()) as { lanes: { state: string }[] };
      return res.lanes[0]?.state === 'measuring' ? true : undefined;
    });
    expect((await postJson(`${gw.url}/api/sim/lanes/in-1/temperature`, { celsius: c })).status).toBe(202);
  }
  return until('the decision in /api/events', async () => (await events()).find((e) => !known.has(e.id)));
}

async function issue(...args: string[]): Promise<string> {
  const { stdout } = await cli(['pass', 'issue', ...args]);
  const lines = stdout.trim().split('\n');
  expect(lines).toHaveLength(1); // only the pass on stdout
  return lines[0]!;
}

beforeAll(async () => {
  sub = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { clientId: `it-sub-${site}` });
  sub.on('message', (topic, payload, packet) => received.push({ topic, payload: payload.toString(), retain: packet.retain }));
  await sub.subscribeAsync(`checkpoints/${site}/#`, { qos: 1 });
  gw = await startGatewayProcess({ site });
});

afterAll(async () => {
  const code = await gw?.stop();
  expect(code).toBe(0);
  await sub?.endAsync();
});

describe('the gateway end to end', () => {
  it('reports itself online on MQTT and healthy on /healthz', async () => {
    // JSON birth message; the first one may predate the lanes, a later one lists them.
    const status = await until('retained online status with the lanes', () =>
      received.find((m) => m.topic === `checkpoints/${site}/mine-entrance/status` && m.payload.includes('"state":"online"') && m.payload.includes('"id":"in-1"')),
    );
    expect(JSON.parse(status.payload)).toMatchObject({ v: 1, state: 'online', site, checkpoint: 'mine-entrance', lanes: [{ id: 'in-1' }] });
    const health = (await (await fetch(`${gw.url}/healthz`)).json()) as { status: string; mqtt: { state: string; embedded: boolean } };
    expect(health.status).toBe('ok');
    expect(health.mqtt).toMatchObject({ state: 'connected', embedded: false });
  });

  it('admits a CLI-issued pass at 36.5 °C, pulses the relay, records and publishes it without the name', async () => {
    const pass = await issue('--name', '张三丰', '--sub', 'it-person-1');
    const event = await passage(pass, [36.5]);
    expect(event).toMatchObject({ outcome: 'admit', temperature: 36.5, credential: 'health-pass', reasons: [] });

    const relay = (await (await fetch(`${gw.url}/api/sim/lanes/in-1/relay`)).json()) as { pulses: { ms: number }[] };
    expect(relay.pulses).toEqual([expect.objectContaining({ ms: 700 })]);

    const msg = await until('the event on MQTT', () => received.find((m) => m.topic.endsWith('/events') && m.payload.includes(event.id)));
    expect(msg.topic).toBe(`checkpoints/${site}/mine-entrance/events`);
    const payload = JSON.parse(msg.payload) as Record<string, unknown>;
    expect(payload).toMatchObject({ id: event.id, outcome: 'admit', lane: 'in-1', temperature: 36.5 });
    expect(payload.subject).toMatch(/^p1_/);
    expect(msg.payload).not.toContain('张三丰');
    expect(msg.payload).not.toContain('it-person-1');
    expect(JSON.stringify(await events())).not.toContain('张三丰');
  });

  it('refuses each bad pass with its own reason code and never opens the gate for them', async () => {
    const forgerDir = tempDir('forger-');
    await cli(['keys', 'generate', '--kid', 'demo-issuer-1', '--out', forgerDir]);
    const cases: [string, Promise<string>, number[], number[]][] = [
      ['HEALTH_CODE_RED', issue('--health-code', 'red'), [36.5], []],
      ['TEST_EXPIRED', issue('--test-age-hours', '49'), [36.5], []],
      ['TEMP_FEVER', issue(), [37.6], [37.6]],
      ['PASS_SIGNATURE_INVALID', issue('--key', path.join(forgerDir, 'demo-issuer-1.private.jwk.json')), [36.5], []],
      ['PASS_EXPIRED', issue('--issued-hours-ago', '30'), [36.5], []],
    ];
    for (const [code, pass, before, after] of cases) {
      const event = await passage(await pass, before, after);
      expect(event.outcome, code).toBe('refuse');
      expect(event.reasons.map((r) => r.code)).toEqual([code]);
      expect(event.reasons[0]?.zh.length).toBeGreaterThan(0);
    }
    const relay = (await (await fetch(`${gw.url}/api/sim/lanes/in-1/relay`)).json()) as { pulses: unknown[] };
    expect(relay.pulses).toHaveLength(1); // only the admitted person of the test above
  });

  it('keeps the ledger in the SQLite file, readable with the CLI', async () => {
    const { stdout } = await cli(['events', '--json', '--limit', '10'], { GATEWAY_CONFIG: path.join(gw.dir, 'gateway.yaml') });
    const rows = stdout.trim().split('\n').map((l) => JSON.parse(l) as { outcome: string; subjectName?: string });
    expect(rows.map((r) => r.outcome)).toEqual(['refuse', 'refuse', 'refuse', 'refuse', 'refuse', 'admit']);
    expect(stdout).not.toContain('张三丰');
  });
});
