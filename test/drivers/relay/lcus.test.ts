import { afterEach, describe, expect, it, vi } from 'vitest';
import { LcusRelay, lcusFrame } from '../../../drivers/relay/lcus.js';
import { LcusRelaySim } from '../../../drivers/relay/lcus.sim.js';
import { linkPair, unplug } from '../../../drivers/transport/memory-link.js';

const hex = (s: string) => Buffer.from(s.replace(/ /g, ''), 'hex');
const flush = () => new Promise((r) => setImmediate(r));

afterEach(() => {
  vi.useRealTimers();
});

describe('LCUS serial relay', () => {
  it('builds relay 1 on as A0 01 01 A2 and off as A0 01 00 A1', () => {
    expect(lcusFrame(1, 1)).toEqual(hex('A0 01 01 A2'));
    expect(lcusFrame(1, 0)).toEqual(hex('A0 01 00 A1'));
  });

  it('switches the simulated board on for A0 01 01 A2 and off for A0 01 00 A1', async () => {
    const [host, dev] = linkPair();
    const sim = new LcusRelaySim(dev);
    sim.start();
    await host.write(hex('A0 01 01 A2'));
    expect(sim.relays[0]).toBe(true);
    await host.write(hex('A0 01 00 A1'));
    expect(sim.relays[0]).toBe(false);
    expect(sim.frames).toEqual([hex('A0 01 01 A2'), hex('A0 01 00 A1')]);
  });

  it('answers A0 CH STATE SUM to a query in the feedback variant', async () => {
    const [host, dev] = linkPair();
    const sim = new LcusRelaySim(dev, { feedback: true });
    sim.start();
    await host.write(lcusFrame(1, 3));
    await host.write(lcusFrame(1, 5));
    await flush();
    expect(dev.written).toEqual([hex('A0 01 01 A2'), hex('A0 01 01 A2')]);
  });

  it('sends off at start-up, times a pulse on the host and shuts the relay after it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const [host, dev] = linkPair();
    const sim = new LcusRelaySim(dev, { now: Date.now });
    sim.start();
    const relay = new LcusRelay(host, { channel: 1 });
    await relay.start();
    expect(relay.status.state).toBe('connected');
    await relay.pulse(700);
    expect(sim.relays[0]).toBe(true);
    await vi.advanceTimersByTimeAsync(699);
    expect(sim.relays[0]).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(sim.relays[0]).toBe(false);
    expect(sim.frames).toEqual([hex('A0 01 00 A1'), hex('A0 01 01 A2'), hex('A0 01 00 A1')]);
    expect(sim.pulses).toEqual([expect.objectContaining({ channel: 1, ms: 700 })]);
    await relay.stop();
  });

  it('extends an open gate on a second pulse instead of closing it early', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const [host, dev] = linkPair();
    const sim = new LcusRelaySim(dev, { now: Date.now });
    sim.start();
    const relay = new LcusRelay(host, { channel: 1 });
    await relay.start();
    await relay.pulse(700);
    await vi.advanceTimersByTimeAsync(500);
    await relay.pulse(700);
    await vi.advanceTimersByTimeAsync(600);
    expect(sim.relays[0]).toBe(true);
    await vi.advanceTimersByTimeAsync(100);
    expect(sim.pulses).toEqual([expect.objectContaining({ ms: 1200 })]);
    await relay.stop();
  });

  it('sends all-off again on shutdown', async () => {
    const [host, dev] = linkPair();
    const sim = new LcusRelaySim(dev);
    sim.start();
    const relay = new LcusRelay(host, { channel: 2 });
    await relay.start();
    await relay.stop();
    expect(sim.frames).toEqual([lcusFrame(2, 0), lcusFrame(2, 0)]);
    expect(relay.status.state).toBe('disconnected');
  });

  it('refuses a pulse while unplugged and never writes the on frame', async () => {
    const pair = linkPair();
    const sim = new LcusRelaySim(pair[1]);
    sim.start();
    const relay = new LcusRelay(pair[0], { channel: 1 });
    await relay.start();
    unplug(pair);
    await expect(relay.pulse(700)).rejects.toMatchObject({ code: 'LINK_CLOSED' });
    expect(sim.frames).toEqual([lcusFrame(1, 0)]);
  });

  it('in the feedback variant, rejects a pulse the board did not confirm and does not resend it', async () => {
    const [host, dev] = linkPair();
    const sim = new LcusRelaySim(dev, { feedback: true });
    sim.start();
    const relay = new LcusRelay(host, { channel: 1, feedback: true, replyTimeoutMs: 30, pollMs: 0 });
    await relay.start();
    expect(relay.status.state).toBe('connected');
    sim.setFaults({ silent: true });
    await expect(relay.pulse(700)).rejects.toMatchObject({ code: 'REPLY_TIMEOUT' });
    expect(host.written.filter((w) => w.equals(lcusFrame(1, 3)))).toHaveLength(1);
    await relay.stop();
  });
});
