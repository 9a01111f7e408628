// `setup`: from a bare checkpoint PC to a configuration the gateway starts on, the way
// zigbee2mqtt's onboarding does it: ask the site, the checkpoint and its lanes, show the
// devices plugged in and let the engineer pick each lane's scanner, thermometer and relay,
// make or import the key material, add the first guard, write it all and run the same
// check the gateway runs at start. Prompts go to stderr and answers come from stdin, one
// line each, so a script (or a test) can answer them; `--answers file.yaml` runs it
// unattended. On a terminal the PIN is typed without echo.
import type { Command } from 'commander';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { ConfigError, readConfigFile, validateYamlConfig } from '../config/load.js';
import { shippedProfilesDir } from '../config/profiles.js';
import { configSchema } from '../config/schema.js';
import { checkGuardId, checkPin } from '../guards/accounts.js';
import { GuardError } from '../guards/errors.js';
import { listDevices, type Listed } from './devices.js';
import { readHidden } from './guards.js';
import { DEFAULT_DATA_DIR, DEFAULT_DIR, DEFAULT_MQTT_URL, SetupError, answersSchema, applySetup, existingTargets, laneAnswerSchema, type SetupAnswers } from './setup-files.js';

/** Questions on `out`, answers from `input`, one line each; re-asks until an answer passes its check. */
export class Prompter {
  readonly #input: Readable & { isTTY?: boolean };
  readonly #out: NodeJS.WritableStream;
  #buffer = '';
  readonly #lines: string[] = [];
  #ended = false;
  #wake: (() => void) | null = null;
  readonly #onData = (chunk: string | Buffer): void => {
    this.#buffer += chunk.toString();
    const parts = this.#buffer.split(/\r?\n/);
    this.#buffer = parts.pop() ?? '';
    this.#lines.push(...parts);
    this.#wake?.();
  };
  readonly #onEnd = (): void => {
    if (this.#buffer !== '') this.#lines.push(this.#buffer);
    this.#buffer = '';
    this.#ended = true;
    this.#wake?.();
  };

  /** On a terminal (process.stdin) the PIN is read without echo. */
  constructor(input: Readable & { isTTY?: boolean } = process.stdin, out: NodeJS.WritableStream = process.stderr) {
    this.#input = input;
    this.#out = out;
    this.#listen();
  }

  say(text: string): void {
    this.#out.write(`${text}\n`);
  }

  /** The answer (trimmed), `def` for an empty line; `check` returns why an answer is refused, or null. */
  async ask(question: string, opts: { def?: string; check?: (answer: string) => string | null } = {}): Promise<string> {
    for (;;) {
      this.#out.write(`${question}${opts.def === undefined ? '' : ` [${opts.def}]`}: `);
      const line = (await this.#next(question)).trim();
      if (!this.#input.isTTY) this.#out.write(`${line}\n`); // a transcript that reads like the terminal
      const answer = line === '' ? (opts.def ?? '') : line;
      const problem = answer === '' ? 'an answer is needed' : (opts.check?.(answer) ?? null);
      if (problem === null) return answer;
      this.say(`  ${problem}`);
    }
  }

  /** A secret line: without echo on a terminal. */
  async secret(question: string): Promise<string> {
    if (!this.#input.isTTY) {
      this.#out.write(`${question}: `);
      const line = await this.#next(question);
      this.#out.write('\n');
      return line.trim();
    }
    this.#unlisten();
    try {
      return await readHidden(`${question}: `);
    } finally {
      this.#listen();
    }
  }

  close(): void {
    this.#unlisten();
  }

  #listen(): void {
    this.#input.on('data', this.#onData);
    this.#input.on('end', this.#onEnd);
    this.#input.resume();
  }

  #unlisten(): void {
    this.#input.off('data', this.#onData);
    this.#input.off('end', this.#onEnd);
    this.#input.pause();
  }

  async #next(question: string): Promise<string> {
    while (this.#lines.length === 0) {
      if (this.#ended) throw new SetupError(`the input ended before the answer to "${question}"; nothing was written`);
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = null;
    }
    return this.#lines.shift() as string;
  }
}

