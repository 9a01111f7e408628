// The contact-tracing query and its record, on PostgreSQL and PGlite, over events written
// by the real writer: who counts as a contact (same site, checkpoint and lane, within ±N
// minutes), how contacts map back to the roster, that every query is recorded with its
// row counts by the statement that answers it, and that the record cannot be changed.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { meaningfulReason, recordedTrace, traceLog, windowProblem, type TraceAsker, type TraceRequest } from '../../../central/console/tracing.js';
import { Cleanup } from '../../gateway/telemetry/helpers.js';
import { ENGINES, testDb, type TestDb } from '../helpers.js';
import { seedTracing, TRACE_SITE } from '../web/seed-tracing.js';

const T = Date.parse('2026-12-04T08:00:00Z');
const MIN = 60_000;
const DAY = 86_400_000;

describe('meaningfulReason and windowProblem', () => {
  it('takes a reason of at least four letters or digits in any script, trimmed, and refuses blanks and punctuation', () => {
    expect(meaningfulReason('  发热病例密接  ')).toBe('发热病例密接');
    expect(meaningfulReason('case  12\n')).toBe('case 12');
    for (const bad of [undefined, null, 42, '', '   ', '....', '发热', 'a b', 'x'.repeat(501)]) expect(meaningfulReason(bad), String(bad)).toBeNull();
  });

  it('bounds the window to 31 days and ±N to 1-120 minutes', () => {
    expect(windowProblem(T, T + 31 * DAY, 120)).toBeNull();
    expect(windowProblem(T, T + 31 * DAY + 1, 15)).toContain('at most 31 days');
    expect(windowProblem(T, T, 15)).toContain('after from');
    expect(windowProblem(T, T + DAY, 0)).toContain('1-120');
    expect(windowProblem(T, T + DAY, 121)).toContain('1-120');
  });
});

for (const engine of ENGINES) {
  describe(`contact tracing on ${engine}`, () => {
    let cleanup: Cleanup;
    let t: TestDb;
    let p: Record<string, string>;
    const asker = (o: Partial<TraceAsker> = {}): TraceAsker => ({ at: T + DAY, officerId: 'wang.li', role: 'duty-leader', client: '127.0.0.1', reason: '发热病例 E1001 密接排查', export: false, ...o });
    const request = (minutes: number, o: Partial<TraceRequest> = {}): TraceRequest => ({ site: TRACE_SITE, staffId: 'E1001', subject: p['E1001']!, from: T - DAY, to: T + DAY, minutes, ...o });

    beforeEach(async () => {
      cleanup = new Cleanup();
      t = await testDb(cleanup, engine);
      p = await seedTracing(t.db, T);
    });
    afterEach(() => cleanup.run());

    it('finds a passer-by 3 min later on the same lane with ±5 min, not one on another lane, checkpoint or site, nor a passage without a person', async () => {
      const r = await recordedTrace(t.db, request(5), asker());
      expect(r.passages.map((x) => `${x.at} ${x.checkpoint}/${x.lane} ${x.outcome}`)).toEqual([
        '2026-12-04T08:00:00.000Z gate-1/in-1 admit',
        '2026-12-04T10:00:00.000Z gate-2/in-1 admit',
      ]);
      // Q passed twice (3 and 4 min after): one contact, at the nearer passage.
      expect(r.passages[0]!.contacts).toEqual([
        { subject: p['E1002'], staffId: 'E1002', name: '李娜', department: '机电科', at: '2026-12-04T08:03:00.000Z', offsetS: 180 },
      ]);
      expect(r.passages[1]!.contacts.map((c) => [c.staffId, c.offsetS])).toEqual([['E1005', 60]]);
      expect(r.counts).toEqual({ passages: 2, contacts: 2, people: 2 });
      expect(r.truncated).toBe(false);
    });

    it('does not count the passer-by 3 min later as a contact with ±2 min', async () => {
      const r = await recordedTrace(t.db, request(2), asker());
      expect(r.passages[0]!.contacts).toEqual([]);
      expect(r.passages[1]!.contacts.map((c) => c.staffId)).toEqual(['E1005']);
      expect(r.counts).toEqual({ passages: 2, contacts: 1, people: 1 });
    });

    it('shows a contact who is not in the office roster by pseudonym, with a negative offset for one who passed before', async () => {
      const r = await recordedTrace(t.db, request(15), asker());
      expect(r.passages[0]!.contacts).toEqual([
        { subject: p['E2001'], staffId: null, name: null, department: null, at: '2026-12-04T07:50:00.000Z', offsetS: -600 },
        { subject: p['E1002'], staffId: 'E1002', name: '李娜', department: '机电科', at: '2026-12-04T08:03:00.000Z', offsetS: 180 },
      ]);
    });

    it('keeps to the window: a passage two days before it is not shown, a window around it shows only it', async () => {
      const r = await recordedTrace(t.db, request(5, { from: T - 3 * DAY, to: T - DAY }), asker());
      expect(r.passages.map((x) => x.at)).toEqual(['2026-12-02T08:00:00.000Z']);
      expect(r.counts).toEqual({ passages: 1, contacts: 0, people: 0 });
    });

    it('records each query with who, when, why, what and the row counts it returned, newest first, even when it found nothing', async () => {
      const first = await recordedTrace(t.db, request(5), asker());
      const second = await recordedTrace(t.db, request(2, { staffId: 'E7777', subject: 'p1_nobodynobodynobody00' }), asker({ at: T + DAY + MIN, officerId: 'admin.1', role: 'admin', reason: 'export for the CDC', export: true }));
      expect(second.counts).toEqual({ passages: 0, contacts: 0, people: 0 });
      const log = await traceLog(t.db);
      expect(log.map((e) => e.id)).toEqual([second.id, first.id]);
      expect(log[1]).toEqual({
        id: first.id, at: new Date(T + DAY).toISOString(), officerId: 'wang.li', officerName: null, role: 'duty-leader', client: '127.0.0.1',
        reason: '发热病例 E1001 密接排查', export: false, site: TRACE_SITE, staffId: 'E1001',
        from: new Date(T - DAY).toISOString(), to: new Date(T + DAY).toISOString(), minutes: 5,
        passages: 2, contacts: 2, people: 2, truncated: false,
      });
      expect(log[0]).toMatchObject({ officerId: 'admin.1', role: 'admin', export: true, staffId: 'E7777', minutes: 2, passages: 0 });
      // Paging: the page after the newest entry holds the older one.
      expect((await traceLog(t.db, { limit: 1 })).map((e) => e.id)).toEqual([second.id]);
      expect((await traceLog(t.db, { limit: 1, before: second.id })).map((e) => e.id)).toEqual([first.id]);
    });

    it('refuses UPDATE, DELETE and TRUNCATE of the record in SQL, and the rows stay as written', async () => {
      const r = await recordedTrace(t.db, request(5), asker());
      await expect(t.db.query(`UPDATE trace_queries SET reason = 'nothing to see' WHERE id = $1`, [r.id])).rejects.toThrow(/append-only: UPDATE refused/);
      await expect(t.db.query('DELETE FROM trace_queries WHERE id = $1', [r.id])).rejects.toThrow(/append-only: DELETE refused/);
      await expect(t.db.query('DELETE FROM trace_queries')).rejects.toThrow(/append-only/);
      await expect(t.db.exec('TRUNCATE trace_queries')).rejects.toThrow(/append-only: TRUNCATE refused/);
      const log = await traceLog(t.db);
      expect(log.map((e) => [e.id, e.reason])).toEqual([[r.id, '发热病例 E1001 密接排查']]);
    });
  });
}
