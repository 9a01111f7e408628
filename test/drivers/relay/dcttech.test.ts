import { afterEach, describe, expect, it, vi } from 'vitest';
import { DcttechRelay, dcttechCommand, dcttechRelayCount, parseDcttechState } from '../../../drivers/relay/dcttech.js';
import { DcttechRelaySim } from '../../../drivers/relay/dcttech.sim.js';

const hex = (s: string) => Buffer.from(s.replace(/ /g, ''), 'hex');

afterEach(() => {
  vi.useRealTimers();
});

describe('dcttech USB HID relay', () => {
  it('builds the 9-byte feature reports of devices.md: FF N on, FD N off, FE 00 all on, FC 00 all off', () => {
    expect(dcttechCommand(0xff, 1)).toEqual(hex('00 FF 01 00 00 00 00 00 00'));
    expect(dcttechCommand(0xfd, 2)).toEqual(hex('00 FD 02 00 00 00 00 00 00'));
    expect(dcttechCommand(0xfe, 0)).toEqual(hex('00 FE 00 00 00 00 00 00 00'));
    expect(dcttechCommand(0xfc, 0)).toEqual(hex('00 FC 00 00 00 00 00 00 00'));
  });

  it('reads the relay bitmask from byte 7 of an 8-byte report and byte 8 of a 9-byte one', () => {
    expect(parseDcttechState(Buffer.from([0x48, 0x55, 0x52, 0x54, 0x4d, 0, 0, 0x05]))).toEqual({ id: 'HURTM', mask: 5 });
    expect(parseDcttechState(Buffer.from([0, 0x48, 0x55, 0x52, 0x54, 0x4d, 0, 0, 0x02]))).toEqual({ id: 'HURTM', mask: 2 });
    expect(() => parseDcttechState(Buffer.alloc(4))).toThrow(/BAD_REPLY/);
  });

  it('reads the relay count from the product string', () => {
    expect(dcttechRelayCount('USBRelay2')).toBe(2);
    expect(dcttechRelayCount('Keyboard')).toBeNull();
  });

  it('simulator: the four commands switch its relays and its state report shows them', async () => {
    const sim = new DcttechRelaySim({ relays: 4 });
    await sim.sendFeatureReport(dcttechCommand(0xfe, 0));
    expect(sim.relays).toEqual([true, true, true, true]);
    await sim.sendFeatureReport(dcttechCommand(0xfd, 2));
    expect(parseDcttechState(await sim.getFeatureReport(0, 9)).mask).toBe(0b1101);
    await sim.sendFeatureReport(dcttechCommand(0xfc, 0));
    await sim.sendFeatureReport(dcttechCommand(0xff, 3));
    expect(sim.relays).toEqual([false, false, true, false]);
    const prefixed = new DcttechRelaySim({ reportIdPrefix: true });
    expect(await prefixed.getFeatureReport(0, 9)).toHaveLength(9);
  });

  it('sends all-off at start-up, confirms the on by reading the state and closes after the host-timed pulse', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const sim = new DcttechRelaySim({ relays: 2, reportIdPrefix: true, now: Date.now });
    const relay = new DcttechRelay(sim, { channel: 2, pollMs: 0 });
    await relay.start();
    expect(relay.status.state).toBe('connected');
    await relay.pulse(700);
    expect(sim.relays).toEqual([false, true]);
    await vi.advanceTimersByTimeAsync(700);
    expect(sim.relays).toEqual([false, false]);
    expect(sim.frames).toEqual([dcttechCommand(0xfc, 0), dcttechCommand(0xff, 2), dcttechCommand(0xfd, 2)]);
    expect(sim.pulses).toEqual([expect.objectContaining({ channel: 2, ms: 700 })]);
    await relay.stop();
    expect(sim.frames.at(-1)).toEqual(dcttechCommand(0xfc, 0));
  });

  it('rejects a pulse the board did not take, shuts it and does not resend the on', async () => {
    const sim = new DcttechRelaySim();
    const relay = new DcttechRelay(sim, { channel: 1, pollMs: 0 });
    await relay.start();
    sim.setFaults({ silent: true });
    await expect(relay.pulse(700)).rejects.toMatchObject({ code: 'BAD_REPLY' });
    await new Promise((r) => setImmediate(r));
    expect(sim.frames.filter((f) => f.equals(dcttechCommand(0xff, 1)))).toHaveLength(1);
    expect(sim.frames.at(-1)).toEqual(dcttechCommand(0xfc, 0));
    await relay.stop();
  });

  it('rejects a pulse when the state report is corrupt', async () => {
    const sim = new DcttechRelaySim();
    const relay = new DcttechRelay(sim, { channel: 1, pollMs: 0 });
    await relay.start();
    sim.setFaults({ corrupt: true });
    await expect(relay.pulse(700)).rejects.toMatchObject({ code: 'BAD_REPLY' });
    await relay.stop();
  });

  it('goes disconnected on unplug, cancels the host timer, and sends all-off again on replug', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const sim = new DcttechRelaySim({ now: Date.now });
    const relay = new DcttechRelay(sim, { channel: 1, pollMs: 0 });
    await relay.start();
    await relay.pulse(5000);
    sim.unplug();
    expect(relay.status.state).toBe('disconnected');
    await expect(relay.pulse(700)).rejects.toMatchObject({ code: 'LINK_CLOSED' });
    const before = sim.frames.length;
    sim.replug();
    await vi.advanceTimersByTimeAsync(1);
    expect(sim.frames.slice(before)).toEqual([dcttechCommand(0xfc, 0)]);
    expect(relay.status.state).toBe('connected');
    await relay.stop();
  });
});
