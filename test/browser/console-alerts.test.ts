// The guard console's alerts and words in Chromium against the built gateway process
// (issue 13, items 7–8): a refusal with three reasons is one alert row, repeats fold with a
// count, "acknowledge all shown" clears them, a device back in service needs no
// acknowledgement, the sign-in page counts what the console counts, no raw code or kind
// slug is on screen, outcomes in the guard's words, the override dialog shows its reasons
// in full, an override links to the refusal it answers, the hourly chart has whole-number
// ticks, and the daily screening panel. Screenshots at 1920×1080 and 1366×768.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertRow } from '../../gateway/http/guard-alerts.js';
import type { GuardEvent } from '../../gateway/http/guard-api.js';
import { ALERT_KIND_TEXT, OVERRIDE_REASON_CODES, overrideReason } from '../../gateway/policy/reasons.js';
import { openStore } from '../../gateway/store/index.js';
import { ROOT, cli, postJson, startGatewayProcess, tempDir, until, writeConfig, type GatewayProcess } from '../integration/helpers.js';
import { launchChromium, shot } from './browser.js';
import { SCREEN_SIZES } from './office-helpers.js';

const PIN = '24681357';
/** A stable code as people must never read it: DEVICE_UP_THERMOMETER, HEALTH_CODE_RED, ... */
const RAW_CODE = /[A-Z]{3,}_[A-Z_]+/;
/** The alert kinds as slugs ("risk-area", "device-up"): names for programs, not for people. */
const KIND_SLUG = new RegExp(`(?<![\\w-])(?:${Object.keys(ALERT_KIND_TEXT).filter((k) => k.includes('-')).join('|')})(?![\\w-])`);

let gw: GatewayProcess;
let browser: Browser;
let page: Page;
let dir: string;

function addGuard(config: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/gateway/cli/main.js', 'guards', 'add', 'G-01', '--name', '王保安', '--config', config], {
      cwd: ROOT,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    child.on('error', reject);
    child.on('exit', resolve);
    child.stdin.end(`${PIN}\n`);
  });
}

async function issue(...args: string[]): Promise<string> {
  return (await cli(['pass', 'issue', ...args])).stdout.trim();
}

async function laneState(): Promise<string | undefined> {
  const body = (await (await fetch(`${gw.url}/api/lanes`)).json()) as { lanes: { state: string }[] };
  return body.lanes[0]?.state;
}

async function settle(): Promise<void> {
  await until('lane in-1 to be ready for the next person', async () => ((await laneState()) === 'idle' || (await laneState()) === 'showing' ? true : undefined));
}

async function scan(payload: string, celsius?: number): Promise<void> {
  if (celsius !== undefined) expect((await postJson(`${gw.url}/api/sim/lanes/in-1/temperature`, { celsius })).status).toBe(202);
  expect((await postJson(`${gw.url}/api/sim/lanes/in-1/scan`, { payload })).status).toBe(202);
  await settle();
}

async function thermometer(state: 'disconnected' | 'connected'): Promise<void> {
  expect((await postJson(`${gw.url}/api/sim/lanes/in-1/devices/thermometer`, { state })).status).toBe(202);
  const want = state === 'connected' ? ['idle', 'showing'] : ['out-of-service'];
  await until(`lane in-1 ${want.join(' or ')}`, async () => (want.includes((await laneState()) ?? '') ? true : undefined));
}

/** The console's own API, asked from the signed-in page. */
function inPage<T>(p: string): Promise<T> {
  return page.evaluate(async (url) => (await (await fetch(url)).json()) as T, p) as Promise<T>;
}

async function openCount(): Promise<number> {
  return ((await (await fetch(`${gw.url}/api/guard/alerts/count`)).json()) as { unacked: number }).unacked;
}

async function badge(): Promise<number> {
  return Number(await page.locator('#alert-count').innerText());
}

/** Screenshots of the page at both sizes; the viewport goes back to the first size after. */
async function shots(name: string, fullPage = false): Promise<void> {
  for (const size of [...SCREEN_SIZES].reverse()) {
    await page.setViewportSize(size);
    // The top bar is sticky: a full-page shot starts at the top, or it floats mid-page.
    if (fullPage) await page.mouse.wheel(0, -100_000);
    await page.screenshot({ path: shot(`console-alerts-${name}-${size.width}x${size.height}.png`), fullPage });
  }
}

function expectWordsOnly(text: string, where: string): void {
  expect(RAW_CODE.exec(text)?.[0], `raw code on ${where}`).toBeUndefined();
  expect(KIND_SLUG.exec(text)?.[0], `kind slug on ${where}`).toBeUndefined();
}

