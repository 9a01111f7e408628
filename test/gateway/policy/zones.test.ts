import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../../gateway/config/load.js';
import { issuePass } from '../../../gateway/credentials/index.js';
import { buildSimLane } from '../../../gateway/gateway.js';
import { laneParts, simLaneConfig, T0 } from '../lane/harness.js';
import { laneZone, laneZones } from '../../../gateway/lane/zone-gate.js';
import type { Decision, PolicyProfile } from '../../../gateway/policy/types.js';
import { checkZoneEntry, MINUTE_MS, type ZoneRule } from '../../../gateway/policy/zones.js';
import { replayLedger } from '../../../gateway/cli/policy.js';
import { overrideReason } from '../../../gateway/policy/reasons.js';
import { MINE_ENTRANCE, profileFromOverrides } from '../../../gateway/policy/profiles.js';
import { openStore, type SqliteStore } from '../../../gateway/store/index.js';
import { goodClaims, testIssuer, type Issuer } from '../credentials/fixtures.js';
import { freshDir, removeDirs } from '../store/helpers.js';

const ADMIT: Decision = { outcome: 'admit', reasons: [], alerts: [], temperature: 36.5 };
const rule = (o: Partial<ZoneRule> = {}): ZoneRule => ({ id: 'canteen', limit: 3, antiPassback: 'off', windowMinutes: null, ...o });
const T = 1_700_000_000_000;

describe('checkZoneEntry', () => {
  it('admits below the limit and holds the entry at the limit with the count, as a referral', () => {
    expect(checkZoneEntry(ADMIT, rule(), { count: 2, openEntryAt: null }, T)).toEqual(ADMIT);
    const full = checkZoneEntry(ADMIT, rule(), { count: 3, openEntryAt: null }, T);
    expect(full.outcome).toBe('refer');
    expect(full.reasons[0]).toMatchObject({ code: 'ZONE_FULL', zh: '已满员（3人，限3人），请稍候', en: 'Full (3 of 3), please wait' });
  });

  it('leaves a refusal or referral from the policy as it is', () => {
    const refused: Decision = { outcome: 'refuse', reasons: [], alerts: [] };
    expect(checkZoneEntry(refused, rule({ antiPassback: 'hard' }), { count: 99, openEntryAt: T - 1 }, T)).toBe(refused);
  });

  it('refuses a second entry without an exit when anti-passback is hard', () => {
    const v = checkZoneEntry(ADMIT, rule({ antiPassback: 'hard' }), { count: 1, openEntryAt: T - 1 }, T);
    expect(v.outcome).toBe('refuse');
    expect(v.reasons.map((r) => r.code)).toEqual(['ANTI_PASSBACK']);
    expect(v.alerts).toEqual([{ kind: 'anti-passback', severity: 'warning', code: 'ANTI_PASSBACK' }]);
  });

  it('admits a second entry with an alert when anti-passback is soft, without taking a second seat', () => {
    const v = checkZoneEntry(ADMIT, rule({ antiPassback: 'soft' }), { count: 3, openEntryAt: T - 1 }, T);
    expect(v.outcome).toBe('admit');
    expect(v.reasons.map((r) => r.code)).toEqual(['ANTI_PASSBACK']);
    expect(v.alerts).toEqual([{ kind: 'anti-passback', severity: 'warning', code: 'ANTI_PASSBACK' }]);
  });

  it('refuses a second entry within the window when anti-passback is timed, and admits it from the window on', () => {
    const timed = rule({ antiPassback: 'timed', windowMinutes: 30 });
    expect(checkZoneEntry(ADMIT, timed, { count: 1, openEntryAt: T - 30 * MINUTE_MS + 1 }, T).outcome).toBe('refuse');
    expect(checkZoneEntry(ADMIT, timed, { count: 1, openEntryAt: T - 30 * MINUTE_MS }, T).outcome).toBe('admit');
  });

  it('ignores a missing exit when anti-passback is off', () => {
    expect(checkZoneEntry(ADMIT, rule(), { count: 1, openEntryAt: T - 1 }, T).outcome).toBe('admit');
  });
});

