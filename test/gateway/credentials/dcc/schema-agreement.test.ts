// The project's HCERT schema (zod, per `ver`) agrees with the official EU DCC JSON schemas
// 1.0.0 … 1.3.3 in ../shared/dcc/schemas, checked with ajv over generated payloads that mix
// valid and broken values. Before 1.3 the official files leave "exactly one of v/t/r with
// one entry" to the specification; ours enforces it for every version, so there the
// expected verdict is the official one AND that rule.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkHcertSchema } from '../../../../gateway/credentials/dcc/schema.js';
import { sampleHcert } from '../../../fixtures/dcc-issuer.js';

const DIR = fileURLToPath(new URL('../../../../../shared/dcc/schemas/', import.meta.url));
const VERSIONS = ['1.0.0', '1.0.1', '1.1.0', '1.2.0', '1.2.1', '1.3.0', '1.3.1', '1.3.2', '1.3.3'];
const present = existsSync(DIR);
// ajv-formats is CommonJS: under NodeNext its default export is the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
if (!present) console.warn(`skipping the DCC schema agreement: ${DIR} is absent (the official schemas live beside the repo in ../shared/dcc)`);

const x = (n: number) => 'X'.repeat(n);
const emoji = (n: number) => '\u{1F600}'.repeat(n); // n code points, 2n UTF-16 units
const text = (valid: string[], invalid: unknown[]) => fc.oneof({ arbitrary: fc.constantFrom(...valid), weight: 6 }, { arbitrary: fc.constantFrom(...invalid), weight: 1 });
const lengths = [x(50), x(51), x(80), x(81), emoji(50), emoji(51), emoji(80), emoji(81), 7, null];
const date = text(['2021-06-01', '2020-02-29'], ['2021-02-29', '2021-13-01', '2021-06-1', '2021-06-01T00:00:00Z', '', 20210601]);
const dateTime = text(
  ['2021-06-01T10:00:00Z', '2021-06-01T10:00:00.5+02:00'],
  ['2021-06-01T10:00:00', '2021-06-01 10:00:00+02:00', '2021-06-01t10:00:00z', '2021-06-01T10:00:00+0200', '2021-06-01T10:00:00+02', '2021-06-01T23:59:60Z', '2021-06-01T23:59:60+01:00', '2021-06-01T24:00:00Z', '2021-06-01', '2021-06-31T10:00:00Z', 5],
);
const country = text(['AT', 'DE'], ['at', 'x1', 'ABCDEFGHIJKL', '', 1]);
const limited = text(['Ministry of Health', 'URN:UVCI:01:AT:1#2'], lengths);
const dose = fc.oneof({ arbitrary: fc.constantFrom(1, 2, 3), weight: 6 }, { arbitrary: fc.constantFrom(0, 9, 10, 1.5, 2.0, -1, '1'), weight: 2 });
const standardised = text(['MUSTER', 'MUSTER<FRAU', ''], ['Muster', 'MÜSTER', x(50), x(51), x(80), x(81), 3]);

/** An object with the given fields, now and then missing one or two, sometimes with an extra one. */
function entry(fields: Record<string, fc.Arbitrary<unknown>>) {
  const keys = Object.keys(fields);
  return fc
    .tuple(fc.record(fields), fc.oneof({ arbitrary: fc.constant([]), weight: 4 }, { arbitrary: fc.array(fc.constantFrom(...keys), { maxLength: 2 }), weight: 1 }), fc.boolean())
    .map(([value, drop, extra]) => {
      const out: Record<string, unknown> = { ...value };
      for (const k of drop) delete out[k];
      if (extra) out.xx = 'extra';
      return out;
    });
}

