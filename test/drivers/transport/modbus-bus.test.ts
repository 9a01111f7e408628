// The Modbus bus on a fake link (a MemoryLink without a peer: what the bus writes is
// recorded, replies are injected) under fake timers: one request on the wire at a time,
// replies to the channel that asked, the line freed by a whole reply or a timeout.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { coilFlash, corruptCrc, discreteInputsReply, readDiscreteInputs } from '../../../drivers/relay/modbus-frames.js';
import { withModbusCrc } from '../../../drivers/transport/framing.js';
import { MemoryLink } from '../../../drivers/transport/memory-link.js';
import { ModbusBus, type ModbusBusChannel } from '../../../drivers/transport/modbus-bus.js';

const PULSE = coilFlash(1, 1, 700); // 01 05 02 00 00 07 8D B0, echoed by the board
const POLL = readDiscreteInputs(1, 0, 1); // 01 02 00 00 00 01 B9 CA
const BEAM_ON = discreteInputsReply(1, [true]); // 01 02 01 01 60 48
const SILENCE_MS = 5; // 3.5 characters of 11 bits at 9600 baud, rounded up

function setup() {
  const port = new MemoryLink('port');
  const bus = new ModbusBus(port, { baudRate: 9600, timeoutMs: 300 });
  const relay = bus.channel('relay');
  const sensor = bus.channel('sensor', { timeoutMs: 200 });
  return { port, bus, relay, sensor, heard: { relay: heard(relay), sensor: heard(sensor) } };
}

function heard(ch: ModbusBusChannel): Buffer[] {
  const chunks: Buffer[] = [];
  ch.on('data', (d: Buffer) => chunks.push(d));
  return chunks;
}

