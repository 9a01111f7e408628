// The two scenarios every engine must pass, with the gateway and the office unchanged
// except for the broker URL, protocol version and credentials:
// - outage: the gateway's link is down while it takes 1 000 decisions; once it is back,
//   each decision arrives exactly once in the office database, in seq order;
// - kill: the office is killed -9 while it drains that backlog and started again; still
//   every decision once (the broker kept what was not acknowledged after a commit).
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { RunningGateway } from '../../../gateway/gateway.js';
import { type Cleanup, tempDir, waitFor } from '../../gateway/telemetry/helpers.js';
import { readMetrics } from '../helpers.js';
import { startServiceProcess, type ServiceProcess } from '../process.js';
import {
  countEvents,
  type Engine,
  forgetSession,
  linkRelay,
  type LinkRelay,
  startTestGateway,
  storedEvents,
  takeDecisions,
  officeDatabase,
  writeCentralConfig,
} from './helpers.js';

export const DECISIONS = 1000;

interface Rig {
  gw: RunningGateway;
  relay: LinkRelay;
  pool: import('pg').Pool;
  site: string;
  centralConfig: string;
  central: ServiceProcess;
  /** The ledger's rows, oldest first: what the office must end up with. */
  ledger: { id: string; seq: number }[];
}

/** Office up and subscribed, gateway online, then the link cut and n decisions taken. */
async function backlogWhileLinkDown(cleanup: Cleanup, engine: Engine, opts: { batchMax?: number } = {}): Promise<Rig> {
  const dir = await tempDir(cleanup, 'engine');
  const { url: databaseUrl, pool } = await officeDatabase(cleanup);
  const prefix = `test-${randomUUID()}`;
  const site = `site-${randomUUID().slice(0, 8)}`;
  const clientId = `test-office-${randomUUID().slice(0, 8)}`;
  // Registered first, so it runs after the office process is gone.
  cleanup.add(() => forgetSession(engine, clientId));
  const centralConfig = writeCentralConfig({ engine, dir, databaseUrl, prefix, clientId, ...opts });
  const central = await startServiceProcess(cleanup, centralConfig);
  await waitFor(`office connected to ${engine.name}`, () => central.log.some((l) => l.includes('connected to the broker')), 15_000);

  const relay = await linkRelay(cleanup, engine);
  const gw = await startTestGateway(cleanup, { engine, url: relay.url, prefix, site, dir });
  await waitFor(`gateway connected to ${engine.name}`, () => gw.telemetry.link.status().state === 'connected');
  // The office heard the gateway's birth: its subscriptions are in place on this engine.
  await waitFor('office sees the checkpoint online', async () => {
    const r = await pool.query("SELECT 1 FROM checkpoints WHERE site = $1 AND state = 'online'", [site]).catch(() => ({ rowCount: 0 }));
    return (r.rowCount ?? 0) > 0;
  });

  relay.down();
  await waitFor('gateway link down', () => gw.telemetry.link.status().state !== 'connected');
  await takeDecisions(gw, DECISIONS);
  const ledger = gw.store.queryEvents({ limit: DECISIONS }).reverse().map((r) => ({ id: r.id, seq: r.seq }));
  expect(ledger).toHaveLength(DECISIONS);
  expect(gw.telemetry.link.status().state).not.toBe('connected');
  return { gw, relay, pool, site, centralConfig, central, ledger };
}

export async function outageScenario(cleanup: Cleanup, engine: Engine): Promise<void> {
  const { gw, relay, pool, site, ledger, central } = await backlogWhileLinkDown(cleanup, engine);
  expect(await countEvents(pool, site)).toBe(0);

  relay.up();
  await waitFor(`all ${DECISIONS} decisions in the office database`, async () => (await countEvents(pool, site)) >= DECISIONS, 60_000);
  await waitFor('gateway outbox drained', () => gw.store.outboxDepth() === 0, 30_000);
  const rows = await storedEvents(pool, site);
  expect(rows.map((r) => r.id)).toEqual(ledger.map((r) => r.id)); // each once, nothing else
  expect(rows.map((r) => r.seq)).toEqual(ledger.map((r) => r.seq));
  expect(rows.every((r) => r.historical)).toBe(true);
  // In order: by seq they are the ledger's rows, each once, no gap. Which transaction
  // holds which row is not checked: the office writes two batches at once
  // (ingest.concurrency 2), so a later batch may begin or commit first; what stays in
  // order is the acknowledgement to the broker (test/central/ingest.test.ts).
  await expectNothingAside(pool);
  // A figure, not a check: the engine's in-flight window bounds the office's batches.
  const metrics = await readMetrics(central.url);
  const sum = Number(/^central_batch_size_sum (\d+)/m.exec(metrics)?.[1] ?? NaN);
  const count = Number(/^central_batch_size_count (\d+)/m.exec(metrics)?.[1] ?? NaN);
  process.stderr.write(`[engines] ${engine.name}: ${sum} messages in ${count} commits, ${(sum / count).toFixed(1)} per commit\n`);
}

export async function killScenario(cleanup: Cleanup, engine: Engine): Promise<void> {
  // Small batches: the drain takes many commits, so the kill lands in the middle of it.
  const { relay, pool, site, centralConfig, central, ledger } = await backlogWhileLinkDown(cleanup, engine, { batchMax: 25 });
  relay.up();
  await waitFor('the office draining', async () => (await countEvents(pool, site)) >= 100, 60_000);
  await central.kill9();
  const atKill = await countEvents(pool, site);
  expect(atKill).toBeLessThan(DECISIONS); // really mid-drain

  await startServiceProcess(cleanup, centralConfig);
  await waitFor(`all ${DECISIONS} decisions in the office database after the restart`, async () => (await countEvents(pool, site)) >= DECISIONS, 60_000);
  const rows = await storedEvents(pool, site);
  expect(rows).toHaveLength(DECISIONS);
  expect(new Set(rows.map((r) => r.id))).toEqual(new Set(ledger.map((r) => r.id)));
  const keys = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM event_keys WHERE site = $1', [site]);
  expect(keys.rows[0]?.n).toBe(DECISIONS);
  await expectNothingAside(pool);
}

/** No message refused by the schema check and no integrity conflict. */
async function expectNothingAside(pool: import('pg').Pool): Promise<void> {
  const r = await pool.query<{ rejected: number; conflicts: number }>(
    'SELECT (SELECT count(*)::int FROM rejected_messages) AS rejected, (SELECT count(*)::int FROM integrity_conflicts) AS conflicts',
  );
  expect(r.rows[0]).toEqual({ rejected: 0, conflicts: 0 });
}
