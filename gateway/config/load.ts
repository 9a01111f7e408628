// Reads config/gateway.yaml, applies the environment overrides and validates the lot,
// reporting every problem at once with file, line, key path and what was expected.
// (The files and folders it names are checked by check.ts.)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, isMap, isNode, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { CodedError } from '../errors.js';
import { takeParse } from '../boot/config-document.js';
import { suggestion } from './did-you-mean.js';
import { configSchema, type GatewayConfig } from './schema.js';

export const DEFAULT_CONFIG_PATH = 'config/gateway.yaml';

/** One problem of a configuration: where it is (file, line) and what was expected. */
export interface ConfigProblem {
  /** The file it is in: the configuration, or a file it names (a checkpoint profile). */
  file: string;
  /** 1-based; null when no line applies (an environment variable, an unreadable file). */
  line: number | null;
  column?: number;
  /** Key path such as `lanes[0].relay.type`, or what else it is about; '' for the file as a whole. */
  key: string;
  message: string;
}

/** `file:line: key: message`, the way compilers print it (a terminal or editor opens the line). */
export function formatProblem(p: ConfigProblem): string {
  const where = p.line === null ? p.file : `${p.file}:${p.line}${p.column === undefined ? '' : `:${p.column}`}`;
  return `${where}: ${p.key ? `${p.key}: ` : ''}${p.message}`;
}

export class ConfigError extends CodedError<'CONFIG_INVALID'> {
  /** Every problem with its file and line. */
  readonly located: readonly ConfigProblem[];
  /** The same, short: `line 7: http.port: …` for this file (another file is named in full). */
  readonly problems: string[];

  constructor(
    readonly file: string,
    problems: readonly (string | ConfigProblem)[],
  ) {
    const located = problems.map((p) => (typeof p === 'string' ? { file, line: null, key: '', message: p } : p));
    super('CONFIG_INVALID', `${file}: invalid configuration (${located.length} problem${located.length === 1 ? '' : 's'}):\n  ${located.map(formatProblem).join('\n  ')}`);
    this.located = located;
    this.problems = located.map((p) => {
      if (p.file !== file) return formatProblem(p);
      const where = p.line === null ? '' : `line ${p.line}${p.column === undefined ? '' : `, column ${p.column}`}: `;
      return `${where}${p.key ? `${p.key}: ` : ''}${p.message}`;
    });
  }
}

export interface LoadedConfig {
  /** Absolute path of the file read. */
  file: string;
  config: GatewayConfig;
  /** Absolute paths, resolved against the config file's folder. */
  paths: { dataDir: string; pseudonymSecretFile: string; passIssuersDir: string; dccSignersDir?: string };
}

type Env = Record<string, string | undefined>;

/** Which file to read: GATEWAY_CONFIG, else the demo default. */
export function configPathFromEnv(env: Env = process.env): string {
  return path.resolve(env.GATEWAY_CONFIG ?? DEFAULT_CONFIG_PATH);
}

export function loadConfig(file: string, env: Env = process.env): LoadedConfig {
  const { abs, text } = readConfigFile(file);
  return parseConfig(text, abs, env);
}

