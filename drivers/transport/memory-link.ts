// In-memory ByteLink pairs: what one end writes, the other end receives as 'data'.
// Used by unit tests and in-process demos to put a driver and a simulator back to back.
import { EventEmitter } from 'node:events';
import type { ByteLink } from '../types.js';
import { DriverError } from './framing.js';

/** One end of an in-memory link. close()/open() simulate unplug and replug. */
export class MemoryLink extends EventEmitter implements ByteLink {
  #open = true;
  peer: MemoryLink | undefined;
  /** Every chunk this end wrote, in order (for byte-exact assertions). */
  readonly written: Buffer[] = [];

  constructor(readonly name = 'memory') {
    super();
  }

  get isOpen(): boolean {
    return this.#open;
  }

  async write(data: Buffer): Promise<void> {
    if (!this.#open) throw new DriverError('LINK_CLOSED', 'write on a closed link', this.name);
    const copy = Buffer.from(data);
    this.written.push(copy);
    const peer = this.peer;
    // Deliver synchronously when the peer is open, so tests see bytes right after
    // `await write()`; bytes to a closed peer are lost, like on an unplugged cable.
    if (peer !== undefined && peer.#open) peer.emit('data', copy);
  }

  /** Inject bytes as if they came from the other end (no peer needed). */
  receive(data: Buffer | Uint8Array | number[]): void {
    if (!this.#open) return;
    this.emit('data', Buffer.from(data instanceof Uint8Array ? data : Uint8Array.from(data)));
  }

  /** All bytes this end wrote, concatenated. */
  writtenBytes(): Buffer {
    return Buffer.concat(this.written);
  }

  /**
   * Unplug. The peer closes too, like the host end of a pty when socat dies (it gets
   * the same Error, or "closed by the other end").
   */
  close(error?: Error): void {
    if (!this.#open) return;
    this.#open = false;
    this.emit('close', error);
    const peer = this.peer;
    if (peer !== undefined && peer.#open) peer.close(error ?? new Error(`${this.name}: link closed by the other end`));
  }

  /** Replug: both ends open before either hears 'open', so set-up writes get through. */
  open(): void {
    if (this.#open) return;
    this.#open = true;
    const peer = this.peer;
    const peerWasClosed = peer !== undefined && !peer.#open;
    if (peer !== undefined) peer.#open = true;
    this.emit('open');
    if (peerWasClosed) peer?.emit('open');
  }
}

/** Two connected ends: [host (driver) side, device (simulator) side]. */
export function linkPair(names: [string, string] = ['host', 'device']): [MemoryLink, MemoryLink] {
  const a = new MemoryLink(names[0]);
  const b = new MemoryLink(names[1]);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/** Unplug both ends of a pair (host sees 'close' with an Error, like EIO). */
export function unplug(pair: [MemoryLink, MemoryLink]): void {
  pair[0].close(new Error('device unplugged'));
}

/** Replug both ends (host sees 'open'). */
export function replug(pair: [MemoryLink, MemoryLink]): void {
  pair[1].open();
}
