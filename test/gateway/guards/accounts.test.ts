import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { GuardAccounts } from '../../../gateway/guards/accounts.js';
import { GuardError } from '../../../gateway/guards/errors.js';
import { openStore } from '../../../gateway/store/index.js';
import { closeAndRemove, freshDir, track } from '../store/helpers.js';

afterEach(closeAndRemove);

function setUp(policy = { maxFailures: 5, lockoutMs: 15 * 60_000 }) {
  const store = track(openStore(freshDir('gw-guards-')));
  let now = Date.parse('2024-12-04T08:00:00+08:00');
  const accounts = track(new GuardAccounts(store.path, policy, () => now));
  return { accounts, file: store.path, advance: (ms: number) => (now += ms), now: () => now };
}

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    expect(err).toBeInstanceOf(GuardError);
    return (err as GuardError).code;
  }
  throw new Error('expected a GuardError');
}

describe('guard accounts', () => {
  it('adds, lists and removes guards, keeping Chinese names as written', async () => {
    const { accounts } = setUp();
    await accounts.add('G-02', '李保安', '246810');
    await accounts.add('G-01', '王保安', '12345678');
    expect(accounts.list().map((g) => [g.id, g.name])).toEqual([
      ['G-01', '王保安'],
      ['G-02', '李保安'],
    ]);
    accounts.remove('G-02');
    expect(accounts.list().map((g) => g.id)).toEqual(['G-01']);
  });

  it('stores the PIN only as a salted scrypt hash', async () => {
    const { accounts, file } = setUp();
    await accounts.add('G-01', '王保安', '12345678');
    await accounts.add('G-02', '李保安', '12345678');
    const db = new Database(file, { readonly: true });
    const rows = db.prepare('SELECT pin_hash FROM guards ORDER BY id').all() as { pin_hash: string }[];
    db.close();
    for (const r of rows) {
      expect(r.pin_hash).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
      expect(r.pin_hash).not.toContain('12345678');
    }
    expect(rows[0]?.pin_hash).not.toBe(rows[1]?.pin_hash);
  });

  it('signs in with the right PIN and refuses a wrong one or an unknown id alike', async () => {
    const { accounts } = setUp();
    await accounts.add('G-01', '王保安', '12345678');
    expect(await accounts.authenticate('G-01', '12345678')).toMatchObject({ ok: true, guard: { id: 'G-01', name: '王保安' } });
    expect(await accounts.authenticate('G-01', '87654321')).toEqual({ ok: false, reason: 'bad-credentials' });
    expect(await accounts.authenticate('G-99', '12345678')).toEqual({ ok: false, reason: 'bad-credentials' });
    expect(await accounts.authenticate('<script>', '12345678')).toEqual({ ok: false, reason: 'bad-credentials' });
  });

  it('locks the account after five wrong PINs in a row, refusing even the right PIN until the lock ends', async () => {
    const { accounts, advance, now } = setUp();
    await accounts.add('G-01', '王保安', '12345678');
    for (let i = 0; i < 4; i++) expect((await accounts.authenticate('G-01', '000000')).ok).toBe(false);
    const fifth = await accounts.authenticate('G-01', '000000');
    expect(fifth).toEqual({ ok: false, reason: 'locked', until: now() + 15 * 60_000 });
    expect(await accounts.authenticate('G-01', '12345678')).toMatchObject({ ok: false, reason: 'locked' });
    expect(accounts.get('G-01')?.lockedUntil).toBe(now() + 15 * 60_000);
    advance(15 * 60_000);
    expect((await accounts.authenticate('G-01', '12345678')).ok).toBe(true);
    expect(accounts.get('G-01')?.lockedUntil).toBeNull();
  });

  it('starts counting failures again after a successful sign-in', async () => {
    const { accounts } = setUp();
    await accounts.add('G-01', '王保安', '12345678');
    for (let i = 0; i < 4; i++) await accounts.authenticate('G-01', '000000');
    expect((await accounts.authenticate('G-01', '12345678')).ok).toBe(true);
    for (let i = 0; i < 4; i++) expect(await accounts.authenticate('G-01', '000000')).toEqual({ ok: false, reason: 'bad-credentials' });
  });

  it('counts every one of 9 and of 50 parallel wrong PINs: the row ends locked and the right PIN is refused', async () => {
    for (const burst of [9, 50]) {
      const { accounts, file, now } = setUp();
      await accounts.add('G-01', '王保安', '12345678');
      const results = await Promise.all(Array.from({ length: burst }, () => accounts.authenticate('G-01', '000000')));
      expect(results.filter((r) => !r.ok && r.reason === 'bad-credentials')).toHaveLength(4);
      expect(results.filter((r) => !r.ok && r.reason === 'locked')).toHaveLength(burst - 4);
      expect(await accounts.authenticate('G-01', '12345678')).toEqual({ ok: false, reason: 'locked', until: now() + 15 * 60_000 });
      const db = new Database(file, { readonly: true });
      const row = db.prepare('SELECT failed_count, locked_until FROM guards WHERE id = ?').get('G-01');
      db.close();
      expect(row).toEqual({ failed_count: burst + 1, locked_until: now() + 15 * 60_000 });
    }
  });

  it('does not sign in a right PIN whose check ends after parallel wrong PINs locked the account', async () => {
    const { accounts, now } = setUp();
    await accounts.add('G-01', '王保安', '12345678');
    const wrong = () => accounts.authenticate('G-01', '000000');
    // The right PIN is the third attempt; the fifth (wrong) one locks while it is being checked.
    const results = await Promise.all([wrong(), wrong(), accounts.authenticate('G-01', '12345678'), wrong(), wrong()]);
    expect(results[2]).toEqual({ ok: false, reason: 'locked', until: now() + 15 * 60_000 });
    expect(accounts.get('G-01')?.lockedUntil).toBe(now() + 15 * 60_000);
  });

  it('does not lift the lock its own attempt set when attempts were refused while its right PIN was checked', async () => {
    const { accounts, now } = setUp();
    await accounts.add('G-01', '王保安', '12345678');
    const wrong = () => accounts.authenticate('G-01', '000000');
    const results = await Promise.all([wrong(), wrong(), wrong(), wrong(), accounts.authenticate('G-01', '12345678'), wrong()]);
    expect(results[4]).toEqual({ ok: false, reason: 'locked', until: now() + 15 * 60_000 });
    expect(accounts.get('G-01')?.lockedUntil).toBe(now() + 15 * 60_000);
  });

  it('lets a right PIN that comes last in a parallel burst sign in, as it would one after another', async () => {
    const { accounts } = setUp();
    await accounts.add('G-01', '王保安', '12345678');
    const wrong = () => accounts.authenticate('G-01', '000000');
    const results = await Promise.all([wrong(), wrong(), wrong(), wrong(), accounts.authenticate('G-01', '12345678')]);
    expect(results[4]).toMatchObject({ ok: true });
    expect(accounts.get('G-01')?.lockedUntil).toBeNull();
    for (let i = 0; i < 4; i++) expect(await wrong()).toEqual({ ok: false, reason: 'bad-credentials' });
  });

  it('never lowers the count of attempts that came in while a right PIN was being checked', async () => {
    const { accounts } = setUp();
    await accounts.add('G-01', '王保安', '12345678');
    const wrong = () => accounts.authenticate('G-01', '000000');
    const results = await Promise.all([accounts.authenticate('G-01', '12345678'), wrong(), wrong(), wrong()]);
    expect(results[0]).toMatchObject({ ok: true });
    // The three wrong PINs after it still count (plus its own reservation): the next wrong one locks.
    expect(await wrong()).toMatchObject({ ok: false, reason: 'locked' });
  });

  it('keeps a lock across a reopen of the file', async () => {
    const { accounts, file, now } = setUp({ maxFailures: 3, lockoutMs: 60_000 });
    await accounts.add('G-01', '王保安', '12345678');
    for (let i = 0; i < 3; i++) await accounts.authenticate('G-01', '000000');
    accounts.close();
    const again = track(new GuardAccounts(file, { maxFailures: 3, lockoutMs: 60_000 }, now));
    expect(await again.authenticate('G-01', '12345678')).toMatchObject({ ok: false, reason: 'locked' });
  });

  it('refuses bad ids, short or non-digit PINs, empty names and duplicates with stable codes', async () => {
    const { accounts } = setUp();
    expect(await codeOf(accounts.add('bad id', '名', '123456'))).toBe('GUARD_INVALID_ID');
    expect(await codeOf(accounts.add('G-01', '名', '12345'))).toBe('GUARD_INVALID_PIN');
    expect(await codeOf(accounts.add('G-01', '名', '12345a'))).toBe('GUARD_INVALID_PIN');
    expect(await codeOf(accounts.add('G-01', '  ', '123456'))).toBe('GUARD_INVALID_NAME');
    await accounts.add('G-01', '王保安', '123456');
    expect(await codeOf(accounts.add('G-01', '王保安', '654321'))).toBe('GUARD_EXISTS');
    expect(await codeOf(() => accounts.remove('G-77'))).toBe('GUARD_UNKNOWN');
  });

  it('refuses to open a file without the guards table', async () => {
    const dir = freshDir('gw-guards-');
    const file = join(dir, 'plain.sqlite');
    new Database(file).close();
    expect(await codeOf(() => new GuardAccounts(file, { maxFailures: 5, lockoutMs: 1000 }))).toBe('GUARD_STORE_UNAVAILABLE');
  });
});
