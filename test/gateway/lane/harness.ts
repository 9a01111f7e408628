// The parts of a simulated lane that most lane tests share: a quiet logger, the test
// pseudonym secret, the real clock (faked by the test) and no-op callbacks.
import { pino } from 'pino';
import { afterEach, beforeEach, vi } from 'vitest';
import type { LaneConfig } from '../../../gateway/config/schema.js';
import { issuePass, type TrustList } from '../../../gateway/credentials/index.js';
import { buildSimLane, type LaneParts } from '../../../gateway/gateway.js';
import { MINE_ENTRANCE } from '../../../gateway/policy/profiles.js';
import { openStore, type LedgerEntry, type SqliteStore } from '../../../gateway/store/index.js';
import type { Store } from '../../../gateway/store/types.js';
import { goodClaims, testIssuer, type Issuer } from '../credentials/fixtures.js';
import { freshDir, removeDirs } from '../store/helpers.js';

/** A lane on simulated scanner, thermometer and relay: 10 s temperature window, 700 ms pulse. */
export function simLaneConfig(id = 'in-1', over: Partial<LaneConfig> = {}): LaneConfig {
  return {
    id,
    temperatureWindowMs: 10_000,
    relayPulseMs: 700,
    scanner: { type: 'sim' },
    thermometer: { type: 'sim' },
    relay: { type: 'sim' },
    ...over,
  };
}

export function laneParts(
  store: Store,
  trust: TrustList,
  over: Partial<LaneParts> & Pick<LaneParts, 'laneConfig'> & { checkpoint?: string },
): LaneParts {
  const { checkpoint = 'c', ...rest } = over;
  return {
    profile: MINE_ENTRANCE,
    store,
    trust,
    secret: Buffer.alloc(32, 7),
    eventsTopic: `checkpoints/s/${checkpoint}/events`,
    ctx: { site: 's', checkpoint },
    showMs: 5000,
    now: () => Date.now(),
    logger: pino({ level: 'silent' }),
    afterRecord: () => {},
    onSnapshot: () => {},
    ...rest,
  };
}

/** The fixtures' "now": lane tests run on fake timers set to it. */
export const T0 = Date.UTC(2024, 0, 10, 0, 0, 0);

export interface LaneTestEnv {
  readonly store: SqliteStore;
  readonly issuer: Issuer;
  /** Called after each test, before the store closes (stop the lane started by the test). */
  onStop(stop: () => Promise<void>): void;
}

/** Fake timers at T0, a fresh SQLite store in a temp dir and the test issuer, per test. */
export function useLaneTestEnv(prefix: string): LaneTestEnv {
  let store: SqliteStore | undefined;
  let issuer: Issuer | undefined;
  let stop: () => Promise<void> = async () => undefined;
  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    vi.setSystemTime(T0);
    issuer = await testIssuer();
    store = openStore(freshDir(prefix));
  });
  afterEach(async () => {
    await stop();
    stop = async () => undefined;
    store?.close();
    vi.useRealTimers();
    removeDirs();
  });
  return {
    get store() {
      if (!store) throw new Error('store used outside a test');
      return store;
    },
    get issuer() {
      if (!issuer) throw new Error('issuer used outside a test');
      return issuer;
    },
    onStop(fn) {
      stop = fn;
    },
  };
}

/**
 * Starts a simulated lane at `checkpoint` (stopped after the test) and returns a function
 * that passes `sub` through it with a normal reading and a good pass carrying `claims`,
 * waits for the screen to go back to waiting and returns the ledger row written.
 */
export async function simLaneAt(
  env: LaneTestEnv,
  checkpoint: string,
  claims: Parameters<typeof goodClaims>[0] = {},
): Promise<(sub: string) => Promise<LedgerEntry>> {
  const parts = buildSimLane(laneParts(env.store, env.issuer.trust, {
    laneConfig: simLaneConfig(),
    checkpoint,
  }));
  await parts.lane.start();
  env.onStop(() => parts.lane.stop());
  return async (sub) => {
    parts.thermometer.reading(36.5);
    parts.scanner.scan(await issuePass(goodClaims({ ...claims, sub }), env.issuer.privateJwk));
    await parts.lane.settled();
    vi.advanceTimersByTime(6000); // the screen goes back to waiting
    const row = env.store.queryEvents({ limit: 1 })[0];
    if (row === undefined) throw new Error('no ledger row');
    return row;
  };
}

/**
 * Starts a simulated lane with a simulated passage sensor (stopped after the test).
 * `pass(sub, afterMs)` lets `sub` through with a normal reading and a good pass, moves the
 * clock on by `afterMs` and returns the latest ledger row.
 */
export async function startSensedLane(env: LaneTestEnv, id: string, over: Partial<LaneParts> = {}) {
  const parts = buildSimLane(laneParts(env.store, env.issuer.trust, { laneConfig: simLaneConfig(id, { passageSensor: { type: 'sim' } }), ...over }));
  await parts.lane.start();
  env.onStop(() => parts.lane.stop());
  const sensor = parts.sensor;
  if (!sensor) throw new Error('no sim sensor');
  return {
    ...parts,
    sensor,
    pass: async (sub: string, afterMs = 6000): Promise<LedgerEntry | undefined> => {
      parts.thermometer.reading(36.5);
      parts.scanner.scan(await issuePass(goodClaims({ sub }), env.issuer.privateJwk));
      await parts.lane.settled();
      vi.advanceTimersByTime(afterMs);
      return env.store.queryEvents({ limit: 1 })[0];
    },
  };
}
