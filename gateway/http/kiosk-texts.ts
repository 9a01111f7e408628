// What the public kiosk screen says about a decision. The catalogue (policy/reasons.ts)
// words each reason for the guard console and the ledger; the kiosk is read by the person
// at the gate and by everyone queueing behind them, 2 m away, in about 2 seconds. So the
// open lane view (access.ts kioskSnapshot) passes a decision's reasons through here:
// - nothing on it tells why someone is on a watchlist, nor that a test came back
//   positive (a diagnosis, in front of the queue): both say "contact the staff" (the
//   guard console still says why);
// - the most important reason comes first (the one that says what to do right now);
// - an instruction shared by several reasons is shown once.
// Pure: no I/O, no DOM.
import type { Reason, Text } from '../policy/types.js';

/** Kiosk-only wording, beside the catalogue's (the guard console never shows these). */
export const KIOSK_TEXT = {
  /** Instead of any watchlist reason: the screen must not say close contact, isolation, ... */
  contactStaff: { zh: '请联系工作人员', en: 'Please contact the staff' },
  /** Headline of a referral where the person only has to wait (a full canteen). */
  waitHeadline: { zh: '请稍候', en: 'Please wait' },
  /** Headline of a referral the person fixes alone (scan again, use the other lane). */
  selfHeadline: { zh: '请按提示操作', en: 'Please do as shown below' },
  /** Out of service because the kiosk lost its gateway (not a device). */
  linkDown: { zh: '系统连接中断，请联系工作人员', en: 'Lost contact with the gate system: please ask the staff' },
  /** The fold line when not every reason fits the screen: {n} is the number folded. */
  more: { zh: '另有{n}项原因，请联系工作人员', en: '{n} more: please ask the staff' },
} as const satisfies Record<string, Text>;

/** The public code that replaces every watchlist code on the open lane view. */
export const CONTACT_STAFF = 'CONTACT_STAFF';

/** Reasons the queue behind the person must not read. */
const PRIVATE = new Set(['WATCHLIST_CLOSE_CONTACT', 'WATCHLIST_ISOLATION', 'WATCHLIST_HOME_MONITORING', 'TEST_POSITIVE']);

/**
 * Order on the public screen, most important first; codes not listed keep the policy's
 * order after these. Rank 0: the person must stop and stay (others' safety); 1: turn back;
 * 2: the health code; 3: the test; then the rest (category, approval, crew, vehicle).
 */
const RANK: Readonly<Record<string, number>> = {
  TEMP_FEVER: 0,
  HEALTH_CODE_RED: 0,
  TEST_POSITIVE: 0,
  [CONTACT_STAFF]: 0,
  TRAVEL_RISK_AREA: 1,
  TRAVEL_RISK_AREA_VISIT: 1,
  CREW_ITINERARY_RISK_AREA: 1,
  HEALTH_CODE_YELLOW: 2,
  TEST_MISSING: 3,
  TEST_EXPIRED: 3,
  TEST_DATE_INVALID: 3,
  TEST_BEFORE_RETURN: 3,
  TRAVEL_MISSING: 3,
};
const UNRANKED = 4;

function publicReason(r: Reason): Reason {
  if (PRIVATE.has(r.code)) return { code: CONTACT_STAFF, zh: KIOSK_TEXT.contactStaff.zh, en: KIOSK_TEXT.contactStaff.en };
  const out: Reason = { code: r.code, zh: r.zh, en: r.en };
  if (r.next !== undefined) out.next = { zh: r.next.zh, en: r.next.en };
  return out;
}

/** A decision's reasons as the kiosk shows them (see the file comment): all of them, several watchlist reasons as one. */
export function publicReasons(reasons: readonly Reason[]): Reason[] {
  const rank = (r: Reason): number => RANK[r.code] ?? UNRANKED;
  // Array.prototype.sort is stable: equal ranks keep the policy's order.
  const ordered = reasons.map(publicReason).sort((a, b) => rank(a) - rank(b));
  const out: Reason[] = [];
  const seenNext = new Set<string>();
  for (const r of ordered) {
    // Several private reasons are one "please contact the staff".
    if (r.code === CONTACT_STAFF && out.some((o) => o.code === CONTACT_STAFF)) continue;
    if (r.next !== undefined) {
      const key = `${r.next.zh}\u0000${r.next.en}`;
      if (seenNext.has(key)) delete r.next;
      else seenNext.add(key);
    }
    out.push(r);
  }
  return out;
}
