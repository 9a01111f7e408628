// EU Digital COVID Certificates at a simulated lane with a real SQLite store: the DSCs and
// certificates are made here (test/fixtures/dcc-issuer.ts), verified by the real verifier,
// decided by the real policy, recorded in the real ledger.
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { dccSubjectId } from '../../../gateway/credentials/dcc-facts.js';
import { buildDccTrust, verifyDcc, type DccTrust } from '../../../gateway/credentials/dcc/index.js';
import { buildSimLane } from '../../../gateway/gateway.js';
import { MINE_ENTRANCE, profileFromOverrides } from '../../../gateway/policy/profiles.js';
import type { PolicyProfile } from '../../../gateway/policy/types.js';
import type { LedgerEntry } from '../../../gateway/store/index.js';
import { topicsFor } from '../../../gateway/telemetry/topics.js';
import { LiveDccTrust, LivePolicy, LiveTrust } from '../../../gateway/updates/live.js';
import { UpdateService } from '../../../gateway/updates/service.js';
import { issueDcc, makeDsc, sampleHcert, trustEntry, type TestDsc } from '../../fixtures/dcc-issuer.js';
import { centralKeys, signed } from '../updates/helpers.js';
import { T0, laneParts, simLaneConfig, useLaneTestEnv } from './harness.js';

const env = useLaneTestEnv('dcc-lane-');

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Local (UTC+8) calendar date `days` before T0. */
const dayBefore = (days: number) => new Date(T0 + 8 * HOUR - days * DAY).toISOString().slice(0, 10);

const dsc = makeDsc({ alg: 'ES256', notBefore: T0 - 365 * DAY, notAfter: T0 + 365 * DAY });
const stranger = makeDsc({ alg: 'ES256', notBefore: T0 - 365 * DAY, notAfter: T0 + 365 * DAY, name: 'Unknown DSC' });
const trust = buildDccTrust([trustEntry(dsc)]);

/** The person of sampleHcert: an approval for them, as the office writes it for a visitor. */
const ID = dccSubjectId({ fnt: 'MUSTERFRAU', gnt: 'ERIKA' }, '1964-08-12');
const approval = { subjectId: ID, approver: '刘主任', hostDepartment: '机电科', validFrom: '2024-01-01', validUntil: '2024-02-01', id: 'A-DCC' };

function testCert(hoursAgo: number, over: Record<string, unknown> = {}, signer: TestDsc = dsc): string {
  const h = sampleHcert('test') as { t: Record<string, unknown>[] };
  const hcert = { ...h, t: [{ ...h.t[0], sc: new Date(T0 - hoursAgo * HOUR).toISOString(), ...over }] };
  return issueDcc({ dsc: signer, hcert, iat: T0 - hoursAgo * HOUR, exp: T0 + 30 * DAY, iss: 'AT' });
}

function vaccinationCert(daysAgo: number): string {
  const h = sampleHcert('vaccination') as { v: Record<string, unknown>[] };
  return issueDcc({ dsc, hcert: { ...h, v: [{ ...h.v[0], dt: dayBefore(daysAgo) }] }, iat: T0 - DAY, exp: T0 + 300 * DAY, iss: 'AT' });
}

function recoveryCert(fromDaysAgo: number, untilDaysAhead: number): string {
  const h = sampleHcert('recovery') as { r: Record<string, unknown>[] };
  const hcert = { ...h, r: [{ ...h.r[0], fr: dayBefore(fromDaysAgo + 11), df: dayBefore(fromDaysAgo), du: dayBefore(-untilDaysAhead) }] };
  return issueDcc({ dsc, hcert, iat: T0 - DAY, exp: T0 + 100 * DAY, iss: 'AT' });
}

interface Lane {
  /** Reads 36.5 °C, scans `qr`, waits for the decision and the screen to clear; the row written. */
  pass(qr: string): Promise<LedgerEntry>;
  parts: ReturnType<typeof buildSimLane>;
  /** The profile in force, replaced as a policy update would. */
  policy: LivePolicy;
}

