// Shared behaviour of the simulated devices: a status that tests and the demo can
// flip (unplug, fault) to exercise the lane's fail-secure paths.
import { EventEmitter } from 'node:events';
import type { DeviceState, DeviceStatus } from '../types.js';

export class SimDevice extends EventEmitter {
  #status: DeviceStatus;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    super();
    this.#now = now;
    this.#status = { type: 'sim', state: 'disconnected', since: now() };
  }

  get status(): DeviceStatus {
    return this.#status;
  }

  async start(): Promise<void> {
    this.setState('connected');
  }

  async stop(): Promise<void> {
    this.setState('disconnected', 'stopped');
  }

  /** Fault knob: unplug ('disconnected'), break ('fault') or replug ('connected'). */
  setState(state: DeviceState, detail?: string): void {
    if (state === this.#status.state && detail === this.#status.detail) return;
    this.#status = { type: 'sim', state, since: this.#now(), ...(detail === undefined ? {} : { detail }) };
    this.emit('status', this.#status);
  }

  protected get connected(): boolean {
    return this.#status.state === 'connected';
  }

  protected now(): number {
    return this.#now();
  }
}
