// Shared machinery of the byte-exact device simulators: they sit on the *device* end of
// a ByteLink (in-memory pair, or a pty opened by the CLI) and speak the device's bytes.
// Fault knobs are the same for every simulator so tests and the demo can flip them.
import { EventEmitter } from 'node:events';
import type { ByteLink } from '../types.js';
import type { TimerFns } from '../transport/framing.js';

/** A device-side link; close()/open() (when present) simulate unplug/replug. */
export interface SimLink extends ByteLink {
  close?(error?: Error): void;
  open?(): void;
}

export interface SimFaults {
  /** Ignore commands and present nothing. */
  silent: boolean;
  /** Random garbage bytes written before each frame (0 = none). */
  garbageBytes: number;
  /** Corrupt the checksum (or, for protocols without one, a data byte) of each frame. */
  corruptChecksum: boolean;
  /** Write each frame in random chunks. */
  splitFrames: boolean;
  /** Delay before each reply/frame, ms. */
  slowMs: number;
  /** Pause between the chunks of a split frame, ms (can exceed the driver's inter-byte timeout). */
  chunkGapMs: number;
}

export const NO_FAULTS: SimFaults = {
  silent: false,
  garbageBytes: 0,
  corruptChecksum: false,
  splitFrames: false,
  slowMs: 0,
  chunkGapMs: 0,
};

export interface SimOptions {
  faults?: Partial<SimFaults>;
  /** Seeded randomness for garbage and chunking. Default a fixed-seed PRNG. */
  random?: () => number;
  timers?: TimerFns;
}

/** Small deterministic PRNG (mulberry32) so simulator faults are reproducible. */
export function seededRandom(seed = 0x5eed): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Emits 'command' (Buffer: bytes received) and 'sent' (Buffer: a frame as intended). */
export abstract class ByteSim extends EventEmitter {
  faults: SimFaults;
  protected readonly random: () => number;
  readonly #timers: TimerFns | undefined;
  #started = false;
  /** Frames written (as intended, before faults), for assertions. */
  readonly sent: Buffer[] = [];
  readonly #onData = (chunk: Buffer): void => {
    if (this.faults.silent) return;
    this.emit('command', chunk);
    try {
      this.onCommandBytes(Buffer.from(chunk));
    } catch {
      // a simulator must not crash its link either
    }
  };

  constructor(
    readonly type: string,
    readonly link: SimLink,
    options: SimOptions = {},
  ) {
    super();
    this.faults = { ...NO_FAULTS, ...options.faults };
    this.random = options.random ?? seededRandom();
    this.#timers = options.timers;
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.link.on('data', this.#onData);
  }

  stop(): void {
    this.#started = false;
    this.link.off('data', this.#onData);
  }

  setFaults(faults: Partial<SimFaults>): void {
    this.faults = { ...this.faults, ...faults };
  }

  /** Unplug: the link closes (when it can) and the device goes quiet. */
  unplug(): void {
    this.link.close?.(new Error(`${this.type} simulator unplugged`));
  }

  /** Replug after unplug(). */
  replug(): void {
    this.link.open?.();
  }

  /** Write random garbage bytes now (fault injection between frames). */
  async sendGarbage(count: number): Promise<void> {
    await this.#write(this.#garbage(count));
  }

  /** Bytes received from the host, in arbitrary chunks. */
  protected abstract onCommandBytes(chunk: Buffer): void;

  /**
   * Send one frame with the fault knobs applied. `checksumBytes` = how many trailing
   * bytes are the checksum (0: corrupt a data byte into invalid UTF-8 instead).
   */
  protected async sendFrame(frame: Buffer, checksumBytes = 1): Promise<void> {
    if (this.faults.silent || !this.link.isOpen) return;
    this.sent.push(Buffer.from(frame));
    this.emit('sent', Buffer.from(frame));
    let out = Buffer.from(frame);
    if (this.faults.corruptChecksum && out.length > 0) {
      if (checksumBytes > 0) out[out.length - 1] = (out[out.length - 1] ?? 0) ^ 0x5a;
      else out[Math.floor(this.random() * out.length)] = 0xff;
    }
    if (this.faults.garbageBytes > 0) out = Buffer.concat([this.#garbage(this.faults.garbageBytes), out]);
    if (this.faults.slowMs > 0) await this.sleep(this.faults.slowMs);
    if (!this.faults.splitFrames || out.length < 2) {
      await this.#write(out);
      return;
    }
    let at = 0;
    while (at < out.length) {
      const n = 1 + Math.floor(this.random() * Math.min(8, out.length - at));
      await this.#write(out.subarray(at, at + n));
      at += n;
      if (at < out.length && this.faults.chunkGapMs > 0) await this.sleep(this.faults.chunkGapMs);
    }
  }

  protected sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.#timers) this.#timers.setTimeout(resolve, ms);
      else setTimeout(resolve, ms);
    });
  }

  #garbage(count: number): Buffer {
    const g = Buffer.alloc(count);
    for (let i = 0; i < count; i++) g[i] = Math.floor(this.random() * 256);
    return g;
  }

  async #write(bytes: Buffer): Promise<void> {
    if (!this.link.isOpen) return;
    try {
      await this.link.write(Buffer.from(bytes));
    } catch {
      // unplugged mid-frame: the host sees a truncated frame, which is the point
    }
  }
}
