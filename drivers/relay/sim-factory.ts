// The relay simulators that run on a byte link (pty end, in-memory pair), created by
// name for the CLI (`sim modbus-relay --port ...`), tests and benches.
import type { SimLink, SimOptions } from '../scanner/sim-base.js';
import { DriverError } from '../transport/framing.js';
import { LcusRelaySim } from './lcus.sim.js';
import type { ModbusProfile } from './modbus-frames.js';
import { ModbusRelaySim } from './modbus.sim.js';

export const RELAY_SIMULATORS = ['modbus-relay', 'lcus-relay'] as const;
export type RelaySimType = (typeof RELAY_SIMULATORS)[number];

export interface RelaySimOptions extends SimOptions {
  /** Modbus: slave address (default 1) and profile (default coils). */
  address?: number;
  profile?: ModbusProfile;
  channels?: number;
  /** LCUS: answer with feedback frames. */
  feedback?: boolean;
}

export function isRelaySimType(type: string): type is RelaySimType {
  return (RELAY_SIMULATORS as readonly string[]).includes(type);
}

export function createRelaySimulator(type: string, link: SimLink, options: RelaySimOptions = {}): ModbusRelaySim | LcusRelaySim {
  const { profile, address, channels, feedback, ...sim } = options;
  switch (type) {
    case 'modbus-relay':
      return new ModbusRelaySim(link, { ...sim, profile: profile ?? 'coils', ...(address === undefined ? {} : { address }), ...(channels === undefined ? {} : { channels }) });
    case 'lcus-relay':
      return new LcusRelaySim(link, { ...sim, ...(feedback === undefined ? {} : { feedback }), ...(channels === undefined ? {} : { channels }) });
    default:
      throw new DriverError('INVALID_ARGUMENT', `unknown relay simulator ${JSON.stringify(type)}; known: ${RELAY_SIMULATORS.join(', ')}`, 'createRelaySimulator');
  }
}
