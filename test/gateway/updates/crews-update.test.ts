// The crews update: contractor crew registrations (responsible person, members, itinerary)
// verified, versioned and applied like every other kind, answered on response/crews.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type SqliteStore } from '../../../gateway/store/index.js';
import { topicsFor, type CheckpointTopics } from '../../../gateway/telemetry/topics.js';
import { UPDATE_KINDS, prepareUpdateData } from '../../../gateway/updates/envelope.js';
import { checkMessage } from '../telemetry/asyncapi.js';
import { CHECKPOINT, SITE, centralKeys, codeOf, envelope, signed, type CentralKeys, updateService } from './helpers.js';
import { freshDir, removeDirs } from '../store/helpers.js';

const crew = {
  id: 'CREW-7',
  responsible: '赵工',
  members: ['110101199003077777', 'C-0100'],
  validFrom: '2022-12-05',
  validUntil: '2022-12-20',
  itinerary: [{ region: '西安市', from: '2022-11-25', to: '2022-11-28' }],
};

describe('preparing a crews update', () => {
  it('is one of the update kinds, so the CLI can sign it', () => {
    expect(UPDATE_KINDS).toContain('crews');
  });

  it('accepts crews with a responsible person, members and an itinerary, and an empty itinerary', async () => {
    const still = { ...crew, id: 'CREW-8', itinerary: [] };
    expect(await prepareUpdateData(envelope('crews', 1, { entries: [crew, still] }))).toEqual({ kind: 'crews', entries: [crew, still] });
  });

  it('accepts a one-day stay (from = to)', async () => {
    const oneDay = { ...crew, itinerary: [{ region: '天津市', from: '2022-11-30', to: '2022-11-30' }] };
    expect(await codeOf(prepareUpdateData(envelope('crews', 1, { entries: [oneDay] })))).toBe('applied');
  });

  it('refuses a crew without members, without a responsible person, ending before it starts, or with a stay ending before it starts, naming the field and no subject id', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...crew, members: [] }, 'members'],
      [{ ...crew, responsible: ' ' }, 'responsible'],
      [{ ...crew, validUntil: '2022-12-01' }, 'validUntil'],
      [{ ...crew, itinerary: [{ region: '西安市', from: '2022-11-28', to: '2022-11-25' }] }, 'itinerary'],
      [{ ...crew, itinerary: [{ region: '西安市', from: 'last week', to: '2022-11-25' }] }, 'itinerary'],
    ];
    for (const [bad, field] of cases) {
      const msg = await codeOf(prepareUpdateData(envelope('crews', 1, { entries: [bad] })));
      expect(msg).toMatch(/^UPDATE_SCHEMA_INVALID: /);
      expect(msg).toContain(field);
      expect(msg).not.toMatch(/110101199003077777|C-0100|赵工/);
    }
  });

  it('refuses two crews with the same id', async () => {
    expect(await codeOf(prepareUpdateData(envelope('crews', 1, { entries: [crew, { ...crew, members: ['C-1'] }] })))).toMatch(/^UPDATE_SCHEMA_INVALID: .*id/);
  });
});

describe('applying a crews update', () => {
  let keys: CentralKeys;
  let store: SqliteStore;
  let topics: CheckpointTopics;

  beforeAll(async () => {
    keys = await centralKeys('central-crews');
  });
  beforeEach(() => {
    store = openStore(freshDir('crews-'));
    topics = topicsFor({ prefix: 'checkpoints', site: SITE, checkpoint: CHECKPOINT });
  });
  afterEach(() => {
    store.close();
    removeDirs();
  });

  const service = () => updateService(store, keys, topics, Date.parse('2022-12-05T09:00:00Z'));
  const cmd = (token: string) => ({ topic: `${topics.cmd}/crews`, kind: 'crews', siteWide: false, retained: false, payload: Buffer.from(token) });
  const responses = () =>
    store
      .outboxPending(100)
      .filter((r) => r.topic === `${topics.response}/crews`)
      .map((r) => {
        expect(checkMessage(r.topic, r.payload)).toEqual([]);
        return r.payload;
      });

  it('stores the crews by member, records the version and answers applied without any name or id number', async () => {
    const result = await service().handle(cmd(await signed(keys, 'crews', 3, { entries: [crew] })));
    expect(result).toMatchObject({ status: 'applied', kind: 'crews', version: 3, transaction: 'tx-crews-3' });
    expect(store.crewsFor('C-0100')).toEqual([crew]);
    expect(store.crewsFor('110101199003077777')).toEqual([crew]);
    expect(store.crewsFor('C-9999')).toEqual([]);
    expect(store.getMeta('update.crews.version')).toBe('3');
    const [response] = responses();
    expect(JSON.parse(response ?? '{}')).toMatchObject({ v: 1, status: 'applied', kind: 'crews', version: 3 });
    expect(response).not.toMatch(/赵工|110101199003077777|C-0100/);
  });

  it('replaces the whole list: a member dropped from every crew has none left', async () => {
    const svc = service();
    await svc.handle(cmd(await signed(keys, 'crews', 1, { entries: [crew] })));
    const next = { ...crew, members: ['C-0100'], responsible: '钱工' };
    expect(await svc.handle(cmd(await signed(keys, 'crews', 2, { entries: [next] })))).toMatchObject({ status: 'applied' });
    expect(store.crewsFor('110101199003077777')).toEqual([]);
    expect(store.crewsFor('C-0100')).toEqual([next]);
  });

  it('rejects a stale version and an invalid crew without changing what is stored, answering with the code', async () => {
    const svc = service();
    await svc.handle(cmd(await signed(keys, 'crews', 5, { entries: [crew] })));
    const stale = await svc.handle(cmd(await signed(keys, 'crews', 5, { entries: [] })));
    expect(stale).toMatchObject({ status: 'rejected', error: { code: 'UPDATE_VERSION_STALE' } });
    const bad = await svc.handle(cmd(await signed(keys, 'crews', 6, { entries: [{ ...crew, members: [] }] })));
    expect(bad).toMatchObject({ status: 'rejected', error: { code: 'UPDATE_SCHEMA_INVALID' } });
    expect(store.crewsFor('C-0100')).toEqual([crew]);
    expect(store.getMeta('update.crews.version')).toBe('5');
    for (const r of responses()) expect(r).not.toMatch(/赵工|110101199003077777|C-0100/);
  });
});
