import fc from 'fast-check';
import { describe, it } from 'vitest';
import { DelimiterFramer, FixedFramer, trailingSum8, sum8 } from '../../../drivers/transport/framing.js';
import { checkFramerProperties, hex } from '../scanner/harness.js';

const noByte = (...excluded: number[]) =>
  fc.uint8Array({ minLength: 1, maxLength: 40 }).map((a) => Buffer.from(a.filter((b) => !excluded.includes(b)))).filter((b) => b.length > 0);

describe('framer properties', () => {
  it('DelimiterFramer (CR lines): random chunkings with garbage never throw, stay bounded, and every separated line comes out once', () => {
    checkFramerProperties({
      make: (timers) => new DelimiterFramer({ delimiter: [0x0d], maxLength: 64, interByteTimeoutMs: 100, timers }),
      timeoutMs: 100,
      // Valid lines start with 'Q' and junk never contains it, so junk cannot equal a code.
      frame: fc.uint8Array({ maxLength: 63 }).map((a) => Buffer.concat([Buffer.from('Q'), Buffer.from(a.map((b) => (b === 0x0d ? 0x41 : b))), Buffer.from([0x0d])])),
      wireKey: (w) => hex(w.subarray(0, -1)),
      frameKey: (f) => hex(f),
      // Garbage becomes a junk line of its own when it ends in the terminator.
      separatedGarbage: noByte(0x0d, 0x51).map((g) => Buffer.concat([g, Buffer.from([0x0d])])),
    });
  });

  it('DelimiterFramer (CRLF lines): same properties with a two-byte terminator', () => {
    checkFramerProperties({
      make: (timers) => new DelimiterFramer({ delimiter: [0x0d, 0x0a], maxLength: 64, interByteTimeoutMs: 100, timers }),
      timeoutMs: 100,
      frame: fc
        .uint8Array({ maxLength: 63 })
        .map((a) => Buffer.concat([Buffer.from('Q'), Buffer.from(a.map((b) => (b === 0x0d || b === 0x0a ? 0x41 : b))), Buffer.from([0x0d, 0x0a])])),
      wireKey: (w) => hex(w.subarray(0, -2)),
      frameKey: (f) => hex(f),
      separatedGarbage: noByte(0x0d, 0x0a, 0x51).map((g) => Buffer.concat([g, Buffer.from([0x0d, 0x0a])])),
    });
  });

  it('FixedFramer (start byte + sum): same properties for 4-byte frames', () => {
    checkFramerProperties({
      make: (timers) => new FixedFramer({ start: [0xa0], length: 4, verify: trailingSum8, interByteTimeoutMs: 20, timers }),
      timeoutMs: 20,
      frame: fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })).map(([a, b]) => {
        const body = Buffer.from([0xa0, a, b]);
        return Buffer.concat([body, Buffer.from([sum8(body)])]);
      }),
      wireKey: hex,
      frameKey: hex,
      separatedGarbage: noByte(0xa0),
    });
  });
});
