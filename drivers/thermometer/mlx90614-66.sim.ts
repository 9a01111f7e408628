// Simulator of a "66 66" MLX90614 board: answers `66 66 02 56` with one reply; after
// `66 66 01 56` it streams a reply every `intervalMs` until stopped.
import { FixedFramer } from '../transport/framing.js';
import { ByteSim, type SimLink, type SimOptions } from '../scanner/sim-base.js';
import { encodeMlx66Reply } from './mlx90614-66.js';

export interface Mlx66SimOptions extends SimOptions {
  /** Object temperature, °C. Default 34.8 (a forehead seen raw). */
  objectC?: number;
  ambientC?: number;
  /** Streaming period in continuous mode. Default 500 ms. */
  intervalMs?: number;
}

export class Mlx66Sim extends ByteSim {
  objectC: number;
  ambientC: number;
  readonly intervalMs: number;
  continuous = false;
  queries = 0;
  #stream: ReturnType<typeof setInterval> | undefined;
  readonly #rx: FixedFramer;

  constructor(link: SimLink, options: Mlx66SimOptions = {}) {
    super('mlx90614-66', link, options);
    this.objectC = options.objectC ?? 34.8;
    this.ambientC = options.ambientC ?? 24.5;
    this.intervalMs = options.intervalMs ?? 500;
    this.#rx = new FixedFramer({ start: [0x66, 0x66], length: 4, verify: (c) => c[3] === 0x56, interByteTimeoutMs: 0 });
    this.#rx.on('frame', (c) => this.#command(c));
  }

  setTemperature(objectC: number, ambientC = this.ambientC): void {
    this.objectC = objectC;
    this.ambientC = ambientC;
  }

  /** Send one reply now (continuous mode pushes these by itself). */
  async sendReading(): Promise<void> {
    await this.sendFrame(encodeMlx66Reply(this.ambientC, this.objectC, this.continuous ? 0x01 : 0x02), 1);
  }

  override stop(): void {
    this.#stopStream();
    super.stop();
  }

  protected onCommandBytes(chunk: Buffer): void {
    this.#rx.push(chunk);
  }

  #command(c: Buffer): void {
    if (c[2] === 0x01) {
      this.continuous = true;
      this.#stopStream();
      this.#stream = setInterval(() => void this.sendReading(), this.intervalMs);
    } else if (c[2] === 0x02) {
      this.queries++;
      void this.sendReading();
    }
  }

  #stopStream(): void {
    if (this.#stream !== undefined) clearInterval(this.#stream);
    this.#stream = undefined;
  }
}
