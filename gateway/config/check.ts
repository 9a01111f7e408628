// The whole check of a gateway configuration in one run: the YAML and its schema
// (load.ts), then every file and folder it names (pseudonym secret, trust folders, MQTT
// password and TLS files, metrics token, data dir), the checkpoint profiles and the
// zones' lanes. Each problem carries file:line of the YAML key it comes from. `config
// check` and the gateway's start-up both run it, so they say the same words.
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { ProfileDocumentError } from '../policy/profile-document.js';
import { PolicyProfileError, profileFromOverrides } from '../policy/profiles.js';
import { readMetricsToken } from '../http/access.js';
import { zoneLaneProblems } from '../lane/zone-gate.js';
import { secretFromHex } from '../telemetry/pseudonym.js';
import { suggestion } from './did-you-mean.js';
import {
  ConfigError,
  applyDeployEnv,
  checkYamlConfig,
  formatPath,
  lineOf,
  loadedFrom,
  readConfigFile,
  type ConfigProblem,
  type LoadedConfig,
} from './load.js';
import { demoKeysIn, demoRemedy, isDemoSecret } from './demo-material.js';
import { loadProfileFile, shippedProfilesDir } from './profiles.js';
import { configSchema } from './schema.js';
import { TRUST_FILE_SUFFIX, readTrustDir } from './trust.js';
import { DCC_TRUST_SUFFIXES, readDccTrustDir } from './dcc-trust.js';

type Env = Record<string, string | undefined>;
type KeyPath = (string | number)[];

