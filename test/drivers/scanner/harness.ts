// Test helpers shared by the driver tests: a manual clock for injected timers and a
// property harness that feeds any framer random chunkings of frames mixed with garbage.
import fc from 'fast-check';
import { expect } from 'vitest';
import type { Framer, TimerFns } from '../../../drivers/transport/framing.js';

/** Injected timers driven by advance(): deterministic, no global fake timers needed. */
export class ManualTimers implements TimerFns {
  now = 0;
  #seq = 0;
  readonly #pending = new Map<number, { at: number; fn: () => void }>();

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.#seq;
    this.#pending.set(id, { at: this.now + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#pending.delete(handle as number);
  }

  get pending(): number {
    return this.#pending.size;
  }

  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.#pending) if (e[1].at <= until && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.#pending.delete(next[0]);
      this.now = next[1].at;
      next[1].fn();
    }
    this.now = until;
  }
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const bytes = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

export type Item = { kind: 'frame'; bytes: Buffer } | { kind: 'garbage'; bytes: Buffer } | { kind: 'gap' };

export interface FramerPropertySpec<F> {
  make: (timers: ManualTimers) => Framer<F>;
  /** Inter-byte timeout the framer was made with (a gap advances past it). */
  timeoutMs: number;
  /** Valid frames: wire bytes. */
  frame: fc.Arbitrary<Buffer>;
  /** The key of a wire frame and of an emitted frame must agree. */
  wireKey: (wire: Buffer) => string;
  frameKey: (frame: F) => string;
  /** Garbage that cannot overlap a following frame without a pause (e.g. no start bytes). */
  separatedGarbage: fc.Arbitrary<Buffer>;
  /**
   * Garbage before a pause; default any bytes. Protocols whose frames need no start byte
   * (a GM65 scan is any text + CR) narrow it, or the garbage itself is a valid frame.
   */
  pausedGarbage?: fc.Arbitrary<Buffer>;
  numRuns?: number;
}

function chunk(data: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  let i = 0;
  while (at < data.length) {
    const n = Math.max(1, sizes.length ? (sizes[i++ % sizes.length] ?? 1) : data.length);
    out.push(data.subarray(at, at + n));
    at += n;
  }
  return out;
}

/** Feed items (bursts between gaps are chunked randomly); returns emitted frames. */
export function feed<F>(framer: Framer<F>, timers: ManualTimers, items: Item[], sizes: number[], timeoutMs: number): F[] {
  const out: F[] = [];
  framer.on('frame', (f) => out.push(f));
  let burst: Buffer[] = [];
  const flush = (): void => {
    for (const c of chunk(Buffer.concat(burst), sizes)) {
      framer.push(c);
      expect(framer.buffered).toBeLessThanOrEqual(framer.capacity);
    }
    burst = [];
  };
  for (const it of items) {
    if (it.kind === 'gap') {
      flush();
      timers.advance(timeoutMs + 1);
    } else burst.push(it.bytes);
  }
  flush();
  return out;
}

/** Run the three framer properties of the acceptance criteria. */
export function checkFramerProperties<F>(spec: FramerPropertySpec<F>): void {
  // FC_NUM_RUNS=5000 for a longer hunt; the default keeps CI quick.
  const numRuns = Number(process.env.FC_NUM_RUNS) || (spec.numRuns ?? 150);
  const sizes = fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 12 });
  const anyBytes = fc.uint8Array({ minLength: 1, maxLength: 80 }).map((a) => Buffer.from(a));

  // 1. Arbitrary garbage anywhere, arbitrary chunking: never throws, memory bounded,
  //    counters add up (every byte in is a frame byte, discarded, or still buffered).
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          spec.frame.map((b) => ({ kind: 'frame', bytes: b }) as Item),
          anyBytes.map((b) => ({ kind: 'garbage', bytes: b }) as Item),
          fc.constant({ kind: 'gap' } as Item),
        ),
        { maxLength: 25 },
      ),
      sizes,
      (items, sz) => {
        const timers = new ManualTimers();
        const framer = spec.make(timers);
        let total = 0;
        for (const it of items) if (it.kind !== 'gap') total += it.bytes.length;
        expect(() => feed(framer, timers, items, sz, spec.timeoutMs)).not.toThrow();
        const c = framer.counters;
        expect(c.bytesIn).toBe(total);
        expect(c.bytesDiscarded + framer.buffered).toBeLessThanOrEqual(total);
        expect(framer.buffered).toBeLessThanOrEqual(framer.capacity);
      },
    ),
    { numRuns },
  );

  // 2. Garbage that cannot pose as a frame start, directly before/after frames:
  //    every valid frame comes out exactly once, in order.
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.option(spec.separatedGarbage, { nil: undefined }), spec.frame), { maxLength: 12 }),
      fc.option(spec.separatedGarbage, { nil: undefined }),
      sizes,
      (pairs, tail, sz) => {
        const timers = new ManualTimers();
        const framer = spec.make(timers);
        const items: Item[] = [];
        for (const [g, f] of pairs) {
          if (g) items.push({ kind: 'garbage', bytes: g });
          items.push({ kind: 'frame', bytes: f });
        }
        if (tail) items.push({ kind: 'garbage', bytes: tail });
        const got = feed(framer, timers, items, sz, spec.timeoutMs).map(spec.frameKey);
        const want = pairs.map(([, f]) => spec.wireKey(f));
        expect(got.filter((k) => want.includes(k))).toEqual(want);
      },
    ),
    { numRuns },
  );

  // 3. Arbitrary garbage followed by a pause (inter-byte timeout) before each frame:
  //    the pause resynchronises, so every frame still comes out exactly once.
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.option(spec.pausedGarbage ?? anyBytes, { nil: undefined }), spec.frame), { maxLength: 10 }),
      sizes,
      (pairs, sz) => {
        const timers = new ManualTimers();
        const framer = spec.make(timers);
        const items: Item[] = [];
        for (const [g, f] of pairs) {
          if (g) items.push({ kind: 'garbage', bytes: g }, { kind: 'gap' });
          items.push({ kind: 'frame', bytes: f });
        }
        const got = feed(framer, timers, items, sz, spec.timeoutMs).map(spec.frameKey);
        const want = pairs.map(([, f]) => spec.wireKey(f));
        expect(got.filter((k) => want.includes(k))).toEqual(want);
      },
    ),
    { numRuns },
  );
}
