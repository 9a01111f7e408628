// Fills an office database through the real writer (classify + writeBatch): two
// checkpoints (gate-1 online and out of date on policy, gate-2 offline), a folded group
// of three critical fever alerts at gate-1 and one device warning at gate-2.
import { classify } from '../../../central/classify.js';
import { recordPublication } from '../../../central/console/published.js';
import type { Db } from '../../../central/db/adapter.js';
import { Partitions } from '../../../central/db/partitions.js';
import { loadValidators } from '../../../central/schemas.js';
import { monthsOf, writeBatch } from '../../../central/writer.js';
import { alertPayload, eventPayload } from '../helpers.js';

export const SEED_SITE = 'mine-a';
const PREFIX = 'checkpoints';
const MIN = 60_000;
const iso = (ms: number): string => new Date(ms).toISOString();

const birth = (session: number, at: number, updates: Record<string, number>) => ({
  v: 1, state: 'online', session, at: iso(at), version: '0.3.1', configHash: `sha256:${'c'.repeat(32)}`,
  lanes: [{ id: 'in-1', state: 'idle', devices: { scanner: { type: 'sim', state: 'connected' }, relay: { type: 'sim', state: 'disconnected' } } }],
  updates,
});

/** Writes the fixture with alerts and events between t0 and t0 + 10 min; returns the fever group's ids. */
export async function seedConsole(db: Db, t0: number): Promise<{ feverIds: string[]; deviceId: string }> {
  const validators = loadValidators();
  const partitions = new Partitions(db);
  const now = t0 + 10 * MIN;
  const commit = async (checkpoint: string, messages: [string, unknown][]): Promise<void> => {
    const items = messages.map(([channel, body]) => classify(`${PREFIX}/${SEED_SITE}/${checkpoint}/${channel}`, Buffer.from(JSON.stringify(body)), PREFIX, validators));
    for (const it of items) if (it.type === 'rejected') throw new Error(`seed message rejected: ${it.reason}`);
    await partitions.ensure(monthsOf(items, now));
    await db.transaction((tx) => writeBatch(tx, items, now));
  };
  const alert = (checkpoint: string, at: number, o: Record<string, unknown> = {}) => alertPayload({ site: SEED_SITE, checkpoint }, null, { at: iso(at), ...o });
  await commit('gate-1', [['status', birth(3, t0, { watchlist: 42, policy: 3 })]]);
  await commit('gate-1', [['stats', { v: 1, at: iso(t0 + 5 * MIN), site: SEED_SITE, checkpoint: 'gate-1', since: iso(t0), lanes: {}, outboxDepth: 7, unackedAlerts: 0 }]]);
  await commit('gate-1', [['events', { ...eventPayload({ site: SEED_SITE, checkpoint: 'gate-1' }, 1), at: iso(t0 + 6 * MIN) }]]);
  await commit('gate-2', [['status', birth(5, t0 - 30 * MIN, { watchlist: 42, policy: 4 })]]);
  await commit('gate-2', [['status', { v: 1, state: 'offline', session: 5, cause: 'lost' }]]);
  const fever = [alert('gate-1', t0 + 1 * MIN), alert('gate-1', t0 + 2 * MIN), alert('gate-1', t0 + 3 * MIN)];
  const device = alert('gate-2', t0 + 4 * MIN, { kind: 'device-down', severity: 'warning', code: 'DEVICE_DOWN', detail: 'relay disconnected' });
  await commit('gate-1', fever.map((a) => ['alerts', a] as [string, unknown]));
  await commit('gate-2', [['alerts', device]]);
  await recordPublication(db, { site: SEED_SITE, target: 'all', kind: 'policy', version: 4, at: t0 });
  return { feverIds: fever.map((a) => String(a.id)), deviceId: String(device.id) };
}
