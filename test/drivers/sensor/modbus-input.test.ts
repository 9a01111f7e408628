import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ModbusPassageSensor, type ModbusPassageSensorOptions } from '../../../drivers/sensor/modbus-input.js';
import { ModbusInputSim, type ModbusInputSimOptions } from '../../../drivers/sensor/modbus-input.sim.js';
import { linkPair, replug, unplug } from '../../../drivers/transport/memory-link.js';
import type { DeviceStatus, PassageEvent } from '../../../drivers/types.js';

const hex = (s: string) => Buffer.from(s.replace(/ /g, ''), 'hex');
const T0 = 1_700_000_000_000;

function rig(options: Partial<ModbusPassageSensorOptions> = {}, simOptions: ModbusInputSimOptions = {}) {
  const pair = linkPair();
  const [host, dev] = pair;
  const sim = new ModbusInputSim(dev, simOptions);
  sim.start();
  const sensor = new ModbusPassageSensor(host, { address: 1, input: 1, pollMs: 50, minActiveMs: 40, replyTimeoutMs: 100, ...options });
  const passages: PassageEvent[] = [];
  const states: DeviceStatus[] = [];
  const faults: Error[] = [];
  sensor.on('passage', (p: PassageEvent) => passages.push(p));
  sensor.on('status', (s: DeviceStatus) => states.push(s));
  sensor.on('fault', (e: Error) => faults.push(e));
  return { pair, host, dev, sim, sensor, passages, states, faults };
}

let cleanup: (() => Promise<void> | void)[] = [];
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  vi.setSystemTime(T0);
});
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
  vi.useRealTimers();
});

async function started(options: Partial<ModbusPassageSensorOptions> = {}, simOptions: ModbusInputSimOptions = {}) {
  const r = rig(options, simOptions);
  cleanup.push(() => r.sensor.stop(), () => r.sim.stop());
  await r.sensor.start();
  return r;
}

/** A person walks through: the beam is broken for `ms`, then clears. Returns when it cleared. */
function walkThrough(sim: ModbusInputSim, ms: number): number {
  sim.setBeam(true);
  vi.advanceTimersByTime(ms);
  sim.setBeam(false);
  return Date.now();
}

