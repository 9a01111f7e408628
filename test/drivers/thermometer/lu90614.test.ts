import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  decodeLu90614Reply,
  encodeLu90614Reply,
  Lu90614,
  LU90614_BODY_MODE,
  LU90614_MEASURE,
  LU90614_OBJECT_MODE,
  lu90614Framer,
  type Lu90614Options,
} from '../../../drivers/thermometer/lu90614.js';
import { Lu90614Sim, type Lu90614SimOptions } from '../../../drivers/thermometer/lu90614.sim.js';
import type { DriverError } from '../../../drivers/transport/framing.js';
import { linkPair, replug, unplug } from '../../../drivers/transport/memory-link.js';
import type { DeviceStatus, ThermometerReading } from '../../../drivers/types.js';
import { bytes, hex, ManualTimers } from '../scanner/harness.js';
import { thermometerRig, tick } from './rig.js';

const setup = (opts: Lu90614Options = {}, simOpts: Lu90614SimOptions = {}) =>
  thermometerRig(
    (host, timers) => new Lu90614(host, { timers, ...opts }),
    (device) => new Lu90614Sim(device, simOpts),
  );

describe('LU90614 frames (devices.md examples, both directions)', () => {
  it('has the body-mode, object-mode and measure commands with their sum checksums', () => {
    expect(hex(LU90614_BODY_MODE)).toBe('fac5bf');
    expect(hex(LU90614_OBJECT_MODE)).toBe('fac6c0');
    expect(hex(LU90614_MEASURE)).toBe('facac4');
  });

  it('encodes 36.60 °C as FE .. 24 3C .. SUM and decodes it back', () => {
    const wire = encodeLu90614Reply(36.6);
    expect(hex(wire)).toBe('fe00243c000000005e');
    expect(decodeLu90614Reply(wire)).toBe(36.6);
  });

  it('encodes and decodes FF FF in bytes 2-3 as out of range', () => {
    const wire = encodeLu90614Reply(undefined);
    expect(hex(wire)).toBe('fe00ffff00000000fc');
    expect(decodeLu90614Reply(wire)).toBe('out-of-range');
  });

  it('accepts a reply only when byte 8 is the low byte of the sum of bytes 0..7', () => {
    const f = lu90614Framer({ timers: new ManualTimers() });
    const got: string[] = [];
    f.on('frame', (x) => got.push(hex(x)));
    f.push(bytes('FE 00 24 3C 00 00 00 00 5F'));
    f.push(bytes('FE 00 24 3C 00 00 00 00 5E'));
    expect(got).toEqual(['fe00243c000000005e']);
    expect(f.counters.badFrames).toBe(1);
  });
});

