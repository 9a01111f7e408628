import { SimDevice } from '../sim/sim-device.js';
import type { RelayDevice } from '../types.js';

/** A relay that records every command, so tests can see the gate was (not) opened. */
export class SimRelay extends SimDevice implements RelayDevice {
  readonly pulses: { at: number; ms: number }[] = [];
  allOffCount = 0;
  /** Fault knob: make the next commands fail as if the device did not answer. */
  failCommands = false;

  async pulse(ms: number): Promise<void> {
    if (!this.connected || this.failCommands) throw new Error(`sim relay: pulse ${ms} ms not delivered (${this.status.state})`);
    this.pulses.push({ at: this.now(), ms });
  }

  async allOff(): Promise<void> {
    if (!this.connected) throw new Error('sim relay: all-off not delivered (disconnected)');
    this.allOffCount++;
  }
}
