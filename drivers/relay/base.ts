// What every real relay driver shares: status from the link's open/close events, one
// command at a time, all-off on every (re)connect, periodic probing, and the rules for
// retries (only idempotent off/status commands are ever repeated, never an open).
import { EventEmitter } from 'node:events';
import { DriverError } from '../transport/framing.js';
import type { DeviceState, DeviceStatus, RelayDevice } from '../types.js';

/** The link events a relay listens to; both ByteLink and HidLink have them. */
export interface LinkLike extends NodeJS.EventEmitter {
  readonly isOpen: boolean;
}

export interface RelayBaseOptions {
  /** Driver type in DeviceStatus, e.g. "modbus-relay". */
  type: string;
  /** Probe the device this often (ms) to notice a dead board behind a live adapter; 0 = never. */
  pollMs?: number;
  /** Extra attempts for idempotent commands (off, status). */
  retries?: number;
  /** Pause between those attempts (ms). */
  retryDelayMs?: number;
  now?: () => number;
}

const FAULT_RETRY_MS = 1000;

export abstract class RelayBase extends EventEmitter implements RelayDevice {
  readonly #link: LinkLike;
  readonly #type: string;
  readonly #pollMs: number;
  readonly #retries: number;
  readonly #retryDelayMs: number;
  readonly #now: () => number;
  #status: DeviceStatus;
  #queue: Promise<unknown> = Promise.resolve();
  #pollTimer: NodeJS.Timeout | null = null;
  #started = false;
  /** The all-off handshake of the latest (re)connect, so a starter can wait for it. */
  #connecting: Promise<void> = Promise.resolve();
  readonly #onOpen = () => {
    this.#connecting = this.#connect();
  };
  readonly #onClose = (err?: Error) => this.#disconnected(err);

  constructor(link: LinkLike, options: RelayBaseOptions) {
    super();
    this.#link = link;
    this.#type = options.type;
    this.#pollMs = options.pollMs ?? 5000;
    this.#retries = options.retries ?? 2;
    this.#retryDelayMs = options.retryDelayMs ?? 50;
    this.#now = options.now ?? Date.now;
    this.#status = { type: options.type, state: 'disconnected', since: this.#now(), detail: 'not started' };
  }

  get status(): DeviceStatus {
    return this.#status;
  }

  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    this.#link.on('open', this.#onOpen);
    this.#link.on('close', this.#onClose);
    if (this.#link.isOpen) this.#onOpen();
    await this.#connecting;
  }

  /** Resolves once the handshake after the latest link open is done (connected or fault). */
  settled(): Promise<void> {
    return this.#connecting;
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#stopPoll();
    this.onLinkDown();
    // Shutdown leaves the gate shut, whatever the lane did before.
    if (this.#link.isOpen) await this.allOff().catch(() => undefined);
    this.#started = false;
    this.#link.off('open', this.#onOpen);
    this.#link.off('close', this.#onClose);
    this.setState('disconnected', 'stopped');
  }

  async pulse(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms <= 0) throw new DriverError('INVALID_ARGUMENT', `pulse length must be a positive number of ms, got ${ms}`, this.#type);
    if (this.#status.state !== 'connected') {
      throw new DriverError('LINK_CLOSED', `pulse of ${ms} ms not sent: relay is ${this.#status.state}${this.#status.detail ? ` (${this.#status.detail})` : ''}`, this.#type);
    }
    // Exactly one attempt: a lost reply does not tell whether the gate opened.
    try {
      await this.exclusive(() => this.sendPulse(ms));
    } catch (err) {
      // The gate's state is unknown now: out of service until an all-off gets through.
      if (this.#link.isOpen && this.#started) {
        this.setState('fault', `open not confirmed: ${(err as Error).message}`);
        this.#schedulePoll();
      }
      throw err;
    }
  }

  allOff(): Promise<void> {
    return this.idempotent('all-off', () => this.sendAllOff());
  }

  /** One attempt to open for `ms` (device-timed where the device can). */
  protected abstract sendPulse(ms: number): Promise<void>;
  /** One attempt to switch the lane's relay(s) off. */
  protected abstract sendAllOff(): Promise<void>;
  /** One attempt to ask the device for its state; rejects when it does not answer. */
  protected abstract probe(): Promise<void>;
  /** The link went away: cancel host timers. */
  protected onLinkDown(): void {}

  protected get type(): string {
    return this.#type;
  }

  protected now(): number {
    return this.#now();
  }

  protected setState(state: DeviceState, detail?: string): void {
    if (state === this.#status.state && detail === this.#status.detail) return;
    this.#status = { type: this.#type, state, since: this.#now(), ...(detail === undefined ? {} : { detail }) };
    this.emit('status', this.#status);
  }

  /** Run commands one at a time: a half-duplex bus cannot have two in flight. */
  protected exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Run an idempotent command with retries; each attempt waits its turn on the bus. */
  protected async idempotent(what: string, fn: () => Promise<void>): Promise<void> {
    let last: unknown;
    for (let attempt = 0; attempt <= this.#retries; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, this.#retryDelayMs));
      if (!this.#link.isOpen) throw new DriverError('LINK_CLOSED', `${what} not sent: link closed`, this.#type);
      try {
        await this.exclusive(fn);
        return;
      } catch (err) {
        last = err;
      }
    }
    throw last;
  }

  async #connect(): Promise<void> {
    this.#stopPoll();
    try {
      await this.allOff();
      if (!this.#link.isOpen) return;
      this.setState('connected');
    } catch (err) {
      if (this.#link.isOpen) this.setState('fault', `no answer to all-off: ${(err as Error).message}`);
    }
    this.#schedulePoll();
  }

  #disconnected(err?: Error): void {
    this.#stopPoll();
    this.onLinkDown();
    if (this.#started) this.setState('disconnected', err?.message ?? 'link closed');
  }

  #schedulePoll(): void {
    // A faulted relay is retried within a second even when regular polling is off.
    const delay = this.#status.state === 'fault' ? Math.min(this.#pollMs > 0 ? this.#pollMs : FAULT_RETRY_MS, FAULT_RETRY_MS) : this.#pollMs;
    // One timer at most: a reschedule replaces the pending one.
    this.#stopPoll();
    if (delay <= 0 || !this.#started) return;
    this.#pollTimer = setTimeout(() => void this.#poll(), delay);
    this.#pollTimer.unref?.();
  }

  #stopPoll(): void {
    if (this.#pollTimer) clearTimeout(this.#pollTimer);
    this.#pollTimer = null;
  }

  async #poll(): Promise<void> {
    this.#pollTimer = null;
    if (!this.#link.isOpen || !this.#started) return;
    try {
      if (this.#status.state === 'fault') {
        // Back from a fault the relay state is unknown: shut it before trusting it again.
        await this.allOff();
      } else {
        await this.idempotent('status', () => this.probe());
      }
      if (this.#link.isOpen) this.setState('connected');
    } catch (err) {
      if (this.#link.isOpen && this.#started) this.setState('fault', `no answer: ${(err as Error).message}`);
    }
    this.#schedulePoll();
  }
}

/** Host-side timer for relays that cannot time a pulse themselves. */
export class HostPulseTimer {
  #timer: NodeJS.Timeout | null = null;
  #endsAt = 0;

  get active(): boolean {
    return this.#timer !== null;
  }

  /** (Re)arm: `close` runs `ms` from now, or later if an earlier pulse ends later. */
  arm(ms: number, now: number, close: () => void): void {
    const endsAt = Math.max(now + ms, this.#timer ? this.#endsAt : 0);
    if (this.#timer) clearTimeout(this.#timer);
    this.#endsAt = endsAt;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      close();
    }, endsAt - now);
  }

  cancel(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
