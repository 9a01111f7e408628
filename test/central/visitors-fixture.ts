// One site with the built central service (PostgreSQL, signing key, the site's pseudonym
// secret) and real built gateways on the shared Mosquitto, for the visitors tests: the
// end-to-end test and the browser test. Each gateway is its own checkpoint of the site.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { openDb, type Db } from '../../central/db/adapter.js';
import { addOfficer, OFFICER_PASSWORD } from '../browser/office-helpers.js';
import { Cleanup, SHARED_BROKER, clearRetained, tempDir, waitFor } from '../gateway/telemetry/helpers.js';
import { cli, guardGet, postJson, ROOT, startGatewayProcess, tempDir as itTempDir, until, writeConfig, type GatewayProcess } from '../integration/helpers.js';
import { testDatabase, writeServiceConfig } from './helpers.js';
import { startServiceProcess, type ServiceProcess } from './process.js';

export interface VisitorsSite {
  site: string;
  prefix: string;
  office: ServiceProcess;
  config: string;
  db: Db;
  gateways: Map<string, GatewayProcess>;
  /** Starts the built gateway of `checkpoint` and waits until the office has its birth. */
  startGateway(checkpoint: string): Promise<GatewayProcess>;
}

export async function visitorsSite(cleanup: Cleanup, officers: [id: string, name: string, role: string][]): Promise<VisitorsSite> {
  const prefix = `test-${randomUUID()}`;
  const site = `vis-${randomBytes(4).toString('hex')}`;
  const databaseUrl = await testDatabase(cleanup);
  const dataDir = await tempDir(cleanup, 'central-visitors');
  const config = await writeServiceConfig({
    dataDir,
    databaseUrl,
    mqttUrl: SHARED_BROKER,
    clientId: `office-visitors-${randomUUID().slice(0, 8)}`,
    prefix,
    signingKeyFile: path.join(ROOT, 'config/demo/central-1.private.jwk.json'),
    sites: { [site]: path.join(ROOT, 'config/demo/pseudonym.secret') },
  });
  for (const [id, name, role] of officers) expect(await addOfficer(config, id, name, role)).toBe(0);
  const office = await startServiceProcess(cleanup, config);
  await waitFor('office connected', async () => ((await (await fetch(`${office.url}/healthz`)).json()) as { broker: { connected: boolean } }).broker.connected);
  const db = await openDb({ url: databaseUrl, dataDir });
  cleanup.add(() => db.close());
  // Retained pushes and statuses must not outlive the test on the shared broker.
  cleanup.add(async () => {
    const topics = await db.query<{ topic: string }>(
      `SELECT DISTINCT $1 || '/' || site || '/' || target || '/cmd/' || kind AS topic FROM published_updates
       UNION SELECT $1 || '/' || site || '/' || checkpoint || '/status' FROM checkpoints`,
      [prefix],
    );
    for (const t of topics) await clearRetained(SHARED_BROKER, t.topic);
  });
  const gateways = new Map<string, GatewayProcess>();
  return {
    site,
    prefix,
    office,
    config,
    db,
    gateways,
    async startGateway(checkpoint) {
      const gwConfig = writeConfig(itTempDir(`visitors-${checkpoint}-`), site);
      writeFileSync(
        gwConfig,
        readFileSync(gwConfig, 'utf8')
          .replace(/^checkpoint: .*$/m, `checkpoint: ${checkpoint}`)
          .replace(/topicPrefix: .*$/m, `topicPrefix: ${prefix}`),
      );
      const gw = await startGatewayProcess({ site, config: gwConfig });
      cleanup.add(async () => {
        await gw.stop();
      });
      gateways.set(checkpoint, gw);
      await waitFor(`${checkpoint} online at the office`, async () => (await db.query<{ state: string }>('SELECT state FROM checkpoints WHERE site = $1 AND checkpoint = $2', [site, checkpoint]))[0]?.state === 'online');
      return gw;
    },
  };
}

/** A console session over HTTP: cookie and CSRF token. */
export interface OfficeSession {
  get: Record<string, string>;
  post(route: string, body: unknown): Promise<Response>;
}

export async function officeSession(officeUrl: string, id: string): Promise<OfficeSession> {
  const origin = { origin: officeUrl, 'sec-fetch-site': 'same-origin' };
  const res = await fetch(`${officeUrl}/api/session`, { method: 'POST', headers: { ...origin, 'content-type': 'application/json' }, body: JSON.stringify({ id, password: OFFICER_PASSWORD }) });
  if (res.status !== 200) throw new Error(`sign-in of ${id}: HTTP ${res.status} ${await res.text()}`);
  const cookie = (res.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
  const { csrfToken } = (await res.json()) as { csrfToken: string };
  const get = { cookie, 'sec-fetch-site': 'same-origin' };
  return {
    get,
    post: (route, body) => fetch(`${officeUrl}${route}`, { method: 'POST', headers: { ...get, ...origin, 'content-type': 'application/json', 'x-csrf-token': csrfToken }, body: JSON.stringify(body) }),
  };
}

export interface Decision {
  id: string;
  outcome: string;
  reasons: { code: string }[];
}

/** A person with a fresh pass of `category` passes lane in-1 of `gw`: temperature, scan, the decision. */
export async function passage(gw: GatewayProcess, subject: string, category: string): Promise<Decision> {
  const events = async (): Promise<Decision[]> => ((await (await guardGet(gw, '/api/events?limit=100')).json()) as { events: Decision[] }).events;
  const pass = (await cli(['pass', 'issue', '--sub', subject, '--category', category])).stdout.trim();
  const known = new Set((await events()).map((e) => e.id));
  expect((await postJson(`${gw.url}/api/sim/lanes/in-1/temperature`, { celsius: 36.5 })).status).toBe(202);
  expect((await postJson(`${gw.url}/api/sim/lanes/in-1/scan`, { payload: pass })).status).toBe(202);
  return until('the decision', async () => (await events()).find((e) => !known.has(e.id)), 15_000);
}

export interface ListedEntry {
  id: string;
  status: string;
  gateways: { checkpoint: string; state: string; errorCode: string | null }[];
}

export async function listed(officeUrl: string, s: OfficeSession): Promise<{ approvals: ListedEntry[]; crews: ListedEntry[] }> {
  return (await (await fetch(`${officeUrl}/api/visitors`, { headers: s.get })).json()) as { approvals: ListedEntry[]; crews: ListedEntry[] };
}

/** "cp1:confirmed cp2:waiting" for an entry, for readable expectations. */
export const chipsOf = (e: ListedEntry | undefined): string => (e?.gateways ?? []).map((g) => `${g.checkpoint}:${g.state}${g.errorCode ? `:${g.errorCode}` : ''}`).join(' ');
