// Verifying the hash chain (docs/store.md "Verifying"): one walk in chain order, in one
// read transaction (a consistent snapshot while the gateway keeps writing), paged so a
// ledger of millions of rows is never held in memory. It stops at the first bad row and
// says what is wrong with it: edited, deleted, inserted or reordered.
import type Database from 'better-sqlite3';
import {
  CHAIN_KINDS,
  type ChainHead,
  type ChainKind,
  type Columns,
  type GenesisBody,
  LEDGER_CHAIN_COLUMNS,
  PERSONAL_GROUPS,
  PERSONAL_GROUP_NAMES,
  ZERO_HASH,
  ZONE_CORRECTION_COLUMNS,
  bodyContent,
  commitment,
  hex,
  ledgerContent,
  linkHash,
  zoneCorrectionContent,
} from './chain.js';
import { canonicalJson } from '../../shared/canonical.js';
import { verifyGatewaySignature } from './gateway-key.js';

export type ChainProblemKind = 'edited' | 'deleted' | 'inserted' | 'reordered';
export type ChainTable = 'ledger' | 'zone_corrections' | 'chain';

export interface ChainProblem {
  kind: ChainProblemKind;
  /** Where the bad row is: the ledger, the zone corrections, or the chain table itself. */
  table: ChainTable;
  /** Its key there: ledger seq, zone correction id, chain seq. */
  seq: number;
  /** The chain row the walk was at; null for a row found after the walk (not chained at the end). */
  chainSeq: number | null;
  /** What is wrong, in words, naming the row. */
  detail: string;
}

export interface ChainReport {
  ok: boolean;
  /** Chain rows verified, in order, before the problem if any. */
  verified: number;
  /** The last chain row verified. */
  head: ChainHead | null;
  /** Verified rows by what they record. */
  records: { ledger: number; zoneCorrections: number; updates: number; other: number };
  /** Verified ledger rows whose person or health fields are erased (commitment kept). */
  erased: { person: number; health: number };
  /** The checkpoint row (chain seq) stating the cut the chain starts after; null when it starts at its genesis. */
  cutBy: number | null;
  /** Rows the genesis row says were made before the chain (an upgraded ledger): not covered, not checked. */
  before: { ledger: number; zoneCorrections: number };
  problem: ChainProblem | null;
}

interface ChainRow {
  seq: number;
  kind: string;
  ref: number | null;
  at: number;
  body: string | null;
  prev_hash: Buffer;
  hash: Buffer;
}

type Joined = ChainRow & Record<string, unknown>;

/** Where a chain row's content lives, by kind. */
const TABLE_OF: Partial<Record<ChainKind, { table: 'ledger' | 'zone_corrections'; key: string; columns: readonly string[]; prefix: string }>> = {
  ledger: { table: 'ledger', key: 'seq', columns: LEDGER_CHAIN_COLUMNS, prefix: 'l_' },
  'zone-correction': { table: 'zone_corrections', key: 'id', columns: ZONE_CORRECTION_COLUMNS, prefix: 'z_' },
};
const BATCH = 2000;
/** How far ahead a row whose content moved is looked for (reordered rather than edited). */
const REORDER_WINDOW = 64;

/** The checkpoint body the retention job writes when it cuts old rows (docs/store.md "Retention"). */
interface CutBody {
  cut?: { fromSeq?: unknown; toSeq?: unknown; lastHash?: unknown; ledger?: unknown; zoneCorrections?: unknown };
}

export function verifyChain(db: Database.Database): ChainReport {
  // One read transaction: rows appended meanwhile are after the snapshot, not half in it.
  return db.transaction(() => new Walk(db).run())();
}

class Found extends Error {
  constructor(readonly problem: ChainProblem) {
    super(problem.detail);
  }
}

/** A body as stored; {} when it is no JSON object (its hash check then reports the row). */
function parseBody<T>(body: string | null): T {
  try {
    const v: unknown = JSON.parse(body ?? '{}');
    return (typeof v === 'object' && v !== null ? v : {}) as T;
  } catch {
    return {} as T;
  }
}

const count = (v: unknown): number => (Number.isSafeInteger(v) && (v as number) > 0 ? (v as number) : 0);

function label(table: ChainTable, seq: number): string {
  return table === 'ledger' ? `ledger seq ${seq}` : table === 'zone_corrections' ? `zone correction ${seq}` : `chain row ${seq}`;
}

function span(table: ChainTable, from: number, to: number): string {
  return from === to ? label(table, from) : `${label(table, from)}–${to}`;
}

