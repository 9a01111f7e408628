// A ledger cut back on the checkpoint PC, noticed at the office: the built gateway and the
// built central service (PostgreSQL) over the real Mosquitto. The gateway decides a few
// passages and reports its chain head in …/stats; it is stopped, the tail of its ledger is
// deleted directly in SQLite (rows and their chain rows, triggers dropped: a consistent,
// shorter chain that `ledger verify` on the PC alone accepts), and it is started again. Its
// next stats show a head lower than the office has seen: a critical `ledger-chain` alert.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHAIN_ALERT_KIND } from '../../central/chain-check.js';
import { alertsInbox } from '../../central/console/alerts.js';
import { openDb } from '../../central/db/adapter.js';
import { cli, postJson, startGatewayProcess, tempDir as itTempDir, writeConfig, type GatewayProcess } from '../integration/helpers.js';
import { Cleanup, SHARED_BROKER, clearRetained, tempDir, waitFor } from '../gateway/telemetry/helpers.js';
import { testDatabase, writeServiceConfig } from './helpers.js';
import { startServiceProcess } from './process.js';

describe('ledger chain check end to end', () => {
  let cleanup: Cleanup;
  beforeEach(() => {
    cleanup = new Cleanup();
  });
  afterEach(() => cleanup.run());

  it('raises a critical ledger-chain alert at the office when a ledger is cut back on the PC and the gateway restarted', async () => {
    const prefix = `test-${randomUUID()}`;
    const site = `chain-${randomBytes(4).toString('hex')}`;
    const databaseUrl = await testDatabase(cleanup);
    const dataDir = await tempDir(cleanup, 'central-chain-e2e');
    const clientId = `office-chain-${randomUUID().slice(0, 8)}`;
    const office = await startServiceProcess(
      cleanup,
      await writeServiceConfig({ dataDir, databaseUrl, mqttUrl: SHARED_BROKER, clientId, prefix, chainCheckMs: 250 }),
    );
    await waitFor('office connected', async () => ((await (await fetch(`${office.url}/healthz`)).json()) as { broker: { connected: boolean } }).broker.connected);
    const db = await openDb({ url: databaseUrl, dataDir });
    cleanup.add(() => db.close());

    const gwDir = itTempDir('chain-e2e-gw-');
    const gwConfig = writeConfig(gwDir, site);
    writeFileSync(gwConfig, readFileSync(gwConfig, 'utf8').replace(/topicPrefix: .*$/m, `topicPrefix: ${prefix}\n  statsIntervalMs: 300`));
    const ledgerFile = path.join(gwDir, 'data', 'gateway.sqlite');
    let gw: GatewayProcess = await startGatewayProcess({ site, config: gwConfig });
    cleanup.add(async () => {
      await gw.stop();
      await clearRetained(SHARED_BROKER, `${prefix}/${site}/mine-entrance/status`);
    });
    const head = (): { seq: number } => {
      const sqlite = new Database(ledgerFile, { readonly: true });
      try {
        return sqlite.prepare('SELECT seq FROM chain ORDER BY seq DESC LIMIT 1').get() as { seq: number };
      } finally {
        sqlite.close();
      }
    };
    for (let i = 0; i < 4; i++) {
      const before = head().seq;
      expect((await postJson(`${gw.url}/api/sim/lanes/in-1/scan`, { payload: 'NOT-A-PASS' })).status).toBe(202);
      await waitFor('the decision in the chain', () => head().seq === before + 1);
    }
    const full = head().seq; // genesis + 4 ledger rows
    expect(full).toBe(5);
    const officeHead = async (): Promise<number | undefined> =>
      (await db.query<{ seq: number }>('SELECT seq FROM chain_heads WHERE site = $1', [site]))[0]?.seq;
    await waitFor('the office keeping the head of the whole chain', async () => (await officeHead()) === full, 30_000);
    expect(await db.query('SELECT 1 FROM alerts WHERE kind = $1', [CHAIN_ALERT_KIND])).toEqual([]);

    // On the PC: stop the gateway, delete the last two passages and their chain rows.
    expect(await gw.stop()).toBe(0);
    const sqlite = new Database(ledgerFile);
    sqlite.exec(`DROP TRIGGER ledger_no_delete; DROP TRIGGER chain_no_delete;
                 DELETE FROM chain WHERE seq > 3; DELETE FROM ledger WHERE seq > 2;
                 DELETE FROM sqlite_sequence WHERE name = 'ledger'; INSERT INTO sqlite_sequence (name, seq) VALUES ('ledger', 2)`);
    sqlite.close();
    // The shorter chain is consistent in itself: only the office can tell.
    expect((await cli(['ledger', 'verify', '--config', gwConfig])).stdout).toContain('ledger chain intact');

    gw = await startGatewayProcess({ site, config: gwConfig });
    await waitFor('a critical ledger-chain alert at the office', async () => (await db.query('SELECT 1 FROM alerts WHERE kind = $1', [CHAIN_ALERT_KIND])).length > 0, 60_000);
    const inbox = await alertsInbox(db, { escalateAfterMs: 15 * 60_000, site, kinds: [CHAIN_ALERT_KIND] }, Date.now() + 1000);
    expect(inbox).toMatchObject([{ site, checkpoint: 'mine-entrance', kind: CHAIN_ALERT_KIND, severity: 'critical', code: 'LEDGER_CHAIN_BACKWARDS', unacked: 1 }]);
    expect(inbox[0]!.detail).toMatch(/seq 5 .*→ seq 3 /);
  }, 120_000);
});
