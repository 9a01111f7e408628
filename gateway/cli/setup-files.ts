// What `setup` writes, from its answers (typed at the prompts or read from an answers
// file): the configuration, the site's pseudonym secret, the trusted pass issuers and
// central office keys (generated here, or imported as public keys), the ledger's folder
// with the first guard; then the same check the gateway runs at start.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { z } from 'zod';
import { checkConfig, errnoText, type ConfigCheck } from '../config/check.js';
import { demoKeyOf, isDemoSecret } from '../config/demo-material.js';
import { configSchema } from '../config/schema.js';
import { TRUST_FILE_SUFFIX } from '../config/trust.js';
import { CredentialError } from '../credentials/errors.js';
import { generateIssuerKeys } from '../credentials/issue.js';
import { trustedKeyFromJwk } from '../credentials/trust-list.js';
import { chinaTime } from '../display-time.js';
import { GUARD_ID_PATTERN, GuardAccounts, checkPin } from '../guards/accounts.js';
import { openStore } from '../store/index.js';
import { secretFromHex } from '../telemetry/pseudonym.js';

/** A problem with an answer or a file it names: "error: …", exit code 2. */
export class SetupError extends Error {
  readonly code = 'CLI_SETUP';
  constructor(message: string) {
    super(message);
    this.name = 'SetupError';
  }
}

export const DEFAULT_DIR = '/etc/checkpoint';
export const DEFAULT_DATA_DIR = '/var/lib/checkpoint';
export const DEFAULT_MQTT_URL = 'mqtt://127.0.0.1:1883';

/** `sim`, or a device object as the configuration takes it (`{ type: gm65, path: … }`). */
const device = z.union([z.literal('sim').transform(() => ({ type: 'sim' }) as Record<string, unknown>), z.record(z.string(), z.unknown())]);
/** `new`, or the path of what to take. */
const newOrPath = z.string().min(1, 'expected "new" or a path');

export const laneAnswerSchema = z.strictObject({
  id: configSchema.shape.lanes.element.shape.id,
  name: z.string().min(1).max(64).optional(),
  scanner: device.prefault('sim'),
  thermometer: device.prefault('sim'),
  relay: device.prefault('sim'),
});

/** The answers file of `setup --answers` (docs/install.md); the prompts fill the same. */
export const answersSchema = z.strictObject({
  /** Folder of the configuration and keys. */
  dir: z.string().min(1).default(DEFAULT_DIR),
  /** Folder of the ledger (SQLite); absolute. */
  dataDir: z.string().min(1).default(DEFAULT_DATA_DIR),
  site: configSchema.shape.site,
  checkpoint: configSchema.shape.checkpoint,
  /** A profile of config/profiles (the configuration check says when there is none of that name). */
  profile: configSchema.shape.site.default('mine-entrance'),
  mqttUrl: z.url({ protocol: /^mqtts?$/, error: 'expected an mqtt:// or mqtts:// URL' }).default(DEFAULT_MQTT_URL),
  httpPort: z.number().int().min(1).max(65535).default(8080),
  lanes: z.array(laneAnswerSchema).min(1).default([{ id: 'in-1', scanner: { type: 'sim' }, thermometer: { type: 'sim' }, relay: { type: 'sim' } }]),
  /** The site's pseudonym secret: new (the first checkpoint of a site) or the path of the site's file. */
  secret: newOrPath.default('new'),
  /** Trusted pass issuers: new (a key pair made here) or a public key file or folder to import. */
  issuers: newOrPath,
  /** The central office's update keys: new, or its public key file or folder. */
  office: newOrPath,
  guard: z.strictObject({
    id: z.string().regex(GUARD_ID_PATTERN, 'expected letters, digits and "-", 1-32 characters'),
    name: z.string().min(1).max(64),
    /** A file whose first line is the PIN (answers files only; the prompt asks for it). */
    pinFile: z.string().min(1).optional(),
  }),
});

export type SetupAnswers = z.output<typeof answersSchema>;

