// The parts of a simulated lane that most lane tests share: a quiet logger, the test
// pseudonym secret, the real clock (faked by the test) and no-op callbacks.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, vi } from 'vitest';
import type { TrustList } from '../../../gateway/credentials/index.js';
import type { LaneParts } from '../../../gateway/gateway.js';
import { MINE_ENTRANCE } from '../../../gateway/policy/profiles.js';
import { openStore, type SqliteStore } from '../../../gateway/store/index.js';
import type { Store } from '../../../gateway/store/types.js';
import { testIssuer, type Issuer } from '../credentials/fixtures.js';

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
  let dir = '';
  let store: SqliteStore | undefined;
  let issuer: Issuer | undefined;
  let stop: () => Promise<void> = async () => undefined;
  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    vi.setSystemTime(T0);
    dir = mkdtempSync(path.join(tmpdir(), prefix));
    issuer = await testIssuer();
    store = openStore(dir);
  });
  afterEach(async () => {
    await stop();
    stop = async () => undefined;
    store?.close();
    vi.useRealTimers();
    rmSync(dir, { recursive: true, force: true });
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
