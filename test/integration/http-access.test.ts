// The gateway process wires http.allowedHosts and http.metricsTokenFile from its config
// into the server: a foreign Host is refused, a listed one answered, /metrics reads with
// the token file's bearer token, /api/events only with a guard session, and the ledger
// stays readable from the command line (the README's step).
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliFails, guardGet, postJson, startGatewayProcess, tempDir, until, writeConfig, type GatewayProcess } from './helpers.js';

const TOKEN = randomBytes(32).toString('hex');
let gw: GatewayProcess | undefined;
let dir: string;
let config: string;

function statusWithHost(url: string, pathname: string, host: string, headers: Record<string, string> = {}): Promise<number> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: pathname, headers: { host, ...headers }, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  dir = tempDir('gw-access-');
  config = writeConfig(dir, `access-${randomBytes(3).toString('hex')}`);
  writeFileSync(path.join(dir, 'metrics.token'), `${TOKEN}\n`);
  // Relative to the config file's folder, like every file the config names.
  writeFileSync(config, readFileSync(config, 'utf8').replace(/^http:\n/m, 'http:\n  allowedHosts: [checkpoint-3.lan]\n  metricsTokenFile: metrics.token\n'));
  gw = await startGatewayProcess({ site: 'access', config });
});

afterAll(async () => {
  await gw?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('http access in the gateway process', () => {
  it('refuses a foreign Host on every route and answers the configured one', async () => {
    const port = new URL(gw!.url).port;
    for (const p of ['/', '/api/lanes', '/api/sim/lanes/in-1/relay', '/guard']) {
      expect(await statusWithHost(gw!.url, p, `evil.example:${port}`, { origin: `http://evil.example:${port}` }), p).toBe(421);
      expect(await statusWithHost(gw!.url, p, `checkpoint-3.lan:${port}`), p).toBe(200);
    }
  });

  it('reads /metrics with the bearer token from http.metricsTokenFile, and not without it', async () => {
    expect((await fetch(`${gw!.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${gw!.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN.slice(1)}` } })).status).toBe(401);
    const res = await fetch(`${gw!.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('checkpoint_outbox_depth');
  });

  it('keeps the ledger from anyone without a guard session; guards and the CLI read it', async () => {
    const { stdout } = await cli(['pass', 'issue', '--name', '张三']);
    expect((await postJson(`${gw!.url}/api/sim/lanes/in-1/temperature`, { celsius: 36.5 })).status).toBe(202);
    expect((await postJson(`${gw!.url}/api/sim/lanes/in-1/scan`, { payload: stdout.trim() })).status).toBe(202);
    const event = await until('the decision', async () => ((await (await guardGet(gw!, '/api/events')).json()) as { events: { id: string }[] }).events[0]);
    expect((await fetch(`${gw!.url}/api/events`)).status).toBe(401);
    const { stdout: table } = await cli(['events', '--json', '--config', config]);
    expect(table).toContain(event.id);
  });

  it('refuses to start with a metrics token file that is too short', async () => {
    const weak = tempDir('gw-weak-');
    try {
      const file = writeConfig(weak, `weak-${randomBytes(3).toString('hex')}`);
      writeFileSync(path.join(weak, 'metrics.token'), 'short\n');
      writeFileSync(file, readFileSync(file, 'utf8').replace(/^http:\n/m, 'http:\n  metricsTokenFile: metrics.token\n'));
      await expect(startGatewayProcess({ site: 'weak', config: file })).rejects.toThrow(/HTTP_METRICS_TOKEN_WEAK/);
    } finally {
      rmSync(weak, { recursive: true, force: true });
    }
  });

  it('refuses an allowed host given with a scheme or port in the config', async () => {
    const weak = tempDir('gw-hosts-');
    try {
      const file = writeConfig(weak, `hosts-${randomBytes(3).toString('hex')}`);
      writeFileSync(file, readFileSync(file, 'utf8').replace(/^http:\n/m, 'http:\n  allowedHosts: ["http://gate.lan:8080"]\n'));
      const bad = await cliFails(['config', 'check', file]);
      expect(bad.stderr).toMatch(/http\.allowedHosts\[0\]: expected a host name or IP address without scheme or port/);
    } finally {
      rmSync(weak, { recursive: true, force: true });
    }
  });
});