/** Where everything goes, from the folder of the configuration. */
export function setupPaths(dir: string): { config: string; secret: string; issuers: string; office: string; private: string } {
  const abs = path.resolve(dir);
  return {
    config: path.join(abs, 'gateway.yaml'),
    secret: path.join(abs, 'pseudonym.secret'),
    issuers: path.join(abs, 'pass-issuers'),
    office: path.join(abs, 'central-keys'),
    private: path.join(abs, 'private'),
  };
}

/** What setup would overwrite in `dir`: it writes into a fresh folder or one without these. */
export function existingTargets(dir: string): string[] {
  const p = setupPaths(dir);
  return [p.config, p.secret, p.issuers, p.office, p.private].filter((f) => existsSync(f));
}

interface KeyFile {
  name: string;
  jwk: Record<string, unknown>;
}

/** The site's secret: fresh, or the site's file checked (hex, long enough, not the demo's). */
function siteSecret(answer: string): string {
  if (answer === 'new') return randomBytes(32).toString('hex');
  const file = path.resolve(answer);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SetupError(`cannot read the site's pseudonym secret ${file}: ${errnoText(err)}`);
  }
  const secret = secretFromHex(text);
  if (secret === null) throw new SetupError(`${file}: expected the pseudonym secret as hex, at least 32 bytes (64 hex digits)`);
  if (isDemoSecret(secret)) throw new SetupError(`${file} holds the demo pseudonym secret, published with the source code; answer "new" for the first checkpoint of a site`);
  return secret.toString('hex');
}

/** Public keys to import: one *.jwk.json file, or every one of a folder; each checked. */
async function importKeys(answer: string, what: string): Promise<KeyFile[]> {
  const from = path.resolve(answer);
  let files: string[];
  try {
    files = statSync(from).isDirectory()
      ? readdirSync(from)
          .filter((n) => n.endsWith(TRUST_FILE_SUFFIX))
          .sort()
          .map((n) => path.join(from, n))
      : [from];
  } catch (err) {
    throw new SetupError(`cannot read the ${what} ${from}: ${errnoText(err)}`);
  }
  if (files.length === 0) throw new SetupError(`${from} holds no *${TRUST_FILE_SUFFIX}: expected the ${what} as public JWK files`);
  const keys: KeyFile[] = [];
  for (const file of files) {
    if (!file.endsWith(TRUST_FILE_SUFFIX)) throw new SetupError(`${file}: expected a file named *${TRUST_FILE_SUFFIX} (one public JWK)`);
    let jwk: unknown;
    try {
      jwk = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new SetupError(`${file}: expected one public JWK as JSON: ${err instanceof SyntaxError ? err.message : errnoText(err)}`);
    }
    const demo = demoKeyOf(jwk);
    if (demo !== null) throw new SetupError(`${file} is ${demo}, whose private key is published with the source code; import the real ${what}`);
    try {
      await trustedKeyFromJwk(jwk, file);
    } catch (err) {
      if (err instanceof CredentialError) throw new SetupError(err.message);
      throw err;
    }
    keys.push({ name: path.basename(file), jwk: jwk as Record<string, unknown> });
  }
  return keys;
}

export interface SetupResult {
  /** Each file written and what it is for, in order. */
  written: { file: string; note: string }[];
  check: ConfigCheck;
}

/** The configuration file's text: every key that matters for a first start, commented. */
export function renderConfig(a: SetupAnswers, writtenAt: number): string {
  const lane = (l: SetupAnswers['lanes'][number]): string => {
    const device = (d: Record<string, unknown>): string => stringify(d, { collectionStyle: 'flow', lineWidth: 0 }).trim();
    return [
      `  - id: ${l.id}`,
      ...(l.name === undefined ? [] : [`    name: ${stringify(l.name).trim()}`]),
      `    scanner: ${device(l.scanner)}`,
      `    thermometer: ${device(l.thermometer)}`,
      `    relay: ${device(l.relay)}`,
    ].join('\n');
  };
  return `# Checkpoint gateway ${a.site}/${a.checkpoint}, written by \`checkpoint-gateway setup\` on ${chinaTime(writtenAt)} (China time).
# Every key: README "Configuration"; devices: docs/deploy.md. Relative paths are resolved
# against this file's folder. After any change: checkpoint-gateway config check ${setupPaths(a.dir).config}
site: ${a.site}
checkpoint: ${a.checkpoint}
dataDir: ${stringify(path.resolve(a.dataDir)).trim()}      # the ledger (SQLite); back it up with \`checkpoint-gateway backup\`

http:
  host: 127.0.0.1        # the kiosk browser runs on this PC; other PCs reach the console through a TLS proxy (docs/install.md)
  port: ${a.httpPort}

mqtt:
  url: ${stringify(a.mqttUrl).trim()}

privacy:
  # The site's secret behind the pseudonyms: the same file on every checkpoint of the site and at the office.
  pseudonymSecretFile: pseudonym.secret

trust:
  passIssuersDir: pass-issuers   # public keys of the pass issuers (*.jwk.json)

central:
  updateKeysDir: central-keys    # public keys of the central office that signs updates

policy:
  profile: ${a.profile}

lanes:
${a.lanes.map(lane).join('\n')}
`;
}

