// Reads config/gateway.yaml, applies the environment overrides and validates the lot,
// reporting every problem at once with file, line, key path and what was expected.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, isNode, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { CodedError } from '../errors.js';
import { configSchema, type GatewayConfig } from './schema.js';

export const DEFAULT_CONFIG_PATH = 'config/gateway.yaml';

export class ConfigError extends CodedError<'CONFIG_INVALID'> {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super('CONFIG_INVALID', `${file}: invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  ${problems.join('\n  ')}`);
  }
}

export interface LoadedConfig {
  /** Absolute path of the file read. */
  file: string;
  config: GatewayConfig;
  /** Absolute paths, resolved against the config file's folder. */
  paths: { dataDir: string; pseudonymSecretFile: string; passIssuersDir: string };
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
  const config = validateYamlConfig(text, file, configSchema, (raw, problems) => applyDeployEnv(raw, env, problems));
  const dir = path.dirname(file);
  return {
    file,
    config,
    paths: {
      dataDir: path.resolve(dir, config.dataDir),
      pseudonymSecretFile: path.resolve(dir, config.privacy.pseudonymSecretFile),
      passIssuersDir: path.resolve(dir, config.trust.passIssuersDir),
    },
  };
}

/**
 * Parse YAML text and check it against a schema, after `prepare` (environment overrides)
 * has had its say; throws one ConfigError listing every problem with its line and key path.
 * Shared by the gateway's and the central office's configurations.
 */
export function validateYamlConfig<S extends z.ZodType>(
  text: string,
  file: string,
  schema: S,
  prepare: (raw: unknown, problems: string[]) => unknown = (raw) => raw,
): z.output<S> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const yamlProblems = doc.errors.map((e) => {
    const pos = lineCounter.linePos(e.pos[0]);
    return `line ${pos.line}, column ${pos.col}: ${e.message.split('\n')[0]}`;
  });
  if (yamlProblems.length > 0) throw new ConfigError(file, yamlProblems);

  const problems: string[] = [];
  const result = schema.safeParse(prepare(doc.toJS(), problems));
  if (!result.success) problems.push(...result.error.issues.map((issue) => describeIssue(issue, doc, lineCounter)));
  if (problems.length > 0 || !result.success) throw new ConfigError(file, problems);
  return result.data;
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

function describeIssue(issue: z.core.$ZodIssue, doc: Document, lc: LineCounter): string {
  const keyPath = issue.path.length === 0 ? '(top level)' : formatPath(issue.path);
  let where = '';
  // Point at the nearest node that exists (a missing key points at its parent).
  for (let n = issue.path.length; n >= 0; n--) {
    const node = doc.getIn(issue.path.slice(0, n) as (string | number)[], true);
    if (isNode(node) && node.range) {
      const pos = lc.linePos(node.range[0]);
      where = `line ${pos.line}: `;
      break;
    }
  }
  let message = issue.message;
  if (issue.code === 'invalid_type' && message.includes('received undefined')) message = `missing; expected ${issue.expected}`;
  return `${where}${keyPath}: ${message}`;
}

export function formatPath(p: readonly PropertyKey[]): string {
  return p.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)), '');
}