describe('zones in the configuration', () => {
  const base = `
site: s
checkpoint: c
dataDir: data
privacy: { pseudonymSecretFile: secret }
trust: { passIssuersDir: trust }
lanes:
  - { id: in-1, scanner: { type: sim }, thermometer: { type: sim }, relay: { type: sim } }
  - { id: out-1, scanner: { type: sim }, thermometer: { type: sim }, relay: { type: sim } }
`;
  const fakeStore = { zoneFacts: () => ({ count: 0, openEntryAt: null }), zoneEnter: () => 0, zoneExit: () => 0 };

  it('gives the entry lane and the exit lane their directions', () => {
    const loaded = parseConfig(`${base}policy: { zones: [{ id: canteen, limit: 3, entryLanes: [in-1], exitLanes: [out-1] }] }\n`, '/x/g.yaml');
    const zones = laneZones(loaded, fakeStore);
    expect(zones.get('in-1')).toMatchObject({ zone: 'canteen', direction: 'in' });
    expect(zones.get('out-1')).toMatchObject({ zone: 'canteen', direction: 'out' });
  });

  it('refuses an unknown lane and a lane in two zones, listing both', () => {
    const loaded = parseConfig(
      `${base}policy: { zones: [{ id: a, entryLanes: [in-1, nowhere] }, { id: b, entryLanes: [in-1] }] }\n`,
      '/x/g.yaml',
    );
    expect(() => laneZones(loaded, fakeStore)).toThrow(/policy\.zones\[0\]\.entryLanes\[1\]: expected the id of a lane[\s\S]*policy\.zones\[1\]\.entryLanes\[0\]: lane "in-1" already belongs to zone "a"/);
  });

  it('asks for a window with timed anti-passback', () => {
    expect(() => parseConfig(`${base}policy: { zones: [{ id: a, antiPassback: timed, entryLanes: [in-1] }] }\n`, '/x/g.yaml')).toThrow(
      /policy\.zones\[0\]\.windowMinutes: expected windowMinutes with antiPassback: timed/,
    );
  });

  it('reads reset times as "HH:MM" and names a wrong or repeated one', () => {
    const ok = parseConfig(`${base}policy: { zones: [{ id: a, entryLanes: [in-1], resetAt: ["10:30", "20:30"] }] }\n`, '/x/g.yaml');
    expect(ok.config.policy.zones[0]?.resetAt).toEqual(['10:30', '20:30']);
    expect(() => parseConfig(`${base}policy: { zones: [{ id: a, entryLanes: [in-1], resetAt: ["24:00"] }] }\n`, '/x/g.yaml')).toThrow(
      /policy\.zones\[0\]\.resetAt\[0\]: expected a time of day "HH:MM" \(China time\)/,
    );
    expect(() => parseConfig(`${base}policy: { zones: [{ id: a, entryLanes: [in-1], resetAt: ["10:30", "10:30"] }] }\n`, '/x/g.yaml')).toThrow(
      /policy\.zones\[0\]\.resetAt: expected each reset time once/,
    );
  });
});

