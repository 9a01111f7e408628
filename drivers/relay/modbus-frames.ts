// Modbus RTU frames of relay boards (devices.md "Modbus RTU relay boards"): builders for
// the two profiles and a framer for both directions. Pure: no I/O, no timers of its own.
import { crc16Modbus, DriverError, Framer, withModbusCrc, type FramerOptions, type ScanResult } from '../transport/framing.js';

export type ModbusProfile = 'coils' | 'registers';

export const FC = { readCoils: 0x01, readDiscreteInputs: 0x02, readHolding: 0x03, writeCoil: 0x05, writeRegister: 0x06, writeCoils: 0x0f, writeRegisters: 0x10 } as const;

/** Coil profile: the device-timed flash lives at 0x0200 + coil, in 100 ms units. */
export const FLASH_BASE = 0x0200;
export const COIL_ON = 0xff00;
export const COIL_OFF = 0x0000;
/** Register profile commands (high byte), low byte = argument. */
export const REG_OPEN = 0x0100;
export const REG_CLOSE = 0x0200;
export const REG_TIMED = 0x0600;

function u16(fcBody: number[], value: number): number[] {
  return [...fcBody, (value >>> 8) & 0xff, value & 0xff];
}

/** address, function code, 16-bit field, 16-bit value, CRC low first. */
export function request(address: number, fc: number, field: number, value: number): Buffer {
  return withModbusCrc(Uint8Array.from(u16(u16([address, fc], field), value)));
}

/** Channel is 1-based everywhere in configuration; coils are 0-based on the wire. */
export function coilWrite(address: number, channel: number, on: boolean): Buffer {
  return request(address, FC.writeCoil, channel - 1, on ? COIL_ON : COIL_OFF);
}

/** Units of 100 ms, rounded up so the gate is open at least as long as asked. */
export function flashUnits(ms: number): number {
  return Math.min(0xffff, Math.max(1, Math.ceil(ms / 100)));
}

export function coilFlash(address: number, channel: number, ms: number): Buffer {
  return request(address, FC.writeCoil, FLASH_BASE + channel - 1, flashUnits(ms));
}

export function readCoils(address: number, count = 8): Buffer {
  return request(address, FC.readCoils, 0, count);
}

/** Most inputs one FC02 request may ask for (Modbus application protocol 1.1b3, 6.2). */
export const MAX_DISCRETE_INPUTS = 2000;

/**
 * FC02 "Read Discrete Inputs": `addr 02 start(2) quantity(2) crc`. `start` is the
 * 0-based input address on the wire (input 1 = 0). Read 8 from 0 at slave 1:
 * 01 02 00 00 00 08 79 CC.
 */
export function readDiscreteInputs(address: number, start: number, quantity: number): Buffer {
  if (!Number.isInteger(start) || start < 0 || start > 0xffff) throw new DriverError('INVALID_ARGUMENT', `start must be 0..65535, got ${start}`, 'readDiscreteInputs');
  if (!Number.isInteger(quantity) || quantity < 1 || quantity > MAX_DISCRETE_INPUTS || start + quantity > 0x10000) {
    throw new DriverError('INVALID_ARGUMENT', `quantity must be 1..${MAX_DISCRETE_INPUTS} within the address space, got ${quantity} from ${start}`, 'readDiscreteInputs');
  }
  return request(address, FC.readDiscreteInputs, start, quantity);
}

/**
 * The FC02 reply carrying `states` (index 0 = the first input asked for): one bit per
 * input, LSB first, padded with zeros to whole bytes. Input 1 on, of 8: 01 02 01 01 60 48.
 */
export function discreteInputsReply(address: number, states: readonly boolean[]): Buffer {
  const data = Buffer.alloc(Math.ceil(states.length / 8));
  states.forEach((on, i) => {
    if (on) data[i >> 3]! |= 1 << (i & 7);
  });
  return withModbusCrc(Buffer.concat([Buffer.from([address, FC.readDiscreteInputs, data.length]), data]));
}

/**
 * The input states of a CRC-checked FC02 reply to a request for `quantity` inputs, or
 * a DriverError BAD_REPLY saying what is wrong (exception, function, byte count).
 */
