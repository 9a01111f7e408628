import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../../gateway/config/load.js';

const repoConfig = path.resolve('config/gateway.yaml');

function problemsOf(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfig(text, '/etc/checkpoint/gateway.yaml', env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected the configuration to be refused');
}

const minimal = `
site: s1
checkpoint: c1
dataDir: data
privacy: { pseudonymSecretFile: secret }
trust: { passIssuersDir: trust }
lanes:
  - id: in-1
    scanner: { type: sim }
    thermometer: { type: sim }
    relay: { type: sim }
`;

describe('configuration loading', () => {
  it('accepts the shipped demo configuration', () => {
    const loaded = loadConfig(repoConfig, {});
    expect(loaded.config.lanes.map((l) => l.id)).toEqual(['in-1']);
    expect(loaded.config.http.host).toBe('127.0.0.1');
    expect(loaded.paths.passIssuersDir).toBe(path.resolve('config/trust'));
    expect(loaded.paths.dataDir).toBe(path.resolve('data'));
  });

  it('fills defaults and resolves relative paths against the file folder', () => {
    const { config, paths } = parseConfig(minimal, '/etc/checkpoint/gateway.yaml');
    expect(config.http.port).toBe(8080);
    expect(config.mqtt.url).toBe('mqtt://127.0.0.1:1883');
    expect(config.mqtt.topicPrefix).toBe('checkpoints');
    expect(config.lanes[0]?.relayPulseMs).toBe(700);
    expect(paths.dataDir).toBe('/etc/checkpoint/data');
    expect(paths.pseudonymSecretFile).toBe('/etc/checkpoint/secret');
  });

  it('lets MQTT_URL, HTTP_PORT and DATA_DIR override the file', () => {
    const { config, paths } = parseConfig(minimal, '/etc/checkpoint/gateway.yaml', {
      MQTT_URL: 'mqtts://broker.example:8883',
      HTTP_PORT: '9090',
      DATA_DIR: '/var/lib/checkpoint',
    });
    expect(config.mqtt.url).toBe('mqtts://broker.example:8883');
    expect(config.http.port).toBe(9090);
    expect(paths.dataDir).toBe('/var/lib/checkpoint');
  });

  it('lists every problem at once, each with its key path, line and what was expected', () => {
    const problems = problemsOf(`
site: Mine A
checkpoint: c1
dataDir: data
privacy: { pseudonymSecretFile: secret }
trust: { passIssuersDir: trust }
http: { port: "eighty" }
mqtt: { url: "http://x" }
lanes:
  - id: in-1
    relayPulseMs: 5
    scanner: { type: gm66 }
    thermometer: { type: sim }
    relay: { type: sim }
    colour: blue
`);
    expect(problems).toHaveLength(6);
    expect(problems.find((p) => p.includes('site:'))).toMatch(/^line 2: site: expected a lowercase id/);
    expect(problems.find((p) => p.includes('http.port'))).toMatch(/line 7: http\.port: .*expected number/);
    expect(problems.find((p) => p.includes('mqtt.url'))).toMatch(/expected an mqtt:\/\/ or mqtts:\/\/ URL/);
    expect(problems.find((p) => p.includes('relayPulseMs'))).toMatch(/lanes\[0\]\.relayPulseMs: .*>=100/);
    expect(problems.find((p) => p.includes('scanner'))).toMatch(/lanes\[0\]\.scanner\.type: .*"sim"/);
    expect(problems.find((p) => p.includes('colour'))).toMatch(/^line 15: lanes\[0\]\.colour: unknown key; expected one of id, name, /);
  });

  it('names a missing required key and points at its parent', () => {
    const problems = problemsOf(minimal.replace('trust: { passIssuersDir: trust }\n', ''));
    expect(problems).toEqual(['line 2: trust: missing; expected object']);
  });

  it('refuses two lanes with the same id', () => {
    const twice = minimal + `  - id: in-1
    scanner: { type: sim }
    thermometer: { type: sim }
    relay: { type: sim }
`;
    expect(problemsOf(twice)).toEqual([expect.stringMatching(/lanes\[1\]\.id: expected a unique lane id; "in-1" is used twice/)]);
  });

  it('reports YAML syntax errors with line and column', () => {
    const problems = problemsOf('site: [unclosed\ncheckpoint: c1\n');
    expect(problems[0]).toMatch(/^line \d+, column \d+: /);
  });

  it('refuses a bad HTTP_PORT from the environment, naming the variable', () => {
    expect(problemsOf(minimal, { HTTP_PORT: '80a' })).toEqual(['environment HTTP_PORT: expected a port number 0-65535, got "80a"']);
  });

  it('says which file could not be read', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-'));
    const missing = path.join(dir, 'nope.yaml');
    expect(() => loadConfig(missing, {})).toThrow(`${missing}: invalid configuration (1 problem):\n  ${missing}: cannot read the file: ENOENT`);
    writeFileSync(path.join(dir, 'ok.yaml'), minimal);
    expect(loadConfig(path.join(dir, 'ok.yaml'), {}).paths.dataDir).toBe(path.join(dir, 'data'));
  });
});

describe('reserved names', () => {
  it('refuses "all" as a checkpoint id, which addresses every checkpoint of a site', () => {
    expect(() => parseConfig(minimal.replace('checkpoint: c1', 'checkpoint: all'), '/x/gateway.yaml')).toThrow(/checkpoint: expected a checkpoint id other than "all"/);
  });
});
