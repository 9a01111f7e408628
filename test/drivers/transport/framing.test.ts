import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ByteBuffer,
  crc16Ccitt,
  crc16Modbus,
  crc16Xmodem,
  DelimiterFramer,
  DriverError,
  FixedFramer,
  sum8,
  sum8Complement,
  trailingSum8,
  withModbusCrc,
  xor8,
  type Discarded,
} from '../../../drivers/transport/framing.js';
import { bytes, hex, ManualTimers } from '../scanner/harness.js';

describe('checksums', () => {
  it('computes the standard check values of CRC-16/XMODEM and CRC-16/Modbus for "123456789"', () => {
    const check = Buffer.from('123456789', 'latin1');
    expect(crc16Xmodem(check)).toBe(0x31c3);
    expect(crc16Modbus(check)).toBe(0x4b37);
  });

  it('reproduces the GM65 trigger and ACK CRCs from devices.md', () => {
    expect(crc16Xmodem(bytes('08 01 00 02 01'))).toBe(0x02da);
    // ACK `02 00 00 01 00 33 31`: CRC over TYPE..DATA = 00 01 00, big-endian
    expect(crc16Xmodem(bytes('00 01 00'))).toBe(0x3331);
  });

  it('reproduces every Modbus example frame in devices.md, CRC low byte first', () => {
    expect(hex(withModbusCrc(bytes('01 05 00 00 FF 00')))).toBe('01050000ff008c3a');
    expect(hex(withModbusCrc(bytes('01 01 00 00 00 08')))).toBe('0101000000083dcc');
    expect(hex(withModbusCrc(bytes('01 05 02 00 00 07')))).toBe('0105020000078db0');
    expect(hex(withModbusCrc(bytes('01 06 00 01 06 05')))).toBe('0106000106051ba9');
  });

  it('reproduces the LCUS and LU90614 sum checksums from devices.md', () => {
    expect(sum8(bytes('A0 01 01'))).toBe(0xa2);
    expect(sum8(bytes('A0 01 00'))).toBe(0xa1);
    expect(sum8(bytes('FA C5'))).toBe(0xbf);
    expect(sum8(bytes('FA CA'))).toBe(0xc4);
    expect(trailingSum8(bytes('FA CA C4'))).toBe(true);
    expect(trailingSum8(bytes('FA CA C5'))).toBe(false);
  });

  it('reproduces the OSDP POLL CRC with the 0x1D0F seed', () => {
    const crc = crc16Ccitt(bytes('53 01 08 00 04 60'), 0x1d0f);
    expect([crc & 0xff, crc >> 8]).toEqual([0xba, 0x00]);
  });

  it('makes a frame sum to zero with sum8Complement and xors bytes with xor8', () => {
    const body = bytes('12 34 56');
    expect(sum8(Buffer.concat([body, Buffer.from([sum8Complement(body)])]))).toBe(0);
    expect(xor8(bytes('0F F0 FF'))).toBe(0x00);
  });
});

describe('ByteBuffer', () => {
  it('takes only what fits and never grows past its capacity', () => {
    const b = new ByteBuffer(4);
    expect(b.push(bytes('01 02 03'))).toBe(3);
    expect(b.push(bytes('04 05 06'))).toBe(1);
    expect(hex(b.view())).toBe('01020304');
    expect(hex(b.consume(2))).toBe('0102');
    expect(b.push(bytes('07 08'))).toBe(2);
    expect(hex(b.view())).toBe('03040708');
    expect(b.length).toBe(4);
  });

  it('refuses a zero capacity with a coded error', () => {
    expect(() => new ByteBuffer(0)).toThrow(DriverError);
    expect(() => new ByteBuffer(0)).toThrow(/\[INVALID_ARGUMENT\]/);
  });
});

