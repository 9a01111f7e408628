// `setup` as a site engineer meets it: the real CLI process answered prompt by prompt on
// stdin, then the written configuration through `config check` and the real gateway
// started on it: the first guard signs in, a pass of the site's own issuer is admitted,
// a demo pass is not. Also unattended (`--answers`), importing public keys.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { generateIssuerKeys } from '../../gateway/credentials/index.js';
import { ROOT, cli, cliFails, postJson, scratchDirs, startGatewayProcess, until, type GatewayProcess } from './helpers.js';

/** Temporary folders of this file, removed after it. */
const madeDir = scratchDirs();

let gw: GatewayProcess | undefined;
afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});

/** Runs `setup`, writing each answer once the prompt it follows is on stderr. */
async function setupAtPrompts(answers: [prompt: string, answer: string][]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['dist/gateway/cli/main.js', 'setup'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  let seen = 0;
  for (const [prompt, answer] of answers) {
    const at = await until(`the prompt "${prompt}"`, () => {
      const i = stderr.indexOf(prompt, seen);
      return i < 0 ? undefined : i + prompt.length;
    }, 15_000);
    seen = at;
    child.stdin.write(`${answer}\n`);
  }
  child.stdin.end();
  return { code: await exited, stderr };
}

async function eventsOf(config: string): Promise<{ outcome: string; reasons: { code: string }[] }[]> {
  const { stdout } = await cli(['events', '--json', '--config', config]);
  return stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { outcome: string; reasons: { code: string }[] });
}

async function scan(url: string, payload: string): Promise<void> {
  await postJson(`${url}/api/sim/lanes/in-1/temperature`, { celsius: 36.5 });
  const res = await postJson(`${url}/api/sim/lanes/in-1/scan`, { payload });
  expect(res.status).toBe(202);
}

