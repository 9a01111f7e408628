// The rig the serial thermometer tests share: a driver on one end of an in-memory link,
// its simulator on the other, injected manual timers, and the readings and faults it
// emitted. Only how the driver and the simulator are built differs per device.
import type { SerialThermometer } from '../../../drivers/thermometer/base.js';
import type { ByteSim } from '../../../drivers/scanner/sim-base.js';
import type { DriverError } from '../../../drivers/transport/framing.js';
import { linkPair, type MemoryLink } from '../../../drivers/transport/memory-link.js';
import type { ThermometerReading } from '../../../drivers/types.js';
import { ManualTimers } from '../scanner/harness.js';

/** Lets pending link writes and replies run (they are delivered on setImmediate). */
export const tick = () => new Promise((r) => setImmediate(r));

export interface ThermometerRig<T, S> {
  pair: [MemoryLink, MemoryLink];
  timers: ManualTimers;
  thermo: T;
  sim: S;
  readings: ThermometerReading[];
  faults: DriverError[];
}

/**
 * Builds the driver (given the host end and the manual timers) and its simulator, both
 * started, and lets the probe sent on open be answered (the driver is 'connected' only
 * then). The link's `written` keeps the set-up command(s) and that probe.
 */
export async function thermometerRig<T extends SerialThermometer<unknown>, S extends ByteSim>(
  makeThermo: (host: MemoryLink, timers: ManualTimers) => T,
  makeSim: (device: MemoryLink) => S,
): Promise<ThermometerRig<T, S>> {
  const pair = linkPair();
  const timers = new ManualTimers();
  const thermo = makeThermo(pair[0], timers);
  const sim = makeSim(pair[1]);
  const readings: ThermometerReading[] = [];
  const faults: DriverError[] = [];
  thermo.on('reading', (r: ThermometerReading) => readings.push(r));
  thermo.on('fault', (e: DriverError) => faults.push(e));
  sim.start();
  await thermo.start();
  for (let i = 0; i < 5 && thermo.status.state !== 'connected'; i++) await tick();
  return { pair, timers, thermo, sim, readings, faults };
}
