import { describe, expect, it } from 'vitest';
import {
  encodeHidPosReport,
  encodeHidPosReports,
  HidPosScanner,
  HONEYWELL_VID,
  type HidPosOptions,
} from '../../../drivers/scanner/hid-pos.js';
import { HidPosSim } from '../../../drivers/scanner/hid-pos.sim.js';
import { FakeHidDevice } from '../../../drivers/transport/fake-hid.js';
import { hex, ManualTimers } from './harness.js';

async function setup(opts: HidPosOptions = {}) {
  const timers = new ManualTimers();
  const sim = new HidPosSim();
  const scanner = new HidPosScanner(sim.device, { timers, ...opts });
  const scans: { code: string; info: unknown }[] = [];
  scanner.on('scan', (p: Buffer, info: unknown) => scans.push({ code: p.toString('latin1'), info }));
  await scanner.start();
  return { sim, scanner, scans, timers, device: sim.device };
}

/** A report built by hand from the documented layout (report id first, as hidraw gives it). */
function handReport(data: string, more: boolean): Buffer {
  const r = Buffer.alloc(64);
  r[0] = 0x02; // report id
  r[1] = data.length; // [0] fragment length
  r.write(']Q1', 2, 'latin1'); // [1-3] AIM id
  r.write(data, 5, 'latin1'); // [4-59] data
  r[61] = 0x73; // [60] Honeywell code id ('s' = QR)
  r[63] = more ? 1 : 0; // [62] more fragments follow
  return r;
}

describe('HID-POS (Honeywell layout)', () => {
  it('encodes a report byte for byte as the documented layout', () => {
    expect(hex(encodeHidPosReport({ data: Buffer.from('ABC\r'), aim: ']Q1', codeId: 0x73, more: false }))).toBe(hex(handReport('ABC\r', false)));
    expect(hex(encodeHidPosReport({ data: Buffer.from('XYZ'), more: true }))).toBe(hex(handReport('XYZ', true)));
  });

  it('decodes a hand-built report: code without the trailing CR, AIM symbology and code id kept', async () => {
    const { device, scans } = await setup();
    device.input(handReport('PASS-123\r', false));
    expect(scans).toEqual([{ code: 'PASS-123', info: { codeId: 0x73, symbology: ']Q1' } }]);
  });

  it('reassembles a code spread over several fragments', async () => {
    const { sim, scans } = await setup();
    const code = 'HC1:' + 'A'.repeat(150);
    expect(sim.encode(code)).toHaveLength(3);
    await sim.present(code);
    expect(scans.map((s) => s.code)).toEqual([code]);
  });

  it('reassembles small random fragments (split-frames knob)', async () => {
    const { sim, scans } = await setup();
    sim.setFaults({ splitFrames: true });
    for (let i = 0; i < 10; i++) await sim.present(`FRAG-${i}-${'x'.repeat(i * 13)}`);
    expect(scans.map((s) => s.code)).toEqual(Array.from({ length: 10 }, (_, i) => `FRAG-${i}-${'x'.repeat(i * 13)}`));
  });

  it('accepts 63-byte reports without the report id prefix (WebHID-style) as well', async () => {
    const { device, scans } = await setup();
    device.input(handReport('NOID\r', false).subarray(1));
    expect(scans.map((s) => s.code)).toEqual(['NOID']);
  });

  it('ignores reports with another id and counts a malformed length as a bad frame', async () => {
    const { sim, scanner, scans } = await setup();
    sim.setFaults({ garbageBytes: 1, corruptChecksum: true });
    await sim.present('BROKEN');
    expect(scans).toEqual([]);
    expect(scanner.counters.badFrames).toBe(1);
    expect(scanner.counters.bytesDiscarded).toBeGreaterThanOrEqual(64);
    sim.setFaults({ garbageBytes: 0, corruptChecksum: false });
    await sim.present('FINE');
    expect(scans.map((s) => s.code)).toEqual(['FINE']);
  });

  it('drops a partial code when the next fragment does not come in time', async () => {
    const { device, scanner, scans, timers } = await setup({ fragmentTimeoutMs: 200 });
    const [first] = encodeHidPosReports(Buffer.from('X'.repeat(60)));
    device.input(first ?? Buffer.alloc(0));
    timers.advance(201);
    device.input(handReport('NEXT\r', false));
    expect(scans.map((s) => s.code)).toEqual(['NEXT']);
    expect(scanner.counters.timeouts).toBe(1);
  });

  it('drops an over-long code whole, tail fragments included', async () => {
    const { sim, scanner, scans } = await setup({ maxLength: 100 });
    await sim.present('L'.repeat(200));
    await sim.present('SHORT');
    expect(scans.map((s) => s.code)).toEqual(['SHORT']);
    expect(scanner.counters.bytesDiscarded).toBe(201);
  });

  it('sends feature report FE 01 on open to put the Honeywell scanner in HID-POS mode', async () => {
    const { sim, device } = await setup();
    expect(device.featureReports.map(hex)).toEqual(['fe01']);
    expect(sim.hidPosEnabled).toBe(true);
    expect(device.vendorId).toBe(HONEYWELL_VID);
  });

  it('follows unplug and replug of the HID device, re-enabling HID-POS mode', async () => {
    const { sim, scanner, device, scans } = await setup();
    sim.unplug();
    expect(scanner.status.state).toBe('disconnected');
    await sim.present('LOST');
    sim.replug();
    expect(scanner.status.state).toBe('connected');
    expect(device.featureReports.map(hex)).toEqual(['fe01', 'fe01']);
    await sim.present('FOUND');
    expect(scans.map((s) => s.code)).toEqual(['FOUND']);
  });

  it('stays quiet when the simulator is silent', async () => {
    const { sim, scans } = await setup();
    sim.setFaults({ silent: true });
    await sim.present('NOTHING');
    expect(scans).toEqual([]);
  });

  it('rejects host calls on an unplugged fake device with LINK_CLOSED', async () => {
    const d = new FakeHidDevice({ unplugged: true });
    await expect(d.write(Buffer.from([0]))).rejects.toMatchObject({ code: 'LINK_CLOSED' });
    await expect(d.getFeatureReport(0, 9)).rejects.toMatchObject({ code: 'LINK_CLOSED' });
  });
});
