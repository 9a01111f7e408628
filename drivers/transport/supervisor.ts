// Keeps one device handle open: opens it, notices when it is lost, and reopens it with
// exponential backoff and jitter, capped and never giving up. Every reopen calls the
// factory again, so no state of a vanished port object survives into the next one.
import { EventEmitter } from 'node:events';
import { DriverError } from './framing.js';

export interface BackoffOptions {
  /** First retry delay (ms). */
  initialMs: number;
  /** Upper bound of any delay (ms): how long a replugged device can wait to be picked up. */
  maxMs: number;
  /** 0..1: each delay is shortened by up to this fraction at random, so gateways do not retry in step. */
  jitter: number;
  /** A connection that lived this long resets the backoff; a flapping one keeps backing off. */
  stableMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 1000, jitter: 0.3, stableMs: 5000 };

/** Delay before retry number `attempt` (0-based): min(max, initial·2^attempt), minus jitter. */
export function backoffDelay(attempt: number, o: BackoffOptions, random: () => number = Math.random): number {
  const capped = Math.min(o.maxMs, o.initialMs * 2 ** Math.min(attempt, 30));
  return Math.max(1, Math.round(capped * (1 - o.jitter * random())));
}

export interface SupervisedOpen<H> {
  /**
   * Open a fresh handle. `lost` must be called (once is enough) when the handle dies
   * on its own: unplug, EIO, read error.
   */
  open(lost: (err: Error) => void): Promise<H>;
  /** Release a handle; must not throw for an already dead one. */
  close(handle: H): Promise<void>;
}

export interface SupervisorOptions {
  backoff?: Partial<BackoffOptions>;
  random?: () => number;
  now?: () => number;
}

/**
 * Emits 'connected' (handle), 'disconnected' (Error) once per lost connection and
 * 'retry' ({ attempt, delayMs, error }) before each scheduled reopen.
 */
export class Supervisor<H> extends EventEmitter {
  readonly #target: SupervisedOpen<H>;
  readonly #backoff: BackoffOptions;
  readonly #random: () => number;
  readonly #now: () => number;
  #handle: H | null = null;
  #openedAt = 0;
  #attempt = 0;
  #timer: NodeJS.Timeout | null = null;
  #running = false;
  /** Bumped on every open and stop, so a late callback of an old handle is ignored. */
  #generation = 0;
  #lastError: Error | null = null;

  constructor(target: SupervisedOpen<H>, options: SupervisorOptions = {}) {
    super();
    this.#target = target;
    this.#backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
  }

  get handle(): H | null {
    return this.#handle;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Why the device is not open, if it is not. */
  get lastError(): Error | null {
    return this.#lastError;
  }

  /** Starts supervising; resolves after the first attempt, whether it opened or not. */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#attempt = 0;
    await this.#tryOpen();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#generation++;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const h = this.#handle;
    this.#handle = null;
    if (h !== null) {
      await this.#target.close(h).catch(() => undefined);
      this.emit('disconnected', new DriverError('LINK_CLOSED', 'stopped'));
    }
  }

