// The acceptance path: a scan at the real (built) gateway becomes a row in the office
// database, written by the built central service, and `central events` shows it.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb } from '../../central/db/adapter.js';
import { postJson, startGatewayProcess, writeConfig, tempDir as itTempDir, ROOT } from '../integration/helpers.js';
import { Cleanup, SHARED_BROKER, clearRetained, tempDir, waitFor } from '../gateway/telemetry/helpers.js';
import { testDatabase, writeServiceConfig } from './helpers.js';
import { startServiceProcess } from './process.js';

const execFileP = promisify(execFile);

describe('gateway to office database', () => {
  let cleanup: Cleanup;
  beforeEach(() => {
    cleanup = new Cleanup();
  });
  afterEach(() => cleanup.run());

  it('makes a scan at the gateway a row in the office database, shown by `central events`', async () => {
    const prefix = `test-${randomUUID()}`;
    const site = `e2e-${randomBytes(4).toString('hex')}`;
    const databaseUrl = await testDatabase(cleanup);
    const dataDir = await tempDir(cleanup, 'central-e2e');
    const config = await writeServiceConfig({ dataDir, databaseUrl, mqttUrl: SHARED_BROKER, clientId: `office-e2e-${randomUUID().slice(0, 8)}`, prefix });
    const office = await startServiceProcess(cleanup, config);
    await waitFor('office connected', async () => ((await (await fetch(`${office.url}/healthz`)).json()) as { broker: { connected: boolean } }).broker.connected);

    const gwConfig = writeConfig(itTempDir('central-e2e-gw-'), site);
    writeFileSync(gwConfig, readFileSync(gwConfig, 'utf8').replace(/topicPrefix: .*$/m, `topicPrefix: ${prefix}`));
    const gw = await startGatewayProcess({ site, config: gwConfig });
    cleanup.add(async () => {
      await gw.stop();
      await clearRetained(SHARED_BROKER, `${prefix}/${site}/mine-entrance/status`);
    });

    const db = await openDb({ url: databaseUrl, dataDir });
    cleanup.add(() => db.close());
    const scannedAt = Date.now();
    expect((await postJson(`${gw.url}/api/sim/lanes/in-1/scan`, { payload: 'NOT-A-PASS' })).status).toBe(202);
    let row: { id: string; outcome: string } | undefined;
    await waitFor('the event in the office database', async () => {
      row = (await db.query<{ id: string; outcome: string }>('SELECT id::text AS id, outcome FROM events WHERE site = $1', [site]))[0];
      return row !== undefined;
    });
    const latencyMs = Date.now() - scannedAt;
    process.stderr.write(`[end-to-end] scan → office database row in ${latencyMs} ms (polled every 20 ms)\n`);

    const { stdout } = await execFileP(process.execPath, ['dist/gateway/cli/main.js', 'central', 'events', '--checkpoint', `${site}/mine-entrance`, '--json', '--config', config], { cwd: ROOT });
    const shown = stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; site: string; outcome: string });
    expect(shown).toEqual([expect.objectContaining({ id: row!.id, site, outcome: row!.outcome })]);
    // The gateway's birth is there too, by session.
    await waitFor('the checkpoint online', async () => (await db.query<{ state: string }>('SELECT state FROM checkpoints WHERE site = $1', [site]))[0]?.state === 'online');
  }, 60_000);
});
