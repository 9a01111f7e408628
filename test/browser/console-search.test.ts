// The console's ledger search by name when one request searches names in only a few rows:
// it says how far back names were searched, and "search older" continues from there,
// adding the rows it finds below those shown. In-process gateway HTTP server (real store),
// real Chromium; the console's modules come from dist/kiosk-ui (npm run build).
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewLedgerEntry } from '../../gateway/store/types.js';
import { PIN } from '../gateway/http/guard-helpers.js';
import { startHarness, type Harness } from '../gateway/http/helpers.js';
import { launchChromium, shot } from './browser.js';

const NOW = Date.parse('2024-12-04T10:30:00+08:00');

let h: Harness;
let browser: Browser;
let page: Page;

function row(i: number, over: Partial<NewLedgerEntry>): NewLedgerEntry {
  return {
    id: `search-${i}`,
    at: NOW - 3_600_000 + i * 60_000,
    lane: 'north',
    kind: 'decision',
    outcome: 'admit',
    reasons: [],
    alerts: [],
    credential: 'health-pass',
    subjectRef: `p1_S-${i}`,
    subjectName: '张三',
    category: 'employee',
    temperature: 36.5,
    ...over,
  };
}

beforeAll(async () => {
  // Three rows searched for names per request, eight requests at most per click: the name
  // below is 14 requests back.
  h = await startHarness({ guard: { now: NOW, nameScanRows: 3 } });
  await h.guard!.accounts.add('G-01', '王保安', PIN);
  h.store.appendDecision(row(0, { subjectName: '欧阳娜' }), () => null);
  h.store.appendDecision(row(1, { subjectName: '欧阳娜' }), () => null);
  for (let i = 2; i < 42; i++) h.store.appendDecision(row(i, {}), () => null);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  await page.goto(`${h.url}/guard`);
  await page.fill('#login-id', 'G-01');
  await page.fill('#login-pin', PIN);
  await page.click('#login-form button[type="submit"]');
  await page.locator('#ledger tr').first().waitFor();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

describe('guard console: searching a name back through the ledger', () => {
  it('shows how far back names were searched, and "search older" finds the older rows below those shown', async () => {
    await page.fill('#q-subject', '欧阳');
    await page.click('#ledger-form button[type="submit"]');
    const more = page.locator('#ledger-more');
    await more.waitFor({ state: 'visible' });
    // Eight requests of three rows: seqs 19-42 were searched, seq 19 (09:48 China time) is where names stop.
    await expect.poll(() => page.textContent('#ledger-searched')).toContain('2024-12-04 09:48');
    expect(await page.textContent('#ledger-older')).toContain('查更早的');
    expect(await page.locator('#ledger tr', { hasText: '欧阳娜' }).count()).toBe(0);
    await page.screenshot({ path: shot('console-search-older.png'), fullPage: true });
    // One click goes on until it finds seqs 1-2.
    await page.click('#ledger-older');
    await expect.poll(() => page.locator('#ledger tr', { hasText: '欧阳娜' }).count()).toBe(2);
    await more.waitFor({ state: 'hidden' });
  });

  it('a staff id finds its row at once, however far back, with names still to search below', async () => {
    await page.fill('#q-subject', 'S-0');
    await page.click('#ledger-form button[type="submit"]');
    await expect.poll(() => page.locator('#ledger tr', { hasText: '欧阳娜' }).count()).toBe(1);
    expect(await page.locator('#ledger-more').isVisible()).toBe(true);
  });
});
