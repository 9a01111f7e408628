// Every failure code the verifier can return is documented in docs/dcc.md with its stage.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DCC_FAILURES, DCC_STAGES } from '../../../../gateway/credentials/dcc/index.js';

const doc = readFileSync(fileURLToPath(new URL('../../../../docs/dcc.md', import.meta.url)), 'utf8');

describe('DCC failure codes', () => {
  it('each belong to a pipeline stage', () => {
    for (const stage of Object.values(DCC_FAILURES)) expect(DCC_STAGES).toContain(stage);
  });

  it('are each documented in docs/dcc.md in a row naming their stage', () => {
    const missing = Object.entries(DCC_FAILURES).filter(([code, stage]) => !doc.includes(`| \`${stage}\` | \`${code}\` |`));
    expect(missing).toEqual([]);
  });
});
