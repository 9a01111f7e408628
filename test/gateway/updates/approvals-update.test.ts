// The approvals update with the optional fields of visitor control: allowed checkpoints,
// a use limit and the office's id. Older updates without them still apply.
import { describe, expect, it } from 'vitest';
import { prepareUpdateData } from '../../../gateway/updates/envelope.js';
import { codeOf, envelope } from './helpers.js';

const base = { subjectId: 'V-1', approver: '刘主任', hostDepartment: '机电科', validFrom: '2022-12-05', validUntil: '2022-12-07' };

describe('the approvals update', () => {
  it('accepts approvals with an id, allowed checkpoints and a use limit', async () => {
    const entry = { ...base, id: 'A-1', checkpoints: ['gate-1', 'office'], maxUses: 3 };
    const prepared = await prepareUpdateData(envelope('approvals', 1, { entries: [entry] }));
    expect(prepared).toEqual({ kind: 'approvals', entries: [entry] });
  });

  it('still accepts approvals without them, as older central offices send', async () => {
    const prepared = await prepareUpdateData(envelope('approvals', 1, { entries: [base] }));
    expect(prepared).toEqual({ kind: 'approvals', entries: [base] });
  });

  it('refuses a use limit below one and an empty checkpoint list with UPDATE_SCHEMA_INVALID, naming no subject id', async () => {
    const zero = await codeOf(prepareUpdateData(envelope('approvals', 1, { entries: [{ ...base, maxUses: 0 }] })));
    expect(zero).toMatch(/^UPDATE_SCHEMA_INVALID: .*maxUses/);
    expect(zero).not.toContain('V-1');
    const empty = await codeOf(prepareUpdateData(envelope('approvals', 1, { entries: [{ ...base, checkpoints: [] }] })));
    expect(empty).toMatch(/^UPDATE_SCHEMA_INVALID: .*checkpoints/);
  });
});
