// The ledger's hash chain (store schema 10, docs/store.md "Hash chain"). Every record —
// a ledger row, a guard's zone correction, an applied office update, and the chain's own
// genesis and checkpoint rows — gets one row in `chain`, in the order it was committed,
// carrying the SHA-256 of the previous chain row and of its own canonical content.
// Personal fields enter that content only through a salted commitment stored beside them
// in the ledger row, so erasing them (fields and salt set to NULL, the commitment kept)
// leaves every hash as it was.
import * as nodeCrypto from 'node:crypto';
import { createHash, randomFillSync } from 'node:crypto';
import type Database from 'better-sqlite3';
import { canonicalJson } from '../../shared/canonical.js';
import { StoreError } from './errors.js';

/** Version of the content and link definitions below; part of every link hash. */
export const CHAIN_VERSION = 1;
/** The previous hash of the first (genesis) row. */
export const ZERO_HASH: Buffer = Buffer.alloc(32);
const SALT_BYTES = 16;
const SALTS_PER_POOL = 256;
/** Salts come from the CSPRNG in batches: one call per 256 salts instead of two per row (≈ 12 µs a row). */
let saltPool: Buffer = Buffer.alloc(0);
let saltAt = 0;

function freshSalt(): Buffer {
  if (saltAt + SALT_BYTES > saltPool.length) {
    // A new pool each time, never written again once filled: so a salt can be a view of
    // it rather than a copy, and stays as it was when the next pool is drawn.
    saltPool = randomFillSync(Buffer.allocUnsafe(SALT_BYTES * SALTS_PER_POOL));
    saltAt = 0;
  }
  saltAt += SALT_BYTES;
  return saltPool.subarray(saltAt - SALT_BYTES, saltAt);
}

/**
 * The kinds of chain rows: `ledger` and `zone-correction` point at a row of their table, the
 * others carry their content in `body` (`erasure`: a purge of stored fields, e.g. `privacy purge-health`).
 */
export const CHAIN_KINDS = ['ledger', 'zone-correction', 'genesis', 'update', 'checkpoint', 'erasure'] as const;
export type ChainKind = (typeof CHAIN_KINDS)[number];

/** Ledger columns hashed as stored: what the row says happened, kept as long as the row. */
export const LEDGER_CLEAR_COLUMNS = [
  'id',
  'at',
  'lane',
  'kind',
  'outcome',
  'reasons',
  'alerts',
  'credential',
  'subject_ref',
  'category',
  'actor',
  'profile',
  'profile_hash',
  'crew_id',
  'goods',
] as const;

/**
 * Personal ledger columns, in groups that can be erased apart (retention erases both, a
 * purge of health data only `health`). Each group has its own salt and commitment columns:
 * `<group>_salt`, `<group>_commit`.
 */
export const PERSONAL_GROUPS = {
  /** Names, ids and free text about a person. */
  person: ['subject_name', 'note', 'approver', 'approval_key', 'responsible', 'plate'],
  /** Health claims: the temperature taken and the facts the policy evaluated (health code, test, travel). */
  health: ['temperature', 'facts'],
} as const;
export type PersonalGroup = keyof typeof PERSONAL_GROUPS;
export const PERSONAL_GROUP_NAMES = Object.keys(PERSONAL_GROUPS) as PersonalGroup[];

export const ZONE_CORRECTION_COLUMNS = ['zone', 'at', 'guard', 'from_count', 'to_count', 'reason'] as const;

/** A stored column value as SQLite gives it back (BLOBs only in salt and commitment columns). */
export type ColumnValue = string | number | Buffer | null;
export type Columns = Readonly<Record<string, ColumnValue | undefined>>;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** ES2024's well-formed string methods (V8 11.1, so every Node ≥ 20); not in the ES2023 lib the project compiles against. */
interface WellFormedString {
  isWellFormed(): boolean;
  toWellFormed(): string;
}
const hasWellFormed = typeof (String.prototype as Partial<WellFormedString>).isWellFormed === 'function';

/**
 * The string as SQLite stores it (UTF-8): a lone surrogate becomes U+FFFD. Hash and bind
 * this. isWellFormed is one native scan and most strings are well-formed; toWellFormed
 * replaces exactly what the regex does (a test holds the two equal).
 */
export function wellFormed<T extends string | null>(s: T): T {
  if (s === null) return s;
  if (!hasWellFormed) return s.replace(LONE_SURROGATE, '\uFFFD') as T;
  const w = s as unknown as WellFormedString;
  return (w.isWellFormed() ? s : w.toWellFormed()) as T;
}

