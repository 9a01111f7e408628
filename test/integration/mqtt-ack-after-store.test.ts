// Acceptance: a signed update is acknowledged to the broker only after it is stored.
// kill -9 of the built gateway right after the broker delivered an update (before it was
// stored) loses nothing: the gateway's session is persistent, so after the restart the
// broker delivers the update again and it is applied.
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { JWK } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../gateway/store/index.js';
import { signUpdate } from '../../gateway/updates/sign.js';
import { Cleanup, privateMosquitto, subscribe, waitFor } from '../gateway/telemetry/helpers.js';
import { ROOT, startGatewayProcess, tempDir, writeConfig, type GatewayProcess } from './helpers.js';

let cleanup: Cleanup;

beforeEach(() => {
  cleanup = new Cleanup();
});

afterEach(async () => {
  await cleanup.run();
});

/** A TCP relay to the broker that calls `onBytes` with the bytes sent broker → gateway so far. */
async function watchingProxy(targetPort: number, onBytes: (n: number) => void): Promise<number> {
  let total = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((down) => {
    const up = net.connect({ host: '127.0.0.1', port: targetPort });
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.once('close', () => {
        down.destroy();
        up.destroy();
      });
    }
    down.pipe(up);
    up.on('data', (chunk: Buffer) => {
      down.write(chunk);
      total += chunk.length;
      onBytes(total);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  cleanup.add(() => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  }));
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}

describe('a crash between delivery and storage of an update', () => {
  it('applies the update after kill -9 and a restart: the broker delivers it again', { timeout: 120_000 }, async () => {
    const site = `ita-${randomBytes(4).toString('hex')}`;
    const checkpoint = 'mine-entrance';
    const dir = tempDir('ack-');
    cleanup.add(() => rmSync(dir, { recursive: true, force: true }));
    const config = writeConfig(dir, site);
    // Debug: the link logs "command received" when it has an update, the moment to kill.
    writeFileSync(config, readFileSync(config, 'utf8').replace('embeddedFallback: true', 'embeddedFallback: false').replace(/^logLevel: .*$/m, 'logLevel: debug'));
    const broker = await privateMosquitto(cleanup);
    let sentToGateway = 0;
    const proxyPort = await watchingProxy(broker.port, (n) => {
      sentToGateway = n;
    });
    const env = { MQTT_URL: `mqtt://127.0.0.1:${proxyPort}` };
    const prefix = `checkpoints/${site}/${checkpoint}`;
    const office = await subscribe(cleanup, broker.url, [`${prefix}/response/#`, `${prefix}/status`]);

    let gw: GatewayProcess = await startGatewayProcess({ site, config, env });
    cleanup.add(async () => {
      await gw.stop();
    });
    await waitFor('gateway online', () => office.payloads(`${prefix}/status`).some((p) => p.includes('"online"')), 15_000);

    // A roster large enough (some MB) that verifying and storing it takes a while.
    const entries = Array.from({ length: 30_000 }, (_, i) => ({
      staffId: `E-${String(i).padStart(6, '0')}`,
      name: `工人${i}`,
      category: 'employee',
      health: { healthCode: 'green' },
      active: true,
    }));
    const key = JSON.parse(readFileSync(path.join(ROOT, 'config/demo/central-1.private.jwk.json'), 'utf8')) as JWK;
    const token = await signUpdate(
      { kind: 'roster', version: 7, site, checkpoint, transaction: 'crash-7', issuedAt: new Date().toISOString(), data: { entries } },
      key,
    );
    const before = sentToGateway;
    const logsBefore = gw.logs.length;
    await office.client.publishAsync(`${prefix}/cmd/roster`, token, { qos: 1 });
    await waitFor('the update delivered to the gateway', () => sentToGateway - before >= token.length, 30_000);
    // Kill as soon as the gateway says it has the command (or very soon after the bytes
    // went out, for a gateway that does not say so).
    const delivered = Date.now();
    await waitFor('the gateway took the update', () => gw.logs.slice(logsBefore).some((l) => l.includes('command received')) || Date.now() - delivered > 30, 5000);
    gw.child.kill('SIGKILL');
    await new Promise<void>((resolve) => (gw.child.exitCode !== null || gw.child.signalCode !== null ? resolve() : gw.child.once('exit', () => resolve())));
    expect(gw.child.signalCode).toBe('SIGKILL');

    // The kill landed before the update was stored (else this test proves nothing).
    const data = path.join(dir, 'data');
    let store = openStore(data);
    expect(store.getMeta('update.roster.version')).toBeUndefined();
    store.close();

    gw = await startGatewayProcess({ site, config, env });
    await waitFor(
      'the applied response after the restart',
      () => office.payloads(`${prefix}/response/roster`).some((p) => p.includes('"crash-7"') && p.includes('"applied"')),
      60_000,
    );
    expect(await gw.stop()).toBe(0);
    store = openStore(data);
    expect(store.getMeta('update.roster.version')).toBe('7');
    expect(store.rosterGet('E-029999')?.name).toBe('工人29999');
    store.close();
  });
});
