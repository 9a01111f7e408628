// The console's checkpoints and alerts pages in a real browser against the built central
// service on PostgreSQL, the database filled through the real writer (classify +
// writeBatch): a duty leader sees both checkpoints (offline one, out-of-date update) and
// the folded, escalated alerts, acknowledges the fever group and sees it leave
// "unacknowledged", then sees an alert published over the broker appear without a click;
// a viewer sees the alerts without acknowledge buttons.
// Screenshots at 1920×1080 and 1366×768.
import { connect } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb } from '../../central/db/adapter.js';
import { Cleanup, SHARED_BROKER, tempDir } from '../gateway/telemetry/helpers.js';
import { alertPayload, testDatabase, writeServiceConfig } from '../central/helpers.js';
import { startServiceProcess, type ServiceProcess } from '../central/process.js';
import { seedConsole } from '../central/web/seed.js';
import { launchChromium, shot } from './browser.js';
import { addOfficer, OFFICER_PASSWORD, SCREEN_SIZES } from './office-helpers.js';

let cleanup: Cleanup;
let office: ServiceProcess;
let config: string;
let browser: Browser;

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
}

const rowTexts = async (page: Page, selector: string): Promise<string[]> =>
  (await page.locator(selector).allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());

describe('office console pages in the browser', () => {
  beforeAll(async () => {
    cleanup = new Cleanup();
    const dataDir = await tempDir(cleanup, 'office-pages');
    const databaseUrl = await testDatabase(cleanup);
    config = await writeServiceConfig({
      dataDir,
      databaseUrl,
      mqttUrl: SHARED_BROKER, // the fixture goes in through the writer; the live test publishes
      clientId: 'office-pages',
      prefix: 'test-office-pages',
    });
    expect(await addOfficer(config, 'wang.li', '王丽', 'duty-leader')).toBe(0);
    expect(await addOfficer(config, 'zhao.min', '赵敏', 'viewer')).toBe(0);
    office = await startServiceProcess(cleanup, config);
    const db = await openDb({ url: databaseUrl, dataDir });
    cleanup.add(() => db.close());
    // Alerts 29-27 min ago: the critical fever group is past the 15 min escalation.
    await seedConsole(db, Date.now() - 30 * 60_000);
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await cleanup.run();
  });

  it('shows a duty leader the checkpoints and the alerts, and takes an acknowledged folded group out of "unacknowledged"', async () => {
    const page = await browser.newPage({ viewport: SCREEN_SIZES[0] });
    await signIn(page, 'wang.li');
    await page.waitForSelector('#checkpoints tr[data-checkpoint="gate-2"]');
    const gate1 = await rowTexts(page, '#checkpoints tr[data-checkpoint="gate-1"]');
    expect(gate1[0]).toMatch(/gate-1 mine-a 在线 online \d+ min 0\.3\.1 cccccccc in-1 idle relay: disconnected scanner: connected 7 .* policy 3 \/ 4 过期 out of date watchlist 42 \/ —/);
    expect((await rowTexts(page, '#checkpoints tr[data-checkpoint="gate-2"]'))[0]).toContain('离线 offline');
    expect(await page.locator('#checkpoints .update.stale').count()).toBe(1);
    await screenshots(page, '3-checkpoints');

    await page.setViewportSize(SCREEN_SIZES[0]);
    await page.click('.nav a[data-page="alerts"]');
    await page.waitForSelector('#alerts tr[data-kind="fever"]');
    expect(await rowTexts(page, '#alerts tbody tr')).toEqual([
      expect.stringMatching(/^警告 warning gate-2 · in-1 device-down DEVICE_DOWN relay disconnected 1 .* 确认 Acknowledge$/),
      expect.stringMatching(/^严重 critical 已升级 escalated gate-1 · in-1 fever TEMP_FEVER .* ×3 .* 确认 3 条 Acknowledge 3$/),
    ]);
    expect(await page.locator('#alerts tr.escalated').count()).toBe(1);
    await screenshots(page, '4-alerts');

    await page.setViewportSize(SCREEN_SIZES[0]);
    await page.click('#alerts tr[data-kind="fever"] button.ack');
    await expect.poll(() => page.locator('#alerts tr[data-kind="fever"]').count()).toBe(0);
    expect(await rowTexts(page, '#alerts tbody tr')).toEqual([expect.stringContaining('device-down')]);
    // With "unacknowledged only" off, the group is there, acknowledged by this officer.
    await page.uncheck('#f-unacked');
    await page.waitForSelector('#alerts tr[data-kind="fever"].done');
    expect((await rowTexts(page, '#alerts tr[data-kind="fever"]'))[0]).toContain('已确认 wang.li');
    await screenshots(page, '5-alerts-acked');

    // Live: an alert a gateway publishes shows up without a click (the stream's notice;
    // the fallback re-fetch is 30 s away).
    await page.check('#f-unacked');
    await page.waitForSelector('#alerts tr[data-kind="fever"]', { state: 'detached' });
    await expect.poll(async () => ((await (await fetch(`${office.url}/healthz`)).json()) as { broker: { connected: boolean } }).broker.connected, { timeout: 10_000 }).toBe(true);
    const gw = connect(SHARED_BROKER, { clientId: `fake-gw-pages-${process.pid}` });
    await new Promise<void>((resolve, reject) => {
      gw.once('connect', () => resolve());
      gw.once('error', reject);
    });
    const live = alertPayload({ site: 'mine-a', checkpoint: 'gate-3' }, null, { at: new Date().toISOString(), kind: 'device-down', severity: 'warning', code: 'DEVICE_DOWN', detail: 'scanner lost' });
    await gw.publishAsync('test-office-pages/mine-a/gate-3/alerts', JSON.stringify(live), { qos: 1 });
    await gw.endAsync();
    await page.waitForSelector('#alerts tr[data-checkpoint="gate-3"]', { timeout: 10_000 });
    await page.close();
  }, 60_000);

  it('shows a viewer the alerts without acknowledge buttons', async () => {
    const page = await browser.newPage({ viewport: SCREEN_SIZES[1] });
    await signIn(page, 'zhao.min');
    await page.click('.nav a[data-page="alerts"]');
    await page.waitForSelector('#alerts tr[data-kind="device-down"]');
    expect(await page.locator('button.ack, #ack-shown').count()).toBe(0);
    const refused = await page.request.post(`${office.url}/api/alerts/ack`, { data: { ids: [] } });
    expect(refused.status()).toBe(403);
    await page.close();
  }, 60_000);
});
