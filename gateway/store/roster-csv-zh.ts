// A roster exported from Excel on a Chinese office PC: Chinese column names (工号, 姓名,
// 类别, 健康码, …), Chinese words (员工, 绿码, 阴性, 低风险, 是/否), dates as Excel writes
// them (2026/12/4 8:30, 2026-12-04 08:30) meaning China time, and the file in UTF-8 with
// a byte order mark ("CSV UTF-8") or in GB18030/GBK (plain "CSV" on Chinese Windows).
// Everything is mapped onto the columns and words of roster-csv.ts, which does the checking.
import { ROSTER_CSV_COLUMNS, type RosterCsvColumn, type RosterCsvDialect } from './roster-csv.js';

/** Column names as Chinese offices write them, by canonical column. */
const HEADER_ALIASES: Readonly<Record<string, readonly string[]>> = {
  staff_id: ['工号', '员工编号', '员工号', '人员编号', '编号'],
  name: ['姓名', '名字'],
  category: ['类别', '人员类别', '人员类型', '身份'],
  health_code: ['健康码', '健康码颜色', '健康码状态'],
  test_result: ['核酸结果', '核酸检测结果'],
  test_sampled_at: ['采样时间', '核酸采样时间'],
  travel_risk: ['行程风险', '行程风险等级', '行程卡'],
  travel_as_of: ['行程更新时间', '行程查询时间', '行程卡时间'],
  active: ['在职', '是否在职', '有效'],
  leave_destination: ['外出目的地', '离开去向', '去向'],
  leave_out: ['离开日期', '外出日期'],
  leave_back: ['返回日期', '返岗日期'],
  // Office-only columns, where this version of the roster has them.
  department: ['部门'],
  team: ['班组'],
};

/** Chinese words of each column's values, by canonical word. */
const VALUE_ALIASES: Readonly<Partial<Record<RosterCsvColumn, Readonly<Record<string, readonly string[]>>>>> = {
  category: {
    employee: ['员工', '职工', '正式员工'],
    family: ['家属', '职工家属'],
    contractor: ['外包', '外包人员', '承包商', '协作单位'],
    visitor: ['访客', '来访人员'],
    vendor: ['供应商', '商户'],
    driver: ['司机', '驾驶员'],
  },
  health_code: { green: ['绿码', '绿', '绿色'], yellow: ['黄码', '黄', '黄色'], red: ['红码', '红', '红色'] },
  test_result: { negative: ['阴性'], positive: ['阳性'] },
  travel_risk: { none: ['无', '无风险'], low: ['低', '低风险'], medium: ['中', '中风险'], high: ['高', '高风险'] },
  active: { true: ['是', '在职', '有效'], false: ['否', '离职', '无效'] },
};

const TIMESTAMP_COLUMNS: ReadonlySet<string> = new Set(['test_sampled_at', 'travel_as_of']);
const DATE_COLUMNS: ReadonlySet<string> = new Set(['leave_out', 'leave_back']);

/** "采样时间 (北京时间)" → "采样时间": spaces, notes in brackets and a required-mark "*" go. */
function normalHeader(h: string): string {
  return h.replace(/[（(][^）)]*[）)]/g, '').replace(/[\s*＊]/g, '');
}

const HEADER_INDEX = new Map<string, string>();
const known = new Set<string>(ROSTER_CSV_COLUMNS);
for (const [column, aliases] of Object.entries(HEADER_ALIASES)) {
  if (known.has(column)) for (const a of aliases) HEADER_INDEX.set(a, column);
}

const EXCEL_TIME = /^(\d{4})[/.年-](\d{1,2})[/.月-](\d{1,2})日?(?:[ T]+(\d{1,2})[:：时](\d{1,2})(?:[:：分](\d{1,2})秒?)?分?)?$/;
const two = (n: string): string => n.padStart(2, '0');

/**
 * "2026/12/4 8:30", "2026-12-04 08:30:15", "2026年12月4日" → ISO 8601 in China time:
 * a time becomes "2026-12-04T08:30:00+08:00" (timestamp columns and leave dates), a bare
 * date "2026-12-04" (leave dates only: a test's sampling time needs the hour). Anything
 * else is returned as written, for the parser to report.
 */
export function excelTimeToIso(cell: string, dateOnlyAllowed: boolean): string {
  const m = EXCEL_TIME.exec(cell);
  if (m === null) return cell;
  const [, y, mo, d, h, mi, s] = m as unknown as [string, string, string, string, string | undefined, string | undefined, string | undefined];
  const date = `${y}-${two(mo)}-${two(d)}`;
  if (h === undefined || mi === undefined) return dateOnlyAllowed ? date : cell;
  return `${date}T${two(h)}:${two(mi)}:${two(s ?? '0')}+08:00`;
}

/** The Chinese words a column takes (for error hints); [] for a free-text column. */
export function chineseWordsFor(column: string): string[] {
  return Object.values(VALUE_ALIASES[column as RosterCsvColumn] ?? {}).flatMap((words) => words.slice(0, 1));
}

export interface ChineseRosterDialect extends RosterCsvDialect {
  /** The header as written in the file for a column, when the file named it another way. */
  writtenAs(column: string): string | undefined;
}

/** Chinese headers, words and Excel dates; English files pass through unchanged. */
export function chineseRosterDialect(): ChineseRosterDialect {
  const written = new Map<string, string>();
  const words = new Map<string, ReadonlyMap<string, string>>();
  for (const [column, byWord] of Object.entries(VALUE_ALIASES)) {
    words.set(column, new Map(Object.entries(byWord ?? {}).flatMap(([canonical, zh]) => zh.map((w) => [w, canonical] as const))));
  }
  return {
    column(header) {
      const column = HEADER_INDEX.get(normalHeader(header));
      if (column !== undefined) written.set(column, header.trim());
      return column;
    },
    value(column, cell) {
      const word = words.get(column)?.get(cell.replace(/\s/g, ''));
      if (word !== undefined) return word;
      if (TIMESTAMP_COLUMNS.has(column)) return excelTimeToIso(cell, false);
      if (DATE_COLUMNS.has(column)) return excelTimeToIso(cell, true);
      return cell;
    },
    writtenAs: (column) => written.get(column),
  };
}

export type RosterEncoding = 'UTF-8' | 'GB18030';

/**
 * A roster file's text: UTF-8 (with or without a byte order mark) when the bytes are valid
 * UTF-8, else GB18030 (a superset of GBK and GB2312), what Excel on Chinese Windows writes
 * for plain "CSV". A Chinese file that is not UTF-8 is never valid UTF-8 by chance.
 */
export function decodeRosterBytes(bytes: Uint8Array): { text: string; encoding: RosterEncoding } {
  try {
    // The decoder drops a leading byte order mark.
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), encoding: 'UTF-8' };
  } catch {
    return { text: new TextDecoder('gb18030').decode(bytes), encoding: 'GB18030' };
  }
}
