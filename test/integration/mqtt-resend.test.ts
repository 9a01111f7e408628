// Gap repair over the real Mosquitto: a signed resend request on …/{checkpoint}/cmd/resend
// makes the gateway publish the events of that ledger range again, with their original
// ids and `historical: true`; a request for `all`, a stale one and a too-large range are
// answered `rejected`. The link and the update service are the gateway's own, in-process.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MINE_ENTRANCE } from '../../gateway/policy/profiles.js';
import type { MqttLink } from '../../gateway/telemetry/link.js';
import { LivePolicy, LiveTrust } from '../../gateway/updates/live.js';
import { UpdateService } from '../../gateway/updates/service.js';
import {
  CTX,
  SHARED_BROKER,
  linkOptions,
  silentLogger,
  startMqttLink,
  storeFixture,
  subscribe,
  tempDir,
  waitFor,
  writeRows,
  type StoreFixture,
  type Subscriber,
} from '../gateway/telemetry/helpers.js';
import { centralKeys, signed, type CentralKeys } from '../gateway/updates/helpers.js';
import { cli, cliFails } from './helpers.js';

let keys: CentralKeys;
let fx: StoreFixture;
let link: MqttLink;
let office: Subscriber;

beforeAll(async () => {
  keys = await centralKeys('central-resend-it');
});

beforeEach(async () => {
  fx = await storeFixture('resend', { clearStatusOn: SHARED_BROKER });
  const updates = new UpdateService({
    store: fx.store,
    topics: fx.topics,
    ...CTX,
    centralKeys: keys.trust,
    policy: new LivePolicy(MINE_ENTRANCE),
    trust: new LiveTrust(new Map()),
    now: Date.now,
    logger: silentLogger(),
    afterCommit: () => link.notify(),
  });
  office = await subscribe(fx.cleanup, SHARED_BROKER, [fx.topics.events, `${fx.topics.response}/#`]);
  link = startMqttLink(fx.cleanup, linkOptions(fx.store, fx.topics, { onCommand: (c) => updates.handle(c) }));
});

afterEach(async () => {
  await fx.cleanup.run();
});

async function request(version: number, data: unknown, checkpoint: string = CTX.checkpoint): Promise<Record<string, unknown>> {
  const token = await signed(keys, 'resend', version, data, { checkpoint, transaction: `gap-${version}` });
  await office.client.publishAsync(`${fx.topics.cmd}/resend`, token, { qos: 1 });
  const topic = `${fx.topics.response}/resend`;
  await waitFor(`the response to resend ${version}`, () => office.payloads(topic).some((p) => p.includes(`"gap-${version}"`)));
  return JSON.parse(office.payloads(topic).find((p) => p.includes(`"gap-${version}"`))!) as Record<string, unknown>;
}

describe('resend over the broker', () => {
  it('re-publishes the events of the range with the same ids and historical true; refuses all, stale and too large', { timeout: 30_000 }, async () => {
    await waitFor('the link up', () => link.status().state === 'connected');
    const rows = writeRows(fx.store, fx.topics, 20);
    link.notify();
    await waitFor('the 20 live events', () => office.messages.filter((m) => m.topic === fx.topics.events).length >= 20);
    const live = office.messages.filter((m) => m.topic === fx.topics.events).map((m) => JSON.parse(m.payload) as Record<string, unknown>);
    expect(live.every((e) => e.historical === false)).toBe(true);

    const response = await request(Date.now(), { fromSeq: rows[4]!.seq, toSeq: rows[9]!.seq });
    expect(response).toMatchObject({ status: 'applied', kind: 'resend', resent: 6, lastSeq: rows[19]!.seq });
    await waitFor('the 6 re-sent events', () => office.messages.filter((m) => m.topic === fx.topics.events).length >= 26);
    const resent = office.messages.filter((m) => m.topic === fx.topics.events).slice(20).map((m) => JSON.parse(m.payload) as Record<string, unknown>);
    expect(resent.map((e) => e.id)).toEqual(rows.slice(4, 10).map((r) => r.id));
    expect(resent.every((e) => e.historical === true)).toBe(true);
    // The same event as first published, apart from the transport flag.
    const strip = ({ historical: _h, ...rest }: Record<string, unknown>): Record<string, unknown> => rest;
    expect(resent.map(strip)).toEqual(live.slice(4, 10).map(strip));

    const all = await request(Date.now() + 1, { fromSeq: 1, toSeq: 5 }, 'all');
    expect(all).toMatchObject({ status: 'rejected', error: { code: 'UPDATE_WRONG_TARGET' } });
    const stale = await request(1000, { fromSeq: 1, toSeq: 5 });
    expect(stale).toMatchObject({ status: 'rejected', error: { code: 'UPDATE_VERSION_STALE' } });
    const large = await request(Date.now() + 2, { fromSeq: 1, toSeq: 20_000 });
    expect(large).toMatchObject({ status: 'rejected', error: { code: 'UPDATE_SCHEMA_INVALID' } });
    expect(office.messages.filter((m) => m.topic === fx.topics.events)).toHaveLength(26);
  });
});

describe('central sign resend', () => {
  it('signs a resend request for one checkpoint and refuses one for all', { timeout: 30_000 }, async () => {
    const dir = await tempDir(fx.cleanup, 'resend-cli');
    const range = path.join(dir, 'range.json');
    await writeFile(range, JSON.stringify({ fromSeq: 40, toSeq: 51 }));
    const args = ['central', 'sign', 'resend', range, '--update-version', '1733300000000', '--site', 'mine-a'];
    const refused = await cliFails(args);
    expect(refused.stderr).toContain('UPDATE_WRONG_TARGET');
    const { stdout } = await cli([...args, '--checkpoint', 'gate-1']);
    const payload = JSON.parse(Buffer.from(stdout.trim().split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(payload).toMatchObject({ kind: 'resend', version: 1733300000000, checkpoint: 'gate-1', data: { fromSeq: 40, toSeq: 51 } });
  });
});
