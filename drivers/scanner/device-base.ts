// Shared life cycle of a device driver that sits on a link (ByteLink or HidLink): its
// status follows the link's open/close, it resets its framing on every reopen (no stale
// partial frame survives an unplug), and listener exceptions never reach the transport.
import { EventEmitter } from 'node:events';
import type { DeviceState, DeviceStatus } from '../types.js';
import type { DriverError, FramerCounters } from '../transport/framing.js';

/** What a device needs from a link: open state and open/close/data events. */
export interface LinkLike extends EventEmitter {
  readonly isOpen: boolean;
}

export interface DeviceBaseOptions {
  /** Clock for status `since` and reading `at`. Default Date.now. */
  now?: () => number;
}

/** Device counters for /healthz and metrics: framing counters plus device-level ones. */
export type DeviceCounters = FramerCounters & {
  /** Commands that got no reply in time. */
  replyTimeouts: number;
  /** 'fault' events (out of range, bad reply, write failures). */
  faults: number;
  /** Replies that came when no request was waiting (too late): dropped, never a reading. */
  lateReplies: number;
};

export abstract class LinkDevice<L extends LinkLike> extends EventEmitter {
  #status: DeviceStatus;
  #started = false;
  readonly #now: () => number;
  protected readonly deviceCounters = { replyTimeouts: 0, faults: 0, lateReplies: 0 };

  readonly #onOpen = (): void => {
    this.onLinkReset();
    const { state, detail } = this.stateOnOpen();
    this.setState(state, detail);
    this.onLinkOpen();
  };
  readonly #onClose = (err?: unknown): void => {
    this.onLinkReset();
    this.setState('disconnected', err instanceof Error ? err.message : 'link closed');
  };
  readonly #onData = (chunk: unknown): void => {
    if (!Buffer.isBuffer(chunk) && !(chunk instanceof Uint8Array)) return;
    try {
      this.onData(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    } catch (err) {
      // A bug in a protocol must not break the transport's read loop.
      this.safeEmit('driverError', err, 'data');
    }
  };

  constructor(
    readonly type: string,
    protected readonly link: L,
    options: DeviceBaseOptions = {},
  ) {
    super();
    this.#now = options.now ?? Date.now;
    this.#status = { type, state: 'disconnected', since: this.#now(), detail: 'not started' };
  }

  get status(): DeviceStatus {
    return this.#status;
  }

  get started(): boolean {
    return this.#started;
  }

  /** Framing and device counters (for /healthz and metrics). */
  abstract get counters(): DeviceCounters;

  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    this.link.on('open', this.#onOpen);
    this.link.on('close', this.#onClose);
    this.link.on('data', this.#onData);
    if (this.link.isOpen) this.#onOpen();
    else this.setState('disconnected', 'link not open');
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    this.link.off('open', this.#onOpen);
    this.link.off('close', this.#onClose);
    this.link.off('data', this.#onData);
    this.onStop();
    this.setState('disconnected', 'stopped');
  }

  protected now(): number {
    return this.#now();
  }

  protected setState(state: DeviceState, detail?: string): void {
    if (state === this.#status.state && detail === this.#status.detail) return;
    this.#status = { type: this.type, state, since: this.#now(), ...(detail === undefined ? {} : { detail }) };
    this.safeEmit('status', this.#status);
  }

  /** Report a fault without a reading (counted). Emits 'fault' (DriverError). */
  protected fault(error: DriverError): void {
    this.deviceCounters.faults++;
    this.safeEmit('fault', error);
  }

  /**
   * Emit to each listener on its own, so a throwing listener neither unwinds into the
   * driver/transport nor keeps the other listeners from hearing the event. The error
   * goes out as 'driverError' for the owner to log.
   */
  protected safeEmit(event: string, ...args: unknown[]): void {
    for (const listener of this.rawListeners(event)) {
      try {
        (listener as (...a: unknown[]) => void).apply(this, args);
      } catch (err) {
        if (event === 'driverError') continue;
        this.safeEmit('driverError', err, event);
      }
    }
  }

  /** Bytes (or one HID report) from the link. */
  protected abstract onData(chunk: Buffer): void;
  /**
   * The status an open link gives. Default 'connected'; a device that can be asked
   * something (a thermometer) stays down until it has answered, since a USB adapter
   * whose port opens says nothing about the module behind it.
   */
  protected stateOnOpen(): { state: DeviceState; detail?: string } {
    return { state: 'connected' };
  }
  /** The link is (re)open: send set-up commands. */
  protected onLinkOpen(): void {}
  /** The link closed or reopened: drop partial frames and pending requests. */
  protected abstract onLinkReset(): void;
  /** stop() was called: clear timers. */
  protected abstract onStop(): void;
}
