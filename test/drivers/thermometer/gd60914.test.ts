import { describe, expect, it } from 'vitest';
import {
  encodeGd60914Reply,
  Gd60914,
  Gd60914Framer,
  GD60914_SINGLE,
  parseGd60914Reply,
  type Gd60914Options,
} from '../../../drivers/thermometer/gd60914.js';
import { Gd60914Sim } from '../../../drivers/thermometer/gd60914.sim.js';
import { replug, unplug } from '../../../drivers/transport/memory-link.js';
import { hex, ManualTimers } from '../scanner/harness.js';
import { thermometerRig, tick } from './rig.js';

// The simulator starts with single-shot mode off, so the driver must arm it (A1).
const setup = (opts: Gd60914Options = {}) =>
  thermometerRig(
    (host, timers) => new Gd60914(host, { timers, ...opts }),
    (device) => new Gd60914Sim(device, { singleShotArmed: false }),
  );

describe('GD60914 frames (devices.md, both directions)', () => {
  it('sends A1 for single-shot mode, then AB (forehead) or AC (wrist)', async () => {
    expect(hex(GD60914_SINGLE)).toBe('a1');
    const forehead = await setup();
    forehead.thermo.measure();
    const wrist = await setup({ mode: 'wrist' });
    wrist.thermo.measure();
    expect(forehead.pair[0].written.map(hex)).toEqual(['a1', 'ab', 'ab']); // set-up, probe, measure
    expect(wrist.pair[0].written.map(hex)).toEqual(['a1', 'ac', 'ac']);
    // device side decodes them: single-shot armed by A1, then a wrist measurement
    await tick();
    expect(wrist.sim.singleShot).toBe(true);
    expect(wrist.sim.lastMode).toBe('wrist');
    expect(wrist.readings.map((r) => r.mode)).toEqual(['wrist']);
  });

  it('encodes 36.6 °C as 7 ASCII characters in 0.1 °C and parses them back', () => {
    const wire = encodeGd60914Reply(36.6);
    expect(wire.toString('latin1')).toBe('00366\r\n');
    expect(wire).toHaveLength(7);
    expect(parseGd60914Reply(wire)).toBe(36.6);
    expect(parseGd60914Reply(Buffer.from('  366\r\n', 'latin1'))).toBe(36.6);
    expect(parseGd60914Reply(Buffer.from('+0372  ', 'latin1'))).toBe(37.2);
  });

  it('refuses a reply whose shape is wrong (digits after the line end, no digits)', () => {
    expect(parseGd60914Reply(Buffer.from('66\r\n003', 'latin1'))).toBeUndefined();
    expect(parseGd60914Reply(Buffer.from('  \r\n   ', 'latin1'))).toBeUndefined();
    const f = new Gd60914Framer({ timers: new ManualTimers() });
    const got: string[] = [];
    f.on('frame', (x) => got.push(x.toString('latin1')));
    f.push(Buffer.from('00\xff66\r\n00371\r\n', 'latin1'));
    expect(got).toEqual(['00371\r\n']);
  });
});

describe('Gd60914 with its simulator', () => {
  it('yields raw value, mode and compensated value', async () => {
    const { thermo, sim, readings } = await setup({ offsetC: -0.2 });
    sim.setTemperature(36.9);
    thermo.measure();
    await tick();
    expect(sim.lastMode).toBe('forehead');
    expect(readings).toEqual([{ celsius: 36.7, raw: 36.9, mode: 'forehead', at: expect.any(Number) }]);
  });

  it('never turns a corrupted reply into a reading', async () => {
    const { thermo, sim, readings, timers, faults } = await setup();
    sim.setFaults({ corruptChecksum: true });
    for (let i = 0; i < 5; i++) {
      thermo.measure();
      await tick();
      timers.advance(1001);
    }
    expect(readings).toEqual([]);
    expect(faults.every((f) => f.code === 'REPLY_TIMEOUT')).toBe(true);
  });

  it('reports a value beyond the module span as out of range', async () => {
    const { thermo, sim, readings, faults } = await setup();
    sim.setTemperature(150);
    thermo.measure();
    await tick();
    expect(readings).toEqual([]);
    expect(faults.map((f) => f.code)).toEqual(['OUT_OF_RANGE']);
  });

  it('reads through split frames and garbage, and re-arms single-shot mode after a replug', async () => {
    const { pair, thermo, sim, readings } = await setup();
    sim.setFaults({ splitFrames: true, garbageBytes: 4 });
    thermo.measure();
    await tick();
    await tick();
    unplug(pair);
    sim.singleShot = false; // a power cycle forgets the mode
    replug(pair);
    await tick();
    thermo.measure();
    await tick();
    await tick();
    expect(readings.map((r) => r.raw)).toEqual([36.5, 36.5]);
    expect(pair[0].written.map(hex)).toEqual(['a1', 'ab', 'ab', 'a1', 'ab', 'ab']);
  });
});
