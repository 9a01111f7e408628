// Locating and rendering the kiosk's files. The server runs from gateway/http (vitest)
// or dist/gateway/http (production); both sit under the repository root, which is
// the first ancestor holding kiosk-ui/index.html. The compiled browser script lives
// in <root>/dist/kiosk-ui (built by `tsc -p kiosk-ui/tsconfig.json`).
import { existsSync } from 'node:fs';
import { dirname, join, parse } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LaneHandle } from '../lane/types.js';
import { UI_TEXT, outcomeText, reason } from '../policy/reasons.js';
import type { Text } from '../policy/types.js';
import { KIOSK_TEXT } from './kiosk-texts.js';

export interface KioskPaths {
  root: string;
  /** index.html and kiosk.css */
  sourceDir: string;
  /** compiled kiosk-ui/*.js */
  scriptDir: string;
}

export function findKioskPaths(fromUrl: string = import.meta.url): KioskPaths {
  let dir = dirname(fileURLToPath(fromUrl));
  const top = parse(dir).root;
  for (;;) {
    if (existsSync(join(dir, 'kiosk-ui', 'index.html'))) {
      return { root: dir, sourceDir: join(dir, 'kiosk-ui'), scriptDir: join(dir, 'dist', 'kiosk-ui') };
    }
    if (dir === top) throw new Error(`kiosk-ui/index.html not found above ${fileURLToPath(fromUrl)}`);
    dir = dirname(dir);
  }
}

export function escapeHtml(s: string): string {
  return s
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

export interface KioskPageValues {
  lane: string;
  laneName: string;
  resetMs: number;
  serverNow: number;
  /** off: the page carries no temperature or health wording (access control only). Default on. */
  healthChecks?: 'on' | 'off';
}

/**
 * The kiosk's fixed texts, from the catalogue (policy/reasons.ts) and its kiosk wording
 * (kiosk-texts.ts): {{nameZh}} / {{nameEn}}. With health checks off, no health wording:
 * no mask reminder, and "please wait" where the thermometer prompt would be.
 */
export function kioskTexts(healthChecks: 'on' | 'off' = 'on'): Record<string, string> {
  const health = healthChecks === 'on';
  const pairs: Record<string, Text> = {
    title: UI_TEXT.kioskTitle,
    waiting: reason('LANE_WAITING'),
    reminder: health ? UI_TEXT.kioskReminder : { zh: '', en: '' },
    measure: health ? reason('TEMP_NEEDED') : KIOSK_TEXT.waitHeadline,
    admit: outcomeText.admit,
    refuse: outcomeText.refuse,
    refer: outcomeText.refer,
    waitHead: KIOSK_TEXT.waitHeadline,
    selfHead: KIOSK_TEXT.selfHeadline,
    more: KIOSK_TEXT.more,
    oos: UI_TEXT.kioskOutOfService,
    oosHint: UI_TEXT.kioskDeviceFault,
    linkDown: KIOSK_TEXT.linkDown,
    reconnecting: UI_TEXT.reconnecting,
    noScript: UI_TEXT.enableJavaScript,
  };
  const out: Record<string, string> = {};
  for (const [k, t] of Object.entries(pairs)) {
    out[`${k}Zh`] = t.zh;
    out[`${k}En`] = t.en;
  }
  return out;
}

/** Fills the {{name}} placeholders of index.html; every value is HTML-escaped. */
export function renderKioskPage(template: string, v: KioskPageValues): string {
  const values: Record<string, string> = {
    ...kioskTexts(v.healthChecks),
    healthChecks: v.healthChecks ?? 'on',
    lane: v.lane,
    laneName: v.laneName,
    resetMs: String(v.resetMs),
    serverNow: String(v.serverNow),
  };
  return template.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => {
    const value = values[name];
    return value === undefined ? whole : escapeHtml(value);
  });
}

/** The page for a lane that does not exist: says so, and links to the lanes that do. */
export function unknownLanePage(requested: string, lanes: readonly LaneHandle[]): string {
  const items = lanes
    .map((l) => {
      const id = escapeHtml(l.id);
      return `<li><a href="/?lane=${encodeURIComponent(l.id)}">${id}</a> ${escapeHtml(l.snapshot().name)}</li>`;
    })
    .join('\n');
  const what = requested === '' ? '' : ` “${escapeHtml(requested)}”`;
  return `<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>未知通道 · Unknown lane</title>
<link rel="stylesheet" href="/fonts/noto-sans-sc.css">
<link rel="stylesheet" href="/kiosk.css"></head>
<body class="plain">
<main>
<h1 lang="zh-CN">未知通道${what}</h1>
<p lang="en">Unknown lane${what}. Choose one of the lanes below.</p>
<ul>
${items || '<li lang="zh-CN">未配置通道 <span lang="en">(no lanes configured)</span></li>'}
</ul>
</main>
</body>
</html>
`;
}
