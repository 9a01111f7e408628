// Shared behaviour of the serial thermometers: per-device offset calibration, measure()
// with a reply timeout (counted and reported, never a made-up reading), out-of-range
// frames as 'invalid' (the lane asks for a re-measure), and a 'fault' state after
// repeated silence. A thermometer is up only once it has answered: after the port opens
// and while in fault it is probed (a measure command whose reply is not a reading) until
// it answers again, so a module that went quiet brings its lane back by itself.
import type { ByteLink, DeviceState, InvalidReading, ThermometerDevice, ThermometerReading } from '../types.js';
import { defaultTimers, type Discarded, DriverError, type Framer, type TimerFns } from '../transport/framing.js';
import { LinkDevice, type DeviceBaseOptions, type DeviceCounters } from '../scanner/device-base.js';

export interface ThermometerOptions extends DeviceBaseOptions {
  /** Calibration offset added to the device value, °C (per device). Default 0. */
  offsetC?: number;
  /** How long measure() waits for the reply. Default 1000 ms. */
  replyTimeoutMs?: number;
  /** Consecutive reply timeouts after which the status becomes 'fault'. Default 3. */
  faultAfterTimeouts?: number;
  /**
   * Pause between probes while the device has not answered since the port opened, or is
   * in fault (ms). A probe waits replyTimeoutMs for its answer, so a module that answers
   * again is back within replyTimeoutMs + probeIntervalMs at most. Default 500.
   */
  probeIntervalMs?: number;
  /** Drop a partial reply after this many ms of silence. Default 100. */
  interByteTimeoutMs?: number;
  timers?: TimerFns;
}


/** Value the device reported, before our offset. */
export interface RawMeasurement {
  raw: number;
  mode: string;
  /** Ambient temperature when the device reports it. */
  ambient?: number;
}

/** Round to hundredths so offsets do not leave float noise (36.6 + 0.3 = 36.9, not 36.900000000000006). */
export function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** What the pending request was for: a person's reading, or only to see the device answer. */
type Pending = 'measure' | 'probe';

/**
 * Emits 'reading' (ThermometerReading), 'invalid' (InvalidReading: the device answered a
 * measure with an out-of-range value), 'status', 'fault' (DriverError: REPLY_TIMEOUT,
 * OUT_OF_RANGE, BAD_REPLY, WRITE_FAILED), 'discarded' (framing records).
 */
export abstract class SerialThermometer<F> extends LinkDevice<ByteLink> implements ThermometerDevice {
  readonly offsetC: number;
  readonly #replyTimeoutMs: number;
  readonly #faultAfter: number;
  readonly #probeIntervalMs: number;
  readonly #timers: TimerFns;
  #replyTimer: unknown;
  #pending: Pending | undefined;
  #probeTimer: unknown;
  #consecutiveTimeouts = 0;
  /** Probe commands sent (after opening and while in fault). */
  probes = 0;
  /** The last good reading (for diagnostics). */
  lastReading: ThermometerReading | undefined;

  constructor(
    type: string,
    link: ByteLink,
    readonly framer: Framer<F>,
    options: ThermometerOptions = {},
  ) {
    super(type, link, options);
    this.offsetC = options.offsetC ?? 0;
    this.#replyTimeoutMs = options.replyTimeoutMs ?? 1000;
    this.#faultAfter = options.faultAfterTimeouts ?? 3;
    this.#probeIntervalMs = options.probeIntervalMs ?? 500;
    this.#timers = options.timers ?? defaultTimers;
    if (!Number.isFinite(this.offsetC) || Math.abs(this.offsetC) > 5) {
      throw new DriverError('INVALID_ARGUMENT', `offsetC must be within ±5 °C, got ${this.offsetC}`, type);
    }
    if (!(this.#replyTimeoutMs > 0)) {
      throw new DriverError('INVALID_ARGUMENT', `replyTimeoutMs must be > 0, got ${this.#replyTimeoutMs}`, type);
    }
    if (!(this.#probeIntervalMs > 0)) {
      throw new DriverError('INVALID_ARGUMENT', `probeIntervalMs must be > 0, got ${this.#probeIntervalMs}`, type);
    }
    framer.on('frame', (f: F) => this.onFrame(f));
    framer.on('discarded', (d: Discarded) => this.safeEmit('discarded', d));
  }

  get counters(): DeviceCounters {
    return { ...this.framer.counters, ...this.deviceCounters };
  }

  /** True while a measure() waits for its reply. */
  get awaitingReply(): boolean {
    return this.#replyTimer !== undefined;
  }

  /** The bytes that ask the device for one reading. */
  protected abstract measureCommand(): Buffer;
  /** Set-up commands sent whenever the link opens (mode selection). */
  protected setupCommands(): Buffer[] {
    return [];
  }
  /** Interpret one frame: a measurement, an out-of-range report, or nothing of interest. */
  protected abstract decode(frame: F): RawMeasurement | 'out-of-range' | undefined;

  measure(): void {
    if (!this.started || !this.link.isOpen) {
      this.fault(new DriverError('LINK_CLOSED', 'measure() while the link is closed', this.type));
      return;
    }
    // One outstanding request at a time: a second measure() (or one during a probe) restarts the wait.
    this.#clearProbeTimer();
    this.#request('measure');
  }

  #request(kind: Pending): void {
    this.#clearReplyTimer();
    this.#pending = kind;
    this.#replyTimer = this.#timers.setTimeout(() => this.#onReplyTimeout(), this.#replyTimeoutMs);
    void this.#write(this.measureCommand());
  }

  /** Ask the device for a value only to learn that it answers (nothing is emitted as a reading). */
  #probe(): void {
    this.#probeTimer = undefined;
    if (!this.started || !this.link.isOpen || this.status.state === 'connected' || this.awaitingReply) return;
    this.probes++;
    this.#request('probe');
  }

