import { describe, expect, it } from 'vitest';
import {
  encodeGm65Command,
  encodeGm65Response,
  GM65_TRIGGER,
  GM65_WRITE_ACK,
  Gm65Framer,
  Gm65Scanner,
  type Gm65Frame,
  type Gm65Options,
} from '../../../drivers/scanner/gm65.js';
import { Gm65CommandFramer, Gm65Sim, type Gm65Command, type Gm65SimOptions } from '../../../drivers/scanner/gm65.sim.js';
import { DriverError } from '../../../drivers/transport/framing.js';
import { linkPair, replug, unplug } from '../../../drivers/transport/memory-link.js';
import { bytes, hex, ManualTimers } from './harness.js';

const tick = () => new Promise((r) => setImmediate(r));

async function setup(opts: Gm65Options = {}, simOpts: Gm65SimOptions = {}) {
  const pair = linkPair();
  const timers = new ManualTimers();
  const scanner = new Gm65Scanner(pair[0], { timers, ...opts });
  const sim = new Gm65Sim(pair[1], simOpts);
  const scans: string[] = [];
  const faults: DriverError[] = [];
  scanner.on('scan', (p: Buffer) => scans.push(p.toString('latin1')));
  scanner.on('fault', (e: DriverError) => faults.push(e));
  sim.start();
  await scanner.start();
  // Up only once the module answered the handshake sent on open (a mode register read).
  for (let i = 0; i < 20 && scanner.status.state !== 'connected' && !sim.faults.silent; i++) await tick();
  return { pair, timers, scanner, sim, scans, faults };
}

function parseCommands(wire: Buffer): Gm65Command[] {
  const f = new Gm65CommandFramer({ interByteTimeoutMs: 0 });
  const out: Gm65Command[] = [];
  f.on('frame', (c) => out.push(c));
  f.push(wire);
  return out;
}

function parseStream(wire: Buffer): Gm65Frame[] {
  const f = new Gm65Framer({ interByteTimeoutMs: 0 });
  const out: Gm65Frame[] = [];
  f.on('frame', (x) => out.push(x));
  f.push(wire);
  return out;
}

describe('GM65 frames (devices.md examples, both directions)', () => {
  it('encodes the trigger-one-scan command as 7E 00 08 01 00 02 01 AB CD', () => {
    expect(hex(encodeGm65Command(0x08, 0x0002, [0x01]))).toBe('7e0008010002' + '01abcd');
    expect(hex(GM65_TRIGGER)).toBe('7e00080100020' + '1abcd');
  });

  it('decodes the trigger command on the device side: write, register 0x0002, value 01, no check', () => {
    expect(parseCommands(bytes('7E 00 08 01 00 02 01 AB CD'))).toEqual([{ type: 0x08, address: 0x0002, data: bytes('01'), check: 'none' }]);
  });

  it('encodes and decodes the same command with a CRC-16/XMODEM big-endian instead of AB CD', () => {
    const wire = encodeGm65Command(0x08, 0x0002, [0x01], 'crc');
    expect(hex(wire)).toBe('7e000801000201' + '02da');
    expect(parseCommands(wire)).toEqual([{ type: 0x08, address: 0x0002, data: bytes('01'), check: 'crc' }]);
    expect(parseCommands(bytes('7E 00 08 01 00 02 01 02 DB'))).toEqual([]);
  });

  it('encodes the write ACK as 02 00 00 01 00 33 31 and decodes it as a success response', () => {
    expect(hex(encodeGm65Response([0x00]))).toBe('02000001003331');
    expect(hex(GM65_WRITE_ACK)).toBe('02000001003331');
    expect(parseStream(bytes('02 00 00 01 00 33 31'))).toEqual([{ kind: 'response', type: 0, data: bytes('00') }]);
  });

  it('separates an ACK from scanned-data lines in one stream', () => {
    const wire = Buffer.concat([Buffer.from('FIRST\r'), GM65_WRITE_ACK, Buffer.from('SECOND\r')]);
    expect(parseStream(wire)).toEqual([
      { kind: 'scan', data: Buffer.from('FIRST') },
      { kind: 'response', type: 0, data: bytes('00') },
      { kind: 'scan', data: Buffer.from('SECOND') },
    ]);
  });

  it('counts an ACK with a corrupt CRC as a bad frame', () => {
    const f = new Gm65Framer({ interByteTimeoutMs: 0 });
    const frames: Gm65Frame[] = [];
    f.on('frame', (x) => frames.push(x));
    f.push(bytes('02 00 00 01 00 33 30'));
    expect(frames.filter((x) => x.kind === 'response')).toEqual([]);
    expect(f.counters.badFrames).toBe(1);
  });
});

