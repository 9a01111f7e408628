// The shape of config/gateway.yaml. Objects are strict so a misspelt key is an error,
// not a silently ignored setting.
import { z } from 'zod';
import { CATEGORIES } from '../credentials/types.js';
import { passageSensorConfig, relayConfig, scannerConfig, sharedDeviceIssues, thermometerConfig } from './device-schema.js';

const id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'expected a lowercase id: letters, digits and "-", at most 32 characters');

const port = z.number().int().min(0).max(65535);

const lane = z.strictObject({
  id,
  name: z.string().min(1).optional(),
  /** A reading up to this long before or after the scan belongs to the passage. */
  temperatureWindowMs: z.number().int().min(500).max(60_000).default(10_000),
  /** How long the relay holds the gate open on admit. */
  relayPulseMs: z.number().int().min(100).max(10_000).default(700),
  /** On a vehicle-gate lane: how long a vehicle pass waits for its driver's pass; default 60 s. */
  vehicleDriverWindowMs: z.number().int().min(5000).max(600_000).optional(),
  /** Checkpoint profile of this lane (config/profiles/<name>.yaml); default policy.profile. */
  profile: id.optional(),
  /** Devices by `type` (see gateway/config/device-schema.ts); `sim` for the demo. */
  scanner: scannerConfig,
  thermometer: thermometerConfig,
  relay: relayConfig,
  /** A beam across the lane: on a zone's lane it counts the people through, in place of the admissions. */
  passageSensor: passageSensorConfig.optional(),
});

