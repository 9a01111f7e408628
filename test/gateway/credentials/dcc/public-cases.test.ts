// The 144 official test cases (dgc-testdata, see ../shared/dcc/README.md): every verdict
// right, every refusal at one of the case's accepted stages, no invalid one called valid.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildDccTrust, verifyDcc, type DccResult } from '../../../../gateway/credentials/dcc/index.js';

const DIR = fileURLToPath(new URL('../../../../../shared/dcc/', import.meta.url));
const FILE = `${DIR}public-cases.jsonl`;

interface PublicCase {
  id: string;
  prefix: string;
  certificate: string | null;
  kid: string;
  at: string;
  expect: {
    verdict: 'valid' | 'invalid';
    stage: string | null;
    stages: string[];
    disputed?: { stages: string[]; verdict_without: 'valid' | 'invalid'; stages_without: string[] };
  };
}

/** The outcomes a case accepts: its label, and when the label is disputed the alternative it names. */
function accepts(c: PublicCase, r: DccResult): boolean {
  const e = c.expect;
  const verdicts = new Set([e.verdict, ...(e.disputed ? [e.disputed.verdict_without] : [])]);
  if (r.valid) return verdicts.has('valid');
  const stages = new Set([...e.stages, ...(e.disputed ? [...e.disputed.stages, ...e.disputed.stages_without] : [])]);
  return verdicts.has('invalid') ? stages.has(r.stage) : e.disputed !== undefined && e.disputed.stages.includes(r.stage);
}

const present = existsSync(FILE);
if (!present) console.warn(`skipping the DCC public cases: ${FILE} is absent (the conformance data lives beside the repo in ../shared/dcc)`);

describe.skipIf(!present)('the official DCC test cases', () => {
  const cases: PublicCase[] = present ? readFileSync(FILE, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as PublicCase) : [];

  it('holds the 144 published cases', () => {
    expect(cases).toHaveLength(144);
  });

  it('gives every case an accepted verdict and stage, and calls no invalid certificate valid', () => {
    const wrong: string[] = [];
    for (const c of cases) {
      const trust = buildDccTrust(c.certificate === null ? [] : [{ kid: c.kid, certificate: c.certificate }]);
      const r = verifyDcc(c.prefix, trust, Date.parse(c.at));
      if (!accepts(c, r)) wrong.push(`${c.id}: got ${r.valid ? 'valid' : `${r.stage} ${r.code} (${r.message})`}, expected ${c.expect.verdict} ${c.expect.stages.join('|')}`);
    }
    expect(wrong).toEqual([]);
  });

  it('never calls valid a case whose undisputed label is invalid', () => {
    const calledValid = cases.filter((c) => c.expect.verdict === 'invalid' && c.expect.disputed === undefined)
      .filter((c) => verifyDcc(c.prefix, buildDccTrust(c.certificate === null ? [] : [{ kid: c.kid, certificate: c.certificate }]), Date.parse(c.at)).valid)
      .map((c) => c.id);
    expect(calledValid).toEqual([]);
  });
});
