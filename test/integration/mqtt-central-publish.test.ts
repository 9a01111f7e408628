// `central publish` against two real gateways over the shared Mosquitto: it returns once
// every expected gateway answered, and names the ones that did not at the timeout.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliFails, startGatewayProcess, tempDir, until, writeConfig, type GatewayProcess } from './helpers.js';

const site = `itp-${randomBytes(4).toString('hex')}`;
const gateways: GatewayProcess[] = [];
let dir: string;

/** A gateway of the test site with its own checkpoint id. */
async function gatewayAt(checkpoint: string): Promise<GatewayProcess> {
  const own = tempDir(`gw-${checkpoint}-`);
  const config = writeConfig(own, site);
  writeFileSync(config, readFileSync(config, 'utf8').replace(/^checkpoint: .*$/m, `checkpoint: ${checkpoint}`));
  return startGatewayProcess({ site, config });
}

async function signed(version: number): Promise<string> {
  const data = path.join(dir, `watch-${version}.json`);
  writeFileSync(data, JSON.stringify([{ subjectId: `demo-${version}`, kind: 'close-contact', from: '2026-12-01', until: null }]));
  const { stdout } = await cli(['central', 'sign', 'watchlist', data, '--update-version', String(version), '--site', site]);
  const file = path.join(dir, `watch-${version}.jws`);
  writeFileSync(file, stdout);
  return file;
}

beforeAll(async () => {
  dir = tempDir('central-publish-');
  gateways.push(...(await Promise.all([gatewayAt('gate-a'), gatewayAt('gate-b')])));
  // Both have said "online" (retained) before anything is published.
  const sub = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { clientId: `it-status-${site}` });
  const online = new Set<string>();
  sub.on('message', (topic, payload) => {
    if ((JSON.parse(payload.toString() || '{}') as { state?: string }).state === 'online') online.add(topic.split('/')[2] ?? '');
  });
  await sub.subscribeAsync(`checkpoints/${site}/+/status`, { qos: 1 });
  await until('both gateways online', () => (online.has('gate-a') && online.has('gate-b') ? true : undefined), 15_000);
  await sub.endAsync();
}, 60_000);

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.stop()));
  // Leave no retained status of the test site on the shared broker.
  const pub = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { clientId: `it-clear-${site}` });
  for (const cp of ['gate-a', 'gate-b']) await pub.publishAsync(`checkpoints/${site}/${cp}/status`, '', { retain: true, qos: 1 });
  await pub.endAsync();
});

describe('central publish', () => {
  it('returns as soon as every gateway online now has answered, long before --wait', { timeout: 60_000 }, async () => {
    const file = await signed(1);
    // 10 minutes of --wait: only the answers of both gateways can end it within the test's timeout.
    const { stdout, stderr } = await cli(['central', 'publish', 'watchlist', file, '--site', site, '--wait', '600000']);
    expect(stderr).toContain('waiting up to 600000 ms for gate-a, gate-b (online now)');
    const answers = stdout.trim().split('\n').map((l) => JSON.parse(l) as { checkpoint: string; status: string; version: number });
    expect(answers.map((a) => [a.checkpoint, a.status, a.version]).sort()).toEqual([
      ['gate-a', 'applied', 1],
      ['gate-b', 'applied', 1],
    ]);
  });

  it('says which expected checkpoint did not answer when --wait runs out, and exits 2', { timeout: 60_000 }, async () => {
    const file = await signed(2);
    const { code, stdout, stderr } = await cliFails(['central', 'publish', 'watchlist', file, '--site', site, '--expect', 'gate-a,gate-b,gate-c', '--wait', '5000']);
    expect(code).toBe(2);
    expect(stderr).toContain('waiting up to 5000 ms for gate-a, gate-b, gate-c (--expect)');
    expect(stderr).toContain('error: no answer within 5000 ms from gate-c (answered: gate-a, gate-b;');
    expect(stdout.trim().split('\n')).toHaveLength(2);
  });
});
