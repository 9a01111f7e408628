import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  decodeInputEvent,
  encodeInputEvent,
  encodeKeystrokes,
  EV_KEY,
  EvdevWedgeScanner,
  KEY_CAPSLOCK,
  KEY_ENTER,
  KEY_LEFTSHIFT,
  KEY_RIGHTSHIFT,
  type EvdevWedgeOptions,
} from '../../../drivers/scanner/evdev-wedge.js';
import { EvdevWedgeSim } from '../../../drivers/scanner/evdev-wedge.sim.js';
import { openEvdev } from '../../../drivers/transport/evdev.js';
import { linkPair } from '../../../drivers/transport/memory-link.js';
import { bytes, hex, ManualTimers } from './harness.js';

async function setup(opts: EvdevWedgeOptions = {}) {
  const pair = linkPair();
  const timers = new ManualTimers();
  const scanner = new EvdevWedgeScanner(pair[0], { timers, ...opts });
  const sim = new EvdevWedgeSim(pair[1], opts.timevalBytes ? { timevalBytes: opts.timevalBytes } : {});
  const scans: string[] = [];
  scanner.on('scan', (p: Buffer) => scans.push(p.toString('latin1')));
  await scanner.start();
  return { pair, scanner, sim, scans, timers };
}

const key = (code: number, value: number, usec = 0) => encodeInputEvent({ sec: 1_700_000_000, usec, type: EV_KEY, code, value });

describe('evdev input_event records', () => {
  it('encodes a 24-byte x86_64 record: timeval 16 bytes, type u16, code u16, value s32, little-endian', () => {
    const r = encodeInputEvent({ sec: 0x11223344, usec: 0x0a0b0c, type: EV_KEY, code: KEY_ENTER, value: 1 });
    expect(hex(r)).toBe(hex(bytes('44 33 22 11 00 00 00 00  0c 0b 0a 00 00 00 00 00  01 00  1c 00  01 00 00 00')));
    expect(decodeInputEvent(r)).toEqual({ sec: 0x11223344, usec: 0x0a0b0c, type: 1, code: 28, value: 1 });
  });

  it('encodes a 16-byte record for 32-bit kernels', () => {
    const r = encodeInputEvent({ sec: 1, usec: 2, type: EV_KEY, code: 30, value: 0 }, 8);
    expect(hex(r)).toBe('01000000020000000100' + '1e0000000000');
    expect(decodeInputEvent(r, 8)).toEqual({ sec: 1, usec: 2, type: 1, code: 30, value: 0 });
  });
});

describe('EvdevWedgeScanner', () => {
  it('types a code with the US layout, shifted characters included, ending at Enter', async () => {
    const { sim, scans } = await setup();
    const code = 'HC1:6BFOXN*TS0BI$ZD-{}|"<>?~_+';
    await sim.present(code);
    expect(scans).toEqual([code]);
  });

  it('honours the right shift key as well as the left', async () => {
    const { pair, scans } = await setup();
    await pair[1].write(Buffer.concat([key(KEY_RIGHTSHIFT, 1), key(30, 1), key(30, 0), key(KEY_RIGHTSHIFT, 0), key(30, 1), key(KEY_ENTER, 1)]));
    expect(scans).toEqual(['Aa']);
  });

  it('ignores key-up and autorepeat events and toggles letters with caps lock', async () => {
    const { pair, scans } = await setup();
    await pair[1].write(
      Buffer.concat([key(KEY_CAPSLOCK, 1), key(KEY_CAPSLOCK, 0), key(30, 1), key(30, 2), key(30, 0), key(KEY_LEFTSHIFT, 1), key(30, 1), key(2, 1), key(KEY_LEFTSHIFT, 0), key(KEY_ENTER, 1)]),
    );
    expect(scans).toEqual(['Aa!']);
  });

  it('reassembles records split at any byte', async () => {
    const { sim, scans } = await setup();
    sim.setFaults({ splitFrames: true });
    await sim.present('split-me-123');
    expect(scans).toEqual(['split-me-123']);
  });

  it('drops a code whose Enter never comes after the inter-key timeout', async () => {
    const { pair, scans, scanner, timers } = await setup({ interKeyTimeoutMs: 300 });
    const typed = encodeKeystrokes('LOST');
    await pair[1].write(typed.subarray(0, typed.length - 24 * 5)); // everything but the Enter press
    timers.advance(301);
    await pair[1].write(encodeKeystrokes('KEPT'));
    expect(scans).toEqual(['KEPT']);
    expect(scanner.counters.timeouts).toBeGreaterThanOrEqual(1);
  });

  it('reads 16-byte records when configured for a 32-bit kernel', async () => {
    const { sim, scans } = await setup({ timevalBytes: 8 });
    await sim.present('arm32');
    expect(scans).toEqual(['arm32']);
  });

  it('refuses characters the US layout cannot type with a coded error', () => {
    expect(() => encodeKeystrokes('é')).toThrow(/\[INVALID_ARGUMENT\]/);
  });
});

describe('openEvdev', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('streams a device file as a ByteLink the wedge scanner reads, then reports close at the end', async () => {
    dir = mkdtempSync(join(tmpdir(), 'evdev-'));
    const path = join(dir, 'event0');
    writeFileSync(path, Buffer.concat([encodeKeystrokes('FROM-FILE'), encodeKeystrokes('second')]));
    const link = await openEvdev(path);
    const scanner = new EvdevWedgeScanner(link);
    const scans: string[] = [];
    scanner.on('scan', (p: Buffer) => scans.push(p.toString()));
    const closed = new Promise<void>((resolve) => link.once('close', () => resolve()));
    await scanner.start();
    expect(scanner.status.state).toBe('connected');
    await closed;
    expect(scans).toEqual(['FROM-FILE', 'second']);
    expect(scanner.status.state).toBe('disconnected');
    await expect(link.write()).rejects.toMatchObject({ code: 'WRITE_FAILED' });
    await scanner.stop();
  });

  it('rejects with OPEN_FAILED for a missing device', async () => {
    await expect(openEvdev('/nonexistent/event99')).rejects.toMatchObject({ code: 'OPEN_FAILED' });
  });
});
