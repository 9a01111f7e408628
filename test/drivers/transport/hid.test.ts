import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HidDeviceLink, matches, type HidBackend, type HidDeviceInfo, type HidHandle } from '../../../drivers/transport/hid.js';

afterEach(() => {
  vi.useRealTimers();
});

class FakeHandle extends EventEmitter implements HidHandle {
  readonly features: Buffer[] = [];
  closed = false;
  failNext = false;
  async write(data: Buffer | number[]): Promise<number> {
    return Buffer.from(data).length;
  }
  async sendFeatureReport(data: Buffer | number[]): Promise<number> {
    if (this.failNext) throw new Error('could not send feature report');
    this.features.push(Buffer.from(data));
    return Buffer.from(data).length;
  }
  async getFeatureReport(_id: number, length: number): Promise<Buffer> {
    return Buffer.alloc(length);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

function fakeBackend(devices: HidDeviceInfo[]) {
  const handles: FakeHandle[] = [];
  const opened: string[] = [];
  const backend: HidBackend = {
    devices: async () => devices,
    open: async (p: string) => {
      opened.push(p);
      const h = new FakeHandle();
      handles.push(h);
      return h;
    },
  };
  return { backend, handles, opened, devices };
}

const relayA = { vendorId: 0x16c0, productId: 0x05df, path: '/dev/hidraw1', serialNumber: 'AAAAA', product: 'USBRelay2' };
const relayB = { vendorId: 0x16c0, productId: 0x05df, path: '/dev/hidraw2', serialNumber: 'BBBBB', product: 'USBRelay2' };

describe('HID link', () => {
  it('matches devices by vendor, product and optional serial', () => {
    expect(matches(relayA, { vendorId: 0x16c0, productId: 0x05df })).toBe(true);
    expect(matches(relayA, { vendorId: 0x16c0, productId: 0x05df, serial: 'BBBBB' })).toBe(false);
    expect(matches(relayA, { vendorId: 0x0c2e, productId: 0x05df })).toBe(false);
  });

  it('opens the device with the configured serial number among identical boards', async () => {
    const fake = fakeBackend([relayA, relayB]);
    const link = new HidDeviceLink({ vendorId: 0x16c0, productId: 0x05df, serial: 'BBBBB' }, { backend: async () => fake.backend });
    await link.start();
    expect(fake.opened).toEqual(['/dev/hidraw2']);
    expect(link.info?.product).toBe('USBRelay2');
    await link.sendFeatureReport(Buffer.from([0, 0xfc, 0, 0, 0, 0, 0, 0, 0]));
    expect(fake.handles[0]!.features).toHaveLength(1);
    await link.stop();
    expect(fake.handles[0]!.closed).toBe(true);
  });

  it('passes input reports on as data events', async () => {
    const fake = fakeBackend([relayA]);
    const link = new HidDeviceLink({ vendorId: 0x16c0, productId: 0x05df }, { backend: async () => fake.backend });
    const data: Buffer[] = [];
    link.on('data', (d: Buffer) => data.push(d));
    await link.start();
    fake.handles[0]!.emit('data', Buffer.from([2, 3]));
    expect(data).toEqual([Buffer.from([2, 3])]);
    await link.stop();
  });

  it('reports a board that is not plugged in as OPEN_FAILED and picks it up when it appears', async () => {
    vi.useFakeTimers();
    const fake = fakeBackend([]);
    const link = new HidDeviceLink({ vendorId: 0x16c0, productId: 0x05df }, { backend: async () => fake.backend, random: () => 0 });
    const open = vi.fn();
    link.on('open', open);
    await link.start();
    expect(link.lastError).toMatchObject({ code: 'OPEN_FAILED' });
    await expect(link.getFeatureReport(0, 9)).rejects.toMatchObject({ code: 'LINK_CLOSED' });
    fake.devices.push(relayA);
    await vi.advanceTimersByTimeAsync(1000);
    expect(open).toHaveBeenCalledTimes(1);
    await link.stop();
  });

  it('treats a failed feature report as an unplug: closes, then reopens a fresh handle', async () => {
    vi.useFakeTimers();
    const fake = fakeBackend([relayA]);
    const link = new HidDeviceLink({ vendorId: 0x16c0, productId: 0x05df }, { backend: async () => fake.backend, random: () => 0 });
    const events: string[] = [];
    link.on('open', () => events.push('open'));
    link.on('close', () => events.push('close'));
    await link.start();
    fake.handles[0]!.failNext = true;
    await expect(link.sendFeatureReport(Buffer.alloc(9))).rejects.toMatchObject({ code: 'WRITE_FAILED' });
    expect(fake.handles[0]!.closed).toBe(true);
    await vi.advanceTimersByTimeAsync(100);
    expect(events).toEqual(['open', 'close', 'open']);
    expect(fake.handles).toHaveLength(2);
    await link.stop();
  });

  it('does not load node-hid until a device is opened', async () => {
    const load = vi.fn(async () => fakeBackend([relayA]).backend);
    const link = new HidDeviceLink({ vendorId: 0x16c0, productId: 0x05df }, { backend: load });
    expect(load).not.toHaveBeenCalled();
    await link.start();
    expect(load).toHaveBeenCalledTimes(1);
    await link.stop();
  });
});
