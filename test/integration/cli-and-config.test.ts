// The CLI and start-up refusals as a user meets them: real processes, real files.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { decide } from '../../gateway/policy/decide.js';
import { MINE_ENTRANCE } from '../../gateway/policy/profiles.js';
import { evaluatedFacts } from '../../gateway/policy/replay.js';
import type { DecideInput } from '../../gateway/policy/types.js';
import { openStore } from '../../gateway/store/index.js';
import { pseudonymizer } from '../../gateway/telemetry/pseudonym.js';
import { ROOT, cli, cliFails, guardGet, postJson, startGatewayProcess, tempDir, until, writeConfig } from './helpers.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

describe('configuration check', () => {
  it('accepts the canteen demo configuration: two lanes, a zone, an exit beam', async () => {
    const { stdout } = await cli(['config', 'check', 'config/canteen.yaml']);
    expect(stdout).toMatch(/canteen\.yaml: OK \(2 lanes, site demo-mine, checkpoint canteen\)/);
  });

  it('accepts the demo configuration', async () => {
    const { stdout } = await cli(['config', 'check', 'config/gateway.yaml']);
    expect(stdout).toMatch(/gateway\.yaml: OK \(1 lane, site demo-mine, checkpoint mine-entrance\)/);
  });

  it('lists every problem of a bad file and exits non-zero', async () => {
    const dir = tempDir('cfg-bad-');
    const file = writeConfig(dir, 'Bad Site');
    writeFileSync(file, readFileSync(file, 'utf8').replace('relayPulseMs: 700', 'relayPulseMs: fast').replace('port: 8080', 'port: 99999'));
    const { code, stderr } = await cliFails(['config', 'check', file]);
    expect(code).toBe(1);
    expect(stderr).toContain(`${file}: invalid configuration (3 problems)`);
    expect(stderr).toMatch(/line \d+: site: expected a lowercase id/);
    expect(stderr).toMatch(/line \d+: http\.port: .*<=65535/);
    expect(stderr).toMatch(/line \d+: lanes\[0\]\.relayPulseMs: .*expected number/);
  });

  it('refuses to start the gateway on an invalid file, listing the problems', async () => {
    const dir = tempDir('cfg-start-');
    const file = writeConfig(dir, 'ok-site', 'unknownKey: 1\n');
    await expect(startGatewayProcess({ site: 'ok-site', config: file })).rejects.toThrow(/exited with 78[\s\S]*Unrecognized key: "unknownKey"[\s\S]*did not start/);
  });

  it('refuses a lane profile that does not exist, both in config check and at start', async () => {
    const dir = tempDir('cfg-profile-');
    const file = writeConfig(dir, 'profile-site');
    writeFileSync(file, readFileSync(file, 'utf8').replace('    relayPulseMs: 700', '    relayPulseMs: 700\n    profile: no-such-post'));
    const check = await cliFails(['config', 'check', file]);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain('no-such-post');
    await expect(startGatewayProcess({ site: 'profile-site', config: file })).rejects.toThrow(/exited with 78[\s\S]*no-such-post/);
  });
});

