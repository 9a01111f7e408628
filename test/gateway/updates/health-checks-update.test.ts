// Health checks switched by a signed policy update (issue 14 item 4): `healthChecks` beside
// the overrides covers every lane, applies at once, is recorded like any update and
// survives a restart; an update that leaves it out returns to the config's setting.
import { pino } from 'pino';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MINE_ENTRANCE } from '../../../gateway/policy/profiles.js';
import { openStore, type SqliteStore } from '../../../gateway/store/index.js';
import { topicsFor, type CheckpointTopics } from '../../../gateway/telemetry/topics.js';
import { prepareUpdateData } from '../../../gateway/updates/envelope.js';
import { LiveHealthChecks, LivePolicy, LiveTrust } from '../../../gateway/updates/live.js';
import { UpdateService, restoreUpdates } from '../../../gateway/updates/service.js';
import { freshDir, removeDirs } from '../store/helpers.js';
import { CHECKPOINT, SITE, centralKeys, codeOf, envelope, signed, updateService, type CentralKeys } from './helpers.js';

let keys: CentralKeys;
let dir: string;
let store: SqliteStore;
let topics: CheckpointTopics;
let health: LiveHealthChecks;
let policy: LivePolicy;
/** A lane on another profile: it follows the switch too. */
let canteen: LivePolicy;

beforeAll(async () => {
  keys = await centralKeys('central-health');
});

beforeEach(() => {
  dir = freshDir('updates-health-');
  store = openStore(dir);
  topics = topicsFor({ prefix: 'checkpoints', site: SITE, checkpoint: CHECKPOINT });
  health = new LiveHealthChecks('on');
  policy = new LivePolicy(MINE_ENTRANCE, health);
  canteen = new LivePolicy({ ...MINE_ENTRANCE, name: 'canteen' }, health);
});

afterEach(() => {
  store.close();
  removeDirs();
});

function service(): UpdateService {
  return updateService(store, keys, topics, Date.parse('2022-12-05T09:00:00Z'), { policy, healthChecks: { live: health, configured: 'on' } });
}

function cmd(token: string) {
  return { topic: `${topics.cmd}/policy`, kind: 'policy', siteWide: false, retained: false, payload: Buffer.from(token) };
}

describe('healthChecks in a signed policy update', () => {
  it('turns health checks off on every lane at once, records the update and keeps it across a restart', async () => {
    const lanes = [policy.view, canteen.view];
    const result = await service().handle(cmd(await signed(keys, 'policy', 1, { overrides: {}, healthChecks: 'off' })));
    expect(result).toMatchObject({ status: 'applied', kind: 'policy', version: 1 });
    expect(health.current).toBe('off');
    expect(lanes.map((p) => p.healthChecks)).toEqual(['off', 'off']);
    expect(canteen.current.name).toBe('canteen');
    expect(store.getMeta('update.policy.version')).toBe('1');
    const response = store.outboxPending(10).find((r) => r.topic === `${topics.response}/policy`);
    expect(JSON.parse(response?.payload ?? '{}')).toMatchObject({ status: 'applied', version: 1 });

    store.close();
    store = openStore(dir);
    const restored = await restoreUpdates(store, { profile: MINE_ENTRANCE, trust: new Map(), healthChecks: 'on' });
    expect(restored.healthChecks).toBe('off');
  });

  it('turns them on again with healthChecks: on, and back to the config when a later update leaves it out', async () => {
    const svc = service();
    await svc.handle(cmd(await signed(keys, 'policy', 1, { overrides: {}, healthChecks: 'off' })));
    await svc.handle(cmd(await signed(keys, 'policy', 2, { overrides: {}, healthChecks: 'on' })));
    expect(policy.view.healthChecks).toBeUndefined();
    await svc.handle(cmd(await signed(keys, 'policy', 3, { overrides: {}, healthChecks: 'off' })));
    expect(health.current).toBe('off');
    await svc.handle(cmd(await signed(keys, 'policy', 4, { overrides: { testWindowHours: 24 } })));
    expect(health.current).toBe('on');
    expect(policy.view.testWindowHours).toBe(24);
    const restored = await restoreUpdates(store, { profile: MINE_ENTRANCE, trust: new Map(), healthChecks: 'off' });
    expect(restored.healthChecks).toBe('off'); // the config's, since the last update left it out
  });

  it('refuses healthChecks inside the overrides, where it would cover the default profile only', async () => {
    const code = await codeOf(prepareUpdateData(envelope('policy', 1, { overrides: { healthChecks: 'off' } })));
    expect(code).toBe('UPDATE_SCHEMA_INVALID: [UPDATE_SCHEMA_INVALID] data.overrides.healthChecks: expected healthChecks beside overrides (data.healthChecks), where it applies to every lane');
    const result = await service().handle(cmd(await signed(keys, 'policy', 1, { overrides: { healthChecks: 'off' } })));
    expect(result.status).toBe('rejected');
    expect(health.current).toBe('on');
  });

  it('refuses a value other than on or off, and changes nothing', async () => {
    expect(await codeOf(prepareUpdateData(envelope('policy', 1, { overrides: {}, healthChecks: false })))).toContain('healthChecks: expected on or off');
    const result = await service().handle(cmd(await signed(keys, 'policy', 1, { overrides: {}, healthChecks: 'maybe' })));
    expect(result.error?.code).toBe('UPDATE_SCHEMA_INVALID');
    expect(store.getMeta('update.policy.version')).toBeUndefined();
  });
});
