// config/central.yaml: the central office service's settings, validated with zod and
// reported like the gateway's (every problem at once: file, line, key path, expected).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { demoKeyOf, demoRemedy, isDemoSecret } from '../gateway/config/demo-material.js';
import { applyDeployEnv, ConfigError, readConfigFile, validateYamlConfig } from '../gateway/config/load.js';
import { secretFromHex } from '../gateway/telemetry/pseudonym.js';

export { ConfigError };
export const DEFAULT_CENTRAL_CONFIG = 'config/central.yaml';

const topicLevel = /^[^/+#\u0000$][^/+#\u0000]*$/;

export const centralConfigSchema = z.strictObject({
  /** Only a demo may use the demo's published secret and office key (as on the gateway). */
  demo: z.boolean().default(false),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Relative paths resolve against this file's folder. PGlite's data lives under it. */
  dataDir: z.string().min(1),
  database: z
    .strictObject({
      /** postgres://…; absent (and no DATABASE_URL) → embedded PGlite under dataDir. */
      url: z.string().regex(/^postgres(ql)?:\/\//, 'expected a postgres:// or postgresql:// URL').optional(),
      /** Connections in the pool (pg only). */
      poolSize: z.number().int().min(1).max(100).default(4),
    })
    .default({ poolSize: 4 }),
  mqtt: z.strictObject({
    url: z.url({ protocol: /^mqtts?$/, error: 'expected an mqtt:// or mqtts:// URL' }).default('mqtt://127.0.0.1:1883'),
    /** auto: 5, and 3.1.1 when the broker refuses 5 (the gateway's embedded aedes broker). */
    protocolVersion: z.union([z.literal(5), z.literal(4), z.literal('auto')]).default(5),
    /** Stable per instance: the broker keeps this instance's session (unacked messages) under it. */
    clientId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected 1-64 letters, digits, ".", "_" or "-"'),
    /** MQTT 5 shared subscription group; absent → plain subscriptions (one instance). */
    sharedGroup: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected 1-64 letters, digits, ".", "_" or "-"').optional(),
    topicPrefix: z
      .string()
      .min(1)
      .refine((p) => p.split('/').every((l) => topicLevel.test(l)), 'expected topic levels without "+", "#", NUL or a leading "$"')
      .default('checkpoints'),
    /** How long the broker keeps our session (and queues for us) while we are away. */
    sessionExpiryS: z.number().int().min(60).max(4_294_967_295).default(7 * 24 * 3600),
    keepaliveS: z.number().int().min(5).max(600).default(30),
    username: z.string().min(1).optional(),
    passwordFile: z.string().min(1).optional(),
    tls: z
      .strictObject({ ca: z.string().min(1).optional(), cert: z.string().min(1).optional(), key: z.string().min(1).optional() })
      .refine((t) => (t.cert === undefined) === (t.key === undefined), 'expected cert and key together')
      .optional(),
  }),
  http: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8090),
      /** Host names the console answers for besides the loopback names and the listen address. */
      allowedHosts: z.array(z.string().min(1)).default([]),
      /** First line: a bearer token for /metrics (Prometheus has no session). */
      metricsTokenFile: z.string().min(1).optional(),
    })
    .default({ host: '127.0.0.1', port: 8090, allowedHosts: [] }),
  console: z
    .strictObject({
      /** A session ends this long after sign-in, whatever the activity. */
      sessionTtlMs: z.number().int().min(60_000).default(12 * 3600_000),
      /** …and after this long without a request. */
      idleTimeoutMs: z.number().int().min(60_000).default(30 * 60_000),
      lockoutFailures: z.number().int().min(1).max(100).default(5),
      lockoutMs: z.number().int().min(1000).default(15 * 60_000),
      /** A critical alert unacknowledged this long stands out on the alerts page. */
      escalateAfterMs: z.number().int().min(60_000).max(7 * 24 * 3600_000).default(15 * 60_000),
      /** Sign-in attempts per client address per minute, every account together (per instance). */
      signInPerMinute: z.number().int().min(1).max(10_000).default(20),
    })
    .default({ sessionTtlMs: 12 * 3600_000, idleTimeoutMs: 30 * 60_000, lockoutFailures: 5, lockoutMs: 15 * 60_000, escalateAfterMs: 15 * 60_000, signInPerMinute: 20 }),
  updates: z
    .strictObject({
      /** Private Ed25519 JWK the gateways trust (their central.updateKeysDir): signs resend requests and the console's pushes; absent → neither. */
      signingKeyFile: z.string().min(1).optional(),
    })
    .default({}),
  /** Per site: the pseudonym secret its gateways use (the same file), so the office can map a roster entry to its pseudonym. */
  sites: z
    .record(
      z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'expected a site id (lower-case letters, digits, "-")'),
      z.strictObject({
        /** Hex, at least 32 bytes: the gateways' telemetry.pseudonymSecretFile. */
        pseudonymSecretFile: z.string().min(1),
        /** Shown on the console, e.g. 矿区一号井. */
        name: z.string().min(1).max(64).optional(),
      }),
    )
    .default({}),
  ingest: z
    .strictObject({
      /** Messages per transaction at most. */
      batchMax: z.number().int().min(1).max(5000).default(500),
      /** How long the first message of a batch waits for others before the commit. */
      batchMs: z.number().int().min(0).max(10_000).default(50),
      /** Batches written at once, each on its own connection (acknowledged in arrival order). */
      concurrency: z.number().int().min(1).max(8).default(2),
    })
    .default({ batchMax: 500, batchMs: 50, concurrency: 2 }),
  gapRepair: z
    .strictObject({
      /** A seq gap open this long gets a resend request. */
      afterMs: z.number().int().min(100).default(30_000),
      /** At most one outstanding request per checkpoint per this period. */
      retryMs: z.number().int().min(100).default(60_000),
      /** How often the detector looks. */
      checkMs: z.number().int().min(50).default(5_000),
    })
    .default({ afterMs: 30_000, retryMs: 60_000, checkMs: 5_000 }),
  retention: z
    .strictObject({ months: z.number().int().min(1).max(1200).default(24) })
    .default({ months: 24 }),
  integrity: z
    .strictObject({
      /** How often the stats' ledger chain heads are checked (central/chain-check.ts). */
      chainCheckMs: z.number().int().min(50).default(60_000),
    })
    .default({ chainCheckMs: 60_000 }),
});

