// The demo on a machine without a Mosquitto: the gateway embeds aedes (MQTT 3.1.1 only)
// on its loopback URL, and the central service, started first with `protocolVersion:
// auto`, keeps retrying until a broker listens, is refused MQTT 5, falls back to 3.1.1
// (shared subscriptions off, with a warning) and stores the gateway's events in PGlite.
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ROOT, postJson, startGatewayProcess, tempDir as itTempDir, writeConfig } from '../integration/helpers.js';
import { Cleanup, freePort, tempDir, waitFor } from '../gateway/telemetry/helpers.js';
import { writeServiceConfig } from './helpers.js';
import { startServiceProcess } from './process.js';

const execFileP = promisify(execFile);

interface Health {
  status: string;
  broker: { connected: boolean; protocolVersion: number };
}

describe('bare-machine demo', () => {
  let cleanup: Cleanup;
  beforeEach(() => {
    cleanup = new Cleanup();
  });
  afterEach(() => cleanup.run());

  it('stores a scan of a gateway that embeds its broker, with the office started first on protocolVersion auto', async () => {
    const mqttPort = await freePort(); // nothing listens here: the gateway will embed aedes on it
    const url = `mqtt://127.0.0.1:${mqttPort}`;
    const prefix = `test-${randomUUID()}`;
    const site = `bare-${randomBytes(4).toString('hex')}`;
    const dataDir = await tempDir(cleanup, 'central-bare');
    const config = await writeServiceConfig({
      dataDir,
      databaseUrl: null, // PGlite
      mqttUrl: url,
      clientId: 'central-office-1',
      prefix,
      protocolVersion: 'auto',
      sharedGroup: 'office',
      httpPort: await freePort(), // `central events` asks the running service (PGlite is single-process)
    });
    const office = await startServiceProcess(cleanup, config);
    const health = async () => (await (await fetch(`${office.url}/healthz`)).json()) as Health;
    expect((await health()).broker.connected).toBe(false); // no broker yet: it keeps trying

    const gwConfig = writeConfig(itTempDir('central-bare-gw-'), site);
    writeFileSync(
      gwConfig,
      readFileSync(gwConfig, 'utf8')
        .replace(/url: mqtt:\/\/127\.0\.0\.1:1883/, `url: ${url}`)
        .replace(/topicPrefix: .*$/m, `topicPrefix: ${prefix}`),
    );
    const gw = await startGatewayProcess({ site, config: gwConfig });
    cleanup.add(async () => {
      await gw.stop();
    });
    expect(gw.logs.join('\n')).toContain('started the embedded broker');

    await waitFor('office connected to the embedded broker', async () => (await health()).broker.connected, 30_000);
    expect((await health()).broker.protocolVersion).toBe(4);
    const logged = office.log.join('\n');
    expect(logged).toContain('refused MQTT 5');
    expect(logged).toContain('shared subscriptions need MQTT 5');
    // Refused while nothing listened: warned once, not at every retry.
    expect(office.log.filter((l) => l.includes('broker connection error')).length).toBe(1);
    await waitFor('gateway connected', async () => ((await (await fetch(`${gw.url}/healthz`)).json()) as { mqtt: { state: string } }).mqtt.state === 'connected');

    const scannedAt = Date.now();
    expect((await postJson(`${gw.url}/api/sim/lanes/in-1/scan`, { payload: 'NOT-A-PASS' })).status).toBe(202);
    let id: string | undefined;
    await waitFor('the event in the office database', async () => {
      // The service's local CLI token (what `central events` sends; the route needs a session otherwise).
      const headers = { authorization: `Bearer ${readFileSync(path.join(dataDir, 'cli-token'), 'utf8').trim()}` };
      const r = (await (await fetch(`${office.url}/api/events?site=${site}`, { headers })).json()) as { events: { id: string }[] };
      id = r.events[0]?.id;
      return id !== undefined;
    });
    process.stderr.write(`[bare-machine demo] scan → office database row (embedded aedes, MQTT 3.1.1, PGlite) in ${Date.now() - scannedAt} ms (polled every 20 ms)\n`);

    const { stdout } = await execFileP(process.execPath, ['dist/gateway/cli/main.js', 'central', 'events', '--checkpoint', `${site}/mine-entrance`, '--json', '--config', config], { cwd: ROOT });
    const shown = stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; site: string });
    expect(shown).toEqual([expect.objectContaining({ id, site })]);
  }, 90_000);
});
