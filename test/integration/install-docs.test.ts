// README.md and docs/install.md followed on a clean copy of the repository (the tracked
// files, node_modules linked in), block by block: the blocks marked `<!-- readme-test: id -->`
// and `<!-- install-test: id -->` run as written in bash. What a test machine cannot do
// stands in as docs/install.md section 12 says: a private Mosquitto (MQTT_URL) and free
// ports (the README's own `GW=` line and HTTP_PORT), the machine's paths under a temporary
// folder, `sudo` and `sudo -u checkpoint` as the test's own user, the gateway started the
// way its systemd unit starts it, `systemctl stop/start` done by the test.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cleanup, freePort, privateMosquitto } from '../gateway/telemetry/helpers.js';
import { ROOT, tempDir, until } from './helpers.js';

/** The marked blocks of a Markdown file, by id, without the list indentation. */
function markedBlocks(file: string, tag: 'readme-test' | 'install-test'): Map<string, string> {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const re = new RegExp(`<!-- ${tag}: ([\\w-]+) -->\\n([ \\t]*)\`\`\`[a-z]*\\n([\\s\\S]*?)\\n\\2\`\`\``, 'g');
  const out = new Map<string, string>();
  for (const m of text.matchAll(re)) {
    const [, id, indent, body] = m as unknown as [string, string, string, string];
    out.set(id, body.split('\n').map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l)).join('\n'));
  }
  return out;
}

const README = markedBlocks('README.md', 'readme-test');
const INSTALL = markedBlocks('docs/install.md', 'install-test');
const block = (blocks: Map<string, string>, id: string): string => {
  const b = blocks.get(id);
  if (b === undefined) throw new Error(`no block marked ${id}`);
  return b;
};

/** `sudo` on a test machine: the test's own user, for `sudo cmd` and `sudo -u checkpoint cmd` alike. */
const SUDO_AS_SELF = 'sudo() { if [ "$1" = "-u" ]; then shift 2; fi; "$@"; }\n';

