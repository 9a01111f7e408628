// THE message catalogue: every reason code a person or guard can see, in zh-CN and English,
// with what to do next. The kiosk, the guard console and the ledger all show these texts,
// so wording lives here and nowhere else. Codes are stable: reword the text, never the code.
// The public kiosk screen rewords a few for the person at the gate (watchlist reasons,
// a referral's headline): gateway/http/kiosk-texts.ts.
// Kept free of I/O and Node imports so the browser side can import it as is.
import { CREDENTIAL_FAILURES, type Category } from '../credentials/types.js';
import { displayDate } from './time.js';
import type { AlertKind, Outcome, Reason, Text } from './types.js';

export const REASON_CODES = [
  ...CREDENTIAL_FAILURES,
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
  'DCC_TYPE_NOT_ACCEPTED',
  'DCC_TEST_NOT_NAAT',
  'DCC_VACCINATION_INCOMPLETE',
  'DCC_VACCINATION_TOO_RECENT',
  'DCC_VACCINATION_TOO_OLD',
  'DCC_RECOVERY_NOT_VALID',
  'TEMP_NEEDED',
  'TEMP_RECHECK',
  'TEMP_IMPLAUSIBLE_REMEASURE',
  'TEMP_IMPLAUSIBLE',
  'TEMP_READING_INVALID_REMEASURE',
  'TEMP_READING_INVALID',
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
  'ZONE_FULL',
  'ANTI_PASSBACK',
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
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

/**
 * What a code usually leads to. `refuse` and `refer` codes always carry `next`;
 * `measure` codes are themselves the instruction; `prompt` is the idle screen.
 */
export type ReasonKind = 'refuse' | 'refer' | 'measure' | 'prompt';

type RiskLevelShown = 'medium' | 'high';
/** An ISO string or epoch ms. */
type When = string | number;

/** Parameters a text may take. All optional: a missing one drops that part of the text. */
export interface ReasonParamMap {
  CATEGORY_NOT_ALLOWED: { category?: Category };
  TRAVEL_RISK_AREA: { level?: RiskLevelShown };
  TRAVEL_RISK_AREA_VISIT: { regions?: string[]; days?: number; level?: RiskLevelShown };
  /** hours: whole hours since sampling; limitHours: the window that applied. */
  TEST_EXPIRED: { hours?: number; limitHours?: number };
  /** since: the return (or leave) the test must be sampled after. */
  TEST_BEFORE_RETURN: { since?: When };
  /** type: the certificate's kind the profile does not accept. */
  DCC_TYPE_NOT_ACCEPTED: { type?: 'test' | 'vaccination' | 'recovery' };
  /** dose: this certificate's dose number; series: doses in the series. */
  DCC_VACCINATION_INCOMPLETE: { dose?: number; series?: number };
  /** minDays: days after the last dose before it counts. */
  DCC_VACCINATION_TOO_RECENT: { minDays?: number };
  /** maxDays: days after the last dose it still counts. */
  DCC_VACCINATION_TOO_OLD: { maxDays?: number };
  TEMP_RECHECK: { celsius?: number };
  TEMP_FEVER: { celsius?: number };
  /** until: the entry's exclusive end. */
  WATCHLIST_CLOSE_CONTACT: { until?: When | null };
  WATCHLIST_ISOLATION: { until?: When | null };
  WATCHLIST_HOME_MONITORING: { until?: When | null };
  VISITOR_APPROVAL_NOT_YET_VALID: { from?: When };
  /** until: the latest approval's exclusive end. */
  VISITOR_APPROVAL_EXPIRED: { until?: When };
  /** maxUses: how many admissions the approval allowed. */
  VISITOR_APPROVAL_USED_UP: { maxUses?: number };
  /** from: the earliest upcoming registration's start. */
  CREW_NOT_YET_VALID: { from?: When };
  /** until: the latest registration's exclusive end. */
  CREW_EXPIRED: { until?: When };
  CREW_ITINERARY_RISK_AREA: { regions?: string[]; days?: number; level?: RiskLevelShown };
  /** limit: non-essential entries allowed per plate per day. */
  VEHICLE_DAILY_LIMIT: { limit?: number };
  /** count: people inside now; limit: the zone's limit. */
  ZONE_FULL: { count?: number; limit?: number };
}
export type ReasonParams<C extends ReasonCode> = C extends keyof ReasonParamMap ? ReasonParamMap[C] : Record<string, never>;

type Render<P> = string | ((p: P) => string);
interface Entry<P> {
  /** States or depends on a health claim or a temperature (dropped with health checks off). */
  health?: true;
  kind: ReasonKind;
  zh: Render<P>;
  en: Render<P>;
  next?: Text;
}
type Catalogue = { readonly [C in ReasonCode]: Entry<ReasonParams<C>> };

export const CATEGORY_TEXT: Readonly<Record<Category, Text>> = {
  employee: { zh: '职工', en: 'employees' },
  family: { zh: '家属', en: 'family members' },
  contractor: { zh: '外委施工人员', en: 'contractors' },
  visitor: { zh: '访客', en: 'visitors' },
  vendor: { zh: '商户', en: 'vendors' },
  driver: { zh: '送货司机', en: 'delivery drivers' },
};

const LEVEL_TEXT: Readonly<Record<RiskLevelShown, Text>> = {
  medium: { zh: '中风险', en: 'medium-risk' },
  high: { zh: '高风险', en: 'high-risk' },
};

/** 37.3 → "37.3", 37.29 → "37.29", 36 → "36.0": never rounds a reading up to a threshold. */
export function formatCelsius(c: number): string {
  if (!Number.isFinite(c)) return '--';
  const s = (Math.round(c * 100) / 100).toFixed(2);
  return s.endsWith('0') ? s.slice(0, -1) : s;
}

// Shared "next" texts: the same situation gets the same instruction everywhere.
const NEXT = {
  rescan: { zh: '请刷新通行码后重新扫码', en: 'Refresh your pass and scan again' },
  verify: { zh: '请联系工作人员核实', en: 'Please ask staff to verify it' },
  waitStaff: { zh: '请稍候，工作人员将为您处理', en: 'Please wait; staff will help you' },
  waitAside: { zh: '请在一旁等候，工作人员将与您联系', en: 'Please wait aside; staff will contact you' },
  turnBack: { zh: '请您返回，并向疫情防控办报备', en: 'Please turn back and report to the epidemic office' },
  followControl: { zh: '请遵守管控要求，如有疑问请联系疫情防控办', en: 'Please follow the control measures; ask the epidemic office if unsure' },
  laneClosed: { zh: '请听从工作人员安排', en: 'Please follow staff instructions' },
  dccTest: { zh: '请出示近期核酸检测证书', en: 'Please show a recent nucleic acid test certificate' },
} as const satisfies Record<string, Text>;

function until(u: When | null | undefined): { zh: string; en: string } {
  if (u === undefined || u === null) return { zh: '', en: '' };
  const d = displayDate(u, true);
  if (!d) return { zh: '', en: '' };
  return { zh: `（至${d.zh}）`, en: d.dateOnly ? ` (through ${d.en})` : ` (until ${d.en})` };
}

const CATALOGUE: Catalogue = {
  // Credential failures. A broken or foreign pass is the person's to fix: refuse.
  // A badge or code we cannot place may be ours: refer to the guard.
  PASS_MALFORMED: { kind: 'refuse', zh: '通行码无法识别', en: 'Pass not recognised', next: NEXT.rescan },
  PASS_UNKNOWN_KEY: { kind: 'refuse', zh: '通行码签发单位未登记', en: 'Pass issuer not recognised', next: NEXT.verify },
  PASS_SIGNATURE_INVALID: { kind: 'refuse', zh: '通行码验证未通过', en: 'Pass failed verification', next: NEXT.verify },
  PASS_EXPIRED: { kind: 'refuse', zh: '通行码已过期', en: 'Pass has expired', next: NEXT.rescan },
  PASS_NOT_YET_VALID: {
    kind: 'refuse',
    zh: '通行码尚未生效',
    en: 'Pass is not valid yet',
    next: { zh: '请稍后再扫码', en: 'Please scan again later' },
  },
  PASS_LIFETIME_TOO_LONG: {
    kind: 'refuse',
    zh: '通行码有效期超出规定',
    en: 'Pass validity period is too long',
    next: { zh: '请重新申领通行码', en: 'Please get a new pass' },
  },
  PASS_CLAIMS_INVALID: {
    kind: 'refuse',
    zh: '通行码信息不完整',
    en: 'Pass information is incomplete',
    next: { zh: '请重新申领通行码', en: 'Please get a new pass' },
  },
  BADGE_MALFORMED: { kind: 'refer', zh: '工牌无法识别', en: 'Badge not recognised', next: NEXT.waitStaff },
  BADGE_NOT_IN_ROSTER: { kind: 'refer', zh: '工牌未登记或已停用', en: 'Badge not registered or withdrawn', next: NEXT.waitStaff },
  // EU Digital COVID Certificates ("HC1:"): the holder's to fix, like a pass.
  DCC_INVALID: { kind: 'refuse', zh: '欧盟新冠证书无法识别', en: 'EU COVID certificate not readable', next: NEXT.verify },
  DCC_UNKNOWN_SIGNER: { kind: 'refuse', zh: '证书签发机构未登记', en: 'Certificate issuer not recognised here', next: NEXT.verify },
  DCC_SIGNATURE_INVALID: { kind: 'refuse', zh: '证书验证未通过', en: 'Certificate failed verification', next: NEXT.verify },
  DCC_EXPIRED: { kind: 'refuse', zh: '证书已过期', en: 'Certificate has expired', next: NEXT.dccTest },
  DCC_NOT_YET_VALID: { kind: 'refuse', zh: '证书尚未生效', en: 'Certificate is not valid yet', next: { zh: '请稍后再扫码', en: 'Please scan again later' } },
  CREDENTIAL_UNKNOWN: { kind: 'refer', zh: '无法识别此码', en: 'Code not recognised', next: NEXT.waitStaff },
  CREDENTIAL_NOT_TEXT: { kind: 'refer', zh: '此码无法读取', en: 'Code could not be read', next: NEXT.waitStaff },

  CATEGORY_NOT_ALLOWED: {
    kind: 'refuse',
    zh: ({ category }) => (category ? `此处不对${CATEGORY_TEXT[category].zh}开放` : '此处暂不对您开放'),
    en: ({ category }) => (category ? `Not open to ${CATEGORY_TEXT[category].en} here` : 'This entrance is not open to you'),
    next: { zh: '请走指定入口，或联系接待部门', en: 'Please use the designated entrance or contact your host' },
  },

  HEALTH_CODE_YELLOW: {
    health: true,
    kind: 'refuse',
    zh: '健康码为黄码',
    en: 'Health code is yellow',
    next: { zh: '请按要求做核酸检测，转绿码后再来', en: 'Get tested as required; come back when your code is green' },
  },
  HEALTH_CODE_RED: { health: true, kind: 'refuse', zh: '健康码为红码', en: 'Health code is red', next: NEXT.waitAside },

  TRAVEL_MISSING: {
    health: true,
    kind: 'refuse',
    zh: '未查到行程码信息',
    en: 'No travel record found',
    next: { zh: '请更新通行码中的行程信息后再来', en: 'Update the travel record in your pass and come back' },
  },
  TRAVEL_RISK_AREA: {
    health: true,
    kind: 'refuse',
    zh: ({ level }) => `行程码显示到过${level ? LEVEL_TEXT[level].zh : '中高风险'}地区`,
    en: ({ level }) => `Travel record shows a ${level ? LEVEL_TEXT[level].en : 'medium- or high-risk'} area`,
    next: NEXT.turnBack,
  },
  TRAVEL_RISK_AREA_VISIT: {
    health: true,
    kind: 'refuse',
    zh: ({ regions, days }) =>
      `${days ?? 14}天内有风险地区旅居史${regions && regions.length > 0 ? `（${regions.join('、')}）` : ''}`,
    en: ({ regions, days }) =>
      `Stayed in a risk area within ${days ?? 14} days${regions && regions.length > 0 ? ` (${regions.join(', ')})` : ''}`,
    next: NEXT.turnBack,
  },

  TEST_MISSING: {
    health: true,
    kind: 'refuse',
    zh: '未查到核酸检测结果',
    en: 'No nucleic acid test found',
    next: { zh: '请做核酸检测，出结果后再来', en: 'Please get tested and come back with the result' },
  },
  TEST_POSITIVE: { health: true, kind: 'refuse', zh: '核酸检测结果为阳性', en: 'Nucleic acid test is positive', next: NEXT.waitAside },
  TEST_EXPIRED: {
    health: true,
    kind: 'refuse',
    zh: ({ hours, limitHours }) => {
      if (limitHours === undefined) return '核酸检测已过期';
      const ago = hours !== undefined && hours > limitHours ? `（采样于${hours}小时前）` : '';
      return `核酸检测已超过${limitHours}小时${ago}`;
    },
    en: ({ hours, limitHours }) => {
      if (limitHours === undefined) return 'Nucleic acid test has expired';
      const ago = hours !== undefined && hours > limitHours ? ` (sampled ${hours} h ago)` : '';
      return `Test is older than ${limitHours} h${ago}`;
    },
    next: { zh: '请重新做核酸检测', en: 'Please get a new test' },
  },
  TEST_DATE_INVALID: {
    health: true,
    kind: 'refuse',
    zh: '核酸采样时间有误',
    en: 'Test sampling time is invalid',
    next: { zh: '请更新通行码后再来', en: 'Please update your pass and come back' },
  },
  TEST_BEFORE_RETURN: {
    health: true,
    kind: 'refuse',
    zh: ({ since }) => {
      const d = since === undefined ? null : displayDate(since);
      return d ? `返回后需重新做核酸检测（须${d.zh}后采样）` : '返回后需重新做核酸检测';
    },
    en: ({ since }) => {
      const d = since === undefined ? null : displayDate(since);
      return d ? `A new test is needed after your return (sampled after ${d.en})` : 'A new test is needed after your return';
    },
    next: { zh: '请做核酸检测，报告出来后再通行', en: 'Please get tested and come back with the result' },
  },

  DCC_TYPE_NOT_ACCEPTED: {
    health: true,
    kind: 'refuse',
    zh: ({ type }) => (type === 'vaccination' ? '此处不接受疫苗接种证书' : type === 'recovery' ? '此处不接受康复证书' : type === 'test' ? '此处不接受检测证书' : '此处不接受此类证书'),
    en: ({ type }) => (type === 'vaccination' ? 'Vaccination certificates are not accepted here' : type === 'recovery' ? 'Recovery certificates are not accepted here' : type === 'test' ? 'Test certificates are not accepted here' : 'This kind of certificate is not accepted here'),
    next: NEXT.dccTest,
  },
  DCC_TEST_NOT_NAAT: { health: true, kind: 'refuse', zh: '此检测不是核酸检测（如抗原快速检测）', en: 'Not a nucleic acid test (e.g. a rapid antigen test)', next: NEXT.dccTest },
  DCC_VACCINATION_INCOMPLETE: {
    health: true,
    kind: 'refuse',
    zh: ({ dose, series }) => `疫苗未完成全程接种${dose !== undefined && series !== undefined ? `（第${dose}剂，共${series}剂）` : ''}`,
    en: ({ dose, series }) => `Vaccination not complete${dose !== undefined && series !== undefined ? ` (dose ${dose} of ${series})` : ''}`,
    next: NEXT.dccTest,
  },
  DCC_VACCINATION_TOO_RECENT: {
    health: true,
    kind: 'refuse',
    zh: ({ minDays }) => (minDays === undefined ? '末剂接种时间太近' : `末剂接种未满${minDays}天`),
    en: ({ minDays }) => (minDays === undefined ? 'Last dose too recent' : `Last dose less than ${minDays} days ago`),
    next: NEXT.dccTest,
  },
  DCC_VACCINATION_TOO_OLD: {
    health: true,
    kind: 'refuse',
    zh: ({ maxDays }) => (maxDays === undefined ? '末剂接种已超过有效期' : `末剂接种已超过${maxDays}天`),
    en: ({ maxDays }) => (maxDays === undefined ? 'Last dose too long ago' : `Last dose more than ${maxDays} days ago`),
    next: NEXT.dccTest,
  },
  DCC_RECOVERY_NOT_VALID: { health: true, kind: 'refuse', zh: '康复证书不在有效期内', en: 'Recovery certificate is not valid today', next: NEXT.dccTest },

  // Temperature. The measure codes are instructions in themselves.
  TEMP_NEEDED: { health: true, kind: 'measure', zh: '请测量体温', en: 'Please take your temperature' },
  TEMP_RECHECK: {
    health: true,
    kind: 'measure',
    zh: ({ celsius }) => (celsius === undefined ? '请再测一次体温' : `体温${formatCelsius(celsius)}℃，请再测一次`),
    en: ({ celsius }) => (celsius === undefined ? 'Please measure again' : `${formatCelsius(celsius)} °C: please measure again`),
  },
  TEMP_IMPLAUSIBLE_REMEASURE: {
    health: true,
    kind: 'measure',
    zh: '未测准，请靠近后再测一次',
    en: 'Reading unclear: please come closer and measure again',
  },
  TEMP_IMPLAUSIBLE: {
    health: true,
    kind: 'refer',
    zh: '体温无法测准',
    en: 'Temperature could not be measured',
    next: { zh: '请稍候，工作人员将为您复测', en: 'Please wait; staff will measure you' },
  },
  TEMP_READING_INVALID_REMEASURE: {
    health: true,
    kind: 'measure',
    zh: '测温无效，请正对测温仪再测一次',
    en: 'Invalid reading: please face the sensor and measure again',
  },
  TEMP_READING_INVALID: {
    health: true,
    kind: 'refer',
    zh: '测温仪读数无效',
    en: 'The thermometer gave no valid reading',
    next: { zh: '请稍候，工作人员将为您复测', en: 'Please wait; staff will measure you' },
  },
  TEMP_FEVER: {
    health: true,
    kind: 'refuse',
    zh: ({ celsius }) => (celsius === undefined ? '体温偏高' : `体温偏高（${formatCelsius(celsius)}℃）`),
    en: ({ celsius }) => (celsius === undefined ? 'Temperature too high' : `Temperature too high (${formatCelsius(celsius)} °C)`),
    next: { zh: '请在一旁休息，工作人员将为您安排', en: 'Please rest aside; staff will assist you' },
  },

  WATCHLIST_CLOSE_CONTACT: {
    kind: 'refuse',
    zh: (p) => `您在密接管控期内${until(p.until).zh}`,
    en: (p) => `You are listed as a close contact${until(p.until).en}`,
    next: NEXT.followControl,
  },
  WATCHLIST_ISOLATION: {
    kind: 'refuse',
    zh: (p) => `您在隔离期内${until(p.until).zh}`,
    en: (p) => `You are in isolation${until(p.until).en}`,
    next: NEXT.followControl,
  },
  WATCHLIST_HOME_MONITORING: {
    kind: 'refuse',
    zh: (p) => `您在居家健康监测期内${until(p.until).zh}`,
    en: (p) => `You are under home health monitoring${until(p.until).en}`,
    next: { zh: '请居家监测，期满后再来', en: 'Please stay home until the monitoring ends' },
  },

  VISITOR_NO_APPROVAL: {
    kind: 'refuse',
    zh: '未查到来访审批',
    en: 'No visit approval found',
    next: { zh: '请联系接待部门向疫情防控办申请', en: 'Ask your host department to apply to the epidemic office' },
  },
  VISITOR_APPROVAL_NOT_YET_VALID: {
    kind: 'refuse',
    zh: ({ from }) => {
      const d = from === undefined ? null : displayDate(from);
      return d ? `来访审批尚未生效（${d.zh}起）` : '来访审批尚未生效';
    },
    en: ({ from }) => {
      const d = from === undefined ? null : displayDate(from);
      return d ? `Visit approval not valid yet (from ${d.en})` : 'Visit approval not valid yet';
    },
    next: { zh: '请在审批时间内再来', en: 'Please come back within the approved time' },
  },
  VISITOR_APPROVAL_EXPIRED: {
    kind: 'refuse',
    zh: (p) => `来访审批已过期${until(p.until).zh}`,
    en: (p) => `Visit approval has expired${until(p.until).en}`,
    next: { zh: '请联系接待部门重新申请', en: 'Ask your host department to renew it' },
  },
  VISITOR_APPROVAL_USED_UP: {
    kind: 'refuse',
    zh: ({ maxUses }) => (maxUses !== undefined && maxUses > 0 ? `来访审批次数已用完（共${maxUses}次）` : '来访审批次数已用完'),
    en: ({ maxUses }) => (maxUses !== undefined && maxUses > 0 ? `Visit approval used up (${maxUses} of ${maxUses} entries)` : 'Visit approval used up'),
    next: { zh: '请联系接待部门重新申请', en: 'Ask your host department for a new approval' },
  },
  VISITOR_APPROVAL_WRONG_CHECKPOINT: {
    kind: 'refuse',
    zh: '来访审批不含本卡口',
    en: 'Visit approval does not cover this checkpoint',
    next: { zh: '请到审批指定的卡口通行，或联系接待部门', en: 'Please use a checkpoint named in the approval, or ask your host department' },
  },

  // Contractors: a current crew registration, and the crew's itinerary clear of risk areas.
  CREW_NOT_REGISTERED: {
    kind: 'refuse',
    zh: '未查到施工队伍登记',
    en: 'No crew registration found',
    next: { zh: '请联系施工队伍负责人向疫情防控办登记', en: 'Ask the person responsible for your crew to register it with the epidemic office' },
  },
  CREW_NOT_YET_VALID: {
    kind: 'refuse',
    zh: ({ from }) => {
      const d = from === undefined ? null : displayDate(from);
      return d ? `施工队伍登记尚未生效（${d.zh}起）` : '施工队伍登记尚未生效';
    },
    en: ({ from }) => {
      const d = from === undefined ? null : displayDate(from);
      return d ? `Crew registration not valid yet (from ${d.en})` : 'Crew registration not valid yet';
    },
    next: { zh: '请在登记时间内再来', en: 'Please come back within the registered time' },
  },
  CREW_EXPIRED: {
    kind: 'refuse',
    zh: (p) => `施工队伍登记已过期${until(p.until).zh}`,
    en: (p) => `Crew registration has expired${until(p.until).en}`,
    next: { zh: '请联系施工队伍负责人重新登记', en: 'Ask the person responsible for your crew to renew it' },
  },
  CREW_ITINERARY_RISK_AREA: {
    health: true,
    kind: 'refuse',
    zh: ({ regions, days }) =>
      `施工队伍${days ?? 14}天内行程经过风险地区${regions && regions.length > 0 ? `（${regions.join('、')}）` : ''}`,
    en: ({ regions, days }) =>
      `The crew's itinerary passed a risk area within ${days ?? 14} days${regions && regions.length > 0 ? ` (${regions.join(', ')})` : ''}`,
    next: NEXT.turnBack,
  },

  // Vehicle gate: a vehicle pass decided together with its driver's pass (requirement 10).
  VEHICLE_PASS_MISSING: {
    kind: 'refuse',
    zh: '送货车辆须先扫车辆通行证',
    en: 'Scan the vehicle pass first',
    next: { zh: '请先扫车辆通行证再扫本人码', en: "Scan the vehicle pass, then the driver's pass" },
  },
  VEHICLE_DRIVER_MISMATCH: {
    kind: 'refuse',
    zh: '车辆通行证与司机不符',
    en: 'The vehicle pass names another driver',
    next: { zh: '请由通行证登记的司机扫码', en: 'The driver named on the vehicle pass must scan' },
  },
  VEHICLE_GOODS_NOT_ESSENTIAL: {
    kind: 'refuse',
    zh: '非生活必需物资车辆禁止进入',
    en: 'Only essential supplies may enter',
    next: { zh: '请联系收货单位或疫情防控办', en: 'Please contact the receiving unit or the epidemic office' },
  },
  VEHICLE_DAILY_LIMIT: {
    kind: 'refuse',
    zh: ({ limit }) => (limit !== undefined ? `该车今日非必需物资已达${limit}次` : '该车今日非必需物资次数已满'),
    en: ({ limit }) => (limit !== undefined ? `Non-essential entries for this vehicle today: ${limit} of ${limit}` : 'Daily non-essential entries used up'),
    next: { zh: '请明日再来或联系疫情防控办', en: 'Please come back tomorrow or contact the epidemic office' },
  },

  // Zones (occupancy and anti-passback), applied after decide() on a zone's entry lane.
  ZONE_FULL: {
    kind: 'refer',
    zh: ({ count, limit }) => (count !== undefined && limit !== undefined ? `已满员（${count}人，限${limit}人），请稍候` : '已满员，请稍候'),
    en: ({ count, limit }) => (count !== undefined && limit !== undefined ? `Full (${count} of ${limit}), please wait` : 'Full, please wait'),
    next: { zh: '请稍候，有人离开后再扫码', en: 'Please wait and scan again when someone leaves' },
  },
  ANTI_PASSBACK: {
    kind: 'refuse',
    zh: '上次进入后未登记离开，不能重复进入',
    en: 'No exit recorded since your last entry',
    next: { zh: '请从出口扫码离开，或联系工作人员', en: 'Please scan out at the exit, or ask staff' },
  },

  // Lane-side codes: the lane, not decide(), emits these.
  TEMP_TIMEOUT: {
    health: true,
    kind: 'refer',
    zh: '未测到体温，本次通行已取消',
    en: 'No temperature taken; passage cancelled',
    next: { zh: '请重新扫码', en: 'Please scan again' },
  },
  DEVICE_DOWN_SCANNER: { kind: 'refer', zh: '扫码器故障，本通道暂停使用', en: 'Scanner fault: lane closed', next: NEXT.laneClosed },
  DEVICE_DOWN_THERMOMETER: {
    kind: 'refer',
    zh: '测温仪故障，本通道暂停使用',
    en: 'Thermometer fault: lane closed',
    next: NEXT.laneClosed,
  },
  DEVICE_DOWN_RELAY: { kind: 'refer', zh: '闸机故障，本通道暂停使用', en: 'Gate fault: lane closed', next: NEXT.laneClosed },
  RELAY_FAILED: {
    kind: 'refer',
    zh: '闸机未能开启',
    en: 'The gate did not open',
    next: { zh: '请稍候，工作人员将为您开门', en: 'Please wait; staff will open it for you' },
  },
  LEDGER_FAILED: { kind: 'refer', zh: '通行记录未能保存，闸机未开启', en: 'Passage could not be recorded; gate held', next: NEXT.waitStaff },
  LANE_WAITING: { kind: 'prompt', zh: '请出示通行码', en: 'Please show your pass' },
  // Vehicle gate, lane side: the vehicle pass is held until the driver's pass is scanned.
  VEHICLE_DRIVER_NEEDED: { kind: 'prompt', zh: '请出示司机通行码', en: "Please show the driver's pass" },
  VEHICLE_DRIVER_TIMEOUT: {
    kind: 'refer',
    zh: '未出示司机通行码，本次通行已取消',
    en: "No driver's pass shown; passage cancelled",
    next: { zh: '请重新扫车辆通行证', en: 'Please scan the vehicle pass again' },
  },
  VEHICLE_PASS_NOT_HERE: {
    kind: 'refer',
    zh: '本通道不受理车辆通行证',
    en: 'This lane does not take vehicle passes',
    next: { zh: '请到车辆通道扫码', en: 'Please use the vehicle gate' },
  },
};

const CODE_SET: ReadonlySet<string> = new Set(REASON_CODES);

/** Reason codes that state or depend on a health claim or a temperature (the catalogue's `health` mark). */
export const HEALTH_REASON_CODES: ReadonlySet<string> = new Set(REASON_CODES.filter((c) => CATALOGUE[c].health === true));

export function isReasonCode(code: string): code is ReasonCode {
  return CODE_SET.has(code);
}

export function reasonKind(code: ReasonCode): ReasonKind {
  return CATALOGUE[code].kind;
}

/** The person-facing reason for a code, texts filled from params. */
/** How full a zone is, for the kiosk of its entry lane: "已有12人，限40人" / "12 of 40 inside". */
export function zoneOccupancyText(count: number, limit: number | null): Text {
  return limit === null ? { zh: `已有${count}人`, en: `${count} inside` } : { zh: `已有${count}人，限${limit}人`, en: `${count} of ${limit} inside` };
}

export function reason<C extends ReasonCode>(code: C, params?: ReasonParams<C>): Reason {
  const entry: Entry<ReasonParams<C>> = CATALOGUE[code];
  const p = (params ?? {}) as ReasonParams<C>;
  const render = (r: Render<ReasonParams<C>>): string => (typeof r === 'string' ? r : r(p));
  const out: Reason = { code, zh: render(entry.zh), en: render(entry.en) };
  if (entry.next) out.next = { zh: entry.next.zh, en: entry.next.en };
  return out;
}

/** The headline the kiosk shows above the reasons. */
export const outcomeText: Readonly<Record<Outcome, Text>> = {
  admit: { zh: '请通行', en: 'Please pass' },
  refuse: { zh: '禁止通行', en: 'Entry refused' },
  refer: { zh: '请等待工作人员', en: 'Please wait for staff' },
};

/** What happened to a passage, as the guard says it (the kiosk's instructions are outcomeText). */
export const guardOutcomeText: Readonly<Record<Outcome, Text>> = {
  admit: { zh: '放行', en: 'Admitted' },
  refuse: { zh: '拒绝', en: 'Refused' },
  refer: { zh: '转人工', en: 'Referred' },
};

// ---- Guard override reasons: the pick-list of the guard console. The guard's free text
// goes beside the chosen code (ledger `note`), never into these texts.
export const OVERRIDE_REASON_CODES = [
  'OVERRIDE_IDENTITY_VERIFIED',
  'OVERRIDE_DEVICE_FAULT',
  'OVERRIDE_MEDICAL_EMERGENCY',
  'OVERRIDE_RESCUE',
  'OVERRIDE_LEADER_APPROVED',
  'OVERRIDE_OTHER',
] as const;
export type OverrideReasonCode = (typeof OVERRIDE_REASON_CODES)[number];

const OVERRIDE_TEXT: Readonly<Record<OverrideReasonCode, Text>> = {
  OVERRIDE_IDENTITY_VERIFIED: { zh: '人工放行：已当面核实证件', en: 'Guard override: credentials checked in person' },
  OVERRIDE_DEVICE_FAULT: { zh: '人工放行：设备故障', en: 'Guard override: device fault' },
  OVERRIDE_MEDICAL_EMERGENCY: { zh: '人工放行：医疗急救', en: 'Guard override: medical emergency' },
  OVERRIDE_RESCUE: { zh: '人工放行：抢险救援', en: 'Guard override: emergency rescue' },
  OVERRIDE_LEADER_APPROVED: { zh: '人工放行：值班领导批准', en: 'Guard override: approved by the duty leader' },
  OVERRIDE_OTHER: { zh: '人工放行：其他原因', en: 'Guard override: other reason' },
};

export function isOverrideReasonCode(code: string): code is OverrideReasonCode {
  return (OVERRIDE_REASON_CODES as readonly string[]).includes(code);
}

/** The ledger reason of a guard override. */
export function overrideReason(code: OverrideReasonCode): Reason {
  const t = OVERRIDE_TEXT[code];
  return { code, zh: t.zh, en: t.en };
}

// ---- Alerts as the guard console names them: every kind an alert is raised with, and
// the codes alerts carry that are neither reason nor override codes (devices, tailgating,
// zone corrections, rejected updates). Kinds and codes travel over MQTT as they are; these
// texts are for people.
/** Alert kinds raised by the gateway's own code beside the policy's AlertKind. */
export type RaisedAlertKind = AlertKind | 'device-down' | 'device-up' | 'guard-override' | 'tailgate' | 'update-rejected' | 'zone-corrected' | 'clock-unsynced';

export const ALERT_KIND_TEXT: Readonly<Record<RaisedAlertKind, Text>> = {
  fever: { zh: '发热', en: 'Fever' },
  'health-code': { zh: '健康码或核酸异常', en: 'Health code or test' },
  'risk-area': { zh: '风险地区', en: 'Risk area' },
  watchlist: { zh: '管控名单', en: 'Watchlist' },
  'visitor-refused': { zh: '访客被拒', en: 'Visitor refused' },
  'forged-pass': { zh: '可疑通行码', en: 'Suspect pass' },
  'device-fault': { zh: '设备故障', en: 'Device fault' },
  'gate-held': { zh: '闸机未开', en: 'Gate stayed shut' },
  'soft-rule': { zh: '放行但需关注', en: 'Admitted with a warning' },
  'anti-passback': { zh: '反潜回', en: 'Anti-passback' },
  'device-down': { zh: '设备断开', en: 'Device down' },
  'device-up': { zh: '设备恢复', en: 'Device back' },
  'guard-override': { zh: '人工放行', en: 'Guard override' },
  tailgate: { zh: '无放行通过', en: 'Passage without admission' },
  'update-rejected': { zh: '更新被拒收', en: 'Update rejected' },
  'zone-corrected': { zh: '人数更正', en: 'Count corrected' },
  'clock-unsynced': { zh: '时钟未同步', en: 'Clock not synchronised' },
};

/** Texts of the alert codes that are not reason or override codes. */
export const ALERT_CODE_TEXT: Readonly<Record<string, Text>> = {
  DEVICE_UP_SCANNER: { zh: '扫码器已恢复', en: 'Scanner back in service' },
  DEVICE_UP_THERMOMETER: { zh: '测温仪已恢复', en: 'Thermometer back in service' },
  DEVICE_UP_RELAY: { zh: '闸机已恢复', en: 'Gate back in service' },
  DEVICE_UP_SENSOR: { zh: '通行传感器已恢复', en: 'Passage sensor back in service' },
  DEVICE_DOWN_SENSOR: { zh: '通行传感器断开，区域人数暂停计数', en: 'Passage sensor down: the zone count is paused' },
  PASSAGE_WITHOUT_ADMISSION: { zh: '有人未经放行通过（尾随或强行通过）', en: 'Someone went through without admission (tailgating or a forced gate)' },
  ZONE_COUNT_CORRECTED: { zh: '区域人数已更正', en: 'Zone count corrected' },
  CLOCK_NOT_SYNCHRONISED: { zh: '系统时钟未与时间服务器同步，核酸时限和通行码有效期依赖准确时间', en: 'The system clock is not synchronised; test windows and pass expiry depend on it' },
  UPDATE_MALFORMED: { zh: '收到无法读取的更新', en: 'An update could not be read' },
  UPDATE_KIND_UNKNOWN: { zh: '收到未知类型的更新', en: 'An update of an unknown kind' },
  UPDATE_KEY_UNKNOWN: { zh: '更新的签名密钥未登记', en: 'An update signed with an unknown key' },
  UPDATE_SIGNATURE_INVALID: { zh: '更新签名验证未通过', en: 'An update failed signature verification' },
  UPDATE_KIND_MISMATCH: { zh: '更新类型与发送通道不符', en: 'An update arrived on the wrong topic' },
  UPDATE_WRONG_TARGET: { zh: '更新不是发给本卡口的', en: 'An update meant for another checkpoint' },
  UPDATE_VERSION_STALE: { zh: '更新版本不比现行版本新', en: 'An update no newer than the one in force' },
  UPDATE_SCHEMA_INVALID: { zh: '更新内容格式有误', en: 'An update with invalid content' },
  UPDATE_APPLY_FAILED: { zh: '更新未能写入', en: 'An update could not be saved' },
};

// ---- Screen texts of the guard console (and the kiosk's fixed labels). Keys are stable;
// the console looks them up by key, so a missing key shows as the key itself in tests.
export const UI_TEXT = {
  consoleTitle: { zh: '值守台', en: 'Guard console' },
  signIn: { zh: '登录', en: 'Sign in' },
  signOut: { zh: '退出', en: 'Sign out' },
  guardId: { zh: '工号', en: 'Guard ID' },
  pin: { zh: '密码', en: 'PIN' },
  signInFailed: { zh: '工号或密码错误', en: 'Wrong guard ID or PIN' },
  accountLocked: { zh: '账号已锁定，请稍后再试', en: 'Account locked; try again later' },
  tooManyAttempts: { zh: '尝试次数过多，请稍后再试', en: 'Too many attempts; try again later' },
  sessionExpired: { zh: '登录已过期，请重新登录', en: 'Session expired; please sign in again' },
  unackedAlerts: { zh: '未处理告警', en: 'Unacknowledged alerts' },
  lanes: { zh: '通道状态', en: 'Lanes' },
  scanner: { zh: '扫码器', en: 'Scanner' },
  thermometer: { zh: '测温仪', en: 'Thermometer' },
  relay: { zh: '闸机', en: 'Gate' },
  mqttLink: { zh: '上报链路', en: 'Central office link' },
  outboxDepth: { zh: '待上报', en: 'Waiting to send' },
  deviceConnected: { zh: '正常', en: 'OK' },
  deviceDisconnected: { zh: '断开', en: 'Disconnected' },
  deviceFault: { zh: '故障', en: 'Fault' },
  linkConnected: { zh: '已连接', en: 'Connected' },
  linkConnecting: { zh: '连接中', en: 'Connecting' },
  linkDisconnected: { zh: '已断开', en: 'Disconnected' },
  linkNone: { zh: '未配置', en: 'Not configured' },
  laneIdle: { zh: '等待', en: 'Waiting' },
  laneMeasuring: { zh: '测温中', en: 'Measuring' },
  laneShowing: { zh: '显示结果', en: 'Showing result' },
  laneOutOfService: { zh: '暂停使用', en: 'Out of service' },
  /** A lane without health checks that is busy (a vehicle gate waiting for the driver): nobody is measured. */
  laneBusy: { zh: '处理中', en: 'Busy' },
  /** On a lane card when the lane checks no health (policy.healthChecks off, or an access-only profile). */
  accessOnly: { zh: '仅门禁，不查验健康信息', en: 'Access control only: no health checks' },
  override: { zh: '人工放行', en: 'Open gate' },
  overrideReason: { zh: '放行原因', en: 'Reason' },
  overrideNote: { zh: '补充说明', en: 'Note' },
  overrideConfirm: { zh: '确认开闸一次', en: 'Open the gate once' },
  overrideDone: { zh: '已开闸', en: 'Gate opened' },
  overrideFailed: { zh: '开闸失败', en: 'Gate did not open' },
  cancel: { zh: '取消', en: 'Cancel' },
  liveFeed: { zh: '实时通行', en: 'Live feed' },
  allLanes: { zh: '全部通道', en: 'All lanes' },
  allOutcomes: { zh: '全部结果', en: 'All outcomes' },
  allCredentials: { zh: '全部凭证', en: 'All credentials' },
  kindOverride: { zh: '人工放行', en: 'Override' },
  alerts: { zh: '告警', en: 'Alerts' },
  acknowledge: { zh: '确认', en: 'Acknowledge' },
  acknowledgedBy: { zh: '确认人', en: 'Acknowledged by' },
  noAlerts: { zh: '暂无告警', en: 'No alerts' },
  acknowledgeAllShown: { zh: '全部确认', en: 'Acknowledge all shown' },
  alertInfo: { zh: '提示，无需确认', en: 'No acknowledgement needed' },
  alertPassage: { zh: '查看通行记录', en: 'Show the passage' },
  overrideAnswers: { zh: '处理的通行', en: 'For the passage' },
  screening: { zh: '每日筛查', en: 'Daily screening' },
  screeningDate: { zh: '日期', en: 'Date' },
  screeningWorkers: { zh: '应筛查', en: 'Workers' },
  screened: { zh: '已筛查', en: 'Screened' },
  notScreened: { zh: '未筛查', en: 'Not screened' },
  screeningEveryone: { zh: '全部已筛查', en: 'Everyone screened' },
  screeningNobody: { zh: '尚无人筛查', en: 'Nobody screened yet' },
  expected: { zh: '今日预约来访', en: "Today's expected visitors" },
  arrived: { zh: '已到', en: 'Arrived' },
  notYet: { zh: '未到', en: 'Not yet' },
  noneExpected: { zh: '今日无预约', en: 'Nobody expected today' },
  approver: { zh: '审批人', en: 'Approver' },
  hostDepartment: { zh: '接待部门', en: 'Host department' },
  ledger: { zh: '通行记录查询', en: 'Ledger search' },
  from: { zh: '开始', en: 'From' },
  to: { zh: '结束', en: 'To' },
  subject: { zh: '姓名或编号', en: 'Name or ID' },
  search: { zh: '查询', en: 'Search' },
  exportCsv: { zh: '导出表格', en: 'Export CSV' },
  noRows: { zh: '无记录', en: 'No records' },
  namesSearchedBackTo: { zh: '姓名已查至', en: 'Names searched back to' },
  searchOlder: { zh: '查更早的', en: 'Search older' },
  moreRows: { zh: '更多', en: 'More' },
  today: { zh: '今日统计', en: 'Today' },
  hourly: { zh: '分时段通行', en: 'By hour' },
  time: { zh: '时间', en: 'Time' },
  lane: { zh: '通道', en: 'Lane' },
  outcome: { zh: '结果', en: 'Outcome' },
  reasons: { zh: '原因', en: 'Reasons' },
  credential: { zh: '凭证', en: 'Credential' },
  name: { zh: '姓名', en: 'Name' },
  category: { zh: '类别', en: 'Category' },
  temperature: { zh: '体温', en: 'Temperature' },
  guard: { zh: '值守人', en: 'Guard' },
  credentialHealthPass: { zh: '健康通行码', en: 'Health pass' },
  /** The same credential, named without health wording when health checks are off. */
  credentialPass: { zh: '通行码', en: 'Pass' },
  credentialStaffBadge: { zh: '工牌', en: 'Staff badge' },
  credentialDcc: { zh: '欧盟新冠证书', en: 'EU COVID certificate' },
  credentialUnknown: { zh: '未知', en: 'Unknown' },
  reconnecting: { zh: '正在重新连接…', en: 'Reconnecting…' },
  zones: { zh: '区域', en: 'Zones' },
  zoneNoLimit: { zh: '不限人数', en: 'No limit' },
  zoneFull: { zh: '已满', en: 'Full' },
  zoneOverLimit: { zh: '超出限额', en: 'Over the limit' },
  zoneEntryLanes: { zh: '入口', en: 'Entry' },
  zoneExitLanes: { zh: '出口', en: 'Exit' },
  zoneResetAt: { zh: '每日清零', en: 'Daily reset' },
  antiPassback: { zh: '反潜回', en: 'Anti-passback' },
  antiPassbackOff: { zh: '关闭', en: 'Off' },
  antiPassbackHard: { zh: '严格', en: 'Hard' },
  antiPassbackSoft: { zh: '仅告警', en: 'Soft' },
  antiPassbackTimed: { zh: '限时', en: 'Timed' },
  zoneLastCorrection: { zh: '最近更正', en: 'Last correction' },
  zoneNoCorrections: { zh: '暂无更正', en: 'No corrections yet' },
  zoneCorrect: { zh: '更正人数', en: 'Correct count' },
  zoneCount: { zh: '实际人数', en: 'People inside now' },
  zoneReason: { zh: '更正原因', en: 'Reason' },
  zoneConfirm: { zh: '确认更正', en: 'Save the count' },
  zoneCorrectFailed: { zh: '更正失败', en: 'Count not saved' },
  kioskTitle: { zh: '通行检查', en: 'Checkpoint' },
  kioskReminder: { zh: '请佩戴口罩 · 保持一米距离', en: 'Wear a mask · Keep one metre apart' },
  kioskOutOfService: { zh: '暂停使用', en: 'Out of service' },
  kioskDeviceFault: { zh: '设备故障，请联系工作人员', en: 'Device fault: please ask the staff' },
  enableJavaScript: { zh: '请启用 JavaScript。', en: 'Please enable JavaScript.' },
} as const satisfies Record<string, Text>;
export type UiTextKey = keyof typeof UI_TEXT;