async function dccLane(profile: PolicyProfile = MINE_ENTRANCE, dccTrust: () => DccTrust = () => trust): Promise<Lane> {
  env.store.approvalsReplace([approval]);
  const policy = new LivePolicy(profile);
  const parts = buildSimLane(laneParts(env.store, env.issuer.trust, { laneConfig: simLaneConfig(), profile: policy.view, dcc: (qr, at) => verifyDcc(qr, dccTrust(), at) }));
  await parts.lane.start();
  env.onStop(() => parts.lane.stop());
  return {
    parts,
    policy,
    pass: async (qr) => {
      parts.thermometer.reading(36.5);
      parts.scanner.scan(qr);
      await parts.lane.settled();
      const row = env.store.queryEvents({ limit: 1 })[0];
      vi.advanceTimersByTime(6000);
      if (row === undefined) throw new Error('no ledger row');
      return row;
    },
  };
}

const codes = (row: LedgerEntry) => row.reasons.map((r) => r.code);

describe('a lane reading EU DCCs', () => {
  it('admits a NAAT test certificate sampled 20 h ago at 36.5 °C, recorded like a pass: credential dcc, a visitor, a pseudonym, the name masked on the kiosk', async () => {
    const lane = await dccLane();
    const row = await lane.pass(testCert(20));
    expect(row).toMatchObject({ outcome: 'admit', reasons: [], credential: 'dcc', category: 'visitor', temperature: 36.5, subjectName: 'Musterfrau Erika', approver: '刘主任' });
    expect(row.subjectRef).toMatch(/^p1_/);
    expect(lane.parts.relay.pulses).toHaveLength(1);
    expect(lane.parts.lane.snapshot().last).toMatchObject({ eventId: row.id, outcome: 'admit', maskedName: 'M***' });
    // The decision's facts (health group) keep the certificate's facts, never who it is.
    const stored = [...env.store.replayRows()].find((r) => r.seq === row.seq);
    expect(stored?.facts.credential).toEqual({ ok: true, kind: 'dcc', category: 'visitor', health: { source: 'dcc', dcc: { type: 'test', testType: 'naat' }, test: { result: 'negative', sampledAt: new Date(T0 - 20 * HOUR).toISOString() } } });
    // Nothing published names the person, their date of birth or the certificate.
    const published = env.store.outboxPending(100).map((m) => m.payload).join('\n');
    expect(published).toContain(row.subjectRef as string);
    expect(published).not.toMatch(/Musterfrau|MUSTERFRAU|Erika|1964-08-12|URN:UVCI|刘主任/);
  });

  it('refuses a test sampled 49 h ago with TEST_EXPIRED', async () => {
    const lane = await dccLane();
    const row = await lane.pass(testCert(49));
    expect(row.outcome).toBe('refuse');
    expect(codes(row)).toEqual(['TEST_EXPIRED']);
    expect(lane.parts.relay.pulses).toHaveLength(0);
  });

  it('refuses a certificate signed by a DSC it does not trust with its own code, DCC_UNKNOWN_SIGNER, and no forgery alert', async () => {
    const lane = await dccLane();
    const row = await lane.pass(testCert(20, {}, stranger));
    expect(row).toMatchObject({ outcome: 'refuse', credential: 'dcc', subjectRef: null, subjectName: null });
    expect(codes(row)).toEqual(['DCC_UNKNOWN_SIGNER']);
    expect(row.alerts).toEqual([]);
    expect(lane.parts.lane.snapshot().last?.reasons[0]).toMatchObject({ zh: '证书签发机构未登记', en: 'Certificate issuer not recognised here' });
  });

  it('refuses a forged certificate (signature altered) with DCC_SIGNATURE_INVALID and a forged-pass alert', async () => {
    const lane = await dccLane();
    const h = sampleHcert('test') as { t: Record<string, unknown>[] };
    const qr = issueDcc({ dsc, hcert: { ...h, t: [{ ...h.t[0], sc: new Date(T0 - HOUR).toISOString() }] }, iat: T0 - HOUR, exp: T0 + DAY, mutateSignature: (s) => s.map((b, i) => (i === 0 ? b ^ 1 : b)) });
    const row = await lane.pass(qr);
    expect(codes(row)).toEqual(['DCC_SIGNATURE_INVALID']);
    expect(row.alerts).toEqual([{ kind: 'forged-pass', severity: 'warning', code: 'DCC_SIGNATURE_INVALID' }]);
  });

  it('refuses a vaccination certificate under the default profile, admits it under a profile that accepts vaccination', async () => {
    const lane = await dccLane();
    const refused = await lane.pass(vaccinationCert(60));
    expect(refused.outcome).toBe('refuse');
    expect(codes(refused)).toEqual(['DCC_TYPE_NOT_ACCEPTED']);
    lane.policy.set(profileFromOverrides({ dcc: { acceptVaccination: true } }));
    const admitted = await lane.pass(vaccinationCert(60));
    expect(admitted).toMatchObject({ outcome: 'admit', credential: 'dcc', temperature: 36.5 });
    // The same person, another certificate: the same pseudonym.
    expect(admitted.subjectRef).toBe(refused.subjectRef);
  });

  it('refuses a rapid antigen test with DCC_TEST_NOT_NAAT unless the profile accepts one', async () => {
    const rat = testCert(5, { tt: 'LP217198-3', ma: '1232' });
    const lane = await dccLane();
    expect(codes(await lane.pass(rat))).toEqual(['DCC_TEST_NOT_NAAT']);
    lane.policy.set(profileFromOverrides({ dcc: { acceptRapidAntigen: true } }));
    expect((await lane.pass(rat)).outcome).toBe('admit');
  });

  it('refuses a recovery certificate by default, admits one valid today where accepted, refuses one whose validity ended', async () => {
    const lane = await dccLane();
    expect(codes(await lane.pass(recoveryCert(20, 100)))).toEqual(['DCC_TYPE_NOT_ACCEPTED']);
    lane.policy.set(profileFromOverrides({ dcc: { acceptRecovery: true } }));
    expect((await lane.pass(recoveryCert(20, 100))).outcome).toBe('admit');
    expect(codes(await lane.pass(recoveryCert(200, -1)))).toEqual(['DCC_RECOVERY_NOT_VALID']);
  });

  it('refuses a positive test whatever its age, with a critical alert', async () => {
    const row = await (await dccLane()).pass(testCert(3, { tr: '260373001' }));
    expect(codes(row)).toEqual(['TEST_POSITIVE']);
    expect(row.alerts).toContainEqual({ kind: 'health-code', severity: 'critical', code: 'TEST_POSITIVE' });
  });

  it('needs the visitor approval like any visitor', async () => {
    const lane = await dccLane();
    env.store.approvalsReplace([]);
    expect(codes(await lane.pass(testCert(20)))).toEqual(['VISITOR_NO_APPROVAL']);
  });

  it('trusts a DSC pushed by a signed dcc-trust update from the next scan on', async () => {
    const keys = await centralKeys('central-dcc-lane');
    const live = new LiveDccTrust([], buildDccTrust);
    const lane = await dccLane(MINE_ENTRANCE, () => live.current);
    const qr = testCert(20);
    expect(codes(await lane.pass(qr))).toEqual(['DCC_UNKNOWN_SIGNER']);
    const updates = new UpdateService({
      store: env.store,
      topics: topicsFor({ prefix: 'checkpoints', site: 'mine-a', checkpoint: 'gate-1' }),
      site: 'mine-a',
      checkpoint: 'gate-1',
      centralKeys: keys.trust,
      policy: new LivePolicy(MINE_ENTRANCE),
      trust: new LiveTrust(new Map()),
      dccTrust: live,
      now: () => Date.now(),
      logger: pino({ level: 'silent' }),
    });
    const token = await signed(keys, 'dcc-trust', 1, { certificates: [trustEntry(dsc)] });
    const result = await updates.handle({ topic: 'checkpoints/mine-a/gate-1/cmd/dcc-trust', kind: 'dcc-trust', siteWide: false, retained: false, payload: Buffer.from(token) });
    expect(result.status).toBe('applied');
    expect((await lane.pass(qr)).outcome).toBe('admit');
  });
});
