// Framing: the layer between a byte transport and a device protocol. Pure (no I/O);
// timers are injected so fake timers drive the inter-byte timeout in tests.
//
// Z-Wave JS lessons applied: skip bytes until a valid frame start and say so (a
// 'discarded' record with count and reason, counted); hand on whole frames only;
// checksums are verified here (a bad one is counted and we resync one byte later, so a
// false frame start inside garbage cannot swallow the real frame behind it); and, unlike
// Z-Wave JS, an inter-byte timeout drops a truncated frame instead of waiting forever.
import { EventEmitter } from 'node:events';
import { CodedError } from '../../shared/errors.js';

// ---------------------------------------------------------------------------------------
// Errors

export const DRIVER_ERROR_CODES = [
  /** A caller broke the contract of a function or constructor (bad option value). */
  'INVALID_ARGUMENT',
  /** The link is closed, so a command could not be written. */
  'LINK_CLOSED',
  /** Writing to the link failed. */
  'WRITE_FAILED',
  /** The device did not answer a command within the reply timeout. */
  'REPLY_TIMEOUT',
  /** The device answered with a frame that does not make sense. */
  'BAD_REPLY',
  /** The device reported a value outside its measuring range. */
  'OUT_OF_RANGE',
  /** A device file (evdev, tty) could not be opened or read. */
  'OPEN_FAILED',
] as const;
export type DriverErrorCode = (typeof DRIVER_ERROR_CODES)[number];

/** The one error type of the scanner/thermometer/framing drivers; code printed first. */
export class DriverError extends CodedError<DriverErrorCode> {
  constructor(
    code: DriverErrorCode,
    readonly detail: string,
    /** Device type or path the problem was found at. */
    readonly where?: string,
  ) {
    super(code, `[${code}] ${where === undefined ? '' : `${where}: `}${detail}`);
  }
}

// ---------------------------------------------------------------------------------------
// Checksums

