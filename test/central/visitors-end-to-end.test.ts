// Visitors and contractors end to end: the built central service (PostgreSQL) and two
// built gateways of one site (gate-1, gate-2) on the real Mosquitto. An admin's approval
// for gate-1 only is confirmed by gate-1; a visitor's real pass (issued with the CLI) is
// admitted at gate-1 and refused for a missing approval at gate-2. A site-wide crew
// registration made before gate-2 was ever seen reaches gate-2 on its first birth and is
// confirmed by both; its member passes at gate-2, a contractor outside it does not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cleanup, waitFor } from '../gateway/telemetry/helpers.js';
import { chipsOf, listed, officeSession, passage, visitorsSite, type OfficeSession, type VisitorsSite } from './visitors-fixture.js';

const HOUR = 3_600_000;
let cleanup: Cleanup;
let s: VisitorsSite;
let admin: OfficeSession;

describe('visitor approvals and crews pushed to real gateways', () => {
  beforeAll(async () => {
    cleanup = new Cleanup();
    s = await visitorsSite(cleanup, [['admin.chen', '陈管理', 'admin']]);
    admin = await officeSession(s.office.url, 'admin.chen');
  }, 60_000);
  afterAll(() => cleanup.run(), 30_000);

  it('admits a visitor only where the approval was pushed, and a crew member at a gateway first seen after the registration', async () => {
    await s.startGateway('gate-1');
    const now = Date.now();
    const approval = await admin.post('/api/visitors/approvals', {
      site: s.site,
      subjectId: 'V-E2E-1001',
      name: '刘访客',
      approver: '李主任',
      hostDepartment: '安全科',
      validFrom: new Date(now - HOUR).toISOString(),
      validUntil: new Date(now + 8 * HOUR).toISOString(),
      maxUses: 3,
      checkpoints: ['gate-1'],
    });
    expect(approval.status).toBe(201);
    const a = (await approval.json()) as { id: string; pushed: { checkpoint: string; kind: string }[] };
    expect(a.pushed.map((p) => `${p.checkpoint}:${p.kind}`)).toEqual(['gate-1:approvals']);
    await waitFor('gate-1 confirms the approval', async () => chipsOf((await listed(s.office.url, admin)).approvals[0]) === 'gate-1:confirmed', 30_000);
    process.stderr.write(`[visitors] approval created → confirmed by gate-1 on the console in ${Date.now() - now} ms (polled)\n`);
    const crew = await admin.post('/api/visitors/crews', {
      site: s.site,
      responsible: '赵工',
      members: ['C-E2E-2001', 'C-E2E-2002'],
      validFrom: new Date(now - HOUR).toISOString(),
      validUntil: new Date(now + 72 * HOUR).toISOString(),
      itinerary: [{ region: '山西省太原市', from: '2026-11-28', to: '2026-12-02' }],
    });
    expect(crew.status).toBe(201);
    const c = (await crew.json()) as { id: string; pushed: { checkpoint: string }[] };
    expect(c.pushed.map((p) => p.checkpoint)).toEqual(['gate-1']); // gate-2 is not known yet

    // gate-2 appears: its birth makes the office push it the site-wide crew (and no approvals).
    const gate2 = await s.startGateway('gate-2');
    const gate1 = s.gateways.get('gate-1')!;
    await waitFor('gate-1 confirms the approval, both gateways the crew', async () => {
      const l = await listed(s.office.url, admin);
      return chipsOf(l.approvals.find((x) => x.id === a.id)) === 'gate-1:confirmed' && chipsOf(l.crews.find((x) => x.id === c.id)) === 'gate-1:confirmed gate-2:confirmed';
    }, 30_000);
    const pushes = await s.db.query<{ checkpoint: string; kind: string }>('SELECT checkpoint, kind FROM visitor_pushes WHERE site = $1 ORDER BY id', [s.site]);
    expect(pushes).toEqual([
      { checkpoint: 'gate-1', kind: 'approvals' },
      { checkpoint: 'gate-1', kind: 'crews' },
      { checkpoint: 'gate-2', kind: 'crews' },
    ]);

    const atGate1 = await passage(gate1, 'V-E2E-1001', 'visitor');
    expect(atGate1.outcome).toBe('admit');
    const atGate2 = await passage(gate2, 'V-E2E-1001', 'visitor');
    expect(atGate2.outcome).toBe('refuse');
    expect(atGate2.reasons.map((r) => r.code)).toContain('VISITOR_NO_APPROVAL');

    expect((await passage(gate2, 'C-E2E-2002', 'contractor')).outcome).toBe('admit');
    const stranger = await passage(gate2, 'C-E2E-9999', 'contractor');
    expect(stranger.outcome).toBe('refuse');
    expect(stranger.reasons.map((r) => r.code)).toContain('CREW_NOT_REGISTERED');

    // The office stored the decisions too, under the visitor's pseudonym it recorded.
    const [row] = await s.db.query<{ pseudonym: string }>('SELECT pseudonym FROM office_approvals WHERE id = $1', [a.id]);
    await waitFor('both visitor decisions at the office', async () => (await s.db.query('SELECT 1 FROM events WHERE site = $1 AND subject = $2', [s.site, row!.pseudonym])).length === 2);
    const stored = await s.db.query<{ checkpoint: string; outcome: string }>('SELECT checkpoint, outcome FROM events WHERE site = $1 AND subject = $2 ORDER BY checkpoint', [s.site, row!.pseudonym]);
    expect(stored).toEqual([
      { checkpoint: 'gate-1', outcome: 'admit' },
      { checkpoint: 'gate-2', outcome: 'refuse' },
    ]);
  }, 120_000);
});
