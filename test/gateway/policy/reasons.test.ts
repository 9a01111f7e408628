import { describe, expect, it } from 'vitest';
import { CREDENTIAL_FAILURES } from '../../../gateway/credentials/types.js';
import { REASON_CODES, formatCelsius, isReasonCode, outcomeText, reason, reasonKind, type ReasonCode } from '../../../gateway/policy/reasons.js';

/** Every code decide() can put in a refusal. */
const DECIDE_REFUSES: ReasonCode[] = [
  'PASS_MALFORMED',
  'PASS_UNKNOWN_KEY',
  'PASS_SIGNATURE_INVALID',
  'PASS_EXPIRED',
  'PASS_NOT_YET_VALID',
  'PASS_LIFETIME_TOO_LONG',
  'PASS_CLAIMS_INVALID',
  'CATEGORY_NOT_ALLOWED',
  'HEALTH_CODE_YELLOW',
  'HEALTH_CODE_RED',
  'TRAVEL_MISSING',
  'TRAVEL_RISK_AREA',
  'TRAVEL_RISK_AREA_VISIT',
  'TEST_MISSING',
  'TEST_POSITIVE',
  'TEST_EXPIRED',
  'TEST_DATE_INVALID',
  'TEST_BEFORE_RETURN',
  'DCC_INVALID',
  'DCC_UNKNOWN_SIGNER',
  'DCC_SIGNATURE_INVALID',
  'DCC_EXPIRED',
  'DCC_NOT_YET_VALID',
  'DCC_TYPE_NOT_ACCEPTED',
  'DCC_TEST_NOT_NAAT',
  'DCC_VACCINATION_INCOMPLETE',
  'DCC_VACCINATION_TOO_RECENT',
  'DCC_VACCINATION_TOO_OLD',
  'DCC_RECOVERY_NOT_VALID',
  'TEMP_FEVER',
  'WATCHLIST_CLOSE_CONTACT',
  'WATCHLIST_ISOLATION',
  'WATCHLIST_HOME_MONITORING',
  'VISITOR_NO_APPROVAL',
  'VISITOR_APPROVAL_NOT_YET_VALID',
  'VISITOR_APPROVAL_EXPIRED',
  'VISITOR_APPROVAL_USED_UP',
  'VISITOR_APPROVAL_WRONG_CHECKPOINT',
  'CREW_NOT_REGISTERED',
  'CREW_NOT_YET_VALID',
  'CREW_EXPIRED',
  'CREW_ITINERARY_RISK_AREA',
  'VEHICLE_PASS_MISSING',
  'VEHICLE_DRIVER_MISMATCH',
  'VEHICLE_GOODS_NOT_ESSENTIAL',
  'VEHICLE_DAILY_LIMIT',
  // checkZoneEntry (zones.ts), after decide():
  'ANTI_PASSBACK',
];
/** Every code decide() can put in a referral. */
const DECIDE_REFERS: ReasonCode[] = ['BADGE_MALFORMED', 'BADGE_NOT_IN_ROSTER', 'CREDENTIAL_UNKNOWN', 'CREDENTIAL_NOT_TEXT', 'TEMP_IMPLAUSIBLE', 'TEMP_READING_INVALID', 'ZONE_FULL'];
const DECIDE_MEASURES: ReasonCode[] = ['TEMP_NEEDED', 'TEMP_RECHECK', 'TEMP_IMPLAUSIBLE_REMEASURE', 'TEMP_READING_INVALID_REMEASURE'];
const LANE_CODES: ReasonCode[] = [
  'TEMP_TIMEOUT',
  'DEVICE_DOWN_SCANNER',
  'DEVICE_DOWN_THERMOMETER',
  'DEVICE_DOWN_RELAY',
  'RELAY_FAILED',
  'LEDGER_FAILED',
  'LANE_WAITING',
  'VEHICLE_DRIVER_NEEDED',
  'VEHICLE_DRIVER_TIMEOUT',
  'VEHICLE_PASS_NOT_HERE',
];
/** Lane codes that are prompts (the screen's instruction), not outcomes. */
const LANE_PROMPTS: ReasonCode[] = ['LANE_WAITING', 'VEHICLE_DRIVER_NEEDED'];

const CJK = /[\u4e00-\u9fff]/;
/** Chinese text takes full-width punctuation (，（）), never the ASCII forms. */
const ASCII_PUNCT = /[,()!?;:]/;