class Walk {
  readonly #db: Database.Database;
  readonly #report: ChainReport = {
    ok: false,
    verified: 0,
    head: null,
    records: { ledger: 0, zoneCorrections: 0, updates: 0, other: 0 },
    erased: { person: 0, health: 0 },
    cutBy: null,
    before: { ledger: 0, zoneCorrections: 0 },
    problem: null,
  };
  #prevSeq = 0;
  #prevHash: Buffer = ZERO_HASH;
  readonly #lastRef: Record<'ledger' | 'zone_corrections', number> = { ledger: 0, zone_corrections: 0 };
  /** A cut still being deleted (the job deletes in batches): the hash its last row must have. */
  #pendingCut: { checkpoint: number; toSeq: number; lastHash: string } | null = null;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  run(): ChainReport {
    try {
      this.#start();
      const page = this.#db.prepare<[number, number], Joined>(
        `SELECT c.seq, c.kind, c.ref, c.at, c.body, c.prev_hash, c.hash,
           ${LEDGER_CHAIN_COLUMNS.map((col) => `l.${col} AS l_${col}`).join(', ')}, l.seq AS l_seq,
           ${ZONE_CORRECTION_COLUMNS.map((col) => `z.${col} AS z_${col}`).join(', ')}, z.id AS z_id
         FROM chain c
         LEFT JOIN ledger l ON c.kind = 'ledger' AND l.seq = c.ref
         LEFT JOIN zone_corrections z ON c.kind = 'zone-correction' AND z.id = c.ref
         WHERE c.seq > ? ORDER BY c.seq LIMIT ?`,
      );
      for (let rows = page.all(this.#prevSeq, BATCH); rows.length > 0; rows = page.all(this.#prevSeq, BATCH)) {
        for (const r of rows) this.#check(r);
      }
      for (const table of ['ledger', 'zone_corrections'] as const) {
        const extra = this.#firstAfter(table, this.#lastRef[table]);
        if (extra !== undefined) {
          this.#fail('inserted', table, extra, null, `${label(table, extra)} is in no chain row: it was added outside the gateway`);
        }
      }
      this.#report.ok = true;
    } catch (err) {
      if (!(err instanceof Found)) throw err;
      this.#report.problem = err.problem;
    }
    if (this.#report.verified > 0) this.#report.head = { seq: this.#prevSeq, hash: hex(this.#prevHash) };
    return this.#report;
  }

  #fail(kind: ChainProblemKind, table: ChainTable, seq: number, chainSeq: number | null, detail: string): never {
    throw new Found({ kind, table, seq, chainSeq, detail });
  }

  /** Where the walk begins: the genesis row, or after the cut a checkpoint row states. */
  #start(): void {
    const first = this.#db.prepare<[], ChainRow>('SELECT seq, kind, ref, at, body, prev_hash, hash FROM chain ORDER BY seq LIMIT 1').get();
    if (first === undefined) this.#fail('deleted', 'chain', 1, null, 'the chain is empty: even its genesis row (chain row 1) is gone');
    if (first.seq === 1) {
      if (first.kind !== 'genesis') this.#fail('deleted', 'chain', 1, 1, `the chain does not begin with its genesis row: chain row 1 is a ${first.kind} row`);
      // Rows up to these were made before the chain; the walk expects the ones after. (The
      // body is hashed: a genesis claiming more rows than it did fails its own check.)
      const before = parseBody<Partial<GenesisBody>>(first.body).before;
      this.#lastRef.ledger = this.#report.before.ledger = count(before?.ledger);
      this.#lastRef.zone_corrections = this.#report.before.zoneCorrections = count(before?.zoneCorrections);
      return;
    }
    const checkpoints = this.#db.prepare<[], { seq: number; body: string | null }>("SELECT seq, body FROM chain WHERE kind = 'checkpoint' ORDER BY seq DESC");
    for (const c of checkpoints.iterate()) {
      const { cut } = parseBody<CutBody>(c.body);
      if (cut?.toSeq === first.seq - 1 && cut.lastHash === hex(first.prev_hash)) {
        this.#report.cutBy = c.seq;
        this.#prevSeq = first.seq - 1;
        this.#prevHash = first.prev_hash;
        this.#lastRef.ledger = count(cut.ledger);
        this.#lastRef.zone_corrections = count(cut.zoneCorrections);
        return;
      }
    }
    // A cut in progress: the job deletes the rows a checkpoint states oldest first, in
    // batches. The rows left of it still link to each other, and the last one must have
    // the hash the checkpoint states.
    for (const c of checkpoints.iterate()) {
      const { cut } = parseBody<CutBody>(c.body);
      const from = count(cut?.fromSeq);
      const to = count(cut?.toSeq);
      if (from > 0 && from <= first.seq && first.seq <= to && typeof cut?.lastHash === 'string') {
        this.#report.cutBy = c.seq;
        this.#prevSeq = first.seq - 1;
        this.#prevHash = first.prev_hash;
        this.#pendingCut = { checkpoint: c.seq, toSeq: to, lastHash: cut.lastHash };
        // Rows below the first one still chained are cut (or about to be), up to what the cut states.
        // The kind in the SQL text, not bound: only then can SQLite use the partial index of zone corrections.
        const firstRef = (kind: 'ledger' | 'zone-correction'): number | undefined =>
          this.#db.prepare<[number], { ref: number | null }>(`SELECT ref FROM chain WHERE kind = '${kind}' AND seq >= ? ORDER BY seq LIMIT 1`).get(first.seq)?.ref ?? undefined;
        const ledgerRef = firstRef('ledger');
        const zoneRef = firstRef('zone-correction');
        this.#lastRef.ledger = ledgerRef === undefined ? count(cut.ledger) : Math.min(ledgerRef - 1, count(cut.ledger));
        this.#lastRef.zone_corrections = zoneRef === undefined ? count(cut.zoneCorrections) : Math.min(zoneRef - 1, count(cut.zoneCorrections));
        return;
      }
    }
    this.#fail('deleted', 'chain', 1, first.seq, `${span('chain', 1, first.seq - 1)} are gone and no checkpoint row states that they were cut`);
  }

  #check(r: Joined): void {
    if (r.seq !== this.#prevSeq + 1) {
      this.#fail('deleted', 'chain', this.#prevSeq + 1, r.seq, `${span('chain', this.#prevSeq + 1, r.seq - 1)} ${r.seq - 1 > this.#prevSeq + 1 ? 'are' : 'is'} gone`);
    }
    if (!(CHAIN_KINDS as readonly string[]).includes(r.kind)) this.#fail('edited', 'chain', r.seq, r.seq, `chain row ${r.seq} has an unknown kind ${JSON.stringify(r.kind)}`);
    const place = TABLE_OF[r.kind as ChainKind];
    let content: Buffer;
    if (place === undefined) {
      content = bodyContent(r.body);
      if (r.kind === 'checkpoint') this.#checkSignature(r);
    } else {
      const row = this.#row(r, place);
      content = place.table === 'ledger' ? this.#ledgerContent(r, row) : zoneCorrectionContent(row);
    }
    if (!r.prev_hash.equals(this.#prevHash)) {
      // Slipped in: the row after it still links to the row before it.
      const next = this.#chainRow(r.seq + 1);
      if (next?.prev_hash.equals(this.#prevHash)) this.#fail('inserted', 'chain', r.seq, r.seq, `chain row ${r.seq} does not link to chain row ${this.#prevSeq} but the row after it does: it was slipped in`);
      this.#fail('edited', 'chain', r.seq, r.seq, `chain row ${r.seq} no longer links to chain row ${this.#prevSeq} (its previous hash differs)`);
    }
    const computed = linkHash({ seq: r.seq, kind: r.kind, ref: r.ref, at: r.at, prev: r.prev_hash, content });
    if (!computed.equals(r.hash)) this.#mismatch(r, place, content, computed);
    const pending = this.#pendingCut;
    if (pending !== null && r.seq === pending.toSeq && hex(r.hash) !== pending.lastHash) {
      this.#fail('edited', 'chain', r.seq, r.seq, `chain row ${r.seq} is not the row the checkpoint at chain row ${pending.checkpoint} says its cut ends with (its hash differs)`);
    }

    this.#prevSeq = r.seq;
    this.#prevHash = r.hash;
    if (place !== undefined && r.ref !== null) this.#lastRef[place.table] = r.ref;
    const rec = this.#report.records;
    if (r.kind === 'ledger') rec.ledger += 1;
    else if (r.kind === 'zone-correction') rec.zoneCorrections += 1;
    else if (r.kind === 'update') rec.updates += 1;
    else rec.other += 1;
    this.#report.verified += 1;
  }

  /** The row a ledger or zone-correction chain row points at, in order and present. */
  #row(r: Joined, place: NonNullable<(typeof TABLE_OF)[ChainKind]>): Columns {
    const { table } = place;
    if (r.ref === null) this.#fail('edited', 'chain', r.seq, r.seq, `chain row ${r.seq} (${r.kind}) names no row`);
    const last = this.#lastRef[table];
    if (r.ref <= last) this.#fail('reordered', table, r.ref, r.seq, `${label(table, r.ref)} is chained after ${label(table, last)} (chain row ${r.seq}): rows out of order`);
    if (r.ref > last + 1) {
      const extra = this.#firstAfter(table, last, r.ref);
      if (extra !== undefined) this.#fail('inserted', table, extra, r.seq, `${label(table, extra)} is in no chain row: it was added outside the gateway`);
      this.#fail('deleted', table, last + 1, r.seq, `${span(table, last + 1, r.ref - 1)} ${r.ref - 1 > last + 1 ? 'are' : 'is'} gone, with ${r.ref - 1 > last + 1 ? 'their chain rows' : 'its chain row'}`);
    }
    if (r[`${place.prefix}${place.key}`] === null) this.#fail('deleted', table, r.ref, r.seq, `${label(table, r.ref)} is gone; chain row ${r.seq} records it`);
    const row: Record<string, unknown> = {};
    for (const c of place.columns) row[c] = r[`${place.prefix}${c}`];
    return row as Columns;
  }

  /** Checks each personal group against its commitment; the content hash of the row. */
  #ledgerContent(r: Joined, row: Columns): Buffer {
    for (const g of PERSONAL_GROUP_NAMES) {
      const salt = row[`${g}_salt`];
      if (Buffer.isBuffer(salt)) {
        const commit = row[`${g}_commit`];
        if (!Buffer.isBuffer(commit) || !commitment(salt, g, row).equals(commit)) {
          this.#fail('edited', 'ledger', r.ref ?? 0, r.seq, `ledger seq ${r.ref}: its ${g} fields (${PERSONAL_GROUPS[g].join(', ')}) no longer match their commitment`);
        }
        continue;
      }
      const present = PERSONAL_GROUPS[g].find((c) => (row[c] ?? null) !== null);
      if (present !== undefined) this.#fail('edited', 'ledger', r.ref ?? 0, r.seq, `ledger seq ${r.ref}: ${present} has a value but its ${g} salt is gone, so no commitment covers it`);
      if (Buffer.isBuffer(row[`${g}_commit`])) this.#report.erased[g] += 1;
    }
    return ledgerContent(row);
  }

  /** A signed checkpoint (retention.ts) must verify under the gateway key it names. */
  #checkSignature(r: Joined): void {
    const { sig, ...signed } = parseBody<{ sig?: unknown; key?: { publicKey?: unknown } }>(r.body);
    if (sig === undefined) return;
    const key = signed.key?.publicKey;
    if (typeof sig !== 'string' || typeof key !== 'string' || !verifyGatewaySignature(key, canonicalJson(signed), sig)) {
      this.#fail('edited', 'chain', r.seq, r.seq, `chain row ${r.seq}: the checkpoint's signature does not verify under the gateway key it names`);
    }
  }

  /** The row's hash is not what its content gives: moved here from elsewhere, edited, or the hash itself changed. */
  #mismatch(r: Joined, place: (typeof TABLE_OF)[ChainKind], content: Buffer, computed: Buffer): never {
    const next = this.#chainRow(r.seq + 1);
    if (next?.prev_hash.equals(computed)) this.#fail('edited', 'chain', r.seq, r.seq, `chain row ${r.seq}: its hash was changed (the row it records and the next link still agree)`);
    if (place === undefined || r.ref === null) this.#fail('edited', 'chain', r.seq, r.seq, `chain row ${r.seq} (${r.kind}) no longer matches its hash`);
    const ahead = this.#db
      .prepare<[number, string, number], ChainRow>('SELECT seq, kind, ref, at, body, prev_hash, hash FROM chain WHERE seq > ? AND kind = ? ORDER BY seq LIMIT ?')
      .all(r.seq, r.kind, REORDER_WINDOW);
    const moved = ahead.find((a) => linkHash({ seq: a.seq, kind: a.kind, ref: a.ref, at: a.at, prev: a.prev_hash, content }).equals(a.hash));
    if (moved !== undefined && moved.ref !== null) {
      this.#fail('reordered', place.table, r.ref, r.seq, `${label(place.table, r.ref)} holds the row the chain records as ${label(place.table, moved.ref)}: rows out of order`);
    }
    this.#fail('edited', place.table, r.ref, r.seq, `${label(place.table, r.ref)} no longer matches the hash chain row ${r.seq} recorded for it`);
  }

  #chainRow(seq: number): ChainRow | undefined {
    return this.#db.prepare<[number], ChainRow>('SELECT seq, kind, ref, at, body, prev_hash, hash FROM chain WHERE seq = ?').get(seq);
  }

  /** The first row of `table` with key > after (and < before). */
  #firstAfter(table: 'ledger' | 'zone_corrections', after: number, before = Number.MAX_SAFE_INTEGER): number | undefined {
    const key = table === 'ledger' ? 'seq' : 'id';
    return this.#db.prepare<[number, number], { k: number | null }>(`SELECT min(${key}) AS k FROM ${table} WHERE ${key} > ? AND ${key} < ?`).get(after, before)?.k ?? undefined;
  }
}