interface Shell {
  child: ChildProcess;
  out(): string;
  waitFor(what: string | RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

let cleanup: Cleanup;
let copy: string;
let env: NodeJS.ProcessEnv;

/** A bash script in the clean copy; its process group is ended by stop(). */
function shell(script: string, extraEnv: Record<string, string> = {}, cwd = copy): Shell {
  const child = spawn('bash', ['-c', script], { cwd, env: { ...env, ...extraEnv }, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  const s: Shell = {
    child,
    out: () => text,
    exited,
    waitFor: async (what, timeoutMs = 30_000) => {
      await until(`${String(what)} from: ${script.split('\n')[0]}`, () => ((typeof what === 'string' ? text.includes(what) : what.test(text)) ? true : undefined), timeoutMs);
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid!, 'SIGTERM');
        } catch {
          // already gone
        }
      }
      await exited;
    },
  };
  cleanup.add(() => s.stop());
  return s;
}

/** Run a script to its end; its combined output. */
async function run(script: string, extraEnv: Record<string, string> = {}, input?: string): Promise<{ code: number | null; out: string }> {
  const s = shell(script, extraEnv);
  s.child.stdin!.end(input ?? '');
  const code = await s.exited;
  return { code, out: s.out() };
}

beforeAll(async () => {
  cleanup = new Cleanup();
  // A clean copy: what git tracks (and new files not yet committed, not ignored ones).
  copy = path.join(tempDir('install-docs-'), 'checkpoint-gateway');
  cleanup.add(() => rmSync(path.dirname(copy), { recursive: true, force: true }));
  const files = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' }).stdout.split('\0').filter((f) => f !== '');
  for (const f of files) {
    if (!existsSync(path.join(ROOT, f))) continue; // deleted in the worktree
    mkdirSync(path.dirname(path.join(copy, f)), { recursive: true });
    copyFileSync(path.join(ROOT, f), path.join(copy, f));
    chmodSync(path.join(copy, f), statSync(path.join(ROOT, f)).mode);
  }
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
  const broker = await privateMosquitto(cleanup);
  env = { ...process.env, MQTT_URL: broker.url };
  delete env['GATEWAY_CONFIG'];
  delete env['HTTP_PORT'];
}, 60_000);

afterAll(async () => {
  await cleanup.run();
});

describe('README followed on a clean copy', () => {
  let gw: string;
  let gateway: Shell;

  it('starts the demo with npm start (it builds first) on the port the GW line names', async () => {
    const port = await freePort();
    gw = block(README, 'gw').replace('http://127.0.0.1:8080', `http://127.0.0.1:${port}`);
    expect(gw).toBe(`GW=http://127.0.0.1:${port}`);
    gateway = shell('npm start', { HTTP_PORT: String(port) });
    await gateway.waitFor(`ready: kiosk at http://127.0.0.1:${port}/`, 180_000);
  }, 200_000);

  it('scans a demo pass: admitted, the relay pulsed, in the ledger, and central tail prints it without the name', async () => {
    const tail = shell(block(README, 'tail'));
    await tail.waitFor('tailing checkpoints/demo-mine/');
    await tail.waitFor('status online');
    const scan = await run(`${gw}\n${block(README, 'scan')}`);
    expect(scan.out.match(/\{"accepted":true\}/g)).toHaveLength(2);
    const after = await run(`${gw}\nsleep 1\ncurl -s $GW/api/sim/lanes/in-1/relay\nnpm run --silent cli -- events`);
    expect(after.out).toMatch(/"pulses":\[\{"at":\d+,"ms":700\}\]/);
    expect(after.out).toMatch(/#1 {2}in-1 {2}admit {3}36\.5 {2}health-pass {2}-/);
    await tail.waitFor(/demo-mine\/mine-entrance {2}#1 {2}in-1 {2}admit .* p1_/);
    expect(tail.out()).not.toContain('张三');
    await tail.stop();
  }, 60_000);

  it('refuses the red code, the old test, the expired pass and the pass of an unknown issuer, then the fever after a re-measure', async () => {
    const refusals = await run(`${gw}\n${block(README, 'refusals')}`);
    const codes = refusals.out.split('\n').filter((l) => / {2}in-1 {2}/.test(l)).map((l) => l.trim().split(/\s+/).pop());
    expect(codes).toEqual(['PASS_UNKNOWN_KEY', 'PASS_EXPIRED', 'TEST_EXPIRED', 'HEALTH_CODE_RED']);

    // The kiosk's stream shows the re-measure request before the fever refusal.
    const stream = await fetch(`${gw.slice(3)}/api/stream?lane=in-1`);
    let seen = '';
    const reader = stream.body!.getReader();
    const reading = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        seen += Buffer.from(value).toString();
      }
    })();
    const scanFn = block(README, 'refusals').split('\n').slice(0, 2).join('\n');
    const remeasure = await run(`${gw}\n${scanFn}\n${block(README, 'remeasure')}`);
    await reader.cancel();
    await reading.catch(() => undefined);
    expect(seen).toContain('TEMP_RECHECK');
    expect(seen).toContain('体温37.6℃，请再测一次');
    expect(remeasure.out.trim().split('\n').pop()).toMatch(/in-1 {2}refuse {2}37\.6 {2}health-pass {2}TEMP_FEVER$/);
  }, 90_000);

  it('adds a guard with the PIN from a pipe', async () => {
    const { code, out } = await run(block(README, 'guard'), {}, '24681357\n');
    expect(code).toBe(0);
    expect(out).toContain('guard G-01 (王保安) added');
  }, 30_000);

  it('puts the demo pass on the watchlist, and takes it off again', async () => {
    const scanDemo = `${gw}\n${block(README, 'refusals').split('\n').slice(0, 2).join('\n')}\nscan "$(npm run --silent cli -- pass issue)"\nnpm run --silent cli -- events --limit 1`;
    const watch = await run(block(README, 'watchlist'));
    expect(watch.code).toBe(0);
    expect(watch.out).toMatch(/checkpoints\/demo-mine\/mine-entrance\/response\/watchlist: applied/);
    expect((await run(scanDemo)).out).toMatch(/refuse .*WATCHLIST_CLOSE_CONTACT\s*$/);
    const unwatch = await run(block(README, 'unwatch'));
    expect(unwatch.code).toBe(0);
    expect(unwatch.out).toMatch(/mine-entrance\/response\/watchlist: applied/);
    expect((await run(scanDemo)).out).toMatch(/in-1 {2}admit {3}36\.5 {2}health-pass {2}-\s*$/);
  }, 90_000);

  it('runs the central office service beside the demo and finds the scan in its database', async () => {
    const port = String(await freePort());
    const lines = block(README, 'central').split('\n');
    const office = shell(lines.find((l) => l.startsWith('npm run central'))!, { HTTP_PORT: port });
    await office.waitFor('ready: central office service', 120_000);
    // "npm start" of terminal 2 is the demo already running; "scan as in step 4":
    await run(`${gw}\n${block(README, 'scan')}`);
    const events = lines.find((l) => l.includes('central events'))!;
    await until('the scan in the office database', async () => {
      const { out } = await run(events, { HTTP_PORT: port });
      return /demo-mine\/mine-entrance #\d+ in-1 decision admit/.test(out) ? true : undefined;
    }, 30_000);
    await office.stop();
  }, 180_000);

  it('runs the canteen demo: the fourth is held, the exit beam frees a seat, anti-passback refuses a second entry', async () => {
    await gateway.stop();
    const port = await freePort();
    const canteen = shell(block(README, 'canteen'), { HTTP_PORT: String(port) });
    await canteen.waitFor(`ready: kiosk at http://127.0.0.1:${port}/`, 60_000);
    const scans = await run(block(README, 'canteen-scans').replace('CANTEEN=http://127.0.0.1:8081', `CANTEEN=http://127.0.0.1:${port}`));
    const rows = scans.out.split('\n').filter((l) => / {2}in-1 {2}/.test(l)).map((l) => l.trim().split(/\s+/).slice(4).join(' '));
    expect(rows).toEqual(['admit 36.5 health-pass -', 'refuse - health-pass ANTI_PASSBACK', 'refer - health-pass ZONE_FULL', 'admit 36.5 health-pass -', 'admit 36.5 health-pass -', 'admit 36.5 health-pass -']);
    expect(scans.out).toContain('zone canteen: 3 inside');
    await canteen.stop();
  }, 120_000);
});

