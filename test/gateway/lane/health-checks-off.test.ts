// A lane with health checks off (issue 14 item 4): it never asks the thermometer, does
// not need it, keeps no reading, and stores no health fact; switching the setting takes
// effect at once, for a person already waiting to be measured too.
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { issuePass } from '../../../gateway/credentials/index.js';
import { buildSimLane } from '../../../gateway/gateway.js';
import { withoutHealth } from '../../../gateway/lane/health-strip.js';
import type { LaneSnapshot } from '../../../gateway/lane/types.js';
import { MINE_ENTRANCE } from '../../../gateway/policy/profiles.js';
import { reason } from '../../../gateway/policy/reasons.js';
import { LiveHealthChecks, LivePolicy } from '../../../gateway/updates/live.js';
import type { NewLedgerEntry } from '../../../gateway/store/types.js';
import { goodClaims } from '../credentials/fixtures.js';
import { laneParts, simLaneConfig, useLaneTestEnv } from './harness.js';

const env = useLaneTestEnv('lane-health-off-');
const redPositive = { healthCode: 'red' as const, test: { result: 'positive' as const, sampledAt: '2024-01-09T01:00:00Z' } };

/** The latest ledger row as the SQLite file holds it, facts included (queryEvents leaves them out). */
function rawRow(): Record<string, unknown> {
  const db = new Database(env.store.path, { readonly: true });
  try {
    return db.prepare('SELECT * FROM ledger ORDER BY seq DESC LIMIT 1').get() as Record<string, unknown>;
  } finally {
    db.close();
  }
}

async function start(mode: 'on' | 'off') {
  const health = new LiveHealthChecks(mode);
  const live = new LivePolicy(MINE_ENTRANCE, health);
  const snapshots: LaneSnapshot[] = [];
  const parts = buildSimLane(laneParts(env.store, env.issuer.trust, { laneConfig: simLaneConfig(), profile: live.view, onSnapshot: (s) => snapshots.push(s) }));
  await parts.lane.start();
  env.onStop(() => parts.lane.stop());
  let measures = 0;
  const measure = parts.thermometer.measure.bind(parts.thermometer);
  parts.thermometer.measure = () => {
    measures += 1;
    measure();
  };
  return { ...parts, health, snapshots, measures: () => measures };
}

afterEach(() => vi.useRealTimers());

