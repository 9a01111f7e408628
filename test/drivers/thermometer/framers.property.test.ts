import fc from 'fast-check';
import { describe, it } from 'vitest';
import { encodeGd60914Reply, Gd60914Framer } from '../../../drivers/thermometer/gd60914.js';
import { encodeLu90614Reply, lu90614Framer } from '../../../drivers/thermometer/lu90614.js';
import { encodeMlx66Reply, mlx66Framer } from '../../../drivers/thermometer/mlx90614-66.js';
import { checkFramerProperties, hex } from '../scanner/harness.js';

const without = (excluded: number[]) =>
  fc
    .uint8Array({ minLength: 1, maxLength: 40 })
    .map((a) => Buffer.from(a.filter((b) => !excluded.includes(b))))
    .filter((b) => b.length > 0);

describe('thermometer framer properties', () => {
  it('LU90614 replies in random chunks with garbage never throw, stay bounded, and come out once', () => {
    checkFramerProperties({
      make: (timers) => lu90614Framer({ interByteTimeoutMs: 100, timers }),
      timeoutMs: 100,
      frame: fc.oneof(fc.integer({ min: 0, max: 25599 }).map((h) => encodeLu90614Reply(h / 100)), fc.constant(encodeLu90614Reply(undefined))),
      wireKey: hex,
      frameKey: hex,
      separatedGarbage: without([0xfe]),
    });
  });

  it('MLX90614 "66 66" replies: same properties', () => {
    checkFramerProperties({
      make: (timers) => mlx66Framer({ interByteTimeoutMs: 100, timers }),
      timeoutMs: 100,
      frame: fc
        .tuple(fc.integer({ min: -4000, max: 12500 }), fc.integer({ min: -7000, max: 32000 }), fc.constantFrom(1, 2))
        .map(([a, o, m]) => encodeMlx66Reply(a / 100, o / 100, m)),
      wireKey: hex,
      frameKey: hex,
      separatedGarbage: without([0x66]),
    });
  });

  it('GD60914 ASCII replies: same properties', () => {
    checkFramerProperties({
      make: (timers) => new Gd60914Framer({ interByteTimeoutMs: 100, timers }),
      timeoutMs: 100,
      frame: fc.integer({ min: 0, max: 1000 }).map((t) => encodeGd60914Reply(t / 10)),
      wireKey: hex,
      frameKey: hex,
      // Only a space, sign or digit can start a reply.
      separatedGarbage: without([0x20, 0x2b, 0x2d, ...Array.from({ length: 10 }, (_, i) => 0x30 + i)]),
    });
  });
});
