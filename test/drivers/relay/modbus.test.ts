import { afterEach, describe, expect, it } from 'vitest';
import { coilFlash, coilWrite, ModbusFramer, readCoils, readRegisters, registerCommand, registerTimedOpen, REG_CLOSE } from '../../../drivers/relay/modbus-frames.js';
import { ModbusRelay } from '../../../drivers/relay/modbus.js';
import { ModbusRelaySim } from '../../../drivers/relay/modbus.sim.js';
import { linkPair, replug, unplug } from '../../../drivers/transport/memory-link.js';
import type { DeviceStatus } from '../../../drivers/types.js';

const hex = (s: string) => Buffer.from(s.replace(/ /g, ''), 'hex');

function rig(profile: 'coils' | 'registers', channel = 1, simFaults = {}) {
  const pair = linkPair();
  const [host, dev] = pair;
  const sim = new ModbusRelaySim(dev, { profile, faults: simFaults });
  sim.start();
  const relay = new ModbusRelay(host, { address: 1, channel, profile, replyTimeoutMs: 100, pollMs: 0 });
  return { pair, host, dev, sim, relay };
}

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

describe('Modbus relay frames (devices.md examples)', () => {
  it('builds "relay 1 on" of the coil profile as 01 05 00 00 FF 00 8C 3A', () => {
    expect(coilWrite(1, 1, true)).toEqual(hex('01 05 00 00 FF 00 8C 3A'));
  });

  it('builds "read 8 coils" as 01 01 00 00 00 08 3D CC', () => {
    expect(readCoils(1)).toEqual(hex('01 01 00 00 00 08 3D CC'));
  });

  it('builds the device-timed 0.7 s flash on relay 1 as 01 05 02 00 00 07 8D B0', () => {
    expect(coilFlash(1, 1, 700)).toEqual(hex('01 05 02 00 00 07 8D B0'));
  });

  it('builds the 5 s timed open on register channel 1 as 01 06 00 01 06 05 1B A9', () => {
    expect(registerTimedOpen(1, 1, 5000)).toEqual(hex('01 06 00 01 06 05 1B A9'));
  });

  it('rounds a pulse up to whole device units so the gate is open at least as long as asked', () => {
    expect(coilFlash(1, 1, 650).readUInt16BE(4)).toBe(7);
    expect(registerTimedOpen(1, 1, 700).readUInt16BE(4)).toBe(0x0601);
  });

  it('cuts each example frame out of garbage and split chunks, and drops one with a corrupt CRC', () => {
    const framer = new ModbusFramer({ direction: 'request', interByteTimeoutMs: 0 });
    const out: string[] = [];
    framer.on('frame', (f) => out.push(f.toString('hex')));
    const stream = Buffer.concat([
      hex('FF 00 13'),
      hex('01 05 00 00 FF 00 8C 3A'),
      hex('01 05 02 00 00 07 8D B1'), // corrupt CRC
      hex('01 01 00 00 00 08 3D CC'),
      hex('01 06 00 01 06 05 1B A9'),
    ]);
    for (let i = 0; i < stream.length; i += 3) framer.push(stream.subarray(i, i + 3));
    expect(out).toEqual(['01050000ff008c3a', '010100000008 3dcc'.replace(' ', ''), '010600010605 1ba9'.replace(' ', '')]);
    // Resyncing one byte at a time may also find false starts inside the corrupt frame.
    expect(framer.counters.badFrames).toBeGreaterThanOrEqual(1);
  });
});

