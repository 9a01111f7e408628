// A passage beam (light barrier, door contact) wired to one digital input of a Modbus
// RTU I/O module, polled with FC02 "Read Discrete Inputs". Each poll reads the one
// input; the samples go through BeamEdgeDetector, which turns a debounced broken→clear
// run into one 'passage'. Like the Modbus relay: one request in flight, a reply
// timeout, 3.5 characters of bus silence before each request, counters for /healthz.
import { defaultTimers, type Discarded, DriverError, type TimerFns } from '../transport/framing.js';
import { FC, ModbusFramer, parseDiscreteInputs, readDiscreteInputs } from '../relay/modbus-frames.js';
import { LinkDevice, type DeviceBaseOptions, type DeviceCounters } from '../scanner/device-base.js';
import type { ByteLink, PassageEvent, PassageSensorDevice } from '../types.js';
import { BeamEdgeDetector, type BeamEvent } from './beam.js';

export interface ModbusPassageSensorOptions extends DeviceBaseOptions {
  /** Slave address 1..247. */
  address: number;
  /** Input number on the module, 1-based (input 1 = discrete input address 0). */
  input: number;
  /** false (default): the input reads 1 while the beam is broken; true: it reads 0. */
  activeLow?: boolean;
  /** Pause between the end of one poll and the next request (ms). Default 50. */
  pollMs?: number;
  /** Debounce: a run seen broken shorter than this is not a person (ms). Default 40. */
  minActiveMs?: number;
  /** A run broken longer than this is a blocked beam: 'fault', never counted (ms). Default 30 000. */
  stuckAfterMs?: number;
  /** How long to wait for a reply (ms). Default 200. */
  replyTimeoutMs?: number;
  /** Consecutive polls without a usable reply after which the status is 'fault'. Default 3. */
  faultAfterFailures?: number;
  /** Baud rate of the bus: sets the 3.5-character silence between frames. Default 9600. */
  baudRate?: number;
  timers?: TimerFns;
}

export type PassageSensorCounters = DeviceCounters & {
  /** FC02 requests sent. */
  polls: number;
  /** Beam samples taken from good replies. */
  samples: number;
  /** 'passage' events. */
  passages: number;
  /** Broken runs shorter than minActiveMs, ignored. */
  bounces: number;
  /** Runs broken longer than stuckAfterMs (blocked or misaligned beam), not counted. */
  stuckRuns: number;
  /** Exception replies (function code | 0x80). */
  exceptions: number;
  /** CRC-valid replies of the wrong function or shape. */
  badReplies: number;
};


/**
 * Emits 'passage' (PassageEvent), 'status', 'fault' (DriverError, once per entry into
 * the silent/refusing fault state, not per missed poll), 'discarded' (framing records).
 */
export class ModbusPassageSensor extends LinkDevice<ByteLink> implements PassageSensorDevice {
  readonly #address: number;
  readonly #input: number;
  readonly #activeLow: boolean;
  readonly #pollMs: number;
  readonly #replyTimeoutMs: number;
  readonly #faultAfter: number;
  readonly #silenceMs: number;
  readonly #timers: TimerFns;
  readonly #framer: ModbusFramer;
  readonly #beam: BeamEdgeDetector;
  readonly #request: Buffer;
  readonly #extra = { polls: 0, samples: 0, passages: 0, bounces: 0, stuckRuns: 0, exceptions: 0, badReplies: 0 };
  #pending: unknown = undefined;
  #pollTimer: unknown = undefined;
  #lastBusAt = 0;
  #failures = 0;
  /** Status detail of the silent/refusing fault, fixed at its start so 'status' is not re-emitted on every missed poll. */
  #faultDetail: string | null = null;
  /** Bumped on every link reset, so callbacks of an earlier session do nothing. */
  #session = 0;