const zone = z
  .strictObject({
    id,
    /** What guards call it, e.g. "食堂 / Canteen"; default the id. */
    name: z.string().min(1).max(64).optional(),
    /** People inside at once; leave out for no limit. */
    limit: z.number().int().min(1).max(100_000).optional(),
    /** hard refuses a second entry without an exit, soft admits it with an alert, timed refuses it within windowMinutes. */
    antiPassback: z.enum(['off', 'hard', 'soft', 'timed']).default('off'),
    windowMinutes: z.number().int().min(1).max(24 * 60).optional(),
    /** Lanes whose admissions count in, and whose admissions count out. */
    entryLanes: z.array(id).min(1, 'expected at least one entry lane'),
    exitLanes: z.array(id).default([]),
    /** Local times (China time, "HH:MM") at which the count goes back to 0, e.g. after each meal. */
    resetAt: z
      .array(z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a time of day "HH:MM" (China time), e.g. "04:00"'))
      .refine((a) => new Set(a).size === a.length, 'expected each reset time once')
      .default([]),
  })
  .refine((zn) => zn.antiPassback !== 'timed' || zn.windowMinutes !== undefined, {
    message: 'expected windowMinutes with antiPassback: timed',
    path: ['windowMinutes'],
  });

const profileOverrides = z
  .strictObject({
    testWindowHours: z.number().positive().max(24 * 30),
    testWindowHoursByCategory: z.partialRecord(z.enum(CATEGORIES), z.number().positive().max(24 * 30)),
    feverThreshold: z.number().min(35).max(42),
    plausibleMin: z.number().min(20).max(40),
    plausibleMax: z.number().min(38).max(50),
    implausibleRetries: z.number().int().min(0).max(5),
    riskLookbackDays: z.number().int().min(1).max(60),
    approvalRequiredFor: z.array(z.enum(CATEGORIES)),
    allowedCategories: z.array(z.enum(CATEGORIES)).min(1),
    /** What an EU DCC may stand for (docs/policy.md "EU DCC"); merged key by key over the profile's. */
    dcc: z
      .strictObject({
        acceptTest: z.boolean(),
        acceptRapidAntigen: z.boolean(),
        acceptVaccination: z.boolean(),
        acceptRecovery: z.boolean(),
        vaccinationMinDays: z.number().int().min(0).max(365),
        vaccinationMaxDays: z.number().int().min(1).max(3650),
      })
      .partial(),
  })
  .partial();

export const configSchema = z
  .strictObject({
    /**
     * A demo or bench gateway: may use the demo keys and secret published with the code
     * (config/demo, the demo trust keys). Without it the check refuses them (demo-material.ts).
     */
    demo: z.boolean().default(false),
    site: id,
    checkpoint: id.refine((v) => v !== 'all', 'expected a checkpoint id other than "all" (reserved: commands to every checkpoint of a site)'),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Relative paths in this file are resolved against the file's own folder. */
    dataDir: z.string().min(1),
    http: z
      .strictObject({
        host: z.string().min(1).default('127.0.0.1'),
        port: port.default(8080),
        /** The kiosk returns to "please show your pass" this long after a decision. */
        kioskResetMs: z.number().int().min(1000).max(120_000).default(6000),
        /**
         * Host names (or addresses) browsers use to reach this gateway, any port. Always
         * answered besides: localhost, 127.0.0.1, [::1] and `host` unless it is a wildcard.
         * Any other Host header is refused (421), against DNS rebinding.
         */
        allowedHosts: z
          .array(
            z
              .string()
              .regex(
                /^(?:\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*|[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?\.?)$/,
                'expected a host name or IP address without scheme or port, e.g. checkpoint-3.lan or 192.168.1.20',
              ),
          )
          .max(64)
          .default([]),
        /** File whose first line is the bearer token that reads /metrics (relative to this file); absent = a guard session only. */
        metricsTokenFile: z.string().min(1).optional(),
      })
      .prefault({}),
    /** Guard console: sessions, lockout after wrong PINs, sign-in rate limit. */
    guard: z
      .strictObject({
        /** A session ends this long after sign-in, whatever the activity (one shift). */
        sessionTtlMs: z.number().int().min(60_000).max(24 * 3_600_000).default(12 * 3_600_000),
        /** ... or after this long without a request (the console polls, so only a closed console idles). */
        sessionIdleMs: z.number().int().min(60_000).max(24 * 3_600_000).default(30 * 60_000),
        /** Wrong PINs in a row that lock the account. */
        lockoutFailures: z.number().int().min(3).max(20).default(5),
        lockoutMs: z.number().int().min(60_000).max(24 * 3_600_000).default(15 * 60_000),
        /** Sign-in attempts per client address per minute. */
        loginPerMinute: z.number().int().min(1).max(600).default(10),
      })
      .prefault({}),
    mqtt: z
      .strictObject({
        url: z.url({ protocol: /^mqtts?$/, error: 'expected an mqtt:// or mqtts:// URL' }).default('mqtt://127.0.0.1:1883'),
        topicPrefix: z
          .string()
          .regex(/^[^#+/][^#+]*[^#+/]$|^[^#+/]$/, 'expected a topic prefix without wildcards or leading/trailing "/"')
          .default('checkpoints'),
        clientId: z.string().min(1).max(64).optional(),
        /** Start an in-process broker when nothing listens on a loopback URL. */
        embeddedFallback: z.boolean().default(true),
        /** 5 = MQTT 5, 4 = MQTT 3.1.1 (for brokers without 5; the embedded broker always gets 4). */
        protocolVersion: z.union([z.literal(4), z.literal(5)]).default(5),
        keepaliveS: z.number().int().min(5).max(3600).default(30),
        username: z.string().min(1).optional(),
        /** File holding the password (first line); keeps the secret out of this file. */
        passwordFile: z.string().min(1).optional(),
        /** PEM files for mqtts://: CA bundle to trust, client certificate and its key. */
        tls: z
          .strictObject({
            ca: z.string().min(1).optional(),
            cert: z.string().min(1).optional(),
            key: z.string().min(1).optional(),
          })
          .refine((t) => (t.cert === undefined) === (t.key === undefined), 'expected cert and key together (or neither)')
          .optional(),
        /** How often counters go out on …/stats; 0 = never. */
        statsIntervalMs: z.number().int().min(0).max(3_600_000).default(60_000),
      })
      .prefault({}),
    /** The central office's update-signing keys: trusted apart from the pass issuers. */
    central: z
      .strictObject({
        /** Folder of central-office public JWKs (`*.jwk.json`); none = every update is refused. */
        updateKeysDir: z.string().min(1).optional(),
      })
      .prefault({}),
    privacy: z
      .strictObject({
        /** File holding the per-site pseudonym secret (hex, at least 32 bytes); same file on every checkpoint of the site. */
        pseudonymSecretFile: z.string().min(1),
        /** Whole days the ledger keeps names, staff ids and health claims; then they are erased (decision, reasons, lane, time, pseudonym stay). */
        personalDataDays: z.number({ error: 'expected a whole number of days' }).int('expected a whole number of days').min(1).max(3660).default(28),
        /** Whole days the ledger keeps its rows; older days are cut behind a signed checkpoint row. */
        ledgerDays: z.number({ error: 'expected a whole number of days' }).int('expected a whole number of days').min(1).max(36600).default(365),
        /** How often the retention job looks for expired rows; 0 = never (not for production). */
        retentionCheckMs: z.number().int().min(0).max(24 * 3_600_000).default(10 * 60_000),
      })
      .superRefine((p, ctx) => {
        if (p.ledgerDays < p.personalDataDays) {
          ctx.addIssue({
            code: 'custom',
            path: ['ledgerDays'],
            message: `expected at least privacy.personalDataDays (${p.personalDataDays}): rows would be cut before their personal fields are due for erasure; got ${p.ledgerDays}`,
          });
        }
      }),
    trust: z.strictObject({
      /** Folder of public JWK files of trusted pass issuers. */
      passIssuersDir: z.string().min(1),
      /** Folder of EU DCC document signer certificates (DER or PEM); none = every DCC is DCC_UNKNOWN_SIGNER. */
      dccSignersDir: z.string().min(1).optional(),
    }),
    /** Rules for verifying passes beyond their signature and dates. */
    credentials: z
      .strictObject({
        /** Longest validity (exp − iat) a pass may state, hours; longer ones are refused (PASS_LIFETIME_TOO_LONG). Default 168 = 7 days. */
        maxPassLifetimeHours: z.number().int().min(1).max(24 * 366).default(168),
      })
      .prefault({}),
    policy: z
      .strictObject({
        /** Default checkpoint profile of the lanes: config/profiles/<name>.yaml. */
        profile: id.default('mine-entrance'),
        /** Folder of profile files, relative to this file; default the shipped config/profiles. */
        profilesDir: z.string().min(1).optional(),
        /** Adjust the default profile only; lanes naming another profile get it as written. */
        overrides: profileOverrides.default({}),
        /**
         * off: every lane is access control only (no health claim read, shown, stored or
         * published; no thermometer needed). A signed policy update may set it too.
         */
        healthChecks: z.enum(['on', 'off'], { error: 'expected on or off' }).default('on'),
        /** Places with a seat limit and/or anti-passback (canteen, bathhouse), by their lanes. */
        zones: z.array(zone).default([]),
      })
      .prefault({}),
    lanes: z
      .array(lane)
      .min(1, 'expected at least one lane')
      .superRefine((lanes, ctx) => {
        const seen = new Set<string>();
        lanes.forEach((l, i) => {
          if (seen.has(l.id)) {
            ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `expected a unique lane id; "${l.id}" is used twice` });
          }
          seen.add(l.id);
        });
        for (const issue of sharedDeviceIssues(lanes)) ctx.addIssue({ code: 'custom', ...issue });
      }),
  });

export type GatewayConfig = z.infer<typeof configSchema>;
export type LaneConfig = GatewayConfig['lanes'][number];
export type ProfileOverrides = z.infer<typeof profileOverrides>;