const check =
  (schema: { safeParse(v: unknown): { success: boolean; error?: { issues: { message: string }[] } } }) =>
  (v: unknown): string | null => {
    const r = schema.safeParse(v);
    return r.success ? null : (r.error?.issues[0]?.message ?? 'not valid');
  };

/** The path a configuration should name: /dev/serial/by-id/… (or another stable link) before /dev/ttyUSB0. */
function stablePath(d: Listed): string {
  return d.stable.find((s) => s.includes('/by-id/')) ?? d.stable[0] ?? d.path;
}

function deviceLine(d: Listed, i: number): string {
  const usb = d.vendorId && d.productId ? `${d.vendorId}:${d.productId}` : '';
  return `  ${String(i + 1).padStart(2)}  ${d.kind.padEnd(6)} ${d.kind === 'hid' ? `${usb}${d.serialNumber ? ` serial ${d.serialNumber}` : ''}` : stablePath(d)}  ${d.kind === 'hid' ? '' : usb}${d.recognised ? `  → ${d.recognised}` : ''}`.trimEnd();
}

type Role = 'scanner' | 'thermometer' | 'relay';

/** One lane device: `sim`, a number from the list of detected devices, or a path typed in. */
export async function askDevice(p: Prompter, lane: string, role: Role, devices: readonly Listed[]): Promise<Record<string, unknown>> {
  const answer = await p.ask(`Lane ${lane}, ${role}: a number from the list, a device path, or sim`, {
    def: 'sim',
    check: (a) => {
      if (a === 'sim' || a.startsWith('/')) return null;
      const n = Number(a);
      if (!Number.isInteger(n)) return 'expected a number from the list, a path starting with /, or sim';
      const d = devices[n - 1];
      if (d === undefined) return devices.length === 0 ? 'no devices were detected: type a path, or sim' : `expected a number from 1 to ${devices.length}`;
      if (role === 'thermometer' && d.kind !== 'serial') return 'a thermometer module is on a serial port; pick a serial device';
      if (role === 'relay' && d.kind === 'input') return 'a relay is on a serial port or a USB HID board; pick another';
      return null;
    },
  });
  if (answer === 'sim') return { type: 'sim' };
  const picked: Listed = answer.startsWith('/') ? { kind: answer.startsWith('/dev/input/') ? 'input' : 'serial', path: answer, stable: [], recognised: null } : (devices[Number(answer) - 1] as Listed);
  const one = (question: string, options: readonly string[], def: string): Promise<string> =>
    p.ask(`${question} (${options.join(', ')})`, { def, check: (a) => (options.includes(a) ? null : `expected one of ${options.join(', ')}`) });
  const number = async (question: string, def: number, min: number, max: number): Promise<number> =>
    Number(await p.ask(question, { def: String(def), check: (a) => (/^\d+$/.test(a) && Number(a) >= min && Number(a) <= max ? null : `expected a whole number from ${min} to ${max}`) }));
  const where = stablePath(picked);
  if (picked.kind === 'serial' && /^\/dev\/tty(USB|ACM)\d+$/.test(where)) p.say(`  note: ${where} depends on plug order; a udev symlink or /dev/serial/by-id path is safer (docs/deploy.md, section 2)`);

  if (picked.kind === 'hid') {
    const hid = { vendorId: picked.vendorId ?? '', productId: picked.productId ?? '', ...(picked.serialNumber ? { serial: picked.serialNumber } : {}) };
    if (role === 'scanner') return { type: 'hid-pos', ...hid };
    return { type: 'dcttech-hid', ...hid, channel: await number('Relay channel on the board', 1, 1, 8) };
  }
  if (picked.kind === 'input') return { type: 'evdev-wedge', path: where };
  switch (role) {
    case 'scanner': {
      const type = await one('Scanner type', ['line', 'gm65'], picked.recognised?.includes('scanner: line') ? 'line' : 'gm65');
      return { type, path: where };
    }
    case 'thermometer':
      return { type: await one('Thermometer type', ['lu90614', 'mlx90614-66', 'gd60914'], 'lu90614'), path: where };
    case 'relay': {
      const type = await one('Relay type (modbus boards time the pulse themselves: prefer them)', ['modbus', 'lcus'], 'modbus');
      if (type === 'lcus') return { type, path: where, channel: await number('Relay channel', 1, 1, 8) };
      const profile = await one('Modbus board profile', ['coils', 'registers'], 'coils');
      return { type, path: where, profile, address: await number('Modbus address', 1, 1, 247), channel: await number('Relay channel', 1, 1, 32) };
    }
  }
}

