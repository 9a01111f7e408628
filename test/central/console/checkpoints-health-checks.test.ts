// The checkpoints overview says when a gateway runs with health checks off (issue 14
// item 4), from the birth it published; a birth from before the field says nothing.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { classify } from '../../../central/classify.js';
import { checkpointsOverview } from '../../../central/console/checkpoints.js';
import { Partitions } from '../../../central/db/partitions.js';
import { loadValidators } from '../../../central/schemas.js';
import { monthsOf, writeBatch } from '../../../central/writer.js';
import { Cleanup } from '../../gateway/telemetry/helpers.js';
import { testDb, type TestDb } from '../helpers.js';

const T0 = Date.UTC(2026, 11, 4, 8, 0, 0);
const validators = loadValidators();
const lane = (id: string, extra: Record<string, unknown> = {}) => ({ id, state: 'idle', devices: { scanner: { type: 'sim', state: 'connected' } }, ...extra });
const birth = (extra: Record<string, unknown>, lanes: unknown[]) => ({
  v: 1, state: 'online', session: 1, at: new Date(T0).toISOString(), version: '0.4.0', configHash: `sha256:${'c'.repeat(32)}`, lanes, updates: { policy: 1 }, ...extra,
});

describe('checkpoints overview: health checks', () => {
  let cleanup: Cleanup;
  let t: TestDb;
  beforeEach(async () => {
    cleanup = new Cleanup();
    t = await testDb(cleanup, 'postgres');
  }, 60_000);
  afterEach(() => cleanup.run());

  async function status(checkpoint: string, body: unknown): Promise<void> {
    const item = classify(`checkpoints/mine-a/${checkpoint}/status`, Buffer.from(JSON.stringify(body)), 'checkpoints', validators);
    if (item.type === 'rejected') throw new Error(`rejected: ${item.reason}`);
    await new Partitions(t.db).ensure(monthsOf([item], T0));
    await t.db.transaction((tx) => writeBatch(tx, [item], T0));
  }

  it('shows off for a gateway that said so, the access-only lanes of one that did not, and nothing for an older one', async () => {
    await status('gate-1', birth({ healthChecks: 'off' }, [lane('in-1', { healthChecks: 'off' })]));
    await status('gate-2', birth({ healthChecks: 'on' }, [lane('in-1'), lane('staff-1', { healthChecks: 'off' })]));
    await status('gate-3', birth({}, [lane('in-1')]));
    const rows = await checkpointsOverview(t.db, {}, T0);
    expect(rows.map((r) => [r.checkpoint, r.healthChecks, r.lanes.map((l) => l.accessOnly === true)])).toEqual([
      ['gate-1', 'off', [true]],
      ['gate-2', 'on', [false, true]],
      ['gate-3', null, [false]],
    ]);
  });
});
