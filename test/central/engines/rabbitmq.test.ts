// The gateway and the office on RabbitMQ's MQTT plugin (127.0.0.1:1884, guest/guest),
// MQTT 3.1.1, one office subscriber (the plugin has no shared subscriptions). The broker
// is the machine's and cannot be stopped, so a TCP relay cuts the gateway's link.
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Cleanup, tempDir, waitFor } from '../../gateway/telemetry/helpers.js';
import { startServiceProcess } from '../process.js';
import { countEvents, forgetSession, officeDatabase, rabbitmq, startTestGateway, takeDecisions, writeCentralConfig } from './helpers.js';
import { killScenario, outageScenario } from './scenarios.js';

describe('RabbitMQ MQTT plugin (MQTT 3.1.1)', () => {
  let cleanup: Cleanup;
  beforeEach(() => {
    cleanup = new Cleanup();
  });
  afterEach(() => cleanup.run());

  it('stores each of 1000 decisions taken while the gateway\'s link was down exactly once, in seq order', { timeout: 90_000 }, async () => {
    await outageScenario(cleanup, await rabbitmq());
  });

  it('still stores every decision once when the office is killed -9 mid-drain and restarted', { timeout: 90_000 }, async () => {
    await killScenario(cleanup, await rabbitmq());
  });

  it('an office started after the gateway came online still learns its retained status (RabbitMQ gives it to exact topics only)', { timeout: 60_000 }, async () => {
    const engine = await rabbitmq();
    const dir = await tempDir(cleanup, 'engine');
    const { url: databaseUrl, pool } = await officeDatabase(cleanup);
    const prefix = `test-${randomUUID()}`;
    const site = `site-${randomUUID().slice(0, 8)}`;
    const gw = await startTestGateway(cleanup, { engine, url: engine.url, prefix, site, dir });
    await waitFor('gateway connected', () => gw.telemetry.link.status().state === 'connected');

    // The birth is retained at the broker before the office ever subscribed.
    const clientId = `test-office-${randomUUID().slice(0, 8)}`;
    cleanup.add(() => forgetSession(engine, clientId));
    const office = await startServiceProcess(cleanup, writeCentralConfig({ engine, dir, databaseUrl, prefix, clientId }));
    await waitFor('office connected', () => office.log.some((l) => l.includes('connected to the broker')));
    await new Promise((r) => setTimeout(r, 300)); // its SUBSCRIBE answered
    await takeDecisions(gw, 1); // the office hears of the checkpoint
    await waitFor('the event stored', async () => (await countEvents(pool, site)) === 1);
    await waitFor('the checkpoint online in the office database', async () => {
      const r = await pool.query<{ state: string }>('SELECT state FROM checkpoints WHERE site = $1', [site]);
      return r.rows[0]?.state === 'online';
    }, 10_000);
    const r = await pool.query<{ session: number }>('SELECT session::int AS session FROM checkpoints WHERE site = $1', [site]);
    expect(r.rows[0]?.session).toBeGreaterThan(0);
  });
});