describe('docs/install.md followed on a clean copy', () => {
  let prefix: string;
  let installEnv: Record<string, string>;
  /** The machine's paths under the test's folder; /opt/checkpoint-gateway is the clean copy. */
  const local = (text: string): string =>
    text
      .replaceAll('/opt/checkpoint-gateway', copy)
      .replace(/(?<![\w/])\/(etc\/checkpoint|var\/lib\/checkpoint|var\/backups\/checkpoint|usr\/local\/bin)\b/g, (_m, p: string) => `${prefix}/${p}`);
  const config = (): string => `${prefix}/etc/checkpoint/gateway.yaml`;

  beforeAll(async () => {
    prefix = tempDir('install-root-');
    cleanup.add(() => rmSync(prefix, { recursive: true, force: true }));
    // What section 3 does as root with owners (install -d -o checkpoint ...): the folders.
    for (const d of ['etc/checkpoint', 'var/lib/checkpoint', 'var/backups/checkpoint', 'usr/local/bin']) mkdirSync(path.join(prefix, d), { recursive: true });
    installEnv = { PATH: `${prefix}/usr/local/bin:${process.env['PATH'] ?? ''}`, CHECKPOINT_HOME: copy, GATEWAY_CONFIG: `${prefix}/etc/checkpoint/gateway.yaml` };
  });

  it('builds', async () => {
    const { code, out } = await run(SUDO_AS_SELF + local(block(INSTALL, 'build')), installEnv);
    expect(out).not.toMatch(/error/i);
    expect(code).toBe(0);
    expect(existsSync(path.join(copy, 'dist/gateway/cli/setup.js'))).toBe(true);
  }, 240_000);

  it('installs the CLI wrapper, which lists the devices', async () => {
    const { code, out } = await run(SUDO_AS_SELF + local(block(INSTALL, 'cli')), installEnv);
    expect(code).toBe(0);
    expect(existsSync(path.join(prefix, 'usr/local/bin/checkpoint-gateway'))).toBe(true);
    expect(out).toMatch(/no serial ports, HID devices or keyboards found|KIND +PATH/);
  }, 30_000);

  let gwPort: number;
  it('runs setup through its prompts, and config check passes on what it wrote', async () => {
    gwPort = await freePort();
    const s = shell(SUDO_AS_SELF + local(block(INSTALL, 'setup')), installEnv);
    let at = 0;
    const answer = async (prompt: string, line: string): Promise<void> => {
      await until(`the prompt "${prompt}"`, () => {
        const i = s.out().indexOf(prompt, at);
        if (i >= 0) at = i + prompt.length;
        return i >= 0 ? true : undefined;
      }, 30_000);
      s.child.stdin!.write(`${line}\n`);
    };
    await answer('Folder for the configuration and keys [/etc/checkpoint]: ', local('/etc/checkpoint'));
    await answer('Folder for the ledger (SQLite) [/var/lib/checkpoint]: ', local('/var/lib/checkpoint'));
    await answer('e.g. jinbei-mine): ', 'docs-site');
    await answer('(e.g. main-gate): ', 'main-gate');
    await answer('[mine-entrance]: ', '');
    await answer('[in-1]: ', '');
    await answer('Lane in-1, name shown to guards [in-1]: ', '入口 1 / Entrance 1');
    for (const role of ['scanner', 'thermometer', 'relay']) await answer(`Lane in-1, ${role}: a number from the list, a device path, or sim [sim]: `, 'sim');
    await answer('[mqtt://127.0.0.1:1883]: ', env['MQTT_URL']!);
    await answer('[8080]: ', String(gwPort));
    await answer('[new]: ', '');
    await answer('a key pair made here: ', 'new');
    await answer('a key pair made here: ', 'new');
    await answer('[G-01]: ', '');
    await answer('First guard: name: ', '王保安');
    await answer('PIN (6-12 digits): ', '24681357');
    await answer('PIN again: ', '24681357');
    await answer('(yes, no) [yes]: ', '');
    s.child.stdin!.end();
    expect(await s.exited).toBe(0);
    expect(s.out()).toContain(`config check: ${config()}: OK (1 lane, site docs-site, checkpoint main-gate)`);

    const check = await run(SUDO_AS_SELF + local(block(INSTALL, 'check')), installEnv);
    expect(check.out).toBe(`${config()}: OK (1 lane, site docs-site, checkpoint main-gate)\n`);
  }, 90_000);

  /** A POST with the headers a reverse proxy forwards (fetch cannot set Host). */
  function post(port: number, urlPath: string, headers: Record<string, string>, body: unknown): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const data = JSON.stringify(body);
      const req = request({ host: '127.0.0.1', port, path: urlPath, method: 'POST', headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.end(data);
    });
  }

  /** The gateway as deploy/systemd/checkpoint-gateway.service starts it. */
  function startAsTheUnit(): Shell {
    const unit = readFileSync(path.join(copy, 'deploy/systemd/checkpoint-gateway.service'), 'utf8');
    const values = (key: string): string[] => [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => local(m[1]!));
    const unitEnv = Object.fromEntries(values('Environment').map((e) => e.split(/=(.*)/s).slice(0, 2) as [string, string]));
    expect(unitEnv['GATEWAY_CONFIG']).toBe(config());
    const [workingDirectory] = values('WorkingDirectory');
    const [execStart] = values('ExecStart');
    expect(execStart).toBe('/usr/bin/node dist/gateway/main.js');
    return shell(`exec ${execStart}`, { ...installEnv, ...unitEnv }, workingDirectory);
  }

  it('starts the gateway the way the unit does, signs a guard in through what a TLS proxy forwards, and backs it up while it runs', async () => {
    // Section 9's allowedHosts, for the console behind a TLS proxy.
    const written = readFileSync(config(), 'utf8');
    writeFileSync(config(), written.replace(`  port: ${gwPort}\n`, `  port: ${gwPort}\n  allowedHosts: [checkpoint-3.jinbei.lan]\n`));
    expect((await run(SUDO_AS_SELF + local(block(INSTALL, 'check')), installEnv)).code).toBe(0);
    const gateway = startAsTheUnit();
    await gateway.waitFor(`ready: kiosk at http://127.0.0.1:${gwPort}/`, 60_000);
    // What a proxy passing the browser's Host (Caddy; nginx with $http_host) forwards: the first guard signs in.
    const signIn = (host: string) => post(gwPort, '/api/guard/login', { host, origin: 'https://checkpoint-3.jinbei.lan' }, { guardId: 'G-01', pin: '24681357' });
    expect((await signIn('checkpoint-3.jinbei.lan')).status).toBe(200);
    // A proxy that rewrote Host to the upstream's address: refused as cross-site, as the page says.
    const rewritten = await signIn(`127.0.0.1:${gwPort}`);
    expect(rewritten.status).toBe(403);
    expect(rewritten.body).toContain('CROSS_SITE');
    // A pass of the site's own issuer (its private key was left in private/ for the office).
    const pass = (await run(`node dist/gateway/cli/main.js pass issue --key ${prefix}/etc/checkpoint/private/docs-site-issuer-1.private.jwk.json`)).out.trim();
    const scan = `curl -s -XPOST 127.0.0.1:${gwPort}/api/sim/lanes/in-1/temperature -H 'content-type: application/json' -d '{"celsius":36.5}'; curl -s -XPOST 127.0.0.1:${gwPort}/api/sim/lanes/in-1/scan -H 'content-type: application/json' -d '{"payload":"${pass}"}'; sleep 1`;
    await run(scan);
    await run(scan);
    const backup = await run(SUDO_AS_SELF + local(block(INSTALL, 'backup')), installEnv);
    expect(backup.out).toMatch(/manual\.sqlite: \d+ bytes, 2 ledger rows \(last seq 2\), integrity ok/);
    await run(scan); // a third passage after the backup

    // Restore: the block's systemctl lines are the test's stop and start.
    const segments = local(block(INSTALL, 'restore')).split(/^sudo systemctl (?:stop|start) checkpoint-gateway$/m);
    expect(segments).toHaveLength(3);
    const vars = segments[0]!; // BACKUP=...
    await gateway.stop();
    const moved = await run(SUDO_AS_SELF + vars + segments[1]!, installEnv);
    expect(moved.code).toBe(0);
    expect(existsSync(`${prefix}/var/lib/checkpoint/before-restore/gateway.sqlite`)).toBe(true);
    const restarted = startAsTheUnit();
    await restarted.waitFor(`ready: kiosk at http://127.0.0.1:${gwPort}/`, 60_000);
    const db = new Database(`${prefix}/var/lib/checkpoint/gateway.sqlite`, { readonly: true });
    try {
      expect(db.prepare('SELECT count(*) AS n FROM ledger').get()).toEqual({ n: 2 });
    } finally {
      db.close();
    }
    await restarted.stop();
  }, 120_000);

  it('ships systemd units that systemd-analyze verify accepts (the kiosk unit needs cage, absent here)', () => {
    const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
    if (analyze.error) throw new Error('systemd-analyze is missing: apt-get install systemd (only its verify is used)');
    for (const unit of ['checkpoint-gateway.service', 'checkpoint-kiosk@.service', 'checkpoint-backup.service', 'checkpoint-backup.timer']) {
      const r = spawnSync('systemd-analyze', ['verify', path.join(copy, 'deploy/systemd', unit)], { encoding: 'utf8' });
      const complaints = `${r.stdout}${r.stderr}`
        .split('\n')
        .filter((l) => l.trim() !== '' && !(unit.startsWith('checkpoint-kiosk') && !existsSync('/usr/bin/cage') && /Command \/usr\/bin\/cage is not executable/.test(l)));
      expect({ unit, complaints }).toEqual({ unit, complaints: [] });
    }
  });
});
