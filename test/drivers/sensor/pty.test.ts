// The real serial transport over a socat pty pair: the passage sensor built from its
// configuration (supervised SerialLink) on one end, the byte-exact module simulator on
// the other. Only transitions are checked, never how long they took.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ModbusInputSim } from '../../../drivers/sensor/modbus-input.sim.js';
import { SerialLink } from '../../../drivers/transport/serial.js';
import type { PassageEvent } from '../../../drivers/types.js';
import { passageSensorConfig } from '../../../gateway/config/device-schema.js';
import { buildPassageSensor } from '../../../gateway/devices.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function waitFor(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function startSocat(a: string, b: string): ChildProcess {
  // socat is a test dependency (.ci/run installs it): missing, the test fails and says so.
  if (!['/usr/bin/socat', '/bin/socat', '/usr/local/bin/socat'].some((p) => existsSync(p))) {
    throw new Error('socat is not installed: apt-get install socat (.ci/run does it)');
  }
  return spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
}

describe('passage sensor over a socat pty pair', () => {
  it('counts a person walking through the beam of a simulated module on the far end of a real serial port', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sensor-pty-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const hostPath = path.join(dir, 'host');
    const devPath = path.join(dir, 'dev');
    const socat = startSocat(hostPath, devPath);
    cleanup.push(() => void socat.kill('SIGKILL'));
    await waitFor(() => existsSync(hostPath) && existsSync(devPath), 'pty links');

    const devLink = new SerialLink({ path: devPath, baudRate: 9600 }, { backoff: { initialMs: 20, maxMs: 200 } });
    const sim = new ModbusInputSim(devLink, { address: 2, beamInput: 3 });
    sim.start();
    await devLink.start();
    cleanup.push(() => devLink.stop(), () => sim.stop());

    const config = passageSensorConfig.parse({ type: 'modbus-input', path: hostPath, address: 2, input: 3 });
    const sensor = buildPassageSensor(config, { logger: pino({ level: 'silent' }) });
    const passages: PassageEvent[] = [];
    sensor.on('passage', (p: PassageEvent) => passages.push(p));
    await sensor.start();
    cleanup.push(() => sensor.stop());
    await waitFor(() => sim.frames.length >= 2, 'the first polls at the module');
    expect(sensor.status.state).toBe('connected');
    expect(sim.frames[0]).toEqual(Buffer.from('0202000200011839', 'hex'));

    await sim.pass(400);
    await waitFor(() => passages.length === 1, 'a passage');
    expect(sensor.status.state).toBe('connected');
    expect(sensor.counters).toMatchObject({ passages: 1, badFrames: 0 });
  });
});
