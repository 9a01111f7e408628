import { SerialPortMock } from 'serialport';
import { describe, expect, it } from 'vitest';
import { SerialLink, type PortLike } from '../../../drivers/transport/serial.js';
import { ptyPair, useCleanup, waitFor } from './pty.js';

const cleanup = useCleanup();

function mockFactory(ports: SerialPortMock[]) {
  return (s: { path: string; baudRate: number }) => {
    const p = new SerialPortMock({ path: s.path, baudRate: s.baudRate, autoOpen: false });
    ports.push(p);
    return p as unknown as PortLike;
  };
}

describe('serial link over the serialport mock binding', () => {
  it('opens the configured path with its baud rate and passes bytes both ways', async () => {
    SerialPortMock.binding.createPort('/dev/serial/by-id/usb-test-if00', { echo: false, record: true });
    const ports: SerialPortMock[] = [];
    const link = new SerialLink({ path: '/dev/serial/by-id/usb-test-if00', baudRate: 19200, parity: 'even' }, { createPort: mockFactory(ports) });
    cleanup.push(() => link.stop());
    const data: Buffer[] = [];
    link.on('data', (d: Buffer) => data.push(d));
    await link.start();
    expect(link.isOpen).toBe(true);
    expect(ports[0]!.baudRate).toBe(19200);
    await link.write(Buffer.from([0x01, 0x05]));
    expect(ports[0]!.port!.recording).toEqual(Buffer.from([0x01, 0x05]));
    ports[0]!.port!.emitData(Buffer.from([0xfe, 0x01]));
    await waitFor(() => data.length > 0, 'data');
    expect(Buffer.concat(data)).toEqual(Buffer.from([0xfe, 0x01]));
  });

  it('reports a missing path as OPEN_FAILED and keeps retrying', async () => {
    const link = new SerialLink({ path: '/dev/serial/by-id/absent', baudRate: 9600 }, { createPort: mockFactory([]), backoff: { initialMs: 5, maxMs: 10 } });
    cleanup.push(() => link.stop());
    const retries: unknown[] = [];
    link.on('retry', (r) => retries.push(r));
    await link.start();
    expect(link.isOpen).toBe(false);
    expect(link.lastError).toMatchObject({ code: 'OPEN_FAILED' });
    await expect(link.write(Buffer.from([1]))).rejects.toMatchObject({ code: 'LINK_CLOSED' });
    await waitFor(() => retries.length >= 3, 'three retries');
  });
});

describe('serial link over a socat pty pair', () => {
  it('sees the pty vanish when socat dies and reopens the same link path once a new socat made it again', async () => {
    const pty = await ptyPair(cleanup, 'serial-pty-', ['A', 'B']);
    const { a, b } = pty;

    const host = new SerialLink({ path: a, baudRate: 9600 }, { backoff: { initialMs: 20, maxMs: 200 } });
    const dev = new SerialLink({ path: b, baudRate: 9600 }, { backoff: { initialMs: 20, maxMs: 200 } });
    cleanup.push(() => host.stop(), () => dev.stop());
    const events: string[] = [];
    host.on('open', () => events.push('open'));
    host.on('close', () => events.push('close'));
    const got: Buffer[] = [];
    dev.on('data', (d: Buffer) => got.push(d));
    await host.start();
    await dev.start();
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await host.write(all);
    await waitFor(() => Buffer.concat(got).length >= 256, 'all 256 byte values');
    expect(Buffer.concat(got)).toEqual(all);

    pty.kill();
    await waitFor(() => !host.isOpen, 'the host link to close');
    expect(events).toEqual(['open', 'close']);

    await pty.restart();
    await waitFor(() => host.isOpen && dev.isOpen, 'both ends to reopen');
    got.length = 0;
    await host.write(Buffer.from('again'));
    await waitFor(() => Buffer.concat(got).toString() === 'again', 'bytes after the reopen');
    expect(events).toEqual(['open', 'close', 'open']);
  });
});
