// Officer accounts on both engines: the lockout counts each attempt before its scrypt
// check, a late success never clears a lock, the lock runs out, and every step is audited.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recentAudit } from '../../../central/web/audit.js';
import { Officers, OfficerError } from '../../../central/web/officers.js';
import { verifyPin } from '../../../gateway/guards/pin.js';
import { Cleanup } from '../../gateway/telemetry/helpers.js';
import { ENGINES, testDb } from '../helpers.js';
import { PASSWORD, T0 } from './helpers.js';

const LOCK_MS = 15 * 60_000;

describe.each(ENGINES)('officer accounts (%s)', (engine) => {
  let cleanup: Cleanup;
  beforeEach(() => {
    cleanup = new Cleanup();
  });
  afterEach(() => cleanup.run());

  async function setup(verify?: (s: string, h: string) => Promise<boolean>) {
    const { db } = await testDb(cleanup, engine);
    const clock = { now: T0 };
    const officers = new Officers(db, { maxFailures: 5, lockoutMs: LOCK_MS, now: () => clock.now, ...(verify ? { verify } : {}) });
    await officers.add({ id: 'wang.li', name: '王丽', role: 'duty-leader', secret: PASSWORD }, 'cli:test');
    return { db, clock, officers };
  }

  it('answers four wrong passwords with SIGN_IN_FAILED, locks at the fifth, and refuses the right one until the lock runs out', async () => {
    const { db, clock, officers } = await setup();
    for (let i = 0; i < 4; i++) expect(await officers.signIn('wang.li', 'wrong password', '10.0.0.9')).toEqual({ ok: false, code: 'SIGN_IN_FAILED' });
    expect(await officers.signIn('wang.li', 'wrong password', '10.0.0.9')).toMatchObject({ ok: false, code: 'ACCOUNT_LOCKED', retryAfterMs: LOCK_MS });
    expect(await officers.signIn('wang.li', PASSWORD, '10.0.0.9')).toMatchObject({ ok: false, code: 'ACCOUNT_LOCKED' });
    expect((await officers.list())[0]?.lockedUntil).toBe(T0 + LOCK_MS);
    clock.now = T0 + LOCK_MS;
    expect(await officers.signIn('wang.li', PASSWORD, '10.0.0.9')).toMatchObject({ ok: true, officer: { id: 'wang.li', name: '王丽', role: 'duty-leader' } });
    const actions = (await recentAudit(db)).map((a) => `${a.officerId} ${a.action}`).reverse();
    expect(actions).toEqual([
      'wang.li officer-added',
      ...Array.from({ length: 5 }, () => 'wang.li sign-in-failed'),
      'wang.li lockout',
      'wang.li sign-in-failed',
      'wang.li sign-in',
    ]);
  });

  it('lets the right password in after four wrong ones and starts the count again', async () => {
    const { officers } = await setup();
    for (let i = 0; i < 4; i++) await officers.signIn('wang.li', 'wrong password', 'x');
    expect((await officers.signIn('wang.li', PASSWORD, 'x')).ok).toBe(true);
    for (let i = 0; i < 4; i++) expect((await officers.signIn('wang.li', 'wrong password', 'x')) as unknown).toEqual({ ok: false, code: 'SIGN_IN_FAILED' });
  });

  it('refuses a right password whose check ends after parallel wrong attempts locked the account', async () => {
    let release!: () => void;
    let entered!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const inCheck = new Promise<void>((r) => (entered = r));
    const { officers } = await setup(async (s, h) => {
      const ok = await verifyPin(s, h);
      if (s === PASSWORD) {
        entered();
        await held; // the right password's check is still running…
      }
      return ok;
    });
    const late = officers.signIn('wang.li', PASSWORD, 'x');
    await inCheck;
    // …while four more wrong attempts are counted: the fifth attempt in all sets the lock.
    const wrong = await Promise.all(Array.from({ length: 4 }, () => officers.signIn('wang.li', 'wrong password', 'x')));
    expect(wrong.map((r) => (r.ok ? 'ok' : r.code)).sort()).toEqual(['ACCOUNT_LOCKED', 'SIGN_IN_FAILED', 'SIGN_IN_FAILED', 'SIGN_IN_FAILED']);
    release();
    expect(await late).toMatchObject({ ok: false, code: 'ACCOUNT_LOCKED' });
    expect((await officers.list())[0]?.lockedUntil).toBe(T0 + LOCK_MS);
  });

  it('answers an unknown id like a wrong password and audits the id as typed', async () => {
    const { db, officers } = await setup();
    expect(await officers.signIn('nobody', PASSWORD, '10.0.0.7')).toEqual({ ok: false, code: 'SIGN_IN_FAILED' });
    expect((await recentAudit(db))[0]).toMatchObject({ officerId: 'nobody', action: 'sign-in-failed', client: '10.0.0.7', detail: { reason: 'unknown id' } });
  });

  it('refuses a short password, an unknown role, a bad id and a second account with the same id', async () => {
    const { officers } = await setup();
    const add = (o: Partial<{ id: string; name: string; role: string; secret: string }>) =>
      officers.add({ id: 'zhao.min', name: '赵敏', role: 'viewer', secret: PASSWORD, ...o }, 'cli:test');
    await expect(add({ secret: '123456789' })).rejects.toMatchObject({ code: 'OFFICER_INVALID' });
    await expect(add({ role: 'root' })).rejects.toMatchObject({ code: 'OFFICER_INVALID' });
    await expect(add({ id: 'Zhao Min' })).rejects.toMatchObject({ code: 'OFFICER_INVALID' });
    await expect(add({ id: 'wang.li' })).rejects.toBeInstanceOf(OfficerError);
    await add({});
    expect((await officers.list()).map((o) => `${o.id}:${o.role}`)).toEqual(['wang.li:duty-leader', 'zhao.min:viewer']);
    await officers.remove('zhao.min', 'cli:test');
    await expect(officers.remove('zhao.min', 'cli:test')).rejects.toMatchObject({ code: 'OFFICER_UNKNOWN' });
  });
});