  constructor(link: ByteLink, options: ModbusPassageSensorOptions) {
    super('modbus-input', link, options);
    const where = 'modbus-input';
    if (!Number.isInteger(options.address) || options.address < 1 || options.address > 247) {
      throw new DriverError('INVALID_ARGUMENT', `address must be 1..247, got ${options.address}`, where);
    }
    if (!Number.isInteger(options.input) || options.input < 1 || options.input > 0x10000) {
      throw new DriverError('INVALID_ARGUMENT', `input must be a 1-based input number, got ${options.input}`, where);
    }
    this.#address = options.address;
    this.#input = options.input;
    this.#activeLow = options.activeLow ?? false;
    this.#pollMs = options.pollMs ?? 50;
    this.#replyTimeoutMs = options.replyTimeoutMs ?? 200;
    this.#faultAfter = options.faultAfterFailures ?? 3;
    for (const [name, v] of [['pollMs', this.#pollMs], ['replyTimeoutMs', this.#replyTimeoutMs], ['faultAfterFailures', this.#faultAfter]] as const) {
      if (!(v > 0) || !Number.isFinite(v)) throw new DriverError('INVALID_ARGUMENT', `${name} must be a positive number, got ${v}`, where);
    }
    // 3.5 characters of 11 bits each, at least 2 ms so a fast bus still gets a gap.
    this.#silenceMs = Math.max(2, Math.ceil((3.5 * 11 * 1000) / (options.baudRate ?? 9600)));
    this.#timers = options.timers ?? defaultTimers;
    this.#beam = new BeamEdgeDetector({ minActiveMs: options.minActiveMs ?? 40, stuckAfterMs: options.stuckAfterMs ?? 30_000 });
    this.#request = readDiscreteInputs(this.#address, this.#input - 1, 1);
    this.#framer = new ModbusFramer({ direction: 'reply', address: this.#address, timers: this.#timers });
    this.#framer.on('frame', (f) => this.#onFrame(f));
    this.#framer.on('discarded', (d: Discarded) => this.safeEmit('discarded', d));
  }

  get counters(): PassageSensorCounters {
    return { ...this.#framer.counters, ...this.deviceCounters, ...this.#extra };
  }

  /** The FC02 request sent on every poll (for logs and tests). */
  get pollFrame(): Buffer {
    return Buffer.from(this.#request);
  }

  protected onData(chunk: Buffer): void {
    this.#lastBusAt = Date.now();
    this.#framer.push(chunk);
  }

  protected override onLinkOpen(): void {
    this.#poll();
  }

  protected onLinkReset(): void {
    this.#session++;
    this.#clearTimers();
    this.#framer.reset();
    this.#beam.reset();
    this.#failures = 0;
    this.#faultDetail = null;
  }

  protected onStop(): void {
    this.#session++;
    this.#clearTimers();
    this.#beam.reset();
    this.#framer.dispose();
  }

  #poll(): void {
    this.#pollTimer = undefined;
    if (!this.started || !this.link.isOpen) return;
    const session = this.#session;
    // RTU frames are delimited by silence: keep 3.5 characters clear of the last byte.
    // Capped, so a wall clock set back cannot hold the polls for the size of the jump.
    const gap = Math.min(this.#silenceMs, this.#lastBusAt + this.#silenceMs - Date.now());
    if (gap > 0) {
      this.#pollTimer = this.#timers.setTimeout(() => this.#poll(), gap);
      return;
    }
    // Pending before the write: an in-memory peer may answer inside write().
    this.#pending = this.#timers.setTimeout(() => this.#onTimeout(session), this.#replyTimeoutMs);
    this.#extra.polls++;
    this.#lastBusAt = Date.now();
    this.link.write(this.#request).then(
      () => {
        if (session === this.#session) this.#lastBusAt = Math.max(this.#lastBusAt, Date.now());
      },
      () => {
        // The link is going away; its 'close' resets everything. Until then the reply
        // timeout stands, so a failed write is not a silent hang either.
      },
    );
  }

  #schedule(): void {
    if (!this.started || !this.link.isOpen || this.#pollTimer !== undefined) return;
    this.#pollTimer = this.#timers.setTimeout(() => this.#poll(), this.#pollMs);
  }

  #onTimeout(session: number): void {
    if (session !== this.#session) return;
    this.#pending = undefined;
    this.deviceCounters.replyTimeouts++;
    this.#failed(new DriverError('REPLY_TIMEOUT', `no valid reply to FC02 within ${this.#replyTimeoutMs} ms (bad frames so far: ${this.#framer.counters.badFrames})`, this.#where()));
    this.#schedule();
  }

  #onFrame(frame: Buffer): void {
    if (this.#pending === undefined) {
      // A reply after its timeout, or another master's traffic: never a sample.
      this.deviceCounters.lateReplies++;
      this.safeEmit('discarded', { count: frame.length, reason: 'invalid-frame', sample: frame.subarray(0, 32) } satisfies Discarded);
      return;
    }
    const fc = frame[1];
    if (fc !== FC.readDiscreteInputs && fc !== (FC.readDiscreteInputs | 0x80)) {
      // Not an answer to our request: keep waiting for it until the reply timeout.
      this.#extra.badReplies++;
      this.safeEmit('discarded', { count: frame.length, reason: 'invalid-frame', sample: frame.subarray(0, 32) } satisfies Discarded);
      return;
    }
    this.#timers.clearTimeout(this.#pending);
    this.#pending = undefined;
    const states = parseDiscreteInputs(frame, 1);
    if (states instanceof DriverError) {
      if (fc === FC.readDiscreteInputs) this.#extra.badReplies++;
      else this.#extra.exceptions++;
      this.#failed(new DriverError('BAD_REPLY', `input ${this.#input}: ${states.detail}`, this.#where()));
    } else {
      this.#extra.samples++;
      this.#failures = 0;
      this.#faultDetail = null;
      const broken = states[0] !== this.#activeLow;
      this.#onBeam(this.#beam.sample(broken, this.now()));
      this.#refreshState();
    }
    this.#schedule();
  }

  #onBeam(e: BeamEvent | null): void {
    if (e === null) return;
    switch (e.kind) {
      case 'passage': {
        this.#extra.passages++;
        const event: PassageEvent = { at: e.at };
        this.safeEmit('passage', event);
        return;
      }
      case 'bounce':
        this.#extra.bounces++;
        return;
      case 'stuck':
        this.#extra.stuckRuns++;
        return;
      case 'unstuck':
        return;
    }
  }

  #failed(err: DriverError): void {
    this.#failures++;
    if (this.#failures === this.#faultAfter) {
      // The run in progress was not seen to its end: drop it rather than guess.
      this.#beam.reset();
      this.#faultDetail = `${this.#faultAfter} polls in a row without a usable reply: ${err.message}`;
      this.fault(err);
    }
    this.#refreshState();
  }

  /** Status from the two fault causes: a silent/refusing module, then a blocked beam. */
  #refreshState(): void {
    if (!this.link.isOpen) return;
    if (this.#faultDetail !== null) {
      this.setState('fault', this.#faultDetail);
    } else if (this.#beam.stuck) {
      this.setState('fault', `beam broken for more than ${this.#beam.rules.stuckAfterMs} ms (blocked or misaligned); not counting until it clears`);
    } else {
      this.setState('connected');
    }
  }

  #clearTimers(): void {
    if (this.#pending !== undefined) this.#timers.clearTimeout(this.#pending);
    if (this.#pollTimer !== undefined) this.#timers.clearTimeout(this.#pollTimer);
    this.#pending = undefined;
    this.#pollTimer = undefined;
  }

  #where(): string {
    return `modbus-input @${this.#address}`;
  }
}
