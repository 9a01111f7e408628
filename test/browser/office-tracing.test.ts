// The contact-tracing and audit pages in a real browser against the built central service
// on PostgreSQL, with the site's pseudonym key in its config and passages written through
// the real writer: a duty leader cannot trace without a reason, traces a person in the
// roster (contacts per passage, by name) and one who is not (by pseudonym), exports the
// CSV, and finds each query and the export on the audit page with its row counts; a viewer
// reads the log but cannot trace or erase anything; an admin also sees the officer audit.
// Screenshots at 1920×1080 and 1366×768.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb } from '../../central/db/adapter.js';
import { Cleanup, SHARED_BROKER, tempDir } from '../gateway/telemetry/helpers.js';
import { testDatabase, writeServiceConfig } from '../central/helpers.js';
import { startServiceProcess, type ServiceProcess } from '../central/process.js';
import { seedTracing, TRACE_SECRET_HEX, TRACE_SITE } from '../central/web/seed-tracing.js';
import { launchChromium, shot } from './browser.js';
import { addOfficer, OFFICER_PASSWORD, SCREEN_SIZES } from './office-helpers.js';

const MIN = 60_000;
// Three days ago, on the minute: the passages of the fixture happen around it.
const T = Math.floor((Date.now() - 3 * 86_400_000) / MIN) * MIN;
const REASON = '发热病例 E1001 的密接排查';
const ZONE = 'Asia/Shanghai';

let cleanup: Cleanup;
let office: ServiceProcess;
let browser: Browser;

/** What a datetime-local input holds for `ms` in China Standard Time. */
const cst = (ms: number): string => new Date(ms + 8 * 3600_000).toISOString().slice(0, 16);

async function signIn(page: Page, id: string): Promise<void> {
  await page.goto(`${office.url}/sign-in`);
  await page.fill('#officer-id', id);
  await page.fill('#password', OFFICER_PASSWORD);
  await page.click('button[type="submit"]');
  await page.waitForURL(`${office.url}/`);
}

async function screenshots(page: Page, name: string): Promise<void> {
  for (const size of SCREEN_SIZES) {
    await page.setViewportSize(size);
    await page.screenshot({ path: shot(`office-${name}-${size.width}x${size.height}.png`), fullPage: true });
  }
  await page.setViewportSize(SCREEN_SIZES[0]);
}

const texts = async (page: Page, selector: string): Promise<string[]> => (await page.locator(selector).allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());

async function trace(page: Page, staffId: string, minutes: number, reason: string): Promise<void> {
  await page.fill('#t-staff', staffId);
  await page.fill('#t-from', cst(T - 60 * MIN));
  await page.fill('#t-to', cst(T + 6 * 60 * MIN));
  await page.fill('#t-minutes', String(minutes));
  await page.fill('#t-reason', reason);
}

