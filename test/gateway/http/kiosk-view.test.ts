import { describe, expect, it } from 'vitest';
import type { LaneSnapshot } from '../../../gateway/lane/types.js';
import { REASON_CODES, reason, reasonKind } from '../../../gateway/policy/reasons.js';
import {
  LINK_DOWN_VIEW,
  REMEASURE_CODES,
  SELF_CODES,
  WAIT_CODES,
  announcementKey,
  formatTemperature,
  isKioskSnapshot,
  msUntilChange,
  pickVoice,
  referHeadline,
  spokenText,
  viewFor,
  type KioskSnapshot,
} from '../../../kiosk-ui/kiosk-view.js';
import { decision, T0, TestLane } from './helpers.js';

const RESET = 5000;

// The browser keeps its own copy of the snapshot types; this fails to compile if the
// gateway's LaneSnapshot drifts away from what the kiosk understands.
function asKiosk(s: LaneSnapshot): KioskSnapshot {
  return s;
}

function snap(change: Partial<LaneSnapshot>): KioskSnapshot {
  return asKiosk({ ...new TestLane('north').snapshot(), ...change });
}

describe('kiosk view', () => {
  it('asks for the pass while the lane is idle', () => {
    expect(viewFor(snap({}), T0, RESET)).toEqual({ kind: 'waiting', zone: null });
  });

  it('shows the prompt of a measuring lane in both languages', () => {
    const prompt = { code: 'TEMP_REQUIRED', zh: '请测量体温', en: 'Please measure your temperature' };
    expect(viewFor(snap({ state: 'measuring', prompt }), T0, RESET)).toEqual({
      kind: 'measuring',
      prompt: { zh: '请测量体温', en: 'Please measure your temperature' },
    });
  });

  it('shows an admission with the masked name and the temperature to one decimal', () => {
    const v = viewFor(snap({ state: 'showing', last: decision('admit', T0, { temperature: 36.54 }) }), T0 + 100, RESET);
    expect(v).toEqual({ kind: 'admit', headline: 'admit', reasons: [], maskedName: '张*', temperature: '36.5 °C', until: T0 + RESET });
  });

  it('shows a refusal with its reasons and what to do next', () => {
    const reasons = [
      { code: 'FEVER', zh: '体温异常', en: 'Temperature too high', next: { zh: '请到发热门诊', en: 'Go to the fever clinic' } },
    ];
    const v = viewFor(snap({ state: 'showing', last: decision('refuse', T0, { reasons }) }), T0, RESET);
    expect(v).toMatchObject({ kind: 'refuse', reasons });
  });

  it('shows a referral', () => {
    expect(viewFor(snap({ state: 'showing', last: decision('refer', T0) }), T0, RESET).kind).toBe('refer');
  });

  it('returns to waiting once the reset time has passed since the decision', () => {
    const s = snap({ state: 'showing', last: decision('refuse', T0) });
    const shown = viewFor(s, T0 + RESET - 1, RESET);
    expect(shown.kind).toBe('refuse');
    expect(msUntilChange(shown, T0 + RESET - 1)).toBe(1);
    expect(viewFor(s, T0 + RESET, RESET)).toEqual({ kind: 'waiting', zone: null });
  });

  it('keeps the decision up for the reset time even when the lane is already idle again', () => {
    const s = snap({ state: 'idle', last: decision('admit', T0) });
    expect(viewFor(s, T0 + 1000, RESET).kind).toBe('admit');
  });

  it('lets the next person being measured take the screen at once', () => {
    const s = snap({ state: 'measuring', last: decision('admit', T0) });
    expect(viewFor(s, T0 + 10, RESET).kind).toBe('measuring');
  });

  it('shows out of service with the devices that are down', () => {
    const s = new TestLane('north').snapshot();
    s.state = 'out-of-service';
    s.devices.relay = { type: 'sim', state: 'fault', since: T0 };
    s.devices.scanner = { type: 'sim', state: 'disconnected', since: T0 };
    expect(viewFor(asKiosk(s), T0, RESET)).toEqual({ kind: 'out-of-service', down: ['scanner', 'relay'], link: false });
  });

  it('formats temperatures to one decimal and leaves missing ones out', () => {
    expect(formatTemperature(36.5)).toBe('36.5 °C');
    expect(formatTemperature(37)).toBe('37.0 °C');
    expect(formatTemperature(36.96)).toBe('37.0 °C');
    expect(formatTemperature(null)).toBeNull();
  });

  it('accepts a real lane snapshot off the wire and rejects junk', () => {
    const wire = JSON.parse(JSON.stringify(new TestLane('north').snapshot())) as unknown;
    expect(isKioskSnapshot(wire)).toBe(true);
    expect(isKioskSnapshot({ lane: 'north' })).toBe(false);
    expect(isKioskSnapshot(null)).toBe(false);
    expect(isKioskSnapshot({ ...(wire as object), state: 'dancing' })).toBe(false);
  });

  it("shows how full the entry lane's zone is while waiting, and checks that part off the wire too", () => {
    const zone = { id: 'canteen', count: 40, limit: 40, full: true, text: { zh: '已满员（40人，限40人），请稍候', en: 'Full (40 of 40), please wait' } };
    expect(viewFor(snap({ zone }), T0, RESET)).toEqual({ kind: 'waiting', zone: { text: zone.text, full: true } });
    const wire = JSON.parse(JSON.stringify(snap({ zone }))) as unknown;
    expect(isKioskSnapshot(wire)).toBe(true);
    expect(isKioskSnapshot({ ...(wire as object), zone: { full: 'yes', text: zone.text } })).toBe(false);
    expect(isKioskSnapshot({ ...(wire as object), zone: { full: true, text: null } })).toBe(false);
  });

  it('asks to measure again in a view of its own, unlike the first "please measure"', () => {
    const first = viewFor(snap({ state: 'measuring', prompt: reason('TEMP_NEEDED') }), T0, RESET);
    expect(first.kind).toBe('measuring');
    const again = viewFor(snap({ state: 'measuring', prompt: reason('TEMP_RECHECK', { celsius: 37.4 }) }), T0, RESET);
    expect(again).toEqual({ kind: 'remeasure', prompt: { zh: '体温37.4℃，请再测一次', en: '37.4 °C: please measure again' } });
    expect(viewFor(snap({ state: 'measuring', prompt: reason('VEHICLE_DRIVER_NEEDED') }), T0, RESET).kind).toBe('measuring');
  });

  it('knows every re-measure code of the catalogue (a new one must be added to REMEASURE_CODES)', () => {
    const measureAgain = REASON_CODES.filter((c) => reasonKind(c) === 'measure' && c !== 'TEMP_NEEDED');
    expect([...REMEASURE_CODES].sort()).toEqual([...measureAgain].sort());
    for (const c of [...WAIT_CODES, ...SELF_CODES]) expect(reasonKind(c as (typeof REASON_CODES)[number]), c).toBe('refer');
  });

  it('heads a referral "please wait" when the canteen is full, and "wait for staff" only when a reason needs them', () => {
    expect(referHeadline([reason('ZONE_FULL', { count: 3, limit: 3 })])).toBe('wait');
    expect(referHeadline([reason('TEMP_TIMEOUT')])).toBe('self');
    expect(referHeadline([reason('ZONE_FULL'), reason('RELAY_FAILED')])).toBe('staff');
    expect(referHeadline([reason('CREDENTIAL_UNKNOWN')])).toBe('staff');
    expect(referHeadline([])).toBe('staff');
    const v = viewFor(snap({ state: 'showing', last: decision('refer', T0, { reasons: [reason('ZONE_FULL')] }) }), T0, RESET);
    expect(v).toMatchObject({ kind: 'refer', headline: 'wait' });
  });

  it('says the headline and the first reason aloud, without bracketed details, and nothing while waiting', () => {
    const refuse = viewFor(
      snap({ state: 'showing', last: decision('refuse', T0, { reasons: [reason('TEMP_FEVER', { celsius: 37.6 }), reason('HEALTH_CODE_YELLOW')] }) }),
      T0,
      RESET,
    );
    expect(spokenText(refuse, '禁止通行')).toBe('禁止通行，体温偏高');
    const admit = viewFor(snap({ state: 'showing', last: decision('admit', T0) }), T0, RESET);
    expect(spokenText(admit, '请通行')).toBe('请通行');
    const again = viewFor(snap({ state: 'measuring', prompt: reason('TEMP_RECHECK', { celsius: 37.4 }) }), T0, RESET);
    expect(spokenText(again, '')).toBe('体温37.4度，请再测一次');
    expect(spokenText(LINK_DOWN_VIEW, '暂停使用')).toBe('暂停使用');
    const full = viewFor(snap({ state: 'showing', last: decision('refer', T0, { reasons: [reason('ZONE_FULL', { count: 3, limit: 3 })] }) }), T0, RESET);
    expect(spokenText(full, '请稍候')).toBe('请稍候，已满员');
    expect(spokenText(viewFor(snap({}), T0, RESET), '请出示通行码')).toBeNull();
  });

  it('announces each decision, prompt and out-of-service once: equal keys for the same one', () => {
    const s = snap({ state: 'showing', last: decision('admit', T0) });
    const k = announcementKey(viewFor(s, T0, RESET), s);
    expect(announcementKey(viewFor(s, T0 + 10, RESET), s)).toBe(k);
    const next = snap({ state: 'showing', last: decision('admit', T0 + 1) });
    expect(announcementKey(viewFor(next, T0 + 1, RESET), next)).not.toBe(k);
    expect(announcementKey(viewFor(snap({}), T0, RESET), snap({}))).toBeNull();
    expect(announcementKey(LINK_DOWN_VIEW, null)).toBe('o:link');
  });

  it('speaks with a mainland Chinese voice first, any Mandarin one next, and never with another language', () => {
    const v = (lang: string) => ({ lang, name: lang });
    expect(pickVoice([v('en-US'), v('zh-TW'), v('zh-CN')])?.lang).toBe('zh-CN');
    expect(pickVoice([v('en-US'), v('cmn-latn-pinyin'), v('cmn'), v('zh_TW')])?.lang).toBe('cmn');
    expect(pickVoice([v('hak'), v('cmn-latn-pinyin')])?.lang).toBe('cmn-latn-pinyin');
    expect(pickVoice([v('zh_TW')])?.lang).toBe('zh_TW');
    expect(pickVoice([v('en-US'), v('yue'), v('zh-HK'), v('hak')])).toBeNull();
    expect(pickVoice([])).toBeNull();
  });
});