const wire = (port: MemoryLink) => port.written.map((b) => b.toString('hex'));

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Modbus bus', () => {
  it('puts one request on the wire at a time: the second goes after the first reply and 3.5 characters of silence', async () => {
    const { port, relay, sensor, bus } = setup();
    const pulse = relay.write(PULSE);
    const poll = sensor.write(POLL);
    await pulse;
    expect(wire(port)).toEqual([PULSE.toString('hex')]);

    port.receive(PULSE);
    await vi.advanceTimersByTimeAsync(SILENCE_MS - 1);
    expect(port.written).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(wire(port)).toEqual([PULSE.toString('hex'), POLL.toString('hex')]);
    await poll;
    expect(bus.counters).toMatchObject({ requests: 2, replies: 1, timeouts: 0 });
  });

  it('keeps the silence after the last byte on the line before the first request too', async () => {
    const { port, relay } = setup();
    port.receive([0x00]); // noise, dropped
    void relay.write(PULSE);
    expect(port.written).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(SILENCE_MS);
    expect(port.written).toHaveLength(1);
  });

  it('hands the reply bytes, split in chunks, only to the channel whose request is outstanding', async () => {
    const { port, relay, sensor, heard } = setup();
    await sensor.write(POLL);
    void relay.write(PULSE);
    port.receive(BEAM_ON.subarray(0, 2));
    port.receive(BEAM_ON.subarray(2));
    expect(Buffer.concat(heard.sensor)).toEqual(BEAM_ON);
    expect(heard.relay).toEqual([]);

    await vi.advanceTimersByTimeAsync(SILENCE_MS);
    port.receive(PULSE);
    expect(Buffer.concat(heard.relay)).toEqual(PULSE);
    expect(heard.sensor).toHaveLength(2);
  });

  it('frees the line after the channel timeout when no reply comes, and drops a reply that comes later', async () => {
    const { port, relay, sensor, heard, bus } = setup();
    await sensor.write(POLL);
    void relay.write(PULSE);
    await vi.advanceTimersByTimeAsync(199);
    expect(port.written).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1 + SILENCE_MS);
    expect(wire(port)).toEqual([POLL.toString('hex'), PULSE.toString('hex')]);
    port.receive(PULSE);
    expect(bus.counters).toMatchObject({ requests: 2, replies: 1, timeouts: 1 });

    // The module wakes up and answers the poll that timed out: nobody is waiting for it.
    port.receive(BEAM_ON);
    expect(heard.sensor).toEqual([]);
    expect(heard.relay).toHaveLength(1);
    expect(bus.counters.unsolicitedBytes).toBe(BEAM_ON.length);
  });

  it('does not free the line for a frame of another address or function, or a reply with a bad CRC', async () => {
    const { port, relay, sensor, heard } = setup();
    await relay.write(PULSE);
    void sensor.write(POLL);
    port.receive(discreteInputsReply(2, [true])); // another slave
    port.receive(BEAM_ON); // function 02, not 05
    port.receive(corruptCrc(PULSE));
    await vi.advanceTimersByTimeAsync(100);
    expect(port.written).toHaveLength(1);
    // All of it went to the relay's driver, whose own framer sorts it out.
    expect(heard.relay).toHaveLength(3);
    port.receive(PULSE);
    await vi.advanceTimersByTimeAsync(SILENCE_MS);
    expect(port.written).toHaveLength(2);
  });

  it('frees the line on an exception reply to the outstanding request', async () => {
    const { port, relay, sensor, bus } = setup();
    await relay.write(PULSE);
    void sensor.write(POLL);
    port.receive(withModbusCrc(Buffer.from([0x01, 0x85, 0x02])));
    await vi.advanceTimersByTimeAsync(SILENCE_MS);
    expect(port.written).toHaveLength(2);
    expect(bus.counters.replies).toBe(1);
  });

  it('never sends a request that waited for the line longer than its channel timeout: its driver has given up on it', async () => {
    const { port, relay, sensor, bus } = setup();
    // The module is dead: its poll holds the line 200 ms; the relay's 300 ms timeout outlasts that.
    await sensor.write(POLL);
    await vi.advanceTimersByTimeAsync(1);
    await relay.write(PULSE);
    await vi.advanceTimersByTimeAsync(199 + SILENCE_MS);
    expect(wire(port)).toEqual([POLL.toString('hex'), PULSE.toString('hex')]);

    // Now the other way round: a 200 ms poll queued behind a 300 ms hold expires unsent.
    await vi.advanceTimersByTimeAsync(300 + SILENCE_MS);
    await relay.write(PULSE);
    await sensor.write(POLL);
    await vi.advanceTimersByTimeAsync(300 + SILENCE_MS);
    expect(port.written).toHaveLength(3);
    expect(bus.counters).toMatchObject({ expired: 1, timeouts: 3 });
  });

  it('drops and counts bytes that come with no request outstanding', () => {
    const { port, heard, bus } = setup();
    port.receive(BEAM_ON);
    port.receive([0xff, 0x00]);
    expect(heard.relay).toEqual([]);
    expect(heard.sensor).toEqual([]);
    expect(bus.counters.unsolicitedBytes).toBe(BEAM_ON.length + 2);
  });

  it('replaces a channel request still waiting for the line by its newer one', async () => {
    const { port, relay, sensor, bus } = setup();
    await relay.write(PULSE);
    await sensor.write(POLL);
    await sensor.write(readDiscreteInputs(1, 1, 1));
    port.receive(PULSE);
    await vi.advanceTimersByTimeAsync(SILENCE_MS);
    expect(wire(port)).toEqual([PULSE.toString('hex'), readDiscreteInputs(1, 1, 1).toString('hex')]);
    expect(bus.counters.superseded).toBe(1);
  });

  it('on link loss mid-transaction tells every channel, forgets the queued requests and starts clean on reopen', async () => {
    const { port, relay, sensor, heard } = setup();
    const events: string[] = [];
    for (const [name, ch] of [['relay', relay], ['sensor', sensor]] as const) {
      ch.on('open', () => events.push(`${name} open`));
      ch.on('close', (err?: Error) => events.push(`${name} close: ${err?.message}`));
    }
    await relay.write(PULSE);
    await sensor.write(readDiscreteInputs(1, 1, 1)); // queued, never sent
    port.receive(PULSE.subarray(0, 3));
    port.close(new Error('unplugged'));
    expect(relay.isOpen).toBe(false);
    await expect(sensor.write(POLL)).rejects.toMatchObject({ code: 'LINK_CLOSED' });
    expect(events).toEqual(['relay close: unplugged', 'sensor close: unplugged']);

    port.open();
    expect(events.slice(2)).toEqual(['relay open', 'sensor open']);
    expect(sensor.isOpen).toBe(true);
    await sensor.write(POLL);
    await vi.advanceTimersByTimeAsync(SILENCE_MS);
    expect(wire(port)).toEqual([PULSE.toString('hex'), POLL.toString('hex')]);
    // The rest of the old reply is not a reply to the poll: it goes to the sensor's driver, which drops it, but does not free the line.
    port.receive(PULSE.subarray(3));
    port.receive(BEAM_ON);
    expect(Buffer.concat(heard.sensor).subarray(-BEAM_ON.length)).toEqual(BEAM_ON);
  });

  it('frees the line when a write fails, leaving the miss to the driver\'s reply timeout', async () => {
    const { port, relay, sensor, bus } = setup();
    const failing = vi.spyOn(port, 'write').mockRejectedValueOnce(new Error('EIO'));
    await relay.write(PULSE);
    failing.mockRestore();
    await sensor.write(POLL);
    await vi.advanceTimersByTimeAsync(SILENCE_MS);
    expect(port.written).toEqual([POLL]);
    expect(bus.counters).toMatchObject({ writeFailures: 1, timeouts: 0 });
  });
});