describe('reason catalogue', () => {
  it('has no duplicate codes', () => {
    expect(new Set(REASON_CODES).size).toBe(REASON_CODES.length);
  });

  it('holds exactly the codes of decide and of the lane', () => {
    expect([...DECIDE_REFUSES, ...DECIDE_REFERS, ...DECIDE_MEASURES, ...LANE_CODES].sort()).toEqual([...REASON_CODES].sort());
  });

  it('shows the count and the limit of a full zone in both languages, in short Chinese without ASCII punctuation', () => {
    const r = reason('ZONE_FULL', { count: 120, limit: 120 });
    expect(r.zh).toBe('已满员（120人，限120人），请稍候');
    expect(r.zh.length).toBeLessThanOrEqual(20);
    expect(r.zh).not.toMatch(ASCII_PUNCT);
    expect(r.en).toBe('Full (120 of 120), please wait');
  });

  it.each([...CREDENTIAL_FAILURES])('holds credential failure %s', (code) => {
    expect(isReasonCode(code)).toBe(true);
  });

  it.each([...REASON_CODES])('has short zh-CN and English texts for %s', (code) => {
    const r = reason(code);
    expect(r.code).toBe(code);
    expect(r.zh).toMatch(CJK);
    // Read from 1.5 m: a line, not a paragraph.
    expect(r.zh.length).toBeLessThanOrEqual(20);
    expect(r.zh).not.toMatch(ASCII_PUNCT);
    expect(r.en.trim()).not.toBe('');
    expect(r.en).not.toMatch(CJK);
    expect(r.en.length).toBeLessThanOrEqual(60);
  });

  it.each(DECIDE_REFUSES.map((c) => [c]))('tells the person what to do next after %s', (code) => {
    expect(reasonKind(code)).toBe('refuse');
    const next = reason(code).next;
    expect(next?.zh).toMatch(CJK);
    expect(next?.zh).not.toMatch(ASCII_PUNCT);
    expect(next?.zh.length).toBeLessThanOrEqual(20);
    expect(next?.en.trim()).not.toBe('');
  });

  it.each([...DECIDE_REFERS, ...LANE_CODES.filter((c) => !LANE_PROMPTS.includes(c))].map((c) => [c]))('tells the person what to do next after %s, a referral', (code) => {
    expect(reasonKind(code)).toBe('refer');
    expect(reason(code).next?.zh).toMatch(CJK);
    expect(reason(code).next?.zh).not.toMatch(ASCII_PUNCT);
  });

  it.each(DECIDE_MEASURES.map((c) => [c]))('%s is a request to measure and its text is the instruction', (code) => {
    expect(reasonKind(code)).toBe('measure');
    expect(reason(code).zh).toContain('测');
  });

  it("gives a vehicle gate its prompt for the driver's pass", () => {
    expect(reason('VEHICLE_DRIVER_NEEDED')).toEqual({ code: 'VEHICLE_DRIVER_NEEDED', zh: '请出示司机通行码', en: "Please show the driver's pass" });
    expect(reasonKind('VEHICLE_DRIVER_NEEDED')).toBe('prompt');
  });

  it('gives the lane its idle prompt', () => {
    expect(reason('LANE_WAITING')).toEqual({ code: 'LANE_WAITING', zh: '请出示通行码', en: 'Please show your pass' });
  });

  it.each<[string, ReturnType<typeof reason>, string, string]>([
    ['the temperature in a recheck', reason('TEMP_RECHECK', { celsius: 37.3 }), '体温37.3℃，请再测一次', '37.3 °C: please measure again'],
    ['the temperature of a fever', reason('TEMP_FEVER', { celsius: 38 }), '体温偏高（38.0℃）', 'Temperature too high (38.0 °C)'],
    ['hours and limit of an expired test', reason('TEST_EXPIRED', { hours: 73, limitHours: 72 }), '核酸检测已超过72小时（采样于73小时前）', 'Test is older than 72 h (sampled 73 h ago)'],
    ['the limit alone when the test is barely over it', reason('TEST_EXPIRED', { hours: 48, limitHours: 48 }), '核酸检测已超过48小时', 'Test is older than 48 h'],
    ['the level of the travel code', reason('TRAVEL_RISK_AREA', { level: 'medium' }), '行程码显示到过中风险地区', 'Travel record shows a medium-risk area'],
    ['the regions visited', reason('TRAVEL_RISK_AREA_VISIT', { regions: ['西安', '咸阳'], days: 14 }), '14天内有风险地区旅居史（西安、咸阳）', 'Stayed in a risk area within 14 days (西安, 咸阳)'],
    ['the end date of a close-contact control', reason('WATCHLIST_CLOSE_CONTACT', { until: '2021-12-25' }), '您在密接管控期内（至12月24日）', 'You are listed as a close contact (through 24 Dec)'],
    ['no date when the end is unknown', reason('WATCHLIST_ISOLATION', { until: null }), '您在隔离期内', 'You are in isolation'],
    ['the end of an expired approval', reason('VISITOR_APPROVAL_EXPIRED', { until: '2021-12-20T18:00:00+08:00' }), '来访审批已过期（至12月20日 18:00）', 'Visit approval has expired (until 20 Dec 18:00)'],
    ['the number of entries of a used-up approval', reason('VISITOR_APPROVAL_USED_UP', { maxUses: 2 }), '来访审批次数已用完（共2次）', 'Visit approval used up (2 of 2 entries)'],
    ['the category turned away', reason('CATEGORY_NOT_ALLOWED', { category: 'driver' }), '此处不对送货司机开放', 'Not open to delivery drivers here'],
  ])('fills in %s', (_n, r, zh, en) => {
    expect([r.zh, r.en]).toEqual([zh, en]);
  });

  it.each<[number, string]>([
    [37.29, '37.29'],
    [37.3, '37.3'],
    [36.1 + 1.2, '37.3'],
    [36, '36.0'],
    [Number.NaN, '--'],
  ])('formats %s °C as %s, never rounding up to the threshold', (c, text) => {
    expect(formatCelsius(c)).toBe(text);
  });

  it('gives the kiosk headline of each outcome', () => {
    expect(outcomeText).toEqual({
      admit: { zh: '请通行', en: 'Please pass' },
      refuse: { zh: '禁止通行', en: 'Entry refused' },
      refer: { zh: '请等待工作人员', en: 'Please wait for staff' },
    });
  });

  it('returns a fresh object each time, so a caller cannot change the catalogue', () => {
    const a = reason('HEALTH_CODE_RED');
    if (a.next) a.next.zh = 'changed';
    expect(reason('HEALTH_CODE_RED').next?.zh).not.toBe('changed');
  });
});