describe('Lu90614 with its simulator', () => {
  it('selects body mode on open, probes once with FA CA C4 (no reading) and sends FA CA C4 per measure(), yielding raw, mode and compensated value', async () => {
    const { pair, thermo, readings, sim } = await setup({ offsetC: 0.3 });
    thermo.measure();
    await tick();
    expect(pair[0].written.map(hex)).toEqual(['fac5bf', 'facac4', 'facac4']);
    expect(sim.measureCommands).toBe(2);
    expect(readings).toEqual([{ celsius: 36.9, raw: 36.6, mode: 'body', at: expect.any(Number) }]);
  });

  it('selects object mode when configured', async () => {
    const { pair, thermo, readings } = await setup({ mode: 'object' }, { celsius: 36.6 });
    thermo.measure();
    await tick();
    expect(hex(pair[0].written[0] ?? Buffer.alloc(0))).toBe('fac6c0');
    expect(readings[0]).toMatchObject({ raw: 34.5, mode: 'object' });
  });

  it('reports out of range as a fault event, never as a reading', async () => {
    const { thermo, sim, readings, faults } = await setup();
    sim.setOutOfRange();
    thermo.measure();
    await tick();
    expect(readings).toEqual([]);
    expect(faults.map((f) => f.code)).toEqual(['OUT_OF_RANGE']);
    expect(thermo.counters.faults).toBe(1);
  });

  it('counts a reply timeout with no reading, turns to fault after three, and recovers on the next reply', async () => {
    const { thermo, sim, readings, faults, timers } = await setup({ replyTimeoutMs: 500 });
    sim.setFaults({ silent: true });
    for (let i = 0; i < 3; i++) {
      thermo.measure();
      timers.advance(501);
    }
    expect(readings).toEqual([]);
    expect(faults.map((f) => f.code)).toEqual(['REPLY_TIMEOUT', 'REPLY_TIMEOUT', 'REPLY_TIMEOUT']);
    expect(thermo.counters.replyTimeouts).toBe(3);
    expect(thermo.status.state).toBe('fault');
    sim.setFaults({ silent: false });
    thermo.measure();
    await tick();
    expect(readings).toHaveLength(1);
    expect(thermo.status.state).toBe('connected');
  });

  it('ignores a reply with a corrupt checksum: bad frame counted, then the reply timeout', async () => {
    const { thermo, sim, readings, timers } = await setup({ replyTimeoutMs: 500 });
    sim.setFaults({ corruptChecksum: true });
    thermo.measure();
    await tick();
    timers.advance(501);
    expect(readings).toEqual([]);
    expect(thermo.counters.badFrames).toBe(1);
    expect(thermo.counters.replyTimeouts).toBe(1);
  });

  it('reads through garbage and split frames', async () => {
    const { thermo, sim, readings } = await setup({}, { faults: { garbageBytes: 7, splitFrames: true } });
    for (const c of [36.1, 37.45, 38.09]) {
      sim.setTemperature(c);
      thermo.measure();
      await tick();
      await tick();
    }
    expect(readings.map((r) => r.celsius)).toEqual([36.1, 37.45, 38.09]);
  });

  it('goes disconnected on unplug, faults measure() with LINK_CLOSED, and re-selects the mode on replug', async () => {
    const { pair, thermo, faults, readings } = await setup();
    unplug(pair);
    expect(thermo.status.state).toBe('disconnected');
    thermo.measure();
    expect(faults.map((f) => f.code)).toEqual(['LINK_CLOSED']);
    const states: string[] = [];
    thermo.on('status', (s: DeviceStatus) => states.push(`${s.state}${s.detail ? `: ${s.detail}` : ''}`));
    replug(pair);
    await tick();
    // The port opening is not enough: up only once the module answered the probe.
    expect(states).toEqual(['disconnected: port open; waiting for the device to answer', 'connected']);
    thermo.measure();
    await tick();
    expect(pair[0].written.map(hex)).toEqual(['fac5bf', 'facac4', 'fac5bf', 'facac4', 'facac4']);
    expect(readings).toHaveLength(1);
  });

  it('drops a slow reply that comes after its timeout instead of taking it as a reading (global fake timers)', async () => {
    // Its own rig, not setup(): the driver runs on the global fake timers, not ManualTimers.
    vi.useFakeTimers();
    const pair = linkPair();
    const thermo = new Lu90614(pair[0], { replyTimeoutMs: 1000 });
    const sim = new Lu90614Sim(pair[1]);
    const readings: ThermometerReading[] = [];
    const faults: string[] = [];
    thermo.on('reading', (r: ThermometerReading) => readings.push(r));
    thermo.on('fault', (e: DriverError) => faults.push(e.code));
    sim.start();
    await thermo.start();
    await vi.advanceTimersByTimeAsync(10); // the probe on open is answered
    expect(thermo.status.state).toBe('connected');
    sim.setFaults({ slowMs: 1500 });
    thermo.measure();
    await vi.advanceTimersByTimeAsync(1001);
    expect(faults).toEqual(['REPLY_TIMEOUT']);
    await vi.advanceTimersByTimeAsync(600);
    expect(sim.sent).toHaveLength(2);
    expect(readings).toEqual([]);
    expect(thermo.counters.lateReplies).toBe(1);
    sim.setFaults({ slowMs: 200 });
    thermo.measure();
    await vi.advanceTimersByTimeAsync(250);
    expect(readings.map((r) => r.raw)).toEqual([36.6]);
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('refuses an implausible calibration offset with a coded error', () => {
    const [host] = linkPair();
    expect(() => new Lu90614(host, { offsetC: 9 })).toThrow(/\[INVALID_ARGUMENT\]/);
  });
});
