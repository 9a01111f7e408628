// Nobody is wrongly admitted and nothing throws, for FUZZ_RUNS mutated scan payloads
// (10 000 in CI; `npm run fuzz` runs 1 000 000). FUZZ_SEED replays a run.
import { beforeAll, describe, expect, it } from 'vitest';
import { decideScan, fuzzWorld, legitimatelyAdmissible, runScanFuzz, type FuzzWorld } from './scan-fuzz.js';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 10_000);
const SEED = Number(process.env['FUZZ_SEED'] ?? Date.now() % 2 ** 31);

describe('the scan fuzzer', () => {
  let world: FuzzWorld;
  beforeAll(async () => {
    world = await fuzzWorld();
  });

  it('starts from passes that do what they were built for: the admissible ones are admitted, the others not', async () => {
    for (const b of world.bases) {
      expect(await decideScan(world, Buffer.from(b.token)) === 'admit', b.token.slice(0, 60)).toBe(b.admissible);
      expect(legitimatelyAdmissible(world, Buffer.from(b.token))).toBe(b.admissible);
    }
  });

  it(`admits none of ${RUNS} mutated payloads unless it is exactly an admissible trusted pass, and never throws (seed ${SEED})`, { timeout: 60_000 + RUNS * 2 }, async () => {
    const stats = await runScanFuzz(world, RUNS, SEED);
    process.stdout.write(
      `[scan-fuzz] ${stats.runs} payloads in ${stats.ms} ms (seed ${SEED}): outcomes ${JSON.stringify(stats.outcomes)}, admitted ${stats.admitted}, wrongly admitted ${stats.wronglyAdmitted.length}, threw ${stats.threw.length}; mutations ${JSON.stringify(stats.byMutation)}\n`,
    );
    expect(stats.threw).toEqual([]);
    expect(stats.wronglyAdmitted).toEqual([]);
    expect(stats.runs).toBe(RUNS);
    // The identity and trailing-CR/LF mutations of admissible passes must still get through.
    expect(stats.admitted).toBeGreaterThan(0);
  });
});
