// The guard console says what the ledger keeps how long, from the gateway's privacy.* days.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { guardTexts, renderGuardPage } from '../../../gateway/http/guard-page.js';
import { ROOT } from '../../integration/helpers.js';

describe('the guard console\'s retention line', () => {
  const guard = readFileSync(path.join(ROOT, 'kiosk-ui/guard.html'), 'utf8');

  it('names the configured days for personal data and for the ledger, and the outbox\'s 7 days', () => {
    const page = renderGuardPage(guard, guardTexts(), [{ id: 'in-1', name: '入口 1' }], 'on', { personalDataDays: 14, ledgerDays: 180 });
    expect(page).toContain('姓名、工号和健康信息保留 14 天后删除');
    expect(page).toContain('保留 180 天');
    expect(page).toContain('Names, staff ids and health claims are erased after 14 days; passages (decision, reasons, lane, time, pseudonym) are kept 180 days; messages delivered to the office 7 days');
  });

  it('says nothing of health when health checks are off', () => {
    const page = renderGuardPage(guard, guardTexts(), [{ id: 'in-1', name: '入口 1' }], 'off', { personalDataDays: 28, ledgerDays: 365 });
    const note = /<p class="note" id="retention-note">([^<]*)<\/p>/.exec(page)?.[1] ?? '';
    expect(note).toContain('Names and staff ids are erased after 28 days');
    expect(note).not.toMatch(/health|健康/);
  });
});
