// The CLI and start-up refusals as a user meets them: real processes, real files.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { decide } from '../../gateway/policy/decide.js';
import { MINE_ENTRANCE } from '../../gateway/policy/profiles.js';
import { evaluatedFacts } from '../../gateway/policy/replay.js';
import type { DecideInput } from '../../gateway/policy/types.js';
import { openStore } from '../../gateway/store/index.js';
import { pseudonymizer } from '../../gateway/telemetry/pseudonym.js';
import { ROOT, cli, cliFails, guardGet, postJson, runProcess, startGatewayProcess, tempDir, until, writeConfig } from './helpers.js';

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

  it('lists every problem of a bad file and exits 78', async () => {
    const dir = tempDir('cfg-bad-');
    const file = writeConfig(dir, 'Bad Site');
    writeFileSync(file, readFileSync(file, 'utf8').replace('relayPulseMs: 700', 'relayPulseMs: fast').replace('port: 8080', 'port: 99999'));
    const { code, stderr } = await cliFails(['config', 'check', file]);
    expect(code).toBe(78);
    expect(stderr).toContain(`${file}: invalid configuration (3 problems)`);
    expect(stderr).toMatch(/gateway\.yaml:\d+: site: expected a lowercase id/);
    expect(stderr).toMatch(/gateway\.yaml:\d+: http\.port: .*<=65535/);
    expect(stderr).toMatch(/gateway\.yaml:\d+: lanes\[0\]\.relayPulseMs: .*expected number/);
  });

  it('lists the misspelt key, the missing secret and trust folder and the misspelt profile in one run, at their lines, and start-up says the same with exit 78', async () => {
    const dir = tempDir('cfg-all-');
    const file = path.join(dir, 'gateway.yaml');
    writeFileSync(
      file,
      [
        'site: cfg-check', // 1
        'checkpoint: gate-1', // 2
        `dataDir: ${dir}/data`, // 3
        'http:', // 4
        '  port: 8080', // 5
        '  hots: 127.0.0.1', // 6
        'privacy:', // 7
        `  pseudonymSecretFile: ${dir}/no-such.secret`, // 8
        'trust:', // 9
        `  passIssuersDir: ${dir}/no-such-trust`, // 10
        'policy:', // 11
        '  profile: mine-entrence', // 12
        'lanes:', // 13
        '  - id: in-1', // 14
        '    scanner: { type: sim }', // 15
        '    thermometer: { type: sim }', // 16
        '    relay: { type: sim }', // 17
        '',
      ].join('\n'),
    );
    const check = await cliFails(['config', 'check', file]);
    expect(check.code).toBe(78);
    expect(check.stderr).toBe(
      [
        `${file}: invalid configuration (4 problems):`,
        `  ${file}:6: http.hots: unknown key; did you mean "host"?`,
        `  ${file}:8: privacy.pseudonymSecretFile: cannot read the pseudonym secret ${dir}/no-such.secret: no such file or folder (ENOENT)`,
        `  ${file}:10: trust.passIssuersDir: cannot use the folder of pass issuers ${dir}/no-such-trust: no such file or folder (ENOENT)`,
        `  ${file}:12: policy.profile: no profile "mine-entrence" (expected a file ${path.join(ROOT, 'config/profiles/mine-entrence.yaml')}); did you mean "mine-entrance"?`,
        '',
      ].join('\n'),
    );
    const start = spawnSync(process.execPath, ['dist/gateway/main.js'], { cwd: ROOT, env: { ...process.env, GATEWAY_CONFIG: file, HTTP_PORT: '0' }, encoding: 'utf8' });
    expect(start.status).toBe(78);
    expect(start.stderr).toBe(`${check.stderr}The gateway did not start.\n`);
  });

  it('refuses to start the gateway on an invalid file, listing the problems', async () => {
    const dir = tempDir('cfg-start-');
    const file = writeConfig(dir, 'ok-site', 'unknownKey: 1\n');
    await expect(startGatewayProcess({ site: 'ok-site', config: file })).rejects.toThrow(/exited with 78[\s\S]*unknownKey: unknown key[\s\S]*did not start/);
  });

  it('refuses a lane profile that does not exist, both in config check and at start', async () => {
    const dir = tempDir('cfg-profile-');
    const file = writeConfig(dir, 'profile-site');
    writeFileSync(file, readFileSync(file, 'utf8').replace('    relayPulseMs: 700', '    relayPulseMs: 700\n    profile: no-such-post'));
    const check = await cliFails(['config', 'check', file]);
    expect(check.code).toBe(78);
    expect(check.stderr).toContain('no-such-post');
    await expect(startGatewayProcess({ site: 'profile-site', config: file })).rejects.toThrow(/exited with 78[\s\S]*no-such-post/);
  });
});

