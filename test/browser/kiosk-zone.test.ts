// The kiosk of a canteen's entry lane in a real browser (config/canteen.yaml, 3 seats):
// the waiting screen shows how full the canteen is, turns amber when it is full, holds the
// next person with "please wait" (not "wait for staff"), and follows the count when someone
// leaves through the exit beam, without a new scan.
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, postJson, startGatewayProcess, tempDir, writeConfig, type GatewayProcess } from '../integration/helpers.js';
import { openKiosk, shot } from './browser.js';

let gw: GatewayProcess;
let browser: Browser;
let page: Page;

async function enter(name: string, sub: string): Promise<void> {
  const pass = (await cli(['pass', 'issue', '--name', name, '--sub', sub])).stdout.trim();
  expect((await postJson(`${gw.url}/api/sim/lanes/in-1/temperature`, { celsius: 36.5 })).status).toBe(202);
  expect((await postJson(`${gw.url}/api/sim/lanes/in-1/scan`, { payload: pass })).status).toBe(202);
  await page.waitForSelector('body[data-view="admit"]', { timeout: 10_000 });
}

const occupancy = () => page.locator('#occupancy');

beforeAll(async () => {
  const site = `brz-${randomBytes(4).toString('hex')}`;
  const config = writeConfig(tempDir('kiosk-zone-'), site, '', 'config/canteen.yaml');
  gw = await startGatewayProcess({ site, config });
  ({ browser, page } = await openKiosk(gw.url, 'in-1'));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  expect(await gw?.stop()).toBe(0);
});

describe('the kiosk of a zone entry lane', () => {
  it('shows how many are inside against the limit while waiting, in Chinese first', async () => {
    await expect.poll(() => occupancy().innerText()).toContain('已有0人，限3人');
    expect(await occupancy().innerText()).toContain('0 of 3 inside');
    expect(await occupancy().getAttribute('class')).not.toContain('full');
  });

  it('turns the line amber with "full, please wait" once the seats are taken, holds the next person with "please wait", and follows an exit at the beam', { timeout: 60_000 }, async () => {
    await enter('张三', 'W-1');
    await enter('李四', 'W-2');
    await enter('王五', 'W-3');
    await page.waitForSelector('body[data-view="waiting"]', { timeout: 15_000 });
    await expect.poll(() => occupancy().innerText()).toContain('已满员（3人，限3人），请稍候');
    expect(await occupancy().getAttribute('class')).toContain('full');
    await page.screenshot({ path: shot('kiosk-9-zone-full.png') });
    // Still all on screen on a small 800×480 kiosk panel.
    await page.setViewportSize({ width: 800, height: 480 });
    const box = await occupancy().boundingBox();
    expect(box).not.toBeNull();
    expect((box?.y ?? 0) + (box?.height ?? 0)).toBeLessThanOrEqual(480);
    await page.screenshot({ path: shot('kiosk-10-zone-full-800x480.png') });
    await page.setViewportSize({ width: 1920, height: 1080 });
    // A fourth person is held with "please wait": nothing for the staff to do, the seats must free up.
    const fourth = (await cli(['pass', 'issue', '--name', '赵六', '--sub', 'W-4'])).stdout.trim();
    expect((await postJson(`${gw.url}/api/sim/lanes/in-1/temperature`, { celsius: 36.5 })).status).toBe(202);
    expect((await postJson(`${gw.url}/api/sim/lanes/in-1/scan`, { payload: fourth })).status).toBe(202);
    await page.waitForSelector('body[data-view="refer"]', { timeout: 10_000 });
    expect(await page.locator('[data-view-of="refer"] h1.zh').innerText()).toBe('请稍候');
    const held = await page.locator('[data-view-of="refer"]').innerText();
    expect(held).toContain('Please wait');
    expect(held).not.toContain('请等待工作人员');
    expect(held).toContain('已满员（3人，限3人），请稍候');
    await page.screenshot({ path: shot('kiosk-10b-zone-full-held.png') });
    await page.waitForSelector('body[data-view="waiting"]', { timeout: 15_000 });
    // Someone leaves through the free exit: the entry kiosk updates with no scan at all.
    expect((await postJson(`${gw.url}/api/sim/lanes/out-1/passage`, {})).status).toBe(202);
    await expect.poll(() => occupancy().innerText()).toContain('已有2人，限3人');
    expect(await occupancy().getAttribute('class')).not.toContain('full');
  });
});