export interface ConfigCheck {
  /** Absolute path of the file checked. */
  file: string;
  /** The configuration, when there is no problem. */
  loaded: LoadedConfig | null;
  problems: ConfigProblem[];
  /** Worth knowing, not wrong (an empty trust folder). */
  notes: string[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** "no such file or folder (ENOENT)": the errno a person can act on. */
export function errnoText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const words: Record<string, string> = {
    ENOENT: 'no such file or folder',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EISDIR: 'it is a folder, expected a file',
    ENOTDIR: 'a part of the path is not a folder',
    ELOOP: 'too many symbolic links',
  };
  return code === undefined ? String(err) : `${words[code] ?? (err as Error).message} (${code})`;
}

/** Check a gateway configuration file and everything it names; never throws for content. */
export async function checkConfig(file: string, env: Env = process.env): Promise<ConfigCheck> {
  let abs: string;
  let text: string;
  try {
    ({ abs, text } = readConfigFile(file));
  } catch (err) {
    if (err instanceof ConfigError) return { file: err.file, loaded: null, problems: [...err.located], notes: [] };
    throw err;
  }
  const checked = checkYamlConfig(text, abs, configSchema, (raw, problems) => applyDeployEnv(raw, env, problems));
  const dir = path.dirname(abs);
  const problems: ConfigProblem[] = [];
  const notes: string[] = [];
  const at = (keyPath: KeyPath, message: string, key = formatPath(keyPath)): ConfigProblem => ({
    file: abs,
    line: lineOf(checked.doc, checked.lineCounter, keyPath),
    key,
    message,
  });
  const raw = isRecord(checked.raw) ? checked.raw : {};
  /** A non-empty string at a key path of what the file says (valid or not). */
  const str = (keyPath: KeyPath): string | undefined => {
    let v: unknown = raw;
    for (const k of keyPath) v = isRecord(v) && typeof k === 'string' ? v[k] : undefined;
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  /** The text of a file the config names, or a problem at its key. */
  const read = (keyPath: KeyPath, what: string): { file: string; text: string } | undefined => {
    const rel = str(keyPath);
    if (rel === undefined) return undefined;
    const named = path.resolve(dir, rel);
    try {
      return { file: named, text: readFileSync(named, 'utf8') };
    } catch (err) {
      problems.push(at(keyPath, `cannot read the ${what} ${named}: ${errnoText(err)}`));
      return undefined;
    }
  };

  const secret = read(['privacy', 'pseudonymSecretFile'], 'pseudonym secret');
  if (secret && secretFromHex(secret.text) === null) {
    problems.push(
      at(
        ['privacy', 'pseudonymSecretFile'],
        `${secret.file}: expected the pseudonym secret as hex, at least 32 bytes (64 hex digits, e.g. from \`openssl rand -hex 32\`); found ${secret.text.trim().length} characters${/[^0-9a-fA-F\s]/.test(secret.text) ? ' with some that are not hex digits' : ''}`,
      ),
    );
  }

  // The demo's published keys and secret: refused unless the file says it is a demo.
  const demo = raw['demo'] === true;
  const demoUsed: string[] = [];
  const secretBytes = secret ? secretFromHex(secret.text) : null;
  if (secret && secretBytes && isDemoSecret(secretBytes)) {
    if (demo) demoUsed.push('the demo pseudonym secret');
    else {
      problems.push(
        at(
          ['privacy', 'pseudonymSecretFile'],
          `${secret.file} holds the demo pseudonym secret, published with the source code: anyone could map this site's pseudonyms back to staff ids; ${demoRemedy(abs, 'give the site a secret of its own')}`,
        ),
      );
    }
  }

  for (const [keyPath, what] of [
    [['trust', 'passIssuersDir'], 'pass issuers'],
    [['central', 'updateKeysDir'], 'central office update keys'],
  ] as const) {
    const rel = str([...keyPath]);
    if (rel === undefined) continue;
    const folder = path.resolve(dir, rel);
    if (!isFolder(folder, (message) => problems.push(at([...keyPath], `cannot use the folder of ${what} ${folder}: ${message}`)))) continue;
    for (const found of demoKeysIn(folder)) {
      if (demo) demoUsed.push(found.what);
      else {
        const [danger, real] =
          keyPath[0] === 'trust'
            ? ['anyone can forge passes this gate admits', "the real issuers' public keys"]
            : ['anyone can push updates (roster, watchlists, policy, keys) to this gate', "your central office's public key"];
        problems.push(
          at(
            [...keyPath],
            `${found.file} is ${found.what}, whose private key is published with the source code: ${danger}; ${demoRemedy(abs, `remove it from ${folder} and put ${real} there`)}`,
          ),
        );
      }
    }
    const { list, problems: bad } = await readTrustDir(folder);
    for (const p of bad) problems.push(at([...keyPath], p.message));
    if (list.size === 0 && bad.length === 0) {
      notes.push(
        keyPath[0] === 'trust'
          ? `${folder} holds no *${TRUST_FILE_SUFFIX}: every pass will be refused (PASS_UNKNOWN_KEY); staff badges still work`
          : `${folder} holds no *${TRUST_FILE_SUFFIX}: every update from the central office will be refused`,
      );
    }
  }

  const dccDir = str(['trust', 'dccSignersDir']);
  if (dccDir !== undefined) {
    const folder = path.resolve(dir, dccDir);
    if (isFolder(folder, (message) => problems.push(at(['trust', 'dccSignersDir'], `cannot use the folder of EU DCC signer certificates ${folder}: ${message}`)))) {
      const { entries, problems: bad } = await readDccTrustDir(folder);
      for (const p of bad) problems.push(at(['trust', 'dccSignersDir'], p.message));
      if (entries.length === 0 && bad.length === 0) notes.push(`${folder} holds no DSC certificate (*${DCC_TRUST_SUFFIXES.join(', *')}): every EU DCC will be refused (DCC_UNKNOWN_SIGNER)`);
    }
  }

  if (demoUsed.length > 0) notes.push(`demo: true: using ${[...new Set(demoUsed)].join(', ')}, published with the source code; never for a real gate`);

  const password = read(['mqtt', 'passwordFile'], 'MQTT password file');
  if (password && (password.text.split(/\r?\n/)[0] ?? '') === '') problems.push(at(['mqtt', 'passwordFile'], `${password.file}: expected the password on the first line, found an empty line`));
  checkTls(read, at, problems);

  const token = str(['http', 'metricsTokenFile']);
  if (token !== undefined) {
    try {
      readMetricsToken(path.resolve(dir, token));
    } catch (err) {
      problems.push(at(['http', 'metricsTokenFile'], (err as Error).message, ''));
    }
  }

  const dataDir = str(['dataDir']);
  if (dataDir !== undefined) {
    const fromEnv = env['DATA_DIR'] !== undefined;
    const where = (message: string): ConfigProblem => (fromEnv ? { file: abs, line: null, key: 'environment DATA_DIR', message } : at(['dataDir'], message));
    const message = dataDirProblem(path.resolve(dir, dataDir));
    if (message !== null) problems.push(where(message));
  }

  problems.push(...checkProfiles(raw, dir, at));

  // Zones name lanes: checked once policy.zones is valid, against the lane ids written.
  const policy = configSchema.shape.policy.safeParse(raw['policy'], { jitless: true });
  if (policy.success) {
    const laneIds = (Array.isArray(raw['lanes']) ? raw['lanes'] : []).flatMap((l) => (isRecord(l) && typeof l['id'] === 'string' ? [l['id']] : []));
    for (const p of zoneLaneProblems(policy.data.zones, laneIds)) problems.push(at(p.keyPath, p.message));
  }

  // Syntax errors first (the rest may follow from them), then by file (this one first) and line.
  const rest = [...checked.problems, ...problems];
  rest.sort((x, y) => (x.file === y.file ? (x.line ?? 0) - (y.line ?? 0) : x.file === abs ? -1 : y.file === abs ? 1 : 0));
  const all = [...checked.syntax, ...rest];
  const loaded = all.length === 0 && checked.data !== null ? loadedFrom(checked.data, abs) : null;
  return { file: abs, loaded, problems: all, notes };
}

/** checkConfig, throwing one ConfigError with every problem (the gateway's start-up). */
export async function loadCheckedConfig(file: string, env: Env = process.env): Promise<{ loaded: LoadedConfig; notes: string[] }> {
  const result = await checkConfig(file, env);
  if (result.loaded === null) throw new ConfigError(result.file, result.problems);
  return { loaded: result.loaded, notes: result.notes };
}

function isFolder(folder: string, fail: (message: string) => void): boolean {
  try {
    if (statSync(folder).isDirectory()) return true;
    fail('it is a file, expected a folder');
  } catch (err) {
    fail(errnoText(err));
  }
  return false;
}

/** Why the gateway could not keep its SQLite file in `dir`, or null. Creates nothing. */
function dataDirProblem(dir: string): string | null {
  let existing = dir;
  for (;;) {
    try {
      const st = statSync(existing);
      if (!st.isDirectory()) return existing === dir ? `${dir} is a file, expected a folder for the ledger` : `cannot create ${dir}: ${existing} is a file`;
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') return `cannot create ${dir}: ${errnoText(err)}`;
      if (code !== 'ENOENT') return `cannot use ${dir}: ${errnoText(err)}`;
      const up = path.dirname(existing);
      if (up === existing) return `cannot create ${dir}: no folder of its path exists`;
      existing = up;
    }
  }
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch (err) {
    return existing === dir ? `${dir} is not writable: ${errnoText(err)}` : `cannot create ${dir}: ${existing} is not writable: ${errnoText(err)}`;
  }
  return null;
}

type Read = (keyPath: KeyPath, what: string) => { file: string; text: string } | undefined;
type At = (keyPath: KeyPath, message: string, key?: string) => ConfigProblem;

function checkTls(read: Read, at: At, problems: ConfigProblem[]): void {
  const certificate = (keyPath: KeyPath, what: string): X509Certificate | undefined => {
    const f = read(keyPath, what);
    if (f === undefined) return undefined;
    try {
      return new X509Certificate(f.text);
    } catch (err) {
      problems.push(at(keyPath, `${f.file}: expected a PEM certificate (-----BEGIN CERTIFICATE-----): ${(err as Error).message}`));
      return undefined;
    }
  };
  certificate(['mqtt', 'tls', 'ca'], 'MQTT CA file');
  const cert = certificate(['mqtt', 'tls', 'cert'], 'MQTT client certificate');
  const keyFile = read(['mqtt', 'tls', 'key'], 'MQTT client key');
  let key: KeyObject | undefined;
  if (keyFile) {
    try {
      key = createPrivateKey(keyFile.text);
    } catch (err) {
      problems.push(at(['mqtt', 'tls', 'key'], `${keyFile.file}: expected an unencrypted PEM private key: ${(err as Error).message}`));
    }
  }
  if (cert && key && !cert.checkPrivateKey(key)) problems.push(at(['mqtt', 'tls', 'key'], `${keyFile?.file ?? ''}: not the private key of the certificate in mqtt.tls.cert`));
}

const PROFILE_ID = /^[a-z0-9][a-z0-9-]{0,31}$/;

/**
 * The profiles the file names (policy.profile, default mine-entrance, and each lane's),
 * read from what the file says even when another part of it is invalid: a missing one
 * with "did you mean" over the profiles there are, a bad one with its own file and line.
 */
function checkProfiles(raw: Record<string, unknown>, dir: string, at: At): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const policy = isRecord(raw['policy']) ? raw['policy'] : {};
  const profilesDir = typeof policy['profilesDir'] === 'string' && policy['profilesDir'] !== '' ? path.resolve(dir, policy['profilesDir']) : null;
  const folder = profilesDir ?? shippedProfilesDir();
  if (profilesDir !== null && !isFolder(profilesDir, (message) => problems.push(at(['policy', 'profilesDir'], `cannot use the folder of profiles ${profilesDir}: ${message}`)))) return problems;
  let available: string[] = [];
  try {
    available = readdirSync(folder).filter((n) => n.endsWith('.yaml')).map((n) => n.slice(0, -'.yaml'.length));
  } catch {
    // reported below as each missing profile
  }

  // Each name once, at the first key naming it; the default applies when policy.profile is absent.
  const wanted = new Map<string, KeyPath>();
  const defaultName = policy['profile'] === undefined ? 'mine-entrance' : policy['profile'];
  if (typeof defaultName === 'string' && PROFILE_ID.test(defaultName)) wanted.set(defaultName, ['policy', 'profile']);
  (Array.isArray(raw['lanes']) ? raw['lanes'] : []).forEach((lane, i) => {
    const name = isRecord(lane) ? lane['profile'] : undefined;
    if (typeof name === 'string' && PROFILE_ID.test(name) && !wanted.has(name)) wanted.set(name, ['lanes', i, 'profile']);
  });

  const base = new Map<string, ReturnType<typeof loadProfileFile>>();
  for (const [name, keyPath] of wanted) {
    const file = path.join(folder, `${name}.yaml`);
    if (!existsSync(file)) {
      const hint = suggestion(name, available) || (available.length > 0 ? `; the profiles there: ${available.sort().join(', ')}` : '');
      problems.push(at(keyPath, `no profile "${name}" (expected a file ${file})${hint}`));
      continue;
    }
    try {
      const p = loadProfileFile(file);
      if (p.profile.name !== name) problems.push({ ...profileProblem(file, 'name'), message: `expected "${name}" (the file's name), got "${p.profile.name}"` });
      else base.set(name, p);
    } catch (err) {
      if (!(err instanceof ProfileDocumentError)) throw err;
      for (const issue of err.issues) problems.push({ ...profileProblem(file, issue.path), message: issue.message });
    }
  }

  // policy.overrides adjust the default profile: checked against it once both are readable.
  const parsed = configSchema.shape.policy.safeParse(raw['policy'], { jitless: true });
  const loaded = parsed.success ? base.get(parsed.data.profile) : undefined;
  if (parsed.success && loaded && Object.keys(parsed.data.overrides).length > 0) {
    try {
      profileFromOverrides(parsed.data.overrides, loaded.profile);
    } catch (err) {
      if (!(err instanceof PolicyProfileError)) throw err;
      for (const i of err.issues) problems.push(at(['policy', 'overrides', ...i.path.split('.')], i.message));
    }
  }
  return problems;
}

/** A problem in a profile file, at the line of a document path ("rules.test.windowHours" or "line 3, column 5"). */
function profileProblem(file: string, docPath: string): Omit<ConfigProblem, 'message'> {
  const syntax = /^line (\d+), column (\d+)$/.exec(docPath);
  if (syntax) return { file, line: Number(syntax[1]), column: Number(syntax[2]), key: '' };
  let line: number | null = null;
  try {
    const lineCounter = new LineCounter();
    const doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter });
    const keyPath = docPath === '' ? [] : docPath.split('.').flatMap((k) => k.split(/\[(\d+)\]/).filter((x) => x !== '').map((x) => (/^\d+$/.test(x) ? Number(x) : x)));
    line = lineOf(doc, lineCounter, keyPath);
  } catch {
    // no line then
  }
  return { file, line, key: docPath };
}
