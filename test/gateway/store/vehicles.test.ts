// Store schema 9: plate and goods of passages decided with a vehicle pass (local only),
// and the goods of a plate's admissions in a time range, for the daily limit. That they
// are never published is checked on the lane (test/gateway/lane/vehicle-gate.test.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, StoreError, openStore } from '../../../gateway/store/index.js';
import { closeAndRemove, entry, freshDir, track } from './helpers.js';

afterEach(closeAndRemove);

describe('vehicle passages in the store', () => {
  it('records plate and goods with a passage and reads them back only when set', () => {
    const store = track(openStore(freshDir()));
    store.appendDecision(entry({ id: 'v-1', plate: '晋A12345', goods: 'food' }), () => null);
    store.appendDecision(entry({ id: 'p-1' }), () => null);
    const [person, vehicle] = store.queryEvents({ limit: 10 });
    expect(vehicle).toMatchObject({ id: 'v-1', plate: '晋A12345', goods: 'food' });
    expect(person).not.toHaveProperty('plate');
    expect(person).not.toHaveProperty('goods');
  });

  it("lists the goods of a plate's admissions in the range, in ledger order, leaving out refusals and other plates", () => {
    const store = track(openStore(freshDir()));
    store.appendDecision(entry({ at: 1000, plate: '晋A1', goods: 'toys' }), () => null);
    store.appendDecision(entry({ at: 2000, plate: '晋A1', goods: 'food' }), () => null);
    store.appendDecision(entry({ at: 2500, plate: '晋A1', goods: 'toys', outcome: 'refuse' }), () => null);
    store.appendDecision(entry({ at: 2600, plate: '晋B2', goods: 'toys' }), () => null);
    store.appendDecision(entry({ at: 3000, plate: '晋A1', goods: 'toys' }), () => null);
    expect(store.vehicleGoods('晋A1', 1000, 3000)).toEqual(['toys', 'food']);
    expect(store.vehicleGoods('晋A1', 0, 10_000)).toEqual(['toys', 'food', 'toys']);
    expect(store.vehicleGoods('晋C3', 0, 10_000)).toEqual([]);
  });

  it('refuses a goods value that is not a category id, writing nothing', () => {
    const store = track(openStore(freshDir()));
    expect(() => store.appendDecision(entry({ plate: '晋A1', goods: 'Toys & more' }), () => null)).toThrow(StoreError);
    expect(store.queryEvents({ limit: 10 })).toEqual([]);
  });

  it('upgrades a file of schema 8 to 9 and keeps its rows', () => {
    const dir = freshDir();
    const old = openStore(dir, { migrations: MIGRATIONS.slice(0, 8) });
    old.appendDecision(entry({ id: 'evt-old', plate: '晋A1', goods: 'food' }), () => null);
    expect(old.vehicleGoods('晋A1', 0, Number.MAX_SAFE_INTEGER)).toEqual([]);
    old.close();
    const store = track(openStore(dir, { migrations: MIGRATIONS.slice(0, 9) }));
    expect(store.schemaVersion).toBe(9);
    expect(store.queryEvents({ limit: 10 }).map((e) => e.id)).toEqual(['evt-old']);
    store.appendDecision(entry({ id: 'evt-new', plate: '晋A1', goods: 'food' }), () => null);
    expect(store.vehicleGoods('晋A1', 0, Number.MAX_SAFE_INTEGER)).toEqual(['food']);
  });
});
