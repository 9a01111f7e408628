// The guard console in a real browser against the built gateway process: sign-in, the
// refusal in the feed, acknowledging its alert, an override with a reason (the relay
// pulses, the ledger names the guard), the CSV export, correcting a zone's count, and
// refusals without a session.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../gateway/store/index.js';
import { ROOT, cli, postJson, startGatewayProcess, tempDir, until, writeConfig, type GatewayProcess } from '../integration/helpers.js';
import { launchChromium, shot } from './browser.js';

const PIN = '24681357';
let gw: GatewayProcess;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let config: string;
let dir: string;

/** The demo config with a canteen zone on the entrance lane (40 seats, reset after lunch). */
function configWithZone(site: string): string {
  const file = writeConfig(dir, site);
  const text = readFileSync(file, 'utf8');
  const zoned = text.replace(/^policy:\n/m, 'policy:\n  zones:\n    - { id: canteen, name: "食堂 / Canteen", limit: 40, entryLanes: [in-1], resetAt: ["14:00"] }\n');
  expect(zoned).not.toBe(text);
  writeFileSync(file, zoned);
  return file;
}

function addGuard(id: string, name: string, pin: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/gateway/cli/main.js', 'guards', 'add', id, '--name', name, '--config', config], {
      cwd: ROOT,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    child.on('error', reject);
    child.on('exit', resolve);
    child.stdin.end(`${pin}\n`);
  });
}

async function issue(...args: string[]): Promise<string> {
  return (await cli(['pass', 'issue', ...args])).stdout.trim();
}

async function present(pass: string, celsius: number): Promise<void> {
  expect((await postJson(`${gw.url}/api/sim/lanes/in-1/temperature`, { celsius })).status).toBe(202);
  expect((await postJson(`${gw.url}/api/sim/lanes/in-1/scan`, { payload: pass })).status).toBe(202);
}

async function pulses(): Promise<number> {
  const body = (await (await fetch(`${gw.url}/api/sim/lanes/in-1/relay`)).json()) as { pulses: unknown[] };
  return body.pulses.length;
}

async function laneIdle(): Promise<void> {
  await until('lane in-1 to be ready for the next person', async () => {
    const body = (await (await fetch(`${gw.url}/api/lanes`)).json()) as { lanes: { state: string }[] };
    return body.lanes[0]?.state !== 'measuring' ? true : undefined;
  });
}

