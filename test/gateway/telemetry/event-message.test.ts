import { describe, expect, it } from 'vitest';
import type { LedgerEntry } from '../../../gateway/store/types.js';
import { eventMessage } from '../../../gateway/telemetry/event-message.js';
import { pseudonym } from '../../../gateway/telemetry/pseudonym.js';

const SECRET = Buffer.alloc(32, 7);
const ctx = { site: 'mine-a', checkpoint: 'gate-1' };

function row(overrides: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    seq: 42,
    id: '0b6f3c2e-8d1a-4c5e-9f7a-2b3c4d5e6f70',
    at: Date.UTC(2022, 11, 5, 8, 30, 15, 250),
    lane: 'lane-2',
    kind: 'decision',
    outcome: 'refuse',
    reasons: [
      { code: 'FEVER', zh: '体温过高', en: 'Temperature too high', next: { zh: '请到复测点', en: 'Go to the re-check point' } },
      { code: 'HEALTH_CODE_YELLOW', zh: '健康码黄码', en: 'Health code yellow' },
    ],
    alerts: [{ kind: 'fever', severity: 'critical', code: 'FEVER' }],
    credential: 'health-pass',
    subjectRef: pseudonym(SECRET, '110101199003071234'),
    subjectName: '张伟',
    category: 'contractor',
    temperature: 38.2,
    ...overrides,
  };
}

describe('eventMessage', () => {
  it('never contains the subject name, even a Chinese one', () => {
    const payload = eventMessage(row(), ctx);
    expect(payload).not.toContain('张伟');
    // Also not as JSON unicode escapes.
    expect(payload.toLowerCase()).not.toContain('\\u5f20');
    expect(payload).not.toContain('subjectName');
    expect(payload).not.toContain('110101199003071234');
  });

  it('carries every published field, reasons as codes only', () => {
    const r = row();
    expect(JSON.parse(eventMessage(r, ctx))).toEqual({
      v: 1,
      id: r.id,
      seq: 42,
      at: '2022-12-05T08:30:15.250Z',
      site: 'mine-a',
      checkpoint: 'gate-1',
      lane: 'lane-2',
      kind: 'decision',
      outcome: 'refuse',
      reasons: ['FEVER', 'HEALTH_CODE_YELLOW'],
      alerts: [{ kind: 'fever', severity: 'critical', code: 'FEVER' }],
      credential: 'health-pass',
      subject: r.subjectRef,
      category: 'contractor',
      temperature: 38.2,
    });
  });

  it('publishes null for an unknown subject and no temperature', () => {
    const msg = JSON.parse(eventMessage(row({ subjectRef: null, subjectName: null, category: null, temperature: null }), ctx)) as Record<string, unknown>;
    expect(msg).toMatchObject({ subject: null, category: null, temperature: null });
  });

  it('withholds a subject reference that is not a pseudonym rather than leak a raw id', () => {
    const payload = eventMessage(row({ subjectRef: '110101199003071234' }), ctx);
    expect(payload).not.toContain('110101199003071234');
    expect((JSON.parse(payload) as Record<string, unknown>).subject).toBeNull();
  });
});
