// The shape of config/gateway.yaml. Objects are strict so a misspelt key is an error,
// not a silently ignored setting.
import { z } from 'zod';
import { CATEGORIES } from '../credentials/types.js';

const id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'expected a lowercase id: letters, digits and "-", at most 32 characters');

const port = z.number().int().min(0).max(65535);

const simDevice = z.strictObject({ type: z.literal('sim') });

const lane = z.strictObject({
  id,
  name: z.string().min(1).optional(),
  /** A reading up to this long before or after the scan belongs to the passage. */
  temperatureWindowMs: z.number().int().min(500).max(60_000).default(10_000),
  /** How long the relay holds the gate open on admit. */
  relayPulseMs: z.number().int().min(100).max(10_000).default(700),
  scanner: simDevice,
  thermometer: simDevice,
  relay: simDevice,
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
  })
  .partial();

export const configSchema = z
  .strictObject({
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
      })
      .prefault({}),
    privacy: z.strictObject({
      /** File holding the per-site pseudonym secret (hex, at least 32 bytes); same file on every checkpoint of the site. */
      pseudonymSecretFile: z.string().min(1),
    }),
    trust: z.strictObject({
      /** Folder of public JWK files of trusted pass issuers. */
      passIssuersDir: z.string().min(1),
    }),
    policy: z
      .strictObject({
        profile: z.literal('mine-entrance').default('mine-entrance'),
        overrides: profileOverrides.default({}),
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
      }),
  });

export type GatewayConfig = z.infer<typeof configSchema>;
export type LaneConfig = GatewayConfig['lanes'][number];
export type ProfileOverrides = z.infer<typeof profileOverrides>;
