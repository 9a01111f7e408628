import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HEALTH_REASON_CODES } from '../../../gateway/policy/reasons.js';
import type { LedgerEntry } from '../../../gateway/store/types.js';
import { eventMessage, isoTime, toEventMessage } from '../../../gateway/telemetry/event-message.js';
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

describe('eventMessage, written out', () => {
  const text = fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), fc.constantFrom('lane-1', 'admit', 'health-pass'));
  const code = fc.oneof(fc.constantFrom(...HEALTH_REASON_CODES, 'WATCHLIST_BLOCKED', 'TEMP_OK'), text);
  const reason = code.map((c) => ({ code: c, zh: '中', en: 'en' }));
  const alert = fc.record({ kind: fc.constantFrom('fever', 'health-code', 'risk-area', 'watchlist', 'device-fault'), severity: fc.constantFrom('info', 'warning', 'critical'), code });
  const at = fc.oneof(fc.integer({ min: 0, max: 253_402_300_799_999 }), fc.integer({ min: -8_640_000_000_000_000, max: 8_640_000_000_000_000 }), fc.double({ min: 0, max: 2e12, noNaN: true }));
  const rows = fc.record({
    seq: fc.nat(),
    id: text,
    at,
    lane: text,
    kind: fc.constantFrom('decision', 'timeout', 'fault', 'override'),
    outcome: fc.constantFrom('admit', 'refuse', 'refer'),
    reasons: fc.array(reason, { maxLength: 4 }),
    alerts: fc.array(alert, { maxLength: 3 }),
    credential: fc.constantFrom('health-pass', 'staff-badge', 'dcc', 'unknown'),
    subjectRef: fc.oneof(fc.constant(null), text, fc.constant(pseudonym(SECRET, '110101199003071234'))),
    subjectName: fc.option(text),
    category: fc.option(fc.constantFrom('employee', 'contractor', 'visitor')),
    temperature: fc.option(fc.oneof(fc.double(), fc.constant(36.5))),
  }) as fc.Arbitrary<LedgerEntry>;
  const context = fc.record({ site: text, checkpoint: text, healthChecks: fc.constantFrom(undefined, 'on' as const, 'off' as const) });

  it('is byte for byte the JSON of the event object, with the time as toISOString writes it', () => {
    fc.assert(
      fc.property(rows, context, (r, c) => {
        const ctx = { site: c.site, checkpoint: c.checkpoint, ...(c.healthChecks === undefined ? {} : { healthChecks: () => c.healthChecks as 'on' | 'off' }) };
        const payload = eventMessage(r, ctx);
        expect(payload).toBe(JSON.stringify(toEventMessage(r, ctx)));
        expect(JSON.parse(payload).at).toBe(new Date(r.at).toISOString());
      }),
      { numRuns: 2000 },
    );
  });

  it('leaves out a member a hand-built row lacks, as JSON.stringify does', () => {
    const r = { ...row(), category: undefined } as unknown as LedgerEntry;
    const payload = eventMessage(r, ctx);
    expect(payload).toBe(JSON.stringify(toEventMessage(r, ctx)));
    expect(payload).not.toContain('category');
  });

  it('writes times as toISOString does, the same second after another and across seconds, and throws as it does for an invalid time', () => {
    const base = Date.UTC(2026, 11, 5, 23, 59, 59, 0);
    for (const t of [base, base + 7, base + 42, base + 999, base + 1000, base + 1001, base - 1, 0, 5, 253_402_300_799_999, 253_402_300_800_000, -1, 1.5]) {
      expect(isoTime(t)).toBe(new Date(t).toISOString());
    }
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
    expect(() => isoTime(8.64e15 + 1)).toThrow(RangeError);
  });
});
