// The lane remembers each subject's keyed pseudonym: one HMAC per person, not per passage,
// and a bounded memory that starts afresh when full.
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SimRelay } from '../../../drivers/relay/sim-relay.js';
import { SimScanner } from '../../../drivers/scanner/sim-scanner.js';
import { SimThermometer } from '../../../drivers/thermometer/sim-thermometer.js';
import type { ParsedCredential } from '../../../gateway/credentials/types.js';
import { Lane, PSEUDONYM_MEMORY } from '../../../gateway/lane/lane.js';
import { MINE_ENTRANCE } from '../../../gateway/policy/profiles.js';
import type { LedgerEntry } from '../../../gateway/store/types.js';
import { simLaneConfig, T0 } from './harness.js';

/** A lane whose scanner payload is the subject id, decoded as a good pass of that subject. */
async function lane(): Promise<{ lane: Lane; scanner: SimScanner; thermometer: SimThermometer; rows: LedgerEntry[]; derived: string[] }> {
  const now = () => Date.now();
  const scanner = new SimScanner(now);
  const thermometer = new SimThermometer(now);
  const relay = new SimRelay(now);
  const rows: LedgerEntry[] = [];
  const derived: string[] = [];
  const decode = async (payload: Buffer): Promise<ParsedCredential> => ({
    ok: true,
    kind: 'health-pass',
    subject: { id: payload.toString(), name: '王五', category: 'employee', health: { healthCode: 'green', test: { result: 'negative', sampledAt: new Date(T0 - 3_600_000).toISOString() } } },
    issuer: 'test',
    issuedAt: T0 - 3_600_000,
    expiresAt: T0 + 3_600_000,
  });
  const l = new Lane({
    config: simLaneConfig('in-1'),
    devices: { scanner, thermometer, relay },
    sim: null,
    profile: MINE_ENTRANCE,
    showMs: 1000,
    decode,
    roster: () => undefined,
    facts: () => ({ watchlist: [], approvals: [], riskAreas: [] }),
    pseudonym: (id) => {
      derived.push(id);
      return `p1_${id.padEnd(22, '_').slice(0, 22)}`;
    },
    record: (entry) => {
      const row = { ...entry, seq: rows.length + 1 };
      rows.push(row);
      return row;
    },
    onSnapshot: () => {},
    now,
    logger: pino({ level: 'silent' }),
  });
  await l.start();
  return { lane: l, scanner, thermometer, rows, derived };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  vi.setSystemTime(T0);
});
afterEach(() => vi.useRealTimers());

describe("a lane's memory of pseudonyms", () => {
  it('derives a returning subject\'s pseudonym once and records the same one each time', async () => {
    const { lane: l, scanner, thermometer, rows, derived } = await lane();
    for (const id of ['a-1', 'b-2', 'a-1', 'a-1']) {
      thermometer.reading(36.5);
      scanner.scan(id);
      await l.settled();
      vi.advanceTimersByTime(2000);
    }
    const [a, b] = ['p1_a-1' + '_'.repeat(19), 'p1_b-2' + '_'.repeat(19)];
    expect(rows.map((r) => r.subjectRef)).toEqual([a, b, a, a]);
    expect(derived).toEqual(['a-1', 'b-2']);
    await l.stop();
  });

  it('starts afresh once it holds PSEUDONYM_MEMORY subjects, so it never grows past that', async () => {
    const { lane: l, scanner, thermometer, derived } = await lane();
    const pass = async (id: string) => {
      thermometer.reading(36.5);
      scanner.scan(id);
      await l.settled();
      vi.advanceTimersByTime(10);
    };
    for (let i = 0; i < PSEUDONYM_MEMORY; i++) await pass(`s-${i}`);
    await pass('s-0'); // still remembered
    expect(derived).toHaveLength(PSEUDONYM_MEMORY);
    await pass('s-new'); // the memory is full: forgotten, then this one remembered
    await pass('s-1'); // forgotten with the rest
    expect(derived.slice(PSEUDONYM_MEMORY)).toEqual(['s-new', 's-1']);
    await l.stop();
  });
});
