import Database from 'better-sqlite3';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE, LATEST_SCHEMA_VERSION, MIGRATIONS, openStore, type Migration } from '../../../gateway/store/index.js';
import { catchError, closeAndRemove, entry, freshDir, track } from './helpers.js';

afterEach(closeAndRemove);

describe('opening the store', () => {
  it('creates a missing data directory and gateway.sqlite inside it', () => {
    const dir = join(freshDir(), 'nested', 'data');
    const store = track(openStore(dir));
    expect(store.path).toBe(join(dir, DATABASE_FILE));
    expect(existsSync(store.path)).toBe(true);
  });

  it('runs with WAL journaling, synchronous FULL, foreign keys on, a busy timeout and a 1 MB page cache', () => {
    const store = track(openStore(freshDir()));
    expect(store.settings()).toEqual({ journalMode: 'wal', synchronous: 2, foreignKeys: true, busyTimeoutMs: 5000, pageCacheKb: 1024 });
  });

  it('takes another page cache when asked (benches compare sizes)', () => {
    const store = track(openStore(freshDir(), { pageCacheKb: 16_000 }));
    expect(store.settings().pageCacheKb).toBe(16_000);
  });

  it('refuses a file that is not a SQLite database and names the file', () => {
    const dir = freshDir();
    writeFileSync(join(dir, DATABASE_FILE), 'this is not a database, just text '.repeat(100));
    const err = catchError(() => openStore(dir));
    expect(err.code).toBe('STORE_OPEN_FAILED');
    expect(err.message).toContain(join(dir, DATABASE_FILE));
  });

  it('refuses a data directory that cannot be created', () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'file'), 'x');
    const err = catchError(() => openStore(join(dir, 'file', 'data')));
    expect(err.code).toBe('STORE_OPEN_FAILED');
    expect(err.message).toContain(join(dir, 'file', 'data'));
  });

  it('close can be called twice', () => {
    const store = openStore(freshDir());
    store.close();
    expect(() => store.close()).not.toThrow();
  });
});

describe('migrations', () => {
  it('bring a new database to the latest version, once, and reopening applies nothing again', () => {
    const dir = freshDir();
    const first = openStore(dir, { now: () => 1000 });
    expect(first.schemaVersion).toBe(LATEST_SCHEMA_VERSION);
    first.close();
    const again = track(openStore(dir, { now: () => 2000 }));
    expect(again.schemaVersion).toBe(LATEST_SCHEMA_VERSION);
    again.close();

    const db = new Database(join(dir, DATABASE_FILE), { readonly: true });
    const history = db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all();
    expect(history).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name, applied_at: 1000 })));
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST_SCHEMA_VERSION);
    db.close();
  });

  it('apply only the newer migrations to a database of an older version, keeping its data', () => {
    const dir = freshDir();
    const v1 = openStore(dir, { migrations: MIGRATIONS.slice(0, 1) });
    v1.appendDecision(entry({ id: 'kept' }), () => null);
    v1.close();

    const v2: Migration = { version: 2, name: 'test: add a column', up: 'ALTER TABLE meta ADD COLUMN note TEXT' };
    const upgraded = track(openStore(dir, { migrations: [...MIGRATIONS.slice(0, 1), v2] }));
    expect(upgraded.schemaVersion).toBe(2);
    expect(upgraded.queryEvents({}).map((e) => e.id)).toEqual(['kept']);
  });

  it('roll back a failing migration and leave the database at the last good version', () => {
    const dir = freshDir();
    openStore(dir, { migrations: MIGRATIONS.slice(0, 1) }).close();
    const broken: Migration = {
      version: 2,
      name: 'test: broken',
      up: 'CREATE TABLE half_done (x INTEGER); INSERT INTO no_such_table VALUES (1);',
    };
    const err = catchError(() => openStore(dir, { migrations: [...MIGRATIONS.slice(0, 1), broken] }));
    expect(err.code).toBe('STORE_MIGRATION_FAILED');
    expect(err.message).toMatch(/migration 2 \(test: broken\).*stays at version 1/);

    const db = new Database(join(dir, DATABASE_FILE), { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'half_done'").get()).toEqual({ n: 0 });
    db.close();
  });

  it('refuse a database written by a newer gateway, naming the file and both versions', () => {
    const dir = freshDir();
    openStore(dir).close();
    const db = new Database(join(dir, DATABASE_FILE));
    db.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 3}`);
    db.close();

    const err = catchError(() => openStore(dir));
    expect(err.code).toBe('STORE_SCHEMA_TOO_NEW');
    expect(err.message).toContain(join(dir, DATABASE_FILE));
    expect(err.message).toContain(`version ${LATEST_SCHEMA_VERSION + 3}`);
    expect(err.message).toContain(`up to ${LATEST_SCHEMA_VERSION}`);
    expect(err.details).toMatchObject({ found: LATEST_SCHEMA_VERSION + 3, known: LATEST_SCHEMA_VERSION });
  });
});
