import fc from 'fast-check';
import { describe, it } from 'vitest';
import { encodeInputEvent, EvdevWedgeScanner } from '../../../drivers/scanner/evdev-wedge.js';
import { encodeGm65Command, encodeGm65Response, Gm65Framer, type Gm65Frame } from '../../../drivers/scanner/gm65.js';
import { Gm65CommandFramer, type Gm65Command } from '../../../drivers/scanner/gm65.sim.js';
import { linkPair } from '../../../drivers/transport/memory-link.js';
import { checkFramerProperties, hex } from './harness.js';

const without = (excluded: number[], min = 1, max = 40) =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a.filter((b) => !excluded.includes(b))));

// Valid lines start with 'Q' and junk lines never contain it, so junk cannot equal a code.
const gm65Line = without([0x0d], 0, 60).map((b) => Buffer.concat([Buffer.from('Q'), b, Buffer.from([0x0d])]));
const gm65Response = fc.uint8Array({ maxLength: 8 }).map((d) => encodeGm65Response(d));
const gm65Key = (f: Gm65Frame) => (f.kind === 'scan' ? `s:${hex(f.data)}` : `r:${f.type}:${hex(f.data)}`);
const gm65WireKey = (w: Buffer) => (w[0] === 0x02 ? `r:${w[2]}:${hex(w.subarray(4, -2))}` : `s:${hex(w.subarray(0, -1))}`);

describe('scanner framer properties', () => {
  it('GM65 reader: responses and scanned lines in random chunks with garbage never throw, stay bounded, and come out once', () => {
    checkFramerProperties({
      make: (timers) => new Gm65Framer({ interByteTimeoutMs: 100, timers }),
      timeoutMs: 100,
      frame: fc.oneof(gm65Line, gm65Response),
      wireKey: gm65WireKey,
      frameKey: gm65Key,
      // Junk without STX ends as a junk line of its own at its CR.
      separatedGarbage: without([0x02, 0x0d, 0x51]).map((g) => Buffer.concat([g, Buffer.from([0x0d])])),
      // Garbage with a 'Q' could end in a CR and be a valid scan of its own (seed -1454692335 found "Q\r").
      pausedGarbage: without([0x51]),
    });
  });

  it('GM65 command parser (simulator side): same properties for 7E 00 command frames, CRC or AB CD', () => {
    checkFramerProperties<Gm65Command>({
      make: (timers) => new Gm65CommandFramer({ interByteTimeoutMs: 50, timers }),
      timeoutMs: 50,
      frame: fc
        .tuple(fc.constantFrom(0x07, 0x08, 0x09), fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 6 }), fc.constantFrom('crc' as const, 'none' as const))
        .map(([t, a, d, c]) => encodeGm65Command(t, a, d, c)),
      wireKey: (w) => `${w[2]}:${hex(w.subarray(4, 6))}:${hex(w.subarray(6, -2))}`,
      frameKey: (c) => `${c.type}:${c.address.toString(16).padStart(4, '0')}:${hex(c.data)}`,
      separatedGarbage: without([0x7e]).filter((b) => b.length > 0),
    });
  });

  it('evdev records: random chunkings never throw, stay bounded, and every record comes out once (a pause realigns after garbage)', () => {
    const record = fc
      .record({
        sec: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        usec: fc.integer({ min: 0, max: 999_999 }),
        type: fc.integer({ min: 0, max: 0x1f }),
        code: fc.integer({ min: 0, max: 0x2ff }),
        value: fc.integer({ min: -1, max: 2 }),
      })
      .map((e) => encodeInputEvent(e));
    checkFramerProperties({
      make: (timers) => new EvdevWedgeScanner(linkPair()[0], { timers }).framer,
      timeoutMs: 50,
      frame: record,
      wireKey: hex,
      frameKey: hex,
      // Records carry no start marker, so no garbage can be "separated" without a pause.
      separatedGarbage: fc.constant(Buffer.alloc(0)),
    });
  });
});
