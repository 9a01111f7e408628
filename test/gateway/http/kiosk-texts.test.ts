// The public kiosk's wording of a decision (gateway/http/kiosk-texts.ts), and that the open
// lane views carry it: nothing that tells why someone is on a watchlist, the most important
// reason first, an instruction once.
import { afterEach, describe, expect, it } from 'vitest';
import { CONTACT_STAFF, KIOSK_TEXT, publicReasons } from '../../../gateway/http/kiosk-texts.js';
import type { LaneSnapshot } from '../../../gateway/lane/types.js';
import { reason } from '../../../gateway/policy/reasons.js';
import { decision, startHarness, T0, type Harness } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('the kiosk wording of a decision', () => {
  it('says only "please contact the staff" for any watchlist reason, once for several', () => {
    const out = publicReasons([
      reason('WATCHLIST_CLOSE_CONTACT', { until: '2024-12-10' }),
      reason('WATCHLIST_ISOLATION', { until: null }),
      reason('WATCHLIST_HOME_MONITORING'),
    ]);
    expect(out).toEqual([{ code: CONTACT_STAFF, zh: '请联系工作人员', en: 'Please contact the staff' }]);
    expect(JSON.stringify(out)).not.toMatch(/密接|隔离|监测|WATCHLIST|close contact|isolation|monitoring/i);
  });

  it('puts what must happen now first: stay aside, then turn back, then the code, the test and the approval', () => {
    const out = publicReasons([
      reason('VISITOR_NO_APPROVAL'),
      reason('HEALTH_CODE_YELLOW'),
      reason('TEST_EXPIRED', { hours: 100, limitHours: 48 }),
      reason('TRAVEL_RISK_AREA', { level: 'high' }),
      reason('WATCHLIST_ISOLATION'),
      reason('CATEGORY_NOT_ALLOWED'),
    ]);
    expect(out.map((r) => r.code)).toEqual([CONTACT_STAFF, 'TRAVEL_RISK_AREA', 'HEALTH_CODE_YELLOW', 'TEST_EXPIRED', 'VISITOR_NO_APPROVAL', 'CATEGORY_NOT_ALLOWED']);
  });

  it('shows an instruction shared by several reasons once, at the first of them, and keeps every reason', () => {
    const out = publicReasons([reason('HEALTH_CODE_RED'), reason('TEST_POSITIVE'), reason('TEMP_FEVER', { celsius: 38.1 })]);
    // A positive test is a diagnosis: the queue reads "contact the staff", not the result.
    expect(out.map((r) => r.code)).toEqual(['HEALTH_CODE_RED', CONTACT_STAFF, 'TEMP_FEVER']);
    expect(JSON.stringify(out)).not.toMatch(/阳性|positive/i);
    expect(out[0]?.next?.zh).toBe('请在一旁等候，工作人员将与您联系');
    expect(out[1]?.next).toBeUndefined();
    expect(out[2]?.next?.zh).toBe('请在一旁休息，工作人员将为您安排');
    expect(out[2]?.zh).toBe('体温偏高（38.1℃）');
  });

  it('leaves the reasons it is given untouched (the ledger and the guard console keep theirs)', () => {
    const given = [reason('WATCHLIST_CLOSE_CONTACT'), reason('HEALTH_CODE_RED'), reason('TEST_POSITIVE')];
    const copy = structuredClone(given);
    publicReasons(given);
    expect(given).toEqual(copy);
  });

  it('has kiosk texts in both languages', () => {
    for (const t of Object.values(KIOSK_TEXT)) {
      expect(t.zh).toMatch(/[\u4e00-\u9fff]/);
      expect(t.en).not.toMatch(/[\u4e00-\u9fff]/);
    }
  });
});

describe('the open lane views', () => {
  it('give the kiosk wording on /api/lanes and /api/stream, while the lane itself keeps the full reasons', async () => {
    h = await startHarness({ now: () => T0 + 100 });
    const last = decision('refuse', T0, { reasons: [reason('HEALTH_CODE_YELLOW'), reason('WATCHLIST_CLOSE_CONTACT', { until: '2024-12-10' })] });
    h.lanes[0]!.set(h.bus, { state: 'showing', last });
    const text = await (await fetch(`${h.url}/api/lanes`)).text();
    expect(text).not.toMatch(/密接|WATCHLIST|close contact/);
    const lanes = (JSON.parse(text) as { lanes: LaneSnapshot[] }).lanes;
    expect(lanes[0]?.last?.reasons.map((r) => r.code)).toEqual([CONTACT_STAFF, 'HEALTH_CODE_YELLOW']);
    expect(h.lanes[0]!.snapshot().last?.reasons.map((r) => r.code)).toEqual(['HEALTH_CODE_YELLOW', 'WATCHLIST_CLOSE_CONTACT']);
  });
});