/** Every answer at the prompts; the folder is checked first, so nothing is asked in vain. */
async function askAll(p: Prompter): Promise<{ answers: SetupAnswers; pin: string }> {
  p.say('Checkpoint gateway setup. A value in [brackets] is the default: press Enter to take it.');
  const dir = await p.ask('Folder for the configuration and keys', {
    def: DEFAULT_DIR,
    check: (a) => {
      if (!path.isAbsolute(a)) return 'expected an absolute path';
      const there = existingTargets(a);
      return there.length === 0 ? null : `already there: ${there.join(', ')}; move it away or choose another folder`;
    },
  });
  const dataDir = await p.ask('Folder for the ledger (SQLite)', { def: DEFAULT_DATA_DIR, check: (a) => (path.isAbsolute(a) ? null : 'expected an absolute path') });
  const site = await p.ask('Site id (lowercase letters, digits and -, e.g. jinbei-mine)', { check: check(configSchema.shape.site) });
  const checkpoint = await p.ask('Checkpoint id (e.g. main-gate)', { check: check(configSchema.shape.checkpoint) });
  const profiles = readdirSync(shippedProfilesDir())
    .filter((n) => n.endsWith('.yaml'))
    .map((n) => n.slice(0, -5))
    .sort();
  const profile = await p.ask(`Kind of post (${profiles.join(', ')})`, { def: 'mine-entrance', check: (a) => (profiles.includes(a) ? null : `expected one of ${profiles.join(', ')}`) });
  const laneIds = (
    await p.ask('Lanes: their ids, separated by commas', {
      def: 'in-1',
      check: (a) => {
        const ids = a.split(',').map((s) => s.trim());
        const bad = ids.find((id) => !laneAnswerSchema.shape.id.safeParse(id).success);
        if (bad !== undefined) return `"${bad}": expected a lowercase id (letters, digits and -)`;
        return new Set(ids).size === ids.length ? null : 'expected each lane id once';
      },
    })
  )
    .split(',')
    .map((s) => s.trim());

  const { devices, notes } = await listDevices();
  if (devices.length === 0) p.say('No serial ports, HID devices or keyboards detected.');
  else {
    p.say('Detected devices (→ what a driver makes of it):');
    devices.forEach((d, i) => p.say(deviceLine(d, i)));
  }
  for (const n of notes) p.say(`  note: ${n}`);
  p.say('For each lane pick its devices; "sim" gives a simulated one (a bench without hardware).');
  const lanes: SetupAnswers['lanes'] = [];
  for (const id of laneIds) {
    const name = await p.ask(`Lane ${id}, name shown to guards`, { def: id });
    lanes.push({ id, ...(name === id ? {} : { name }), scanner: await askDevice(p, id, 'scanner', devices), thermometer: await askDevice(p, id, 'thermometer', devices), relay: await askDevice(p, id, 'relay', devices) });
  }

  const mqttUrl = await p.ask("Central office's MQTT broker", { def: DEFAULT_MQTT_URL, check: check(answersSchema.shape.mqttUrl) });
  const httpPort = Number(await p.ask('HTTP port of the kiosk and guard console', { def: '8080', check: (a) => (/^\d+$/.test(a) && Number(a) >= 1 && Number(a) <= 65535 ? null : 'expected a port number 1-65535') }));
  const newOrExisting = (a: string): string | null => (a === 'new' || existsSync(path.resolve(a)) ? null : `no such file or folder: ${path.resolve(a)}`);
  const secret = await p.ask('Pseudonym secret: "new" for the first checkpoint of a site, else the path of the site\'s secret file', { def: 'new', check: newOrExisting });
  const issuers = await p.ask('Pass issuers: the path of their public key file or folder (*.jwk.json) to import, or "new" for a key pair made here', { check: newOrExisting });
  const office = await p.ask('Central office: the path of its public key file or folder (*.jwk.json), or "new" for a key pair made here', { check: newOrExisting });
  const guardId = await p.ask('First guard: id', { def: 'G-01', check: (a) => guardCheck(() => checkGuardId(a)) });
  const guardName = await p.ask('First guard: name', { check: (a) => (a.length <= 64 ? null : 'expected at most 64 characters') });
  let pin: string;
  for (;;) {
    pin = await p.secret('First guard: PIN (6-12 digits)');
    const problem = guardCheck(() => checkPin(pin));
    if (problem !== null) {
      p.say(`  ${problem}`);
      continue;
    }
    if ((await p.secret('PIN again')) === pin) break;
    p.say('  the two PINs differ; once more');
  }
  const answers = answersSchema.parse({ dir, dataDir, site, checkpoint, profile, mqttUrl, httpPort, lanes, secret, issuers, office, guard: { id: guardId, name: guardName } });
  p.say(`\nSite ${site}, checkpoint ${checkpoint} (${profile}), ${lanes.length} lane${lanes.length === 1 ? '' : 's'}: ${lanes.map((l) => `${l.id} (${l.scanner['type']}, ${l.thermometer['type']}, ${l.relay['type']})`).join(', ')}`);
  const go = await p.ask(`Write the configuration and keys into ${dir} and the ledger into ${dataDir}? (yes, no)`, { def: 'yes', check: (a) => (a === 'yes' || a === 'no' ? null : 'expected yes or no') });
  if (go !== 'yes') throw new SetupError('nothing written');
  return { answers, pin };
}