describe('start-up', () => {
  it('names HTTP_PORT when the port is in use, and exits 1 without a stack', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as net.AddressInfo;
    try {
      const dir = tempDir('port-');
      const config = writeConfig(dir, `it-${randomBytes(3).toString('hex')}`);
      const r = await runProcess(['dist/gateway/main.js'], { GATEWAY_CONFIG: config, HTTP_PORT: String(port) });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `HTTP port ${port} on 127.0.0.1 (HTTP_PORT=${port} from the environment) is already in use (EADDRINUSE): another program or another gateway listens there. ` +
          `Stop it, or start this gateway on a free port: HTTP_PORT=<port>, or http.port in ${config}.\nThe gateway did not start.\n`,
      );
    } finally {
      taken.close();
    }
  });

  it('logs readable coloured lines in China time on a terminal, the ready line in bold', async () => {
    // script(1) gives the gateway a pseudo-terminal as stdout; TZ=UTC shows the stamps are China time anyway.
    const dir = tempDir('pty-');
    const config = writeConfig(dir, `it-${randomBytes(3).toString('hex')}`);
    const env: Record<string, string | undefined> = { ...process.env, GATEWAY_CONFIG: config, HTTP_PORT: '0', TZ: 'UTC' };
    delete env.LOG_FORMAT;
    const child = spawn('script', ['-qec', `${process.execPath} dist/gateway/main.js`, '/dev/null'], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const lines: string[] = [];
    createInterface({ input: child.stdout }).on('line', (l) => lines.push(l));
    try {
      const ready = await until('the ready line on the terminal', () => lines.find((l) => l.includes('ready: kiosk at')), 15_000);
      const plain = ready.replace(/\x1b\[[0-9;]*m/g, '');
      expect(plain).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} INFO: >>> ready: kiosk at http:\/\/127\.0\.0\.1:\d+\/ \(started in \d+ ms\)/);
      expect(ready).toContain('\x1b[1m'); // bold
      const stamp = Date.parse(`${plain.slice(0, 23).replace(' ', 'T')}+08:00`);
      expect(Math.abs(stamp - Date.now())).toBeLessThan(3_600_000); // China time, not UTC (8 h apart)
      expect(lines.some((l) => l.startsWith('{'))).toBe(false);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('logs JSON lines when piped, and readable lines without colour when LOG_FORMAT=pretty asks', async () => {
    const site = `it-${randomBytes(3).toString('hex')}`;
    const json = await startGatewayProcess({ site });
    const jsonLogs = [...json.logs];
    await json.stop();
    const line = JSON.parse(jsonLogs.find((l) => l.includes('ready: kiosk at')) ?? '{}') as { level?: number; ready?: boolean; msg?: string };
    expect(line).toMatchObject({ level: 30, ready: true, msg: expect.stringMatching(/^ready: kiosk at /) as unknown });

    const pretty = await startGatewayProcess({ site, env: { LOG_FORMAT: 'pretty' } });
    const prettyLogs = [...pretty.logs];
    await pretty.stop();
    expect(prettyLogs.find((l) => l.includes('ready: kiosk at'))).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} INFO: >>> ready: kiosk at /);
    expect(prettyLogs.some((l) => l.startsWith('{') || l.includes('\x1b['))).toBe(false);
  });

  it('refuses an unknown LOG_FORMAT with exit 78, naming the variable', async () => {
    const r = await runProcess(['dist/gateway/main.js'], { LOG_FORMAT: 'xml', HTTP_PORT: '0' });
    expect(r.code).toBe(78);
    expect(r.stderr).toBe('environment LOG_FORMAT: expected json or pretty, got "xml"\nThe gateway did not start.\n');
  });
});

describe('command line', () => {
  it('ends quietly with 0 when the reader of its output goes away (events | head -1)', () => {
    const dir = tempDir('epipe-');
    const config = writeConfig(dir, `it-${randomBytes(3).toString('hex')}`);
    const store = openStore(path.join(dir, 'data'));
    try {
      // 1000 rows of JSON are far more than a pipe holds: the writes go on after head has gone.
      for (let i = 0; i < 1000; i++) {
        store.appendDecision(
          { id: `epipe-${i}`, at: Date.now() - i * 1000, lane: 'in-1', kind: 'decision', outcome: 'admit', reasons: [], alerts: [], credential: 'staff-badge', subjectRef: null, subjectName: null, category: 'employee', temperature: 36.5 },
          () => null,
        );
      }
    } finally {
      store.close();
    }
    const r = spawnSync('bash', ['-c', 'set -o pipefail; "$0" dist/gateway/cli/main.js events --json --limit 1000 | head -1', process.execPath], {
      cwd: ROOT,
      env: { ...process.env, GATEWAY_CONFIG: config },
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });

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
  it('lists the screened and not yet screened workers of a day in China time, and refuses a bad date', async () => {
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
    expect(table.stdout).toMatch(/screened +E1 +工人E1 +2024-12-04 07:30:00 +in-1 +admit/); // China time, as the kiosk shows it
    const events = await cli(['events', '--from', '2024-12-04', '--to', '2024-12-04 08:00'], env);
    expect(events.stdout).toBe('2024-12-04 07:30:00  #1  in-1  admit   36.5  staff-badge  -\n');
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

