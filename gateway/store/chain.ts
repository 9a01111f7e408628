// The ledger's hash chain (store schema 10, docs/store.md "Hash chain"). Every record —
// a ledger row, a guard's zone correction, an applied office update, and the chain's own
// genesis and checkpoint rows — gets one row in `chain`, in the order it was committed,
// carrying the SHA-256 of the previous chain row and of its own canonical content.
// Personal fields enter that content only through a salted commitment stored beside them
// in the ledger row, so erasing them (fields and salt set to NULL, the commitment kept)
// leaves every hash as it was.
import { createHash, randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { canonicalJson } from '../../shared/canonical.js';
import { StoreError } from './errors.js';

/** Version of the content and link definitions below; part of every link hash. */
export const CHAIN_VERSION = 1;
/** The previous hash of the first (genesis) row. */
export const ZERO_HASH: Buffer = Buffer.alloc(32);
const SALT_BYTES = 16;

/** The kinds of chain rows: the first three point at a row of their table, the others carry their content in `body`. */
export const CHAIN_KINDS = ['ledger', 'zone-correction', 'genesis', 'update', 'checkpoint'] as const;
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

/** The string as SQLite stores it (UTF-8): a lone surrogate becomes U+FFFD. Hash and bind this. */
export function wellFormed<T extends string | null>(s: T): T {
  return (s === null ? s : s.replace(LONE_SURROGATE, '\uFFFD')) as T;
}

export function sha256(data: string | Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

export const hex = (b: Buffer): string => b.toString('hex');

/** SHA-256(salt ‖ canonical JSON of the group's columns as stored). */
export function commitment(salt: Buffer, group: PersonalGroup, row: Columns): Buffer {
  const values: Record<string, ColumnValue> = {};
  for (const c of PERSONAL_GROUPS[group]) values[c] = row[c] ?? null;
  return createHash('sha256').update(salt).update(canonicalJson(values)).digest();
}

/**
 * A fresh salt and its commitment for each group of a new row; both NULL for a group whose
 * columns are all NULL (nothing to commit to, nothing to erase).
 */
export function commitPersonal(row: Columns): Record<`${PersonalGroup}_salt` | `${PersonalGroup}_commit`, Buffer | null> {
  const out: Record<string, Buffer | null> = {};
  for (const g of PERSONAL_GROUP_NAMES) {
    const empty = PERSONAL_GROUPS[g].every((c) => (row[c] ?? null) === null);
    const salt = empty ? null : randomBytes(SALT_BYTES);
    out[`${g}_salt`] = salt;
    out[`${g}_commit`] = salt === null ? null : commitment(salt, g, row);
  }
  return out as Record<`${PersonalGroup}_salt` | `${PersonalGroup}_commit`, Buffer | null>;
}

/** Content hash of a ledger row: its clear columns as stored plus each group's commitment (hex or null). */
export function ledgerContent(row: Columns): Buffer {
  const content: Record<string, ColumnValue> = {};
  for (const c of LEDGER_CLEAR_COLUMNS) content[c] = row[c] ?? null;
  for (const g of PERSONAL_GROUP_NAMES) {
    const commit = row[`${g}_commit`];
    content[`${g}_commit`] = Buffer.isBuffer(commit) ? hex(commit) : null;
  }
  return sha256(canonicalJson(content));
}

export function zoneCorrectionContent(row: Columns): Buffer {
  const content: Record<string, ColumnValue> = {};
  for (const c of ZONE_CORRECTION_COLUMNS) content[c] = row[c] ?? null;
  return sha256(canonicalJson(content));
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
  return sha256(canonicalJson({ v: CHAIN_VERSION, seq: l.seq, kind: l.kind, ref: l.ref, at: l.at, prev: hex(l.prev), content: hex(l.content) }));
}

export interface ChainHead {
  seq: number;
  /** SHA-256, hex. */
  hash: string;
}

/** A chain row whose content lives in the chain itself. */
export interface ChainRecord {
  kind: 'update' | 'checkpoint';
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

/** Appends chain rows in the caller's transaction. */
export class ChainRoom {
  readonly #head: Database.Statement<[], { seq: number; hash: Buffer }>;
  readonly #insert: Database.Statement<[number, string, number | null, number, string | null, Buffer, Buffer]>;
  readonly #record: (r: ChainRecord) => ChainHead;

  constructor(db: Database.Database) {
    this.#head = db.prepare('SELECT seq, hash FROM chain ORDER BY seq DESC LIMIT 1');
    this.#insert = db.prepare('INSERT INTO chain (seq, kind, ref, at, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.#record = db.transaction((r: ChainRecord) => {
      const body = canonicalJson(r.body);
      return this.append(r.kind, null, r.at, bodyContent(body), body);
    });
  }

  /** Links one record after the current head; must run inside the transaction that writes the record. */
  append(kind: ChainKind, ref: number | null, at: number, content: Buffer, body: string | null = null): ChainHead {
    const head = this.#head.get();
    const seq = (head?.seq ?? 0) + 1;
    const prev = head?.hash ?? ZERO_HASH;
    const hash = linkHash({ seq, kind, ref, at, prev, content });
    this.#insert.run(seq, kind, ref, at, body, prev, hash);
    return { seq, hash: hex(hash) };
  }

  head(): ChainHead | null {
    const h = this.#head.get();
    return h === undefined ? null : { seq: h.seq, hash: hex(h.hash) };
  }

  record(r: ChainRecord): ChainHead {
    if (typeof r !== 'object' || r === null || !(r.kind === 'update' || r.kind === 'checkpoint')) {
      throw new StoreError('STORE_INVALID_ROW', `chain record refused: expected kind update or checkpoint, got ${JSON.stringify(r?.kind)}`, {});
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

/** Every ledger column a verifier reads, besides seq. */
export const LEDGER_CHAIN_COLUMNS: readonly string[] = [
  ...LEDGER_CLEAR_COLUMNS,
  ...PERSONAL_GROUP_NAMES.flatMap((g) => [...PERSONAL_GROUPS[g], `${g}_salt`, `${g}_commit`]),
];

/**
 * Migration 10's data step: a genesis row, then every ledger row and zone correction made
 * before the chain existed, chained as found (interleaved by time, each table in its own
 * order), each ledger row given its salts and commitments first. Paged: a large ledger is
 * never held in memory at once.
 */
export function chainExistingRows(db: Database.Database, now: () => number): void {
  const chain = new ChainRoom(db);
  const zones = db.prepare<[], Columns & { id: number; at: number }>(`SELECT id, ${ZONE_CORRECTION_COLUMNS.join(', ')} FROM zone_corrections ORDER BY id`).all();
  const ledgerRows = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM ledger').get()?.n ?? 0;
  const body = canonicalJson({
    v: CHAIN_VERSION,
    reason: ledgerRows + zones.length > 0 ? 'store schema 10: the records made before the chain existed follow, chained as found at the upgrade' : 'new ledger',
    records: { ledger: ledgerRows, zoneCorrections: zones.length },
  });
  chain.append('genesis', null, now(), bodyContent(body), body);

  const page = db.prepare<[number], Columns & { seq: number; at: number }>(
    `SELECT seq, ${[...LEDGER_CLEAR_COLUMNS, ...PERSONAL_GROUP_NAMES.flatMap((g) => PERSONAL_GROUPS[g])].join(', ')} FROM ledger WHERE seq > ? ORDER BY seq LIMIT 5000`,
  );
  const commit = db.prepare<[Buffer | null, Buffer | null, Buffer | null, Buffer | null, number]>(
    'UPDATE ledger SET person_salt = ?, person_commit = ?, health_salt = ?, health_commit = ? WHERE seq = ?',
  );
  let z = 0;
  const zonesUntil = (at: number): void => {
    for (; z < zones.length && zones[z]!.at <= at; z++) chain.append('zone-correction', zones[z]!.id, zones[z]!.at, zoneCorrectionContent(zones[z]!));
  };
  for (let rows = page.all(0); rows.length > 0; rows = page.all(rows[rows.length - 1]!.seq)) {
    for (const row of rows) {
      const c = commitPersonal(row);
      commit.run(c.person_salt, c.person_commit, c.health_salt, c.health_commit, row.seq);
      zonesUntil(row.at);
      chain.append('ledger', row.seq, row.at, ledgerContent({ ...row, ...c }));
    }
  }
  zonesUntil(Number.MAX_SAFE_INTEGER);
}
