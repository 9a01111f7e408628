// The kiosk and the guard console with health checks off (issue 14 item 4): no temperature
// and no health wording, on the open lane view, on the kiosk page and on the console page.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { kioskSnapshot } from '../../../gateway/http/access.js';
import { guardTexts, renderGuardPage } from '../../../gateway/http/guard-page.js';
import { buildHealthReport } from '../../../gateway/http/health.js';
import { renderKioskPage } from '../../../gateway/http/kiosk-page.js';
import type { LaneSnapshot } from '../../../gateway/lane/types.js';
import { reason } from '../../../gateway/policy/reasons.js';
import { ACCESS_ONLY_PROMPT, viewFor } from '../../../kiosk-ui/kiosk-view.js';
import { decision, T0 } from './helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const up = { type: 'sim', state: 'connected' as const, since: T0 };
const snapshot = (over: Partial<LaneSnapshot> = {}): LaneSnapshot => ({
  lane: 'in-1',
  name: '入口 1',
  state: 'showing',
  since: T0,
  prompt: null,
  last: decision('refuse', T0, { temperature: 38.2, reasons: [reason('TEMP_FEVER', { celsius: 38.2 }), reason('VISITOR_NO_APPROVAL')] }),
  devices: { scanner: up, thermometer: up, relay: up },
  ...over,
});

describe('the open lane view with health checks off', () => {
  it('carries the mode and no temperature or health reason, whatever the lane held', () => {
    const view = kioskSnapshot(snapshot({ healthChecks: 'off', prompt: reason('TEMP_NEEDED') }), T0 + 1000, 5000);
    expect(view.healthChecks).toBe('off');
    expect(view.prompt).toBeNull();
    expect(view.last?.temperature).toBeNull();
    expect(view.last?.reasons.map((r) => r.code)).toEqual(['VISITOR_NO_APPROVAL']);
    expect(JSON.stringify(view)).not.toMatch(/体温|TEMP_|38\.2|[Tt]emperature too/);
  });

  it('is as before with health checks on', () => {
    const view = kioskSnapshot(snapshot(), T0 + 1000, 5000);
    expect(view).not.toHaveProperty('healthChecks');
    expect(view.last?.temperature).toBe(38.2);
  });

  it('makes the kiosk screen show no temperature and a neutral prompt', () => {
    const admitted = snapshot({ healthChecks: 'off', last: decision('admit', T0, { temperature: 36.5 }) });
    expect(viewFor(admitted, T0 + 1000, 5000)).toMatchObject({ kind: 'admit', temperature: null });
    expect(viewFor({ ...admitted, state: 'measuring' }, T0 + 1000, 5000)).toEqual({ kind: 'measuring', prompt: ACCESS_ONLY_PROMPT });
    expect(viewFor({ ...snapshot(), state: 'measuring' }, T0, 5000)).toMatchObject({ prompt: { zh: '请测量体温' } });
  });
});

describe('/healthz with health checks off', () => {
  it('is not degraded by a thermometer the lane does not need', () => {
    const down = { ...up, state: 'disconnected' as const };
    const report = (s: LaneSnapshot) => buildHealthReport({ version: '1', startedAt: T0, site: 's', checkpoint: 'c', lanes: [s], mqtt: null, outboxDepth: 0, now: T0 });
    const lane = snapshot({ state: 'idle', devices: { scanner: up, thermometer: down, relay: up } });
    expect(report({ ...lane, healthChecks: 'off' }).status).toBe('ok');
    expect(report(lane).status).toBe('degraded');
    expect(report({ ...lane, healthChecks: 'off', devices: { scanner: up, thermometer: up, relay: down } }).status).toBe('degraded');
  });
});

describe('the pages with health checks off', () => {
  const kiosk = readFileSync(path.join(ROOT, 'kiosk-ui/index.html'), 'utf8');
  const values = { lane: 'in-1', laneName: '入口 1', resetMs: 6000, serverNow: T0 };

  it('renders a kiosk page with no thermometer prompt and no mask reminder', () => {
    const off = renderKioskPage(kiosk, { ...values, healthChecks: 'off' });
    expect(off).toContain('data-health-checks="off"');
    expect(off).not.toMatch(/体温|测温|口罩|temperature|mask/i);
    expect(off).toContain('请出示通行码');
    const on = renderKioskPage(kiosk, values);
    expect(on).toContain('data-health-checks="on"');
    expect(on).toContain('请测量体温');
    expect(on).toContain('请佩戴口罩');
  });

  it('marks the console page so it names the pass without health wording', () => {
    const guard = readFileSync(path.join(ROOT, 'kiosk-ui/guard.html'), 'utf8');
    expect(renderGuardPage(guard, guardTexts(), [{ id: 'in-1', name: '入口 1' }], 'off')).toContain('data-health-checks="off"');
    expect(renderGuardPage(guard, guardTexts(), [{ id: 'in-1', name: '入口 1' }])).toContain('data-health-checks="on"');
  });
});
