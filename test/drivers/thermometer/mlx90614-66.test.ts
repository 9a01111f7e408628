import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  decodeMlx66Reply,
  encodeMlx66Reply,
  MLX66_CONTINUOUS,
  MLX66_QUERY,
  Mlx90614Board,
  type Mlx66Options,
} from '../../../drivers/thermometer/mlx90614-66.js';
import { Mlx66Sim } from '../../../drivers/thermometer/mlx90614-66.sim.js';
import { bytes, hex } from '../scanner/harness.js';
import { thermometerRig, tick } from './rig.js';

const setup = (opts: Mlx66Options = {}) =>
  thermometerRig(
    (host, timers) => new Mlx90614Board(host, { timers, ...opts }),
    (device) => new Mlx66Sim(device, { intervalMs: 100 }),
  );

describe('MLX90614 "66 66" frames (devices.md, both directions)', () => {
  it('has the continuous (01) and query (02) commands 66 66 CMD 56', () => {
    expect(hex(MLX66_CONTINUOUS)).toBe('66660156');
    expect(hex(MLX66_QUERY)).toBe('66660256');
  });

  it('encodes and decodes 66 66 MODE 04 T1H T1L T2H T2L SUM with T1 ambient and T2 object in 0.01 °C', () => {
    const wire = encodeMlx66Reply(24.5, 34.8, 0x02);
    // 24.50 = 0x0992, 34.80 = 0x0D98; sum of bytes 0..7 = 0x212 → 0x12
    expect(hex(wire)).toBe(hex(bytes('66 66 02 04 09 92 0D 98 12')));
    expect(decodeMlx66Reply(wire)).toEqual({ mode: 2, ambient: 24.5, object: 34.8 });
  });
});

describe('Mlx90614Board with its simulator', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('queries with 66 66 02 56 and keeps raw object value, mode and ambient in the reading', async () => {
    const { pair, thermo, readings } = await setup({ offsetC: 2.1 });
    thermo.measure();
    await tick();
    expect(pair[0].written.map(hex)).toEqual(['66660256', '66660256']); // the probe on open, then the query
    expect(readings).toEqual([{ celsius: 36.9, raw: 34.8, mode: 'object', ambient: 24.5, at: expect.any(Number) }]);
  });

  it('asks for continuous output on open and takes the streamed readings', async () => {
    vi.useFakeTimers();
    const { pair, sim, readings, thermo } = await setup({ continuous: true });
    expect(pair[0].written.map(hex)).toEqual(['66660156', '66660256']); // then a probe query
    await vi.advanceTimersByTimeAsync(350);
    expect(readings.length).toBe(3);
    sim.stop();
    await thermo.stop();
  });

  it('reports an object value outside the sensor range, or a saturated field, as a fault, not a reading', async () => {
    const { thermo, sim, readings, faults } = await setup();
    sim.setTemperature(-80);
    thermo.measure();
    await tick();
    sim.setTemperature(1000); // saturates to 0x7FFF on the wire
    thermo.measure();
    await tick();
    expect(readings).toEqual([]);
    expect(faults.map((f) => f.code)).toEqual(['OUT_OF_RANGE', 'OUT_OF_RANGE']);
  });

  it('counts a corrupt checksum and reads through split frames and garbage', async () => {
    const { thermo, sim, readings } = await setup();
    sim.setFaults({ corruptChecksum: true });
    thermo.measure();
    await tick();
    expect(thermo.counters.badFrames).toBe(1);
    sim.setFaults({ corruptChecksum: false, splitFrames: true, garbageBytes: 5 });
    thermo.measure();
    await tick();
    await tick();
    expect(readings.map((r) => r.raw)).toEqual([34.8]);
  });
});
