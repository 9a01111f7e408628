import { afterEach, describe, expect, it, vi } from 'vitest';
import { ModbusInputSim } from '../../../drivers/sensor/modbus-input.sim.js';
import { SimPassageSensor } from '../../../drivers/sensor/sim-sensor.js';
import { withModbusCrc } from '../../../drivers/transport/framing.js';
import { linkPair } from '../../../drivers/transport/memory-link.js';
import type { DeviceStatus, PassageEvent } from '../../../drivers/types.js';

const hex = (s: string) => Buffer.from(s.replace(/ /g, ''), 'hex');

afterEach(() => {
  vi.useRealTimers();
});

describe('Modbus input module simulator', () => {
  it('answers 01 02 00 00 00 08 79 CC with 01 02 01 01 60 48 while the beam on input 1 is broken', async () => {
    const [host, dev] = linkPair();
    const sim = new ModbusInputSim(dev);
    sim.start();
    sim.setBeam(true);
    await host.write(hex('01 02 00 00 00 08 79 CC'));
    expect(dev.writtenBytes()).toEqual(hex('01 02 01 01 60 48'));
    sim.setBeam(false);
    await host.write(hex('01 02 00 00 00 01 B9 CA'));
    expect(dev.written.at(-1)).toEqual(hex('01 02 01 00 A1 88'));
    expect(sim.frames).toHaveLength(2);
  });

  it('answers an input the module does not have with exception 2, and another function with exception 1', async () => {
    const [host, dev] = linkPair();
    const sim = new ModbusInputSim(dev, { inputs: 4 });
    sim.start();
    await host.write(hex('01 02 00 00 00 08 79 CC'));
    expect(dev.written.at(-1)).toEqual(hex('01 82 02 C1 61'));
    await host.write(hex('01 01 00 00 00 08 3D CC'));
    expect(dev.written.at(-1)!.subarray(0, 3)).toEqual(hex('01 81 01'));
  });

  it('stays quiet when silent, ignores other slave addresses, and breaks the CRC on demand', async () => {
    const [host, dev] = linkPair();
    const sim = new ModbusInputSim(dev, { address: 2 });
    sim.start();
    await host.write(hex('01 02 00 00 00 08 79 CC'));
    expect(dev.written).toEqual([]);
    sim.setFaults({ silent: true });
    const req = Buffer.from(hex('02 02 00 00 00 01'));
    await host.write(withModbusCrc(req));
    expect(dev.written).toEqual([]);
    sim.setFaults({ silent: false, corruptChecksum: true });
    await host.write(withModbusCrc(req));
    expect(dev.written).toHaveLength(1);
    expect(dev.written[0]).not.toEqual(withModbusCrc(hex('02 02 01 00')));
  });

  it('maps an active-low beam to input level 0 while broken', () => {
    const [, dev] = linkPair();
    const sim = new ModbusInputSim(dev, { beamInput: 3, activeLow: true });
    expect(sim.inputs[2]).toBe(true);
    sim.setBeam(true);
    expect(sim.inputs[2]).toBe(false);
    expect(sim.beamBroken).toBe(true);
  });

  it('breaks the beam for the given time when a person passes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const [, dev] = linkPair();
    const sim = new ModbusInputSim(dev);
    const passing = sim.pass(300);
    expect(sim.beamBroken).toBe(true);
    await vi.advanceTimersByTimeAsync(300);
    await passing;
    expect(sim.beamBroken).toBe(false);
  });
});

describe('simulated passage sensor of the demo', () => {
  it('emits a passage now or at the given time while connected', async () => {
    const s = new SimPassageSensor(() => 1234);
    const got: PassageEvent[] = [];
    s.on('passage', (p: PassageEvent) => got.push(p));
    await s.start();
    expect(s.pass()).toBe(true);
    expect(s.pass(999)).toBe(true);
    expect(got).toEqual([{ at: 1234 }, { at: 999 }]);
    expect(s.passages).toEqual(got);
  });

  it('ignores passes while unplugged or broken, and reports the state it was set to', async () => {
    const s = new SimPassageSensor();
    const states: DeviceStatus[] = [];
    s.on('status', (st: DeviceStatus) => states.push(st));
    expect(s.pass()).toBe(false); // not started
    await s.start();
    s.setState('fault', 'beam misaligned');
    expect(s.pass()).toBe(false);
    expect(s.status).toMatchObject({ type: 'sim', state: 'fault', detail: 'beam misaligned' });
    s.setState('connected');
    expect(s.pass()).toBe(true);
    expect(states.map((x) => x.state)).toEqual(['connected', 'fault', 'connected']);
  });
});