export function parseDiscreteInputs(reply: Buffer, quantity: number): boolean[] | DriverError {
  const where = 'FC02 reply';
  const fc = reply[1];
  if (fc === (FC.readDiscreteInputs | 0x80)) return new DriverError('BAD_REPLY', `exception code ${reply[2]}${EXCEPTIONS[reply[2] ?? 0] ?? ''}`, where);
  if (fc !== FC.readDiscreteInputs) return new DriverError('BAD_REPLY', `expected function 02, got ${hexByte(fc)}`, where);
  const bytes = Math.ceil(quantity / 8);
  if (reply[2] !== bytes || reply.length !== 5 + bytes) return new DriverError('BAD_REPLY', `expected ${bytes} data byte(s) for ${quantity} input(s), got a byte count of ${reply[2]}`, where);
  // Padding bits past `quantity` should be zero; they are ignored, as they carry nothing we asked for.
  return Array.from({ length: quantity }, (_, i) => ((reply[3 + (i >> 3)]! >> (i & 7)) & 1) === 1);
}

const EXCEPTIONS: Record<number, string> = {
  1: ' (illegal function: the module does not read inputs)',
  2: ' (illegal data address: no such input on this module)',
  3: ' (illegal data value: quantity out of range)',
  4: ' (slave device failure)',
};

function hexByte(n: number | undefined): string {
  return n === undefined ? 'nothing' : n.toString(16).padStart(2, '0');
}

/** Whole seconds, rounded up, 1..255 (the argument is one byte). */
export function timedSeconds(ms: number): number {
  return Math.min(0xff, Math.max(1, Math.ceil(ms / 1000)));
}

export function registerCommand(address: number, channel: number, command: number): Buffer {
  return request(address, FC.writeRegister, channel, command);
}

export function registerTimedOpen(address: number, channel: number, ms: number): Buffer {
  return registerCommand(address, channel, REG_TIMED | timedSeconds(ms));
}

export function readRegisters(address: number, count = 8): Buffer {
  return request(address, FC.readHolding, 1, count);
}

export function crcOk(frame: Buffer): boolean {
  if (frame.length < 4) return false;
  const crc = crc16Modbus(frame.subarray(0, frame.length - 2));
  return frame[frame.length - 2] === (crc & 0xff) && frame[frame.length - 1] === crc >>> 8;
}

/** Break a CRC on purpose (simulator fault knob). */
export function corruptCrc(frame: Buffer): Buffer {
  const out = Buffer.from(frame);
  out[out.length - 1] = (out[out.length - 1] ?? 0) ^ 0xff;
  return out;
}

export interface ModbusFramerOptions extends FramerOptions {
  /** Which side's frames this framer cuts: replies (host side) or requests (device side). */
  direction: 'reply' | 'request';
  /** Only frames of this slave address; others are skipped as not ours. */
  address?: number;
}

/**
 * Cuts RTU frames by function code: fixed 8 bytes for single writes and reads' requests,
 * byte-count-prefixed for read replies and multi-writes, 5 bytes for exceptions. A frame
 * with a bad CRC is counted and the framer resyncs one byte later.
 */
export class ModbusFramer extends Framer<Buffer> {
  readonly #direction: 'reply' | 'request';
  readonly #address: number | undefined;

  constructor(options: ModbusFramerOptions) {
    super({ capacity: 512, interByteTimeoutMs: 50, ...options });
    this.#direction = options.direction;
    this.#address = options.address;
  }

  protected scan(buf: Buffer): ScanResult<Buffer> {
    const addr = buf[0]!;
    if (this.#address !== undefined ? addr !== this.#address : addr === 0 || addr > 247) return { kind: 'skip', count: 1 };
    if (buf.length < 2) return { kind: 'need' };
    const fc = buf[1]!;
    const len = this.#length(fc, buf);
    if (len === null) return { kind: 'skip', count: 1 };
    if (len === 0 || buf.length < len) return { kind: 'need' };
    const frame = buf.subarray(0, len);
    if (!crcOk(frame)) return { kind: 'bad', reason: 'bad-checksum' };
    return { kind: 'frame', length: len, frame: Buffer.from(frame) };
  }

  /** Frame length, 0 when more bytes are needed to know it, null when not a frame start. */
  #length(fc: number, buf: Buffer): number | null {
    if (this.#direction === 'reply' && fc & 0x80) return 5;
    switch (fc) {
      case FC.readCoils:
      case FC.readDiscreteInputs:
      case FC.readHolding:
        if (this.#direction === 'request') return 8;
        return buf.length < 3 ? 0 : 5 + buf[2]!;
      case FC.writeCoil:
      case FC.writeRegister:
        return 8;
      case FC.writeCoils:
      case FC.writeRegisters:
        if (this.#direction === 'reply') return 8;
        return buf.length < 7 ? 0 : 9 + buf[6]!;
      default:
        return null;
    }
  }
}