describe('DelimiterFramer', () => {
  const make = (timers = new ManualTimers(), maxLength = 16) =>
    new DelimiterFramer({ delimiter: bytes('0D'), maxLength, interByteTimeoutMs: 100, timers });

  it('hands on whole lines however the bytes are chunked', () => {
    const f = make();
    const lines: string[] = [];
    f.on('frame', (l) => lines.push(l.toString('latin1')));
    for (const c of ['AB', 'C\rDE', 'F\r', '\r']) f.push(Buffer.from(c, 'latin1'));
    expect(lines).toEqual(['ABC', 'DEF']);
    expect(f.counters.framesOut).toBe(2);
  });

  it('drops an over-long line up to its terminator and counts the bytes as too-long', () => {
    const f = make(new ManualTimers(), 4);
    const lines: string[] = [];
    const discards: Discarded[] = [];
    f.on('frame', (l) => lines.push(l.toString('latin1')));
    f.on('discarded', (d) => discards.push(d));
    f.push(Buffer.from('0123456789', 'latin1'));
    f.push(Buffer.from('XYZ\rOK\r', 'latin1'));
    expect(lines).toEqual(['OK']);
    expect(discards.every((d) => d.reason === 'too-long')).toBe(true);
    expect(discards.reduce((n, d) => n + d.count, 0)).toBe(14);
  });

  it('drops a partial line after the inter-byte timeout and counts a timeout', () => {
    const timers = new ManualTimers();
    const f = make(timers);
    const lines: string[] = [];
    const discards: Discarded[] = [];
    f.on('frame', (l) => lines.push(l.toString('latin1')));
    f.on('discarded', (d) => discards.push(d));
    f.push(Buffer.from('PART', 'latin1'));
    timers.advance(99);
    f.push(Buffer.from('IAL', 'latin1'));
    timers.advance(101);
    f.push(Buffer.from('NEW\r', 'latin1'));
    expect(lines).toEqual(['NEW']);
    expect(discards).toEqual([{ count: 7, reason: 'timeout', sample: Buffer.from('PARTIAL', 'latin1') }]);
    expect(f.counters).toEqual({ bytesIn: 11, framesOut: 1, bytesDiscarded: 7, badFrames: 0, timeouts: 1 });
  });

  it('uses the global timers by default, so vitest fake timers drive the timeout', () => {
    vi.useFakeTimers();
    const f = new DelimiterFramer({ delimiter: bytes('0D'), interByteTimeoutMs: 50 });
    f.push(Buffer.from('abc', 'latin1'));
    vi.advanceTimersByTime(51);
    expect(f.counters.timeouts).toBe(1);
    expect(f.buffered).toBe(0);
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('handles a two-byte CRLF delimiter split across chunks', () => {
    const f = new DelimiterFramer({ delimiter: bytes('0D 0A'), maxLength: 8, timers: new ManualTimers() });
    const lines: string[] = [];
    f.on('frame', (l) => lines.push(l.toString('latin1')));
    f.push(Buffer.from('A1\r', 'latin1'));
    f.push(Buffer.from('\nB2\r\n', 'latin1'));
    expect(lines).toEqual(['A1', 'B2']);
  });
});

describe('FixedFramer', () => {
  it('skips garbage before a frame start and emits a discarded record for it', () => {
    const f = new FixedFramer({ start: [0xfa], length: 3, verify: trailingSum8, timers: new ManualTimers() });
    const frames: string[] = [];
    const discards: Discarded[] = [];
    f.on('frame', (x) => frames.push(hex(x)));
    f.on('discarded', (d) => discards.push(d));
    f.push(bytes('00 11 22 FA CA C4'));
    expect(frames).toEqual(['facac4']);
    expect(discards).toEqual([{ count: 3, reason: 'no-frame-start', sample: bytes('00 11 22') }]);
  });

  it('counts a bad checksum and resynchronises onto the real frame behind a false start', () => {
    const f = new FixedFramer({ start: [0xfa], length: 3, verify: trailingSum8, timers: new ManualTimers() });
    const frames: string[] = [];
    f.on('frame', (x) => frames.push(hex(x)));
    f.push(bytes('FA FA CA C4'));
    expect(frames).toEqual(['facac4']);
    expect(f.counters.badFrames).toBe(1);
    expect(f.counters.bytesDiscarded).toBe(1);
  });

  it('drops everything on overflow when no frame can complete', () => {
    const f = new FixedFramer({ start: [], length: 8, capacity: 8, verify: () => false, timers: new ManualTimers() });
    f.push(Buffer.alloc(100, 0x55));
    expect(f.buffered).toBeLessThan(8);
    expect(f.counters.bytesDiscarded + f.buffered).toBe(100);
  });

  it('drops a partial frame on reset (link closed) with reason reset', () => {
    const f = new FixedFramer({ start: [0xfe], length: 9, timers: new ManualTimers() });
    const discards: Discarded[] = [];
    f.on('discarded', (d) => discards.push(d));
    f.push(bytes('FE 00 24'));
    f.reset();
    expect(discards.map((d) => [d.count, d.reason])).toEqual([[3, 'reset']]);
  });

  it('processes every byte even when a frame listener throws, then rethrows the listener error', () => {
    const f = new FixedFramer({ start: [0xfa], length: 3, verify: trailingSum8, timers: new ManualTimers() });
    const frames: string[] = [];
    f.on('frame', (x) => {
      frames.push(hex(x));
      throw new Error('listener bug');
    });
    expect(() => f.push(bytes('FA CA C4 FA C5 BF FA'))).toThrow('listener bug');
    expect(frames).toEqual(['facac4', 'fac5bf']);
    expect(f.buffered).toBe(1);
  });

  it('treats a throwing verify as a bad frame instead of throwing', () => {
    const f = new FixedFramer({
      start: [0x01],
      length: 2,
      verify: () => {
        throw new Error('bug');
      },
      timers: new ManualTimers(),
    });
    expect(() => f.push(bytes('01 02 01 03'))).not.toThrow();
    expect(f.counters.badFrames).toBeGreaterThan(0);
  });
});