beforeAll(async () => {
  dir = tempDir('gw-console-');
  const site = `bc-${randomBytes(4).toString('hex')}`;
  config = configWithZone(site);
  gw = await startGatewayProcess({ site, config });
  expect(await addGuard('G-01', '王保安', PIN)).toBe(0);
  // Today's approvals, as the central office would have pushed them: one visitor comes, one does not.
  const dayStart = new Date(Date.now() - 86_400_000).toISOString();
  const dayEnd = new Date(Date.now() + 86_400_000).toISOString();
  const store = openStore(path.join(dir, 'data'));
  store.approvalsReplace([
    { subjectId: 'V-0001', approver: '刘主任', hostDepartment: '机电科', validFrom: dayStart, validUntil: dayEnd },
    { subjectId: 'V-0002', approver: '刘主任', hostDepartment: '通风科', validFrom: dayStart, validUntil: dayEnd },
  ]);
  store.close();
  await present(await issue('--sub', 'V-0001', '--name', '赵访客', '--category', 'visitor'), 36.4);
  await laneIdle();
  await present(await issue('--name', '张三'), 36.5);
  await laneIdle();
  await present(await issue('--name', '李四', '--health-code', 'red'), 36.6);
  await laneIdle();
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1600, height: 1000 }, acceptDownloads: true });
  page = await context.newPage();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  expect(await gw?.stop()).toBe(0);
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('guard console in Chromium', () => {
  it('refuses every guard API request without a session', async () => {
    for (const p of ['/api/guard/status', '/api/guard/ledger', '/api/guard/ledger.csv', '/api/guard/alerts', '/api/guard/zones']) {
      const res = await fetch(`${gw.url}${p}`);
      expect(res.status, p).toBe(401);
      await res.arrayBuffer();
    }
    const override = await fetch(`${gw.url}/api/lanes/in-1/override`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: gw.url },
      body: JSON.stringify({ reason: 'OVERRIDE_OTHER', note: 'no session' }),
    });
    expect(override.status).toBe(401);
    await page.goto(`${gw.url}/guard`);
    const inPage = await page.evaluate(async () => (await fetch('/api/guard/status')).status);
    expect(inPage).toBe(401);
  });

  it('shows the sign-in form and refuses a wrong PIN', async () => {
    await page.goto(`${gw.url}/guard`);
    await page.waitForSelector('body[data-view="login"]');
    await page.screenshot({ path: shot('console-1-sign-in.png') });
    await page.fill('#login-id', 'G-01');
    await page.fill('#login-pin', '00000000');
    await page.click('#login-form button[type="submit"]');
    await page.waitForSelector('#login-error:not([hidden])');
    expect(await page.locator('#login-error').innerText()).toContain('工号或密码错误');
  });

  it('signs the guard in and shows the refusal in the live feed with its reason', async () => {
    await page.fill('#login-id', 'G-01');
    await page.fill('#login-pin', PIN);
    await page.click('#login-form button[type="submit"]');
    await page.waitForSelector('body[data-view="console"]');
    expect(await page.locator('#who').innerText()).toContain('王保安');
    const refusal = page.locator('#feed tr[data-outcome="refuse"]').first();
    await refusal.waitFor();
    const text = await refusal.innerText();
    expect(text).toContain('李四');
    expect(text).toContain('健康码为红码');
    expect(text).toContain('36.6 °C');
    await page.waitForSelector('#lanes .lane[data-lane="in-1"] li[data-device="scanner"][data-state="connected"]');
    await page.waitForSelector('#expected tr[data-arrived="true"]');
    expect(await page.locator('#expected').innerText()).toContain('赵访客');
    expect(await page.locator('#expected tr[data-arrived="false"]').innerText()).toContain('V-0002');
    await page.waitForSelector('#chart svg rect.bar.refuse');
  });

  it('shows a new decision in the feed as it happens', async () => {
    await present(await issue('--name', '孙七', '--health-code', 'yellow'), 36.5);
    await page.locator('#feed tr', { hasText: '孙七' }).waitFor();
    expect(await page.locator('#feed tr', { hasText: '孙七' }).innerText()).toContain('健康码为黄码');
    await laneIdle();
  });

  it('acknowledges the red-code alert under the guard id and lowers the count', async () => {
    const alert = page.locator('#alerts li[data-state="open"][data-codes~="HEALTH_CODE_RED"]').first();
    await alert.waitFor();
    // All decisions are stored by now; the server's count is the reference.
    const before = await page.evaluate(async () => ((await (await fetch('/api/guard/alerts')).json()) as { unacked: number }).unacked);
    expect(before).toBeGreaterThanOrEqual(2);
    await expect.poll(async () => Number(await page.locator('#alert-count').innerText())).toBe(before);
    await page.screenshot({ path: shot('console-2-overview.png'), fullPage: true });
    await alert.locator('button.ack').click();
    const acked = page.locator('#alerts li[data-state="done"][data-codes~="HEALTH_CODE_RED"]').first();
    await acked.waitFor();
    const text = await acked.innerText();
    expect(text).toContain('健康码为红码');
    expect(text).toContain('G-01');
    await expect.poll(async () => Number(await page.locator('#alert-count').innerText())).toBe(before - 1);
  });

  it('overrides with a reason: the relay pulses once and the ledger row names the guard', async () => {
    const before = await pulses();
    await page.click('#lanes .lane[data-lane="in-1"] button.override');
    await page.waitForSelector('#override-dialog[open]');
    await page.check('input[name="override-reason"][value="OVERRIDE_IDENTITY_VERIFIED"]');
    await page.fill('#override-note', '当面核实身份证，李四');
    await page.screenshot({ path: shot('console-3-override-dialog.png') });
    await page.click('#override-confirm');
    await page.waitForSelector('#override-dialog[open]', { state: 'detached', timeout: 5000 }).catch(async (err: unknown) => {
      throw new Error(`override dialog still open: ${await page.locator('#override-error').innerText()}`, { cause: err });
    });
    await until('the relay pulse', async () => ((await pulses()) === before + 1 ? true : undefined));
    const row = page.locator('#feed tr[data-kind="override"]').first();
    await row.waitFor();
    const text = await row.innerText();
    expect(text).toContain('G-01');
    expect(text).toContain('人工放行：已当面核实证件');
    const ledger = await page.evaluate(async () => (await (await fetch('/api/guard/ledger?limit=1')).json()) as { events: { kind: string; actor: string; note: string }[] });
    expect(ledger.events[0]).toMatchObject({ kind: 'override', actor: 'G-01', note: '当面核实身份证，李四' });
    await page.locator('#alerts li[data-codes="OVERRIDE_IDENTITY_VERIFIED"]', { hasText: '人工放行' }).first().waitFor();
    await page.screenshot({ path: shot('console-4-after-override.png'), fullPage: true });
  });

  it('exports the ledger as CSV that parses with the rows and their Chinese intact', async () => {
    await page.click('#ledger-form button[type="submit"]');
    await page.locator('#ledger tr', { hasText: '李四' }).first().waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
    const file = path.join(gw.dir, 'export.csv');
    await download.saveAs(file);
    expect(download.suggestedFilename()).toMatch(/^ledger-\d{4}-\d{2}-\d{2}\.csv$/);
    const bytes = readFileSync(file);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const records = parse(bytes.toString('utf8'), { bom: true, columns: true }) as Record<string, string>[];
    expect(records.find((r) => r['name'] === '李四')).toMatchObject({ outcome: 'refuse', reason_codes: 'HEALTH_CODE_RED', reasons_zh: '健康码为红码', temperature: '36.6' });
    expect(records.find((r) => r['kind'] === 'override')).toMatchObject({ guard: 'G-01', note: '当面核实身份证，李四' });
    expect(records.find((r) => r['name'] === '赵访客')).toMatchObject({ outcome: 'admit', category: 'visitor' });
    await page.screenshot({ path: shot('console-5-ledger-search.png'), fullPage: true });
  });

  it("corrects the canteen's count through the dialog: the card shows it full, signed by the guard", async () => {
    const card = page.locator('#zones .zone[data-zone="canteen"]');
    await card.waitFor();
    // The two admitted people of beforeAll and the guard's override counted in.
    await expect.poll(async () => card.locator('.count').innerText()).toContain('3 / 40');
    expect(await card.locator('h3').innerText()).toBe('食堂 / Canteen');
    expect(await card.innerText()).toContain('14:00');
    await card.locator('button.correct').click();
    await page.waitForSelector('#zone-dialog[open]');
    expect(await page.locator('#zone-count').inputValue()).toBe('3');
    await page.fill('#zone-count', '40');
    await page.fill('#zone-reason', '午餐清点 / lunch headcount');
    await page.click('#zone-confirm');
    await page.waitForSelector('#zone-dialog[open]', { state: 'detached', timeout: 5000 }).catch(async (err: unknown) => {
      throw new Error(`zone dialog still open: ${await page.locator('#zone-error').innerText()}`, { cause: err });
    });
    await page.waitForSelector('#zones .zone[data-zone="canteen"][data-load="full"]');
    expect(await card.locator('.count').innerText()).toContain('40 / 40');
    const last = await card.locator('.correction').innerText();
    expect(last).toContain('G-01');
    expect(last).toContain('3 → 40');
    expect(last).toContain('午餐清点 / lunch headcount');
    const api = await page.evaluate(async () => (await (await fetch('/api/guard/zones')).json()) as { zones: { id: string; count: number; corrections: { guard: string }[] }[] });
    expect(api.zones[0]).toMatchObject({ id: 'canteen', count: 40, corrections: [{ guard: 'G-01' }] });
    await page.locator('#zones-panel').scrollIntoViewIfNeeded();
    await page.screenshot({ path: shot('console-6-zone-correction.png') });
  });

  it('refuses a cross-site request even from a signed-in browser', async () => {
    const status = await page.evaluate(async () => {
      const res = await fetch('/api/lanes/in-1/override', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'OVERRIDE_OTHER', note: 'no csrf token' }),
      });
      return res.status;
    });
    expect(status).toBe(403);
  });

  it('signs out, after which the API refuses the old session', async () => {
    await page.click('#sign-out');
    await page.waitForSelector('body[data-view="login"]');
    expect(await page.evaluate(async () => (await fetch('/api/guard/status')).status)).toBe(401);
  });
});
