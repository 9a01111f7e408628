// LCUS serial relay (CH340 board, devices.md): `A0 CH OP SUM`. The board has no timer,
// so the pulse is timed here; the basic variant never answers, so "delivered" means
// written. Variants with feedback answer `A0 CH STATE SUM` to on/off/query commands.
import { DriverError, Framer, sum8, type ScanResult } from '../transport/framing.js';
import type { ByteLink } from '../types.js';
import { HostPulseTimer, RelayBase } from './base.js';

export const LCUS_OP = { off: 0x00, on: 0x01, offFeedback: 0x02, onFeedback: 0x03, toggle: 0x04, query: 0x05 } as const;

export function lcusFrame(channel: number, op: number): Buffer {
  const body = [0xa0, channel & 0xff, op & 0xff];
  return Buffer.from([...body, sum8(Uint8Array.from(body))]);
}

/** Cuts `A0 CH X SUM` frames (both directions have the same shape). */
export class LcusFramer extends Framer<Buffer> {
  constructor() {
    super({ capacity: 64, interByteTimeoutMs: 50 });
  }

  protected scan(buf: Buffer): ScanResult<Buffer> {
    if (buf[0] !== 0xa0) return { kind: 'skip', count: 1 };
    if (buf.length < 4) return { kind: 'need' };
    if (sum8(buf.subarray(0, 3)) !== buf[3]) return { kind: 'bad', reason: 'bad-checksum' };
    return { kind: 'frame', length: 4, frame: Buffer.from(buf.subarray(0, 4)) };
  }
}

export interface LcusRelayOptions {
  /** Relay channel, 1-based. */
  channel: number;
  /** The board answers on/off/query (variant with feedback). Default false. */
  feedback?: boolean;
  replyTimeoutMs?: number;
  pollMs?: number;
  now?: () => number;
}

export class LcusRelay extends RelayBase {
  readonly #link: ByteLink;
  readonly #channel: number;
  readonly #feedback: boolean;
  readonly #replyTimeoutMs: number;
  readonly #framer = new LcusFramer();

  /** Discarded bytes and bad frames of the feedback framer, for /healthz and metrics. */
  get counters() {
    return this.#framer.counters;
  }
  readonly #timer = new HostPulseTimer();
  #waiting: { resolve: (f: Buffer) => void; timer: NodeJS.Timeout } | null = null;
  readonly #onData = (d: Buffer) => this.#framer.push(d);

  constructor(link: ByteLink, options: LcusRelayOptions) {
    // Without feedback there is nothing to probe: the link being open is all we know.
    super(link, { type: 'lcus-relay', pollMs: options.feedback ? (options.pollMs ?? 5000) : 0, ...(options.now ? { now: options.now } : {}) });
    if (!Number.isInteger(options.channel) || options.channel < 1 || options.channel > 8) {
      throw new DriverError('INVALID_ARGUMENT', `channel must be 1..8, got ${options.channel}`, 'lcus-relay');
    }
    this.#link = link;
    this.#channel = options.channel;
    this.#feedback = options.feedback ?? false;
    this.#replyTimeoutMs = options.replyTimeoutMs ?? 300;
    this.#framer.on('frame', (f) => {
      const w = this.#waiting;
      if (!w || f[1] !== this.#channel) return;
      clearTimeout(w.timer);
      this.#waiting = null;
      w.resolve(f);
    });
  }

  override async start(): Promise<void> {
    this.#link.on('data', this.#onData);
    await super.start();
  }

  override async stop(): Promise<void> {
    await super.stop();
    this.#link.off('data', this.#onData);
    this.#framer.dispose();
  }

  protected async sendPulse(ms: number): Promise<void> {
    try {
      await this.#command(this.#feedback ? LCUS_OP.onFeedback : LCUS_OP.on, 1);
    } catch (err) {
      // The on may have reached the board even so: make sure it is off again.
      void this.allOff().catch(() => this.setState('fault', 'off after a failed open was not delivered'));
      throw err;
    }
    this.#timer.arm(ms, this.now(), () => {
      this.allOff().catch((err: unknown) => this.setState('fault', `gate may be open: off not delivered (${(err as Error).message})`));
    });
  }

  protected async sendAllOff(): Promise<void> {
    await this.#command(this.#feedback ? LCUS_OP.offFeedback : LCUS_OP.off, 0);
  }

  protected async probe(): Promise<void> {
    if (this.#feedback) await this.#command(LCUS_OP.query, null);
  }

  protected override onLinkDown(): void {
    this.#timer.cancel();
    this.#framer.reset();
  }

  async #command(op: number, expectState: number | null): Promise<void> {
    const frame = lcusFrame(this.#channel, op);
    if (!this.#feedback) {
      await this.#link.write(frame);
      return;
    }
    const reply = new Promise<Buffer | null>((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting = null;
        resolve(null);
      }, this.#replyTimeoutMs);
      this.#waiting = { resolve, timer };
    });
    try {
      await this.#link.write(frame);
    } catch (err) {
      const w = this.#waiting;
      if (w) clearTimeout(w.timer);
      this.#waiting = null;
      throw err;
    }
    const got = await reply;
    if (!got) throw new DriverError('REPLY_TIMEOUT', `no answer to ${frame.toString('hex')} within ${this.#replyTimeoutMs} ms`, 'lcus-relay');
    if (expectState !== null && got[2] !== expectState) {
      throw new DriverError('BAD_REPLY', `expected state ${expectState} after ${frame.toString('hex')}, got ${got.toString('hex')}`, 'lcus-relay');
    }
  }
}
