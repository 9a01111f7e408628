// Picking a lane's devices at the setup prompts: from the detected list (the `devices`
// detection's result), by a typed path, or sim; each becomes the configuration's device
// object with its stable path and the options the driver needs.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Listed } from '../../../gateway/cli/devices.js';
import { Prompter, askDevice } from '../../../gateway/cli/setup.js';
import { configSchema } from '../../../gateway/config/schema.js';

/** The configuration schema's verdict on one lane device. */
function deviceSchemaCheck(role: 'scanner' | 'thermometer' | 'relay', device: unknown): string[] {
  const r = configSchema.shape.lanes.element.shape[role].safeParse(device);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

const DETECTED: Listed[] = [
  {
    kind: 'serial',
    path: '/dev/ttyUSB0',
    stable: ['/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0', '/dev/serial/by-path/pci-0000:00:14.0-usb-0:2:1.0-port0'],
    vendorId: '1a86',
    productId: '7523',
    recognised: 'CH340 serial: relay lcus, or a UART module (gm65, lu90614, mlx90614-66, gd60914, modbus over RS-485)',
  },
  { kind: 'hid', path: '/dev/hidraw2', stable: [], vendorId: '16c0', productId: '05df', serialNumber: 'HURTM', product: 'USBRelay2', recognised: 'relay: dcttech-hid (2 relays)' },
  { kind: 'input', path: '/dev/input/event5', stable: ['/dev/input/by-id/usb-Newland_Auto-ID_HR22-event-kbd'], recognised: 'keyboard: evdev-wedge scanner if this is the scanner' },
  { kind: 'serial', path: '/dev/ttyACM0', stable: ['/dev/serial/by-id/usb-Honeywell_Imaging_1900-if00'], vendorId: '0c2e', productId: '0b61', recognised: 'scanner: line (Honeywell USB-COM)' },
];

/** askDevice answered with `lines`; the device object and what was shown. */
async function pick(role: 'scanner' | 'thermometer' | 'relay', lines: string[]): Promise<{ device: Record<string, unknown>; shown: string }> {
  const input = new PassThrough();
  const out = new PassThrough();
  let shown = '';
  out.on('data', (d: Buffer) => (shown += d.toString()));
  const p = new Prompter(input, out);
  input.end(`${lines.join('\n')}\n`);
  try {
    return { device: await askDevice(p, 'in-1', role, DETECTED), shown };
  } finally {
    p.close();
  }
}

describe('setup: picking a lane device', () => {
  it('makes a detected CH340 a Modbus relay on its by-id path, with profile, address and channel', async () => {
    const { device } = await pick('relay', ['1', '', '', '3', '2']);
    expect(device).toEqual({ type: 'modbus', path: '/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0', profile: 'coils', address: 3, channel: 2 });
    expect(deviceSchemaCheck('relay', device)).toEqual([]);
  });

  it('makes a detected USB HID relay board a dcttech-hid relay by its ids and serial', async () => {
    const { device } = await pick('relay', ['2', '2']);
    expect(device).toEqual({ type: 'dcttech-hid', vendorId: '16c0', productId: '05df', serial: 'HURTM', channel: 2 });
    expect(deviceSchemaCheck('relay', device)).toEqual([]);
  });

  it('offers the line scanner for a Honeywell in USB-COM mode, and evdev-wedge for a keyboard', async () => {
    expect((await pick('scanner', ['4', ''])).device).toEqual({ type: 'line', path: '/dev/serial/by-id/usb-Honeywell_Imaging_1900-if00' });
    expect((await pick('scanner', ['3'])).device).toEqual({ type: 'evdev-wedge', path: '/dev/input/by-id/usb-Newland_Auto-ID_HR22-event-kbd' });
  });

  it('refuses a keyboard as a thermometer and asks again; takes a typed path and sim', async () => {
    const { device, shown } = await pick('thermometer', ['3', '9', '/tmp/thermo-host', 'gd60914']);
    expect(shown).toContain('  a thermometer module is on a serial port; pick a serial device');
    expect(shown).toContain('  expected a number from 1 to 4');
    expect(device).toEqual({ type: 'gd60914', path: '/tmp/thermo-host' });
    expect(deviceSchemaCheck('thermometer', device)).toEqual([]);
    expect((await pick('scanner', [''])).device).toEqual({ type: 'sim' });
  });

  it('warns that /dev/ttyUSB0 depends on plug order when nothing more stable is known', async () => {
    const { device, shown } = await pick('scanner', ['/dev/ttyUSB0', 'gm65']);
    expect(device).toEqual({ type: 'gm65', path: '/dev/ttyUSB0' });
    expect(shown).toContain('note: /dev/ttyUSB0 depends on plug order');
  });
});
