import { describe, expect, it } from 'vitest';
import { Gm65Scanner } from '../../../drivers/scanner/gm65.js';
import { HidPosScanner } from '../../../drivers/scanner/hid-pos.js';
import { LineScanner } from '../../../drivers/scanner/line-scanner.js';
import { EvdevWedgeScanner } from '../../../drivers/scanner/evdev-wedge.js';
import {
  createSimulator,
  isSimulatorType,
  SIMULATOR_TYPES,
  type ScannerSimulator,
  type ThermometerSimulator,
} from '../../../drivers/sim/index.js';
import { Gd60914 } from '../../../drivers/thermometer/gd60914.js';
import { Lu90614 } from '../../../drivers/thermometer/lu90614.js';
import { Mlx90614Board } from '../../../drivers/thermometer/mlx90614-66.js';
import { FakeHidDevice } from '../../../drivers/transport/fake-hid.js';
import { linkPair } from '../../../drivers/transport/memory-link.js';
import type { ThermometerReading } from '../../../drivers/types.js';
import { ManualTimers } from './harness.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('createSimulator', () => {
  it('lists every simulator type it can build', () => {
    expect([...SIMULATOR_TYPES].sort()).toEqual(['evdev-wedge', 'gd60914', 'gm65', 'hid-pos', 'line-scanner', 'lu90614', 'mlx90614-66']);
    expect(isSimulatorType('gm65')).toBe(true);
    expect(isSimulatorType('sim')).toBe(false);
  });

  it('refuses an unknown type with a coded error naming the known ones', () => {
    expect(() => createSimulator('zebra', linkPair()[1])).toThrow(/\[INVALID_ARGUMENT\].*gm65/);
  });

  it.each([
    ['line-scanner', (l: ReturnType<typeof linkPair>[0]) => new LineScanner(l)],
    ['gm65', (l: ReturnType<typeof linkPair>[0]) => new Gm65Scanner(l)],
    ['evdev-wedge', (l: ReturnType<typeof linkPair>[0]) => new EvdevWedgeScanner(l)],
  ] as const)('drives a %s scanner through present(code) over a link pair', async (type, make) => {
    const [host, device] = linkPair();
    const scanner = make(host);
    const scans: string[] = [];
    scanner.on('scan', (p: Buffer) => scans.push(p.toString()));
    await scanner.start();
    const sim: ScannerSimulator = createSimulator(type, device);
    sim.start();
    await sim.present('FACTORY-OK');
    expect(scans).toEqual(['FACTORY-OK']);
    sim.unplug();
    expect(scanner.status.state).toBe('disconnected');
    sim.replug();
    // A GM65 answers its handshake first; the others are up when the link opens.
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(scanner.status.state).toBe('connected');
    await scanner.stop();
  });

  it('drives a hid-pos scanner through a FakeHidDevice', async () => {
    const device = new FakeHidDevice();
    const scanner = new HidPosScanner(device);
    const scans: string[] = [];
    scanner.on('scan', (p: Buffer) => scans.push(p.toString()));
    await scanner.start();
    const sim = createSimulator('hid-pos', device);
    sim.start();
    await sim.present('HID-OK');
    expect(scans).toEqual(['HID-OK']);
  });

  it.each([
    ['lu90614', (l: ReturnType<typeof linkPair>[0]) => new Lu90614(l, { timers: new ManualTimers() })],
    ['mlx90614-66', (l: ReturnType<typeof linkPair>[0]) => new Mlx90614Board(l, { timers: new ManualTimers() })],
    ['gd60914', (l: ReturnType<typeof linkPair>[0]) => new Gd60914(l, { timers: new ManualTimers() })],
  ] as const)('drives a %s thermometer through setTemperature() and measure()', async (type, make) => {
    const [host, device] = linkPair();
    const sim: ThermometerSimulator = createSimulator(type, device);
    sim.start();
    const thermo = make(host);
    const readings: ThermometerReading[] = [];
    thermo.on('reading', (r: ThermometerReading) => readings.push(r));
    await thermo.start();
    sim.setTemperature(37.4);
    thermo.measure();
    await tick();
    expect(readings.map((r) => r.raw)).toEqual([37.4]);
    sim.stop();
  });
});
