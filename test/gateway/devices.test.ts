import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { SerialPortMock } from 'serialport';
import { describe, expect, it } from 'vitest';
import { DcttechRelay } from '../../drivers/relay/dcttech.js';
import { ModbusRelay } from '../../drivers/relay/modbus.js';
import { encodeKeystrokes } from '../../drivers/scanner/evdev-wedge.js';
import { encodeGm65Response, Gm65Scanner } from '../../drivers/scanner/gm65.js';
import { SimScanner } from '../../drivers/scanner/sim-scanner.js';
import { Lu90614 } from '../../drivers/thermometer/lu90614.js';
import type { HidBackend } from '../../drivers/transport/hid.js';
import type { PortLike } from '../../drivers/transport/serial.js';
import type { DeviceStatus } from '../../drivers/types.js';
import { ConfigError, parseConfig } from '../../gateway/config/load.js';
import { buildLaneDevices, isSimLane, SharedModbusPorts } from '../../gateway/devices.js';
import { recogniseUsb } from '../../gateway/cli/devices.js';


const head = `
site: s1
checkpoint: c1
dataDir: data
privacy: { pseudonymSecretFile: secret }
trust: { passIssuersDir: trust }
lanes:
`;

function lanesOf(yaml: string) {
  return parseConfig(head + yaml, '/etc/checkpoint/gateway.yaml').config.lanes;
}