describe('setup', () => {
  it('asks its questions one by one on stdin, writes a configuration that passes config check, and the gateway starts on it', async () => {
    const root = madeDir('setup-prompts-');
    const etc = path.join(root, 'etc');
    const { code, stderr } = await setupAtPrompts([
      ['Folder for the configuration and keys [/etc/checkpoint]: ', etc],
      ['Folder for the ledger (SQLite) [/var/lib/checkpoint]: ', path.join(root, 'data')],
      ['Site id (lowercase letters, digits and -, e.g. jinbei-mine): ', 'Jinbei Mine'], // refused, asked again
      ['Site id (lowercase letters, digits and -, e.g. jinbei-mine): ', 'setup-site'],
      ['Checkpoint id (e.g. main-gate): ', 'main-gate'],
      ['[mine-entrance]: ', ''],
      ['Lanes: their ids, separated by commas [in-1]: ', 'in-1, in-2'],
      ['Lane in-1, name shown to guards [in-1]: ', '入口 1 / Entrance 1'],
      ['Lane in-1, scanner: a number from the list, a device path, or sim [sim]: ', ''],
      ['Lane in-1, thermometer: a number from the list, a device path, or sim [sim]: ', '7'], // nothing detected here
      ['Lane in-1, thermometer: a number from the list, a device path, or sim [sim]: ', 'sim'],
      ['Lane in-1, relay: a number from the list, a device path, or sim [sim]: ', ''],
      ['Lane in-2, name shown to guards [in-2]: ', ''],
      ['Lane in-2, scanner: a number from the list, a device path, or sim [sim]: ', ''],
      ['Lane in-2, thermometer: a number from the list, a device path, or sim [sim]: ', ''],
      ['Lane in-2, relay: a number from the list, a device path, or sim [sim]: ', ''],
      ["Central office's MQTT broker [mqtt://127.0.0.1:1883]: ", ''],
      ['HTTP port of the kiosk and guard console [8080]: ', ''],
      ["else the path of the site's secret file [new]: ", ''],
      ['or "new" for a key pair made here: ', 'new'],
      ['or "new" for a key pair made here: ', 'new'],
      ['First guard: id [G-01]: ', ''],
      ['First guard: name: ', '王保安'],
      ['First guard: PIN (6-12 digits): ', '1234'], // too short: asked again before "PIN again"
      ['First guard: PIN (6-12 digits): ', '24681357'],
      ['PIN again: ', '24681357'],
      ['(yes, no) [yes]: ', ''],
    ]);
    expect(stderr).toContain('  expected a lowercase id: letters, digits and "-", at most 32 characters');
    expect(stderr).toContain('  no devices were detected: type a path, or sim');
    expect(stderr).toContain('  PIN: expected 6 to 12 digits');
    expect(stderr).not.toContain('24681357');
    expect(stderr).toContain(`config check: ${etc}/gateway.yaml: OK (2 lanes, site setup-site, checkpoint main-gate)`);
    expect(code).toBe(0);

    const config = path.join(etc, 'gateway.yaml');
    expect(parse(readFileSync(config, 'utf8'))).toMatchObject({
      site: 'setup-site',
      checkpoint: 'main-gate',
      dataDir: path.join(root, 'data'),
      policy: { profile: 'mine-entrance' },
      lanes: [{ id: 'in-1', name: '入口 1 / Entrance 1', scanner: { type: 'sim' } }, { id: 'in-2' }],
    });
    expect(readdirSync(path.join(etc, 'private')).sort()).toEqual(['setup-site-issuer-1.private.jwk.json', 'setup-site-office-1.private.jwk.json']);
    for (const secret of ['pseudonym.secret', 'private/setup-site-issuer-1.private.jwk.json']) expect(statSync(path.join(etc, secret)).mode & 0o777).toBe(0o600);
    expect((await cli(['config', 'check', config])).stdout).toBe(`${config}: OK (2 lanes, site setup-site, checkpoint main-gate)\n`);

    gw = await startGatewayProcess({ site: 'setup-site', config });
    // The first guard signs in as the console does.
    const signIn = await fetch(`${gw.url}/api/guard/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: gw.url },
      body: JSON.stringify({ guardId: 'G-01', pin: '24681357' }),
    });
    expect(signIn.status).toBe(200);

    const own = (await cli(['pass', 'issue', '--key', path.join(etc, 'private/setup-site-issuer-1.private.jwk.json')])).stdout.trim();
    await scan(gw.url, own);
    await until('the admission', async () => ((await eventsOf(config)).length === 1 ? true : undefined));
    const demo = (await cli(['pass', 'issue'])).stdout.trim();
    await scan(gw.url, demo);
    const events = await until('the refusal', async () => {
      const e = await eventsOf(config);
      return e.length === 2 ? e : undefined;
    });
    expect(events.map((e) => [e.outcome, e.reasons.map((r) => r.code)])).toEqual([
      ['refuse', ['PASS_UNKNOWN_KEY']],
      ['admit', []],
    ]);
  });

  it('stops with exit 2 and writes nothing when the input ends before the last answer', async () => {
    const root = madeDir('setup-short-');
    const etc = path.join(root, 'etc');
    const { code, stderr } = await setupAtPrompts([
      ['[/etc/checkpoint]: ', etc],
      ['[/var/lib/checkpoint]: ', path.join(root, 'data')],
    ]);
    expect(code).toBe(2);
    expect(stderr).toContain('error: the input ended before the answer to "Site id (lowercase letters, digits and -, e.g. jinbei-mine)"; nothing was written');
    expect(existsSync(etc)).toBe(false);
  });

  it('runs unattended from an answers file: imports the public keys, copies the site secret, writes a device path, and refuses the demo key', async () => {
    const root = madeDir('setup-answers-');
    const office = path.join(root, 'from-office');
    mkdirSync(office);
    for (const kid of ['office-a', 'office-b']) writeFileSync(path.join(office, `${kid}.jwk.json`), JSON.stringify((await generateIssuerKeys(kid)).publicJwk));
    writeFileSync(path.join(root, 'health-office.jwk.json'), JSON.stringify((await generateIssuerKeys('health-1')).publicJwk));
    writeFileSync(path.join(root, 'site.secret'), `${'ab'.repeat(32)}\n`);
    writeFileSync(path.join(root, 'pin'), '86421357\n');
    const answers = (issuers: string): string =>
      [
        'dir: etc',
        'dataDir: data',
        'site: answers-site',
        'checkpoint: east-gate',
        'profile: office-area',
        'lanes:',
        '  - id: in-1',
        '    scanner: { type: line, path: /dev/serial/by-id/usb-Honeywell_Scanner-if00 }',
        '    relay: { type: modbus, path: /dev/serial/by-id/usb-1a86_USB_Serial-if00-port0, profile: coils, channel: 2 }',
        'secret: site.secret',
        `issuers: ${issuers}`,
        'office: from-office',
        'guard: { id: G-07, name: 李保安, pinFile: pin }',
      ].join('\n');

    writeFileSync(path.join(root, 'demo.yaml'), answers(path.join(ROOT, 'config/trust/demo-issuer-1.jwk.json')));
    const refused = await cliFails(['setup', '--answers', path.join(root, 'demo.yaml')]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`error: ${path.join(ROOT, 'config/trust/demo-issuer-1.jwk.json')} is the demo pass issuer (demo-issuer-1), whose private key is published with the source code; import the real pass issuers\n`);
    expect(existsSync(path.join(root, 'etc'))).toBe(false);

    writeFileSync(path.join(root, 'answers.yaml'), answers('health-office.jwk.json'));
    await cli(['setup', '--answers', path.join(root, 'answers.yaml')]);
    const etc = path.join(root, 'etc');
    expect(readdirSync(path.join(etc, 'central-keys')).sort()).toEqual(['office-a.jwk.json', 'office-b.jwk.json']);
    expect(readdirSync(path.join(etc, 'pass-issuers'))).toEqual(['health-office.jwk.json']);
    expect(existsSync(path.join(etc, 'private'))).toBe(false);
    expect(readFileSync(path.join(etc, 'pseudonym.secret'), 'utf8')).toBe(`${'ab'.repeat(32)}\n`);
    const config = parse(readFileSync(path.join(etc, 'gateway.yaml'), 'utf8')) as { lanes: unknown[]; policy: unknown };
    expect(config.policy).toEqual({ profile: 'office-area' });
    expect(config.lanes).toEqual([
      {
        id: 'in-1',
        scanner: { type: 'line', path: '/dev/serial/by-id/usb-Honeywell_Scanner-if00' },
        thermometer: { type: 'sim' },
        relay: { type: 'modbus', path: '/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0', profile: 'coils', channel: 2 },
      },
    ]);
    const guards = await cli(['guards', 'list', '--json', '--config', path.join(etc, 'gateway.yaml')]);
    expect(JSON.parse(guards.stdout)).toMatchObject({ id: 'G-07', name: '李保安' });

    // Run again over what is there: refused, nothing touched.
    copyFileSync(path.join(root, 'answers.yaml'), path.join(root, 'again.yaml'));
    const again = await cliFails(['setup', '--answers', path.join(root, 'again.yaml')]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`error: refusing to overwrite what is there already: ${etc}/gateway.yaml, ${etc}/pseudonym.secret`);
  });

  it('lists every problem of an answers file at its line, exit 78', async () => {
    const root = madeDir('setup-bad-answers-');
    writeFileSync(path.join(root, 'answers.yaml'), ['site: Bad Site', 'checkpoint: all', 'issuers: new', 'guard: { id: G-1, name: x }', 'colour: red'].join('\n'));
    const { code, stderr } = await cliFails(['setup', '--answers', path.join(root, 'answers.yaml')]);
    expect(code).toBe(78);
    const file = path.join(root, 'answers.yaml');
    expect(stderr).toContain(`${file}:1: site: expected a lowercase id`);
    expect(stderr).toContain(`${file}:2: checkpoint: expected a checkpoint id other than "all"`);
    expect(stderr).toContain(`${file}:5: colour: unknown key`);
    expect(stderr).toMatch(/office: missing; expected string/);
  });
});
