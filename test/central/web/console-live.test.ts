// The live refresh end to end: a running central service (real PostgreSQL, the shared
// Mosquitto) tells a signed-in page's /api/stream "changed: events" after an event a fake
// gateway published is committed, on MQTT 5 and on 3.1.1 (where the ingest's onCommit also
// feeds the status watch).
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCentralConfig } from '../../../central/config.js';
import { CentralService } from '../../../central/service.js';
import { Officers } from '../../../central/web/officers.js';
import { Cleanup, SHARED_BROKER, silentLogger, tempDir, waitFor } from '../../gateway/telemetry/helpers.js';
import { PG_URL, dropSchema, publishEvents, uniqueSchema } from '../helpers.js';
import { eventStream, PASSWORD } from './helpers.js';

for (const protocolVersion of [5, 4] as const) {
  describe(`console live stream (MQTT ${protocolVersion === 5 ? '5' : '3.1.1'})`, () => {
    let cleanup: Cleanup;
    beforeEach(() => {
      cleanup = new Cleanup();
    });
    afterEach(() => cleanup.run());

    it('sends "changed: events" to a signed-in stream once a published event is committed', async () => {
      const dataDir = await tempDir(cleanup, 'console-live');
      const schema = uniqueSchema();
      cleanup.add(() => dropSchema(schema));
      const prefix = `test-${randomUUID()}`;
      const yaml = [
        `dataDir: ${JSON.stringify(dataDir)}`,
        `database: { url: ${JSON.stringify(PG_URL)} }`,
        `mqtt: { url: ${JSON.stringify(SHARED_BROKER)}, clientId: office-live-${randomUUID().slice(0, 8)}, topicPrefix: ${prefix}, sessionExpiryS: 60, protocolVersion: ${protocolVersion} }`,
        'http: { host: 127.0.0.1, port: 0 }',
      ].join('\n');
      const service = new CentralService(parseCentralConfig(yaml, `${dataDir}/central.yaml`), { logger: silentLogger(), dbSchema: schema });
      cleanup.add(() => service.stop());
      await service.start();
      await waitFor('broker connected', () => service.link.state.connected);
      const url = service.url as string;
      await new Officers(service.db, { maxFailures: 5, lockoutMs: 60_000 }).add({ id: 'zhao.min', name: '赵敏', role: 'viewer', secret: PASSWORD }, 'cli:test');
      const signIn = await fetch(`${url}/api/session`, {
        method: 'POST',
        headers: { origin: url, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'zhao.min', password: PASSWORD }),
      });
      expect(signIn.status).toBe(200);
      const cookie = (signIn.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';

      const controller = new AbortController();
      cleanup.add(() => controller.abort());
      const res = await fetch(`${url}/api/stream`, { headers: { cookie, 'sec-fetch-site': 'same-origin' }, signal: controller.signal });
      expect(res.status).toBe(200);
      const stream = eventStream(res);
      await stream.until('retry:');
      expect(stream.text()).not.toContain('changed');
      await publishEvents(SHARED_BROKER, `${prefix}/mine-a/gate-1/events`, { site: 'mine-a', checkpoint: 'gate-1' }, 1);
      await stream.until('data: {"changed":');
      await stream.until('}\n\n');
      expect(stream.text()).toContain('event: changed\ndata: {"changed":["events"]}');
    }, 30_000);
  });
}
