import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { formatReplayReport, replayLedger } from '../../../gateway/cli/policy.js';
import { profileHash } from '../../../gateway/config/profiles.js';
import { CATEGORIES, type Category, type Subject } from '../../../gateway/credentials/types.js';
import { issuePass } from '../../../gateway/credentials/index.js';
import { buildSimLane } from '../../../gateway/gateway.js';
import { laneParts, simLaneConfig, T0 } from '../lane/harness.js';
import { decide } from '../../../gateway/policy/decide.js';
import { MINE_ENTRANCE, profileFromOverrides } from '../../../gateway/policy/profiles.js';
import { evaluatedFacts, replayVerdict } from '../../../gateway/policy/replay.js';
import type { DecideInput, Outcome } from '../../../gateway/policy/types.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from '../../../gateway/store/migrations.js';
import { openStore, type SqliteStore } from '../../../gateway/store/index.js';
import { goodClaims, testIssuer } from '../credentials/fixtures.js';
import { closeAndRemove, freshDir, track } from '../store/helpers.js';
import { DAY, HOUR, NOW, daysAgo, iso } from './fixtures.js';

function freshStore(): SqliteStore {
  return track(openStore(freshDir('replay-')));
}
afterEach(closeAndRemove);

/** Deterministic pseudo-random numbers (mulberry32), so the 10 000 passages are the same every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A varied day at the mine entrance: test ages 0–60 h, some yellow codes, visitors, travellers, fevers. */
function passages(n: number, seed: number): DecideInput[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const out: DecideInput[] = [];
  for (let i = 0; i < n; i++) {
    const now = NOW - 10 * DAY + Math.floor((i / n) * 10 * DAY);
    const category: Category = r() < 0.7 ? 'employee' : pick(CATEGORIES);
    const subject: Subject = {
      id: `P-${i}`,
      name: '张三',
      category,
      health: {
        healthCode: r() < 0.03 ? 'yellow' : r() < 0.01 ? 'red' : 'green',
        travel: { riskLevel: 'none', visits: r() < 0.05 ? [{ region: "Xi'an", from: daysAgo(20), to: daysAgo(Math.floor(r() * 25)) }] : [], asOf: iso(now) },
        test: { result: r() < 0.005 ? 'positive' : 'negative', sampledAt: iso(now - Math.floor(r() * 60 * HOUR)) },
      },
    };
    const visitorApproved = r() < 0.8;
    out.push({
      credential: { ok: true, kind: 'health-pass', subject },
      readings: r() < 0.02 ? [{ celsius: 37.6, at: now - 2000 }, { celsius: 37.5, at: now - 1000 }] : [{ celsius: 36 + Math.round(r() * 12) / 10, at: now - 1000 }],
      facts: {
        watchlist: r() < 0.01 ? [{ subjectId: subject.id, kind: 'home-monitoring', from: iso(now - DAY), until: iso(now + 13 * DAY) }] : [],
        approvals: visitorApproved ? [{ subjectId: subject.id, approver: '王主任', hostDepartment: '机电科', validFrom: iso(now - HOUR), validUntil: iso(now + HOUR) }] : [],
        riskAreas: [
          { region: "Xi'an", level: 'high', since: daysAgo(30), until: null },
          { region: 'Baoji', level: 'medium', since: daysAgo(30), until: null },
        ],
      },
      profile: MINE_ENTRANCE,
      now,
    });
  }
  return out;
}

/** Records each passage as the lane does: the decision with its profile, hash and facts. */
function record(store: SqliteStore, inputs: readonly DecideInput[]): { seq: number; outcome: Outcome; input: DecideInput }[] {
  const hash = profileHash(MINE_ENTRANCE);
  return inputs.map((input, i) => {
    const v = decide(input);
    if (v.outcome === 'measure') throw new Error('the generator makes only complete passages');
    const row = store.appendDecision(
      {
        id: `evt-${i}`,
        at: input.now,
        lane: 'in-1',
        kind: 'decision',
        outcome: v.outcome,
        reasons: v.reasons,
        alerts: v.alerts,
        credential: 'health-pass',
        subjectRef: `p1_${i}`,
        subjectName: null,
        category: input.credential.ok ? input.credential.subject.category : null,
        temperature: v.temperature ?? null,
        profile: MINE_ENTRANCE.name,
        profileHash: hash,
        facts: evaluatedFacts(input),
      },
      () => null,
    );
    return { seq: row.seq, outcome: v.outcome, input };
  });
}