describe('Modbus relay driver against its simulator', () => {
  it('sends all-off on connect and reports connected once the board answered', async () => {
    const { relay, sim } = rig('coils');
    cleanup.push(() => relay.stop());
    await relay.start();
    expect(sim.frames[0]).toEqual(coilWrite(1, 1, false));
    expect(relay.status.state).toBe('connected');
  });

  it('sends exactly the 0.7 s flash frame for a 700 ms pulse and the board times it', async () => {
    const { relay, sim } = rig('coils');
    cleanup.push(() => relay.stop());
    await relay.start();
    await relay.pulse(700);
    expect(sim.frames.at(-1)).toEqual(hex('01 05 02 00 00 07 8D B0'));
    expect(sim.pulses).toEqual([expect.objectContaining({ channel: 1, ms: 700 })]);
    expect(sim.relays[0]).toBe(true);
  });

  it('sends exactly 01 06 00 01 06 05 1B A9 for a 5 s pulse in the register profile', async () => {
    const { relay, sim } = rig('registers');
    cleanup.push(() => relay.stop());
    await relay.start();
    expect(sim.frames[0]).toEqual(registerCommand(1, 1, REG_CLOSE));
    await relay.pulse(5000);
    expect(sim.frames.at(-1)).toEqual(hex('01 06 00 01 06 05 1B A9'));
    expect(sim.pulses).toEqual([expect.objectContaining({ channel: 1, ms: 5000 })]);
  });

  it('reads the relay states back through FC01 and FC03', async () => {
    const coils = rig('coils', 2);
    const regs = rig('registers', 3);
    cleanup.push(() => coils.relay.stop(), () => regs.relay.stop());
    await coils.relay.start();
    await regs.relay.start();
    coils.sim.relays[1] = true;
    regs.sim.relays[2] = true;
    expect((await coils.relay.readState()).slice(0, 3)).toEqual([false, true, false]);
    expect(coils.sim.frames.at(-1)).toEqual(readCoils(1));
    expect((await regs.relay.readState()).slice(0, 4)).toEqual([false, false, true, false]);
    expect(regs.sim.frames.at(-1)).toEqual(readRegisters(1));
  });

  it('answers the host side of every example: the echo of 01 05 00 00 FF 00 8C 3A switches relay 1 on', async () => {
    const [host, dev] = linkPair();
    const sim = new ModbusRelaySim(dev, { profile: 'coils' });
    sim.start();
    await host.write(hex('01 05 00 00 FF 00 8C 3A'));
    await new Promise((r) => setImmediate(r));
    expect(dev.writtenBytes()).toEqual(hex('01 05 00 00 FF 00 8C 3A'));
    expect(sim.relays[0]).toBe(true);
    await host.write(hex('01 01 00 00 00 08 3D CC'));
    await new Promise((r) => setImmediate(r));
    // 01 01 01 01 + CRC: one byte of coil states, relay 1 on.
    expect(dev.written.at(-1)).toEqual(hex('01 01 01 01 90 48'));
  });

  it('refuses a pulse while the board is down and never sends the open frame', async () => {
    const { relay, sim, pair } = rig('coils');
    cleanup.push(() => relay.stop());
    await relay.start();
    unplug(pair);
    expect(relay.status.state).toBe('disconnected');
    const before = sim.frames.length;
    await expect(relay.pulse(700)).rejects.toMatchObject({ code: 'LINK_CLOSED' });
    expect(sim.frames.length).toBe(before);
  });

  it('does not retry a timed open whose reply never came, so one scan opens the gate at most once', async () => {
    const { relay, sim, host } = rig('coils');
    cleanup.push(() => relay.stop());
    await relay.start();
    sim.setFaults({ silent: true });
    await expect(relay.pulse(700)).rejects.toMatchObject({ code: 'REPLY_TIMEOUT' });
    const flash = hex('01 05 02 00 00 07 8D B0');
    expect(host.written.filter((w) => w.equals(flash))).toHaveLength(1);
    // The gate state is unknown: out of service until the board takes an all-off again.
    expect(relay.status.state).toBe('fault');
    await expect(relay.pulse(700)).rejects.toMatchObject({ code: 'LINK_CLOSED' });
    sim.setFaults({ silent: false });
    const before = sim.frames.length;
    await waitFor(() => relay.status.state === 'connected');
    expect(sim.frames.slice(before)[0]).toEqual(coilWrite(1, 1, false));
  });

  it('rejects a pulse whose write outlasts the reply timeout with REPLY_TIMEOUT, not an unhandled rejection', async () => {
    const { relay, host } = rig('coils');
    cleanup.push(() => relay.stop());
    await relay.start();
    const write = host.write.bind(host);
    // A port that takes longer to drain than the board is given to answer.
    host.write = async (data: Buffer) => {
      await new Promise((r) => setTimeout(r, 150));
      return write(data);
    };
    await expect(relay.pulse(700)).rejects.toMatchObject({ code: 'REPLY_TIMEOUT' });
  });

  it('retries an all-off that got no reply, because off is idempotent', async () => {
    const { relay, sim, host } = rig('coils');
    cleanup.push(() => relay.stop());
    await relay.start();
    sim.setFaults({ silent: true });
    await expect(relay.allOff()).rejects.toMatchObject({ code: 'REPLY_TIMEOUT' });
    expect(host.written.filter((w) => w.equals(coilWrite(1, 1, false)))).toHaveLength(1 + 3);
  });

  it('rejects a pulse whose echo has a corrupt CRC', async () => {
    const { relay, sim } = rig('coils');
    cleanup.push(() => relay.stop());
    await relay.start();
    sim.setFaults({ corruptChecksum: true });
    await expect(relay.pulse(700)).rejects.toMatchObject({ code: 'REPLY_TIMEOUT' });
    expect(relay.counters.badFrames).toBe(1);
  });

  it('takes replies split into chunks and behind garbage', async () => {
    const { relay, sim } = rig('coils');
    cleanup.push(() => relay.stop());
    sim.setFaults({ splitFrames: true, garbageBytes: 5 });
    await relay.start();
    await relay.pulse(700);
    expect(relay.status.state).toBe('connected');
    expect(sim.pulses).toHaveLength(1);
  });

  it('times out a slow board without resending the open, and does not take its late echo for the next answer', async () => {
    const { relay, sim, host } = rig('coils');
    cleanup.push(() => relay.stop());
    await relay.start();
    sim.setFaults({ slowMs: 150 });
    await expect(relay.pulse(700)).rejects.toMatchObject({ code: 'REPLY_TIMEOUT' });
    sim.setFaults({ slowMs: 0 });
    await new Promise((r) => setTimeout(r, 100)); // the late echo arrives with nothing pending
    expect(await relay.readState()).toHaveLength(8);
    expect(host.written.filter((w) => w.equals(hex('01 05 02 00 00 07 8D B0')))).toHaveLength(1);
  });

  it('rejects a Modbus exception reply with BAD_REPLY', async () => {
    const { relay } = rig('coils', 9);
    cleanup.push(() => relay.stop());
    await relay.start();
    expect(relay.status.state).toBe('fault');
    expect(relay.status.detail).toContain('exception code 2');
  });

  it('turns disconnected on unplug and connected again on replug, sending all-off again', async () => {
    const { relay, sim, pair } = rig('coils');
    cleanup.push(() => relay.stop());
    const states: DeviceStatus['state'][] = [];
    relay.on('status', (s: DeviceStatus) => states.push(s.state));
    await relay.start();
    unplug(pair);
    const before = sim.frames.length;
    replug(pair);
    await new Promise((r) => setTimeout(r, 20));
    expect(sim.frames[before]).toEqual(coilWrite(1, 1, false));
    expect(states).toEqual(['connected', 'disconnected', 'connected']);
  });

  it('reports a fault when the board stops answering its status poll, and recovers', async () => {
    const pair = linkPair();
    const sim = new ModbusRelaySim(pair[1], { profile: 'coils' });
    sim.start();
    const relay = new ModbusRelay(pair[0], { address: 1, channel: 1, profile: 'coils', replyTimeoutMs: 30, pollMs: 40 });
    cleanup.push(() => relay.stop());
    await relay.start();
    sim.setFaults({ silent: true });
    await waitFor(() => relay.status.state === 'fault');
    sim.setFaults({ silent: false });
    await waitFor(() => relay.status.state === 'connected');
  });
});

async function waitFor(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
