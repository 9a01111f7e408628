// A lane admitting contractors on crew registrations: a member of a current crew is
// admitted and the crew's responsible person is recorded in the local ledger, never in
// what is published; without a current crew, or with a crew from a risk area, refused.
import { describe, expect, it } from 'vitest';
import { simLaneAt, useLaneTestEnv } from './harness.js';

const env = useLaneTestEnv('crew-');

const laneAt = (checkpoint = 'gate-1') => simLaneAt(env, checkpoint, { category: 'contractor', name: '孙施工' });

const crew = {
  id: 'CREW-1',
  responsible: '赵负责',
  members: ['C-1'],
  validFrom: '2024-01-09',
  validUntil: '2024-01-12',
  itinerary: [{ region: '天津市', from: '2024-01-03', to: '2024-01-05' }],
};

describe('a lane admitting contractors on crew registrations', () => {
  it('admits a member of a current crew and records the responsible person and crew with the admission', async () => {
    env.store.crewsReplace([crew]);
    const row = await (await laneAt())('C-1');
    expect(row.outcome).toBe('admit');
    expect(row).toMatchObject({ responsible: '赵负责', crewId: 'CREW-1' });
  });

  it('never publishes the responsible person: the outbox holds no name', async () => {
    env.store.crewsReplace([crew]);
    expect((await (await laneAt())('C-1')).outcome).toBe('admit');
    const payloads = env.store.outboxPending(100).map((r) => r.payload);
    expect(payloads.length).toBeGreaterThan(0);
    for (const p of payloads) expect(p).not.toMatch(/赵负责|孙施工|responsible|CREW-1/);
  });

  it('refuses a contractor in no crew with CREW_NOT_REGISTERED, recording no responsible person', async () => {
    env.store.crewsReplace([crew]);
    const row = await (await laneAt())('C-2');
    expect(row.outcome).toBe('refuse');
    expect(row.reasons.map((r) => r.code)).toEqual(['CREW_NOT_REGISTERED']);
    expect(row).not.toHaveProperty('responsible');
  });

  it('refuses a crew whose itinerary passed a high-risk area, with a risk-area alert', async () => {
    env.store.crewsReplace([crew]);
    env.store.riskAreasReplace([{ region: '天津市', level: 'high', since: '2024-01-01', until: null }]);
    const row = await (await laneAt())('C-1');
    expect(row.outcome).toBe('refuse');
    expect(row.reasons.map((r) => r.code)).toEqual(['CREW_ITINERARY_RISK_AREA']);
    expect(row.alerts).toContainEqual({ kind: 'risk-area', severity: 'critical', code: 'CREW_ITINERARY_RISK_AREA' });
  });
});
