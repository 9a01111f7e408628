import { afterEach, describe, expect, it, vi } from 'vitest';
import { HONEYWELL_RELEASE, HONEYWELL_TRIGGER, LineScanner, splitAim, type LineScannerOptions, type ScanInfo } from '../../../drivers/scanner/line-scanner.js';
import { LineScannerSim, type LineScannerSimOptions } from '../../../drivers/scanner/line-scanner.sim.js';
import { linkPair, replug, unplug } from '../../../drivers/transport/memory-link.js';
import type { DeviceStatus } from '../../../drivers/types.js';
import { bytes, hex, ManualTimers } from './harness.js';

async function setup(opts: LineScannerOptions = {}, simOpts: LineScannerSimOptions = {}) {
  const pair = linkPair();
  const timers = new ManualTimers();
  const scanner = new LineScanner(pair[0], { timers, ...opts });
  const sim = new LineScannerSim(pair[1], simOpts);
  const scans: { payload: Buffer; info: ScanInfo }[] = [];
  scanner.on('scan', (payload: Buffer, info: ScanInfo) => scans.push({ payload, info }));
  sim.start();
  await scanner.start();
  return { pair, timers, scanner, sim, scans };
}

describe('LineScanner', () => {
  it('emits the code bytes of a CR-terminated line as a Buffer', async () => {
    const { pair, scans } = await setup();
    pair[1].write(Buffer.from('PASS:abc\r', 'latin1'));
    expect(scans.map((s) => s.payload.toString('latin1'))).toEqual(['PASS:abc']);
  });

  it('honours CRLF and LF suffixes and tolerates the stray half of a CRLF', async () => {
    const crlf = await setup({ suffix: 'CRLF' });
    await crlf.pair[1].write(Buffer.from('A\r\nB\r\n', 'latin1'));
    expect(crlf.scans.map((s) => s.payload.toString())).toEqual(['A', 'B']);
    const lf = await setup({ suffix: 'LF' });
    await lf.pair[1].write(Buffer.from('C\nD\r\n', 'latin1'));
    expect(lf.scans.map((s) => s.payload.toString())).toEqual(['C', 'D']);
    const cr = await setup({ suffix: 'CR' });
    await cr.pair[1].write(Buffer.from('E\r\nF\r\n', 'latin1'));
    expect(cr.scans.map((s) => s.payload.toString())).toEqual(['E', 'F']);
  });

  it('strips an AIM id prefix and keeps the symbology in a field', async () => {
    const { sim, scans, scanner } = await setup({ aimPrefix: true }, { aimId: ']Q1' });
    await sim.present('HC1:XYZ');
    expect(scans).toEqual([{ payload: Buffer.from('HC1:XYZ'), info: { symbology: ']Q1' } }]);
    expect(scanner.lastSymbology).toBe(']Q1');
    expect(splitAim(Buffer.from('no-aim'))).toEqual({ payload: Buffer.from('no-aim') });
  });

  it('passes non-UTF-8 bytes on as they came instead of crashing', async () => {
    const { pair, scans } = await setup();
    await pair[1].write(bytes('FF FE 80 41 0D'));
    expect(scans.map((s) => hex(s.payload))).toEqual(['fffe8041']);
  });

  it('sends the Honeywell trigger SYN T CR and release SYN U CR byte for byte', async () => {
    const { pair, scanner } = await setup({ honeywellTrigger: true });
    await scanner.trigger();
    await scanner.release();
    expect(hex(HONEYWELL_TRIGGER)).toBe('16540d');
    expect(hex(HONEYWELL_RELEASE)).toBe('16550d');
    expect(pair[0].written.map(hex)).toEqual(['16540d', '16550d']);
  });

  it('refuses trigger() with a coded error when the scanner is not in trigger mode', async () => {
    const { scanner } = await setup();
    await expect(scanner.trigger()).rejects.toThrow(/\[INVALID_ARGUMENT\]/);
  });

  it('lets the simulator hold a code until the host triggers, like a Honeywell in serial-trigger mode', async () => {
    const { sim, scanner, scans } = await setup({ honeywellTrigger: true }, { honeywellTrigger: true });
    await sim.present('HELD');
    expect(scans).toEqual([]);
    await scanner.trigger();
    await new Promise((r) => setImmediate(r));
    expect(scans.map((s) => s.payload.toString())).toEqual(['HELD']);
  });

  it('drops a partial line after the inter-byte timeout so it cannot prefix the next code', async () => {
    const { pair, timers, scanner, scans } = await setup({ interByteTimeoutMs: 80 });
    await pair[1].write(Buffer.from('TRUNCAT', 'latin1'));
    timers.advance(81);
    await pair[1].write(Buffer.from('GOOD\r', 'latin1'));
    expect(scans.map((s) => s.payload.toString())).toEqual(['GOOD']);
    expect(scanner.counters.timeouts).toBe(1);
    expect(scanner.counters.bytesDiscarded).toBe(7);
  });

  it('caps the line length and drops the over-long line whole', async () => {
    const { pair, scanner, scans } = await setup({ maxLength: 10 });
    await pair[1].write(Buffer.from('X'.repeat(25) + '\rOK\r', 'latin1'));
    expect(scans.map((s) => s.payload.toString())).toEqual(['OK']);
    expect(scanner.counters.bytesDiscarded).toBe(26);
  });

  it('follows the link: connected on start, disconnected on unplug, connected again on replug', async () => {
    const { pair, scanner, sim, scans } = await setup();
    const states: DeviceStatus[] = [];
    scanner.on('status', (s: DeviceStatus) => states.push(s));
    expect(scanner.status.state).toBe('connected');
    expect(scanner.status.type).toBe('line-scanner');
    await pair[1].write(Buffer.from('HALF', 'latin1'));
    unplug(pair);
    expect(scanner.status.state).toBe('disconnected');
    expect(scanner.status.detail).toBe('device unplugged');
    replug(pair);
    await sim.present('AFTER');
    expect(states.map((s) => s.state)).toEqual(['disconnected', 'connected']);
    // the half line from before the unplug is gone, not glued to the new code
    expect(scans.map((s) => s.payload.toString())).toEqual(['AFTER']);
    await scanner.stop();
    expect(scanner.status).toMatchObject({ state: 'disconnected', detail: 'stopped' });
  });

  it('delivers codes exactly through split frames and survives garbage knobs', async () => {
    const { sim, scans } = await setup({}, { faults: { splitFrames: true } });
    for (let i = 0; i < 20; i++) await sim.present(`CODE-${i}-${'z'.repeat(i * 7)}`);
    expect(scans.map((s) => s.payload.toString())).toEqual(Array.from({ length: 20 }, (_, i) => `CODE-${i}-${'z'.repeat(i * 7)}`));
    sim.setFaults({ splitFrames: false, garbageBytes: 5 });
    await sim.present('NOISY');
    // Line noise joins the line (no marker to resync on): the gateway refuses such a code.
    expect(scans.at(-1)?.payload.subarray(-5).toString()).toBe('NOISY');
    expect(scans.at(-1)?.payload.length).toBe(10);
  });

  it('drops codes whose chunks come slower than the inter-byte timeout (chunk-gap knob, fake timers)', async () => {
    vi.useFakeTimers();
    const pair = linkPair();
    const scanner = new LineScanner(pair[0], { interByteTimeoutMs: 100 });
    const sim = new LineScannerSim(pair[1], { faults: { splitFrames: true, chunkGapMs: 150 } });
    const scans: string[] = [];
    scanner.on('scan', (p: Buffer) => scans.push(p.toString()));
    await scanner.start();
    const sent = sim.present('A-CODE-LONG-ENOUGH-TO-SPLIT');
    await vi.runAllTimersAsync();
    await sent;
    expect(scans.includes('A-CODE-LONG-ENOUGH-TO-SPLIT')).toBe(false);
    expect(scanner.counters.timeouts).toBeGreaterThan(0);
    sim.setFaults({ chunkGapMs: 50 });
    const ok = sim.present('SECOND-CODE-ALSO-SPLIT');
    await vi.runAllTimersAsync();
    await ok;
    expect(scans.at(-1)).toBe('SECOND-CODE-ALSO-SPLIT');
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps running when a scan listener throws', async () => {
    const { pair, scanner, scans } = await setup();
    scanner.prependListener('scan', () => {
      throw new Error('listener bug');
    });
    await pair[1].write(Buffer.from('A\rB\r', 'latin1'));
    expect(scans.map((s) => s.payload.toString())).toEqual(['A', 'B']);
  });

  it('refuses an unknown suffix with a coded error', () => {
    const [host] = linkPair();
    expect(() => new LineScanner(host, { suffix: 'NUL' as never })).toThrow(/\[INVALID_ARGUMENT\]/);
  });
});
