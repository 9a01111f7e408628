// THE message catalogue: every reason code a person or guard can see, in zh-CN and English,
// with what to do next. The kiosk, the guard console and the ledger all show these texts,
// so wording lives here and nowhere else. Codes are stable: reword the text, never the code.
// Kept free of I/O and Node imports so the browser side can import it as is.
import { CREDENTIAL_FAILURES, type Category } from '../credentials/types.js';
import { displayDate } from './time.js';
import type { Outcome, Reason, Text } from './types.js';

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
  'TEMP_NEEDED',
  'TEMP_RECHECK',
  'TEMP_IMPLAUSIBLE_REMEASURE',
  'TEMP_IMPLAUSIBLE',
  'TEMP_FEVER',
  'WATCHLIST_CLOSE_CONTACT',
  'WATCHLIST_ISOLATION',
  'WATCHLIST_HOME_MONITORING',
  'VISITOR_NO_APPROVAL',
  'VISITOR_APPROVAL_NOT_YET_VALID',
  'VISITOR_APPROVAL_EXPIRED',
  'TEMP_TIMEOUT',
  'DEVICE_DOWN_SCANNER',
  'DEVICE_DOWN_THERMOMETER',
  'DEVICE_DOWN_RELAY',
  'RELAY_FAILED',
  'LEDGER_FAILED',
  'LANE_WAITING',
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
  TEMP_RECHECK: { celsius?: number };
  TEMP_FEVER: { celsius?: number };
  /** until: the entry's exclusive end. */
  WATCHLIST_CLOSE_CONTACT: { until?: When | null };
  WATCHLIST_ISOLATION: { until?: When | null };
  WATCHLIST_HOME_MONITORING: { until?: When | null };
  VISITOR_APPROVAL_NOT_YET_VALID: { from?: When };
  /** until: the latest approval's exclusive end. */
  VISITOR_APPROVAL_EXPIRED: { until?: When };
}
export type ReasonParams<C extends ReasonCode> = C extends keyof ReasonParamMap ? ReasonParamMap[C] : Record<string, never>;

type Render<P> = string | ((p: P) => string);
interface Entry<P> {
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
  PASS_CLAIMS_INVALID: {
    kind: 'refuse',
    zh: '通行码信息不完整',
    en: 'Pass information is incomplete',
    next: { zh: '请重新申领通行码', en: 'Please get a new pass' },
  },
  BADGE_MALFORMED: { kind: 'refer', zh: '工牌无法识别', en: 'Badge not recognised', next: NEXT.waitStaff },
  BADGE_NOT_IN_ROSTER: { kind: 'refer', zh: '工牌未登记或已停用', en: 'Badge not registered or withdrawn', next: NEXT.waitStaff },
  CREDENTIAL_UNKNOWN: { kind: 'refer', zh: '无法识别此码', en: 'Code not recognised', next: NEXT.waitStaff },
  CREDENTIAL_NOT_TEXT: { kind: 'refer', zh: '此码无法读取', en: 'Code could not be read', next: NEXT.waitStaff },

  CATEGORY_NOT_ALLOWED: {
    kind: 'refuse',
    zh: ({ category }) => (category ? `此处不对${CATEGORY_TEXT[category].zh}开放` : '此处暂不对您开放'),
    en: ({ category }) => (category ? `Not open to ${CATEGORY_TEXT[category].en} here` : 'This entrance is not open to you'),
    next: { zh: '请走指定入口，或联系接待部门', en: 'Please use the designated entrance or contact your host' },
  },

  HEALTH_CODE_YELLOW: {
    kind: 'refuse',
    zh: '健康码为黄码',
    en: 'Health code is yellow',
    next: { zh: '请按要求做核酸检测，转绿码后再来', en: 'Get tested as required; come back when your code is green' },
  },
  HEALTH_CODE_RED: { kind: 'refuse', zh: '健康码为红码', en: 'Health code is red', next: NEXT.waitAside },

  TRAVEL_MISSING: {
    kind: 'refuse',
    zh: '未查到行程码信息',
    en: 'No travel record found',
    next: { zh: '请更新通行码中的行程信息后再来', en: 'Update the travel record in your pass and come back' },
  },
  TRAVEL_RISK_AREA: {
    kind: 'refuse',
    zh: ({ level }) => `行程码显示到过${level ? LEVEL_TEXT[level].zh : '中高风险'}地区`,
    en: ({ level }) => `Travel record shows a ${level ? LEVEL_TEXT[level].en : 'medium- or high-risk'} area`,
    next: NEXT.turnBack,
  },
  TRAVEL_RISK_AREA_VISIT: {
    kind: 'refuse',
    zh: ({ regions, days }) =>
      `${days ?? 14}天内有风险地区旅居史${regions && regions.length > 0 ? `（${regions.join('、')}）` : ''}`,
    en: ({ regions, days }) =>
      `Stayed in a risk area within ${days ?? 14} days${regions && regions.length > 0 ? ` (${regions.join(', ')})` : ''}`,
    next: NEXT.turnBack,
  },

  TEST_MISSING: {
    kind: 'refuse',
    zh: '未查到核酸检测结果',
    en: 'No nucleic acid test found',
    next: { zh: '请做核酸检测，出结果后再来', en: 'Please get tested and come back with the result' },
  },
  TEST_POSITIVE: { kind: 'refuse', zh: '核酸检测结果为阳性', en: 'Nucleic acid test is positive', next: NEXT.waitAside },
  TEST_EXPIRED: {
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
    kind: 'refuse',
    zh: '核酸采样时间有误',
    en: 'Test sampling time is invalid',
    next: { zh: '请更新通行码后再来', en: 'Please update your pass and come back' },
  },

  // Temperature. The measure codes are instructions in themselves.
  TEMP_NEEDED: { kind: 'measure', zh: '请测量体温', en: 'Please take your temperature' },
  TEMP_RECHECK: {
    kind: 'measure',
    zh: ({ celsius }) => (celsius === undefined ? '请再测一次体温' : `体温${formatCelsius(celsius)}℃，请再测一次`),
    en: ({ celsius }) => (celsius === undefined ? 'Please measure again' : `${formatCelsius(celsius)} °C: please measure again`),
  },
  TEMP_IMPLAUSIBLE_REMEASURE: {
    kind: 'measure',
    zh: '未测准，请靠近后再测一次',
    en: 'Reading unclear: please come closer and measure again',
  },
  TEMP_IMPLAUSIBLE: {
    kind: 'refer',
    zh: '体温无法测准',
    en: 'Temperature could not be measured',
    next: { zh: '请稍候，工作人员将为您复测', en: 'Please wait; staff will measure you' },
  },
  TEMP_FEVER: {
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

  // Lane-side codes: the lane, not decide(), emits these.
  TEMP_TIMEOUT: {
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
};

const CODE_SET: ReadonlySet<string> = new Set(REASON_CODES);

export function isReasonCode(code: string): code is ReasonCode {
  return CODE_SET.has(code);
}

export function reasonKind(code: ReasonCode): ReasonKind {
  return CATALOGUE[code].kind;
}

/** The person-facing reason for a code, texts filled from params. */
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