beforeAll(async () => {
  dir = tempDir('gw-console-alerts-');
  const site = `ca-${randomBytes(4).toString('hex')}`;
  const config = writeConfig(dir, site);
  gw = await startGatewayProcess({ site, config });
  expect(await addGuard(config)).toBe(0);
  const store = openStore(path.join(dir, 'data'));
  store.rosterUpsert([
    { staffId: 'E-0001', name: '张工', category: 'employee', health: { healthCode: 'green' }, active: true, updatedAt: Date.now() },
    { staffId: 'E-0002', name: '王工', category: 'employee', health: { healthCode: 'green' }, active: true, updatedAt: Date.now() },
  ]);
  store.close();
  // An employee admitted (screened today), a code nobody issued (referred), the thermometer
  // dropping out and coming back, then a visitor with a red code from a high-risk area and
  // no approval, three times.
  await scan(await issue('--sub', 'E-0001', '--name', '张工', '--category', 'employee'), 36.5);
  await scan('hello, not a pass');
  await thermometer('disconnected');
  await thermometer('connected');
  const visitor = await issue('--sub', 'V-0009', '--name', '钱访客', '--category', 'visitor', '--health-code', 'red', '--risk-level', 'high');
  for (let i = 0; i < 3; i++) await scan(visitor, 36.6);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: SCREEN_SIZES[0] });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  expect(await gw?.stop()).toBe(0);
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('guard console alerts and words in Chromium', () => {
  it('shows on the sign-in page the count of open alerts the console will show', async () => {
    // Three refusals of one person and the thermometer down; the thermometer back is information.
    expect(await openCount()).toBe(4);
    await page.goto(`${gw.url}/guard`);
    await page.waitForSelector('body[data-view="login"]');
    await expect.poll(badge).toBe(4);
    await shots('1-sign-in');
    await page.fill('#login-id', 'G-01');
    await page.fill('#login-pin', PIN);
    await page.click('#login-form button[type="submit"]');
    await page.waitForSelector('body[data-view="console"]');
    await page.waitForSelector('#alerts li[data-state]');
    const { rows, unacked } = await inPage<{ rows: AlertRow[]; unacked: number }>('/api/guard/alerts');
    expect(unacked).toBe(4);
    expect(rows.filter((r) => r.state === 'open').reduce((n, r) => n + r.count, 0)).toBe(4);
    expect(await badge()).toBe(4);
  });

  it('shows a refusal with three reasons as one row, its repeats folded with a count', async () => {
    const row = page.locator('#alerts li[data-state="open"][data-kinds="health-code risk-area visitor-refused"]');
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.getAttribute('data-count')).toBe('3');
    expect(await row.locator('.kind').count()).toBe(3);
    const text = await row.innerText();
    for (const words of ['健康码为红码', '风险', '未查到来访审批', '钱访客', '拒绝', '×3']) expect(text).toContain(words);
    // No other row for the visitor's passages.
    expect(await page.locator('#alerts li', { hasText: '钱访客' }).count()).toBe(1);
  });

  it('lists the thermometer back in service as information, with no button to acknowledge', async () => {
    const info = page.locator('#alerts li[data-state="info"][data-codes="DEVICE_UP_THERMOMETER"]');
    await info.waitFor();
    expect(await info.locator('button').count()).toBe(0);
    const text = await info.innerText();
    expect(text).toContain('测温仪已恢复');
    expect(text).toContain('无需确认');
    const down = page.locator('#alerts li[data-state="open"][data-codes="DEVICE_DOWN_THERMOMETER"]');
    expect(await down.locator('button.ack').count()).toBe(1);
  });

  it('shows every alert, reason and outcome in words: no raw code, no kind slug; 放行, 拒绝, 转人工', async () => {
    await page.waitForSelector('#feed tr[data-outcome="refer"]');
    await page.waitForSelector('#screened tr');
    const text = await page.locator('body').innerText();
    expectWordsOnly(text, 'the console');
    const badges = await page.locator('#feed tr .badge').allInnerTexts();
    expect(badges.some((b) => b.includes('放行'))).toBe(true);
    expect(badges.some((b) => b.includes('拒绝'))).toBe(true);
    expect(badges.some((b) => b.includes('转人工'))).toBe(true);
    // The kiosk's instructions are for the person at the gate, not for the guard.
    for (const kioskWords of ['请通行', '禁止通行', '请等待工作人员']) expect(text).not.toContain(kioskWords);
    expect(await page.locator('#alerts-panel').innerText()).toContain('测温仪故障');
    await page.locator('#alerts-panel').scrollIntoViewIfNeeded();
    await shots('2-alerts');
  });

  it('draws the hourly chart with whole-number ticks', async () => {
    const ticks = await page.locator('#chart svg text.axis').allTextContents();
    expect(ticks.length).toBeGreaterThan(8);
    for (const t of ticks) expect(Number.isInteger(Number(t)), `tick ${t}`).toBe(true);
  });

  it("shows the day's screening from GET /api/guard/screening: who was screened and who not yet", async () => {
    const report = await inPage<{ workers: number; screened: { name: string }[]; notScreened: { name: string }[] }>('/api/guard/screening');
    expect(report).toMatchObject({ workers: 2, screened: [{ name: '张工' }], notScreened: [{ name: '王工' }] });
    const totals = page.locator('#screening-totals');
    expect(await totals.locator('[data-series="workers"] b').innerText()).toBe('2');
    expect(await totals.locator('[data-series="screened"] b').innerText()).toBe('1');
    expect(await totals.locator('[data-series="not-screened"] b').innerText()).toBe('1');
    const screened = await page.locator('#screened').innerText();
    expect(screened).toContain('张工');
    expect(screened).toContain('放行');
    expect(screened).toContain('入口 1');
    expect(await page.locator('#not-screened').innerText()).toContain('王工');
    await page.locator('#screening-panel').scrollIntoViewIfNeeded();
    await shots('3-screening');
  });

  it('acknowledges every alert shown with one click; information stays and nothing is open', async () => {
    await page.click('#ack-all');
    await expect.poll(badge).toBe(0);
    await page.waitForSelector('#alerts li[data-state="done"]');
    expect(await page.locator('#alerts li[data-state="open"]').count()).toBe(0);
    expect(await page.locator('#ack-all').isDisabled()).toBe(true);
    expect(await page.locator('#alerts li[data-state="done"][data-kinds="health-code risk-area visitor-refused"]').innerText()).toContain('G-01');
    expect(await page.locator('#alerts li[data-state="info"]').count()).toBe(1);
    expect(await openCount()).toBe(0);
  });

  it('shows every override reason in full in the dialog, wrapped, none cut off', async () => {
    for (const size of SCREEN_SIZES) {
      await page.setViewportSize(size);
      await page.click('#lanes .lane[data-lane="in-1"] button.override');
      await page.waitForSelector('#override-dialog[open]');
      const choices = page.locator('#override-reasons label.choice');
      expect(await choices.count()).toBe(OVERRIDE_REASON_CODES.length);
      const text = await page.locator('#override-reasons').innerText();
      for (const code of OVERRIDE_REASON_CODES) {
        const r = overrideReason(code);
        expect(text).toContain(r.zh);
        expect(text).toContain(r.en);
      }
      const clipped = await choices.evaluateAll((labels) =>
        labels.filter((l) => l.scrollWidth > l.clientWidth || l.scrollHeight > l.clientHeight).map((l) => l.textContent),
      );
      expect(clipped).toEqual([]);
      const dialog = await page.locator('#override-dialog').evaluate((d) => ({ scroll: d.scrollWidth, client: d.clientWidth }));
      expect(dialog.scroll).toBeLessThanOrEqual(dialog.client);
      expectWordsOnly(await page.locator('#override-dialog').innerText(), 'the override dialog');
      await page.screenshot({ path: shot(`console-alerts-4-override-dialog-${size.width}x${size.height}.png`) });
      await page.click('#override-cancel');
    }
  });

  it('links an override to the refused passage it answers', async () => {
    const { events } = await inPage<{ events: GuardEvent[] }>('/api/guard/ledger?limit=1');
    const refused = events[0]!;
    expect(refused).toMatchObject({ outcome: 'refuse', name: '钱访客' });
    await page.click('#lanes .lane[data-lane="in-1"] button.override');
    await page.waitForSelector('#override-dialog[open]');
    await page.check('input[name="override-reason"][value="OVERRIDE_IDENTITY_VERIFIED"]');
    await page.fill('#override-note', '当面核实，钱访客由接待部门领入');
    await page.click('#override-confirm');
    await page.waitForSelector('#override-dialog[open]', { state: 'detached', timeout: 5000 });
    const row = page.locator('#feed tr[data-kind="override"]').first();
    await row.waitFor();
    const link = row.locator('a.answers');
    await link.waitFor();
    expect(await link.getAttribute('data-passage')).toBe(refused.id);
    expect(await link.innerText()).toContain('钱访客');
    expect(await link.innerText()).toContain('拒绝');
    await link.click();
    await page.waitForSelector(`tr.shown[data-event="${refused.id}"]`);
    const { events: after } = await inPage<{ events: GuardEvent[] }>('/api/guard/ledger?limit=1');
    expect(after[0]).toMatchObject({ kind: 'override', answers: { id: refused.id, outcome: 'refuse' } });
    // The override's own alert is open again, and the badge says so.
    await expect.poll(badge).toBe(1);
    expectWordsOnly(await page.locator('body').innerText(), 'the console after the override');
    await shots('5-after-override', true);
  });

  it('counts the same on the sign-in page after signing out', async () => {
    await page.click('#sign-out');
    await page.waitForSelector('body[data-view="login"]');
    await expect.poll(badge).toBe(await openCount());
    expect(await badge()).toBe(1);
  });
});