/** A configuration file's absolute path and text; an unreadable file is a ConfigError. */
export function readConfigFile(file: string): { abs: string; text: string } {
  const abs = path.resolve(file);
  try {
    return { abs, text: readFileSync(abs, 'utf8') };
  } catch (err) {
    throw new ConfigError(abs, [`cannot read the file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
  }
}

/** Validate YAML text as if read from `file` (relative paths resolve against its folder). */
export function parseConfig(text: string, file: string, env: Env = {}): LoadedConfig {
  return loadedFrom(validateYamlConfig(text, file, configSchema, (raw, problems) => applyDeployEnv(raw, env, problems)), file);
}

/** A validated configuration with its paths resolved against the file's folder. */
export function loadedFrom(config: GatewayConfig, file: string): LoadedConfig {
  const dir = path.dirname(file);
  return {
    file,
    config,
    paths: {
      dataDir: path.resolve(dir, config.dataDir),
      pseudonymSecretFile: path.resolve(dir, config.privacy.pseudonymSecretFile),
      passIssuersDir: path.resolve(dir, config.trust.passIssuersDir),
      ...(config.trust.dccSignersDir === undefined ? {} : { dccSignersDir: path.resolve(dir, config.trust.dccSignersDir) }),
    },
  };
}

/** A YAML configuration parsed and checked against its schema; see checkYamlConfig. */
export interface YamlCheck<T> {
  doc: Document;
  lineCounter: LineCounter;
  /** What the file says after `prepare` (environment overrides), valid or not. */
  raw: unknown;
  /** The validated value; null when there is any problem. */
  data: T | null;
  /** YAML syntax errors: listed first, the other problems may follow from them. */
  syntax: ConfigProblem[];
  /** Every other problem (environment, schema), by line. */
  problems: ConfigProblem[];
}

/**
 * Parse YAML text and check it against a schema, after `prepare` (environment overrides)
 * has had its say. Never throws for the content: every problem is returned, each with its
 * line and key path. A syntax error does not stop the schema check of what could be read.
 */
export function checkYamlConfig<S extends z.ZodType>(
  text: string,
  file: string,
  schema: S,
  prepare: (raw: unknown, problems: string[]) => unknown = (raw) => raw,
): YamlCheck<z.output<S>> {
  // The early relay all-off parsed this file already, the same way (boot/config-document.ts).
  const { doc, lineCounter } = takeParse(text);
  const syntax: ConfigProblem[] = doc.errors.map((e) => {
    const pos = lineCounter.linePos(e.pos[0]);
    return { file, line: pos.line, column: pos.col, key: '', message: e.message.split('\n')[0] ?? 'YAML syntax error' };
  });
  let js: unknown;
  try {
    js = doc.toJS();
  } catch {
    return { doc, lineCounter, raw: undefined, data: null, syntax, problems: [] };
  }
  const envProblems: string[] = [];
  const raw = prepare(js, envProblems);
  const problems: ConfigProblem[] = envProblems.map((message) => ({ file, line: null, key: '', message }));
  // jitless: parsed once, so zod's compiled fast path (generated with new Function at the
  // first parse of each object schema) costs more than it saves: 10 -> 5 ms at start.
  const result = schema.safeParse(raw, { jitless: true });
  if (!result.success) {
    const where = { file, doc, lineCounter, schema, raw };
    problems.push(...result.error.issues.flatMap((issue) => describeIssue(issue, where)));
  }
  problems.sort((x, y) => (x.line ?? 0) - (y.line ?? 0));
  const ok = syntax.length === 0 && problems.length === 0 && result.success;
  return { doc, lineCounter, raw, data: ok ? result.data : null, syntax, problems };
}

/**
 * checkYamlConfig, throwing one ConfigError that lists every problem.
 * Shared by the gateway's and the central office's configurations.
 */
export function validateYamlConfig<S extends z.ZodType>(
  text: string,
  file: string,
  schema: S,
  prepare: (raw: unknown, problems: string[]) => unknown = (raw) => raw,
): z.output<S> {
  const checked = checkYamlConfig(text, file, schema, prepare);
  if (checked.data === null) throw new ConfigError(file, [...checked.syntax, ...checked.problems]);
  return checked.data;
}

/**
 * MQTT_URL, HTTP_PORT and DATA_DIR replace the file's values (deploy-time settings);
 * `more` adds a program's own (the central office's DATABASE_URL).
 */
export function applyDeployEnv(
  raw: unknown,
  env: Env,
  problems: string[],
  more?: (section: (key: string) => Record<string, unknown>) => void,
): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const out = { ...(raw as Record<string, unknown>) };
  const section = (key: string): Record<string, unknown> => {
    const v = out[key];
    const copy = typeof v === 'object' && v !== null && !Array.isArray(v) ? { ...(v as Record<string, unknown>) } : {};
    out[key] = copy;
    return copy;
  };
  if (env.MQTT_URL !== undefined) section('mqtt').url = env.MQTT_URL;
  if (env.HTTP_PORT !== undefined) {
    const n = Number(env.HTTP_PORT);
    if (!/^\d+$/.test(env.HTTP_PORT) || n > 65535) {
      problems.push(`environment HTTP_PORT: expected a port number 0-65535, got "${env.HTTP_PORT}"`);
    } else {
      section('http').port = n;
    }
  }
  if (env.DATA_DIR !== undefined) {
    // An absolute or cwd-relative path from the environment, not relative to the file.
    out.dataDir = path.resolve(env.DATA_DIR);
  }
  more?.(section);
  return out;
}

interface IssueContext {
  file: string;
  doc: Document;
  lineCounter: LineCounter;
  schema: z.ZodType;
  raw: unknown;
}

function describeIssue(issue: z.core.$ZodIssue, at: IssueContext): ConfigProblem[] {
  const line = (p: readonly PropertyKey[]): number | null => lineOf(at.doc, at.lineCounter, p);
  if (issue.code === 'unrecognized_keys') {
    // One problem per key, on the key's own line (the parent's line is not where to look).
    const known = knownKeys(at.schema, issue.path, at.raw);
    return issue.keys.map((k) => {
      const hint = suggestion(k, known) || (known.length > 0 ? `; expected one of ${known.join(', ')}` : '');
      return { file: at.file, line: line([...issue.path, k]), key: formatPath([...issue.path, k]), message: `unknown key${hint}` };
    });
  }
  let message = issue.message;
  if (issue.code === 'invalid_type' && message.includes('received undefined')) message = `missing; expected ${issue.expected}`;
  if (issue.code === 'invalid_value') {
    const got = valueAt(at.raw, issue.path);
    if (typeof got === 'string') message += suggestion(got, issue.values.filter((v): v is string => typeof v === 'string'));
  }
  return [{ file: at.file, line: line(issue.path), key: issue.path.length === 0 ? '(top level)' : formatPath(issue.path), message }];
}

/**
 * The line of a key path: a map entry's key, a sequence item, else (a missing key) the
 * nearest ancestor that exists.
 */
export function lineOf(doc: Document, lc: LineCounter, keyPath: readonly PropertyKey[]): number | null {
  for (let n = keyPath.length; n >= 0; n--) {
    const offset = startOf(doc, keyPath.slice(0, n));
    if (offset !== null) return lc.linePos(offset).line;
  }
  return null;
}

function startOf(doc: Document, keyPath: readonly PropertyKey[]): number | null {
  if (keyPath.length === 0) return isNode(doc.contents) && doc.contents.range ? doc.contents.range[0] : null;
  const parentPath = keyPath.slice(0, -1) as (string | number)[];
  const parent: unknown = parentPath.length === 0 ? doc.contents : doc.getIn(parentPath, true);
  const last = keyPath[keyPath.length - 1];
  if (isMap(parent)) {
    const pair = parent.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(last));
    if (pair === undefined) return null;
    const node = isNode(pair.key) ? pair.key : pair.value;
    return isNode(node) && node.range ? node.range[0] : null;
  }
  if (isSeq(parent) && typeof last === 'number') {
    const item = parent.items[last];
    return isNode(item) && item.range ? item.range[0] : null;
  }
  return null;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function valueAt(raw: unknown, keyPath: readonly PropertyKey[]): unknown {
  let v = raw;
  for (const k of keyPath) {
    if (Array.isArray(v) && typeof k === 'number') v = v[k];
    else if (isRecord(v) && typeof k === 'string') v = v[k];
    else return undefined;
  }
  return v;
}

/** The parts of zod's schema definitions walked to list the keys allowed at a path. */
interface SchemaDef {
  type: string;
  shape?: Record<string, SchemaLike>;
  element?: SchemaLike;
  innerType?: SchemaLike;
  in?: SchemaLike;
  options?: SchemaLike[];
  valueType?: SchemaLike;
  getter?: () => SchemaLike;
  values?: unknown[];
}
interface SchemaLike {
  _zod: { def: SchemaDef };
}

/** A schema without its wrappers (optional, default, …); a union as its options. */
function expand(s: SchemaLike, value: unknown): SchemaLike[] {
  const def = s._zod.def;
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
      return def.innerType ? expand(def.innerType, value) : [];
    case 'pipe':
      return def.in ? expand(def.in, value) : [];
    case 'lazy':
      return def.getter ? expand(def.getter(), value) : [];
    case 'union': {
      const options = (def.options ?? []).flatMap((o) => expand(o, value));
      // Devices are told apart by `type`: the option the value names, when it names one.
      const type = isRecord(value) ? value['type'] : undefined;
      const named = options.filter((o) => {
        const t = o._zod.def.shape?.['type']?._zod.def;
        return t?.type === 'literal' && (t.values ?? []).includes(type);
      });
      return named.length > 0 ? named : options;
    }
    default:
      return [s];
  }
}

/** The keys the schema allows in the object at `keyPath` (for "did you mean"). */
function knownKeys(schema: z.ZodType, keyPath: readonly PropertyKey[], raw: unknown): string[] {
  let at = expand(schema as unknown as SchemaLike, raw);
  keyPath.forEach((k, i) => {
    const value = valueAt(raw, keyPath.slice(0, i + 1));
    at = at.flatMap((s) => {
      const def = s._zod.def;
      const next = def.type === 'object' && typeof k === 'string' ? def.shape?.[k] : def.type === 'array' && typeof k === 'number' ? def.element : def.type === 'record' ? def.valueType : undefined;
      return next ? expand(next, value) : [];
    });
  });
  return [...new Set(at.flatMap((s) => (s._zod.def.type === 'object' ? Object.keys(s._zod.def.shape ?? {}) : [])))];
}

export function formatPath(p: readonly PropertyKey[]): string {
  return p.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)), '');
}
