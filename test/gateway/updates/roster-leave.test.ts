// The roster update may carry a worker's reported trip, as the roster CSV does.
import { describe, expect, it } from 'vitest';
import { UpdateError } from '../../../gateway/updates/errors.js';
import { prepareUpdateData } from '../../../gateway/updates/envelope.js';
import { envelope } from './helpers.js';

const worker = { staffId: 'E-1', name: '张伟', category: 'employee', health: { healthCode: 'green' }, active: true };

describe('the roster update with leave', () => {
  it('accepts an entry with a trip and passes it on to the store', async () => {
    const leave = { destination: '西安', out: '2022-12-01', back: '2022-12-04' };
    const prepared = await prepareUpdateData(envelope('roster', 1, { entries: [{ ...worker, leave }] }));
    expect(prepared).toMatchObject({ kind: 'roster', entries: [{ staffId: 'E-1', leave }] });
  });

  it('refuses a return before the day out with UPDATE_SCHEMA_INVALID', async () => {
    const bad = prepareUpdateData(envelope('roster', 1, { entries: [{ ...worker, leave: { destination: '西安', out: '2022-12-04', back: '2022-12-01' } }] }));
    await expect(bad).rejects.toBeInstanceOf(UpdateError);
    await expect(bad).rejects.toMatchObject({ code: 'UPDATE_SCHEMA_INVALID' });
  });
});
