import { afterEach, describe, expect, it } from 'vitest';
import type { Approval, RiskArea, WatchlistEntry } from '../../../gateway/policy/types.js';
import { openStore, type RosterEntry } from '../../../gateway/store/index.js';
import { catchError, closeAndRemove, entry, freshDir, toEventsTopic, track } from './helpers.js';

afterEach(closeAndRemove);

function clock(start: number): { now: () => number; set: (t: number) => void } {
  let t = start;
  return { now: () => t, set: (v) => (t = v) };
}

describe('outbox', () => {
  it('hands out undelivered rows oldest first, after a cursor, up to a limit', () => {
    const store = track(openStore(freshDir()));
    for (let i = 0; i < 5; i++) store.appendDecision(entry(), toEventsTopic);
    expect(store.outboxPending(10).map((r) => r.id)).toEqual([1, 2, 3, 4, 5]);
    expect(store.outboxPending(2).map((r) => r.id)).toEqual([1, 2]);
    expect(store.outboxPending(2, 2).map((r) => r.id)).toEqual([3, 4]);
    expect(store.outboxPending(10, 5)).toEqual([]);
  });

  it('markDelivered removes a row from pending and from the depth, and may be repeated', () => {
    const c = clock(100);
    const store = track(openStore(freshDir(), { now: c.now }));
    for (let i = 0; i < 3; i++) store.appendDecision(entry(), toEventsTopic);
    expect(store.outboxDepth()).toBe(3);
    c.set(200);
    store.markDelivered(2);
    store.markDelivered(2);
    store.markDelivered(999); // unknown id: nothing to do
    expect(store.outboxDepth()).toBe(2);
    expect(store.outboxPending(10).map((r) => r.id)).toEqual([1, 3]);
    expect(store.outboxPending(10).map((r) => r.createdAt)).toEqual([100, 100]);
  });

  it('markDeliveredMany marks exactly the ids given, in any order, and leaves the rest pending', () => {
    const c = clock(100);
    const store = track(openStore(freshDir(), { now: c.now }));
    for (let i = 0; i < 10; i++) store.appendDecision(entry(), toEventsTopic);
    c.set(200);
    // Two runs (2–4, 7–8), a lone id, a repeat, out of order, an unknown id.
    store.markDeliveredMany([8, 3, 2, 10, 4, 7, 3, 999]);
    expect(store.outboxPending(20).map((r) => r.id)).toEqual([1, 5, 6, 9]);
    expect(store.outboxDepth()).toBe(4);
    store.markDeliveredMany([]);
    store.markDeliveredMany([1, 5, 6]);
    expect(store.outboxPending(20).map((r) => r.id)).toEqual([9]);
    // Marked at the clock's time: retention's purge goes by it.
    expect(store.outboxPrune(199)).toBe(0);
    expect(store.outboxPrune(201)).toBe(9);
  });

  it('markDeliveredMany leaves the connection at synchronous FULL for the decisions', () => {
    const store = track(openStore(freshDir()));
    store.appendDecision(entry(), toEventsTopic);
    store.markDeliveredMany([1]);
    expect(store.settings().synchronous).toBe(2);
    expect(store.outboxDepth()).toBe(0);
  });

  it('prunes only delivered rows older than the cut-off, and ids keep increasing afterwards', () => {
    const c = clock(100);
    const store = track(openStore(freshDir(), { now: c.now }));
    for (let i = 0; i < 3; i++) store.appendDecision(entry(), toEventsTopic);
    c.set(200);
    store.markDelivered(1);
    c.set(300);
    store.markDelivered(3);
    expect(store.outboxPrune(250)).toBe(1);
    expect(store.outboxPrune(1000)).toBe(1);
    expect(store.outboxPending(10).map((r) => r.id)).toEqual([2]);
    store.appendDecision(entry(), toEventsTopic);
    expect(store.outboxPending(10).map((r) => r.id)).toEqual([2, 4]);
  });

  it('refuses a limit or cursor outside the allowed range', () => {
    const store = track(openStore(freshDir()));
    expect(catchError(() => store.outboxPending(0)).code).toBe('STORE_INVALID_QUERY');
    expect(catchError(() => store.outboxPending(10_001)).code).toBe('STORE_INVALID_QUERY');
    expect(catchError(() => store.outboxPending(10, -1)).code).toBe('STORE_INVALID_QUERY');
  });
});