describe('passage sensor on a Modbus discrete input', () => {
  it('polls input 1 of module 1 with exactly 01 02 00 00 00 01 B9 CA and reports connected', async () => {
    const { sim, sensor } = await started();
    vi.advanceTimersByTime(500);
    expect(sensor.status.state).toBe('connected');
    expect(sim.frames.length).toBeGreaterThan(3);
    expect(sim.frames.every((f) => f.equals(hex('01 02 00 00 00 01 B9 CA')))).toBe(true);
    expect(sensor.counters.samples).toBe(sensor.counters.polls);
  });

  it('keeps 3.5 characters of silence on the bus between a reply and the next request', async () => {
    // At 1200 baud 3.5 characters of 11 bits take 33 ms, longer than the 20 ms poll pause.
    const { sim } = await started({ pollMs: 20, baudRate: 1200 });
    const requests: number[] = [];
    const replies: number[] = [];
    sim.on('frame', () => requests.push(Date.now()));
    sim.on('sent', () => replies.push(Date.now()));
    vi.advanceTimersByTime(500);
    expect(requests.length).toBeGreaterThan(3);
    for (let i = 1; i < requests.length; i++) expect(requests[i]! - replies[i - 1]!).toBeGreaterThanOrEqual(33);
  });

  it('reads the input the sensor is wired to: input 6 of module 3 is discrete input 5', async () => {
    const { sim, sensor } = await started({ address: 3, input: 6 }, { address: 3, beamInput: 6 });
    expect(sim.frames[0]).toEqual(sensor.pollFrame);
    expect(sensor.pollFrame.subarray(0, 6)).toEqual(hex('03 02 00 05 00 01'));
  });

  it('emits one passage when a person walks through, stamped with the poll that saw the beam clear', async () => {
    const { sim, sensor, passages } = await started();
    vi.advanceTimersByTime(110);
    const cleared = walkThrough(sim, 300);
    vi.advanceTimersByTime(500);
    expect(passages).toHaveLength(1);
    // The first sample after clearing: no later than one poll interval after it.
    expect(passages[0]!.at).toBeGreaterThanOrEqual(cleared);
    expect(passages[0]!.at).toBeLessThanOrEqual(cleared + 50);
    expect(sensor.counters.passages).toBe(1);
  });

  it('counts each of several people walking through one after the other', async () => {
    const { sim, passages } = await started();
    for (let i = 0; i < 5; i++) {
      walkThrough(sim, 250);
      vi.advanceTimersByTime(400);
    }
    expect(passages).toHaveLength(5);
  });

  it('ignores a bounce the module reports broken for a single poll', async () => {
    const { sim, sensor, passages } = await started();
    vi.advanceTimersByTime(10);
    walkThrough(sim, 45);
    vi.advanceTimersByTime(500);
    expect(passages).toEqual([]);
    expect(sensor.counters.bounces).toBe(1);
  });

  it('does not count someone standing in the beam at start-up until they step out after minActiveMs', async () => {
    const r = rig();
    cleanup.push(() => r.sensor.stop());
    r.sim.setBeam(true);
    await r.sensor.start();
    vi.advanceTimersByTime(2000);
    expect(r.passages).toEqual([]);
    r.sim.setBeam(false);
    vi.advanceTimersByTime(200);
    expect(r.passages).toHaveLength(1);
  });

  it('takes an input that reads 0 while the beam is broken when activeLow is set', async () => {
    const { sim, passages } = await started({ activeLow: true }, { activeLow: true });
    expect(sim.inputs[0]).toBe(true); // idle level of an active-low beam
    vi.advanceTimersByTime(500);
    expect(passages).toEqual([]);
    walkThrough(sim, 300);
    expect(sim.inputs[0]).toBe(true);
    vi.advanceTimersByTime(200);
    expect(passages).toHaveLength(1);
  });

  it('reports a beam held broken past stuckAfterMs as a fault, never counts it, and recovers when it clears', async () => {
    const { sim, sensor, passages } = await started({ stuckAfterMs: 5000 });
    sim.setBeam(true);
    vi.advanceTimersByTime(6000);
    expect(sensor.status).toMatchObject({ state: 'fault', detail: expect.stringContaining('blocked or misaligned') });
    expect(sensor.counters.stuckRuns).toBe(1);
    sim.setBeam(false);
    vi.advanceTimersByTime(200);
    expect(sensor.status.state).toBe('connected');
    expect(passages).toEqual([]);
  });

  it('counts missed replies, turns fault after three in a row with one fault event, and recovers on the next good reply', async () => {
    const { sim, sensor, states, faults } = await started();
    vi.advanceTimersByTime(200);
    sim.setFaults({ silent: true });
    vi.advanceTimersByTime(2000);
    expect(sensor.counters.replyTimeouts).toBeGreaterThanOrEqual(3);
    expect(sensor.status).toMatchObject({ state: 'fault', detail: expect.stringContaining('REPLY_TIMEOUT') });
    expect(faults).toHaveLength(1);
    // One status change for the whole outage, not one per missed poll.
    expect(states.map((s) => s.state)).toEqual(['connected', 'fault']);
    sim.setFaults({ silent: false });
    vi.advanceTimersByTime(300);
    expect(sensor.status.state).toBe('connected');
  });

  it('stays connected through a single missed reply', async () => {
    const { sim, sensor } = await started();
    sim.setFaults({ silent: true });
    vi.advanceTimersByTime(120);
    sim.setFaults({ silent: false });
    vi.advanceTimersByTime(300);
    expect(sensor.counters.replyTimeouts).toBe(1);
    expect(sensor.status.state).toBe('connected');
  });

  it('does not count a person whose passage fell into a silent spell, since the clearing was not seen in time', async () => {
    const { sim, passages } = await started();
    sim.setBeam(true);
    vi.advanceTimersByTime(200);
    sim.setFaults({ silent: true });
    vi.advanceTimersByTime(1000);
    sim.setBeam(false);
    sim.setFaults({ silent: false });
    vi.advanceTimersByTime(500);
    expect(passages).toEqual([]);
  });

  it('counts replies with a corrupt CRC as bad frames, takes no sample from them and never crashes', async () => {
    const { sim, sensor, passages } = await started();
    sim.setFaults({ corruptChecksum: true });
    walkThrough(sim, 300);
    vi.advanceTimersByTime(1000);
    expect(sensor.counters.badFrames).toBeGreaterThanOrEqual(3);
    expect(sensor.counters.samples).toBe(1); // the first poll, before the knob
    expect(sensor.status.state).toBe('fault');
    expect(passages).toEqual([]);
  });

  it('takes replies split into chunks and behind garbage', async () => {
    const { sim, sensor, passages } = await started({}, { faults: { splitFrames: true, garbageBytes: 5 } });
    // The simulator writes chunks one after the other on promises: let them run between timers.
    sim.setBeam(true);
    await vi.advanceTimersByTimeAsync(300);
    sim.setBeam(false);
    await vi.advanceTimersByTimeAsync(500);
    expect(passages).toHaveLength(1);
    expect(sensor.status.state).toBe('connected');
  });

  it('counts exception replies and says which input the module refused', async () => {
    const { sensor, faults } = await started({ input: 9 });
    vi.advanceTimersByTime(500);
    expect(sensor.counters.exceptions).toBeGreaterThanOrEqual(3);
    expect(sensor.status).toMatchObject({ state: 'fault', detail: expect.stringContaining('input 9: exception code 2') });
    expect(faults[0]).toMatchObject({ code: 'BAD_REPLY' });
  });

  it('counts a reply of the wrong function and keeps waiting for the real one', async () => {
    const { sim, sensor, host } = await started();
    sim.setFaults({ silent: true });
    vi.advanceTimersByTime(60); // a poll is waiting for its reply now
    host.receive(hex('01 01 01 01 90 48'));
    expect(sensor.counters.badReplies).toBe(1);
    host.receive(hex('01 02 01 00 A1 88'));
    expect(sensor.counters.samples).toBe(2);
    expect(sensor.counters.replyTimeouts).toBe(0);
  });

  it('drops a reply that comes when no poll is waiting', async () => {
    const { sensor, host } = await started();
    vi.advanceTimersByTime(10);
    host.receive(hex('01 02 01 01 60 48'));
    expect(sensor.counters.lateReplies).toBe(1);
    expect(sensor.counters.samples).toBe(1);
  });

  it('turns disconnected when the link closes, polls again on reopen, and drops the run it did not see end', async () => {
    const { sim, sensor, pair, passages, states } = await started();
    sim.setBeam(true);
    vi.advanceTimersByTime(200);
    unplug(pair);
    expect(sensor.status.state).toBe('disconnected');
    vi.advanceTimersByTime(1000);
    const before = sim.frames.length;
    sim.setBeam(false);
    replug(pair);
    vi.advanceTimersByTime(200);
    expect(sim.frames.length).toBeGreaterThan(before);
    expect(states.map((s) => s.state)).toEqual(['connected', 'disconnected', 'connected']);
    expect(passages).toEqual([]);
  });

  it('keeps polling when a passage listener throws, reporting it as driverError', async () => {
    const { sim, sensor, passages } = await started();
    const errors: unknown[] = [];
    sensor.on('driverError', (e: unknown) => errors.push(e));
    sensor.prependListener('passage', () => {
      throw new Error('listener bug');
    });
    walkThrough(sim, 300);
    vi.advanceTimersByTime(200);
    walkThrough(sim, 300);
    vi.advanceTimersByTime(200);
    expect(errors).toHaveLength(2);
    expect(passages).toHaveLength(2);
  });

  it('stops polling and leaves no timer behind when stopped', async () => {
    const { sim, sensor } = await started();
    vi.advanceTimersByTime(200);
    await sensor.stop();
    sim.stop();
    const before = sim.frames.length;
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1000);
    expect(sim.frames.length).toBe(before);
    expect(sensor.status).toMatchObject({ state: 'disconnected', detail: 'stopped' });
  });

  it('refuses an address or input outside the Modbus range', () => {
    const [host] = linkPair();
    expect(() => new ModbusPassageSensor(host, { address: 0, input: 1 })).toThrow(/INVALID_ARGUMENT/);
    expect(() => new ModbusPassageSensor(host, { address: 1, input: 0 })).toThrow(/INVALID_ARGUMENT/);
    expect(() => new ModbusPassageSensor(host, { address: 1, input: 1, minActiveMs: 40_000, stuckAfterMs: 30_000 })).toThrow(/INVALID_ARGUMENT/);
  });
});