/** CRC-16/CCITT, non-reflected, poly 0x1021, given init (XMODEM = 0, OSDP = 0x1D0F). */
export function crc16Ccitt(data: Uint8Array, init = 0x0000): number {
  let crc = init & 0xffff;
  for (const byte of data) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** CRC-16/XMODEM (poly 0x1021, init 0); GM65 sends it big-endian. */
export function crc16Xmodem(data: Uint8Array): number {
  return crc16Ccitt(data, 0);
}

/** CRC-16/Modbus (init 0xFFFF, reflected poly 0xA001); sent low byte first. */
export function crc16Modbus(data: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of data) {
    crc ^= byte;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** Low byte of the plain sum of the bytes (LCUS, LU90614, "66 66" boards). */
export function sum8(data: Uint8Array): number {
  let s = 0;
  for (const byte of data) s = (s + byte) & 0xff;
  return s;
}

/** Two's complement of sum8: the byte that makes the whole frame sum to zero. */
export function sum8Complement(data: Uint8Array): number {
  return (0x100 - sum8(data)) & 0xff;
}

/** XOR of all bytes. */
export function xor8(data: Uint8Array): number {
  let x = 0;
  for (const byte of data) x ^= byte;
  return x;
}

/** Append a Modbus CRC (low byte first) to a frame body. */
export function withModbusCrc(body: Uint8Array): Buffer {
  const crc = crc16Modbus(body);
  return Buffer.concat([Buffer.from(body), Buffer.from([crc & 0xff, crc >>> 8])]);
}

// ---------------------------------------------------------------------------------------
// Bounded byte buffer

/**
 * A fixed-capacity FIFO of bytes. Memory never grows past `capacity`: push() takes what
 * fits and returns how many bytes it took, so the caller decides what overflow means.
 */
export class ByteBuffer {
  readonly #store: Buffer;
  #start = 0;
  #end = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new DriverError('INVALID_ARGUMENT', `capacity must be a positive integer, got ${capacity}`, 'ByteBuffer');
    }
    this.#store = Buffer.alloc(capacity);
  }

  get length(): number {
    return this.#end - this.#start;
  }

  get free(): number {
    return this.capacity - this.length;
  }

  /** Copy as much of `data` as fits; returns the number of bytes taken. */
  push(data: Uint8Array): number {
    const n = Math.min(data.length, this.free);
    if (n === 0) return 0;
    if (this.#end + n > this.capacity) {
      // Compact only when needed: frames are small and the copy is cheap.
      this.#store.copy(this.#store, 0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    this.#store.set(data.subarray(0, n), this.#end);
    this.#end += n;
    return n;
  }

  /** The buffered bytes as a view (valid until the next push/consume). */
  view(): Buffer {
    return this.#store.subarray(this.#start, this.#end);
  }

  /** Remove `n` bytes from the front and return a copy of them. */
  consume(n: number): Buffer {
    const k = Math.max(0, Math.min(n, this.length));
    const out = Buffer.from(this.#store.subarray(this.#start, this.#start + k));
    this.#start += k;
    if (this.#start === this.#end) this.#start = this.#end = 0;
    return out;
  }

  clear(): void {
    this.#start = this.#end = 0;
  }
}

// ---------------------------------------------------------------------------------------
// Framer base

export type DiscardReason =
  /** Bytes before a valid frame start. */
  | 'no-frame-start'
  /** A frame whose checksum did not match (counted in badFrames too). */
  | 'bad-checksum'
  /** A frame that passed the checksum but makes no sense (bad length, bad field). */
  | 'invalid-frame'
  /** A partial frame dropped after the inter-byte timeout (counted in timeouts too). */
  | 'timeout'
  /** A frame longer than the configured cap. */
  | 'too-long'
  /** The buffer filled up without a frame completing. */
  | 'overflow'
  /** The link closed or the framer was reset with a partial frame inside. */
  | 'reset';

export interface Discarded {
  count: number;
  reason: DiscardReason;
  /** The first bytes dropped (at most 32), for logs. */
  sample: Buffer;
}

// Type aliases, not interfaces, so the counters fit the devices' Record<string, number> contract.
export type FramerCounters = {
  bytesIn: number;
  framesOut: number;
  bytesDiscarded: number;
  badFrames: number;
  timeouts: number;
};

/** What a protocol's scan() says about the bytes at the front of the buffer. */
export type ScanResult<F> =
  /** A (possibly) valid frame start, but it is incomplete: wait for more bytes. */
  | { kind: 'need' }
  /** `count` bytes at the front are not a frame: drop them. */
  | { kind: 'skip'; count: number; reason?: DiscardReason }
  /** A whole, verified frame of `length` bytes. */
  | { kind: 'frame'; length: number; frame: F }
  /** A frame-shaped run whose checksum (or content) is wrong: counted, resync past `drop` bytes (default 1). */
  | { kind: 'bad'; reason?: 'bad-checksum' | 'invalid-frame'; drop?: number };

export interface TimerFns {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface FramerOptions {
  /** Buffer capacity in bytes; must exceed the longest frame. Default 4096. */
  capacity?: number;
  /** Drop a partial frame after this many ms without a byte; 0 disables. Default 100. */
  interByteTimeoutMs?: number;
  /** Timer functions; default the global ones at call time, so fake timers apply. */
  timers?: TimerFns;
}

/** The real timers, for drivers not given fake ones. */
export const defaultTimers: TimerFns = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof globalThis.setTimeout>),
};

export interface FramerEvents<F> {
  frame: [frame: F];
  discarded: [record: Discarded];
}

/**
 * Base of every framer. Subclasses implement scan(): look at the buffered bytes and say
 * need / skip / frame / bad. The base owns the buffer, the counters, the 'discarded'
 * records and the inter-byte timeout. Emits 'frame' (F) and 'discarded' (Discarded).
 */
export abstract class Framer<F> extends EventEmitter<FramerEvents<F>> {
  readonly #buf: ByteBuffer;
  readonly #timeoutMs: number;
  readonly #timers: TimerFns;
  #timer: unknown = undefined;
  readonly #counters: FramerCounters = { bytesIn: 0, framesOut: 0, bytesDiscarded: 0, badFrames: 0, timeouts: 0 };

  constructor(options: FramerOptions = {}) {
    super();
    const capacity = options.capacity ?? 4096;
    const timeout = options.interByteTimeoutMs ?? 100;
    if (!(timeout >= 0) || !Number.isFinite(timeout)) {
      throw new DriverError('INVALID_ARGUMENT', `interByteTimeoutMs must be a finite number >= 0, got ${timeout}`, 'Framer');
    }
    this.#buf = new ByteBuffer(capacity);
    this.#timeoutMs = timeout;
    this.#timers = options.timers ?? defaultTimers;
  }

  /** Look at the buffered bytes (never empty) and classify the front of them. */
  protected abstract scan(buf: Buffer): ScanResult<F>;

  /** Called when a partial frame is dropped (timeout, reset), so stateful subclasses can reset. */
  protected onDrop(): void {}

  /** A snapshot of the counters, for /healthz and metrics. */
  get counters(): FramerCounters {
    return { ...this.#counters };
  }

  /** Bytes waiting for the rest of a frame. */
  get buffered(): number {
    return this.#buf.length;
  }

  get capacity(): number {
    return this.#buf.capacity;
  }

  /**
   * Feed bytes from the transport. Never throws on any input; if a 'frame' or
   * 'discarded' listener throws, the bytes are still all processed (state stays
   * consistent) and the first listener error is rethrown at the end.
   */
  push(chunk: Uint8Array): void {
    // Saved and restored: a listener may push again (an in-memory peer answering at once).
    const outer = this.#listenerError;
    this.#listenerError = undefined;
    this.#pushBytes(chunk);
    const err = this.#listenerError;
    this.#listenerError = outer;
    if (err !== undefined) throw err;
  }

  #listenerError: unknown = undefined;

  #emitSafely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#listenerError ??= err;
    }
  }

  #pushBytes(chunk: Uint8Array): void {
    this.#counters.bytesIn += chunk.length;
    let rest = chunk;
    while (rest.length > 0) {
      const took = this.#buf.push(rest);
      rest = rest.subarray(took);
      this.#drain();
      if (rest.length > 0 && this.#buf.free === 0) {
        // Full and still no frame: the frame start was a false one or a frame is longer
        // than the capacity. Drop everything so the stream can resync.
        this.#discard(this.#buf.length, 'overflow');
        this.onDrop();
      }
    }
    this.#armTimer();
  }

  /** Drop any partial frame (call on link close/reopen). */
  reset(): void {
    this.#clearTimer();
    if (this.#buf.length > 0) this.#discard(this.#buf.length, 'reset');
    this.onDrop();
  }

  /** Shutdown: stop the timer and forget buffered bytes without a 'discarded' record. */
  dispose(): void {
    this.#clearTimer();
    this.#buf.clear();
  }

  #drain(): void {
    while (this.#buf.length > 0) {
      let result: ScanResult<F>;
      try {
        result = this.scan(this.#buf.view());
      } catch {
        // A protocol bug must not kill the reader: treat the byte as garbage.
        result = { kind: 'bad', reason: 'invalid-frame' };
      }
      switch (result.kind) {
        case 'need':
          if (this.#buf.free === 0) {
            this.#discard(this.#buf.length, 'overflow');
            this.onDrop();
            continue;
          }
          return;
        case 'skip':
          this.#discard(Math.max(1, result.count), result.reason ?? 'no-frame-start');
          break;
        case 'bad':
          this.#counters.badFrames++;
          this.#discard(Math.max(1, result.drop ?? 1), result.reason ?? 'bad-checksum');
          break;
        case 'frame': {
          this.#buf.consume(Math.max(1, result.length));
          this.#counters.framesOut++;
          const frame = result.frame;
          this.#emitSafely(() => this.emit('frame', frame));
          break;
        }
      }
    }
  }

  #discard(n: number, reason: DiscardReason): void {
    const dropped = this.#buf.consume(n);
    if (dropped.length === 0) return;
    this.#counters.bytesDiscarded += dropped.length;
    this.#emitSafely(() => this.emit('discarded', { count: dropped.length, reason, sample: dropped.subarray(0, 32) }));
  }

  #armTimer(): void {
    this.#clearTimer();
    if (this.#timeoutMs === 0 || this.#buf.length === 0) return;
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = undefined;
      if (this.#buf.length === 0) return;
      this.#counters.timeouts++;
      this.#discard(this.#buf.length, 'timeout');
      this.onDrop();
    }, this.#timeoutMs);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) {
      this.#timers.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Reusable framers

export interface DelimiterFramerOptions extends FramerOptions {
  /** The terminator, e.g. [0x0d] or [0x0d, 0x0a]. */
  delimiter: Uint8Array | number[];
  /** Longest line without the terminator; longer lines are dropped whole ('too-long'). Default 1024. */
  maxLength?: number;
}

/**
 * Lines ended by a terminator sequence; emits the line without it (empty lines are
 * dropped silently, as scanners emit stray terminators). A line over maxLength is
 * dropped up to and including its terminator, so its tail never poses as a new line.
 */
export class DelimiterFramer extends Framer<Buffer> {
  readonly #delim: Buffer;
  readonly #max: number;
  #dropping = false;

  constructor(options: DelimiterFramerOptions) {
    const maxLength = options.maxLength ?? 1024;
    if (options.delimiter.length === 0) throw new DriverError('INVALID_ARGUMENT', 'delimiter must not be empty', 'DelimiterFramer');
    super({ ...options, capacity: options.capacity ?? maxLength + options.delimiter.length + 64 });
    this.#delim = Buffer.from(options.delimiter);
    this.#max = maxLength;
    if (this.capacity < maxLength + this.#delim.length) {
      throw new DriverError('INVALID_ARGUMENT', 'capacity must hold maxLength plus the delimiter', 'DelimiterFramer');
    }
  }

  protected override onDrop(): void {
    this.#dropping = false;
  }

  protected scan(buf: Buffer): ScanResult<Buffer> {
    const at = buf.indexOf(this.#delim);
    if (this.#dropping) {
      if (at < 0 && buf.length < this.#delim.length) return { kind: 'need' };
      if (at < 0) return { kind: 'skip', count: Math.max(1, buf.length - (this.#delim.length - 1)), reason: 'too-long' };
      this.#dropping = false;
      return { kind: 'skip', count: at + this.#delim.length, reason: 'too-long' };
    }
    if (at < 0) {
      if (buf.length > this.#max + this.#delim.length - 1) {
        // Keep the last delimiter-length-1 bytes: they may be the start of the terminator.
        this.#dropping = true;
        return { kind: 'skip', count: buf.length - (this.#delim.length - 1), reason: 'too-long' };
      }
      return { kind: 'need' };
    }
    if (at > this.#max) return { kind: 'skip', count: at + this.#delim.length, reason: 'too-long' };
    if (at === 0) return { kind: 'skip', count: this.#delim.length, reason: 'no-frame-start' };
    return { kind: 'frame', length: at + this.#delim.length, frame: Buffer.from(buf.subarray(0, at)) };
  }
}

export interface FixedFramerOptions extends FramerOptions {
  /** Bytes every frame starts with (may be empty for unsynchronised records). */
  start: Uint8Array | number[];
  /** Whole frame length in bytes, start included. */
  length: number;
  /** Checksum/content check of a whole frame; false = bad frame (counted, resync). */
  verify?: (frame: Buffer) => boolean;
}

/**
 * Fixed-length frames with a start marker and an optional check: LCUS `A0 CH OP SUM`,
 * LU90614 `FE .. SUM`, "66 66" replies, evdev records. Emits copies of whole frames.
 */
export class FixedFramer extends Framer<Buffer> {
  readonly #start: Buffer;
  readonly #length: number;
  readonly #verify: ((frame: Buffer) => boolean) | undefined;

  constructor(options: FixedFramerOptions) {
    super({ ...options, capacity: options.capacity ?? Math.max(256, options.length * 4) });
    this.#start = Buffer.from(options.start);
    this.#length = options.length;
    this.#verify = options.verify;
    if (!Number.isInteger(options.length) || options.length < Math.max(1, this.#start.length)) {
      throw new DriverError('INVALID_ARGUMENT', `length must cover the start marker, got ${options.length}`, 'FixedFramer');
    }
  }

  protected scan(buf: Buffer): ScanResult<Buffer> {
    const s = this.#start;
    if (s.length > 0) {
      // Compare the start marker as far as we have bytes.
      const n = Math.min(s.length, buf.length);
      for (let i = 0; i < n; i++) {
        if (buf[i] !== s[i]) {
          const next = buf.indexOf(s[0] ?? 0, 1);
          return { kind: 'skip', count: next < 0 ? buf.length : next };
        }
      }
    }
    if (buf.length < this.#length) return { kind: 'need' };
    const frame = Buffer.from(buf.subarray(0, this.#length));
    if (this.#verify && !this.#verify(frame)) return { kind: 'bad' };
    return { kind: 'frame', length: this.#length, frame };
  }
}

/** verify() helper: the last byte is sum8 of the bytes before it. */
export function trailingSum8(frame: Buffer): boolean {
  return frame.length > 0 && sum8(frame.subarray(0, -1)) === frame[frame.length - 1];
}
