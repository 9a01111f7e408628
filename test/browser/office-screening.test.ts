// The daily screening page in a real browser, against the built central service whose
// database is filled by two built gateways (cp-1, cp-2) over the shared Mosquitto: the
// epidemic office's admin uploads a roster with mistakes and sees every problem listed,
// uploads the right one and sees both gateways confirm the push without a click; worker A
// scans at cp-1 only, worker B at cp-2 only (refused for a fever), C nowhere, and the page
// shows A and B screened and C not, live; the CSV export downloads with its byte order
// mark and the Chinese intact. A viewer sees the report without the import form.
// Screenshots at 1920×1080 and 1366×768.
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screeningDayOf } from '../../gateway/screening/report.js';
import { ADMIN, VIEWER, acceptanceRoster, startMine, type Mine } from '../central/mine-fixture.js';
import { Cleanup } from '../gateway/telemetry/helpers.js';
import { launchChromium, shot } from './browser.js';
import { OFFICER_PASSWORD, SCREEN_SIZES } from './office-helpers.js';

let cleanup: Cleanup;
let mine: Mine;
let browser: Browser;

async function signIn(page: Page, id: string): Promise<void> {
  await page.goto(`${mine.office.url}/sign-in`);
  await page.fill('#officer-id', id);
  await page.fill('#password', OFFICER_PASSWORD);
  await page.click('button[type="submit"]');
  await page.waitForURL(`${mine.office.url}/`);
}

async function screenshots(page: Page, name: string): Promise<void> {
  for (const size of SCREEN_SIZES) {
    await page.setViewportSize(size);
    await page.screenshot({ path: shot(`office-${name}-${size.width}x${size.height}.png`), fullPage: true });
  }
  await page.setViewportSize(SCREEN_SIZES[0]);
}

const text = async (page: Page, selector: string): Promise<string> => (await page.locator(selector).innerText()).replace(/\s+/g, ' ').trim();

