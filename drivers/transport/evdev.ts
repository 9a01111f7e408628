// Read a Linux input device (/dev/input/event*) as a ByteLink: the OS claims keyboard
// wedge scanners as keyboards, so we read their key events from evdev instead. Read-only:
// write() rejects. The supervisor reopens it like a serial port when it vanishes.
import { createReadStream, type ReadStream } from 'node:fs';
import { EventEmitter } from 'node:events';
import type { ByteLink } from '../types.js';
import { DriverError } from './framing.js';

export class EvdevLink extends EventEmitter implements ByteLink {
  #stream: ReadStream | undefined;
  #open = false;

  constructor(readonly path: string) {
    super();
  }

  get isOpen(): boolean {
    return this.#open;
  }

  /** Open the device; resolves once the file is open, rejects (OPEN_FAILED) otherwise. */
  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      // A small highWaterMark keeps key events flowing one read() at a time.
      const stream = createReadStream(this.path, { highWaterMark: 24 * 64 });
      this.#stream = stream;
      let opened = false;
      stream.once('open', () => {
        opened = true;
        this.#open = true;
        this.emit('open');
        resolve();
      });
      stream.on('data', (chunk) => this.emit('data', Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)));
      stream.once('error', (err) => {
        if (!opened) reject(new DriverError('OPEN_FAILED', err.message, this.path));
        this.#finish(err);
      });
      stream.once('close', () => this.#finish());
    });
  }

  async write(): Promise<void> {
    throw new DriverError('WRITE_FAILED', 'evdev input devices are read-only here', this.path);
  }

  close(): void {
    this.#stream?.destroy();
    this.#finish();
  }

  #finish(err?: Error): void {
    if (!this.#open) return;
    this.#open = false;
    this.#stream = undefined;
    this.emit('close', err);
  }
}

/** Open an evdev node as a ByteLink of 24-byte input_event records. */
export async function openEvdev(path: string): Promise<EvdevLink> {
  const link = new EvdevLink(path);
  await link.open();
  return link;
}