describe('a zone with a limit of 3, an entry lane and an exit lane', () => {
  let dir: string;
  let issuer: Issuer;
  const open: { stop(): Promise<void> }[] = [];

  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    vi.setSystemTime(T0);
    dir = freshDir('zone-');
    issuer = await testIssuer();
  });
  afterEach(async () => {
    for (const l of open.splice(0)) await l.stop();
    vi.useRealTimers();
    removeDirs();
  });

  type Claims = Partial<Parameters<typeof goodClaims>[0]>;
  async function gateway(
    rule: ZoneRule,
    o: { dir?: string; profile?: PolicyProfile } = {},
  ): Promise<{
    store: SqliteStore;
    enter: (sub: string, claims?: Claims) => Promise<Decision | undefined>;
    exit: (sub: string, claims?: Claims) => Promise<void>;
    override: () => Promise<void>;
    close: () => Promise<void>;
  }> {
    const store = openStore(o.dir ?? dir);
    const build = (id: string, direction: 'in' | 'out') =>
      buildSimLane(laneParts(store, issuer.trust, {
        laneConfig: simLaneConfig(id),
        zone: laneZone(store, rule, direction),
        ...(o.profile ? { profile: o.profile } : {}),
      }));
    const entry = build('in-1', 'in');
    const exit = build('out-1', 'out');
    await entry.lane.start();
    await exit.lane.start();
    const pass = async (parts: typeof entry, sub: string, claims: Claims = {}) => {
      parts.thermometer.reading(36.5);
      parts.scanner.scan(await issuePass(goodClaims({ sub, ...claims }), issuer.privateJwk));
      await parts.lane.settled();
      vi.advanceTimersByTime(6000); // the screen goes back to waiting
    };
    const last = () => store.queryEvents({ limit: 1 })[0];
    return {
      store,
      enter: async (sub, claims) => {
        await pass(entry, sub, claims);
        const row = last();
        return row ? { outcome: row.outcome, reasons: row.reasons, alerts: row.alerts } : undefined;
      },
      exit: (sub, claims) => pass(exit, sub, claims),
      override: async () => {
        await entry.lane.override('G-01', overrideReason('OVERRIDE_IDENTITY_VERIFIED'), '');
      },
      close: async () => {
        await entry.lane.stop();
        await exit.lane.stop();
        store.close();
      },
    };
  }

  it('replays a ledger with its zone: no false change from a full zone, and seats freed by a stricter profile go to who came next, as a direct re-run decides', async () => {
    // p-2's test is 23 h old; everyone else's 4 h. The stricter profile wants 12 h.
    const fresh = { test: { result: 'negative' as const, sampledAt: '2024-01-09T20:00:00Z' } };
    const script = async (gw: Awaited<ReturnType<typeof gateway>>) => {
      await gw.enter('p-1', fresh);
      await gw.enter('p-2');
      await gw.enter('p-3', fresh);
      await gw.enter('p-4', fresh); // full as decided: 3 inside
      await gw.exit('p-1', fresh);
      await gw.enter('p-5', fresh);
      await gw.enter('p-4', fresh); // full again as decided; already inside under the stricter profile
      gw.store.zoneCorrect({ zone: 'canteen', count: 0, guard: 'G-01', reason: 'lunch over', at: Date.now() });
      await gw.enter('p-6', fresh);
      return gw.store.queryEvents({}).reverse().map((e) => e.outcome);
    };
    const stricter = profileFromOverrides({ name: 'strict', testWindowHours: 12 }, MINE_ENTRANCE);
    const decided = await gateway(rule());
    const asDecided = await script(decided);
    expect(asDecided).toEqual(['admit', 'admit', 'admit', 'refer', 'admit', 'admit', 'refer', 'admit']);
    expect(replayLedger(decided.store, MINE_ENTRANCE)).toMatchObject({ replayed: 8, unchanged: 8, changed: 0 });

    vi.setSystemTime(T0);
    const otherDir = freshDir('zone-direct-');
    const direct = await gateway(rule(), { dir: otherDir, profile: stricter });
    const directly = await script(direct);
    expect(directly).toEqual(['admit', 'refuse', 'admit', 'admit', 'admit', 'admit', 'admit', 'admit']);
    await direct.close();

    const report = replayLedger(decided.store, stricter, { keepAll: true });
    const seqs = decided.store.queryEvents({}).reverse().map((e) => e.seq);
    const expected = asDecided.flatMap((was, i) => (was === directly[i] ? [] : [{ seq: seqs[i], from: was, to: directly[i] }]));
    expect(report.all?.map((c) => ({ seq: c.seq, from: c.from, to: c.to }))).toEqual(expected);
    expect(report.changedBy).toEqual({ 'admit→refuse': 1, 'refer→admit': 2 });
    await decided.close();
  });

  it("counts a guard's override on the entry lane in: someone went through", async () => {
    const gw = await gateway(rule());
    await gw.enter('p-1');
    await gw.override();
    expect(gw.store.zoneFacts('canteen', null).count).toBe(2);
    await gw.close();
  });

  it('holds the 4th entry until one exit, and keeps the count across a restart', async () => {
    let gw = await gateway(rule());
    for (const sub of ['p-1', 'p-2', 'p-3']) expect((await gw.enter(sub))?.outcome).toBe('admit');
    const fourth = await gw.enter('p-4');
    expect(fourth?.outcome).toBe('refer');
    expect(fourth?.reasons[0]?.code).toBe('ZONE_FULL');
    expect(gw.store.zoneFacts('canteen', null).count).toBe(3);

    await gw.close();
    gw = await gateway(rule());
    expect(gw.store.zoneFacts('canteen', null).count).toBe(3);
    expect((await gw.enter('p-4'))?.outcome).toBe('refer');
    await gw.exit('p-1');
    expect(gw.store.zoneFacts('canteen', null).count).toBe(2);
    expect((await gw.enter('p-4'))?.outcome).toBe('admit');
    expect(gw.store.zoneFacts('canteen', null).count).toBe(3);
    await gw.close();
  });

  it('refuses a second entry with hard anti-passback until the person scans out', async () => {
    const gw = await gateway(rule({ limit: null, antiPassback: 'hard' }));
    expect((await gw.enter('p-1'))?.outcome).toBe('admit');
    const again = await gw.enter('p-1');
    expect(again?.outcome).toBe('refuse');
    expect(again?.reasons.map((r) => r.code)).toEqual(['ANTI_PASSBACK']);
    await gw.exit('p-1');
    expect((await gw.enter('p-1'))?.outcome).toBe('admit');
    await gw.close();
  });

  it('admits a second entry with an alert under soft anti-passback, counting the person once', async () => {
    const gw = await gateway(rule({ limit: null, antiPassback: 'soft' }));
    await gw.enter('p-1');
    const again = await gw.enter('p-1');
    expect(again?.outcome).toBe('admit');
    expect(again?.alerts).toContainEqual({ kind: 'anti-passback', severity: 'warning', code: 'ANTI_PASSBACK' });
    expect(gw.store.zoneFacts('canteen', null).count).toBe(1);
    await gw.close();
  });

  it('records a guard’s correction of the count, and the next entry follows it', async () => {
    const gw = await gateway(rule());
    for (const sub of ['p-1', 'p-2', 'p-3']) await gw.enter(sub);
    const c = gw.store.zoneCorrect({ zone: 'canteen', count: 1, guard: 'G-01', reason: '两人从后门离开', at: T0 + 1 });
    expect(c).toEqual({ zone: 'canteen', at: T0 + 1, guard: 'G-01', from: 3, to: 1, reason: '两人从后门离开' });
    expect(gw.store.zoneCorrections('canteen')).toEqual([c]);
    expect((await gw.enter('p-4'))?.outcome).toBe('admit');
    expect(gw.store.zoneFacts('canteen', null).count).toBe(2);
    await gw.close();
  });

  it('lists only the latest corrections when asked, oldest first, and refuses a negative number', async () => {
    const gw = await gateway(rule());
    for (let n = 1; n <= 4; n++) gw.store.zoneCorrect({ zone: 'canteen', count: n, guard: 'G-01', reason: `r${n}`, at: T0 + n });
    expect(gw.store.zoneCorrections('canteen', 2).map((c) => c.reason)).toEqual(['r3', 'r4']);
    expect(gw.store.zoneCorrections('canteen').map((c) => c.reason)).toEqual(['r1', 'r2', 'r3', 'r4']);
    expect(() => gw.store.zoneCorrections('canteen', -2)).toThrow(/zoneCorrections latest/);
    await gw.close();
  });
});
