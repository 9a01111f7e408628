// An LCUS relay board on the device end of a link. Records frames and host-timed pulses
// (from "on" to the next "off" of a channel), so tests can check the gate was shut again.
import { ByteSim, type SimLink, type SimOptions } from '../scanner/sim-base.js';
import { LCUS_OP, LcusFramer, lcusFrame } from './lcus.js';
import type { RelayPulseRecord } from './modbus.sim.js';

export interface LcusRelaySimOptions extends SimOptions {
  channels?: number;
  /** Answer on/off/query with `A0 CH STATE SUM` (variant with feedback). */
  feedback?: boolean;
  now?: () => number;
}

export class LcusRelaySim extends ByteSim {
  readonly relays: boolean[];
  readonly frames: Buffer[] = [];
  readonly pulses: RelayPulseRecord[] = [];
  readonly #framer = new LcusFramer();
  readonly #feedback: boolean;
  readonly #now: () => number;
  readonly #onSince = new Map<number, number>();

  constructor(link: SimLink, options: LcusRelaySimOptions = {}) {
    super('lcus-relay', link, options);
    this.relays = Array.from({ length: options.channels ?? 4 }, () => false);
    this.#feedback = options.feedback ?? false;
    this.#now = options.now ?? Date.now;
    this.#framer.on('frame', (f) => void this.#handle(f));
  }

  protected onCommandBytes(chunk: Buffer): void {
    this.#framer.push(chunk);
  }

  async #handle(f: Buffer): Promise<void> {
    this.frames.push(f);
    this.emit('frame', f);
    const ch = f[1]!;
    const op = f[2]!;
    if (ch < 1 || ch > this.relays.length) return;
    if (op === LCUS_OP.on || op === LCUS_OP.onFeedback) this.#set(ch, true);
    else if (op === LCUS_OP.off || op === LCUS_OP.offFeedback) this.#set(ch, false);
    else if (op === LCUS_OP.toggle) this.#set(ch, !this.relays[ch - 1]);
    const answers = this.#feedback && op !== LCUS_OP.on && op !== LCUS_OP.off;
    if (answers) await this.sendFrame(lcusFrame(ch, this.relays[ch - 1] ? 1 : 0), 1);
  }

  #set(ch: number, on: boolean): void {
    const was = this.relays[ch - 1];
    this.relays[ch - 1] = on;
    if (on && !was) this.#onSince.set(ch, this.#now());
    if (!on && was) {
      const since = this.#onSince.get(ch) ?? this.#now();
      this.pulses.push({ at: since, channel: ch, ms: this.#now() - since });
      this.emit('pulse', { channel: ch, ms: this.#now() - since });
    }
  }
}
