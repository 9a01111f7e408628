// The sign-in lockout under parallel attempts over real HTTP: a burst of wrong PINs from
// one address must lock the account exactly as the same PINs sent one after another.
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { PIN, login } from './guard-helpers.js';
import { errorOf, startHarness, type Harness } from './helpers.js';

const NOW = Date.parse('2024-12-04T10:30:00+08:00');
const LOCK_MS = 15 * 60_000;

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function guardRow(harness: Harness): unknown {
  const db = new Database(harness.store.path, { readonly: true });
  try {
    return db.prepare('SELECT failed_count, locked_until FROM guards WHERE id = ?').get('G-01');
  } finally {
    db.close();
  }
}

describe('guard lockout under parallel sign-ins', () => {
  for (const burst of [9, 50]) {
    it(`locks the account after ${burst} parallel wrong PINs and then refuses the right PIN with 423`, async () => {
      h = await startHarness({ guard: { now: NOW } });
      await h.guard!.accounts.add('G-01', '王保安', PIN);
      const harness = h;
      const statuses = await Promise.all(Array.from({ length: burst }, async () => (await login(harness, 'G-01', '00000000')).status));
      expect(statuses.filter((s) => s === 401)).toHaveLength(4);
      expect(statuses.filter((s) => s === 423)).toHaveLength(burst - 4);
      // Every attempt is counted, those refused while locked too.
      expect(guardRow(h)).toEqual({ failed_count: burst, locked_until: NOW + LOCK_MS });
      const right = await login(h);
      expect(right.status).toBe(423);
      expect(await errorOf(right)).toMatchObject({ code: 'ACCOUNT_LOCKED' });
      expect(right.headers.getSetCookie()).toEqual([]);
      expect(guardRow(h)).toEqual({ failed_count: burst + 1, locked_until: NOW + LOCK_MS });
    });
  }

  it('does not sign in a right PIN sent in the middle of a burst of wrong ones', async () => {
    h = await startHarness({ guard: { now: NOW } });
    await h.guard!.accounts.add('G-01', '王保安', PIN);
    const harness = h;
    const all = await Promise.all([
      ...Array.from({ length: 20 }, () => login(harness, 'G-01', '00000000')),
      login(harness),
      ...Array.from({ length: 20 }, () => login(harness, 'G-01', '00000000')),
    ]);
    // Which attempt reaches the gateway first is up to the network: the right PIN signs
    // in only if it was checked before the lock and nothing locked the account while it
    // was; whatever its answer, once the burst is over the account is locked.
    expect(all.filter((r) => r.status === 200).length).toBeLessThanOrEqual(1);
    expect(guardRow(h)).toMatchObject({ locked_until: NOW + LOCK_MS });
    expect((await login(h)).status).toBe(423);
  });
});