const roster: RosterEntry[] = [
  {
    staffId: 'E-0001',
    name: '欧阳娜娜',
    category: 'employee',
    health: {
      healthCode: 'green',
      test: { result: 'negative', sampledAt: '2022-12-04T08:30:00+08:00' },
      travel: {
        riskLevel: 'low',
        visits: [{ region: '广东省广州市', from: '2022-11-28', to: '2022-11-30' }],
        asOf: '2022-12-05T07:00:00+08:00',
      },
    },
    active: true,
    updatedAt: 1_670_000_000_000,
  },
  { staffId: 'C-17', name: '李四', category: 'contractor', health: { healthCode: 'yellow' }, active: false, updatedAt: 5 },
];

describe('roster', () => {
  it('round-trips entries, Chinese names and nested health facts intact', () => {
    const store = track(openStore(freshDir()));
    expect(store.rosterUpsert(roster)).toBe(2);
    expect(store.rosterGet('E-0001')).toEqual(roster[0]);
    expect(store.rosterGet('C-17')).toEqual(roster[1]);
    expect(store.rosterGet('NOBODY')).toBeUndefined();
  });

  it('upsert replaces an existing entry by staff id', () => {
    const store = track(openStore(freshDir()));
    store.rosterUpsert(roster);
    const changed: RosterEntry = { ...roster[1]!, name: '李四（已调岗）', active: true, health: { healthCode: 'green' }, updatedAt: 9 };
    expect(store.rosterUpsert([changed])).toBe(1);
    expect(store.rosterGet('C-17')).toEqual(changed);
    expect(store.rosterGet('E-0001')).toEqual(roster[0]);
  });

  it('refuses a batch with one bad entry, naming its index and field, and writes none of it', () => {
    const store = track(openStore(freshDir()));
    const bad = { ...roster[1]!, staffId: 'c-17', health: { healthCode: 'blue' } } as unknown as RosterEntry;
    const err = catchError(() => store.rosterUpsert([roster[0]!, bad]));
    expect(err.code).toBe('STORE_INVALID_ROW');
    expect(err.message).toContain('roster entry 1 (staffId "c-17")');
    expect(err.message).toContain('staffId');
    expect(err.message).toContain('health.healthCode');
    expect(store.rosterGet('E-0001')).toBeUndefined();
  });

  it('refuses a test time without a time zone', () => {
    const store = track(openStore(freshDir()));
    const bad: RosterEntry = {
      ...roster[0]!,
      health: { healthCode: 'green', test: { result: 'negative', sampledAt: '2022-12-04 08:30' } },
    };
    expect(catchError(() => store.rosterUpsert([bad])).message).toContain('health.test.sampledAt');
  });
});

