// Connection settings: MQTT version, login and the config keys that carry them.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../gateway/config/load.js';
import { openStore } from '../../../gateway/store/index.js';
import { connectTelemetry } from '../../../gateway/telemetry/connect.js';
import { topicsFor } from '../../../gateway/telemetry/topics.js';
import { CTX, Cleanup, privateMosquitto, silentLogger, statusLog, subscribe, tempDir, testStatusSource, uniqueClientId, uniquePrefix, waitFor, writeRows } from './helpers.js';

let cleanup: Cleanup;

beforeEach(() => {
  cleanup = new Cleanup();
});

afterEach(async () => {
  await cleanup.run();
});

const BASE = `site: s
checkpoint: c
dataDir: data
privacy: { pseudonymSecretFile: secret }
trust: { passIssuersDir: trust }
lanes: [{ id: in-1, scanner: { type: sim }, thermometer: { type: sim }, relay: { type: sim } }]
`;

function problems(yaml: string): string[] {
  try {
    parseConfig(BASE + yaml, '/etc/gw/gateway.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('mqtt and central config keys', () => {
  it('defaults to MQTT 5, keepalive 30 s and stats every minute', () => {
    const { config } = parseConfig(BASE, '/etc/gw/gateway.yaml');
    expect(config.mqtt).toMatchObject({ protocolVersion: 5, keepaliveS: 30, statsIntervalMs: 60_000 });
    expect(config.central).toEqual({});
  });

  it('accepts MQTT 3.1.1, a login, TLS files and a central key folder', () => {
    const yaml = `mqtt: { url: "mqtts://broker.site:8883", protocolVersion: 4, username: gw, passwordFile: pw, tls: { ca: ca.pem, cert: c.pem, key: k.pem } }
central: { updateKeysDir: central }
`;
    expect(problems(yaml)).toEqual([]);
  });

  it('refuses an MQTT version other than 4 or 5, and a client certificate without its key, naming the keys', () => {
    const found = problems(`mqtt: { protocolVersion: 3, tls: { cert: c.pem } }\n`);
    expect(found.join('\n')).toMatch(/mqtt\.protocolVersion/);
    expect(found.join('\n')).toMatch(/mqtt\.tls.*cert and key together/);
  });
});

describe('a broker that requires a login', () => {
  it('refuses the link without the password and delivers once it has it', { timeout: 60_000 }, async () => {
    const broker = await privateMosquitto(cleanup, {
      config: (dir) => {
        const file = path.join(dir, 'passwd');
        execFileSync('mosquitto_passwd', ['-b', '-c', file, 'gw', 's3cret']);
        return ['allow_anonymous false', `password_file ${file}`];
      },
    });
    const store = openStore(await tempDir(cleanup, 'login'));
    cleanup.add(() => store.close());
    const topics = topicsFor({ prefix: uniquePrefix(), ...CTX });
    const common = {
      url: broker.url,
      topics,
      outbox: store,
      logger: silentLogger(),
      now: Date.now,
      statusSource: testStatusSource(),
      reconnectMinMs: 50,
      reconnectMaxMs: 200,
      embeddedFallback: false,
    };

    const refused = statusLog();
    const wrong = await connectTelemetry({ ...common, clientId: uniqueClientId('bad'), onStatus: refused.onStatus, credentials: { username: 'gw', password: 'nope' } });
    cleanup.add(() => wrong.stop());
    await waitFor('a refusal reported', () => refused.statuses.some((s) => s.state === 'disconnected' && /auth/i.test(s.detail ?? '')));
    await wrong.stop();

    const sub = await subscribe(cleanup, broker.url.replace('mqtt://', 'mqtt://gw:s3cret@'), [topics.events]);
    const rows = writeRows(store, topics, 5);
    const ok = await connectTelemetry({ ...common, clientId: uniqueClientId('good'), onStatus: () => undefined, credentials: { username: 'gw', password: 's3cret' } });
    cleanup.add(() => ok.stop());
    await waitFor('5 events through the login', () => sub.events().length >= 5);
    expect(sub.events().map((e) => e.id)).toEqual(rows.map((r) => r.id));
    expect(ok.link.status().url).not.toContain('s3cret');
  });
});
