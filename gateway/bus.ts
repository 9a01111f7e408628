// A typed event bus between the lanes and the edges (HTTP, telemetry). Every handler
// is wrapped so one that throws is logged instead of breaking the emitter's caller.
import { EventEmitter } from 'node:events';
import type { LaneSnapshot } from './lane/types.js';
import type { LedgerEntry } from './store/types.js';

export interface BusEvents {
  /** A lane's state or last decision changed. */
  lane: [LaneSnapshot];
  /** A ledger row was committed (its outbox row too). */
  ledger: [LedgerEntry];
  /** The MQTT link changed state. */
  link: [LinkStatus];
}

export interface LinkStatus {
  state: 'connecting' | 'connected' | 'disconnected';
  url: string;
  /** True when the gateway runs its own embedded broker. */
  embedded: boolean;
  since: number;
  detail?: string;
}

type Handler<K extends keyof BusEvents> = (...args: BusEvents[K]) => void;

export class GatewayBus {
  readonly #emitter = new EventEmitter();
  readonly #onError: (err: unknown, event: string) => void;

  constructor(onError: (err: unknown, event: string) => void) {
    this.#emitter.setMaxListeners(0);
    this.#onError = onError;
  }

  emit<K extends keyof BusEvents>(event: K, ...args: BusEvents[K]): void {
    this.#emitter.emit(event, ...args);
  }

  /** Subscribe; returns the unsubscribe function. */
  on<K extends keyof BusEvents>(event: K, handler: Handler<K>): () => void {
    const wrapped = (...args: BusEvents[K]): void => {
      try {
        handler(...args);
      } catch (err) {
        this.#onError(err, event);
      }
    };
    this.#emitter.on(event, wrapped as (...a: unknown[]) => void);
    return () => this.#emitter.off(event, wrapped as (...a: unknown[]) => void);
  }
}