describe('command line', () => {
  it('issues a pass with a QR image and prints only the pass on stdout', async () => {
    const dir = tempDir('qr-');
    const png = path.join(dir, 'pass.png');
    const { stdout, stderr } = await cli(['pass', 'issue', '--qr', png, '--category', 'visitor']);
    expect(stdout.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(stderr).toContain(png);
    expect(readFileSync(png).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  });

  it('refuses bad pass flags with a message naming the flag', async () => {
    const { code, stderr } = await cliFails(['pass', 'issue', '--test-age-hours', 'yesterday']);
    expect(code).toBe(2);
    expect(stderr).toContain('--test-age-hours: expected a number, got "yesterday"');
  });

  it('generates a key pair and refuses to overwrite it', async () => {
    const dir = tempDir('keys-');
    await cli(['keys', 'generate', '--kid', 'office-2026', '--out', dir]);
    const pub = JSON.parse(readFileSync(path.join(dir, 'office-2026.jwk.json'), 'utf8')) as Record<string, unknown>;
    expect(pub).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: 'office-2026' });
    expect(pub.d).toBeUndefined();
    expect(existsSync(path.join(dir, 'office-2026.private.jwk.json'))).toBe(true);
    const again = await cliFails(['keys', 'generate', '--kid', 'office-2026', '--out', dir]);
    expect(again.stderr).toContain('exists already; refusing to overwrite a key');
  });

  it('imports a roster whose badges then admit, and imports nothing from a file with a bad row', async () => {
    const dir = tempDir('roster-');
    const config = writeConfig(dir, `it-${randomBytes(3).toString('hex')}`);
    const env = { GATEWAY_CONFIG: config };
    const header = 'staff_id,name,category,health_code,test_result,test_sampled_at,travel_risk,travel_as_of\n';
    const sampled = new Date(Date.now() - 3600_000).toISOString();
    writeFileSync(path.join(dir, 'bad.csv'), `${header}E1,王五,employee,green,negative,${sampled},none,${sampled}\nE2,赵六,boss,purple,negative,${sampled},none,${sampled}\n`);
    const bad = await cliFails(['roster', 'import', path.join(dir, 'bad.csv')], env);
    expect(bad.stderr).toMatch(/line 3, column category: .*/);
    expect(bad.stderr).toMatch(/line 3, column health_code: .*/);
    expect(bad.stderr).toContain('nothing imported');

    writeFileSync(path.join(dir, 'good.csv'), `\uFEFF${header}E1,王五,employee,green,negative,${sampled},none,${sampled}\n`);
    const good = await cli(['roster', 'import', path.join(dir, 'good.csv')], env);
    expect(good.stderr).toContain('imported 1 roster entry');

    const gw = await startGatewayProcess({ site: 'roster-site', config });
    try {
      await postJson(`${gw.url}/api/sim/lanes/in-1/temperature`, { celsius: 36.4 });
      await postJson(`${gw.url}/api/sim/lanes/in-1/scan`, { payload: 'CPB1:E1' });
      const admitted = await until('the badge decision', async () => {
        const { events } = (await (await guardGet(gw, '/api/events')).json()) as { events: { outcome: string; credential: string }[] };
        return events[0];
      });
      expect(admitted).toMatchObject({ outcome: 'admit', credential: 'staff-badge' });
    } finally {
      await gw.stop();
    }
  });
});

