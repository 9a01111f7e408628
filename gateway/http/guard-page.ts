// The guard console page: kiosk-ui/guard.html with the catalogue's texts and the lane
// list put into data attributes (HTML-escaped; the script reads them from dataset, so
// no inline script is needed under the self-only CSP).
import {
  ALERT_CODE_TEXT,
  ALERT_KIND_TEXT,
  CATEGORY_TEXT,
  OVERRIDE_REASON_CODES,
  REASON_CODES,
  UI_TEXT,
  guardOutcomeText,
  overrideReason,
  reason,
} from '../policy/reasons.js';
import type { Text } from '../policy/types.js';
import { escapeHtml } from './kiosk-page.js';

export interface GuardTexts {
  ui: Record<string, Text>;
  /** Outcomes in the guard's words (放行 / 拒绝 / 转人工), not the kiosk's instructions. */
  outcomes: Record<string, Text>;
  /** What each alert kind is called. */
  alertKinds: Record<string, Text>;
  categories: Record<string, Text>;
  overrideReasons: { code: string; zh: string; en: string }[];
  /** Text of every code an alert can carry (reason, override, device and update codes), without parameters. */
  reasons: Record<string, Text>;
}

/** Everything the console shows that is not data: from the one catalogue in policy/reasons.ts. */
export function guardTexts(): GuardTexts {
  return {
    ui: { ...UI_TEXT },
    outcomes: { ...guardOutcomeText },
    alertKinds: { ...ALERT_KIND_TEXT },
    categories: { ...CATEGORY_TEXT },
    overrideReasons: OVERRIDE_REASON_CODES.map((c) => {
      const r = overrideReason(c);
      return { code: r.code, zh: r.zh, en: r.en };
    }),
    reasons: {
      ...Object.fromEntries(
        [...REASON_CODES.map((c) => reason(c)), ...OVERRIDE_REASON_CODES.map((c) => overrideReason(c))].map((r) => [r.code, { zh: r.zh, en: r.en }]),
      ),
      ...ALERT_CODE_TEXT,
    },
  };
}

/** privacy.personalDataDays and privacy.ledgerDays (docs/store.md "Retention"). */
export interface RetentionDays {
  personalDataDays: number;
  ledgerDays: number;
}

/** The console's line on what is kept how long (the outbox's 7 days: gateway/retention.ts). */
export function retentionNote(r: RetentionDays, healthChecks: 'on' | 'off' = 'on'): string {
  // Health checks off: the console names nothing by health (there is none to keep).
  const zh = healthChecks === 'on' ? '姓名、工号和健康信息' : '姓名和工号';
  const en = healthChecks === 'on' ? 'Names, staff ids and health claims' : 'Names and staff ids';
  return (
    `${zh}保留 ${r.personalDataDays} 天后删除，通行记录（结果、原因、通道、时间、化名）保留 ${r.ledgerDays} 天；已送达中心的消息保留 7 天 / ` +
    `${en} are erased after ${r.personalDataDays} days; passages (decision, reasons, lane, time, pseudonym) are kept ${r.ledgerDays} days; messages delivered to the office 7 days`
  );
}

/** `healthChecks` off (every lane access control only): the console names nothing by health. */
export function renderGuardPage(
  template: string,
  texts: GuardTexts,
  lanes: { id: string; name: string }[],
  healthChecks: 'on' | 'off' = 'on',
  retention: RetentionDays = { personalDataDays: 28, ledgerDays: 365 },
): string {
  const values: Record<string, string> = {
    retention: retentionNote(retention, healthChecks),
    healthChecks,
    texts: JSON.stringify(texts),
    lanes: JSON.stringify(lanes),
    title: `${texts.ui['consoleTitle']?.zh ?? ''} · ${texts.ui['consoleTitle']?.en ?? ''}`,
  };
  return template.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => {
    const value = values[name];
    return value === undefined ? whole : escapeHtml(value);
  });
}