describe('evaluated facts', () => {
  it('keep no name, subject id, approver or host department', () => {
    const [input] = passages(1, 7);
    if (!input) throw new Error('no input');
    const withEverything: DecideInput = {
      ...input,
      facts: {
        ...input.facts,
        watchlist: [{ subjectId: 'P-0', kind: 'isolation', from: iso(NOW), until: null, note: '隔离酒店 3 号楼' }],
        approvals: [{ subjectId: 'P-0', approver: '王主任', hostDepartment: '机电科', validFrom: iso(NOW), validUntil: iso(NOW + HOUR) }],
      },
    };
    const json = JSON.stringify(evaluatedFacts(withEverything));
    for (const secret of ['张三', 'P-0', '王主任', '机电科', '隔离酒店']) expect(json).not.toContain(secret);
  });

  it('keep only the risk areas a visit could match', () => {
    const [input] = passages(1, 7);
    if (!input?.credential.ok) throw new Error('no input');
    input.credential.subject.health.travel = { riskLevel: 'none', visits: [{ region: " XI'AN ", from: daysAgo(3), to: daysAgo(2) }], asOf: iso(NOW) };
    expect(evaluatedFacts(input).riskAreas.map((a) => a.region)).toEqual(["Xi'an"]);
  });

  it('re-decide every passage exactly as it was decided, under the same profile', () => {
    for (const input of passages(2000, 11)) {
      expect(replayVerdict(evaluatedFacts(input), MINE_ENTRANCE)).toEqual(decide(input));
    }
  });
});

describe('policy replay', () => {
  it('reports, on a ledger of 10 000 decisions, exactly the changes a direct re-run with a 24 h test window finds', () => {
    const store = freshStore();
    // One transaction for the set-up: 10 000 fsyncs would time the disk, not the replay.
    const recorded = store.transaction(() => record(store, passages(10_000, 2021)));
    const stricter = profileFromOverrides({ name: 'mine-entrance-24h', testWindowHours: 24 }, MINE_ENTRANCE);

    // The direct re-run: decide() on the original inputs with the stricter profile.
    const expected = recorded
      .map(({ seq, outcome, input }) => ({ seq, from: outcome, to: decide({ ...input, profile: stricter }).outcome }))
      .filter((c) => c.from !== c.to);
    const expectedBy: Record<string, number> = {};
    for (const c of expected) expectedBy[`${c.from}→${c.to}`] = (expectedBy[`${c.from}→${c.to}`] ?? 0) + 1;

    const started = performance.now();
    const report = replayLedger(store, stricter, { from: NOW - 11 * DAY, keepAll: true });
    const ms = performance.now() - started;
    console.log(`policy replay of 10 000 stored decisions: ${ms.toFixed(0)} ms`);

    expect(report.replayed).toBe(10_000);
    expect(expected.length).toBeGreaterThan(1000); // the stricter window must bite, or the test proves nothing
    expect(report.changed).toBe(expected.length);
    expect(report.changedBy).toEqual(expectedBy);
    expect(report.all?.map((c) => c.seq)).toEqual(expected.map((c) => c.seq));
    expect(report.all?.every((c) => c.toCodes.includes('TEST_EXPIRED'))).toBe(true);
    expect(report.examples).toHaveLength(10);
    expect(report.unchanged + report.reasonsChanged + report.changed).toBe(10_000);

    // --since: only passages from that time on.
    const half = NOW - 5 * DAY;
    const later = replayLedger(store, stricter, { from: half, keepAll: true });
    expect(later.all?.map((c) => c.seq)).toEqual(recorded.filter((r) => r.input.now >= half && expected.some((c) => c.seq === r.seq)).map((r) => r.seq));

    const text = formatReplayReport(report, stricter.name, profileHash(stricter));
    expect(text).toContain(`re-decided 10000 passage(s)`);
    expect(text).toMatch(/admit→refuse\s+\d+/);
  });

  it('finds nothing to change when replaying with the profile that decided', () => {
    const store = freshStore();
    record(store, passages(500, 5));
    const report = replayLedger(store, MINE_ENTRANCE);
    expect(report).toMatchObject({ replayed: 500, unchanged: 500, changed: 0, reasonsChanged: 0, examples: [] });
  });

  it('skips rows without kept facts (device faults, rows from before schema 4)', () => {
    const store = freshStore();
    store.appendDecision(
      { id: 'fault', at: NOW, lane: 'in-1', kind: 'decision', outcome: 'refer', reasons: [], alerts: [], credential: 'unknown', subjectRef: null, subjectName: null, category: null, temperature: null },
      () => null,
    );
    expect(replayLedger(store, MINE_ENTRANCE).replayed).toBe(0);
  });
});

