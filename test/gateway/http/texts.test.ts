// One catalogue (gateway/policy/reasons.ts) for every text a person or guard reads:
// no code and no screen label may lack its Chinese or its English.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { guardTexts } from '../../../gateway/http/guard-page.js';
import { kioskTexts } from '../../../gateway/http/kiosk-page.js';
import { DEVICE_NAMES } from '../../../kiosk-ui/kiosk-view.js';
import { ALERT_KINDS, DEVICE_ALERT_CODES } from '../../../gateway/telemetry/alerts.js';
import { UPDATE_ERROR_CODES } from '../../../gateway/updates/errors.js';
import {
  ALERT_KIND_TEXT,
  CATEGORY_TEXT,
  guardOutcomeText,
  OVERRIDE_REASON_CODES,
  REASON_CODES,
  UI_TEXT,
  isOverrideReasonCode,
  outcomeText,
  overrideReason,
  reason,
} from '../../../gateway/policy/reasons.js';

const CJK = /[\u4e00-\u9fff]/;
const root = fileURLToPath(new URL('../../../', import.meta.url));

function bothTexts(zh: string, en: string): void {
  expect(zh).toMatch(CJK);
  expect(en.trim()).not.toBe('');
  expect(en).not.toMatch(CJK);
}

describe('message catalogue', () => {
  it.each([...REASON_CODES])('reason code %s has zh-CN and English text', (code) => {
    const r = reason(code);
    bothTexts(r.zh, r.en);
    if (r.next) bothTexts(r.next.zh, r.next.en);
  });

  it.each([...OVERRIDE_REASON_CODES])('override reason %s has zh-CN and English text', (code) => {
    expect(isOverrideReasonCode(code)).toBe(true);
    const r = overrideReason(code);
    expect(r.code).toBe(code);
    bothTexts(r.zh, r.en);
  });

  it.each(Object.keys(UI_TEXT))('screen label %s has zh-CN and English text', (key) => {
    const t = UI_TEXT[key as keyof typeof UI_TEXT];
    bothTexts(t.zh, t.en);
  });

  it('has texts for every outcome and category the console shows', () => {
    for (const t of [...Object.values(outcomeText), ...Object.values(guardOutcomeText), ...Object.values(CATEGORY_TEXT)]) bothTexts(t.zh, t.en);
  });

  it("names outcomes on the console in the guard's words, not with the kiosk's instructions", () => {
    expect(guardTexts().outcomes).toEqual({
      admit: { zh: '放行', en: 'Admitted' },
      refuse: { zh: '拒绝', en: 'Refused' },
      refer: { zh: '转人工', en: 'Referred' },
    });
  });

  it('names every alert kind the gateway raises in both languages', () => {
    const kinds = guardTexts().alertKinds;
    for (const kind of [...ALERT_KINDS, 'soft-rule', 'anti-passback']) {
      const t = kinds[kind];
      expect(t, kind).toBeDefined();
      bothTexts(t!.zh, t!.en);
    }
    expect(Object.keys(kinds).sort()).toEqual(Object.keys(ALERT_KIND_TEXT).sort());
  });

  it('has a text in both languages for every code an alert can carry', () => {
    const texts = guardTexts().reasons;
    const codes = [
      ...REASON_CODES,
      ...OVERRIDE_REASON_CODES,
      ...DEVICE_ALERT_CODES,
      ...UPDATE_ERROR_CODES,
      'PASSAGE_WITHOUT_ADMISSION',
      'ZONE_COUNT_CORRECTED',
    ];
    expect(DEVICE_ALERT_CODES).toContain('DEVICE_UP_THERMOMETER');
    for (const code of codes) {
      const t = texts[code];
      expect(t, code).toBeDefined();
      bothTexts(t!.zh, t!.en);
    }
  });

  it('knows every label the console page and script ask for', () => {
    const html = readFileSync(`${root}kiosk-ui/guard.html`, 'utf8');
    const script = readFileSync(`${root}kiosk-ui/guard.ts`, 'utf8');
    const keys = new Set([
      ...[...html.matchAll(/data-t="(\w+)"/g)].map((m) => m[1]),
      ...[...script.matchAll(/textOf\(texts, '(\w+)'\)/g)].map((m) => m[1]),
      ...[...script.matchAll(/'(\w+)' : '(\w+)'/g)].flatMap((m) => [m[1], m[2]]),
      ...[...script.matchAll(/: '(lane\w+|device\w+|link\w+|antiPassback\w+)'/g)].map((m) => m[1]),
    ]);
    expect(keys.size).toBeGreaterThan(30);
    const missing = [...keys].filter((k) => k !== undefined && !(k in UI_TEXT));
    expect(missing).toEqual([]);
  });

  it('fills every fixed text of the kiosk page from the catalogue, in both languages', () => {
    const html = readFileSync(`${root}kiosk-ui/index.html`, 'utf8');
    const texts = kioskTexts();
    const used = [...html.matchAll(/\{\{(\w+(?:Zh|En))\}\}/g)].map((m) => m[1] ?? '');
    expect(used.length).toBeGreaterThan(15);
    for (const key of used) expect(texts[key], key).toBeDefined();
    for (const [key, value] of Object.entries(texts)) {
      if (key.endsWith('Zh')) expect(value, key).toMatch(CJK);
      else expect(value, key).not.toMatch(CJK);
    }
  });

  it("names the kiosk's devices as the catalogue does", () => {
    for (const d of ['scanner', 'thermometer', 'relay'] as const) expect(DEVICE_NAMES[d].zh).toBe(UI_TEXT[d].zh);
  });

  it('hands the console the whole catalogue it needs', () => {
    const t = guardTexts();
    expect(Object.keys(t.ui).sort()).toEqual(Object.keys(UI_TEXT).sort());
    expect(t.overrideReasons.map((r) => r.code)).toEqual([...OVERRIDE_REASON_CODES]);
    expect(Object.keys(t.outcomes).sort()).toEqual(['admit', 'refer', 'refuse']);
    for (const code of [...REASON_CODES, ...OVERRIDE_REASON_CODES]) expect(t.reasons[code], code).toBeDefined();
  });
});
