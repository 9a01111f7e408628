// The parts of a simulated lane that most lane tests share: a quiet logger, the test
// pseudonym secret, the real clock (faked by the test) and no-op callbacks.
import { pino } from 'pino';
import type { TrustList } from '../../../gateway/credentials/index.js';
import type { LaneParts } from '../../../gateway/gateway.js';
import { MINE_ENTRANCE } from '../../../gateway/policy/profiles.js';
import type { Store } from '../../../gateway/store/types.js';

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
