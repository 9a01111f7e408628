// The ledger's hash chain (store schema 10): every ledger row, zone correction and applied
// update linked by SHA-256 in commit order; personal fields behind salted commitments, so
// erasing them keeps the chain verifiable; a walk that names the first bad row.
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../shared/canonical.js';
import {
  CHAIN_VERSION,
  ChainRoom,
  LEDGER_CHAIN_COLUMNS,
  LEDGER_CLEAR_COLUMNS,
  LINK_KEYS,
  PERSONAL_GROUPS,
  PERSONAL_GROUP_NAMES,
  commitPersonal,
  commitment,
  flatCanonical,
  jsonString,
  ledgerContent,
  linkText,
  sealLedgerRow,
  sha256,
  sha256Hex,
  wellFormed,
  wellFormedByRegex,
} from '../../../gateway/store/chain.js';
import { MIGRATIONS, openStore, type SqliteStore } from '../../../gateway/store/index.js';
import { catchError, closeAndRemove, entry, freshDir, track } from './helpers.js';

afterEach(closeAndRemove);

/** A store with a decision, an override, a zone correction, an applied update and two more decisions. */
function filled(): { store: SqliteStore; db: Database.Database } {
  const store = track(openStore(freshDir(), { now: () => 1_670_000_000_000 }));
  store.appendDecision(entry({ facts: null, plate: '晋A12345', goods: 'coal' }), () => null);
  store.appendDecision(entry({ kind: 'override', outcome: 'admit', actor: 'G-01', note: '李四 forgot his badge' }), () => null);
  store.zoneCorrect({ zone: 'canteen', count: 3, guard: 'G-01', reason: 'counted by hand', at: 1_670_000_000_500 });
  store.recordInChain({ kind: 'update', at: 1_670_000_000_600, body: { kind: 'roster', version: 7, transaction: 't-7', digest: 'ab'.repeat(32) } });
  store.appendDecision(entry({ temperature: 37.9, outcome: 'refuse' }), () => null);
  store.appendDecision(entry(), () => null);
  return { store, db: track(new Database(store.path)) };
}

function problem(store: SqliteStore): string {
  const p = store.verifyChain().problem;
  return p === null ? 'none' : `${p.kind} ${p.table} ${p.seq}`;
}

