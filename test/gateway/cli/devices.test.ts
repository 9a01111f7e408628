// `devices` as a table: a header row naming the columns, each device's stable paths and
// what a driver makes of it on the lines below it.
import { describe, expect, it } from 'vitest';
import { formatDeviceTable, recogniseUsb, type Listed } from '../../../gateway/cli/devices.js';

describe('devices table', () => {
  it('starts with a header row and lines the columns up under it', () => {
    const devices: Listed[] = [
      {
        kind: 'serial',
        path: '/dev/ttyUSB0',
        stable: ['/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0'],
        vendorId: '1a86',
        productId: '7523',
        product: 'wch.cn',
        recognised: recogniseUsb('serial', 0x1a86, 0x7523),
      },
      { kind: 'hid', path: '/dev/hidraw3', stable: [], vendorId: '046d', productId: 'c52b', serialNumber: 'A1B2', product: 'USB Receiver', recognised: null },
    ];
    expect(formatDeviceTable(devices).split('\n')).toEqual([
      '  KIND    PATH          USB ID     SERIAL  PRODUCT',
      '* serial  /dev/ttyUSB0  1a86:7523  -       wch.cn',
      '          /dev/serial/by-id/usb-1a86_USB_Serial-if00-port0',
      '          → CH340 serial: relay lcus, or a UART module (gm65, lu90614, mlx90614-66, gd60914, modbus over RS-485)',
      '  hid     /dev/hidraw3  046d:c52b  A1B2    USB Receiver',
      '',
    ]);
  });
});
