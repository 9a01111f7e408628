// Acceptance: a signed watchlist update, made and sent with the central-office CLI to the
// built gateway process over the real Mosquitto, refuses the next scan of that person; a
// forged, a stale and a malformed update are rejected with a response and change nothing.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cleanup, subscribe, type Subscriber } from '../gateway/telemetry/helpers.js';
import { cli, cliFails, guardGet, postJson, startGatewayProcess, tempDir, until, type GatewayProcess } from './helpers.js';

interface PublicEvent {
  id: string;
  outcome: string;
  reasons: { code: string }[];
}

const site = `itu-${randomBytes(4).toString('hex')}`;
const checkpoint = 'mine-entrance';
const person = `it-watch-${randomBytes(3).toString('hex')}`;
const cleanup = new Cleanup();
let gw: GatewayProcess;
let sub: Subscriber;
let dir: string;

async function events(): Promise<PublicEvent[]> {
  return ((await (await guardGet(gw, '/api/events?limit=100')).json()) as { events: PublicEvent[] }).events;
}

async function passage(pass: string): Promise<PublicEvent> {
  const known = new Set((await events()).map((e) => e.id));
  expect((await postJson(`${gw.url}/api/sim/lanes/in-1/temperature`, { celsius: 36.5 })).status).toBe(202);
  expect((await postJson(`${gw.url}/api/sim/lanes/in-1/scan`, { payload: pass })).status).toBe(202);
  return until('the decision', async () => (await events()).find((e) => !known.has(e.id)));
}

function responses(kind: string): Record<string, unknown>[] {
  return sub.payloads(`checkpoints/${site}/${checkpoint}/response/${kind}`).map((p) => JSON.parse(p) as Record<string, unknown>);
}

async function signWatchlist(version: number, entries: unknown[], key?: string): Promise<string> {
  const data = path.join(dir, `watchlist-${version}-${randomBytes(2).toString('hex')}.json`);
  writeFileSync(data, JSON.stringify({ entries }));
  const args = ['central', 'sign', 'watchlist', data, '--update-version', String(version), '--site', site, '--checkpoint', checkpoint, '--transaction', `tx-${version}-${randomBytes(2).toString('hex')}`];
  const { stdout } = await cli(key ? [...args, '--key', key] : args);
  const file = path.join(dir, `signed-${randomBytes(4).toString('hex')}.jws`);
  writeFileSync(file, stdout.trim());
  return file;
}

function publishArgs(file: string): string[] {
  return ['central', 'publish', 'watchlist', file, '--site', site, '--checkpoint', checkpoint, '--wait', '15000'];
}

beforeAll(async () => {
  dir = tempDir('central-');
  sub = await subscribe(cleanup, 'mqtt://127.0.0.1:1883', [`checkpoints/${site}/#`]);
  gw = await startGatewayProcess({ site });
  await until('gateway online', () => sub.messages.find((m) => m.topic.endsWith('/status') && m.payload.includes('"online"')), 15_000);
});

afterAll(async () => {
  const code = await gw?.stop();
  await cleanup.run(); // also fails the file if any message broke docs/asyncapi.yaml
  expect(code).toBe(0);
});

describe('signed inbound updates, end to end', () => {
  it('a signed watchlist update adds a person and the next scan of that person is refused', { timeout: 60_000 }, async () => {
    const { stdout } = await cli(['pass', 'issue', '--sub', person, '--name', '李四']);
    const pass = stdout.trim();
    expect((await passage(pass)).outcome).toBe('admit');

    const signed = await signWatchlist(1, [{ subjectId: person, kind: 'close-contact', from: '2020-01-01', until: null }]);
    const published = await cli(publishArgs(signed));
    expect(JSON.parse(published.stdout.trim())).toMatchObject({ status: 'applied', kind: 'watchlist', version: 1, site, checkpoint });

    const refused = await passage(pass);
    expect(refused.outcome).toBe('refuse');
    expect(refused.reasons.map((r) => r.code)).toContain('WATCHLIST_CLOSE_CONTACT');
    const alert = await until('the watchlist alert', () =>
      sub.messages.find((m) => m.topic.endsWith('/alerts') && m.payload.includes(refused.id)),
    );
    expect(JSON.parse(alert.payload)).toMatchObject({ kind: 'watchlist', severity: 'critical', eventId: refused.id, lane: 'in-1' });
    // Nothing published names the person or carries their raw id.
    const all = sub.messages.map((m) => m.payload).join('\n');
    expect(all).not.toContain('李四');
    expect(all).not.toContain(person);
  });

  it('rejects a forged, a stale and a malformed update with a response each, and the person stays refused', { timeout: 60_000 }, async () => {
    const forgerDir = tempDir('forger-');
    await cli(['central', 'keys', 'generate', '--kid', 'demo-central-1', '--out', forgerDir]);
    const forged = await signWatchlist(2, [], path.join(forgerDir, 'demo-central-1.private.jwk.json'));
    const f = await cliFails(publishArgs(forged));
    expect(f.stderr).toContain('UPDATE_SIGNATURE_INVALID');

    const stale = await signWatchlist(1, []);
    const s = await cliFails(publishArgs(stale));
    expect(s.stderr).toContain('UPDATE_VERSION_STALE');

    const garbage = path.join(dir, 'garbage.jws');
    writeFileSync(garbage, 'this.is.garbage');
    const g = await cliFails(publishArgs(garbage));
    expect(g.stderr).toContain('UPDATE_MALFORMED');

    await until('three rejections on the response topic', () => (responses('watchlist').filter((r) => r.status === 'rejected').length >= 3 ? true : undefined));
    const codes = responses('watchlist').filter((r) => r.status === 'rejected').map((r) => (r.error as { code: string }).code);
    expect(codes).toEqual(['UPDATE_SIGNATURE_INVALID', 'UPDATE_VERSION_STALE', 'UPDATE_MALFORMED']);
    await until('three update-rejected alerts', () =>
      sub.messages.filter((m) => m.topic.endsWith('/alerts') && m.payload.includes('"update-rejected"')).length >= 3 ? true : undefined,
    );

    const { stdout } = await cli(['pass', 'issue', '--sub', person]);
    const event = await passage(stdout.trim());
    expect(event.reasons.map((r) => r.code)).toContain('WATCHLIST_CLOSE_CONTACT');
  });

  it('refuses to sign data the gateway would refuse, naming the entry and field', async () => {
    const data = path.join(dir, 'bad-watchlist.json');
    writeFileSync(data, JSON.stringify([{ subjectId: 'x', kind: 'quarantine', from: '2022-12-01', until: null }]));
    const r = await cliFails(['central', 'sign', 'watchlist', data, '--update-version', '9', '--site', site]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/UPDATE_SCHEMA_INVALID.*entry 0.*kind/);
    expect(r.stdout).toBe('');
  });
});