function problemsOf(yaml: string): string[] {
  try {
    parseConfig(head + yaml, '/etc/checkpoint/gateway.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected the configuration to be refused');
}

const realLane = `
  - id: in-1
    scanner: { type: gm65, path: /dev/serial/by-id/usb-scanner }
    thermometer: { type: lu90614, path: /dev/serial/by-id/usb-thermo, offsetC: 0.3 }
    relay: { type: modbus, path: /dev/serial/by-id/usb-rs485, profile: registers, address: 3, channel: 2 }
`;

const logger = pino({ level: 'silent' });

describe('device configuration', () => {
  it('fills the defaults of each device type', () => {
    const [lane] = lanesOf(realLane);
    expect(lane?.scanner).toEqual({ type: 'gm65', path: '/dev/serial/by-id/usb-scanner', baudRate: 9600, parity: 'none', stopBits: 1, reconnect: { initialMs: 100, maxMs: 1000 }, check: 'none', maxLength: 4096 });
    expect(lane?.thermometer).toMatchObject({ type: 'lu90614', mode: 'body', offsetC: 0.3, replyTimeoutMs: 1000 });
    expect(lane?.relay).toMatchObject({ type: 'modbus', profile: 'registers', address: 3, channel: 2, replyTimeoutMs: 300, pollMs: 5000 });
  });

  it('accepts USB ids as YAML hex numbers or hex strings', () => {
    const [lane] = lanesOf(`
  - id: in-1
    scanner: { type: hid-pos, productId: "0b6a" }
    thermometer: { type: sim }
    relay: { type: dcttech-hid, vendorId: 0x16c0, serial: HURTM, channel: 2 }
`);
    expect(lane?.scanner).toMatchObject({ type: 'hid-pos', vendorId: 0x0c2e, productId: 0x0b6a });
    expect(lane?.relay).toMatchObject({ type: 'dcttech-hid', vendorId: 0x16c0, productId: 0x05df, serial: 'HURTM', channel: 2 });
  });

  it('names the known types when a device type is unknown', () => {
    const problems = problemsOf(`
  - id: in-1
    scanner: { type: gm66, path: /dev/ttyUSB0 }
    thermometer: { type: sim }
    relay: { type: sim }
`);
    expect(problems).toEqual(['line 10: lanes[0].scanner.type: expected type "sim", "line", "gm65", "evdev-wedge" or "hid-pos"']);
  });

  it('lists every problem of the device part at once: relative path, bad channel, missing Modbus profile, bad USB id', () => {
    const problems = problemsOf(`
  - id: in-1
    scanner: { type: line, path: ttyUSB0 }
    thermometer: { type: gd60914, path: /dev/ttyUSB1, baudRate: 9601 }
    relay: { type: modbus, path: /dev/ttyUSB2, channel: 0 }
  - id: in-2
    scanner: { type: hid-pos, productId: "xyz" }
    thermometer: { type: sim }
    relay: { type: lcus, path: /dev/ttyUSB3, extra: 1 }
`);
    const text = problems.join('\n');
    expect(text).toContain('lanes[0].scanner.path: expected an absolute device path');
    expect(text).toContain('lanes[0].thermometer.baudRate: expected one of the baud rates');
    expect(text).toContain('lanes[0].relay.channel: expected a relay channel from 1');
    expect(text).toMatch(/lanes\[0\]\.relay\.profile/);
    expect(text).toContain('lanes[1].scanner.productId: expected a USB id');
    expect(text).toMatch(/line 16: lanes\[1\]\.relay\.extra: unknown key/);
  });

  it('refuses one serial port named by two devices, even across lanes', () => {
    const problems = problemsOf(`${realLane}
  - id: in-2
    scanner: { type: line, path: /dev/serial/by-id/usb-scanner }
    thermometer: { type: sim }
    relay: { type: sim }
`);
    expect(problems).toEqual([expect.stringContaining('lanes[1].scanner: expected a device of its own; serial /dev/serial/by-id/usb-scanner is already used by lanes[0].scanner')]);
  });
});

describe('device factory', () => {
  it('leaves an all-sim lane to the sim builder', () => {
    const [lane] = lanesOf(`
  - id: in-1
    scanner: { type: sim }
    thermometer: { type: sim }
    relay: { type: sim }
`);
    expect(isSimLane(lane!)).toBe(true);
    expect(buildLaneDevices(lane!, { logger })).toBeNull();
  });

  it('builds the configured drivers, and a sim for a device left as sim', () => {
    const [lane] = lanesOf(realLane.replace('{ type: gm65, path: /dev/serial/by-id/usb-scanner }', '{ type: sim }'));
    const devices = buildLaneDevices(lane!, { logger })!;
    expect(devices.scanner).toBeInstanceOf(SimScanner);
    expect(devices.thermometer).toBeInstanceOf(Lu90614);
    expect(devices.relay).toBeInstanceOf(ModbusRelay);
  });

  it('starts the link with the device: connected when the module answers on the opened port, disconnected when it vanishes, connected on its return', async () => {
    SerialPortMock.binding.createPort('/dev/serial/by-id/usb-scanner');
    const ports: SerialPortMock[] = [];
    const [lane] = lanesOf(realLane.replace('/dev/serial/by-id/usb-scanner }', '/dev/serial/by-id/usb-scanner, reconnect: { initialMs: 10, maxMs: 100 } }'));
    const devices = buildLaneDevices(lane!, {
      logger,
      createPort: (s) => {
        const p = new SerialPortMock({ path: s.path, baudRate: s.baudRate, autoOpen: false });
        ports.push(p);
        // The GM65 module behind the port answers the mode-register read sent on open.
        const write = p.write.bind(p) as (data: Buffer, cb?: (err: Error | null | undefined) => void) => boolean;
        Object.assign(p, {
          write: (data: Buffer, cb?: (err: Error | null | undefined) => void) => {
            if (data[0] === 0x7e && data[2] === 0x07) setImmediate(() => p.port?.emitData(encodeGm65Response([0xd5])));
            return write(data, cb);
          },
        });
        return p as unknown as PortLike;
      },
    })!;
    const scanner = devices.scanner;
    expect(scanner).toBeInstanceOf(Gm65Scanner);
    const states: DeviceStatus['state'][] = [];
    scanner.on('status', (s: DeviceStatus) => states.push(s.state));
    await scanner.start();
    await waitFor(() => scanner.status.state === 'connected');
    // serialport reports an unplug as 'close' with a DisconnectedError.
    ports[0]!.emit('close', Object.assign(new Error('Disconnected'), { disconnected: true }));
    expect(scanner.status.state).toBe('disconnected');
    await waitFor(() => scanner.status.state === 'connected');
    expect(ports.length).toBe(2); // a fresh port object for the reopen
    await scanner.stop();
    expect(ports[1]!.isOpen).toBe(false);
    expect(states).toEqual([
      'disconnected', // not open yet
      'disconnected', // port open, waiting for the module to answer
      'connected',
      'disconnected', // unplugged
      'disconnected', // reopened, waiting for the answer
      'connected',
      'disconnected', // stopped
    ]);
  });

  it('reads a keyboard-wedge scanner from its event node and reopens it after it vanished', async () => {
    // A FIFO stands in for /dev/input/eventN: a writer closing it is an unplug.
    const dir = mkdtempSync(path.join(tmpdir(), 'evdev-'));
    const node = path.join(dir, 'event-kbd');
    execFileSync('mkfifo', [node]);
    try {
      const [lane] = lanesOf(`
  - id: in-1
    scanner: { type: evdev-wedge, path: ${node}, reconnect: { initialMs: 10, maxMs: 100 } }
    thermometer: { type: sim }
    relay: { type: sim }
`);
      const { scanner } = buildLaneDevices(lane!, { logger })!;
      const scans: string[] = [];
      scanner.on('scan', (b: Buffer) => scans.push(b.toString()));
      const started = scanner.start();
      let fd = await openWriter(node);
      await started;
      expect(scanner.status.state).toBe('connected');
      writeSync(fd, encodeKeystrokes('PASS-1'));
      await waitFor(() => scans.length === 1);
      closeSync(fd);
      await waitFor(() => scanner.status.state === 'disconnected');
      fd = await openWriter(node);
      await waitFor(() => scanner.status.state === 'connected');
      writeSync(fd, encodeKeystrokes('PASS-2'));
      await waitFor(() => scans.length === 2);
      expect(scans).toEqual(['PASS-1', 'PASS-2']);
      const stopped = scanner.stop();
      closeSync(fd);
      await stopped;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('opens one serial port for a Modbus relay and a passage sensor sharing its path across lanes, open until the last of them stops', async () => {
    const rs485 = '/dev/serial/by-id/usb-rs485-shared';
    SerialPortMock.binding.createPort(rs485);
    const lanes = lanesOf(`
  - id: in-1
    scanner: { type: sim }
    thermometer: { type: sim }
    relay: { type: modbus, path: ${rs485}, profile: coils, replyTimeoutMs: 20, pollMs: 0 }
  - id: out-1
    scanner: { type: sim }
    thermometer: { type: sim }
    relay: { type: modbus, path: /dev/serial/by-id/usb-rs485-own, profile: coils, replyTimeoutMs: 20, pollMs: 0 }
    passageSensor: { type: modbus-input, path: ${rs485}, address: 2, input: 1 }
`);
    const opened: string[] = [];
    const ports: SerialPortMock[] = [];
    const deps = {
      logger,
      sharedPorts: new SharedModbusPorts(lanes),
      createPort: (s: { path: string; baudRate: number }) => {
        opened.push(s.path);
        const p = new SerialPortMock({ path: s.path, baudRate: s.baudRate, autoOpen: false });
        ports.push(p);
        return p as unknown as PortLike;
      },
    };
    const first = buildLaneDevices(lanes[0]!, deps)!;
    const second = buildLaneDevices(lanes[1]!, deps)!;
    await Promise.all([first.relay.start(), second.sensor!.start()]);
    expect(opened).toEqual([rs485]);
    expect(second.sensor!.status.state).toBe('connected');
    await first.relay.stop();
    expect(ports[0]!.isOpen).toBe(true);
    await second.sensor!.stop();
    expect(ports[0]!.isOpen).toBe(false);
  });

  it('opens a dcttech relay through the HID backend only when one is configured', async () => {
    const [lane] = lanesOf(`
  - id: in-1
    scanner: { type: sim }
    thermometer: { type: sim }
    relay: { type: dcttech-hid, pollMs: 0 }
`);
    let loads = 0;
    const features: Buffer[] = [];
    const backend: HidBackend = {
      devices: async () => [{ vendorId: 0x16c0, productId: 0x05df, path: '/dev/hidraw0', product: 'USBRelay1' }],
      open: async () =>
        Object.assign(new (await import('node:events')).EventEmitter(), {
          write: async () => 0,
          sendFeatureReport: async (d: Buffer | number[]) => (features.push(Buffer.from(d)), 9),
          getFeatureReport: async () => Buffer.alloc(8),
          close: async () => undefined,
        }),
    };
    const devices = buildLaneDevices(lane!, { logger, hidBackend: async () => (loads++, backend) })!;
    expect(loads).toBe(0);
    expect(devices.relay).toBeInstanceOf(DcttechRelay);
    await devices.relay.start();
    expect(loads).toBe(1);
    expect(devices.relay.status).toMatchObject({ state: 'connected' });
    expect(features[0]).toEqual(Buffer.from('00fc00000000000000', 'hex'));
    await devices.relay.stop();
  });
});

describe('devices command', () => {
  it('recognises the dcttech relay, Honeywell HID-POS and CH340 ids', () => {
    expect(recogniseUsb('hid', 0x16c0, 0x05df, 'USBRelay2')).toBe('relay: dcttech-hid (2 relays)');
    expect(recogniseUsb('hid', 0x0c2e, 0x0b6a)).toContain('hid-pos');
    expect(recogniseUsb('serial', 0x1a86, 0x7523)).toContain('lcus');
    expect(recogniseUsb('serial', 0x046d, 0xc52b)).toBeNull();
  });
});

async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Open a FIFO for writing once a reader has it open (a blocking open would stall the event loop). */
async function openWriter(fifo: string): Promise<number> {
  for (let i = 0; ; i++) {
    try {
      return openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENXIO' || i > 1000) throw err;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}
