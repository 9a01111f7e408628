// The acceptance of the mine-wide daily screening (issue 12, item 4) with real parts: the
// built central service on PostgreSQL, two built gateways of one site (cp-1, cp-2) and the
// shared Mosquitto. The office imports the roster; it reaches both gateways signed (each
// answers "applied"); worker A scans only at cp-1, worker B only at cp-2 (refused for a
// fever: screened all the same), contractor C nowhere. The office shows A and B screened
// and C not; each gateway's own report shows the other worker missing.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { screeningDayOf } from '../../gateway/screening/report.js';
import { Cleanup, waitFor } from '../gateway/telemetry/helpers.js';
import { guardGet } from '../integration/helpers.js';
import { ADMIN, VIEWER, acceptanceRoster, officeSignIn, startMine, type Mine } from './mine-fixture.js';

interface OfficeScreening {
  screening: {
    date: string;
    workers: number;
    screened: number;
    notScreened: number;
    groups: { department: string | null; team: string | null; screened: { staffId: string; checkpoint: string; outcome: string }[]; notScreened: { staffId: string }[] }[];
  };
  roster: { lastPush: { gateways: { checkpoint: string; status: string | null }[] } | null };
}
interface GatewayScreening {
  date: string;
  screened: { staffId: string }[];
  notScreened: { staffId: string }[];
}

describe('mine-wide daily screening end to end', () => {
  let cleanup: Cleanup;
  beforeEach(() => {
    cleanup = new Cleanup();
  });
  afterEach(() => cleanup.run());

  it('shows workers screened at only one of two checkpoints as screened at the office, each missing from the other gateway\'s own report, and the one who scanned nowhere as not screened', async () => {
    const mine: Mine = await startMine(cleanup, 'scr-e2e');
    const admin = await officeSignIn(mine.office.url, ADMIN);
    const imported = await fetch(`${mine.office.url}/api/roster?site=${mine.site}`, {
      method: 'POST',
      headers: { ...admin.headers, 'x-csrf-token': admin.csrfToken, 'content-type': 'text/csv' },
      body: `\uFEFF${acceptanceRoster()}\r\n`,
    });
    expect(imported.status).toBe(200);
    expect(await imported.json()).toMatchObject({ rows: 3, active: 3, pushedEntries: 3 });

    const viewer = await officeSignIn(mine.office.url, VIEWER);
    const screening = async (): Promise<OfficeScreening> => (await (await fetch(`${mine.office.url}/api/screening?site=${mine.site}&date=${day}`, { headers: viewer.headers })).json()) as OfficeScreening;
    const day = screeningDayOf(Date.now()).date;
    // Both gateways applied the signed roster and said so (their answers, ingested by the office).
    await waitFor('both gateways applied the roster', async () => {
      const answers = (await screening()).roster.lastPush?.gateways ?? [];
      return answers.length === 2 && answers.every((g) => g.status === 'applied');
    });

    await mine.scan('cp-1', 'W-A', [36.5]);
    await mine.scan('cp-2', 'W-B', [38.6, 38.7]);
    await waitFor('both passages at the office', async () => (await mine.db.query("SELECT 1 FROM events WHERE site = $1 AND kind = 'decision'", [mine.site])).length === 2);

    const office = (await screening()).screening;
    expect(office).toMatchObject({ date: day, workers: 3, screened: 2, notScreened: 1 });
    expect(office.groups).toEqual([
      expect.objectContaining({ department: '采煤一队', team: '甲班', screened: [expect.objectContaining({ staffId: 'W-A', checkpoint: 'cp-1', outcome: 'admit' })], notScreened: [] }),
      expect.objectContaining({ department: '采煤一队', team: '乙班', screened: [expect.objectContaining({ staffId: 'W-B', checkpoint: 'cp-2', outcome: 'refuse' })], notScreened: [] }),
      expect.objectContaining({ department: '机电部', team: null, screened: [], notScreened: [expect.objectContaining({ staffId: 'W-C' })] }),
    ]);

    // Each gateway sees only its own passages: the other worker is missing there.
    const own = async (cp: 'cp-1' | 'cp-2'): Promise<GatewayScreening> => (await (await guardGet(mine.gateways[cp], `/api/guard/screening?date=${day}`)).json()) as GatewayScreening;
    const one = await own('cp-1');
    expect(one.screened.map((w) => w.staffId)).toEqual(['W-A']);
    expect(one.notScreened.map((w) => w.staffId).sort()).toEqual(['W-B', 'W-C']);
    const two = await own('cp-2');
    expect(two.screened.map((w) => w.staffId)).toEqual(['W-B']);
    expect(two.notScreened.map((w) => w.staffId).sort()).toEqual(['W-A', 'W-C']);
  }, 120_000);
});
