// One factory for every byte-exact device simulator, so the CLI (`sim <type> --port`),
// the socat integration tests, the demo and benches start them the same way:
//   const sim = createSimulator('gm65', deviceSideLink, { faults: { splitFrames: true } });
//   sim.start(); await sim.present('PASS...');
import type { FakeHidDevice } from '../transport/fake-hid.js';
import { EvdevWedgeSim, type EvdevWedgeSimOptions } from '../scanner/evdev-wedge.sim.js';
import { Gm65Sim, type Gm65SimOptions } from '../scanner/gm65.sim.js';
import { HidPosSim, type HidPosSimOptions } from '../scanner/hid-pos.sim.js';
import { LineScannerSim, type LineScannerSimOptions } from '../scanner/line-scanner.sim.js';
import type { SimFaults, SimLink } from '../scanner/sim-base.js';
import { DriverError } from '../transport/framing.js';
import { Gd60914Sim, type Gd60914SimOptions } from '../thermometer/gd60914.sim.js';
import { Lu90614Sim, type Lu90614SimOptions } from '../thermometer/lu90614.sim.js';
import { Mlx66Sim, type Mlx66SimOptions } from '../thermometer/mlx90614-66.sim.js';

export type { SimFaults, SimLink } from '../scanner/sim-base.js';
export { NO_FAULTS, seededRandom } from '../scanner/sim-base.js';

/** Simulators that sit on a ByteLink (serial / pty / in-memory). */
export const BYTE_SCANNER_SIMULATORS = ['line-scanner', 'gm65', 'evdev-wedge'] as const;
export const THERMOMETER_SIMULATORS = ['lu90614', 'mlx90614-66', 'gd60914'] as const;
/** Simulators that sit on a FakeHidDevice. */
export const HID_SIMULATORS = ['hid-pos'] as const;
export const SIMULATOR_TYPES = [...BYTE_SCANNER_SIMULATORS, ...THERMOMETER_SIMULATORS, ...HID_SIMULATORS] as const;

export type ByteScannerSimType = (typeof BYTE_SCANNER_SIMULATORS)[number];
export type ThermometerSimType = (typeof THERMOMETER_SIMULATORS)[number];
export type HidSimType = (typeof HID_SIMULATORS)[number];
export type SimulatorType = (typeof SIMULATOR_TYPES)[number];

/** What every simulator offers. */
export interface Simulator {
  readonly type: string;
  faults: SimFaults;
  start(): void;
  stop(): void;
  setFaults(faults: Partial<SimFaults>): void;
  unplug(): void;
  replug(): void;
}

export interface ScannerSimulator extends Simulator {
  /** Put a code in front of the scanner (sent at once, or on the host's trigger). */
  present(code: string | Buffer): Promise<void>;
}

export interface ThermometerSimulator extends Simulator {
  /** Temperature the next reply reports, °C (LU90614: undefined = out of range). */
  setTemperature(celsius: number): void;
}

export interface SimulatorOptionsByType {
  'line-scanner': LineScannerSimOptions;
  gm65: Gm65SimOptions;
  'evdev-wedge': EvdevWedgeSimOptions;
  lu90614: Lu90614SimOptions;
  'mlx90614-66': Mlx66SimOptions;
  gd60914: Gd60914SimOptions;
  'hid-pos': HidPosSimOptions;
}

export function isSimulatorType(type: string): type is SimulatorType {
  return (SIMULATOR_TYPES as readonly string[]).includes(type);
}

export function createSimulator(type: HidSimType, link: FakeHidDevice, options?: HidPosSimOptions): HidPosSim;
export function createSimulator<T extends ByteScannerSimType>(type: T, link: SimLink, options?: SimulatorOptionsByType[T]): ScannerSimulator;
export function createSimulator<T extends ThermometerSimType>(type: T, link: SimLink, options?: SimulatorOptionsByType[T]): ThermometerSimulator;
export function createSimulator(type: string, link: SimLink | FakeHidDevice, options?: object): ScannerSimulator | ThermometerSimulator;
export function createSimulator(type: string, link: SimLink | FakeHidDevice, options: object = {}): ScannerSimulator | ThermometerSimulator {
  switch (type) {
    case 'line-scanner':
      return new LineScannerSim(link as SimLink, options);
    case 'gm65':
      return new Gm65Sim(link as SimLink, options);
    case 'evdev-wedge':
      return new EvdevWedgeSim(link as SimLink, options);
    case 'hid-pos':
      return new HidPosSim(link as FakeHidDevice, options);
    case 'lu90614':
      return new Lu90614Sim(link as SimLink, options);
    case 'mlx90614-66':
      return new Mlx66Sim(link as SimLink, options);
    case 'gd60914':
      return new Gd60914Sim(link as SimLink, options);
    default:
      throw new DriverError('INVALID_ARGUMENT', `unknown simulator type ${JSON.stringify(type)}; known: ${SIMULATOR_TYPES.join(', ')}`, 'createSimulator');
  }
}
