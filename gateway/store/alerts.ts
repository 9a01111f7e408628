// The guard console's alerts (store schema 2): stored with their outbox row, listed,
// acknowledged once by a guard. Only the acknowledgement of an alert may change.
import type Database from 'better-sqlite3';
import { StoreError } from './errors.js';
import type { OutboxRoom } from './outbox.js';
import { DEFAULT_QUERY_LIMIT, checkLimit, invalidQuery, isUniqueViolation } from './sql.js';
import type { AlertQuery, AlertRecord, OutboxMessage, StoredAlert } from './types.js';
import { checkAlertRecord } from './validate.js';

interface AlertDbRow {
  id: string;
  at: number;
  lane: string | null;
  kind: string;
  severity: AlertRecord['severity'];
  code: string;
  event_id: string | null;
  detail: string | null;
  acked_by: string | null;
  acked_at: number | null;
}

interface AlertStatements {
  ack: Database.Statement<[string, number, string]>;
  unacked: Database.Statement<[], { n: number }>;
  append: (alert: AlertRecord, toOutbox: (a: AlertRecord) => OutboxMessage | null) => void;
}

const ALERT_COLUMNS = 'id, at, lane, kind, severity, code, event_id, detail, acked_by, acked_at';

export class AlertRoom {
  readonly #db: Database.Database;
  readonly #file: string;
  readonly #outbox: OutboxRoom;
  // Prepared on first use: a store opened with an older migration list (tests of
  // upgrades) has no alerts table and must still open.
  #stmts: AlertStatements | null = null;
  readonly #queries = new Map<string, Database.Statement<[Record<string, unknown>], AlertDbRow>>();

  constructor(db: Database.Database, file: string, outbox: OutboxRoom) {
    this.#db = db;
    this.#file = file;
    this.#outbox = outbox;
  }

  #statements(): AlertStatements {
    if (this.#stmts) return this.#stmts;
    const insert = this.#db.prepare<[Record<string, unknown>]>(
      `INSERT INTO alerts (id, at, lane, kind, severity, code, event_id, detail)
       VALUES (@id, @at, @lane, @kind, @severity, @code, @eventId, @detail)`,
    );
    const file = this.#file;
    this.#stmts = {
      ack: this.#db.prepare('UPDATE alerts SET acked_by = ?, acked_at = ? WHERE id = ? AND acked_at IS NULL'),
      // What a guard has to look at: one per passage (a decision's alerts share its event id)
      // or per alert of no passage; info alerts (a device back) need no acknowledgement.
      unacked: this.#db.prepare("SELECT count(DISTINCT coalesce(event_id, id)) AS n FROM alerts WHERE acked_at IS NULL AND severity <> 'info'"),
      append: this.#db.transaction((alert: AlertRecord, toOutbox: (a: AlertRecord) => OutboxMessage | null) => {
        try {
          insert.run({
            id: alert.id,
            at: alert.at,
            lane: alert.lane,
            kind: alert.kind,
            severity: alert.severity,
            code: alert.code,
            eventId: alert.eventId,
            detail: alert.detail,
          });
        } catch (err) {
          if (isUniqueViolation(err, 'alerts.id')) {
            throw new StoreError('STORE_DUPLICATE_EVENT', `alert ${JSON.stringify(alert.id)} is already stored in ${file}; nothing written`, { file, id: alert.id }, err);
          }
          throw err;
        }
        const msg = toOutbox(alert);
        if (msg !== null) this.#outbox.insert(msg, alert.id);
      }),
    };
    return this.#stmts;
  }

  append(alert: AlertRecord, toOutbox: (a: AlertRecord) => OutboxMessage | null): void {
    checkAlertRecord(alert);
    this.#statements().append(alert, toOutbox);
  }

  query(q: AlertQuery): StoredAlert[] {
    if (typeof q !== 'object' || q === null) throw invalidQuery('alert query', q, 'an object');
    const params: Record<string, unknown> = { limit: checkLimit(q.limit ?? DEFAULT_QUERY_LIMIT, q.limit) };
    const where: string[] = [];
    for (const k of ['from', 'to'] as const) {
      const v = q[k];
      if (v === undefined) continue;
      if (typeof v !== 'number' || !Number.isFinite(v)) throw invalidQuery(k, v, 'epoch milliseconds (a finite number)');
      params[k] = v;
      where.push(k === 'from' ? 'at >= @from' : 'at < @to');
    }
    if (q.lane !== undefined) {
      if (typeof q.lane !== 'string' || q.lane.length === 0) throw invalidQuery('lane', q.lane, 'a non-empty lane id');
      params.lane = q.lane;
      where.push('lane = @lane');
    }
    if (q.unackedOnly === true) where.push('acked_at IS NULL');
    if (q.open === true) where.push("acked_at IS NULL AND severity <> 'info'");
    const sql = `SELECT ${ALERT_COLUMNS} FROM alerts` + (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') + ' ORDER BY seq DESC LIMIT @limit';
    let stmt = this.#queries.get(sql);
    if (stmt === undefined) {
      stmt = this.#db.prepare(sql);
      this.#queries.set(sql, stmt);
    }
    return stmt.all(params).map((r) => ({
      id: r.id,
      at: r.at,
      lane: r.lane,
      kind: r.kind,
      severity: r.severity,
      code: r.code,
      eventId: r.event_id,
      detail: r.detail,
      ackedBy: r.acked_by,
      ackedAt: r.acked_at,
    }));
  }

  ack(id: string, guardId: string, at: number): boolean {
    if (typeof guardId !== 'string' || guardId.trim() === '' || !Number.isFinite(at)) {
      throw new StoreError('STORE_INVALID_ROW', 'alert acknowledgement refused: expected a non-empty guard id and epoch ms', { id });
    }
    return this.#statements().ack.run(guardId, at, id).changes === 1;
  }

  unackedCount(): number {
    return this.#statements().unacked.get()?.n ?? 0;
  }
}