  /** Probe again after probeIntervalMs, while the device is down on an open link. */
  #scheduleProbe(): void {
    if (this.#probeTimer !== undefined || !this.started || !this.link.isOpen || this.status.state === 'connected') return;
    this.#probeTimer = this.#timers.setTimeout(() => this.#probe(), this.#probeIntervalMs);
  }

  #clearProbeTimer(): void {
    if (this.#probeTimer !== undefined) {
      this.#timers.clearTimeout(this.#probeTimer);
      this.#probeTimer = undefined;
    }
  }

  /**
   * Whether frames may arrive without a request (streaming mode). When false, a reply
   * after its timeout is dropped: it may belong to the person who has already left.
   */
  protected acceptsUnsolicited(): boolean {
    return false;
  }

  protected onFrame(frame: F): void {
    if (!this.awaitingReply && !this.acceptsUnsolicited()) {
      this.deviceCounters.lateReplies++;
      return;
    }
    const m = this.decode(frame);
    if (m === undefined) return;
    const pending = this.#pending;
    this.#clearReplyTimer();
    this.#clearProbeTimer();
    this.#consecutiveTimeouts = 0;
    // Any well-formed answer (out of range too) shows the module is alive.
    if (this.status.state !== 'connected') this.setState('connected');
    // A probe's answer is nobody's temperature: it must not pair with the next scan.
    if (pending === 'probe') return;
    if (m === 'out-of-range') {
      const at = this.now();
      this.fault(new DriverError('OUT_OF_RANGE', 'the device reported a temperature outside its range', this.type));
      const invalid: InvalidReading = { at, code: 'OUT_OF_RANGE', detail: `${this.type} reported a value outside its measuring range` };
      this.safeEmit('invalid', invalid);
      return;
    }
    const reading: ThermometerReading = {
      celsius: round2(m.raw + this.offsetC),
      at: this.now(),
      raw: m.raw,
      mode: m.mode,
      ...(m.ambient === undefined ? {} : { ambient: m.ambient }),
    };
    this.lastReading = reading;
    this.safeEmit('reading', reading);
  }

  #onReplyTimeout(): void {
    const pending = this.#pending;
    this.#replyTimer = undefined;
    this.#pending = undefined;
    this.deviceCounters.replyTimeouts++;
    // A silent probe is what a faulted device is expected to do: counted, not reported again.
    if (pending === 'measure') {
      this.#consecutiveTimeouts++;
      this.fault(new DriverError('REPLY_TIMEOUT', `no reply within ${this.#replyTimeoutMs} ms`, this.type));
      if (this.#consecutiveTimeouts >= this.#faultAfter && this.status.state === 'connected') {
        this.setState('fault', `${this.#consecutiveTimeouts} measure commands in a row got no reply; probing every ${this.#probeIntervalMs} ms`);
      }
    }
    this.#scheduleProbe();
  }

  #clearReplyTimer(): void {
    if (this.#replyTimer !== undefined) {
      this.#timers.clearTimeout(this.#replyTimer);
      this.#replyTimer = undefined;
    }
    this.#pending = undefined;
  }

  async #write(bytes: Buffer): Promise<void> {
    try {
      await this.link.write(bytes);
    } catch (err) {
      this.fault(new DriverError('WRITE_FAILED', `write failed: ${(err as Error).message}`, this.type));
    }
  }

  protected override stateOnOpen(): { state: DeviceState; detail?: string } {
    return { state: 'disconnected', detail: 'port open; waiting for the device to answer' };
  }

  protected override onLinkOpen(): void {
    for (const cmd of this.setupCommands()) void this.#write(cmd);
    this.#probe();
  }

  protected onData(chunk: Buffer): void {
    this.framer.push(chunk);
  }

  protected onLinkReset(): void {
    this.#clearReplyTimer();
    this.#clearProbeTimer();
    this.#consecutiveTimeouts = 0;
    this.framer.reset();
  }

  protected onStop(): void {
    this.#clearReplyTimer();
    this.#clearProbeTimer();
    this.framer.dispose();
  }
}
