// One RS-485 port, several Modbus RTU masters' worth of drivers: a gate relay board and
// a beam on an input module (or the relays and inputs of one "Relay (D)" board) on the
// same serial line. Modbus RTU is half-duplex with no request ids: a reply is known only
// by arriving after its request, so two drivers writing on their own would interleave
// requests and read each other's replies. The bus owns the one link and gives each
// driver a channel (a ByteLink); it puts one request on the wire at a time, hands the
// reply bytes to the channel that asked, and frees the line when a whole reply frame for
// that request arrived or after the channel's timeout.
import { EventEmitter } from 'node:events';
import { ModbusFramer } from '../relay/modbus-frames.js';
import type { ByteLink } from '../types.js';
import { defaultTimers, DriverError, type TimerFns } from './framing.js';

export interface ModbusBusOptions {
  /** Baud rate of the line: sets the 3.5-character silence before each request. Default 9600. */
  baudRate?: number;
  /** How long a request holds the line without a complete reply (ms), unless its channel says otherwise. Default 300. */
  timeoutMs?: number;
  /** Port path or name, for error messages. */
  where?: string;
  timers?: TimerFns;
  now?: () => number;
}

export interface ModbusChannelOptions {
  /** How long this channel's requests hold the line without a complete reply (ms): its driver's reply timeout. */
  timeoutMs?: number;
}

export type ModbusBusCounters = {
  /** Requests put on the wire. */
  requests: number;
  /** Requests freed by a complete reply frame (its address and function code). */
  replies: number;
  /** Requests freed by the timeout (no reply, a corrupt one, or a wrong one). */
  timeouts: number;
  /** Queued requests replaced by a newer one of the same channel before the line was free. */
  superseded: number;
  /** Requests the link failed to write. */
  writeFailures: number;
  /** Requests dropped unsent after waiting their channel's timeout: the driver has given up on them (a gate pulse reported as failed must not go out late). */
  expired: number;
  /** Bytes that came with no request outstanding: dropped. */
  unsolicitedBytes: number;
};

interface Queued {
  channel: ModbusBusChannel;
  frame: Buffer;
  /** When the driver wrote it: its reply timeout runs from about here. */
  at: number;
}

interface Outstanding {
  channel: ModbusBusChannel;
  address: number;
  fc: number;
  timer: unknown;
}


/**
 * Serialises the Modbus transactions of several drivers on one ByteLink. Each write of
 * a channel must be one whole request frame (the drivers write one frame per call). A
 * channel's write resolves once the request is queued (rejects at once when the link is
 * closed): a driver starts its reply timeout around the write, and a request that never
 * reaches the wire (write failure, link lost, superseded, or expired: still queued when
 * its channel's timeout has passed) simply gets no reply, which that timeout handles as
 * it does on a link of its own. Resolving later would let the
 * timeout reject a reply promise the driver only awaits after the write. A channel has
 * at most one request queued: a newer write replaces an unsent older one (a poll the
 * driver already gave up on).
 */
export class ModbusBus {
  readonly #link: ByteLink;
  readonly #timeoutMs: number;
  readonly #silenceMs: number;
  readonly #where: string;
  readonly #timers: TimerFns;
  readonly #now: () => number;
  readonly #framer: ModbusFramer;
  readonly #channels = new Set<ModbusBusChannel>();
  readonly #queue: Queued[] = [];
  readonly #counters: ModbusBusCounters = { requests: 0, replies: 0, timeouts: 0, superseded: 0, writeFailures: 0, expired: 0, unsolicitedBytes: 0 };
  #current: Outstanding | null = null;
  #gapTimer: unknown = undefined;
  #lastBusAt = 0;

