import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LcusFramer, lcusFrame } from '../../../drivers/relay/lcus.js';
import { ModbusFramer, request } from '../../../drivers/relay/modbus-frames.js';
import { withModbusCrc } from '../../../drivers/transport/framing.js';

/** Interleave garbage runs with frames, then cut the stream at random points. */
function stream(frames: Buffer[], garbage: Uint8Array[], cuts: number[], tail: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  frames.forEach((f, i) => {
    parts.push(Buffer.from(garbage[i] ?? new Uint8Array()), f);
  });
  parts.push(tail);
  const all = Buffer.concat(parts);
  const points = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let at = 0;
  for (const p of points) {
    chunks.push(all.subarray(at, p));
    at = p;
  }
  chunks.push(all.subarray(at));
  return chunks;
}

const garbageArb = fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 12 });
const cutsArb = fc.array(fc.nat(), { maxLength: 30 });

describe('relay framers under random chunking and garbage', () => {
  it('Modbus request framer: never throws, stays bounded, and yields every valid request exactly once, in order', () => {
    const requestArb = fc
      .tuple(fc.constantFrom(0x01, 0x03, 0x05, 0x06), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }))
      .map(([code, field, value]) => request(1, code, field, value));
    fc.assert(
      fc.property(fc.array(requestArb, { maxLength: 10 }), garbageArb, cutsArb, (frames, garbage, cuts) => {
        const framer = new ModbusFramer({ direction: 'request', address: 1, interByteTimeoutMs: 0 });
        const out: Buffer[] = [];
        framer.on('frame', (f) => out.push(f));
        // Zero bytes at the end complete any false frame start so the real frames behind it come out.
        for (const chunk of stream(frames, garbage, cuts, Buffer.alloc(600))) {
          framer.push(chunk);
          expect(framer.buffered).toBeLessThanOrEqual(framer.capacity);
        }
        expect(out).toEqual(frames);
      }),
      { numRuns: 300 },
    );
  });

  it('Modbus reply framer: yields every valid reply (echo, read, exception) exactly once, in order', () => {
    const replyArb = fc.oneof(
      fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff })).map(([f, v]) => request(1, 0x05, f, v)),
      fc.uint8Array({ minLength: 1, maxLength: 16 }).map((d) => withModbusCrc(Uint8Array.from([1, 0x03, d.length, ...d]))),
      fc.integer({ min: 1, max: 4 }).map((code) => withModbusCrc(Uint8Array.from([1, 0x85, code]))),
    );
    fc.assert(
      fc.property(fc.array(replyArb, { maxLength: 10 }), garbageArb, cutsArb, (frames, garbage, cuts) => {
        const framer = new ModbusFramer({ direction: 'reply', address: 1, interByteTimeoutMs: 0 });
        const out: Buffer[] = [];
        framer.on('frame', (f) => out.push(f));
        for (const chunk of stream(frames, garbage, cuts, Buffer.alloc(600))) {
          framer.push(chunk);
          expect(framer.buffered).toBeLessThanOrEqual(framer.capacity);
        }
        expect(out).toEqual(frames);
      }),
      { numRuns: 300 },
    );
  });

  it('LCUS framer: yields every valid frame exactly once, in order', () => {
    const frameArb = fc.tuple(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 5 })).map(([ch, op]) => lcusFrame(ch, op));
    // Garbage without the A0 start byte: an A0 in garbage right before a frame starts a
    // false frame overlapping it, which passes the 8-bit sum 1 time in 256.
    const lcusGarbage = fc.array(fc.uint8Array({ maxLength: 40 }).map((g) => g.map((b) => (b === 0xa0 ? 0x00 : b))), { maxLength: 12 });
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 10 }), lcusGarbage, cutsArb, (frames, garbage, cuts) => {
        const framer = new LcusFramer();
        const out: Buffer[] = [];
        framer.on('frame', (f) => out.push(f));
        for (const chunk of stream(frames, garbage, cuts, Buffer.alloc(4))) {
          framer.push(chunk);
          expect(framer.buffered).toBeLessThanOrEqual(framer.capacity);
        }
        framer.dispose();
        expect(out).toEqual(frames);
      }),
      { numRuns: 300 },
    );
  });
});
