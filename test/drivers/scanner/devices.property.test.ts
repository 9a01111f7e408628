import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Gm65Scanner } from '../../../drivers/scanner/gm65.js';
import { Gm65Sim } from '../../../drivers/scanner/gm65.sim.js';
import { LineScanner, type LineSuffix } from '../../../drivers/scanner/line-scanner.js';
import { LineScannerSim } from '../../../drivers/scanner/line-scanner.sim.js';
import { seededRandom } from '../../../drivers/scanner/sim-base.js';
import { Lu90614 } from '../../../drivers/thermometer/lu90614.js';
import { Lu90614Sim } from '../../../drivers/thermometer/lu90614.sim.js';
import { linkPair } from '../../../drivers/transport/memory-link.js';
import type { ThermometerReading } from '../../../drivers/types.js';
import { ManualTimers } from './harness.js';

// Printable codes without the suffix bytes, as a pass QR would be.
const code = fc.string({ minLength: 1, maxLength: 300, unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_./+$%*')}).map(String);
const runs = Number(process.env.FC_NUM_RUNS) || 60;

describe('driver and simulator pairs under random faults', () => {
  it('a line scanner gets every presented code exactly once, in order, through random chunking', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(code, { maxLength: 15 }), fc.constantFrom<LineSuffix>('CR', 'CRLF', 'LF'), fc.integer(), fc.boolean(), async (codes, suffix, seed, aim) => {
        const [host, device] = linkPair();
        const scanner = new LineScanner(host, { suffix, aimPrefix: aim, timers: new ManualTimers() });
        const sim = new LineScannerSim(device, { suffix, ...(aim ? { aimId: ']Q1' } : {}), random: seededRandom(seed), faults: { splitFrames: true } });
        const got: string[] = [];
        scanner.on('scan', (p: Buffer) => got.push(p.toString('latin1')));
        await scanner.start();
        for (const c of codes) await sim.present(c);
        expect(got).toEqual(codes);
      }),
      { numRuns: runs },
    );
  });

  it('a GM65 gets every code exactly once and every command its ACK, interleaved, through random chunking', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(code, fc.boolean()), { maxLength: 12 }), fc.integer(), async (steps, seed) => {
        const [host, device] = linkPair();
        const scanner = new Gm65Scanner(host, { timers: new ManualTimers() });
        const sim = new Gm65Sim(device, { random: seededRandom(seed), faults: { splitFrames: true } });
        sim.start();
        const got: string[] = [];
        scanner.on('scan', (p: Buffer) => got.push(p.toString('latin1')));
        await scanner.start();
        // The handshake on open is answered first (a GM65 is up only once it answered).
        for (let i = 0; i < 50 && scanner.status.state !== 'connected'; i++) await new Promise((r) => setImmediate(r));
        for (const [c, alsoCommand] of steps) {
          await sim.present(c);
          if (alsoCommand) await scanner.writeRegister(0x0003, c.length & 0xff);
        }
        expect(got).toEqual(steps.map(([c]) => c));
        expect(scanner.counters.badFrames).toBe(0);
      }),
      { numRuns: runs },
    );
  });

  it('an LU90614 reports exactly the simulated temperature through line noise (then silence) and random chunking', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 3000, max: 4500 }), { minLength: 1, maxLength: 10 }), fc.integer(), fc.integer({ min: 0, max: 20 }), async (temps, seed, garbage) => {
        const [host, device] = linkPair();
        const timers = new ManualTimers();
        const thermo = new Lu90614(host, { timers });
        const sim = new Lu90614Sim(device, { random: seededRandom(seed), faults: { splitFrames: true } });
        sim.start();
        const got: ThermometerReading[] = [];
        thermo.on('reading', (r: ThermometerReading) => got.push(r));
        await thermo.start();
        // The probe sent on open is answered first (a thermometer is up only once it answered).
        for (let i = 0; i < 20 && thermo.status.state !== 'connected'; i++) await new Promise((r) => setImmediate(r));
        for (const t of temps) {
          // Noise right before a reply may hold a false FE start that a 1-in-256 sum would
          // accept; the framer-level properties cover that. Here noise is followed by silence.
          if (garbage > 0) await sim.sendGarbage(garbage);
          timers.advance(101);
          sim.setTemperature(t / 100);
          thermo.measure();
          await new Promise((r) => setImmediate(r));
        }
        expect(got.map((r) => Math.round(r.raw! * 100))).toEqual(temps);
      }),
      { numRuns: runs },
    );
  });
});
