import { describe, expect, it } from 'vitest';
import { discreteInputsReply, ModbusFramer, parseDiscreteInputs, readDiscreteInputs } from '../../../drivers/relay/modbus-frames.js';
import { DriverError } from '../../../drivers/transport/framing.js';

const hex = (s: string) => Buffer.from(s.replace(/ /g, ''), 'hex');

describe('FC02 Read Discrete Inputs frames (docs/drivers.md examples)', () => {
  it('builds "read 8 inputs from address 1 starting at 0" as 01 02 00 00 00 08 79 CC', () => {
    expect(readDiscreteInputs(1, 0, 8)).toEqual(hex('01 02 00 00 00 08 79 CC'));
  });

  it('builds the one-input poll of input 1 as 01 02 00 00 00 01 B9 CA', () => {
    expect(readDiscreteInputs(1, 0, 1)).toEqual(hex('01 02 00 00 00 01 B9 CA'));
  });

  it('builds the reply "input 1 on" as 01 02 01 01 60 48 and "all off" as 01 02 01 00 A1 88', () => {
    expect(discreteInputsReply(1, [true, false, false, false, false, false, false, false])).toEqual(hex('01 02 01 01 60 48'));
    expect(discreteInputsReply(1, [true])).toEqual(hex('01 02 01 01 60 48'));
    expect(discreteInputsReply(1, [false])).toEqual(hex('01 02 01 00 A1 88'));
  });

  it('reads input states back from a reply, least significant bit first', () => {
    expect(parseDiscreteInputs(hex('01 02 01 01 60 48'), 8)).toEqual([true, false, false, false, false, false, false, false]);
    const ten = [false, true, false, false, false, false, false, true, true, false];
    expect(parseDiscreteInputs(discreteInputsReply(1, ten), 10)).toEqual(ten);
  });

  it('reads only the inputs asked for, ignoring padding bits a sloppy module leaves set', () => {
    expect(parseDiscreteInputs(discreteInputsReply(1, [true, true, true]), 1)).toEqual([true]);
  });

  it('turns an exception reply into BAD_REPLY naming the exception', () => {
    const err = parseDiscreteInputs(hex('01 82 02 C1 61'), 1);
    expect(err).toBeInstanceOf(DriverError);
    expect(err).toMatchObject({ code: 'BAD_REPLY' });
    expect((err as DriverError).message).toContain('exception code 2');
  });

  it('turns a reply of the wrong function or byte count into BAD_REPLY', () => {
    expect(parseDiscreteInputs(hex('01 01 01 01 90 48'), 1)).toMatchObject({ code: 'BAD_REPLY' });
    expect(parseDiscreteInputs(discreteInputsReply(1, Array.from({ length: 16 }, () => false)), 8)).toMatchObject({ code: 'BAD_REPLY' });
  });

  it('refuses to build a request outside the Modbus limits', () => {
    expect(() => readDiscreteInputs(1, 0, 0)).toThrow(/INVALID_ARGUMENT/);
    expect(() => readDiscreteInputs(1, 0, 2001)).toThrow(/INVALID_ARGUMENT/);
    expect(() => readDiscreteInputs(1, 0xffff, 2)).toThrow(/INVALID_ARGUMENT/);
  });

  it('cuts FC02 replies and exceptions out of garbage and split chunks, and drops one with a corrupt CRC', () => {
    const framer = new ModbusFramer({ direction: 'reply', address: 1, interByteTimeoutMs: 0 });
    const out: string[] = [];
    framer.on('frame', (f) => out.push(f.toString('hex')));
    const stream = Buffer.concat([hex('FF 00 13'), hex('01 02 01 01 60 48'), hex('01 02 01 00 A1 89'), hex('01 82 02 C1 61'), hex('01 02 01 00 A1 88')]);
    for (let i = 0; i < stream.length; i += 2) framer.push(stream.subarray(i, i + 2));
    expect(out).toEqual(['0102010160 48'.replace(' ', ''), '018202c161', '01020100a188']);
    expect(framer.counters.badFrames).toBeGreaterThanOrEqual(1);
  });

  it('cuts FC02 requests on the device side', () => {
    const framer = new ModbusFramer({ direction: 'request', interByteTimeoutMs: 0 });
    const out: Buffer[] = [];
    framer.on('frame', (f) => out.push(f));
    framer.push(hex('01 02 00 00 00 08 79 CC 01 02 00 00 00 01 B9 CA'));
    expect(out).toEqual([hex('01 02 00 00 00 08 79 CC'), hex('01 02 00 00 00 01 B9 CA')]);
  });
});
