// Store schema 8: contractor crew registrations, found by member; the person responsible
// for the crew is recorded with each admission it allowed (local only).
import { afterEach, describe, expect, it } from 'vitest';
import type { CrewRegistration } from '../../../gateway/policy/types.js';
import { MIGRATIONS, StoreError, openStore } from '../../../gateway/store/index.js';
import { closeAndRemove, entry, freshDir, track } from './helpers.js';

afterEach(closeAndRemove);

const CREW: CrewRegistration = {
  id: 'CREW-1',
  responsible: '赵工',
  members: ['C-1', 'C-2'],
  validFrom: '2024-12-04',
  validUntil: '2024-12-20T18:00:00+08:00',
  itinerary: [{ region: '西安市', from: '2024-11-25', to: '2024-11-28' }],
};

describe('crew registrations in the store', () => {
  it('finds every crew a subject is a member of, with all its members and itinerary', () => {
    const store = track(openStore(freshDir()));
    const other: CrewRegistration = { ...CREW, id: 'CREW-2', responsible: '钱工', members: ['C-2'], itinerary: [] };
    store.crewsReplace([CREW, other]);
    expect(store.crewsFor('C-1')).toEqual([CREW]);
    expect(store.crewsFor('C-2')).toEqual([CREW, other]);
    expect(store.crewsFor('C-3')).toEqual([]);
  });

  it('keeps a member listed twice in one crew as one membership', () => {
    const store = track(openStore(freshDir()));
    store.crewsReplace([{ ...CREW, members: ['C-1', 'C-1'] }]);
    expect(store.crewsFor('C-1')).toHaveLength(1);
    expect(store.crewsFor('C-1')[0]?.members).toEqual(['C-1']);
  });

  it('replaces the whole list, and keeps the old list when the new one is refused', () => {
    const store = track(openStore(freshDir()));
    store.crewsReplace([CREW]);
    expect(() => store.crewsReplace([{ ...CREW, id: 'CREW-9' }, { ...CREW, members: [] }])).toThrowError(StoreError);
    expect(store.crewsFor('C-1')).toEqual([CREW]);
    store.crewsReplace([]);
    expect(store.crewsFor('C-1')).toEqual([]);
  });

  it('refuses a crew with a bad field as STORE_INVALID_ROW naming the field', () => {
    const store = track(openStore(freshDir()));
    let err: unknown;
    try {
      store.crewsReplace([{ ...CREW, validUntil: '2024-12-01' }]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('STORE_INVALID_ROW');
    expect((err as StoreError).message).toContain('validUntil');
  });

  it('records the responsible person and crew id with an admission row, and nothing on other rows', () => {
    const store = track(openStore(freshDir()));
    const row = store.appendDecision(entry({ category: 'contractor', responsible: '赵工', crewId: 'CREW-1' }), () => null);
    expect(row).toMatchObject({ responsible: '赵工', crewId: 'CREW-1' });
    const plain = store.appendDecision(entry(), () => null);
    expect(plain).not.toHaveProperty('responsible');
    expect(plain).not.toHaveProperty('crewId');
    expect(store.queryEvents({ limit: 10 }).map((e) => e.responsible ?? null)).toEqual([null, '赵工']);
  });

  it('upgrades a file of schema 7 to 8 and keeps its rows', () => {
    const dir = freshDir();
    const old = openStore(dir, { migrations: MIGRATIONS.slice(0, 7) });
    old.appendDecision(entry({ id: 'evt-old' }), () => null);
    expect(old.crewsFor('C-1')).toEqual([]);
    old.close();
    const store = track(openStore(dir, { migrations: MIGRATIONS.slice(0, 8) }));
    expect(store.schemaVersion).toBe(8);
    expect(store.queryEvents({ limit: 10 }).map((e) => e.id)).toEqual(['evt-old']);
    store.crewsReplace([CREW]);
    expect(store.crewsFor('C-1')).toEqual([CREW]);
  });
});
