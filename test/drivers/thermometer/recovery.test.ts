// Issue 10, defects 1 and 2 at driver level, for every serial thermometer type against its
// byte-exact simulator: a module that stops answering goes to 'fault', is probed while
// faulted, and is 'connected' again once it answers; an out-of-range answer is an
// 'invalid' event (the lane asks for a re-measure), never a reading and never silence.
import { describe, expect, it } from 'vitest';
import { Gd60914, GD60914_MODE_BYTES } from '../../../drivers/thermometer/gd60914.js';
import { Gd60914Sim } from '../../../drivers/thermometer/gd60914.sim.js';
import { Lu90614, LU90614_MEASURE } from '../../../drivers/thermometer/lu90614.js';
import { Lu90614Sim } from '../../../drivers/thermometer/lu90614.sim.js';
import { Mlx90614Board, MLX66_QUERY } from '../../../drivers/thermometer/mlx90614-66.js';
import { Mlx66Sim } from '../../../drivers/thermometer/mlx90614-66.sim.js';
import type { SerialThermometer } from '../../../drivers/thermometer/base.js';
import type { ByteSim } from '../../../drivers/scanner/sim-base.js';
import type { MemoryLink } from '../../../drivers/transport/memory-link.js';
import type { InvalidReading } from '../../../drivers/types.js';
import type { ManualTimers } from '../scanner/harness.js';
import { thermometerRig, tick } from './rig.js';

const REPLY_MS = 1000;
const PROBE_MS = 500;

interface Case {
  type: string;
  /** The measure command as it goes on the wire. */
  measure: Buffer;
  make: (host: MemoryLink, timers: ManualTimers) => SerialThermometer<unknown>;
  sim: (device: MemoryLink) => ByteSim;
  /** Make the simulator answer with a value outside the module's range. */
  outOfRange: (sim: ByteSim) => void;
}

const opts = (timers: ManualTimers) => ({ timers, replyTimeoutMs: REPLY_MS, probeIntervalMs: PROBE_MS });

const CASES: Case[] = [
  {
    type: 'lu90614',
    measure: LU90614_MEASURE,
    make: (host, timers) => new Lu90614(host, opts(timers)),
    sim: (device) => new Lu90614Sim(device),
    outOfRange: (sim) => (sim as Lu90614Sim).setOutOfRange(), // FE .. FF FF .. SUM
  },
  {
    type: 'mlx90614-66',
    measure: MLX66_QUERY,
    make: (host, timers) => new Mlx90614Board(host, opts(timers)),
    sim: (device) => new Mlx66Sim(device),
    outOfRange: (sim) => (sim as Mlx66Sim).setTemperature(400), // saturated / beyond 380 °C
  },
  {
    type: 'gd60914',
    measure: Buffer.from([GD60914_MODE_BYTES.forehead]),
    make: (host, timers) => new Gd60914(host, opts(timers)),
    sim: (device) => new Gd60914Sim(device),
    outOfRange: (sim) => (sim as Gd60914Sim).setTemperature(150), // "01500": off the 0–100 °C span
  },
];

/** How many measure commands went out on the wire (host side, bytes as written). */
const measureCommands = (host: MemoryLink, cmd: Buffer) => host.written.filter((w) => w.equals(cmd)).length;

describe.each(CASES)('$type that stops answering and answers again', (c) => {
  it('goes to fault after three silent measures, keeps probing while faulted, and is connected again once the module answers', async () => {
    const { pair, timers, thermo, sim, readings } = await thermometerRig(c.make, c.sim);
    expect(thermo.status.state).toBe('connected');
    sim.setFaults({ silent: true }); // cable still plugged, module quiet
    for (let i = 0; i < 3; i++) {
      thermo.measure();
      timers.advance(REPLY_MS + 1);
    }
    expect(thermo.status.state).toBe('fault');

    // Nobody calls measure() while the lane is out of service: the driver probes by itself.
    const before = measureCommands(pair[0], c.measure);
    timers.advance(10 * (REPLY_MS + PROBE_MS));
    const probes = measureCommands(pair[0], c.measure) - before;
    expect(probes).toBeGreaterThanOrEqual(9);
    expect(thermo.status.state).toBe('fault');

    // The module answers again: the next probe brings the device back, with no reading.
    sim.setFaults({ silent: false });
    timers.advance(REPLY_MS + PROBE_MS);
    await tick();
    await tick();
    expect(thermo.status.state).toBe('connected');
    expect(readings).toEqual([]);

    // And a person's measure works normally afterwards.
    thermo.measure();
    await tick();
    await tick();
    expect(readings).toHaveLength(1);
  });

  it('is not connected when its port opens until the module has answered', async () => {
    const { pair, timers, thermo, sim } = await thermometerRig(c.make, (device) => {
      const s = c.sim(device);
      s.setFaults({ silent: true });
      return s;
    });
    expect(thermo.status).toMatchObject({ state: 'disconnected', detail: 'port open; waiting for the device to answer' });
    timers.advance(3 * (REPLY_MS + PROBE_MS));
    expect(measureCommands(pair[0], c.measure)).toBeGreaterThanOrEqual(3);
    expect(thermo.status.state).toBe('disconnected');
    sim.setFaults({ silent: false });
    timers.advance(REPLY_MS + PROBE_MS);
    await tick();
    await tick();
    expect(thermo.status.state).toBe('connected');
  });

  it('reports an out-of-range answer to a measure as an invalid reading at once, not a reading and not a timeout', async () => {
    const { timers, thermo, sim, readings, faults } = await thermometerRig(c.make, c.sim);
    const invalid: InvalidReading[] = [];
    thermo.on('invalid', (r: InvalidReading) => invalid.push(r));
    c.outOfRange(sim);
    thermo.measure();
    await tick();
    await tick();
    expect(invalid).toEqual([{ at: expect.any(Number), code: 'OUT_OF_RANGE', detail: expect.stringContaining(c.type) }]);
    expect(readings).toEqual([]);
    timers.advance(REPLY_MS + 1);
    expect(faults.map((f) => f.code)).toEqual(['OUT_OF_RANGE']);
    expect(thermo.status.state).toBe('connected');
  });
});
