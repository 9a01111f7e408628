// Acceptance: kill -9 the built gateway process while it drains a backlog, start it again:
// every ledger event reaches the subscriber; a duplicate is the same event (same id).
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../gateway/store/index.js';
import { decisionOutbox } from '../../gateway/telemetry/alerts.js';
import { topicsFor } from '../../gateway/telemetry/topics.js';
import { Cleanup, newEntry, privateMosquitto, subscribe, waitFor } from '../gateway/telemetry/helpers.js';
import { startGatewayProcess, tempDir, writeConfig, type GatewayProcess } from './helpers.js';

let cleanup: Cleanup;

beforeEach(() => {
  cleanup = new Cleanup();
});

afterEach(async () => {
  await cleanup.run();
});

const BACKLOG = 50_000;

describe('a gateway crash while draining', () => {
  it('delivers every ledger event after a kill -9 and a restart; duplicates carry the same id', { timeout: 180_000 }, async () => {
    const site = `itc-${randomBytes(4).toString('hex')}`;
    const checkpoint = 'mine-entrance';
    const dir = tempDir('crash-');
    cleanup.add(() => rmSync(dir, { recursive: true, force: true }));
    const config = writeConfig(dir, site);
    // The broker is up for the whole test; only the gateway dies. A broker of our own:
    // the shared one keeps Mosquitto's default max_queued_messages (1000) and would drop
    // QoS 1 messages for a subscriber that falls behind a 50 000-row drain.
    const broker = await privateMosquitto(cleanup);
    writeFileSync(config, readFileSync(config, 'utf8').replace('embeddedFallback: true', 'embeddedFallback: false'));

    // A backlog as an outage would leave it: decisions in the ledger, their events queued.
    const topics = topicsFor({ prefix: 'checkpoints', site, checkpoint });
    const store = openStore(path.join(dir, 'data'));
    const toOutbox = decisionOutbox(store, topics, { site, checkpoint });
    store.transaction(() => {
      for (let i = 0; i < BACKLOG; i++) store.appendDecision(newEntry({ lane: 'in-1' }), toOutbox);
    });
    const ledger = new Set<string>();
    for (let before: number | undefined; ; ) {
      const page = store.queryEvents(before === undefined ? { limit: 1000 } : { limit: 1000, beforeSeq: before });
      if (page.length === 0) break;
      for (const e of page) ledger.add(e.id);
      before = page.at(-1)!.seq;
    }
    store.close();
    expect(ledger.size).toBe(BACKLOG);

    const office = await subscribe(cleanup, broker.url, [topics.events]);
    const env = { MQTT_URL: broker.url };
    let gw: GatewayProcess = await startGatewayProcess({ site, config, env });
    cleanup.add(async () => {
      await gw.stop();
    });
    await waitFor('part of the backlog at the office', () => office.messages.length >= 500, 60_000);
    gw.child.kill('SIGKILL');
    await new Promise<void>((resolve) => (gw.child.exitCode !== null || gw.child.signalCode !== null ? resolve() : gw.child.once('exit', () => resolve())));
    expect(gw.child.signalCode).toBe('SIGKILL');

    // The kill landed mid-drain: rows are still pending in the file it left behind.
    const after = openStore(path.join(dir, 'data'));
    const pending = after.outboxDepth();
    after.close();
    expect(pending).toBeGreaterThan(0);

    gw = await startGatewayProcess({ site, config, env });
    await waitFor('every ledger event at the office', () => office.events().length >= BACKLOG, 120_000);
    const ids = office.events().map((e) => e.id);
    expect(new Set(ids).size).toBe(BACKLOG);
    expect(ids.every((id) => ledger.has(id))).toBe(true);
    // In sequence order, except once: the restart resumes from the first unacknowledged row.
    const seqs = office.messages.map((m) => (JSON.parse(m.payload) as { seq: number }).seq);
    expect(seqs.filter((s, i) => i > 0 && s < seqs[i - 1]!).length).toBeLessThanOrEqual(1);
    // Duplicates are re-sends of the very same event.
    const firstCopy = new Map<string, string>();
    for (const m of office.messages) {
      const e = JSON.parse(m.payload) as { id: string; historical?: boolean };
      const { historical: _h, ...rest } = e;
      const body = JSON.stringify(rest);
      const seen = firstCopy.get(e.id);
      if (seen === undefined) firstCopy.set(e.id, body);
      else expect(body).toBe(seen);
    }
    expect(await gw.stop()).toBe(0);
  });
});
