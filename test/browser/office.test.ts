// The office console in a real browser against the built central service on PostgreSQL:
// an officer added with `central officers add`, the page sending a browser without a
// session to sign-in, a wrong password, the signed-in shell with the officer's role and
// the nav of the pages to come, and sign-out. Screenshots at 1920×1080 and 1366×768.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cleanup, freePort, tempDir } from '../gateway/telemetry/helpers.js';
import { testDatabase, writeServiceConfig } from '../central/helpers.js';
import { startServiceProcess, type ServiceProcess } from '../central/process.js';
import { ROOT } from '../integration/helpers.js';
import { launchChromium, shot } from './browser.js';
import { addOfficer, OFFICER_PASSWORD, SCREEN_SIZES } from './office-helpers.js';

const execFileP = promisify(execFile);
let cleanup: Cleanup;
let office: ServiceProcess;
let config: string;
let browser: Browser;

async function signIn(page: Page, id: string, password: string): Promise<void> {
  await page.fill('#officer-id', id);
  await page.fill('#password', password);
  await page.click('button[type="submit"]');
}

describe('office console in the browser', () => {
  beforeAll(async () => {
    cleanup = new Cleanup();
    const dataDir = await tempDir(cleanup, 'office-browser');
    config = await writeServiceConfig({
      dataDir,
      databaseUrl: await testDatabase(cleanup),
      mqttUrl: `mqtt://127.0.0.1:${await freePort()}`, // no broker needed for the console
      clientId: 'office-browser',
      prefix: 'test-office-browser',
    });
    expect(await addOfficer(config, 'wang.li', '王丽', 'duty-leader')).toBe(0);
    office = await startServiceProcess(cleanup, config);
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await cleanup.run();
  });

  it('signs in, shows the shell with the role and the nav, and signs out', async () => {
    const page = await browser.newPage({ viewport: SCREEN_SIZES[0] });
    // Without a session the shell answers 401 with a page that leads to sign-in.
    await page.goto(`${office.url}/`);
    await page.waitForURL(`${office.url}/sign-in`);
    await page.screenshot({ path: shot('office-1-sign-in-1920x1080.png') });
    await page.setViewportSize(SCREEN_SIZES[1]);
    await page.screenshot({ path: shot('office-1-sign-in-1366x768.png') });

    await signIn(page, 'wang.li', 'not the password');
    await expect.poll(() => page.textContent('#sign-in-error')).toContain('账号或密码错误');

    await signIn(page, 'wang.li', OFFICER_PASSWORD);
    await page.waitForURL(`${office.url}/`);
    await page.waitForSelector('.nav a[aria-current="page"]');
    expect(await page.textContent('#who')).toContain('王丽');
    expect(await page.textContent('#role')).toBe('值班负责人 · Duty leader');
    const nav = (await page.locator('.nav a').allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim());
    expect(nav).toEqual(['检查站 Checkpoints', '告警 Alerts', '每日筛查 Screening', '访客与外包 Visitors', '流调 Tracing', '图表 Charts', '审计 Audit']);
    for (const size of SCREEN_SIZES) {
      await page.setViewportSize(size);
      await page.screenshot({ path: shot(`office-2-shell-${size.width}x${size.height}.png`) });
    }
    // The session cookie is invisible to the page's script (HttpOnly).
    expect(await page.evaluate('document.cookie')).toBe('');
    await page.click('.nav a[data-page="alerts"]');
    await expect.poll(() => page.textContent('#page-title')).toBe('告警 · Alerts');

    await page.click('#sign-out');
    await page.waitForURL(`${office.url}/sign-in`);
    const after = await page.request.get(`${office.url}/api/session`);
    expect(after.status()).toBe(401);

    const { stdout } = await execFileP(process.execPath, ['dist/gateway/cli/main.js', 'central', 'officers', 'list', '--json', '--config', config], { cwd: ROOT });
    expect(JSON.parse(stdout.trim())).toMatchObject({ id: 'wang.li', role: 'duty-leader', lockedUntil: null });
    await page.close();
  }, 60_000);
});