export type CentralConfig = z.infer<typeof centralConfigSchema>;

export interface LoadedCentralConfig {
  file: string;
  config: CentralConfig;
  /** The effective database URL (file or DATABASE_URL); null → PGlite. */
  databaseUrl: string | null;
  paths: { dataDir: string; signingKeyFile: string | null; pseudonymSecretFiles: Record<string, string>; passwordFile: string | null; metricsTokenFile: string | null; tls: { ca?: string; cert?: string; key?: string } };
}

type Env = Record<string, string | undefined>;

export function centralConfigPath(env: Env = process.env): string {
  return path.resolve(env.CENTRAL_CONFIG ?? DEFAULT_CENTRAL_CONFIG);
}

export function loadCentralConfig(file: string, env: Env = process.env): LoadedCentralConfig {
  const { abs, text } = readConfigFile(file);
  const loaded = parseCentralConfig(text, abs, env);
  if (!loaded.config.demo) {
    const problems = demoMaterialProblems(loaded);
    if (problems.length > 0) throw new ConfigError(abs, problems);
  }
  return loaded;
}

/**
 * The demo's secret and office key are published with the source: anyone could map the
 * site's pseudonyms back to staff ids, or sign updates the gateways take. Unreadable or
 * malformed files are left to the start-up, which names them.
 */
function demoMaterialProblems(loaded: LoadedCentralConfig): string[] {
  const problems: string[] = [];
  const read = (f: string): string | null => {
    try {
      return readFileSync(f, 'utf8');
    } catch {
      return null;
    }
  };
  for (const [site, f] of Object.entries(loaded.paths.pseudonymSecretFiles)) {
    const text = read(f);
    const secret = text === null ? null : secretFromHex(text);
    if (secret !== null && isDemoSecret(secret)) problems.push(`sites.${site}.pseudonymSecretFile: ${demoRemedy(loaded.file, `${f} is the demo pseudonym secret, published with the source code: use the site's own secret (the gateways' privacy.pseudonymSecretFile)`)}`);
  }
  const keyFile = loaded.paths.signingKeyFile;
  const keyText = keyFile === null ? null : read(keyFile);
  if (keyFile !== null && keyText !== null) {
    let what: string | null = null;
    try {
      what = demoKeyOf(JSON.parse(keyText));
    } catch {
      what = null;
    }
    if (what !== null) problems.push(`updates.signingKeyFile: ${demoRemedy(loaded.file, `${keyFile} is ${what}'s private key, published with the source code: make the office's own with \`central keys generate\``)}`);
  }
  return problems;
}

/** Validate YAML text as if read from `file`; throws ConfigError listing every problem. */
export function parseCentralConfig(text: string, file: string, env: Env = {}): LoadedCentralConfig {
  const config = validateYamlConfig(text, file, centralConfigSchema, (raw, problems) =>
    applyDeployEnv(raw, env, problems, (section) => {
      if (env.DATABASE_URL !== undefined && env.DATABASE_URL !== '') section('database').url = env.DATABASE_URL;
    }),
  );
  const dir = path.dirname(file);
  const rel = (p: string | undefined): string | undefined => (p === undefined ? undefined : path.resolve(dir, p));
  const tls: { ca?: string; cert?: string; key?: string } = {};
  for (const k of ['ca', 'cert', 'key'] as const) {
    const p = rel(config.mqtt.tls?.[k]);
    if (p !== undefined) tls[k] = p;
  }
  return {
    file,
    config,
    databaseUrl: config.database.url ?? null,
    paths: {
      dataDir: path.resolve(dir, config.dataDir),
      signingKeyFile: rel(config.updates.signingKeyFile) ?? null,
      pseudonymSecretFiles: Object.fromEntries(Object.entries(config.sites).map(([site, s]) => [site, path.resolve(dir, s.pseudonymSecretFile)])),
      passwordFile: rel(config.mqtt.passwordFile) ?? null,
      metricsTokenFile: rel(config.http.metricsTokenFile) ?? null,
      tls,
    },
  };
}