  constructor(link: ByteLink, options: ModbusBusOptions = {}) {
    this.#link = link;
    this.#timeoutMs = options.timeoutMs ?? 300;
    this.#where = options.where ?? 'modbus-bus';
    // 3.5 characters of 11 bits each, at least 2 ms so a fast bus still gets a gap (as the drivers do).
    this.#silenceMs = Math.max(2, Math.ceil((3.5 * 11 * 1000) / (options.baudRate ?? 9600)));
    this.#timers = options.timers ?? defaultTimers;
    this.#now = options.now ?? Date.now;
    this.#framer = new ModbusFramer({ direction: 'reply', timers: this.#timers });
    this.#framer.on('frame', (f) => this.#onFrame(f));
    link.on('open', this.#onOpen);
    link.on('close', this.#onClose);
    link.on('data', this.#onData);
  }

  /** A ByteLink for one driver; `name` is for error messages. */
  channel(name: string, options: ModbusChannelOptions = {}): ModbusBusChannel {
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) throw new DriverError('INVALID_ARGUMENT', `timeoutMs must be a positive number, got ${timeoutMs}`, this.#where);
    const ch = new ModbusBusChannel(name, timeoutMs, this.#link, (c, frame) => this.#enqueue(c, frame));
    this.#channels.add(ch);
    return ch;
  }

  get counters(): ModbusBusCounters {
    return { ...this.#counters };
  }

  /** The 3.5-character silence kept before each request (ms). */
  get silenceMs(): number {
    return this.#silenceMs;
  }

  /** Stop listening to the link and drop what is queued (the link itself is its owner's). */
  dispose(): void {
    this.#link.off('open', this.#onOpen);
    this.#link.off('close', this.#onClose);
    this.#link.off('data', this.#onData);
    this.#abandon();
    this.#framer.dispose();
  }

  readonly #onOpen = (): void => {
    this.#framer.reset();
    this.#lastBusAt = this.#now();
    for (const ch of this.#channels) ch.emit('open');
  };

  readonly #onClose = (err?: Error): void => {
    this.#abandon();
    for (const ch of this.#channels) ch.emit('close', err);
  };

  readonly #onData = (chunk: Buffer): void => {
    this.#lastBusAt = this.#now();
    const current = this.#current;
    if (current === null) {
      this.#counters.unsolicitedBytes += chunk.length;
      return;
    }
    // The framer may free the line; these bytes still belong to the channel that asked.
    this.#framer.push(chunk);
    current.channel.emit('data', chunk);
  };

  #onFrame(frame: Buffer): void {
    const c = this.#current;
    if (c === null || frame[0] !== c.address || (frame[1] !== c.fc && frame[1] !== (c.fc | 0x80))) return;
    this.#counters.replies++;
    this.#release();
  }

  #enqueue(channel: ModbusBusChannel, frame: Buffer): Promise<void> {
    if (!this.#link.isOpen) return Promise.reject(new DriverError('LINK_CLOSED', `${channel.name}: write on a closed link`, this.#where));
    if (frame.length < 2) return Promise.reject(new DriverError('INVALID_ARGUMENT', `${channel.name}: expected a whole Modbus request frame, got ${frame.length} byte(s)`, this.#where));
    const i = this.#queue.findIndex((q) => q.channel === channel);
    if (i >= 0) {
      this.#counters.superseded++;
      this.#queue.splice(i, 1);
    }
    this.#queue.push({ channel, frame: Buffer.from(frame), at: this.#now() });
    this.#pump();
    return Promise.resolve();
  }

  #pump(): void {
    if (this.#current !== null || this.#gapTimer !== undefined || !this.#link.isOpen) return;
    while (this.#queue[0] !== undefined && this.#now() - this.#queue[0].at >= this.#queue[0].channel.timeoutMs) {
      this.#queue.shift();
      this.#counters.expired++;
    }
    const next = this.#queue[0];
    if (next === undefined) return;
    // RTU frames are delimited by silence: 3.5 characters clear of the last byte either way.
    // Capped, so a wall clock set back cannot hold the line for the size of the jump.
    const gap = Math.min(this.#silenceMs, this.#lastBusAt + this.#silenceMs - this.#now());
    if (gap > 0) {
      this.#gapTimer = this.#timers.setTimeout(() => {
        this.#gapTimer = undefined;
        this.#pump();
      }, gap);
      return;
    }
    this.#queue.shift();
    const { channel, frame } = next;
    const outstanding: Outstanding = { channel, address: frame[0]!, fc: frame[1]!, timer: undefined };
    // Outstanding before the write: an in-memory peer may answer inside write().
    outstanding.timer = this.#timers.setTimeout(() => this.#onTimeout(outstanding), channel.timeoutMs);
    this.#current = outstanding;
    this.#framer.reset();
    this.#counters.requests++;
    this.#lastBusAt = this.#now();
    this.#link.write(frame).then(
      () => {
        if (this.#current === outstanding) this.#lastBusAt = Math.max(this.#lastBusAt, this.#now());
      },
      () => {
        // Nothing (or not all) went out: no reply to wait for. The link reports its own loss.
        this.#counters.writeFailures++;
        if (this.#current === outstanding) this.#release();
      },
    );
  }

  #onTimeout(outstanding: Outstanding): void {
    if (this.#current !== outstanding) return;
    this.#counters.timeouts++;
    this.#release();
  }

  #release(): void {
    const c = this.#current;
    if (c !== null) this.#timers.clearTimeout(c.timer);
    this.#current = null;
    this.#pump();
  }

  /** The link went away: nothing outstanding, nothing queued (each driver resets on 'close'). */
  #abandon(): void {
    if (this.#current !== null) this.#timers.clearTimeout(this.#current.timer);
    this.#current = null;
    if (this.#gapTimer !== undefined) this.#timers.clearTimeout(this.#gapTimer);
    this.#gapTimer = undefined;
    this.#queue.length = 0;
    this.#framer.reset();
  }
}

/** One driver's view of the bus: a ByteLink whose 'data' is only the replies to its own requests. */
export class ModbusBusChannel extends EventEmitter implements ByteLink {
  readonly #link: ByteLink;
  readonly #send: (channel: ModbusBusChannel, frame: Buffer) => Promise<void>;

  /** Made by ModbusBus.channel(). */
  constructor(
    readonly name: string,
    readonly timeoutMs: number,
    link: ByteLink,
    send: (channel: ModbusBusChannel, frame: Buffer) => Promise<void>,
  ) {
    super();
    this.#link = link;
    this.#send = send;
  }

  get isOpen(): boolean {
    return this.#link.isOpen;
  }

  write(data: Buffer): Promise<void> {
    return this.#send(this, data);
  }
}