/** The same by the regex, for the test that holds the two equal. */
export function wellFormedByRegex(s: string): string {
  return s.replace(LONE_SURROGATE, '\uFFFD');
}

/** One-shot crypto.hash (Node ≥ 20.12): about half the cost of a Hash object per call; four calls a row. */
const oneShot = (nodeCrypto as { hash?: (algorithm: string, data: string | NodeJS.ArrayBufferView, encoding?: string) => Buffer | string }).hash;

export function sha256(data: string | Buffer): Buffer {
  return oneShot ? (oneShot('sha256', data, 'buffer') as Buffer) : createHash('sha256').update(data).digest();
}

/**
 * SHA-256 as lowercase hex. The append's hashes are wanted as hex (link and content texts)
 * and the one-shot's default hex output costs about 0.7 µs less a call than a Buffer.
 */
export function sha256Hex(data: string | Buffer): string {
  return oneShot ? (oneShot('sha256', data) as string) : createHash('sha256').update(data).digest('hex');
}

/** salt ‖ text for a commitment, written here instead of into a fresh Buffer per commitment. */
const scratch = Buffer.allocUnsafe(16 * 1024);

/** SHA-256(salt ‖ UTF-8 of text), hex. */
function saltedHex(salt: Buffer, text: string): string {
  // A UTF-16 unit is at most 3 bytes of UTF-8: whatever fits that bound fits the scratch.
  if (oneShot === undefined || salt.length + 3 * text.length > scratch.length) {
    return createHash('sha256').update(salt).update(text).digest('hex');
  }
  salt.copy(scratch, 0);
  const n = scratch.write(text, salt.length, 'utf8');
  return oneShot('sha256', scratch.subarray(0, salt.length + n)) as string;
}

export const hex = (b: Buffer): string => b.toString('hex');

/**
 * canonicalJson of `{key: row[key] ?? null}` for fixed keys of string, number or null
 * values, written directly: keys sorted once, not per row (the append's hot path; a test
 * holds it equal to canonicalJson).
 */
export function flatCanonical(sortedKeys: readonly string[], row: Columns, value?: (v: ColumnValue) => ColumnValue): string {
  const prefixes = keyPrefixes(sortedKeys);
  let out = '';
  for (let i = 0; i < sortedKeys.length; i++) {
    const raw = row[sortedKeys[i]!] ?? null;
    out += prefixes[i]! + flatValue(value === undefined ? raw : value(raw));
  }
  return out === '' ? '{}' : `${out}}`;
}

/** One value of flatCanonical: JSON.stringify writes null and finite numbers as String() does; strings need escaping. */
function flatValue(v: ColumnValue): string {
  return v === null ? 'null' : typeof v === 'number' && Number.isFinite(v) ? String(v) : typeof v === 'string' ? jsonString(v) : JSON.stringify(v);
}

/**
 * JSON.stringify of a string. A short one with nothing to escape (no control character,
 * quote, backslash or surrogate) is only quoted, found by one scan: about half the cost of
 * JSON.stringify for the ten or so short strings of each decision's chain and event texts.
 */
export function jsonString(s: string): string {
  if (s.length > 64) return JSON.stringify(s);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s);
  }
  return `"${s}"`;
}

/** `{"key":` and `,"key":` for each key of a list, written once per list instead of per row. */
const prefixCache = new WeakMap<readonly string[], readonly string[]>();
function keyPrefixes(sortedKeys: readonly string[]): readonly string[] {
  let p = prefixCache.get(sortedKeys);
  if (p === undefined) {
    p = sortedKeys.map((k, i) => `${i > 0 ? ',' : '{'}${JSON.stringify(k)}:`);
    prefixCache.set(sortedKeys, p);
  }
  return p;
}

const sorted = (keys: readonly string[]): readonly string[] => [...keys].sort();
const GROUP_KEYS = Object.fromEntries(PERSONAL_GROUP_NAMES.map((g) => [g, sorted(PERSONAL_GROUPS[g])])) as Record<PersonalGroup, readonly string[]>;
const LEDGER_CONTENT_KEYS = sorted([...LEDGER_CLEAR_COLUMNS, ...PERSONAL_GROUP_NAMES.map((g) => `${g}_commit`)]);
const ZONE_CONTENT_KEYS = sorted(ZONE_CORRECTION_COLUMNS);
/** The keys of a link, sorted (linkText writes them out; a test holds the two equal). */
export const LINK_KEYS = sorted(['v', 'seq', 'kind', 'ref', 'at', 'prev', 'content']);

