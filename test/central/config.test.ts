import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadCentralConfig, parseCentralConfig } from '../../central/config.js';

function problemsOf(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseCentralConfig(text, '/etc/central/central.yaml', env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected the configuration to be refused');
}

const minimal = `
dataDir: data
mqtt:
  clientId: office-1
`;

describe('central office configuration', () => {
  it('accepts the shipped demo configuration, with PGlite when no database URL is set', () => {
    const loaded = loadCentralConfig(path.resolve('config/central.yaml'), {});
    expect(loaded.databaseUrl).toBeNull();
    expect(loaded.config.mqtt.sharedGroup).toBe('office');
    // The demo runs with or without a Mosquitto (the gateway's embedded broker is 3.1.1 only).
    expect(loaded.config.mqtt.protocolVersion).toBe('auto');
    expect(loaded.paths.signingKeyFile).toBe(path.resolve('config/demo/central-1.private.jwk.json'));
    expect(loaded.paths.dataDir).toBe(path.resolve('data/central'));
  });

  it('refuses the demo secret and the demo office key, wherever they lie, unless the file says demo: true', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'central-demo-'));
    // Copies under other names are still the demo's: recognised by content.
    writeFileSync(path.join(dir, 'site.secret'), readFileSync(path.resolve('config/demo/pseudonym.secret')));
    writeFileSync(path.join(dir, 'office.private.jwk.json'), readFileSync(path.resolve('config/demo/central-1.private.jwk.json')));
    const body = `dataDir: data\nmqtt:\n  clientId: office-1\nupdates:\n  signingKeyFile: office.private.jwk.json\nsites:\n  mine-a: { pseudonymSecretFile: site.secret }\n`;
    const file = path.join(dir, 'central.yaml');
    writeFileSync(file, body);
    let err: unknown;
    try {
      loadCentralConfig(file, {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    expect(problems).toMatch(/sites\.mine-a\.pseudonymSecretFile: .*site\.secret is the demo pseudonym secret/);
    expect(problems).toMatch(/updates\.signingKeyFile: .*the demo central office/);
    expect(problems).toContain('demo: true');
    writeFileSync(file, `demo: true\n${body}`);
    expect(loadCentralConfig(file, {}).config.demo).toBe(true);
  });

  it('fills the defaults of a minimal file (gap repair after 30 s, MQTT 5, plain subscriptions)', () => {
    const { config } = parseCentralConfig(minimal, '/etc/central/central.yaml');
    expect(config.gapRepair.afterMs).toBe(30_000);
    expect(config.mqtt.protocolVersion).toBe(5);
    expect(config.mqtt.sharedGroup).toBeUndefined();
    expect(config.mqtt.topicPrefix).toBe('checkpoints');
    expect(config.ingest).toEqual({ batchMax: 500, batchMs: 50, concurrency: 2 });
  });

  it('lists every problem at once, each with its line, key path and what was expected', () => {
    const problems = problemsOf(`
dataDir: data
database:
  url: mysql://db
mqtt:
  clientId: "office 1"
  protocolVersion: 3
  sharedGroup: a/b
  colour: blue
ingest:
  batchMax: 0
gapRepair:
  afterMs: soon
retention: { months: 0 }
`);
    expect(problems).toHaveLength(8);
    expect(problems).toContainEqual(expect.stringMatching(/^line 4: database\.url: expected a postgres:\/\//));
    expect(problems).toContainEqual(expect.stringMatching(/^line 6: mqtt\.clientId: expected 1-64 letters/));
    expect(problems).toContainEqual(expect.stringMatching(/^line 7: mqtt\.protocolVersion: /));
    expect(problems).toContainEqual(expect.stringMatching(/^line 8: mqtt\.sharedGroup: /));
    expect(problems).toContainEqual(expect.stringMatching(/^line 9: mqtt\.colour: unknown key/));
    expect(problems).toContainEqual(expect.stringMatching(/^line 11: ingest\.batchMax: /));
    expect(problems).toContainEqual(expect.stringMatching(/^line 13: gapRepair\.afterMs: /));
    expect(problems).toContainEqual(expect.stringMatching(/^line 14: retention\.months: /));
  });

  it('names a missing required key', () => {
    expect(problemsOf('dataDir: data\nmqtt: {}\n')).toEqual([expect.stringMatching(/^line 2: mqtt\.clientId: missing; expected string/)]);
  });

  it('takes DATABASE_URL, MQTT_URL, HTTP_PORT and DATA_DIR from the environment', () => {
    const loaded = parseCentralConfig(minimal, '/etc/central/central.yaml', {
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
      MQTT_URL: 'mqtt://broker:1883',
      HTTP_PORT: '9001',
      DATA_DIR: '/var/lib/central',
    });
    expect(loaded.databaseUrl).toBe('postgres://postgres@127.0.0.1:5432/test');
    expect(loaded.config.mqtt.url).toBe('mqtt://broker:1883');
    expect(loaded.config.http.port).toBe(9001);
    expect(loaded.paths.dataDir).toBe('/var/lib/central');
  });

  it('refuses a bad HTTP_PORT from the environment along with the file\'s problems', () => {
    const problems = problemsOf('dataDir: data\nmqtt: {}\n', { HTTP_PORT: 'eighty' });
    expect(problems).toEqual([expect.stringContaining('environment HTTP_PORT'), expect.stringContaining('mqtt.clientId')]);
  });

  it('the built service exits 78 and lists the problems on a bad configuration', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'central-config-'));
    const file = path.join(dir, 'central.yaml');
    writeFileSync(file, 'dataDir: data\nmqtt: { clientId: "" }\nhttp: { port: -1 }\n');
    const r = spawnSync(process.execPath, ['dist/central/main.js'], { env: { ...process.env, CENTRAL_CONFIG: file }, encoding: 'utf8' });
    expect(r.status).toBe(78);
    expect(r.stderr).toContain('invalid configuration (2 problems)');
    expect(r.stderr).toContain(`${file}:2: mqtt.clientId`);
    expect(r.stderr).toContain(`${file}:3: http.port`);
    // `central serve` in the CLI runs the same entry point.
    const viaCli = spawnSync(process.execPath, ['dist/gateway/cli/main.js', 'central', 'serve', '--config', file], { encoding: 'utf8' });
    expect(viaCli.status).toBe(78);
    expect(viaCli.stderr).toContain('invalid configuration (2 problems)');
  });
});
