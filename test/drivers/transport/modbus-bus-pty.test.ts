// A gate relay and a passage beam on ONE real serial port (a socat pty pair), built from
// a lane's configuration: the gateway gives both drivers a channel of one ModbusBus. On
// the device end, the relay board and the input module either sit at two addresses of
// one RS-485 line, or are one "Relay (D)" board answering both at one address. The beam
// is polled every 20 ms while the relay is pulsed: the pulse must arrive exactly, every
// person must be counted. Only transitions are checked, never how long they took.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { coilFlash } from '../../../drivers/relay/modbus-frames.js';
import type { ModbusRelay } from '../../../drivers/relay/modbus.js';
import { ModbusRelaySim } from '../../../drivers/relay/modbus.sim.js';
import type { ModbusPassageSensor } from '../../../drivers/sensor/modbus-input.js';
import { ModbusInputSim } from '../../../drivers/sensor/modbus-input.sim.js';
import { SerialLink } from '../../../drivers/transport/serial.js';
import type { PassageEvent } from '../../../drivers/types.js';
import { passageSensorConfig, relayConfig, scannerConfig, sharedDeviceIssues, thermometerConfig } from '../../../gateway/config/device-schema.js';
import { buildPassageSensor, createRelay, SharedModbusPorts } from '../../../gateway/devices.js';
import { ptyPair, useCleanup, waitFor, type Cleanup } from './pty.js';
import { relayDBoard } from './relay-d-board.js';

const cleanup = useCleanup();

async function sharedPort(c: Cleanup): Promise<{ host: string; device: SerialLink }> {
  const { a: host, b: dev } = await ptyPair(c, 'modbus-bus-pty-');
  const device = new SerialLink({ path: dev, baudRate: 9600 }, { backoff: { initialMs: 20, maxMs: 200 } });
  c.push(() => device.stop());
  return { host, device };
}

/** The relay and the sensor of one lane, both on `host`, built as the gateway builds them, started. */
async function laneOn(host: string, relay: { address: number; channel: number }, sensor: { address: number; input: number }) {
  const lane = {
    scanner: scannerConfig.parse({ type: 'sim' }),
    thermometer: thermometerConfig.parse({ type: 'sim' }),
    relay: relayConfig.parse({ type: 'modbus', path: host, profile: 'coils', ...relay, pollMs: 200 }),
    passageSensor: passageSensorConfig.parse({ type: 'modbus-input', path: host, ...sensor, pollMs: 20, minActiveMs: 40 }),
  };
  expect(sharedDeviceIssues([lane])).toEqual([]);
  const logger = pino({ level: 'silent' });
  const deps = { logger, sharedPorts: new SharedModbusPorts([lane]) };
  const gate = createRelay(lane.relay, deps, logger);
  const beam = buildPassageSensor(lane.passageSensor, deps);
  const passages: PassageEvent[] = [];
  beam.on('passage', (p: PassageEvent) => passages.push(p));
  await Promise.all([gate.start(), beam.start()]);
  cleanup.push(
    () => gate.stop(),
    () => beam.stop(),
  );
  return { gate: gate as ModbusRelay, beam: beam as ModbusPassageSensor, passages };
}

/** Three people through the beam while the gate is pulsed once, in the middle of it. */
async function pulseWhilePassing(lane: Awaited<ReturnType<typeof laneOn>>, inputs: ModbusInputSim, relays: ModbusRelaySim, channel: number) {
  expect(lane.gate.status.state).toBe('connected');
  await waitFor(() => inputs.frames.length >= 3, 'polls at the input module');
  // A clear gap of several polls between people, so each is a run of its own.
  const gap = () => new Promise((r) => setTimeout(r, 150));
  await inputs.pass(200);
  await gap();
  const pulse = lane.gate.pulse(700);
  await inputs.pass(200);
  await pulse;
  await gap();
  await inputs.pass(200);
  await waitFor(() => lane.passages.length === 3, `three passages (counters ${JSON.stringify(lane.beam.counters)})`);

  const flash = coilFlash(relays.address, channel, 700);
  expect(relays.frames.filter((f) => f.equals(flash))).toHaveLength(1);
  expect(relays.pulses).toEqual([expect.objectContaining({ channel, ms: 700 })]);
  expect(lane.gate.status.state).toBe('connected');
  expect(lane.beam.status.state).toBe('connected');
  expect(lane.beam.counters).toMatchObject({ passages: 3, badFrames: 0, lateReplies: 0 });
  expect(lane.gate.counters).toMatchObject({ badFrames: 0 });
}

describe('a relay and a passage sensor sharing one serial port (socat pty)', () => {
  it('pulses the relay board at address 1 exactly once and counts every person at the input module at address 2, polled every 20 ms', async () => {
    const { host, device } = await sharedPort(cleanup);
    const relays = new ModbusRelaySim(device, { address: 1, profile: 'coils' });
    const inputs = new ModbusInputSim(device, { address: 2, beamInput: 3 });
    relays.start();
    inputs.start();
    cleanup.push(() => relays.stop(), () => inputs.stop());
    await device.start();

    const lane = await laneOn(host, { address: 1, channel: 1 }, { address: 2, input: 3 });
    await pulseWhilePassing(lane, inputs, relays, 1);
    // Each request reached only the module it was for (the other one's framer skips it).
    expect(relays.frames.every((f) => f[0] === 1)).toBe(true);
    expect(inputs.frames.every((f) => f[0] === 2 && f[1] === 2)).toBe(true);
  });

  it('drives the relays and reads the inputs of one Relay (D) board at one address', async () => {
    const { host, device } = await sharedPort(cleanup);
    const board = relayDBoard(device, { address: 1, profile: 'coils', beamInput: 1 });
    board.start();
    cleanup.push(() => board.stop());
    await device.start();

    const lane = await laneOn(host, { address: 1, channel: 2 }, { address: 1, input: 1 });
    await pulseWhilePassing(lane, board.inputs, board.relays, 2);
    // The board never had to refuse a request: no exception replies.
    expect([...board.relays.sent, ...board.inputs.sent].filter((f) => (f[1]! & 0x80) !== 0)).toEqual([]);
  });
});
