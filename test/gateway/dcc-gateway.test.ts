// A whole gateway in-process with trust.dccSignersDir: the folder's DSCs are trusted at
// start, a bad file stops the start naming it, and a DCC scanned at a sim lane is decided
// and recorded. Real store, real broker (the shared Mosquitto, a unique topic prefix).
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../gateway/config/load.js';
import { dccSubjectId } from '../../gateway/credentials/dcc-facts.js';
import { startGateway } from '../../gateway/gateway.js';
import { issueDcc, makeDsc, sampleHcert } from '../fixtures/dcc-issuer.js';
import { ROOT } from '../integration/helpers.js';
import { Cleanup, SHARED_BROKER, silentLogger, tempDir, uniquePrefix, waitFor } from './telemetry/helpers.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let cleanup: Cleanup;
beforeEach(() => {
  cleanup = new Cleanup();
});
afterEach(() => cleanup.run());

/** The demo config with its own data dir, a unique prefix and site, and `dsc` as the DCC folder. */
async function configWith(dscDir: string): Promise<string> {
  const dir = await tempDir(cleanup, 'dcc-gw');
  const yaml = (await readFile(path.join(ROOT, 'config/gateway.yaml'), 'utf8'))
    .replace(/^site: .*$/m, `site: dcc-${randomBytes(3).toString('hex')}`)
    .replace(/^dataDir: .*$/m, `dataDir: ${path.join(dir, 'data')}`)
    .replace(/pseudonymSecretFile: .*$/m, `pseudonymSecretFile: ${path.join(ROOT, 'config/demo/pseudonym.secret')}`)
    .replace(/passIssuersDir: .*$/m, `passIssuersDir: ${path.join(ROOT, 'config/trust')}\n  dccSignersDir: ${dscDir}`)
    .replace(/updateKeysDir: .*$/m, `updateKeysDir: ${path.join(ROOT, 'config/central')}`)
    .replace(/^ {2}url: mqtt:.*$/m, `  url: ${SHARED_BROKER}`)
    .replace(/^ {2}topicPrefix: .*$/m, `  topicPrefix: ${uniquePrefix()}`);
  const file = path.join(dir, 'gateway.yaml');
  await writeFile(file, yaml);
  return file;
}

describe('a gateway with trust.dccSignersDir', () => {
  it('trusts the folder\'s DSCs from the start: a NAAT test certificate with a visitor approval admits at 36.5 °C', { timeout: 30_000 }, async () => {
    const now = Date.now();
    const dsc = makeDsc({ alg: 'ES256', notBefore: now - 30 * DAY, notAfter: now + 365 * DAY });
    const dscDir = await tempDir(cleanup, 'dsc');
    await writeFile(path.join(dscDir, 'at-1.der'), dsc.der);
    const gw = await startGateway(loadConfig(await configWith(dscDir), { HTTP_PORT: '0' }), { logger: silentLogger() });
    cleanup.add(() => gw.stop());
    gw.store.approvalsReplace([{ subjectId: dccSubjectId({ fnt: 'MUSTERFRAU', gnt: 'ERIKA' }, '1964-08-12'), approver: 'x', hostDepartment: 'y', validFrom: new Date(now - DAY).toISOString(), validUntil: new Date(now + DAY).toISOString() }]);
    const h = sampleHcert('test') as { t: Record<string, unknown>[] };
    const qr = issueDcc({ dsc, hcert: { ...h, t: [{ ...h.t[0], sc: new Date(now - 20 * HOUR).toISOString() }] }, iat: now - 20 * HOUR, exp: now + 30 * DAY, iss: 'AT' });
    const lane = gw.lanes[0]!;
    lane.sim?.temperature(36.5);
    lane.sim?.scan(qr);
    await waitFor('a ledger row', () => gw.store.queryEvents({ limit: 1 }).length === 1, 10_000);
    expect(gw.store.queryEvents({ limit: 1 })[0]).toMatchObject({ outcome: 'admit', credential: 'dcc', category: 'visitor', temperature: 36.5 });
  });

  it('refuses to start with a file in it that is not a certificate, naming the file', async () => {
    const dscDir = await tempDir(cleanup, 'dsc');
    await mkdir(dscDir, { recursive: true });
    await writeFile(path.join(dscDir, 'broken.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    const started = startGateway(loadConfig(await configWith(dscDir), { HTTP_PORT: '0' }), { logger: silentLogger() });
    await expect(started).rejects.toThrow(new RegExp(`TRUST_KEY_INVALID.*${path.join(dscDir, 'broken.pem').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
  });
});
