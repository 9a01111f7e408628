// A small mine for the daily screening tests: the built central service on its own
// PostgreSQL database (signing key and the site's pseudonym secret configured, an admin and
// a viewer added with the built CLI), and two built gateways of one site, checkpoints
// `cp-1` and `cp-2`, all over the shared Mosquitto under a topic prefix of their own.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openDb, type Db } from '../../central/db/adapter.js';
import { addOfficer, OFFICER_PASSWORD } from '../browser/office-helpers.js';
import { Cleanup, SHARED_BROKER, clearRetained, tempDir, waitFor } from '../gateway/telemetry/helpers.js';
import { ROOT, postJson, startGatewayProcess, tempDir as itTempDir, writeConfig, type GatewayProcess } from '../integration/helpers.js';
import { testDatabase, writeServiceConfig } from './helpers.js';
import { startServiceProcess, type ServiceProcess } from './process.js';

export const CHECKPOINTS = ['cp-1', 'cp-2'] as const;
export const ADMIN = 'fang.admin';
export const VIEWER = 'zhao.min';

export interface Mine {
  site: string;
  prefix: string;
  office: ServiceProcess;
  /** The office database, for waiting on rows. */
  db: Db;
  gateways: Record<(typeof CHECKPOINTS)[number], GatewayProcess>;
  /**
   * A badge scan with a temperature taken first, as at a real lane; further readings
   * after it (a fever is refused only when a second reading confirms it).
   */
  scan(checkpoint: (typeof CHECKPOINTS)[number], staffId: string, readings: readonly [number, ...number[]]): Promise<void>;
}

/** The demo gateway config for `checkpoint` of `site`, publishing under `prefix`. */
export function gatewayConfig(site: string, checkpoint: string, prefix: string): string {
  const file = writeConfig(itTempDir(`mine-${checkpoint}-`), site);
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^checkpoint: .*$/m, `checkpoint: ${checkpoint}`).replace(/topicPrefix: .*$/m, `topicPrefix: ${prefix}`));
  return file;
}

/** Starts a built gateway, removed (and its retained status cleared) at cleanup. */
export async function startGateway(cleanup: Cleanup, site: string, checkpoint: string, prefix: string): Promise<GatewayProcess> {
  const gw = await startGatewayProcess({ site, config: gatewayConfig(site, checkpoint, prefix) });
  cleanup.add(async () => {
    await gw.stop();
    await clearRetained(SHARED_BROKER, `${prefix}/${site}/${checkpoint}/status`);
  });
  return gw;
}

export async function startMine(cleanup: Cleanup, name: string): Promise<Mine> {
  const prefix = `test-${randomUUID()}`;
  const site = `${name}-${randomBytes(3).toString('hex')}`;
  const databaseUrl = await testDatabase(cleanup);
  const dataDir = await tempDir(cleanup, name);
  const config = await writeServiceConfig({
    dataDir,
    databaseUrl,
    mqttUrl: SHARED_BROKER,
    clientId: `office-${name}-${randomUUID().slice(0, 8)}`,
    prefix,
    signingKeyFile: path.join(ROOT, 'config/demo/central-1.private.jwk.json'),
    // The demo gateways' secret: the office maps its roster to their events' pseudonyms.
    sites: { [site]: path.join(ROOT, 'config/demo/pseudonym.secret') },
  });
  if ((await addOfficer(config, ADMIN, '方主任', 'admin')) !== 0) throw new Error('officers add (admin) failed');
  if ((await addOfficer(config, VIEWER, '赵敏', 'viewer')) !== 0) throw new Error('officers add (viewer) failed');
  const office = await startServiceProcess(cleanup, config);
  // The pushed roster stays retained on the shared broker until cleared.
  cleanup.add(() => clearRetained(SHARED_BROKER, `${prefix}/${site}/all/cmd/roster`));
  await waitFor('office connected', async () => ((await (await fetch(`${office.url}/healthz`)).json()) as { broker: { connected: boolean } }).broker.connected);
  const db = await openDb({ url: databaseUrl, dataDir });
  cleanup.add(() => db.close());
  const [one, two] = await Promise.all(CHECKPOINTS.map((cp) => startGateway(cleanup, site, cp, prefix)));
  const gateways = { 'cp-1': one!, 'cp-2': two! };
  await waitFor('both gateways online at the office', async () => (await db.query("SELECT 1 FROM checkpoints WHERE site = $1 AND state = 'online'", [site])).length === 2);
  return {
    site,
    prefix,
    office,
    db,
    gateways,
    async scan(checkpoint, staffId, [first, ...more]) {
      const gw = gateways[checkpoint];
      const post = async (what: string, body: unknown): Promise<void> => {
        const res = await postJson(`${gw.url}/api/sim/lanes/in-1/${what}`, body);
        if (res.status !== 202) throw new Error(`${what} at ${checkpoint}: HTTP ${res.status} ${await res.text()}`);
      };
      await post('temperature', { celsius: first });
      await post('scan', { payload: `CPB1:${staffId}` });
      for (const celsius of more) await post('temperature', { celsius });
    },
  };
}

export interface OfficeSession {
  cookie: string;
  csrfToken: string;
  headers: Record<string, string>;
}

/** Signs in to the built service as a browser page would (same origin). */
export async function officeSignIn(officeUrl: string, id: string): Promise<OfficeSession> {
  const res = await fetch(`${officeUrl}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: officeUrl, 'sec-fetch-site': 'same-origin' },
    body: JSON.stringify({ id, password: OFFICER_PASSWORD }),
  });
  if (res.status !== 200) throw new Error(`sign-in of ${id}: HTTP ${res.status} ${await res.text()}`);
  const cookie = (res.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
  const { csrfToken } = (await res.json()) as { csrfToken: string };
  return { cookie, csrfToken, headers: { cookie, origin: officeUrl, 'sec-fetch-site': 'same-origin' } };
}

/** The roster file of the acceptance: workers A and B (employees), C (a contractor). */
export function acceptanceRoster(now = Date.now()): string {
  const sampled = new Date(now - 3600_000).toISOString();
  return [
    'staff_id,name,category,health_code,test_result,test_sampled_at,travel_risk,travel_as_of,department,team',
    `W-A,张伟,employee,green,negative,${sampled},none,${sampled},采煤一队,甲班`,
    `W-B,王芳,employee,green,negative,${sampled},none,${sampled},采煤一队,乙班`,
    `W-C,李娜,contractor,green,negative,${sampled},none,${sampled},机电部,`,
  ].join('\r\n');
}
