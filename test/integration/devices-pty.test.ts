// Acceptance over real serial ports: the built gateway process runs a GM65 scanner, an
// LU90614 thermometer, a Modbus relay and a Modbus input module with a passage beam
// (counting the lane's zone) on socat pty pairs; their simulators sit on the
// other ends, in this test process. No timing assertions here: the times of refer and
// pick-up are printed for the report, the test only checks the transitions happen.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModbusRelaySim } from '../../drivers/relay/modbus.sim.js';
import { ModbusPassageSensor } from '../../drivers/sensor/modbus-input.js';
import { ModbusInputSim } from '../../drivers/sensor/modbus-input.sim.js';
import { createSimulator, type ScannerSimulator, type ThermometerSimulator } from '../../drivers/sim/index.js';
import { SerialLink } from '../../drivers/transport/serial.js';
import type { PassageEvent } from '../../drivers/types.js';
import { cli, guardGet, ROOT, startGatewayProcess, tempDir, until, writeConfig, type GatewayProcess } from './helpers.js';

// socat is a test dependency (.ci/run installs it): missing, the tests fail and say so.
const hasSocat = ['/usr/bin/socat', '/bin/socat', '/usr/local/bin/socat'].some((p) => existsSync(p));

interface Pty {
  host: string;
  device: string;
  socat: ChildProcess;
}

const dir = tempDir('devices-pty-');
const ptys = new Map<string, Pty>();
const links: SerialLink[] = [];
let gw: GatewayProcess | undefined;
let scanner: ScannerSimulator;
let thermometer: ThermometerSimulator;
let relay: ModbusRelaySim;
let beam: ModbusInputSim;
let exitBeam: ModbusInputSim;
let configFile: string;

function startSocat(name: string, folder = dir): Promise<Pty> {
  if (!hasSocat) throw new Error('socat is not installed: apt-get install socat (.ci/run does it)');
  const host = path.join(folder, `${name}-host`);
  const device = path.join(folder, `${name}-dev`);
  const socat = spawn('socat', [`pty,raw,echo=0,link=${host}`, `pty,raw,echo=0,link=${device}`], { stdio: 'ignore' });
  const pty = { host, device, socat };
  ptys.set(name, pty);
  return until(`socat links for ${name}`, () => (existsSync(host) && existsSync(device) ? pty : undefined), 5000);
}

async function killSocat(name: string): Promise<void> {
  const pty = ptys.get(name);
  if (!pty || pty.socat.exitCode !== null) return;
  const exited = new Promise((r) => pty.socat.once('exit', r));
  pty.socat.kill('SIGTERM');
  await exited;
}

async function deviceEnd(pty: Pty): Promise<SerialLink> {
  const link = new SerialLink({ path: pty.device, baudRate: 9600 }, { backoff: { initialMs: 50, maxMs: 200 } });
  links.push(link);
  await link.start();
  return link;
}

interface LaneView {
  lane: string;
  state: string;
  since: number;
  devices: Record<string, { state: string }>;
}

async function lane(): Promise<LaneView> {
  const body = (await (await fetch(`${gw!.url}/api/lanes`)).json()) as { lanes: LaneView[] };
  return body.lanes[0]!;
}

async function events(): Promise<{ id: string; outcome: string; reasons: { code: string }[] }[]> {
  const body = (await (await guardGet(gw!, '/api/events?limit=100')).json()) as { events: { id: string; outcome: string; reasons: { code: string }[] }[] };
  return body.events;
}

const FLASH_700MS = Buffer.from('0105020000078db0', 'hex');