/** SHA-256(salt ‖ canonical JSON of the group's columns as stored). */
export function commitment(salt: Buffer, group: PersonalGroup, row: Columns): Buffer {
  return Buffer.from(saltedHex(salt, flatCanonical(GROUP_KEYS[group], row)), 'hex');
}

/**
 * A fresh salt and its commitment for each group of a new row; both NULL for a group whose
 * columns are all NULL (nothing to commit to, nothing to erase).
 */
export function commitPersonal(row: Columns): PersonalCommitments {
  const person = hasAny(row, PERSONAL_GROUPS.person) ? freshSalt() : null;
  const health = hasAny(row, PERSONAL_GROUPS.health) ? freshSalt() : null;
  return {
    person_salt: person,
    person_commit: person === null ? null : commitment(person, 'person', row),
    health_salt: health,
    health_commit: health === null ? null : commitment(health, 'health', row),
  };
}

export type PersonalCommitments = Record<`${PersonalGroup}_salt` | `${PersonalGroup}_commit`, Buffer | null>;

/** What the append adds to a new ledger row for the chain: salts and commitments (columns of the row) and its content hash. */
export interface SealedLedgerRow extends PersonalCommitments {
  /** ledgerContent of the row with these commitments, as hex. */
  content: string;
}

/**
 * commitPersonal and ledgerContent of a new row in one go, for the append: each commitment
 * is hashed once (as hex, for the content text, then as bytes for its column) and the
 * content text is written out, not built from the key list (a test holds it equal to the
 * general form). The row's own salt and commitment columns are not read.
 */
export function sealLedgerRow(row: Columns): SealedLedgerRow {
  // Written out per group, not built with computed keys: this runs once per decision, and
  // an object of a fixed shape is several times cheaper to make and to read afterwards.
  const person = hasAny(row, PERSONAL_GROUPS.person) ? freshSalt() : null;
  const health = hasAny(row, PERSONAL_GROUPS.health) ? freshSalt() : null;
  const personHex = person === null ? null : saltedHex(person, flatCanonical(GROUP_KEYS.person, row));
  const healthHex = health === null ? null : saltedHex(health, flatCanonical(GROUP_KEYS.health, row));
  return {
    person_salt: person,
    person_commit: personHex === null ? null : Buffer.from(personHex, 'hex'),
    health_salt: health,
    health_commit: healthHex === null ? null : Buffer.from(healthHex, 'hex'),
    content: sha256Hex(newLedgerContentText(row, personHex, healthHex)),
  };
}

/**
 * The content text of a new row (strings, numbers and NULLs only; commitments given as
 * hex): LEDGER_CONTENT_KEYS in their sorted order, written out. ledgerContent, which also
 * reads rows back for the verifier, keeps the general form.
 */
function newLedgerContentText(r: Columns, personCommit: string | null, healthCommit: string | null): string {
  return (
    `{"actor":${flatValue(r.actor ?? null)},"alerts":${flatValue(r.alerts ?? null)},"at":${flatValue(r.at ?? null)},` +
    `"category":${flatValue(r.category ?? null)},"credential":${flatValue(r.credential ?? null)},"crew_id":${flatValue(r.crew_id ?? null)},` +
    `"goods":${flatValue(r.goods ?? null)},"health_commit":${healthCommit === null ? 'null' : `"${healthCommit}"`},"id":${flatValue(r.id ?? null)},` +
    `"kind":${flatValue(r.kind ?? null)},"lane":${flatValue(r.lane ?? null)},"outcome":${flatValue(r.outcome ?? null)},` +
    `"person_commit":${personCommit === null ? 'null' : `"${personCommit}"`},"profile":${flatValue(r.profile ?? null)},` +
    `"profile_hash":${flatValue(r.profile_hash ?? null)},"reasons":${flatValue(r.reasons ?? null)},"subject_ref":${flatValue(r.subject_ref ?? null)}}`
  );
}

/** True when any of the columns holds a value (absent counts as NULL). */
function hasAny(row: Columns, columns: readonly string[]): boolean {
  for (let i = 0; i < columns.length; i++) if ((row[columns[i]!] ?? null) !== null) return true;
  return false;
}

const LEDGER_CONTENT_PREFIXES = keyPrefixes(LEDGER_CONTENT_KEYS);