const common = { tg: text(['840539006'], [840539006]), co: country, is: limited, ci: limited };
const vaccination = entry({ ...common, vp: fc.constant('1119349007'), mp: fc.constant('EU/1/20/1528'), ma: fc.constant('ORG-100030215'), dn: dose, sd: dose, dt: date });
const test = entry({ ...common, tt: text(['LP6464-4'], [1]), nm: text(['PCR'], lengths), ma: fc.constant('1232'), sc: dateTime, dr: dateTime, tr: fc.constant('260415000'), tc: text(['Centre'], lengths) });
const recovery = entry({ ...common, fr: date, df: date, du: date });
const group = (e: fc.Arbitrary<unknown>) => fc.oneof({ arbitrary: fc.array(e, { minLength: 1, maxLength: 1 }), weight: 6 }, { arbitrary: fc.array(e, { maxLength: 2 }), weight: 1 }, { arbitrary: fc.constant('not an array'), weight: 1 });

function payload(ver: string) {
  return fc
    .record({
      nam: entry({ fn: text(['Muster'], lengths), fnt: standardised, gn: text(['Erika'], lengths), gnt: standardised }),
      // 1.0 wants a full date; partial and empty ones came with 1.1 and 1.3.
      dob: ver < '1.1'
        ? text(['1964-08-12', '2000-02-29'], ['1964-08', '1964', '', '1899-01-01', '1964-13-01', '1964-02-30', 'x1964-08-12', '64-08-12', 1964])
        : text(['1964-08-12', '1964-08', '1964', ''], ['1899-01-01', '1964-13-01', '1964-02-30', 'x1964-08-12', '64-08-12', 1964]),
      groups: fc.oneof({ arbitrary: fc.constantFrom(['v'], ['t'], ['r']), weight: 8 }, { arbitrary: fc.subarray(['v', 't', 'r']), weight: 2 }),
      v: group(vaccination),
      t: group(test),
      r: group(recovery),
      drop: fc.constantFrom(null, null, null, null, null, null, 'ver', 'nam', 'dob'),
    })
    .map(({ groups, drop, ...p }) => {
      const out: Record<string, unknown> = { ver, nam: p.nam, dob: p.dob };
      for (const g of groups) out[g] = p[g as 'v' | 't' | 'r'];
      if (drop !== null) delete out[drop];
      return out;
    });
}

function oneGroupOneEntry(p: Record<string, unknown>): boolean {
  const groups = ['v', 't', 'r'].filter((g) => g in p);
  return groups.length === 1 && Array.isArray(p[groups[0] ?? '']) && (p[groups[0] ?? ''] as unknown[]).length === 1;
}

describe.skipIf(!present)('the HCERT schema agrees with the official JSON schemas', () => {
  // One ajv per file: the versions share an $id. strict: false for their "valueset-uri" keyword.
  const compile = (v: string) => addFormats(new Ajv2020({ strict: false })).compile(JSON.parse(readFileSync(`${DIR}${v}.json`, 'utf8')) as object);
  // Compiled only when the folder is there: vitest still runs a skipped describe's body to collect it.
  const official = present ? Object.fromEntries(VERSIONS.map((v) => [v, compile(v)])) : {};

  it.each(VERSIONS)('accepts the sample payloads under %s as the official schema does', (ver) => {
    for (const type of ['vaccination', 'test', 'recovery'] as const) {
      const p = { ...sampleHcert(type), ver };
      expect(official[ver]?.(p)).toBe(true);
      expect(checkHcertSchema(p)).toEqual({ ok: true });
    }
  });

  it.each(VERSIONS)('gives the official verdict on generated payloads under %s', (ver) => {
    const validate = official[ver];
    if (validate === undefined) throw new Error(`no schema ${ver}`);
    const strictGroups = ver < '1.3';
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(payload(ver), (p) => {
        const expected = validate(p) && (!strictGroups || oneGroupOneEntry(p));
        const ours = checkHcertSchema(p);
        if (ours.ok) accepted++;
        else refused++;
        if (ours.ok !== expected) throw new Error(`disagree (official ${expected}, ours ${ours.ok ? 'ok' : JSON.stringify(ours.problems)}) on ${JSON.stringify(p)}`);
      }),
      { numRuns: 1500 },
    );
    // The generator must exercise both sides, or agreement means nothing.
    expect(accepted).toBeGreaterThan(30);
    expect(refused).toBeGreaterThan(30);
  });
});