describe('the hash chain', () => {
  it('starts a new ledger with a genesis row and links every kind of record after it, in commit order', () => {
    const { store, db } = filled();
    const rows = db.prepare('SELECT seq, kind, ref FROM chain ORDER BY seq').all();
    expect(rows).toEqual([
      { seq: 1, kind: 'genesis', ref: null },
      { seq: 2, kind: 'ledger', ref: 1 },
      { seq: 3, kind: 'ledger', ref: 2 },
      { seq: 4, kind: 'zone-correction', ref: 1 },
      { seq: 5, kind: 'update', ref: null },
      { seq: 6, kind: 'ledger', ref: 3 },
      { seq: 7, kind: 'ledger', ref: 4 },
    ]);
    const report = store.verifyChain();
    expect(report).toMatchObject({ ok: true, verified: 7, records: { ledger: 4, zoneCorrections: 1, updates: 1, other: 1 }, problem: null });
    expect(report.head).toEqual(store.chainHead());
    expect(store.chainHead()?.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('keeps personal fields out of the hashed content: two rows alike but for the name differ only in their salted commitment', () => {
    const { store, db } = filled();
    store.appendDecision(entry({ id: 'same-1', at: 5, subjectName: '王五' }), () => null);
    store.appendDecision(entry({ id: 'same-2', at: 5, subjectName: '王五' }), () => null);
    const [a, b] = db.prepare("SELECT person_salt, person_commit FROM ledger WHERE id IN ('same-1', 'same-2') ORDER BY seq").all() as {
      person_salt: Buffer;
      person_commit: Buffer;
    }[];
    // Random salts: the same name gives unrelated commitments, so a commitment says nothing about it.
    expect(a!.person_salt).toHaveLength(16);
    expect(a!.person_salt.equals(b!.person_salt)).toBe(false);
    expect(a!.person_commit.equals(b!.person_commit)).toBe(false);
    // A row with no personal field has nothing to commit to.
    expect(db.prepare("SELECT person_salt, person_commit FROM ledger WHERE plate IS NULL AND subject_name IS NULL LIMIT 1").get()).toBeUndefined();
  });

  it('stays verifiable when a row\'s personal or health fields are erased (fields and salt NULL, commitment kept)', () => {
    const { store, db } = filled();
    db.prepare('UPDATE ledger SET subject_name = NULL, note = NULL, approver = NULL, approval_key = NULL, responsible = NULL, plate = NULL, person_salt = NULL WHERE seq IN (1, 2)').run();
    db.prepare('UPDATE ledger SET temperature = NULL, facts = NULL, health_salt = NULL WHERE seq = 3').run();
    expect(db.prepare('SELECT subject_name, plate, person_commit IS NOT NULL AS kept FROM ledger WHERE seq = 1').get()).toEqual({ subject_name: null, plate: null, kept: 1 });
    expect(store.verifyChain()).toMatchObject({ ok: true, erased: { person: 2, health: 1 } });
    expect(store.queryEvents({ limit: 10 }).find((e) => e.seq === 1)).toMatchObject({ subjectName: null, outcome: 'admit' });
  });

  it('lets personal fields only be erased: a whole group with its salt, nothing else of a row may change', () => {
    const { db } = filled();
    expect(() => db.prepare("UPDATE ledger SET subject_name = '赵六' WHERE seq = 1").run()).toThrow(/can only be erased/);
    expect(() => db.prepare('UPDATE ledger SET subject_name = NULL WHERE seq = 1').run()).toThrow(/can only be erased/);
    expect(() => db.prepare('UPDATE ledger SET temperature = NULL WHERE seq = 3').run()).toThrow(/can only be erased/);
    expect(() => db.prepare("UPDATE ledger SET outcome = 'refuse' WHERE seq = 1").run()).toThrow(/append-only: UPDATE refused/);
    expect(() => db.prepare('UPDATE ledger SET person_commit = NULL WHERE seq = 1').run()).toThrow(/append-only: UPDATE refused/);
    expect(() => db.prepare('DELETE FROM ledger WHERE seq = 1').run()).toThrow(/append-only: DELETE refused/);
    expect(() => db.prepare('UPDATE chain SET ref = 9 WHERE seq = 2').run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM chain WHERE seq = 7').run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM zone_corrections').run()).toThrow(/append-only/);
  });

  it('links each decision to the head as the file has it, whatever was appended or rolled back in between', () => {
    const { store, db } = filled();
    const seqs = () => (db.prepare('SELECT seq FROM chain ORDER BY seq').all() as { seq: number }[]).map((r) => r.seq);
    const linked = () => {
      expect(store.verifyChain()).toMatchObject({ ok: true, problem: null });
      const all = seqs();
      expect(all).toEqual(all.map((_, i) => i + 1));
    };
    store.appendDecision(entry(), () => null);
    // Another connection (a CLI's erasure record) appends between two decisions: the next one links after it.
    const other = track(openStore(path.dirname(store.path)));
    other.recordInChain({ kind: 'erasure', at: 1_670_000_001_000, body: { what: 'health', rows: 0 } });
    other.recordInChain({ kind: 'erasure', at: 1_670_000_001_001, body: { what: 'health', rows: 0 } });
    store.appendDecision(entry(), () => null);
    linked();
    expect(store.chainHead()).toEqual(other.chainHead());
    // A decision whose transaction rolls back (its outbox message could not be built) leaves no row to link to.
    expect(() =>
      store.appendDecision(entry(), () => {
        throw new Error('no message');
      }),
    ).toThrow('no message');
    store.appendDecision(entry(), () => null);
    linked();
    // Nor does one inside a caller's transaction that rolls back after it.
    expect(() =>
      store.transaction(() => {
        store.appendDecision(entry(), () => null);
        throw new Error('caller gives up');
      }),
    ).toThrow('caller gives up');
    store.appendDecision(entry(), () => null);
    // A zone correction and an update record on this connection in between.
    store.zoneCorrect({ zone: 'canteen', count: 1, guard: 'G-01', reason: 'recount', at: 1_670_000_002_000 });
    store.appendDecision(entry(), () => null);
    store.recordInChain({ kind: 'update', at: 1_670_000_002_100, body: { kind: 'roster', version: 8, transaction: 't-8', digest: 'cd'.repeat(32) } });
    store.appendDecision(entry(), () => null);
    // And once more another connection, right after a decision whose row this one knows as the head.
    other.appendDecision(entry(), () => null);
    store.appendDecision(entry(), () => null);
    linked();
    expect(seqs().length).toBe(7 + 12);
  });

  it('verifies a name that is no well-formed UTF-16 (a lone surrogate from a pass) as SQLite stores it', () => {
    const { store } = filled();
    store.appendDecision(entry({ subjectName: '张\ud800三' }), () => null);
    expect(store.verifyChain().ok).toBe(true);
  });

  it('names the first bad row: edited, deleted, inserted or reordered, in the ledger or the chain itself', () => {
    const cases: [string, (db: Database.Database) => void, string][] = [
      ['edited', (db) => db.prepare("UPDATE ledger SET outcome = 'refuse' WHERE seq = 2").run(), 'edited ledger 2'],
      ['edited name', (db) => db.prepare("UPDATE ledger SET subject_name = '王五' WHERE seq = 3").run(), 'edited ledger 3'],
      ['name without salt', (db) => db.prepare("UPDATE ledger SET person_salt = NULL WHERE seq = 3").run(), 'edited ledger 3'],
      ['deleted', (db) => db.prepare('DELETE FROM ledger WHERE seq = 2').run(), 'deleted ledger 2'],
      ['inserted', (db) => db.prepare("INSERT INTO ledger (id, at, lane, kind, outcome, reasons, alerts, credential) VALUES ('forged', 9, 'lane-1', 'decision', 'admit', '[]', '[]', 'staff-badge')").run(), 'inserted ledger 5'],
      ['reordered', (db) => db.exec('UPDATE ledger SET seq = -3 WHERE seq = 3; UPDATE ledger SET seq = 3 WHERE seq = 4; UPDATE ledger SET seq = 4 WHERE seq = -3'), 'reordered ledger 3'],
      ['zone correction edited', (db) => db.prepare('UPDATE zone_corrections SET to_count = 0').run(), 'edited zone_corrections 1'],
      ['update edited', (db) => db.prepare("UPDATE chain SET body = json_set(body, '$.version', 8) WHERE kind = 'update'").run(), 'edited chain 5'],
      ['chain row deleted', (db) => db.prepare('DELETE FROM chain WHERE seq = 5').run(), 'deleted chain 5'],
      ['chain hash changed', (db) => db.prepare('UPDATE chain SET hash = zeroblob(32) WHERE seq = 4').run(), 'edited chain 4'],
      ['genesis deleted', (db) => db.prepare('DELETE FROM chain WHERE seq = 1').run(), 'deleted chain 1'],
    ];
    for (const [what, tamper, expected] of cases) {
      const { store, db } = filled();
      expect(problem(store), `${what}, before`).toBe('none');
      db.exec('DROP TRIGGER ledger_facts_fixed; DROP TRIGGER ledger_person_erase_only; DROP TRIGGER ledger_no_delete; DROP TRIGGER chain_no_update; DROP TRIGGER chain_no_delete; DROP TRIGGER zone_corrections_no_update');
      tamper(db);
      expect(problem(store), what).toBe(expected);
    }
  });

  it('finds a ledger row deleted with its chain row even when everything after was re-linked, by the hole in the ledger seqs', () => {
    const { store, db } = filled();
    db.exec('DROP TRIGGER ledger_no_delete; DROP TRIGGER chain_no_delete');
    // As a forger with the source would: drop ledger seq 2 and rebuild the chain after chain
    // row 2 with the chain module's own code (the zone correction and update left out too).
    db.exec('DELETE FROM ledger WHERE seq = 2; DELETE FROM chain WHERE seq >= 3');
    const chain = new ChainRoom(db);
    for (const seq of [3, 4]) {
      const row = db.prepare(`SELECT ${LEDGER_CHAIN_COLUMNS.join(', ')} FROM ledger WHERE seq = ?`).get(seq) as Record<string, string | number | Buffer | null>;
      chain.append('ledger', seq, row.at as number, ledgerContent(row));
    }
    expect(problem(store)).toBe('deleted ledger 2');
  });

  it('accepts a chain that starts after a cut when a checkpoint row states it, and only then', () => {
    const { store, db } = filled();
    const cutHash = (db.prepare('SELECT hex(hash) AS h FROM chain WHERE seq = 4').get() as { h: string }).h.toLowerCase();
    store.recordInChain({ kind: 'checkpoint', at: 1_670_000_001_000, body: { v: 1, reason: 'test', cut: { fromSeq: 1, toSeq: 4, lastHash: cutHash, ledger: 2, zoneCorrections: 1 } } });
    db.exec('DROP TRIGGER ledger_no_delete; DROP TRIGGER chain_no_delete; DROP TRIGGER zone_corrections_no_delete');
    db.exec('DELETE FROM chain WHERE seq <= 4; DELETE FROM ledger WHERE seq <= 2; DELETE FROM zone_corrections');
    expect(store.verifyChain()).toMatchObject({ ok: true, cutBy: 8, verified: 4 });
    db.exec('DELETE FROM chain WHERE seq = 5'); // one row more than the checkpoint states
    expect(problem(store)).toBe('deleted chain 1');
  });

  it('writes a row\'s columns exactly as canonical JSON would (the fast path of the append)', () => {
    const keys = [...LEDGER_CLEAR_COLUMNS].sort();
    const value = fc.oneof(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.constant(null));
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...keys), value), (row) => {
        const full = Object.fromEntries(keys.map((k) => [k, row[k] ?? null]));
        expect(flatCanonical(keys, row)).toBe(canonicalJson(full));
      }),
      { numRuns: 1000 },
    );
  });

  it('writes a link and a ledger row\'s content exactly as the general canonical form would (the written-out fast paths)', () => {
    const hash = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b));
    fc.assert(
      fc.property(fc.nat(), fc.constantFrom('ledger', 'zone-correction', 'genesis', 'update'), fc.option(fc.nat()), fc.nat(), hash, hash, (seq, kind, ref, at, prev, content) => {
        const l = { seq, kind, ref, at, prev, content };
        expect(linkText(l)).toBe(flatCanonical(LINK_KEYS, { v: CHAIN_VERSION, seq, kind, ref, at, prev: prev.toString('hex'), content: content.toString('hex') }));
      }),
      { numRuns: 300 },
    );
    const keys = [...LEDGER_CLEAR_COLUMNS, ...PERSONAL_GROUP_NAMES.map((g) => `${g}_commit`)].sort();
    const value = fc.oneof(fc.string({ unit: 'grapheme' }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.constant(null), hash);
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...keys), value), (row) => {
        const text = flatCanonical(keys, row, (v) => (Buffer.isBuffer(v) ? v.toString('hex') : v));
        expect(ledgerContent(row)).toEqual(createHash('sha256').update(text).digest());
      }),
      { numRuns: 500 },
    );
  });

  it('salts and commits only the personal groups that hold a value, each with its own fresh salt', () => {
    const none = commitPersonal({ id: 'e-1', subject_name: null, temperature: null });
    expect(none).toEqual({ person_salt: null, person_commit: null, health_salt: null, health_commit: null });
    const both = commitPersonal({ subject_name: '张三', facts: '{"v":1}', temperature: 36.6 });
    expect(both.person_salt).toHaveLength(16);
    expect(both.health_salt).toHaveLength(16);
    expect(both.person_salt?.equals(both.health_salt as Buffer)).toBe(false);
    expect(both.person_commit).toEqual(commitment(both.person_salt as Buffer, 'person', { subject_name: '张三' }));
    expect(both.health_commit).toEqual(commitment(both.health_salt as Buffer, 'health', { facts: '{"v":1}', temperature: 36.6 }));
    expect(Object.keys(commitPersonal({ note: 'x' }))).toEqual(['person_salt', 'person_commit', 'health_salt', 'health_commit']);
    expect(commitPersonal({ note: 'x' }).health_salt).toBeNull();
  });

  it('seals a new row as commitPersonal and ledgerContent would: the same commitments for its salts, the same content hash', () => {
    const person = [...PERSONAL_GROUPS.person];
    const clear = [...LEDGER_CLEAR_COLUMNS];
    // Values as a new row holds them: strings (any UTF-16, as the append makes them well-formed), numbers, NULL.
    const text = fc.oneof(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' })).map(wellFormed);
    const value = fc.oneof(text, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.constant(null));
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...clear, ...person, 'temperature', 'facts'), value), (row) => {
        const sealed = sealLedgerRow(row);
        for (const g of PERSONAL_GROUP_NAMES) {
          const salt = sealed[`${g}_salt`];
          const holds = PERSONAL_GROUPS[g].some((c) => (row[c] ?? null) !== null);
          expect(salt === null).toBe(!holds);
          expect(sealed[`${g}_commit`]).toEqual(salt === null ? null : commitment(salt, g, row));
        }
        const withCommits = { ...row, person_commit: sealed.person_commit, health_commit: sealed.health_commit };
        expect(sealed.content).toBe(ledgerContent(withCommits).toString('hex'));
        expect(sha256Hex(sealed.content)).toBe(sha256(sealed.content).toString('hex'));
      }),
      { numRuns: 500 },
    );
  });

  it('keeps every salt it handed out as it was, however many salts are drawn after it', () => {
    const first = commitPersonal({ subject_name: '张三', temperature: 36.6 });
    const kept = Buffer.from(first.person_salt as Buffer);
    const commit = Buffer.from(first.person_commit as Buffer);
    const later: Buffer[] = [];
    // Well past the 256 salts a pool holds: several pools are drawn after the first.
    for (let i = 0; i < 1000; i++) later.push(commitPersonal({ subject_name: `n${i}` }).person_salt as Buffer);
    expect(first.person_salt).toEqual(kept);
    expect(commitment(first.person_salt as Buffer, 'person', { subject_name: '张三' })).toEqual(commit);
    expect(new Set([kept, ...later].map((b) => b.toString('hex'))).size).toBe(1001);
  });

  it('writes a string exactly as JSON.stringify does, short or long, with or without characters to escape', () => {
    const special = fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\u007f', '\u2028', '\ud800', '\udfff', '\ud83d\ude00', '张', 'a');
    const mixed = fc.array(fc.oneof(special, fc.string({ unit: 'binary' })), { maxLength: 10 }).map((p) => p.join(''));
    fc.assert(
      fc.property(fc.oneof(mixed, fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), fc.string({ minLength: 60, maxLength: 70 })), (v) => {
        expect(jsonString(v)).toBe(JSON.stringify(v));
      }),
      { numRuns: 3000 },
    );
  });

  it('makes strings well-formed exactly as the lone-surrogate regex does', () => {
    const surrogates = fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff', '\ud83d\ude00', 'a', '张');
    const mixed = fc.array(fc.oneof(surrogates, fc.string({ unit: 'binary' })), { maxLength: 8 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(fc.oneof(mixed, fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' })), (s) => {
        expect(wellFormed(s)).toBe(wellFormedByRegex(s));
      }),
      { numRuns: 2000 },
    );
    expect(wellFormed(null)).toBeNull();
    expect(wellFormed('a\ud800b\udc00\ud83d\ude00')).toBe('a\ufffdb\ufffd\ud83d\ude00');
  });

  it('writes an empty key list as {} and maps each value before writing it', () => {
    expect(flatCanonical([], {})).toBe('{}');
    expect(flatCanonical(['a', 'b'], { a: Buffer.from([1, 2]), b: 3 }, (v) => (Buffer.isBuffer(v) ? v.toString('hex') : v))).toBe('{"a":"0102","b":3}');
  });

  it('hashes as a Hash object would: SHA-256 of the text, and of salt ‖ canonical JSON for a commitment', () => {
    const keys = [...PERSONAL_GROUPS.person].sort();
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.option(fc.string({ unit: 'binary' })), (text, salt, name) => {
        expect(sha256(text)).toEqual(createHash('sha256').update(text).digest());
        const row = { subject_name: name };
        const full = Object.fromEntries(keys.map((k) => [k, k === 'subject_name' ? name : null]));
        const expected = createHash('sha256').update(Buffer.from(salt)).update(canonicalJson(full)).digest();
        expect(commitment(Buffer.from(salt), 'person', row)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a chain record of another kind or without a JSON object body', () => {
    const { store } = filled();
    expect(catchError(() => store.recordInChain({ kind: 'ledger' as 'update', at: 1, body: {} })).code).toBe('STORE_INVALID_ROW');
    expect(catchError(() => store.recordInChain({ kind: 'update', at: 1, body: [] as unknown as Record<string, unknown> })).code).toBe('STORE_INVALID_ROW');
  });
});

describe('upgrading to the chain (schema 10)', () => {
  it('starts the chain at a genesis row saying which rows came before it, leaves those as they were, and chains what follows', () => {
    const dir = freshDir();
    const old = openStore(dir, { migrations: MIGRATIONS.slice(0, 9), now: () => 1 });
    old.appendDecision(entry({ id: 'old-1', at: 100 }), () => null);
    old.zoneCorrect({ zone: 'canteen', count: 2, guard: 'G-01', reason: 'before', at: 150 });
    old.appendDecision(entry({ id: 'old-2', at: 200, kind: 'override', actor: 'G-01', note: 'n' }), () => null);
    const before = old.queryEvents({ limit: 10 });
    old.close();

    const store = track(openStore(dir, { now: () => 1000 }));
    expect(store.queryEvents({ limit: 10 })).toEqual(before);
    store.appendDecision(entry({ id: 'new-1' }), () => null);
    store.zoneCorrect({ zone: 'canteen', count: 1, guard: 'G-01', reason: 'after', at: 1100 });
    const db = track(new Database(store.path));
    expect(db.prepare('SELECT seq, kind, ref, at FROM chain ORDER BY seq').all()).toEqual([
      { seq: 1, kind: 'genesis', ref: null, at: 1000 },
      { seq: 2, kind: 'ledger', ref: 3, at: expect.any(Number) as unknown as number },
      { seq: 3, kind: 'zone-correction', ref: 2, at: 1100 },
    ]);
    const genesis = JSON.parse((db.prepare('SELECT body FROM chain WHERE seq = 1').get() as { body: string }).body) as Record<string, unknown>;
    expect(genesis).toMatchObject({ before: { ledger: 2, zoneCorrections: 1 } });
    expect(String(genesis.reason)).toContain('not covered');
    expect(store.verifyChain()).toMatchObject({ ok: true, before: { ledger: 2, zoneCorrections: 1 }, records: { ledger: 1, zoneCorrections: 1 } });
    // The rows before the chain carry no commitments; erasing them is allowed and harms nothing.
    expect(db.prepare('SELECT person_salt, person_commit FROM ledger WHERE seq = 1').get()).toEqual({ person_salt: null, person_commit: null });
    db.prepare(`UPDATE ledger SET subject_name = NULL, note = NULL, approver = NULL, approval_key = NULL, responsible = NULL, plate = NULL,
      temperature = NULL, facts = NULL WHERE seq <= 2`).run();
    expect(store.verifyChain().ok).toBe(true);
    // A genesis claiming more rows than it did (to hide one from the walk) fails its own hash.
    db.exec('DROP TRIGGER chain_no_update');
    db.prepare("UPDATE chain SET body = json_set(body, '$.before.ledger', 3) WHERE seq = 1").run();
    expect(store.verifyChain().problem).toMatchObject({ kind: 'edited', table: 'chain', seq: 1 });
  });

  it('names in its triggers exactly the columns chain.ts hashes in clear and commits by group', () => {
    const m10 = MIGRATIONS.find((m) => m.version === 10)!;
    const fixed = /BEFORE UPDATE OF ([^]*?) ON ledger\s+BEGIN/.exec(m10.up)?.[1]?.split(',').map((c) => c.trim());
    expect(fixed).toEqual(['seq', ...LEDGER_CLEAR_COLUMNS, 'person_commit', 'health_commit']);
    for (const [g, cols] of Object.entries(PERSONAL_GROUPS)) {
      const of = new RegExp(`ledger_${g}_erase_only BEFORE UPDATE OF ([^]*?) ON ledger`).exec(m10.up)?.[1]?.split(',').map((c) => c.trim());
      expect(of).toEqual([...cols, `${g}_salt`]);
    }
  });
});