describe('a lane with health checks off', () => {
  it('admits a red-code pass with a positive test without asking for a temperature, and stores no health fact', async () => {
    const lane = await start('off');
    lane.thermometer.reading(38.9); // a fever just before the scan: not paired, not kept
    lane.scanner.scan(await issuePass(goodClaims(redPositive), env.issuer.privateJwk));
    await lane.lane.settled();
    expect(lane.measures()).toBe(0);
    expect(lane.relay.pulses).toHaveLength(1);
    const row = rawRow();
    expect(row).toMatchObject({ outcome: 'admit', temperature: null, reasons: '[]', alerts: '[]', profile: 'mine-entrance' });
    const facts = JSON.parse(String(row['facts'])) as Record<string, unknown>;
    expect(facts['credential']).toEqual({ ok: true, kind: 'health-pass', category: 'employee' });
    expect(facts['readings']).toEqual([]);
    expect(JSON.stringify(row)).not.toMatch(/healthCode|positive|sampledAt|riskLevel|Yulin/);
    expect(lane.snapshots.at(-1)).toMatchObject({ state: 'showing', healthChecks: 'off', last: { outcome: 'admit', temperature: null } });
  });

  it('does not need the thermometer: a lane whose thermometer is down still admits', async () => {
    const lane = await start('off');
    lane.thermometer.setState('disconnected', 'unplugged');
    expect(lane.lane.snapshot().state).not.toBe('out-of-service');
    lane.scanner.scan(await issuePass(goodClaims(), env.issuer.privateJwk));
    await lane.lane.settled();
    expect(env.store.queryEvents({ limit: 1 })[0]).toMatchObject({ outcome: 'admit', reasons: [] });
  });

  it('with health checks on, the same pass waits for a temperature and is refused', async () => {
    const lane = await start('on');
    lane.scanner.scan(await issuePass(goodClaims(redPositive), env.issuer.privateJwk));
    await lane.lane.settled();
    expect(lane.measures()).toBe(0); // refused at once on the subject checks
    expect(env.store.queryEvents({ limit: 1 })[0]?.reasons.map((r) => r.code)).toEqual(['HEALTH_CODE_RED', 'TEST_POSITIVE']);
    lane.scanner.scan(await issuePass(goodClaims({ sub: 'p-2' }), env.issuer.privateJwk));
    await lane.lane.settled();
    expect(lane.measures()).toBe(1);
    expect(lane.lane.snapshot().state).toBe('measuring');
  });

  it('switched off while a person waits to be measured: admits them at once, with no temperature', async () => {
    const lane = await start('on');
    lane.scanner.scan(await issuePass(goodClaims(), env.issuer.privateJwk));
    await lane.lane.settled();
    expect(lane.lane.snapshot().state).toBe('measuring');
    lane.health.set('off');
    lane.lane.policyChanged();
    expect(lane.lane.snapshot()).toMatchObject({ state: 'showing', healthChecks: 'off' });
    expect(rawRow()).toMatchObject({ outcome: 'admit', temperature: null });
  });

  it('switched back on: the thermometer is needed and asked again', async () => {
    const lane = await start('off');
    lane.thermometer.setState('disconnected', 'unplugged');
    lane.health.set('on');
    lane.lane.policyChanged();
    expect(lane.lane.snapshot().state).toBe('out-of-service');
    expect(lane.lane.snapshot()).not.toHaveProperty('healthChecks');
  });
});

describe('the gateway guard before the store', () => {
  const entry: NewLedgerEntry = {
    id: 'e-1',
    at: 1,
    lane: 'in-1',
    kind: 'decision',
    outcome: 'refuse',
    reasons: [reason('HEALTH_CODE_RED'), reason('WATCHLIST_ISOLATION', { until: null as unknown as number })],
    alerts: [
      { kind: 'health-code', severity: 'critical', code: 'HEALTH_CODE_RED' },
      { kind: 'soft-rule', severity: 'warning', code: 'TEST_EXPIRED' },
      { kind: 'watchlist', severity: 'critical', code: 'WATCHLIST_ISOLATION' },
    ],
    credential: 'health-pass',
    subjectRef: null,
    subjectName: '张三',
    category: 'employee',
    temperature: 37.9,
    facts: {
      v: 1,
      now: 1,
      credential: { ok: true, kind: 'health-pass', category: 'employee', health: { healthCode: 'red' } },
      readings: [{ celsius: 37.9, at: 0 }],
      watchlist: [{ kind: 'isolation', from: '2024-01-01', until: null }],
      approvals: [],
      riskAreas: [{ region: "Xi'an", level: 'high', since: '2024-01-01', until: null }],
      leave: [{ out: '2024-01-01', back: null }],
    },
  };

  it('strips every health reason, alert, reading and fact and keeps the rest of the row', () => {
    const out = withoutHealth(entry);
    expect(out.reasons.map((r) => r.code)).toEqual(['WATCHLIST_ISOLATION']);
    expect(out.alerts).toEqual([{ kind: 'watchlist', severity: 'critical', code: 'WATCHLIST_ISOLATION' }]);
    expect(out.temperature).toBeNull();
    expect(out.facts).toEqual({
      v: 1,
      now: 1,
      credential: { ok: true, kind: 'health-pass', category: 'employee' },
      readings: [],
      watchlist: [{ kind: 'isolation', from: '2024-01-01', until: null }],
      approvals: [],
      riskAreas: [],
    });
    expect(out).toMatchObject({ id: 'e-1', outcome: 'refuse', subjectName: '张三' });
  });
});