describe('watchlist, approvals and risk areas', () => {
  const watch: WatchlistEntry[] = [
    { subjectId: 'sub-1', kind: 'close-contact', from: '2022-12-01T00:00:00+08:00', until: '2022-12-08T00:00:00+08:00' },
    { subjectId: 'sub-1', kind: 'home-monitoring', from: '2022-12-08T00:00:00+08:00', until: null, note: '居家健康监测' },
    { subjectId: 'sub-2', kind: 'isolation', from: '2022-12-02T00:00:00Z', until: null },
  ];
  const approvals: Approval[] = [
    {
      subjectId: 'sub-9',
      approver: '王主任',
      hostDepartment: '设备部',
      validFrom: '2022-12-05T08:00:00+08:00',
      validUntil: '2022-12-05T18:00:00+08:00',
    },
  ];
  const areas: RiskArea[] = [
    { region: '北京市朝阳区', level: 'high', since: '2022-11-20', until: null },
    { region: '上海市浦东新区', level: 'medium', since: '2022-11-01', until: '2022-11-25' },
  ];

  it('replace everything and read it back per subject, in the order given', () => {
    const store = track(openStore(freshDir()));
    store.watchlistReplace(watch);
    store.approvalsReplace(approvals);
    store.riskAreasReplace(areas);
    expect(store.watchlistFor('sub-1')).toEqual(watch.slice(0, 2));
    expect(store.watchlistFor('sub-2')).toEqual(watch.slice(2));
    expect(store.watchlistFor('sub-3')).toEqual([]);
    expect(store.approvalsFor('sub-9')).toEqual(approvals);
    expect(store.riskAreas()).toEqual(areas);

    store.watchlistReplace([watch[2]!]);
    store.approvalsReplace([]);
    store.riskAreasReplace([areas[1]!]);
    expect(store.watchlistFor('sub-1')).toEqual([]);
    expect(store.watchlistFor('sub-2')).toEqual([watch[2]]);
    expect(store.approvalsFor('sub-9')).toEqual([]);
    expect(store.riskAreas()).toEqual([areas[1]]);
  });

  it('a refused replacement leaves the previous list in place', () => {
    const store = track(openStore(freshDir()));
    store.watchlistReplace(watch);
    store.riskAreasReplace(areas);
    store.approvalsReplace(approvals);
    const swapped = { ...watch[0]!, from: '2022-12-08T00:00:00+08:00', until: '2022-12-01T00:00:00+08:00' };
    expect(catchError(() => store.watchlistReplace([swapped])).message).toMatch(/until: expected until to be after from/);
    const badArea = { region: '某地', level: 'extreme', since: '2022-11-20', until: null } as unknown as RiskArea;
    expect(catchError(() => store.riskAreasReplace([badArea])).message).toContain('level');
    const badApproval = { ...approvals[0]!, validUntil: 'tomorrow' };
    expect(catchError(() => store.approvalsReplace([badApproval])).message).toContain('validUntil');
    expect(store.watchlistFor('sub-1')).toEqual(watch.slice(0, 2));
    expect(store.riskAreas()).toEqual(areas);
    expect(store.approvalsFor('sub-9')).toEqual(approvals);
  });

  it('a replacement rolled back with its transaction leaves the previous lists, even after reads inside it', () => {
    const store = track(openStore(freshDir()));
    store.watchlistReplace(watch);
    store.approvalsReplace(approvals);
    store.riskAreasReplace(areas);
    // Read once before, so any copy kept in memory exists when the update starts.
    expect(store.riskAreas()).toEqual(areas);
    expect(store.watchlistFor('sub-3')).toEqual([]);
    const late = { ...watch[0]!, subjectId: 'sub-3' };
    expect(() =>
      store.transaction(() => {
          store.watchlistReplace([late]);
          store.approvalsReplace([]);
          store.riskAreasReplace([areas[1]!]);
          // Inside the transaction the new lists are visible...
          expect(store.watchlistFor('sub-3')).toEqual([late]);
          expect(store.approvalsFor('sub-9')).toEqual([]);
          expect(store.riskAreas()).toEqual([areas[1]]);
          throw new Error('the update fails after writing');
        }),
    ).toThrow('the update fails after writing');
    // ...and after the rollback none of them is.
    expect(store.watchlistFor('sub-3')).toEqual([]);
    expect(store.watchlistFor('sub-1')).toEqual(watch.slice(0, 2));
    expect(store.approvalsFor('sub-9')).toEqual(approvals);
    expect(store.riskAreas()).toEqual(areas);
  });

  it('risk areas changed by a caller are not what the next read returns', () => {
    const store = track(openStore(freshDir()));
    store.riskAreasReplace(areas);
    const got = store.riskAreas();
    got[0]!.level = 'low';
    got.pop();
    expect(store.riskAreas()).toEqual(areas);
  });
});

describe('meta', () => {
  it('stores and overwrites values by key', () => {
    const store = track(openStore(freshDir()));
    expect(store.getMeta('roster.version')).toBeUndefined();
    store.setMeta('roster.version', '17');
    store.setMeta('roster.version', '18');
    expect(store.getMeta('roster.version')).toBe('18');
  });
});

describe('durability', () => {
  it('keeps ledger, outbox, roster, lists and meta across close and reopen, and seq keeps counting', () => {
    const dir = freshDir();
    const first = openStore(dir);
    first.appendDecision(entry({ id: 'before-1' }), toEventsTopic);
    first.appendDecision(entry({ id: 'before-2' }), toEventsTopic);
    first.markDelivered(1);
    first.rosterUpsert(roster);
    first.riskAreasReplace([{ region: '北京市朝阳区', level: 'high', since: '2022-11-20', until: null }]);
    first.setMeta('k', 'v');
    first.close();

    const again = track(openStore(dir));
    expect(again.queryEvents({}).map((e) => e.id)).toEqual(['before-2', 'before-1']);
    expect(again.outboxPending(10).map((r) => r.id)).toEqual([2]);
    expect(again.rosterGet('E-0001')?.name).toBe('欧阳娜娜');
    expect(again.riskAreas()).toHaveLength(1);
    expect(again.getMeta('k')).toBe('v');
    expect(again.appendDecision(entry(), () => null).seq).toBe(3);
    expect(catchError(() => again.appendDecision(entry({ id: 'before-1' }), () => null)).code).toBe(
      'STORE_DUPLICATE_EVENT',
    );
  });
});