/** Content hash of a ledger row: its clear columns as stored plus each group's commitment (hex or null; the only BLOBs among them). */
export function ledgerContent(row: Columns): Buffer {
  // flatCanonical(LEDGER_CONTENT_KEYS, row, BLOB → hex) without a callback per column (a test holds the two equal).
  let out = '';
  for (let i = 0; i < LEDGER_CONTENT_KEYS.length; i++) {
    const v = row[LEDGER_CONTENT_KEYS[i]!] ?? null;
    out += LEDGER_CONTENT_PREFIXES[i]! + flatValue(Buffer.isBuffer(v) ? hex(v) : v);
  }
  return sha256(`${out}}`);
}

export function zoneCorrectionContent(row: Columns): Buffer {
  return sha256(flatCanonical(ZONE_CONTENT_KEYS, row));
}

/** Rows whose content is their body: the body text as stored (canonical JSON when written). */
export function bodyContent(body: string | null): Buffer {
  return sha256(body ?? '');
}

export interface Link {
  seq: number;
  kind: string;
  ref: number | null;
  at: number;
  prev: Buffer;
  content: Buffer;
}

/** The row's own hash: SHA-256 of the canonical JSON of its position, kind, reference, time, previous hash and content hash. */
export function linkHash(l: Link): Buffer {
  return sha256(linkText(l));
}

/**
 * flatCanonical(LINK_KEYS, {v, seq, kind, ref, at, prev: hex, content: hex}), written out
 * (keys in sorted order; hex needs no escaping): once per chain row, on the decision's path.
 * A test holds it equal to the flatCanonical form.
 */
export function linkText(l: Link): string {
  return linkTextOf(l.seq, l.kind, l.ref, l.at, hex(l.prev), hex(l.content));
}

/** linkText with the hashes given as hex. */
function linkTextOf(seq: number, kind: string, ref: number | null, at: number, prevHex: string, contentHex: string): string {
  return (
    `{"at":${flatValue(at)},"content":"${contentHex}","kind":${flatValue(kind)},"prev":"${prevHex}",` +
    `"ref":${flatValue(ref)},"seq":${flatValue(seq)},"v":${flatValue(CHAIN_VERSION)}}`
  );
}

export interface ChainHead {
  seq: number;
  /** SHA-256, hex. */
  hash: string;
}

/** A chain row whose content lives in the chain itself. */
export interface ChainRecord {
  kind: 'update' | 'checkpoint' | 'erasure';
  /** Epoch ms. */
  at: number;
  body: Record<string, unknown>;
}

/** What an applied office update leaves in the chain (the update itself is the office's). */
export interface UpdateApplied {
  kind: string;
  version: number;
  transaction: string;
  /** SHA-256 (hex) of the signed update as received, so the exact update is known. */
  digest: string;
}

/** A chain row as the next one links to it. */
interface LinkedRow {
  seq: number;
  hash: Buffer;
  hex: string;
}

/** Appends chain rows in the caller's transaction. */
export class ChainRoom {
  readonly #head: Database.Statement<[], { seq: number; hash: Buffer }>;
  readonly #insert: Database.Statement<[number, string, number | null, number, string | null, Buffer, Buffer]>;
  readonly #record: (r: ChainRecord) => ChainHead;
  /**
   * The head as this connection's last committed append left it (see committed()), so the
   * next decision links to it without a SELECT. Dropped by every append until its
   * transaction is known to have committed, so a rollback can never leave it ahead of the
   * file. A row another connection appended since (a CLI's erasure record) takes the seq
   * this would give: the insert fails on the primary key and the head is read after all.
   */
  #known: LinkedRow | null = null;
  /** The row the transaction in progress appended last. */
  #written: LinkedRow | null = null;