function guardCheck(fn: () => void): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    if (err instanceof GuardError) return err.message.replace(/^\[[A-Z_]+\] /, '');
    throw err;
  }
}

/** An answers file: every problem at once with its line, like the configuration itself. */
function readAnswers(file: string): { answers: SetupAnswers; pin: string } {
  const { abs, text } = readConfigFile(file);
  const answers = validateYamlConfig(text, abs, answersSchema);
  if (answers.guard.pinFile === undefined) throw new SetupError(`${abs}: guard.pinFile: expected the file whose first line is the first guard's PIN`);
  const pinFile = path.resolve(path.dirname(abs), answers.guard.pinFile);
  let pin: string;
  try {
    pin = (readFileSync(pinFile, 'utf8').split(/\r?\n/)[0] ?? '').trim();
  } catch (err) {
    throw new SetupError(`cannot read the guard's PIN file ${pinFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  // Paths in the file are relative to it, as in the configuration.
  const rel = (v: string): string => (v === 'new' ? v : path.resolve(path.dirname(abs), v));
  return { answers: { ...answers, dir: rel(answers.dir), dataDir: rel(answers.dataDir), secret: rel(answers.secret), issuers: rel(answers.issuers), office: rel(answers.office) }, pin };
}

export function registerSetupCommand(program: Command): void {
  program
    .command('setup')
    .description('set up this checkpoint PC: site, checkpoint, lanes and their devices, keys, the first guard; writes the configuration and checks it (docs/install.md)')
    .option('--answers <file.yaml>', 'take every answer from this file instead of asking (docs/install.md lists its keys)')
    .action(async (o: { answers?: string }) => {
      let got: { answers: SetupAnswers; pin: string };
      if (o.answers !== undefined) got = readAnswers(o.answers);
      else {
        const p = new Prompter();
        try {
          got = await askAll(p);
        } finally {
          p.close();
        }
      }
      const { written, check: result } = await applySetup(got.answers, got.pin);
      const say = (s: string): boolean => process.stderr.write(`${s}\n`);
      say('\nWritten:');
      for (const w of written) say(`  ${w.file}\n      ${w.note}`);
      for (const n of result.notes) say(`note: ${n}`);
      // Exit 78 with the list, as `config check` and the gateway's start-up say it.
      if (result.loaded === null) throw new ConfigError(result.file, result.problems);
      const c = result.loaded.config;
      say(`\nconfig check: ${result.file}: OK (${c.lanes.length} lane${c.lanes.length === 1 ? '' : 's'}, site ${c.site}, checkpoint ${c.checkpoint})`);
      say(`Next: start it with GATEWAY_CONFIG=${result.file} (the shipped unit does: sudo systemctl enable --now checkpoint-gateway); docs/install.md`);
    });
}