describe('daily screening report', () => {
  it('lists the screened and not yet screened workers of a day, and refuses a bad date', async () => {
    const dir = tempDir('screening-');
    const config = writeConfig(dir, `it-${randomBytes(3).toString('hex')}`);
    const env = { GATEWAY_CONFIG: config };
    const store = openStore(path.join(dir, 'data'));
    try {
      store.rosterUpsert(['E1', 'E2'].map((staffId) => ({ staffId, name: `工人${staffId}`, category: 'employee' as const, health: { healthCode: 'green' as const }, active: true, updatedAt: 0 })));
      const ref = pseudonymizer(Buffer.from(readFileSync(path.join(ROOT, 'config/demo/pseudonym.secret'), 'utf8').trim(), 'hex'));
      store.appendDecision(
        { id: 'cli-scr-1', at: Date.parse('2024-12-04T07:30:00+08:00'), lane: 'in-1', kind: 'decision', outcome: 'admit', reasons: [], alerts: [], credential: 'staff-badge', subjectRef: ref('E1'), subjectName: null, category: 'employee', temperature: 36.5 },
        () => null,
      );
    } finally {
      store.close();
    }
    const json = await cli(['report', 'screening', '--date', '2024-12-04', '--json'], env);
    const report = JSON.parse(json.stdout) as { workers: number; screened: { staffId: string; lane: string }[]; notScreened: { staffId: string }[] };
    expect(report.workers).toBe(2);
    expect(report.screened).toEqual([expect.objectContaining({ staffId: 'E1', lane: 'in-1', firstAt: '2024-12-03T23:30:00.000Z' })]);
    expect(report.notScreened.map((w) => w.staffId)).toEqual(['E2']);
    const table = await cli(['report', 'screening', '--date', '2024-12-04'], env);
    expect(table.stdout).toContain('1 of 2 workers screened, 1 not yet');
    const bad = await cliFails(['report', 'screening', '--date', '2024-13-01'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--date: expected a calendar date YYYY-MM-DD');
  });
});

describe('policy replay', () => {
  it('re-decides the passages from --since, a date read as China midnight, and names a bad time', async () => {
    const dir = tempDir('replay-');
    const config = writeConfig(dir, `it-${randomBytes(3).toString('hex')}`);
    const env = { GATEWAY_CONFIG: config };
    const store = openStore(path.join(dir, 'data'));
    try {
      // 07:30 China on 4 December is still 3 December in UTC: only China time counts it in.
      for (const [id, local] of [['before', '2024-12-03T20:00:00+08:00'], ['after', '2024-12-04T07:30:00+08:00']] as const) {
        const now = Date.parse(local);
        const input: DecideInput = {
          credential: { ok: true, kind: 'health-pass', subject: { id: 'W-1', name: '张三', category: 'employee', health: {
              healthCode: 'green',
              travel: { riskLevel: 'none', visits: [], asOf: new Date(now - 3_600_000).toISOString() },
              test: { result: 'negative', sampledAt: new Date(now - 30 * 3_600_000).toISOString() },
            },
          },
        },
          readings: [{ celsius: 36.5, at: now }],
          facts: { watchlist: [], approvals: [], riskAreas: [] },
          profile: MINE_ENTRANCE,
          now,
        };
        const v = decide(input);
        if (v.outcome !== 'admit') throw new Error(`expected an admission under the 48 h profile, got ${JSON.stringify(v)}`);
        store.appendDecision(
          { id, at: now, lane: 'in-1', kind: 'decision', outcome: v.outcome, reasons: v.reasons, alerts: [], credential: 'health-pass', subjectRef: 'p1_w1', subjectName: null, category: 'employee', temperature: 36.5, facts: evaluatedFacts(input) },
          () => null,
        );
      }
    } finally {
      store.close();
    }
    const strict = path.join(dir, 'strict.yaml');
    writeFileSync(strict, readFileSync(path.join(ROOT, 'config/profiles/mine-entrance.yaml'), 'utf8').replace(/^name: .*$/m, 'name: strict-24h').replace(/windowHours: 48/, 'windowHours: 24'));
    const out = await cli(['policy', 'replay', '--profile', strict, '--since', '2024-12-04', '--json'], env);
    expect(JSON.parse(out.stdout)).toMatchObject({ profile: 'strict-24h', replayed: 1, changed: 1, changedBy: { 'admit→refuse': 1 } });
    const bad = await cliFails(['policy', 'replay', '--profile', strict, '--since', 'yesterday'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--since: expected an ISO date or timestamp, China time unless it names a zone');
  });
});

describe('the demo without a broker', () => {
  it('starts an embedded broker on a loopback URL where nothing listens, and publishes to it', async () => {
    const port = await freePort();
    const site = `emb-${randomBytes(3).toString('hex')}`;
    const gw = await startGatewayProcess({ site, env: { MQTT_URL: `mqtt://127.0.0.1:${port}` } });
    try {
      const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4 });
      const got: string[] = [];
      sub.on('message', (_t, payload) => got.push(payload.toString()));
      await sub.subscribeAsync(`checkpoints/${site}/+/events`, { qos: 1 });
      const health = (await (await fetch(`${gw.url}/healthz`)).json()) as { mqtt: { embedded: boolean } };
      expect(health.mqtt.embedded).toBe(true);
      const { stdout: pass } = await cli(['pass', 'issue']);
      await postJson(`${gw.url}/api/sim/lanes/in-1/temperature`, { celsius: 36.6 });
      await postJson(`${gw.url}/api/sim/lanes/in-1/scan`, { payload: pass.trim() });
      const msg = await until('the event on the embedded broker', () => got[0]);
      expect(JSON.parse(msg)).toMatchObject({ outcome: 'admit', temperature: 36.6 });
      await sub.endAsync();
    } finally {
      expect(await gw.stop()).toBe(0);
    }
  });
});