  constructor(db: Database.Database) {
    this.#head = db.prepare('SELECT seq, hash FROM chain ORDER BY seq DESC LIMIT 1');
    this.#insert = db.prepare('INSERT INTO chain (seq, kind, ref, at, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.#record = db.transaction((r: ChainRecord) => {
      const body = canonicalJson(r.body);
      this.append(r.kind, null, r.at, bodyContent(body), body);
      return this.head() as ChainHead;
    });
  }

  /** Links one record after the current head; must run inside the transaction that writes the record. */
  append(kind: ChainKind, ref: number | null, at: number, content: Buffer, body: string | null = null): void {
    this.appendHex(kind, ref, at, hex(content), body);
  }

  /** append with the content hash as hex (what sealLedgerRow gives). */
  appendHex(kind: ChainKind, ref: number | null, at: number, contentHex: string, body: string | null = null): void {
    const known = this.#known;
    this.#known = null;
    this.#written = null;
    if (known !== null) {
      try {
        this.#link(known, kind, ref, at, contentHex, body);
        return;
      } catch (err) {
        // Another connection appended since: link to the head as the file has it.
        if (!isChainSeqTaken(err)) throw err;
      }
    }
    const head = this.#head.get();
    const prev = head === undefined ? { seq: 0, hash: ZERO_HASH, hex: hex(ZERO_HASH) } : { seq: head.seq, hash: head.hash, hex: hex(head.hash) };
    this.#link(prev, kind, ref, at, contentHex, body);
  }

  #link(prev: LinkedRow, kind: ChainKind, ref: number | null, at: number, contentHex: string, body: string | null): void {
    const seq = prev.seq + 1;
    const hashHex = sha256Hex(linkTextOf(seq, kind, ref, at, prev.hex, contentHex));
    const hash = Buffer.from(hashHex, 'hex');
    this.#insert.run(seq, kind, ref, at, body, prev.hash, hash);
    this.#written = { seq, hash, hex: hashHex };
  }

  /**
   * The transaction that made this connection's last append has committed (the caller
   * knows: its own transaction returned, outside any other): that row is the head.
   */
  committed(): void {
    this.#known = this.#written;
    this.#written = null;
  }

  head(): ChainHead | null {
    const h = this.#head.get();
    return h === undefined ? null : { seq: h.seq, hash: hex(h.hash) };
  }

  record(r: ChainRecord): ChainHead {
    if (typeof r !== 'object' || r === null || !(r.kind === 'update' || r.kind === 'checkpoint' || r.kind === 'erasure')) {
      throw new StoreError('STORE_INVALID_ROW', `chain record refused: expected kind update, checkpoint or erasure, got ${JSON.stringify(r?.kind)}`, {});
    }
    if (!Number.isSafeInteger(r.at) || r.at < 0) {
      throw new StoreError('STORE_INVALID_ROW', `chain record ${r.kind} refused: at ${JSON.stringify(r.at)} is not epoch milliseconds`, {});
    }
    if (typeof r.body !== 'object' || r.body === null || Array.isArray(r.body)) {
      throw new StoreError('STORE_INVALID_ROW', `chain record ${r.kind} refused: expected a JSON object as body`, {});
    }
    return this.#record(r);
  }
}

/** The insert's seq is already in the chain (another connection appended). */
function isChainSeqTaken(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return typeof e === 'object' && e !== null && e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' && typeof e.message === 'string' && e.message.includes('chain.seq');
}

/** Every ledger column a verifier reads, besides seq. */
export const LEDGER_CHAIN_COLUMNS: readonly string[] = [
  ...LEDGER_CLEAR_COLUMNS,
  ...PERSONAL_GROUP_NAMES.flatMap((g) => [...PERSONAL_GROUPS[g], `${g}_salt`, `${g}_commit`]),
];

/** What the genesis row says: why the chain starts, and which rows came before it. */
export interface GenesisBody {
  v: number;
  reason: string;
  /** Ledger rows with seq ≤ this, and zone corrections with id ≤ this, were made before the chain: not covered. */
  before: { ledger: number; zoneCorrections: number };
}

/**
 * Migration 10's data step: the genesis row. Rows made before it stay as they were,
 * outside the chain, and the genesis says up to which seq and id (docs/store.md "Genesis"):
 * chaining them would rewrite every row of a large ledger inside the start-up of the
 * upgraded gateway (about 12 000 rows/s here, past systemd's start timeout from ~700 000
 * rows on), and could vouch only for their state at the upgrade anyway.
 */
export function writeGenesis(db: Database.Database, now: () => number): void {
  const last = (sql: string): number => db.prepare<[], { n: number | null }>(sql).get()?.n ?? 0;
  const before = { ledger: last('SELECT max(seq) AS n FROM ledger'), zoneCorrections: last('SELECT max(id) AS n FROM zone_corrections') };
  const genesis: GenesisBody = {
    v: CHAIN_VERSION,
    reason:
      before.ledger + before.zoneCorrections > 0
        ? 'store schema 10: the chain starts here; the ledger rows and zone corrections made before it are not covered'
        : 'new ledger',
    before,
  };
  const body = canonicalJson(genesis);
  new ChainRoom(db).append('genesis', null, now(), bodyContent(body), body);
}
