// The real serial transport over a socat pty pair: the passage sensor built from its
// configuration (supervised SerialLink) on one end, the byte-exact module simulator on
// the other. Only transitions are checked, never how long they took.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ModbusInputSim } from '../../../drivers/sensor/modbus-input.sim.js';
import { SerialLink } from '../../../drivers/transport/serial.js';
import type { PassageEvent } from '../../../drivers/types.js';
import { passageSensorConfig } from '../../../gateway/config/device-schema.js';
import { buildPassageSensor } from '../../../gateway/devices.js';
import { ptyPair, useCleanup, waitFor } from '../transport/pty.js';

const cleanup = useCleanup();

describe('passage sensor over a socat pty pair', () => {
  it('counts a person walking through the beam of a simulated module on the far end of a real serial port', async () => {
    const { a: hostPath, b: devPath } = await ptyPair(cleanup, 'sensor-pty-');

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