describe('contact tracing and audit pages in the browser', () => {
  beforeAll(async () => {
    cleanup = new Cleanup();
    const dataDir = await tempDir(cleanup, 'office-tracing');
    const databaseUrl = await testDatabase(cleanup);
    const secretFile = path.join(dataDir, 'mine-a.secret');
    await writeFile(secretFile, `${TRACE_SECRET_HEX}\n`, { mode: 0o600 });
    const config = await writeServiceConfig({ dataDir, databaseUrl, mqttUrl: SHARED_BROKER, clientId: 'office-tracing', prefix: 'test-office-tracing', sites: { [TRACE_SITE]: secretFile } });
    expect(await addOfficer(config, 'wang.li', '王丽', 'duty-leader')).toBe(0);
    expect(await addOfficer(config, 'zhao.min', '赵敏', 'viewer')).toBe(0);
    expect(await addOfficer(config, 'chen.admin', '陈刚', 'admin')).toBe(0);
    office = await startServiceProcess(cleanup, config);
    const db = await openDb({ url: databaseUrl, dataDir });
    cleanup.add(() => db.close());
    await seedTracing(db, T);
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await cleanup.run();
  });

  it('lets a duty leader trace only with a reason, shows contacts per passage, exports the CSV, and lists every query on the audit page', async () => {
    const page = await browser.newPage({ viewport: SCREEN_SIZES[0], timezoneId: ZONE, acceptDownloads: true });
    await signIn(page, 'wang.li');
    await page.click('.nav a[data-page="tracing"]');
    await page.waitForSelector('#t-form');
    await trace(page, 'E1001', 5, '');
    expect(await page.isDisabled('#t-query')).toBe(true);
    expect(await page.isDisabled('#t-export')).toBe(true);
    await page.fill('#t-reason', '密接');
    expect(await page.isDisabled('#t-query')).toBe(true);
    await page.fill('#t-reason', REASON);
    expect(await page.isEnabled('#t-query')).toBe(true);

    await page.click('#t-query');
    await page.waitForSelector('#trace-result');
    expect((await texts(page, '#trace-person'))[0]).toBe('王伟 E1001 · 采掘一队 · 在办公室花名册中 in the office roster');
    expect((await texts(page, '#trace-summary'))[0]).toMatch(/^2 次通行，2 条接触（2 人） 2 passages, 2 contacts \(2 people\) · 已记录为第 \d+ 号查询 recorded as query #\d+$/);
    expect(await texts(page, 'section.passage h3')).toEqual([
      expect.stringMatching(/^1\. .* · gate-1 · in-1 · admit 1 人 1 people$/),
      expect.stringMatching(/^2\. .* · gate-2 · in-1 · admit 1 人 1 people$/),
    ]);
    expect(await texts(page, 'section.passage[data-checkpoint="gate-1"] tbody tr')).toEqual([expect.stringMatching(/^李娜 E1002 机电科 .* \+3 min$/)]);
    // A roster name shaped like a spreadsheet formula is plain text here.
    expect(await texts(page, 'section.passage[data-checkpoint="gate-2"] tbody tr')).toEqual([expect.stringMatching(/^=HYPERLINK\("http:\/\/evil\.example","x"\) E1005 \+运输队 .* \+1 min$/)]);
    await screenshots(page, 'tracing-1-result');

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#t-export')]);
    expect(download.suggestedFilename()).toMatch(/^trace-\d+\.csv$/);
    const csv = await readFile((await download.path())!, 'utf8');
    expect(csv.startsWith('\uFEFFtraced_site,traced_staff_id,passage_time,checkpoint,lane,kind,outcome,contact_name,')).toBe(true);
    expect(csv.split('\r\n').filter((l) => l !== '')).toHaveLength(3);
    expect(csv).toContain(`"'=HYPERLINK(""http://evil.example"",""x"")",E1005,'+运输队,`);
    await page.waitForSelector('#t-exported:has-text("the export is recorded")');

    // Someone not in the roster: traced by the pseudonym the site key gives.
    await trace(page, 'E2001', 15, '访客 E2001 发热，排查密接');
    await page.click('#t-query');
    await page.waitForSelector('#trace-person.not-in-roster');
    expect((await texts(page, '#trace-person'))[0]).toContain('E2001 · 不在办公室花名册中 not in the office roster');
    expect(await texts(page, 'section.passage tbody tr')).toEqual([expect.stringMatching(/^王伟 E1001 采掘一队 .* \+10 min$/), expect.stringMatching(/^李娜 E1002 机电科 .* \+13 min$/)]);
    await screenshots(page, 'tracing-2-not-in-roster');

    await page.click('.nav a[data-page="audit"]');
    await page.waitForSelector('#trace-log');
    expect(await texts(page, '#trace-log tbody tr')).toEqual([
      expect.stringMatching(/^#\d+ .* 王丽 wang\.li · 值班负责人 duty leader · 127\.0\.0\.1 访客 E2001 发热，排查密接 mine-a \/ E2001 .* ±15 min 1 次通行 · 2 条接触 · 2 人/),
      expect.stringMatching(new RegExp(`^#\\d+ .* 王丽 wang\\.li .* ${REASON} 导出 export mine-a / E1001 .* ±5 min 2 次通行 · 2 条接触 · 2 人`)),
      expect.stringMatching(new RegExp(`^#\\d+ .* 王丽 wang\\.li .* ${REASON} mine-a / E1001 .* ±5 min 2 次通行 · 2 条接触 · 2 人`)),
    ]);
    expect(await page.locator('#officer-audit').count()).toBe(0);
    await screenshots(page, 'audit-1-duty-leader');
    await page.close();
  }, 90_000);

  it('shows a viewer the audit log but no way to trace or to erase an entry', async () => {
    const page = await browser.newPage({ viewport: SCREEN_SIZES[1], timezoneId: ZONE });
    await signIn(page, 'zhao.min');
    await page.click('.nav a[data-page="tracing"]');
    await page.waitForSelector('#t-role');
    expect(await page.isDisabled('#t-staff')).toBe(true);
    expect(await page.isDisabled('#t-reason')).toBe(true);
    expect(await page.isDisabled('#t-query')).toBe(true);
    await screenshots(page, 'tracing-3-viewer');
    // Asked as the page would (same origin, the session's CSRF token): refused for the role.
    const headers = { origin: office.url, 'x-csrf-token': (await page.getAttribute('meta[name="csrf-token"]', 'content')) ?? '' };
    const refused = await page.request.post(`${office.url}/api/tracing`, { headers, data: { site: TRACE_SITE, staffId: 'E1001', from: T - 60 * MIN, to: T, minutes: 5, reason: REASON } });
    expect(refused.status()).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('ROLE_REQUIRED');

    await page.click('.nav a[data-page="audit"]');
    await page.waitForSelector('#trace-log');
    expect(await page.locator('#trace-log tbody tr').count()).toBe(3);
    expect(await page.locator('#trace-log button').count()).toBe(0);
    expect(await page.locator('#officer-audit').count()).toBe(0);
    for (const method of ['DELETE', 'PUT', 'PATCH'] as const) {
      const res = await page.request.fetch(`${office.url}/api/audit/tracing`, { method, headers });
      expect(res.status(), method).toBe(404);
    }
    await page.close();
  }, 60_000);

  it('shows an admin the officer audit below the tracing log', async () => {
    const page = await browser.newPage({ viewport: SCREEN_SIZES[0], timezoneId: ZONE });
    await signIn(page, 'chen.admin');
    await page.click('.nav a[data-page="audit"]');
    await page.waitForSelector('#officer-audit');
    expect(await page.locator('#trace-log tbody tr').count()).toBe(3);
    const actions = await texts(page, '#officer-audit tbody tr');
    expect(actions[0]).toMatch(/chen\.admin sign-in 127\.0\.0\.1/);
    expect(actions.some((a) => /wang\.li officer-added cli:/.test(a))).toBe(true);
    await screenshots(page, 'audit-2-admin');
    await page.close();
  }, 60_000);
});
