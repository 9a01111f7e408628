// A fast filler of a real gateway ledger for benches: `rows` realistic decision rows (a
// name, the evaluated facts, a temperature; a plate on some) each with its valid chain row,
// written by SQL on a second connection in transactions of 10 000 with the fsync off,
// instead of appendDecision's ~110 µs a row — 1 M rows in well under a minute. `ledger
// verify` passes on the result. One salt per group is reused for every row (each row's
// commitment is still SHA-256(salt ‖ its fields)), so only the content and link hashes are
// computed per row. Reusable by other benches (ledger growth, retention).
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ZERO_HASH, commitment, ledgerContent, linkHash, type Columns } from '../gateway/store/chain.js';
import { DATABASE_FILE, openStore } from '../gateway/store/index.js';

export interface LedgerFillOptions {
  /** Rows to add. */
  rows: number;
  /** Epoch ms of the first row. */
  from: number;
  /** Time between rows, ms. */
  stepMs: number;
  /** Event ids are `${idPrefix}-${i}`; default "fill". */
  idPrefix?: string;
}

const FACTS = JSON.stringify({
  v: 1,
  now: 1_764_800_000_000,
  credential: { ok: true, kind: 'health-pass', category: 'employee', health: { healthCode: 'green', test: { result: 'negative', sampledAt: '2026-12-04T08:00:00+08:00' }, travel: { riskLevel: 'none', visits: [], asOf: '2026-12-04T07:00:00+08:00' } } },
  readings: [{ celsius: 36.5, at: 1_764_800_000_000 }],
  watchlist: [],
  approvals: [],
  riskAreas: [],
});

/**
 * Appends `rows` chained ledger rows to the gateway ledger in `dataDir` (created and
 * migrated when missing); returns the time taken. The gateway must not be running on it.
 */
export function fillLedger(dataDir: string, o: LedgerFillOptions): { ms: number } {
  openStore(dataDir, { now: () => o.from - 1 }).close(); // create and migrate; a new ledger's genesis comes just before its first row
  const db = new Database(join(dataDir, DATABASE_FILE));
  const t = performance.now();
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    const insertLedger = db.prepare(
      `INSERT INTO ledger (seq, id, at, lane, kind, outcome, reasons, alerts, credential, subject_ref, subject_name, category, temperature,
         profile, profile_hash, facts, plate, goods, person_salt, person_commit, health_salt, health_commit)
       VALUES (@seq, @id, @at, @lane, @kind, @outcome, @reasons, @alerts, @credential, @subject_ref, @subject_name, @category, @temperature,
         @profile, @profile_hash, @facts, @plate, @goods, @person_salt, @person_commit, @health_salt, @health_commit)`,
    );
    const insertChain = db.prepare('INSERT INTO chain (seq, kind, ref, at, body, prev_hash, hash) VALUES (?, ?, ?, ?, NULL, ?, ?)');
    const head = db.prepare<[], { seq: number; hash: Buffer }>('SELECT seq, hash FROM chain ORDER BY seq DESC LIMIT 1').get();
    let chainSeq = head?.seq ?? 0;
    let prev = head?.hash ?? ZERO_HASH;
    let ledgerSeq = (db.prepare<[], { n: number | null }>('SELECT max(seq) AS n FROM ledger').get()?.n ?? 0) + 0;
    // Every row's groups hold one of two shapes (with or without a plate): commit to each once.
    const personSalt = randomBytes(16);
    const healthSalt = randomBytes(16);
    const shapes = [false, true].map((plated) => {
      const personal: Columns = { subject_name: '工人', note: null, approver: null, approval_key: null, responsible: null, plate: plated ? '晋A12345' : null, temperature: 36.5, facts: FACTS };
      return { plate: plated ? '晋A12345' : null, person: commitment(personSalt, 'person', personal), health: commitment(healthSalt, 'health', personal) };
    });
    const prefix = o.idPrefix ?? 'fill';
    const write = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const shape = shapes[i % 20 === 0 ? 1 : 0]!;
        ledgerSeq += 1;
        const at = o.from + i * o.stepMs;
        const row: Record<string, string | number | Buffer | null> = {
          seq: ledgerSeq,
          id: `${prefix}-${i}`,
          at,
          lane: 'in-1',
          kind: 'decision',
          outcome: 'admit',
          reasons: '[]',
          alerts: '[]',
          credential: 'health-pass',
          subject_ref: `p1_${String(i % 3000).padStart(22, 'A')}`,
          subject_name: '工人',
          category: 'employee',
          temperature: 36.5,
          actor: null,
          note: null,
          profile: 'mine-entrance',
          profile_hash: 'a'.repeat(64),
          facts: FACTS,
          approver: null,
          approval_key: null,
          responsible: null,
          crew_id: null,
          plate: shape.plate,
          goods: shape.plate === null ? null : 'coal',
          person_salt: personSalt,
          person_commit: shape.person,
          health_salt: healthSalt,
          health_commit: shape.health,
        };
        const { actor: _a, note: _n, approver: _p, approval_key: _k, responsible: _r, crew_id: _c, ...bound } = row;
        insertLedger.run(bound);
        chainSeq += 1;
        const hash = linkHash({ seq: chainSeq, kind: 'ledger', ref: ledgerSeq, at, prev, content: ledgerContent(row) });
        insertChain.run(chainSeq, 'ledger', ledgerSeq, at, prev, hash);
        prev = hash;
      }
    });
    for (let from = 0; from < o.rows; from += 10_000) write(from, Math.min(o.rows, from + 10_000));
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  return { ms: performance.now() - t };
}