  /** Tell the supervisor the current handle is unusable (e.g. a write failed): reopen it. */
  reportLost(err: Error): void {
    const gen = this.#generation;
    if (this.#handle !== null) this.#lost(gen, err);
  }

  async #tryOpen(): Promise<void> {
    this.#timer = null;
    if (!this.#running) return;
    const gen = ++this.#generation;
    let handle: H;
    try {
      handle = await this.#target.open((err) => this.#lost(gen, err));
    } catch (err) {
      if (gen !== this.#generation) return;
      this.#lastError = err instanceof Error ? err : new Error(String(err));
      this.#schedule(this.#lastError);
      return;
    }
    if (gen !== this.#generation || !this.#running) {
      // stop() or a lost callback raced the open: this handle is not wanted any more.
      await this.#target.close(handle).catch(() => undefined);
      return;
    }
    this.#handle = handle;
    this.#openedAt = this.#now();
    this.#lastError = null;
    this.emit('connected', handle);
  }

  #lost(gen: number, err: Error): void {
    if (gen !== this.#generation || this.#handle === null) return;
    const h = this.#handle;
    this.#handle = null;
    this.#generation++;
    this.#lastError = err;
    if (this.#now() - this.#openedAt >= this.#backoff.stableMs) this.#attempt = 0;
    void this.#target.close(h).catch(() => undefined);
    this.emit('disconnected', err);
    this.#schedule(err);
  }

  #schedule(error: Error): void {
    if (!this.#running) return;
    const delayMs = backoffDelay(this.#attempt, this.#backoff, this.#random);
    this.emit('retry', { attempt: this.#attempt, delayMs, error });
    this.#attempt++;
    this.#timer = setTimeout(() => void this.#tryOpen(), delayMs);
  }
}

/**
 * The shell every supervised link shares, so it exists once: a Supervisor reopening
 * handles of type H behind the link events 'open', 'close' (Error), 'data' (Buffer) and
 * 'retry' ({ attempt, delayMs, error }), plus start/stop/isOpen/lastError. A subclass
 * only says how to open, release and use one handle.
 */
export abstract class SupervisedLinkBase<H> extends EventEmitter {
  /** Where errors say the problem was: a device path or a HID selector. */
  readonly where: string;
  readonly #supervisor: Supervisor<H>;

  constructor(where: string, options: SupervisorOptions) {
    super();
    this.where = where;
    // Arrow functions: the subclass's methods and fields are only used once start() runs.
    this.#supervisor = new Supervisor<H>(
      { open: (lost) => this.openHandle(lost, (d) => this.emit('data', d)), close: (h) => this.closeHandle(h) },
      options,
    );
    this.#supervisor.on('connected', () => this.emit('open'));
    this.#supervisor.on('disconnected', (err: Error) => this.emit('close', err));
    this.#supervisor.on('retry', (info: unknown) => this.emit('retry', info));
  }

  /** Open a fresh handle, wiring its input to `data` and its death to `lost`. */
  protected abstract openHandle(lost: (err: Error) => void, data: (d: Buffer) => void): Promise<H>;

  /** Release a handle (detach its listeners); must not throw for a dead one. */
  protected abstract closeHandle(handle: H): Promise<void>;

  /** Whether a handle the supervisor holds still works; a subclass may know better. */
  protected handleIsOpen(_handle: H): boolean {
    return true;
  }

  /** The handle currently open, if any. */
  protected get handle(): H | null {
    return this.#supervisor.handle;
  }

  get isOpen(): boolean {
    const h = this.#supervisor.handle;
    return h !== null && this.handleIsOpen(h);
  }

  /** Why the device is not open, if it is not. */
  get lastError(): Error | null {
    return this.#supervisor.lastError;
  }

  /** Starts supervising; resolves after the first open attempt, whether it opened or not. */
  start(): Promise<void> {
    return this.#supervisor.start();
  }

  stop(): Promise<void> {
    return this.#supervisor.stop();
  }

  /** The error for an operation attempted while the link is not open. */
  protected notOpen(): DriverError {
    return new DriverError('LINK_CLOSED', `not open (${this.lastError?.message ?? 'not started'})`, this.where);
  }

  /** The current handle failed an operation: drop it and reopen. */
  protected reportLost(err: Error): void {
    this.#supervisor.reportLost(err);
  }
}

/** A one-shot link (opened once, dies for good) that can be closed by its owner. */
export interface ClosableLink extends NodeJS.EventEmitter {
  readonly isOpen: boolean;
  write(data: Buffer): Promise<void>;
  close(): void;
}

/**
 * Turns a factory of one-shot links (e.g. an evdev reader) into one long-lived ByteLink
 * that reopens with backoff: emits 'open', 'close' (Error), 'data' and 'retry'.
 */
export class SupervisedLink extends SupervisedLinkBase<ClosableLink> {
  readonly #open: () => Promise<ClosableLink>;

  constructor(where: string, open: () => Promise<ClosableLink>, options: SupervisorOptions = {}) {
    super(where, options);
    this.#open = open;
  }

  protected override async openHandle(lost: (err: Error) => void, data: (d: Buffer) => void): Promise<ClosableLink> {
    const link = await this.#open();
    link.on('data', data);
    link.on('close', (err?: Error) => lost(new DriverError('LINK_CLOSED', `lost: ${err?.message ?? 'closed'}`, this.where)));
    if (!link.isOpen) throw new DriverError('OPEN_FAILED', 'closed right after opening', this.where);
    return link;
  }

  protected override async closeHandle(link: ClosableLink): Promise<void> {
    link.removeAllListeners('data');
    link.removeAllListeners('close');
    link.close();
  }

  protected override handleIsOpen(link: ClosableLink): boolean {
    return link.isOpen;
  }

  write(data: Buffer): Promise<void> {
    // Only a missing handle is refused here; a held one answers for itself, as before.
    const link = this.handle;
    if (!link) return Promise.reject(this.notOpen());
    return link.write(data);
  }
}
