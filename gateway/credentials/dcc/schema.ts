// The HCERT payload schema, per schema version (`ver`), written from the EU DCC JSON
// schemas 1.0.0 … 1.3.3 (ehn-dcc-development/eu-dcc-schema). test/…/schema-agreement
// checks it against the official files. On top of every version the DCC specification
// requires exactly one of v / t / r with exactly one entry (the 1.3 schemas encode it).
import { z } from 'zod';
import { isDateTime, isFullDate } from './formats.js';

/** JSON Schema maxLength counts code points, not UTF-16 units. */
const maxLen = (n: number) => z.string().refine((s) => [...s].length <= n, { message: `longer than ${n} characters` });
/** JSON Schema patterns are unanchored unless they say ^…$; ajv compiles them with "u". */
const pattern = (re: string, max?: number) => {
  const rx = new RegExp(re, 'u');
  const base = max === undefined ? z.string() : maxLen(max);
  return base.refine((s) => rx.test(s), { message: `does not match ${re}` });
};
const date = () => z.string().refine(isFullDate, { message: 'not an RFC 3339 full-date' });
const dateTime = () => z.string().refine(isDateTime, { message: 'not an RFC 3339 date-time' });
/** JSON Schema "integer": any number with no fractional part (1.0 included). */
const posint = (max?: number) =>
  z.number().refine((n) => Number.isInteger(n) && n >= 1 && (max === undefined || n <= max), {
    message: max === undefined ? 'not a positive integer' : `not an integer in 1..${max}`,
  });

export type SchemaFamily = '1.0' | '1.1' | '1.2' | '1.3.0' | '1.3.2';

interface Rules {
  len: number;
  doseMax: number | undefined;
  dob: z.ZodType;
  testCentreRequired: boolean;
  testNameMax: number | undefined;
  testDr: boolean;
  nameNeedsFnt: boolean;
}

const RULES: Record<SchemaFamily, Rules> = {
  '1.0': { len: 50, doseMax: 9, dob: pattern('(19|20)\\d{2}-\\d{2}-\\d{2}').and(date()), testCentreRequired: true, testNameMax: undefined, testDr: true, nameNeedsFnt: true },
  '1.1': { len: 50, doseMax: 9, dob: pattern('^(19|20)\\d\\d(-\\d\\d){0,2}$'), testCentreRequired: true, testNameMax: undefined, testDr: true, nameNeedsFnt: true },
  '1.2': { len: 50, doseMax: 9, dob: pattern('^(19|20)\\d\\d(-\\d\\d){0,2}$'), testCentreRequired: true, testNameMax: undefined, testDr: false, nameNeedsFnt: true },
  '1.3.0': { len: 80, doseMax: undefined, dob: pattern('^((19|20)\\d\\d(-\\d\\d){0,2}){0,1}$'), testCentreRequired: false, testNameMax: 80, testDr: false, nameNeedsFnt: true },
  '1.3.2': { len: 80, doseMax: undefined, dob: pattern('^((19|20)\\d\\d(-\\d\\d){0,2}){0,1}$'), testCentreRequired: false, testNameMax: 80, testDr: false, nameNeedsFnt: false },
};

function build(r: Rules) {
  const standardised = pattern('^[A-Z<]*$', r.len);
  const name = z
    .looseObject({ fn: maxLen(r.len).optional(), fnt: standardised.optional(), gn: maxLen(r.len).optional(), gnt: standardised.optional() })
    .refine((n) => (r.nameNeedsFnt ? n.fnt !== undefined : n.fnt !== undefined || n.gnt !== undefined), {
      message: r.nameNeedsFnt ? 'fnt is required' : 'fnt or gnt is required',
    });
  const country = pattern('[A-Z]{1,10}');
  const common = { tg: z.string(), co: country, is: maxLen(r.len), ci: maxLen(r.len) };
  const vaccination = z.looseObject({ ...common, vp: z.string(), mp: z.string(), ma: z.string(), dn: posint(r.doseMax), sd: posint(r.doseMax), dt: date() });
  const test = z.looseObject({
    ...common,
    tt: z.string(),
    nm: (r.testNameMax === undefined ? z.string() : maxLen(r.testNameMax)).optional(),
    ma: z.string().optional(),
    sc: dateTime(),
    ...(r.testDr ? { dr: dateTime().optional() } : {}),
    tr: z.string(),
    tc: r.testCentreRequired ? maxLen(r.len) : maxLen(r.len).optional(),
  });
  const recovery = z.looseObject({ ...common, fr: date(), df: date(), du: date() });
  // Exactly one group with exactly one entry (spec; the 1.3 schemas say the same).
  return z
    .looseObject({
      ver: pattern('^\\d+.\\d+.\\d+$'),
      nam: name,
      dob: r.dob,
      v: z.array(vaccination).length(1).optional(),
      t: z.array(test).length(1).optional(),
      r: z.array(recovery).length(1).optional(),
    })
    .refine((p) => [p.v, p.t, p.r].filter((g) => g !== undefined).length === 1, { message: 'exactly one of v, t, r is required' });
}

const SCHEMAS = Object.fromEntries(Object.entries(RULES).map(([k, r]) => [k, build(r)])) as Record<SchemaFamily, ReturnType<typeof build>>;

/**
 * Which schema a `ver` selects: the newest published one of its major.minor (a later
 * patch of a known minor is read as compatible); a 1.x newer than 1.3 is read as 1.3.2+.
 * Null for anything that is not 1.x.y.
 */
export function schemaFamily(ver: unknown): SchemaFamily | null {
  if (typeof ver !== 'string') return null;
  const m = /^(\d{1,4})\.(\d{1,4})\.(\d{1,4})$/.exec(ver);
  if (m === null || Number(m[1]) !== 1) return null;
  const minor = Number(m[2]);
  const patch = Number(m[3]);
  if (minor === 0) return '1.0';
  if (minor === 1) return '1.1';
  if (minor === 2) return '1.2';
  if (minor === 3) return patch < 2 ? '1.3.0' : '1.3.2';
  return '1.3.2';
}

export type SchemaCheck = { ok: true } | { ok: false; family: SchemaFamily | null; problems: string[] };

/** Checks a JSON payload against the schema its `ver` selects. Problems name paths, never values. */
export function checkHcertSchema(payload: unknown): SchemaCheck {
  const ver = typeof payload === 'object' && payload !== null ? (payload as { ver?: unknown }).ver : undefined;
  const family = schemaFamily(ver);
  if (family === null) return { ok: false, family, problems: [ver === undefined ? 'ver: missing' : 'ver: not a supported schema version 1.x.y'] };
  const result = SCHEMAS[family].safeParse(payload);
  if (result.success) return { ok: true };
  const problems = result.error.issues.slice(0, 5).map((i) => `${i.path.length === 0 ? '(root)' : i.path.map(String).join('.')}: ${i.message}`);
  return { ok: false, family, problems };
}