describe('Gm65Scanner with its simulator', () => {
  it('emits scanned codes (code + CR) in continuous mode', async () => {
    const { sim, scans } = await setup();
    await sim.present('QR-PASS-1');
    expect(scans).toEqual(['QR-PASS-1']);
  });

  it('trigger() writes the exact trigger bytes, resolves on the ACK, and the held code arrives', async () => {
    const { pair, sim, scanner, scans } = await setup({}, { mode: 'command' });
    await sim.present('HELD-CODE');
    expect(scans).toEqual([]);
    await scanner.trigger();
    expect(hex(pair[0].written.at(-1) ?? Buffer.alloc(0))).toBe('7e000801000201abcd');
    expect(pair[1].written.map(hex)).toContain('02000001003331');
    await tick();
    expect(scans).toEqual(['HELD-CODE']);
  });

  it('sets the mode bits of register 0x0000 by read-modify-write on open', async () => {
    const { pair, sim, scanner } = await setup({ mode: 'command' });
    await tick();
    await tick();
    expect(sim.mode).toBe('command');
    // read 0x0000 (1 register), then write back with bits 1:0 = 01, other bits kept
    expect(pair[0].written.map(hex)).toEqual(['7e0007010000' + '01abcd', '7e0008010000' + 'd5abcd']);
    expect(sim.registers.get(0)).toBe(0xd5);
    expect(scanner.status.state).toBe('connected');
  });

  it('is not connected when its port opens until the module answers, asking again every 500 ms', async () => {
    const { pair, sim, scanner, timers } = await setup({ replyTimeoutMs: 300 }, { faults: { silent: true } });
    const states: string[] = [];
    scanner.on('status', (s: { state: string }) => states.push(s.state));
    await tick();
    expect(scanner.status).toMatchObject({ state: 'disconnected', detail: 'port open; waiting for the module to answer' });
    for (let i = 0; i < 3; i++) {
      timers.advance(301); // the read times out
      await tick();
      timers.advance(500); // and is asked again
      await tick();
    }
    expect(pair[0].written.filter((w) => hex(w) === '7e000701000001abcd').length).toBe(4);
    expect(states).toEqual([]);
    sim.setFaults({ silent: false });
    timers.advance(301);
    await tick();
    timers.advance(500);
    await tick();
    await tick();
    expect(scanner.status.state).toBe('connected');
  });

  it('counts a reply timeout and rejects with REPLY_TIMEOUT when the module is silent', async () => {
    const { sim, scanner, timers, faults } = await setup({ replyTimeoutMs: 300 });
    sim.setFaults({ silent: true });
    const p = scanner.trigger();
    await tick(); // commands are queued: the write (and its timer) starts a microtask later
    timers.advance(301);
    await expect(p).rejects.toMatchObject({ code: 'REPLY_TIMEOUT' });
    expect(scanner.counters.replyTimeouts).toBe(1);
    expect(faults.map((f) => f.code)).toEqual(['REPLY_TIMEOUT']);
  });

  it('does not take a corrupt ACK as success: counted bad frame, then a timeout', async () => {
    const { sim, scanner, timers } = await setup({ replyTimeoutMs: 300 });
    sim.setFaults({ corruptChecksum: true });
    const p = scanner.trigger();
    await tick();
    timers.advance(301);
    await expect(p).rejects.toBeInstanceOf(DriverError);
    expect(scanner.counters.badFrames).toBe(1);
  });

  it('delivers codes and ACKs exactly through split frames', async () => {
    const { sim, scanner, scans } = await setup({}, { faults: { splitFrames: true } });
    for (let i = 0; i < 10; i++) await sim.present(`SPLIT-${i}-${'q'.repeat(i * 11)}`);
    await scanner.writeRegister(0x0003, 0x10);
    expect(scans).toEqual(Array.from({ length: 10 }, (_, i) => `SPLIT-${i}-${'q'.repeat(i * 11)}`));
    expect(sim.registers.get(3)).toBe(0x10);
  });

  it('fails a pending command with LINK_CLOSED on unplug and reconnects on replug', async () => {
    const { pair, sim, scanner, scans } = await setup({}, { faults: { slowMs: 5 } });
    const p = scanner.trigger();
    unplug(pair);
    await expect(p).rejects.toMatchObject({ code: 'LINK_CLOSED' });
    expect(scanner.status.state).toBe('disconnected');
    await expect(scanner.trigger()).rejects.toMatchObject({ code: 'LINK_CLOSED' });
    sim.setFaults({ slowMs: 0 });
    replug(pair);
    await tick();
    await tick();
    expect(scanner.status.state).toBe('connected');
    await sim.present('BACK');
    expect(scans).toEqual(['BACK']);
  });
});