async function upload(page: Page, csv: string): Promise<void> {
  await page.setInputFiles('#roster-file', { name: 'roster.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.click('#roster-import');
}

describe('the daily screening page in the browser', () => {
  beforeAll(async () => {
    cleanup = new Cleanup();
    mine = await startMine(cleanup, 'scr-ui');
    browser = await launchChromium();
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await cleanup.run();
  });

  it('lets the office import the roster, shows each gateway\'s confirmation, and shows workers screened at either checkpoint and the one not screened, live', async () => {
    const page = await browser.newPage({ viewport: SCREEN_SIZES[0], acceptDownloads: true });
    await signIn(page, ADMIN);
    await page.click('.nav a[data-page="screening"]');
    await page.waitForSelector('#no-roster');
    expect(await page.locator('#roster-form').count()).toBe(1);

    // A file with mistakes: refused as a whole, every problem listed with line and column.
    const good = acceptanceRoster();
    const bad = good.replace('W-B,王芳,employee,green', 'w-b,王芳,staff,green').replace('机电部', '机电部,多余');
    await upload(page, bad);
    await page.waitForSelector('#roster-problems');
    expect(await text(page, '#roster-result > p')).toContain('未导入 Not imported — ROSTER_INVALID');
    expect((await page.locator('#roster-problems tbody tr').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim())).toEqual([
      expect.stringMatching(/^3 staff_id expected 1-32 upper-case letters/),
      expect.stringMatching(/^3 category expected one of employee, family/),
      expect.stringMatching(/^4 expected 10 cells as in the header, found 11/),
    ]);
    expect(await page.locator('#no-roster').count()).toBe(1);
    await screenshots(page, '6-screening-import-refused');

    // The right file: stored, pushed, and both gateways' answers appear without a click.
    await upload(page, `\uFEFF${good}\r\n`);
    await page.waitForSelector('#roster-result.import-ok');
    expect(await text(page, '#roster-counts')).toContain('在册 3 人，停用 0 人');
    await page.waitForSelector('#roster-push tr[data-checkpoint="cp-1"].applied', { timeout: 20_000 });
    await page.waitForSelector('#roster-push tr[data-checkpoint="cp-2"].applied', { timeout: 20_000 });
    expect(await page.locator('tr.not-screened').count()).toBe(3);

    // A scans at cp-1 only, B at cp-2 only (a confirmed fever: refused, and screened), C nowhere.
    await mine.scan('cp-1', 'W-A', [36.5]);
    await mine.scan('cp-2', 'W-B', [38.6, 38.7]);
    await page.waitForSelector('tr.screened[data-staff-id="W-B"]', { timeout: 20_000 });
    await page.waitForSelector('tr.screened[data-staff-id="W-A"]', { timeout: 20_000 });
    expect(await text(page, 'tr[data-staff-id="W-A"]')).toMatch(/^张伟 W-A 职工 employee 已筛查 screened .* cp-1 · in-1 通行 admit$/);
    expect(await text(page, 'tr[data-staff-id="W-B"]')).toMatch(/^王芳 W-B 职工 employee 已筛查 screened .* cp-2 · in-1 拒绝 refused$/);
    expect(await text(page, 'tr[data-staff-id="W-C"]')).toBe('李娜 W-C 外委 contractor 未筛查 not screened — — —');
    expect(await page.locator('tr.not-screened').count()).toBe(1);
    expect(await text(page, '#screening-totals')).toBe('3 应筛查 workers 2 已筛查 screened 1 未筛查 not screened 1 通行 admit 1 拒绝 refused 0 转人工 referred 首次筛查结果 first screenings');
    expect(await page.locator('.screening-group h3').allInnerTexts()).toEqual([
      expect.stringMatching(/^采煤一队 · 甲班 1 \/ 1/),
      expect.stringMatching(/^采煤一队 · 乙班 1 \/ 1/),
      '机电部 0 / 1 未筛查 1 not screened',
    ]);
    await screenshots(page, '7-screening');

    // The export: UTF-8 with a byte order mark, Chinese intact, named with the date.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#screening-export')]);
    const day = screeningDayOf(Date.now()).date;
    expect(download.suggestedFilename()).toBe(`screening-${mine.site}-${day}.csv`);
    const bytes = await readFile(await download.path());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = bytes.subarray(3).toString('utf8').split('\r\n');
    expect(lines[0]).toBe('日期 date,部门 department,班组 team,状态 status,工号 staff_id,姓名 name,类别 category,首次筛查 first_screening,检查站 checkpoint,通道 lane,结果 outcome');
    expect(lines.slice(1, 4).map((l) => l.split(',').slice(1, 6).join(','))).toEqual([
      '采煤一队,甲班,已筛查 screened,W-A,张伟',
      '采煤一队,乙班,已筛查 screened,W-B,王芳',
      '机电部,,未筛查 not screened,W-C,李娜',
    ]);
    await page.close();
  }, 120_000);

  it('shows a viewer the report without the import form, and refuses a viewer\'s import', async () => {
    const page = await browser.newPage({ viewport: SCREEN_SIZES[1] });
    await signIn(page, VIEWER);
    await page.click('.nav a[data-page="screening"]');
    await page.waitForSelector('tr[data-staff-id="W-C"]');
    expect(await page.locator('#roster-form, #roster-file').count()).toBe(0);
    expect(await page.locator('#roster-push tbody tr').count()).toBe(2);
    // The page's own fetch (same origin, with the session's CSRF token): refused for the role.
    const csrf = (await page.locator('meta[name="csrf-token"]').getAttribute('content')) ?? '';
    const refused = await page.evaluate(async ({ csv, csrf }) => {
      const res = await fetch('/api/roster', { method: 'POST', headers: { 'content-type': 'text/csv', 'x-csrf-token': csrf }, body: csv });
      return { status: res.status, body: (await res.json()) as { error: { code: string } } };
    }, { csv: acceptanceRoster(), csrf });
    expect(refused).toEqual({ status: 403, body: { error: expect.objectContaining({ code: 'ROLE_REQUIRED' }) } });
    await page.close();
  }, 60_000);
});
