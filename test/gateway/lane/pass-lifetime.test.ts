// The lane verifies passes with the configured credentials.maxPassLifetimeHours
// (issue 10, defect 10): a genuine pass valid until 2100 is refused, never admitted.
import { describe, expect, it, vi } from 'vitest';
import { issuePass } from '../../../gateway/credentials/index.js';
import { buildSimLane } from '../../../gateway/gateway.js';
import { goodClaims } from '../credentials/fixtures.js';
import { laneParts, simLaneConfig, T0, useLaneTestEnv } from './harness.js';

const env = useLaneTestEnv('lane-lifetime-');
const T0_S = T0 / 1000;

async function present(claims: Parameters<typeof goodClaims>[0], maxLifetimeHours?: number) {
  const parts = buildSimLane(
    laneParts(env.store, env.issuer.trust, { laneConfig: simLaneConfig(), ...(maxLifetimeHours ? { passRules: { maxLifetimeHours } } : {}) }),
  );
  await parts.lane.start();
  env.onStop(() => parts.lane.stop());
  parts.thermometer.reading(36.5);
  parts.scanner.scan(await issuePass(goodClaims(claims), env.issuer.privateJwk));
  await parts.lane.settled();
  vi.advanceTimersByTime(10);
  return { row: env.store.queryEvents({ limit: 1 })[0], relay: parts.relay };
}

describe('a lane and the pass lifetime limit', () => {
  it('refuses a genuine pass valid until 2100 with PASS_LIFETIME_TOO_LONG and keeps the gate shut', async () => {
    const { row, relay } = await present({ iat: T0_S - 3600, exp: Date.UTC(2100, 0, 1) / 1000 });
    expect(row).toMatchObject({ outcome: 'refuse', reasons: [{ code: 'PASS_LIFETIME_TOO_LONG', en: 'Pass validity period is too long' }] });
    expect(relay.pulses).toEqual([]);
  });

  it('uses the configured limit: a 48 h pass is refused under a 24 h limit', async () => {
    const { row } = await present({ iat: T0_S - 3600, exp: T0_S + 47 * 3600 }, 24);
    expect(row).toMatchObject({ outcome: 'refuse', reasons: [{ code: 'PASS_LIFETIME_TOO_LONG' }] });
  });

  it('admits the same 48 h pass under the default 168 h limit', async () => {
    const { row } = await present({ iat: T0_S - 3600, exp: T0_S + 47 * 3600 });
    expect(row).toMatchObject({ outcome: 'admit' });
  });
});
