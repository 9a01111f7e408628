// The visitors and contractors page in Debian's Chromium against the built central
// service (PostgreSQL) whose database two built gateways (gate-1, gate-2) fill through the
// real Mosquitto. An admin's form with a window ending before it starts is refused naming
// the field; an approval for gate-1 only and a site-wide crew are registered through the
// forms, and the gateways' confirmations appear without a click (the answers' "updates"
// notice); the admin revokes the approval and gate-1 confirms its removal. A viewer sees
// the lists without forms or buttons and is refused a create (403).
// Screenshots at 1920×1080 and 1366×768.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cleanup } from '../gateway/telemetry/helpers.js';
import { visitorsSite, type VisitorsSite } from '../central/visitors-fixture.js';
import { launchChromium, shot } from './browser.js';
import { OFFICER_PASSWORD, SCREEN_SIZES } from './office-helpers.js';

let cleanup: Cleanup;
let s: VisitorsSite;
let browser: Browser;

async function signIn(page: Page, id: string): Promise<void> {
  await page.goto(`${s.office.url}/sign-in`);
  await page.fill('#officer-id', id);
  await page.fill('#password', OFFICER_PASSWORD);
  await page.click('button[type="submit"]');
  await page.waitForURL(`${s.office.url}/`);
}

async function screenshots(page: Page, name: string): Promise<void> {
  for (const size of SCREEN_SIZES) {
    await page.setViewportSize(size);
    await page.screenshot({ path: shot(`office-${name}-${size.width}x${size.height}.png`), fullPage: true });
  }
  await page.setViewportSize(SCREEN_SIZES[0]);
}

const chips = async (page: Page, row: string): Promise<string> =>
  (await page.locator(`${row} .chip`).evaluateAll((els) => els.map((e) => `${e.getAttribute('data-checkpoint')}:${e.className.replace('chip ', '')}`))).join(' ');

describe('visitors and contractors page in the browser', () => {
  beforeAll(async () => {
    cleanup = new Cleanup();
    s = await visitorsSite(cleanup, [
      ['admin.chen', '陈管理', 'admin'],
      ['zhao.min', '赵敏', 'viewer'],
    ]);
    await s.startGateway('gate-1');
    await s.startGateway('gate-2');
    browser = await launchChromium();
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await cleanup.run();
  }, 30_000);

  it('lets an admin register an approval and a crew, shows the gateways confirming them live, and revoke', async () => {
    const page = await browser.newPage({ viewport: SCREEN_SIZES[0] });
    page.on('dialog', (d) => void d.accept());
    await signIn(page, 'admin.chen');
    await page.click('.nav a[data-page="visitors"]');
    await page.waitForSelector('#ap-checkpoints input[value="gate-2"]');
    expect(await page.locator('#page-title').innerText()).toContain('访客与外包');

    // A window that ends before it starts: refused, the field named, nothing listed.
    await page.fill('#ap-subject', 'V-BR-1001');
    await page.fill('#ap-name', '刘访客');
    await page.fill('#ap-approver', '李主任');
    await page.fill('#ap-host', '安全科');
    const from = await page.inputValue('#ap-from');
    await page.fill('#ap-until', '2020-01-01T08:00');
    await page.click('#ap-submit');
    await page.waitForSelector('#ap-error:not([hidden])');
    expect(await page.innerText('#ap-error')).toMatch(/BAD_BODY: body field 'validUntil': expected validUntil to be after validFrom/);
    expect(await page.locator('#no-approvals').count()).toBe(1);

    // The approval for gate-1 only.
    const until = new Date(Date.parse(from) + 8 * 3_600_000);
    await page.fill('#ap-until', new Date(until.getTime() - until.getTimezoneOffset() * 60_000).toISOString().slice(0, 16));
    await page.fill('#ap-max', '2');
    await page.check('#ap-checkpoints input[value="gate-1"]');
    await page.click('#ap-submit');
    await page.waitForSelector('#ap-result:has-text("gate-1")');
    expect(await page.isHidden('#ap-error')).toBe(true);
    expect(await page.inputValue('#ap-subject')).toBe('');
    const approval = '#approvals tbody tr';
    await expect.poll(() => chips(page, approval), { timeout: 20_000 }).toBe('gate-1:confirmed');
    const row = (await page.innerText(approval)).replace(/\s+/g, ' ');
    expect(row).toMatch(/^有效 active V-\*+01 刘\*\* 李主任 安全科 .* 2 vis-[0-9a-f]+ gate-1 gate-1 已确认 confirmed admin\.chen .* 撤销 Revoke$/);

    // A site-wide crew with one stop.
    await page.fill('#cr-responsible', '赵工');
    await page.fill('#cr-members', 'C-BR-2001\nC-BR-2002\nC-BR-2003');
    await page.click('#cr-add-stop');
    await page.fill('#cr-stops .stop .region', '山西省太原市');
    await page.fill('#cr-stops .stop .from', '2026-11-28');
    await page.fill('#cr-stops .stop .to', '2026-12-02');
    await page.click('#cr-submit');
    await page.waitForSelector('#cr-result:has-text("gate-2")');
    await expect.poll(() => chips(page, '#crews tbody tr'), { timeout: 20_000 }).toBe('gate-1:confirmed gate-2:confirmed');
    expect((await page.innerText('#crews tbody tr')).replace(/\s+/g, ' ')).toMatch(/赵工 3 .*山西省太原市 2026-11-28 – 2026-12-02 .*全部检查站 every checkpoint/);
    await screenshots(page, 'visitors');

    // Revoke the approval: gate-1 gets the set without it and confirms the removal.
    await page.click(`${approval} button.revoke`);
    await page.waitForSelector(`${approval}.revoked`);
    await expect.poll(() => chips(page, approval), { timeout: 20_000 }).toBe('gate-1:removed');
    expect(await page.locator(`${approval} button.revoke`).count()).toBe(0);
    expect((await page.innerText(approval)).replace(/\s+/g, ' ')).toContain('已撤销 revoked admin.chen');
    await screenshots(page, 'visitors-revoked');
    await page.close();
  }, 120_000);

  it('shows a viewer the lists without forms or buttons, and refuses a viewer\'s create', async () => {
    const page = await browser.newPage({ viewport: SCREEN_SIZES[1] });
    await signIn(page, 'zhao.min');
    await page.click('.nav a[data-page="visitors"]');
    await page.waitForSelector('#crews tbody tr');
    expect(await page.locator('#approval-form, #crew-form, button.revoke').count()).toBe(0);
    expect(await page.locator('#admin-only').count()).toBe(1);
    // The page's own fetch (same origin, session cookie, CSRF token): refused for the role.
    const csrf = (await page.getAttribute('meta[name="csrf-token"]', 'content')) ?? '';
    const refused = await page.evaluate(async ([site, csrf]) => {
      const res = await fetch('/api/visitors/crews', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify({ site }) });
      return { status: res.status, body: (await res.json()) as { error: { code: string } } };
    }, [s.site, csrf] as const);
    expect(refused).toEqual({ status: 403, body: { error: expect.objectContaining({ code: 'ROLE_REQUIRED' }) } });
    await page.screenshot({ path: shot(`office-visitors-viewer-${SCREEN_SIZES[1].width}x${SCREEN_SIZES[1].height}.png`), fullPage: true });
    await page.close();
  }, 60_000);
});