describe('real device drivers over socat pty pairs', () => {
  beforeAll(async () => {
    const scan = await startSocat('scanner');
    const temp = await startSocat('thermo');
    const rel = await startSocat('relay');
    const io = await startSocat('beam');
    scanner = createSimulator('gm65', await deviceEnd(scan));
    thermometer = createSimulator('lu90614', await deviceEnd(temp), { celsius: 36.5 });
    // The exit lane's beam is on an input module at address 2 of the relay's RS-485 line.
    const line = await deviceEnd(rel);
    relay = new ModbusRelaySim(line, { profile: 'coils' });
    exitBeam = new ModbusInputSim(line, { address: 2, beamInput: 1 });
    exitBeam.start();
    scanner.start();
    thermometer.start();
    relay.start();
    beam = new ModbusInputSim(await deviceEnd(io), { beamInput: 2 });
    beam.start();

    const site = `pty-${randomBytes(3).toString('hex')}`;
    const config = writeConfig(dir, site);
    configFile = config;
    const lanes = `lanes:
  - id: in-1
    name: 入口 1 / Entrance 1
    relayPulseMs: 700
    scanner: { type: gm65, path: ${scan.host} }
    thermometer: { type: lu90614, path: ${temp.host} }
    relay: { type: modbus, path: ${rel.host}, profile: coils, address: 1, channel: 1 }
    passageSensor: { type: modbus-input, path: ${io.host}, input: 2, pollMs: 20, minActiveMs: 40 }
  - id: out-1
    scanner: { type: sim }
    thermometer: { type: sim }
    relay: { type: sim }
    passageSensor: { type: modbus-input, path: ${rel.host}, address: 2, input: 1, pollMs: 20, minActiveMs: 40 }
`;
    const zones = `  zones:
    - { id: canteen, limit: 40, entryLanes: [in-1], exitLanes: [out-1] }
`;
    writeFileSync(config, readFileSync(config, 'utf8').replace(/^lanes:\n(?:[ -].*\n?)*/m, lanes).replace(/^policy:\n/m, `policy:\n${zones}`));
    gw = await startGatewayProcess({ site, config });
    await until('the lane to be in service', async () => ((await lane()).state === 'idle' ? true : undefined), 10_000);
  });

  afterAll(async () => {
    await gw?.stop();
    scanner?.stop();
    thermometer?.stop();
    relay?.stop();
    beam?.stop();
    exitBeam?.stop();
    for (const l of links.splice(0)) await l.stop();
    for (const name of ptys.keys()) await killSocat(name);
    rmSync(dir, { recursive: true, force: true });
  });

  it('admits a valid pass scanned by the GM65 after the LU90614 measured, and the Modbus relay gets the exact timed-open frame', async () => {
    expect(relay.frames[0]).toEqual(Buffer.from('010500000000cdca', 'hex')); // all-off at start-up
    const { stdout } = await cli(['pass', 'issue', '--name', '张三']);
    const before = new Set((await events()).map((e) => e.id));
    await scanner.present(stdout.trim());
    const decision = await until('a decision', async () => (await events()).find((e) => !before.has(e.id)), 10_000);
    expect(decision.outcome).toBe('admit');
    await until('the flash frame at the relay', () => (relay.frames.some((f) => f.equals(FLASH_700MS)) ? true : undefined), 5000);
    expect(relay.pulses).toEqual([expect.objectContaining({ channel: 1, ms: 700 })]);

    // The drivers' framing counters reach /healthz and /metrics.
    const health = (await (await fetch(`${gw!.url}/healthz`)).json()) as { lanes: { counters?: Record<string, Record<string, number> | null> }[] };
    expect(health.lanes[0]?.counters?.scanner).toMatchObject({ framesOut: expect.any(Number), bytesDiscarded: expect.any(Number), badFrames: 0 });
    expect(health.lanes[0]?.counters?.scanner?.framesOut).toBeGreaterThanOrEqual(1);
    expect(health.lanes[0]?.counters?.relay).toMatchObject({ badFrames: 0 });
    const metrics = await (await guardGet(gw!, '/metrics')).text();
    expect(metrics).toMatch(/checkpoint_device_counter\{lane="[^"]+",device="thermometer",counter="framesOut"\} [1-9]/);
  });

  it('counts the people through the beam on the Modbus input module into the zone, polled over the pty', async () => {
    expect((await lane()).devices['sensor']?.state).toBe('connected');
    const inside = async () => Number(/(\d+) inside/.exec((await cli(['policy', 'zone', 'canteen', '--config', configFile])).stdout)?.[1]);
    const before = await inside();
    await beam.pass(300);
    await new Promise((r) => setTimeout(r, 200)); // the next person a step behind: the beam is clear between them
    await beam.pass(300);
    await until('two passages counted', async () => ((await inside()) === before + 2 ? true : undefined), 10_000);
    expect(beam.frames.length).toBeGreaterThan(10);
    expect(beam.frames[0]).toEqual(Buffer.from('010200010001e80a', 'hex')); // FC02, input 2, quantity 1

    // The exit beam shares the relay's serial line (another lane, address 2): one port, one bus.
    await exitBeam.pass(300);
    await until('one passage counted out', async () => ((await inside()) === before + 1 ? true : undefined), 10_000);
    expect(exitBeam.frames.length).toBeGreaterThan(10);
    expect(relay.frames.every((f) => f[0] === 1)).toBe(true);
  });

  it('refers while the scanner is unplugged and resumes by itself when a new pty appears at the same path', async () => {
    const killedAt = Date.now();
    await killSocat('scanner');
    const down = await until('the lane out of service', async () => {
      const l = await lane();
      return l.state === 'out-of-service' ? l : undefined;
    }, 10_000);
    expect(down.devices['scanner']?.state).toBe('disconnected');
    process.stdout.write(`[devices-pty] scanner socat killed → lane out-of-service after ${down.since - killedAt} ms (gateway clock), seen by polling after ${Date.now() - killedAt} ms\n`);

    // A presentation now reaches nobody and must not open the gate.
    const pulses = relay.pulses.length;
    await scanner.present('whatever').catch(() => undefined);

    // Stay unplugged a while, so the gateway's reopen backoff has grown to its cap.
    await new Promise((r) => setTimeout(r, 2500));
    const restartedAt = Date.now();
    await startSocat('scanner');
    const up = await until('the lane back in service', async () => {
      const l = await lane();
      return l.state === 'idle' ? l : undefined;
    }, 10_000);
    process.stdout.write(`[devices-pty] new scanner socat → lane in service after ${up.since - restartedAt} ms (gateway clock), seen by polling after ${Date.now() - restartedAt} ms\n`);
    expect(relay.pulses.length).toBe(pulses);
  });

  it('refers a scan made while the thermometer is unplugged and keeps the gate shut', async () => {
    await killSocat('thermo');
    await until('the lane out of service', async () => ((await lane()).state === 'out-of-service' ? true : undefined), 10_000);
    // The scanner's own device end reconnected to the new pty; wait until it can write.
    await until('the scanner simulator link', () => (links[0]!.isOpen ? true : undefined), 5000);
    const pulses = relay.pulses.length;
    const before = new Set((await events()).map((e) => e.id));
    const { stdout } = await cli(['pass', 'issue', '--name', '李四']);
    await scanner.present(stdout.trim());
    const decision = await until('a decision', async () => (await events()).find((e) => !before.has(e.id)), 10_000);
    expect(decision.outcome).toBe('refer');
    expect(decision.reasons.map((r) => r.code)).toContain('DEVICE_DOWN_THERMOMETER');
    expect(relay.pulses.length).toBe(pulses);
    await startSocat('thermo');
    await until('the lane back in service', async () => ((await lane()).state === 'idle' ? true : undefined), 10_000);
  });

  it('sends the relay all-off on shutdown and exits cleanly', async () => {
    const frames = relay.frames.length;
    const code = await gw!.stop();
    gw = undefined;
    expect(code).toBe(0);
    expect(relay.frames.slice(frames)).toContainEqual(Buffer.from('010500000000cdca', 'hex'));
  });
});

describe('device commands of the CLI', () => {
  const cliDir = tempDir('devices-cli-');
  afterAll(async () => {
    await killSocat('cli-relay');
    for (const l of links.splice(0)) await l.stop();
    rmSync(cliDir, { recursive: true, force: true });
  });

  it('runs a passage-beam input module simulator on a pty: "pass" typed at it is a passage for the real sensor driver', async () => {
    const pty = await startSocat('cli-beam', cliDir);
    const child = spawn(process.execPath, ['dist/gateway/cli/main.js', 'sim', 'modbus-input', '--port', pty.device, '--address', '3', '--input', '2'], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const sensor = new ModbusPassageSensor(await deviceEnd({ ...pty, device: pty.host }), { address: 3, input: 2, pollMs: 20, minActiveMs: 40 });
    const passages: PassageEvent[] = [];
    sensor.on('passage', (p: PassageEvent) => passages.push(p));
    try {
      await until('the simulator to open its port', () => (stderr.includes('open') ? true : undefined), 10_000);
      await sensor.start();
      await until('the sensor to read the module', () => (sensor.status.state === 'connected' && (sensor.counters['samples'] ?? 0) > 2 ? true : undefined), 5000);
      child.stdin.write('pass 300\n');
      await until('the passage', () => (passages.length === 1 ? true : undefined), 5000);
      expect(stderr).toContain('someone passed the beam');
    } finally {
      await sensor.stop();
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('runs a Modbus relay simulator on a pty that answers the timed-open frame and reports the pulse', async () => {
    const pty = await startSocat('cli-relay', cliDir);
    const child = spawn(process.execPath, ['dist/gateway/cli/main.js', 'sim', 'modbus-relay', '--port', pty.device, '--profile', 'coils'], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await until('the simulator to open its port', () => (stderr.includes('open') ? true : undefined), 10_000);
      const host = await deviceEnd({ ...pty, device: pty.host });
      const replies: Buffer[] = [];
      host.on('data', (d: Buffer) => replies.push(d));
      await host.write(FLASH_700MS);
      await until('the echo', () => (Buffer.concat(replies).equals(FLASH_700MS) ? true : undefined), 5000);
      await until('the pulse line', () => (stdout.includes('pulse channel 1 700 ms') ? true : undefined), 5000);
      expect(stdout).toContain('frame 01 05 02 00 00 07 8d b0');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('refuses a device type that cannot run on a serial port, naming those that can', async () => {
    const { code, stderr } = await cli(['sim', 'dcttech-hid', '--port', '/tmp/none']).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(code).toBe(2);
    expect(stderr).toContain('modbus-relay');
  });

  it('lists devices as JSON lines, each with its kind, path and what a driver makes of it', async () => {
    const { stdout } = await cli(['devices', '--json']);
    for (const line of stdout.split('\n').filter(Boolean)) {
      expect(JSON.parse(line)).toEqual(expect.objectContaining({ kind: expect.stringMatching(/^(serial|hid|input)$/), path: expect.any(String) }));
    }
  });
});
