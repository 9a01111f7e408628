// The store keeps in memory what only a central update replaces (risk areas, which
// subjects have watchlist, approval or crew rows): an update applied while the lane runs
// must still decide the very next passage.
import { beforeAll, describe, expect, it } from 'vitest';
import { topicsFor } from '../../../gateway/telemetry/topics.js';
import { CHECKPOINT, SITE, centralKeys, signed, watch, type CentralKeys, updateService } from '../updates/helpers.js';
import { T0, simLaneAt, useLaneTestEnv } from './harness.js';

const env = useLaneTestEnv('facts-replaced-');

const crew = {
  id: 'CREW-1',
  responsible: '赵负责',
  members: ['C-1'],
  validFrom: '2024-01-09',
  validUntil: '2024-01-12',
  itinerary: [{ region: '天津市', from: '2024-01-03', to: '2024-01-05' }],
};

let keys: CentralKeys;
beforeAll(async () => {
  keys = await centralKeys('central-facts-replaced');
});

function updates(): (kind: string, version: number, data: unknown) => Promise<void> {
  const topics = topicsFor({ prefix: 'checkpoints', site: SITE, checkpoint: CHECKPOINT });
  const svc = updateService(env.store, keys, topics, T0);
  return async (kind, version, data) => {
    const token = await signed(keys, kind as Parameters<typeof signed>[1], version, data);
    const result = await svc.handle({ topic: `${topics.cmd}/${kind}`, kind, siteWide: false, retained: false, payload: Buffer.from(token) });
    expect(result.status).toBe('applied');
  };
}

describe('facts replaced by an update while the lane runs', () => {
  it('a risk-area update decides the very next passage, and so does its withdrawal', async () => {
    const apply = updates();
    await apply('crews', 1, { entries: [crew] });
    const pass = await simLaneAt(env, CHECKPOINT, { category: 'contractor', name: '孙施工' });
    expect((await pass('C-1')).outcome).toBe('admit');

    await apply('risk-areas', 1, { entries: [{ region: '天津市', level: 'high', since: '2024-01-01', until: null }] });
    const refused = await pass('C-1');
    expect(refused.outcome).toBe('refuse');
    expect(refused.reasons.map((r) => r.code)).toEqual(['CREW_ITINERARY_RISK_AREA']);

    await apply('risk-areas', 2, { entries: [] });
    expect((await pass('C-1')).outcome).toBe('admit');
  });

  it('a crew update decides the very next passage of a member added or removed', async () => {
    const apply = updates();
    await apply('crews', 1, { entries: [crew] });
    const pass = await simLaneAt(env, CHECKPOINT, { category: 'contractor', name: '孙施工' });
    expect((await pass('C-2')).reasons.map((r) => r.code)).toEqual(['CREW_NOT_REGISTERED']);

    await apply('crews', 2, { entries: [{ ...crew, members: ['C-2'] }] });
    expect((await pass('C-2')).outcome).toBe('admit');
    expect((await pass('C-1')).reasons.map((r) => r.code)).toEqual(['CREW_NOT_REGISTERED']);
  });

  it('a watchlist update decides the very next passage of the subject it adds', async () => {
    const apply = updates();
    const pass = await simLaneAt(env, CHECKPOINT);
    expect((await pass('E-1')).outcome).toBe('admit');

    await apply('watchlist', 1, { entries: [watch('E-1')] });
    const row = await pass('E-1');
    expect(row.outcome).not.toBe('admit');
    expect(row.alerts.map((a) => a.kind)).toContain('watchlist');

    await apply('watchlist', 2, { entries: [] });
    expect((await pass('E-1')).outcome).toBe('admit');
  });
});