/** Write everything the answers say, create the first guard, and run the configuration check. */
export async function applySetup(a: SetupAnswers, pin: string, now = Date.now()): Promise<SetupResult> {
  const p = setupPaths(a.dir);
  const existing = existingTargets(a.dir);
  if (existing.length > 0) throw new SetupError(`refusing to overwrite what is there already: ${existing.join(', ')} (move it away, or choose another folder)`);
  checkPin(pin);
  // Everything that can fail on an answer first, so a wrong path writes nothing.
  const secret = siteSecret(a.secret);
  const issuers = a.issuers === 'new' ? null : await importKeys(a.issuers, 'pass issuers');
  const office = a.office === 'new' ? null : await importKeys(a.office, "central office's keys");

  const written: SetupResult['written'] = [];
  mkdirSync(path.dirname(p.config), { recursive: true, mode: 0o750 });
  const write = (file: string, text: string, note: string, mode = 0o644): void => {
    writeFileSync(file, text, { mode, flag: 'wx' });
    chmodSync(file, mode);
    written.push({ file, note });
  };
  const keysInto = async (folder: string, imported: KeyFile[] | null, kid: string, what: string, privateNote: string): Promise<void> => {
    mkdirSync(folder, { mode: 0o755 });
    if (imported !== null) {
      for (const k of imported) write(path.join(folder, k.name), `${JSON.stringify(k.jwk, null, 2)}\n`, `${what} (imported)`);
      return;
    }
    const { privateJwk, publicJwk } = await generateIssuerKeys(kid);
    write(path.join(folder, `${kid}${TRUST_FILE_SUFFIX}`), `${JSON.stringify(publicJwk, null, 2)}\n`, `${what} (public half)`);
    mkdirSync(p.private, { recursive: true, mode: 0o700 });
    write(path.join(p.private, `${kid}.private.jwk.json`), `${JSON.stringify(privateJwk, null, 2)}\n`, `PRIVATE key: ${privateNote}`, 0o600);
  };

  write(
    p.secret,
    `${secret}\n`,
    a.secret === 'new' ? "the site's pseudonym secret: copy it to the other checkpoints of the site and to the office, nowhere else" : "the site's pseudonym secret (copied)",
    0o600,
  );
  await keysInto(p.issuers, issuers, `${a.site}-issuer-1`, 'trusted pass issuer', 'move it off this PC to whoever issues the passes (`pass issue --key`); a checkpoint PC only verifies');
  await keysInto(p.office, office, `${a.site}-office-1`, 'central office update key', 'move it off this PC to the central office (`central sign --key`)');
  write(p.config, renderConfig(a, now), 'the configuration');

  const store = openStore(path.resolve(a.dataDir));
  try {
    const lockout = configSchema.shape.guard.parse({}); // the defaults the written file keeps
    const accounts = new GuardAccounts(store.path, { maxFailures: lockout.lockoutFailures, lockoutMs: lockout.lockoutMs });
    try {
      await accounts.add(a.guard.id, a.guard.name, pin);
    } finally {
      accounts.close();
    }
    written.push({ file: store.path, note: `the ledger, with guard ${a.guard.id} (${a.guard.name})` });
  } finally {
    store.close();
  }
  return { written, check: await checkConfig(p.config) };
}
