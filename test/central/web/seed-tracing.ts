// A contact-tracing fixture written through the real writer (classify + writeBatch), with
// pseudonyms made by the site's key as a gateway makes them, and office_roster rows put in
// directly (the roster import is another page's). Person P (E1001) passes gate-1/in-1 at
// t and gate-2/in-1 at t + 2 h. Around the first passage: Q (E1002) on the same lane at
// t + 3 min and again at t + 4 min; R (E1003) on lane in-2 at t + 1 min; S (E2001, not
// in the roster) on P's lane at t − 10 min; T (E1004) at gate-3/in-1 at t; a passage
// without a subject on P's lane at t + 1 min; and someone at another site's gate-1/in-1
// at t + 1 min. Around the second: U (E1005, whose roster name would be a spreadsheet
// formula) at t + 2 h + 1 min. P also passed two days before t.
import { classify } from '../../../central/classify.js';
import type { Db } from '../../../central/db/adapter.js';
import { Partitions } from '../../../central/db/partitions.js';
import { loadValidators } from '../../../central/schemas.js';
import { SiteKeys } from '../../../central/sites.js';
import { monthsOf, writeBatch } from '../../../central/writer.js';
import { eventPayload } from '../helpers.js';

export const TRACE_SITE = 'mine-a';
export const OTHER_SITE = 'mine-b';
/** 32 bytes as hex, as in a site's pseudonymSecretFile. */
export const TRACE_SECRET_HEX = '5a'.repeat(32);
const OTHER_SECRET_HEX = '6b'.repeat(32);
const PREFIX = 'checkpoints';
const MIN = 60_000;

export const ROSTER = [
  { staffId: 'E1001', name: '王伟', department: '采掘一队' },
  { staffId: 'E1002', name: '李娜', department: '机电科' },
  { staffId: 'E1003', name: '张强', department: '运输队' },
  { staffId: 'E1004', name: '刘洋', department: '通风科' },
  { staffId: 'E1005', name: '=HYPERLINK("http://evil.example","x")', department: '+运输队' },
] as const;

export function traceKeys(): SiteKeys {
  const keys = new SiteKeys();
  keys.add(TRACE_SITE, Buffer.from(TRACE_SECRET_HEX, 'hex'), '一号矿区');
  keys.add(OTHER_SITE, Buffer.from(OTHER_SECRET_HEX, 'hex'));
  return keys;
}

/** Writes the fixture around `t` (epoch ms); returns the pseudonym of each staff id at TRACE_SITE. */
export async function seedTracing(db: Db, t: number): Promise<Record<string, string>> {
  const keys = traceKeys();
  const p = (staffId: string): string => keys.pseudonymOf(TRACE_SITE, staffId)!;
  const validators = loadValidators();
  const partitions = new Partitions(db);
  const seqs = new Map<string, number>();
  const pass = (site: string, checkpoint: string, lane: string, at: number, subject: string | null): [string, unknown] => {
    const key = `${site}/${checkpoint}`;
    const seq = (seqs.get(key) ?? 0) + 1;
    seqs.set(key, seq);
    const e = eventPayload({ site, checkpoint }, seq, { at: new Date(at).toISOString(), lane, subject, outcome: 'admit', reasons: [], alerts: [], temperature: 36.5 });
    return [`${PREFIX}/${site}/${checkpoint}/events`, e];
  };
  const messages = [
    pass(TRACE_SITE, 'gate-1', 'in-1', t - 2 * 1440 * MIN, p('E1001')),
    pass(TRACE_SITE, 'gate-1', 'in-1', t - 10 * MIN, p('E2001')),
    pass(TRACE_SITE, 'gate-1', 'in-1', t, p('E1001')),
    pass(TRACE_SITE, 'gate-1', 'in-2', t + 1 * MIN, p('E1003')),
    pass(TRACE_SITE, 'gate-1', 'in-1', t + 1 * MIN, null),
    pass(TRACE_SITE, 'gate-1', 'in-1', t + 3 * MIN, p('E1002')),
    pass(TRACE_SITE, 'gate-1', 'in-1', t + 4 * MIN, p('E1002')),
    pass(TRACE_SITE, 'gate-3', 'in-1', t, p('E1004')),
    pass(OTHER_SITE, 'gate-1', 'in-1', t + 1 * MIN, keys.pseudonymOf(OTHER_SITE, 'E9001')),
    pass(TRACE_SITE, 'gate-2', 'in-1', t + 120 * MIN, p('E1001')),
    pass(TRACE_SITE, 'gate-2', 'in-1', t + 121 * MIN, p('E1005')),
  ];
  const items = messages.map(([topic, body]) => classify(topic, Buffer.from(JSON.stringify(body)), PREFIX, validators));
  for (const it of items) if (it.type === 'rejected') throw new Error(`seed message rejected: ${it.reason}`);
  await partitions.ensure(monthsOf(items, t));
  await db.transaction((tx) => writeBatch(tx, items, t + 130 * MIN));
  for (const r of ROSTER) {
    await db.query(
      `INSERT INTO office_roster (site, staff_id, name, category, department, team, active, pseudonym, entry, updated_at, updated_by)
       VALUES ($1, $2, $3, 'employee', $4, NULL, true, $5, '{}'::jsonb, $6, 'test')`,
      [TRACE_SITE, r.staffId, r.name, r.department, p(r.staffId), new Date(t).toISOString()],
    );
  }
  return Object.fromEntries(['E1001', 'E1002', 'E1003', 'E1004', 'E1005', 'E2001'].map((id) => [id, p(id)]));
}
