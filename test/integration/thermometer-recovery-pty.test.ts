// Issue 10, defect 1, end to end: the built gateway runs a GM65 scanner and an LU90614
// thermometer on socat pty pairs (simulated relay). The thermometer module stops
// answering with its cable still plugged: three measures time out, the lane goes out of
// service and /healthz says 503. The gateway keeps sending probes to the silent module;
// once it answers again the lane is back in service without a replug or restart, and a
// valid pass is then decided normally. No timing assertions: the pick-up time is printed.
import { readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createSimulator } from '../../drivers/sim/index.js';
import { LU90614_MEASURE } from '../../drivers/thermometer/lu90614.js';
import { SerialLink } from '../../drivers/transport/serial.js';
import { ptyPair, useCleanup } from '../drivers/transport/pty.js';
import { cli, guardGet, startGatewayProcess, until, writeConfig, type GatewayProcess } from './helpers.js';

const WINDOW_MS = 2000;
const c = useCleanup();
let gw: GatewayProcess | undefined;

afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});

async function deviceEnd(path: string): Promise<SerialLink> {
  const link = new SerialLink({ path, baudRate: 9600 }, { backoff: { initialMs: 50, maxMs: 200 } });
  c.push(() => link.stop());
  await link.start();
  return link;
}

interface LaneView {
  state: string;
  since: number;
  devices: Record<string, { state: string }>;
}

describe('a thermometer on a pty that stops answering and answers again (built gateway)', () => {
  it('takes the lane out of service, probes the silent module, brings the lane back once it answers, then admits a valid pass', async () => {
    const dir = c.tempDir('thermo-recovery-');
    const scan = await ptyPair(c, 'scan-');
    const temp = await ptyPair(c, 'temp-');
    const scanner = createSimulator('gm65', await deviceEnd(scan.b));
    const thermoLink = await deviceEnd(temp.b);
    const thermometer = createSimulator('lu90614', thermoLink, { celsius: 36.5 });
    scanner.start();
    thermometer.start();
    c.push(() => scanner.stop(), () => thermometer.stop());
    // Every measure command that reaches the module's end of the line, answered or not.
    let commands = 0;
    thermoLink.on('data', (d: Buffer) => {
      for (let i = d.indexOf(LU90614_MEASURE); i >= 0; i = d.indexOf(LU90614_MEASURE, i + 1)) commands++;
    });

    const site = `thermo-${randomBytes(3).toString('hex')}`;
    const config = writeConfig(dir, site);
    const lanes = `lanes:
  - id: in-1
    temperatureWindowMs: ${WINDOW_MS}
    scanner: { type: gm65, path: ${scan.a} }
    thermometer: { type: lu90614, path: ${temp.a} }
    relay: { type: sim }
`;
    writeFileSync(config, readFileSync(config, 'utf8').replace(/^lanes:\n(?:[ -].*\n?)*/m, lanes));
    gw = await startGatewayProcess({ site, config });
    const url = gw.url;
    const lane = async () => ((await (await fetch(`${url}/api/lanes`)).json()) as { lanes: LaneView[] }).lanes[0]!;
    const events = async () =>
      ((await (await guardGet(gw!, '/api/events?limit=100')).json()) as { events: { id: string; outcome: string; reasons: { code: string }[] }[] }).events;
    const pass = async (name: string) => (await cli(['pass', 'issue', '--name', name])).stdout.trim();
    /** Present a pass and wait for its ledger row. */
    const present = async (payload: string) => {
      const before = new Set((await events()).map((e) => e.id));
      await scanner.present(payload);
      return until('a decision', async () => (await events()).find((e) => !before.has(e.id)), 15_000);
    };
    await until('the lane in service', async () => ((await lane()).state === 'idle' ? true : undefined), 10_000);

    // The module goes quiet, cable still plugged: three passages measure into silence.
    thermometer.setFaults({ silent: true });
    const payload = await pass('张三');
    for (let i = 0; i < 3; i++) {
      const row = await present(payload);
      expect(row.outcome).toBe('refer');
      await until('the lane ready again', async () => ((await lane()).state !== 'measuring' ? true : undefined), 10_000);
    }
    const down = await until('the lane out of service', async () => {
      const l = await lane();
      return l.state === 'out-of-service' ? l : undefined;
    }, 10_000);
    expect(down.devices['thermometer']?.state).toBe('fault');
    expect((await fetch(`${url}/healthz`)).status).toBe(503);

    // Out of service, nobody is measured, yet the gateway keeps asking the module.
    const probesFrom = commands;
    await until('probes reaching the silent module', () => (commands >= probesFrom + 2 ? true : undefined), 10_000);

    // The module answers again: the lane comes back by itself.
    const answeringAt = Date.now();
    thermometer.setFaults({ silent: false });
    const up = await until('the lane back in service', async () => {
      const l = await lane();
      return l.state === 'idle' ? l : undefined;
    }, 10_000);
    expect(up.devices['thermometer']?.state).toBe('connected');
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    process.stdout.write(`[thermometer-recovery] module answering again → lane in service after ${up.since - answeringAt} ms (gateway clock)\n`);

    const decision = await present(await pass('李四'));
    expect(decision.outcome).toBe('admit');
  }, 90_000);
});