describe('the ledger columns of schema 4', () => {
  const row = (id: string) => ({
    id,
    at: NOW,
    lane: 'in-1',
    kind: 'decision' as const,
    outcome: 'admit' as const,
    reasons: [],
    alerts: [],
    credential: 'health-pass' as const,
    subjectRef: 'p1_a',
    subjectName: null,
    category: 'employee' as const,
    temperature: 36.5,
  });

  it('read back the profile and its hash, but never the facts, in ledger queries', () => {
    const store = freshStore();
    const [input] = passages(1, 3);
    if (!input) throw new Error('no input');
    store.appendDecision({ ...row('a'), profile: 'canteen', profileHash: 'a'.repeat(64), facts: evaluatedFacts(input) }, () => null);
    const [back] = store.queryEvents({});
    expect(back).toMatchObject({ profile: 'canteen', profileHash: 'a'.repeat(64) });
    expect(back).not.toHaveProperty('facts');
    expect([...store.replayRows()][0]?.facts).toEqual(evaluatedFacts(input));
  });

  it('keep the rows of an older database through the upgrade, with no facts to replay', () => {
    const dir = freshDir('replay-old-');
    const old = openStore(dir, { migrations: MIGRATIONS.slice(0, 3) });
    old.appendDecision(row('before'), () => null);
    old.close();
    const store = track(openStore(dir));
    expect(store.schemaVersion).toBe(LATEST_SCHEMA_VERSION);
    expect(store.queryEvents({}).map((e) => e.id)).toEqual(['before']);
    expect(store.queryEvents({})[0]).not.toHaveProperty('profile');
    expect([...store.replayRows()]).toEqual([]);
  });

  it('refuse a profile hash that is not a sha256', () => {
    const store = freshStore();
    expect(() => store.appendDecision({ ...row('bad'), profileHash: 'abc' }, () => null)).toThrow(/profileHash: expected a sha256 in hex/);
  });
});

describe('a lane', () => {
  const laneConfig = simLaneConfig();
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    vi.setSystemTime(T0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('records the profile, its hash and the evaluated facts with each decision', async () => {
    const store = freshStore();
    const issuer = await testIssuer();
    const { lane, scanner, thermometer } = buildSimLane(laneParts(store, issuer.trust, {
      laneConfig,
      policyId: () => ({ name: 'mine-entrance', hash: profileHash(MINE_ENTRANCE) }),
    }));
    await lane.start();
    try {
      thermometer.reading(36.5);
      scanner.scan(await issuePass(goodClaims(), issuer.privateJwk));
      await lane.settled();
      const [row] = store.queryEvents({});
      expect(row).toMatchObject({ outcome: 'admit', profile: 'mine-entrance', profileHash: profileHash(MINE_ENTRANCE) });
      const [kept] = [...store.replayRows()];
      expect(kept?.facts).toMatchObject({ v: 1, now: T0, credential: { ok: true, kind: 'health-pass', category: 'employee' }, readings: [{ celsius: 36.5 }] });
      expect(JSON.stringify(kept?.facts)).not.toContain(goodClaims().name as string);
    } finally {
      await lane.stop();
    }
  });
});
