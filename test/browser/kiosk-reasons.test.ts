// A refusal's reasons on the kiosk in a real browser, against the built gateway process:
// every reason readable on a 1920×1080 and on an 800×480 panel, most important first, and
// nothing on the public screen that tells why someone is on a watchlist.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, guardGet, postJson, startGatewayProcess, tempDir, writeConfig, type GatewayProcess } from '../integration/helpers.js';
import { openKiosk, shot } from './browser.js';

/** A visitor without an approval, a yellow code, a high-risk trip and a test 100 h old. */
const FOUR_REASONS = ['--category', 'visitor', '--health-code', 'yellow', '--risk-level', 'high', '--test-age-hours', '100'];

let gw: GatewayProcess;
let browser: Browser;
let page: Page;
let dir: string;
const site = `brr-${randomBytes(4).toString('hex')}`;

async function present(pass: string, celsius: number): Promise<void> {
  expect((await postJson(`${gw.url}/api/sim/lanes/in-1/temperature`, { celsius })).status).toBe(202);
  expect((await postJson(`${gw.url}/api/sim/lanes/in-1/scan`, { payload: pass })).status).toBe(202);
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

interface Measured {
  code: string;
  text: string;
  box: Box;
  /** The element shows all of its content (no scrolled-away or cut part). */
  whole: boolean;
  visible: boolean;
  /** Computed font sizes (px) of the visible Chinese and English lines. */
  zh: number[];
  en: number[];
}

/** Every reason item of the refusal, as the browser laid it out, and the view's own box (runs in the page). */
const MEASURE = `(() => {
  const whole = (e) => e.scrollHeight <= e.clientHeight + 1 && e.scrollWidth <= e.clientWidth + 1;
  const box = (e) => { const r = e.getBoundingClientRect(); return { x: r.x, y: r.y, width: r.width, height: r.height }; };
  const sizes = (li, sel) => [...li.querySelectorAll(sel)].filter((e) => e.checkVisibility()).map((e) => parseFloat(getComputedStyle(e).fontSize));
  const view = document.querySelector('[data-view-of="refuse"]');
  const items = [...document.querySelectorAll('#refuse-reasons li')].map((li) => ({
    code: li.dataset.code ?? 'more',
    text: li.innerText,
    box: box(li),
    whole: whole(li),
    visible: li.checkVisibility(),
    zh: sizes(li, '.zh'),
    en: sizes(li, '.en'),
  }));
  return { items, view: box(view), viewWhole: whole(view) };
})()`;

async function measure(): Promise<{ items: Measured[]; view: Box; viewWhole: boolean }> {
  return page.evaluate<{ items: Measured[]; view: Box; viewWhole: boolean }>(MEASURE);
}

/** Sets the panel size and waits until the kiosk has fitted the refusal to it. */
async function resize(width: number, height: number): Promise<void> {
  await page.setViewportSize({ width, height });
  await page.evaluate('document.fonts.ready.then(() => true)');
  await page.waitForSelector(`[data-view-of="refuse"][data-fitted-to="${width}x${height}"]`, { timeout: 5000 });
}

function inside(inner: Box, outer: Box): boolean {
  const e = 0.5;
  return inner.x >= outer.x - e && inner.y >= outer.y - e && inner.x + inner.width <= outer.x + outer.width + e && inner.y + inner.height <= outer.y + outer.height + e;
}

/**
 * At this panel size every reason item shown is whole, inside the screen and not cut off by
 * the view, Chinese ≥ 28 px and English ≥ 20 px. Returns the items (a fold line has code "more").
 */
async function expectReadable(width: number, height: number, screenshot: string): Promise<Measured[]> {
  await resize(width, height);
  await page.screenshot({ path: shot(screenshot) });
  const { items, view, viewWhole } = await measure();
  const screen = { x: 0, y: 0, width, height };
  expect(viewWhole, `${width}×${height}: the view shows all it holds`).toBe(true);
  expect(inside(view, screen), `${width}×${height}: the view is inside the screen`).toBe(true);
  for (const item of items) {
    const where = `${width}×${height} ${item.code}`;
    expect(item.visible, where).toBe(true);
    expect(item.whole, where).toBe(true);
    expect(inside(item.box, screen), `${where}: ${JSON.stringify(item.box)} inside the screen`).toBe(true);
    expect(inside(item.box, view), `${where}: not cut off by the view`).toBe(true);
    expect(item.zh.length, where).toBeGreaterThan(0);
    for (const px of item.zh) expect(px, `${where}: Chinese font size`).toBeGreaterThanOrEqual(28);
    for (const px of item.en) expect(px, `${where}: English font size`).toBeGreaterThanOrEqual(20);
  }
  return items;
}

const shownCodes = (): Promise<string[]> => page.evaluate<string[]>(`[...document.querySelectorAll('#refuse-reasons li')].map((li) => li.dataset.code ?? 'more')`);

/** Puts `person` on the watchlist (close contact) with a signed update over MQTT, as the office does. */
async function watchlist(person: string): Promise<void> {
  const data = path.join(dir, 'watchlist.json');
  writeFileSync(data, JSON.stringify({ entries: [{ subjectId: person, kind: 'close-contact', from: '2020-01-01', until: null }] }));
  const signed = path.join(dir, 'watchlist.jws');
  const sign = ['central', 'sign', 'watchlist', data, '--update-version', '1', '--site', site, '--checkpoint', 'mine-entrance', '--transaction', `tx-${person}`];
  writeFileSync(signed, (await cli(sign)).stdout.trim());
  const published = await cli(['central', 'publish', 'watchlist', signed, '--site', site, '--checkpoint', 'mine-entrance', '--wait', '15000']);
  expect(JSON.parse(published.stdout.trim())).toMatchObject({ status: 'applied', kind: 'watchlist' });
}

beforeAll(async () => {
  dir = tempDir('kiosk-reasons-');
  // A decision stays up for a minute here, so both panel sizes can be measured on one.
  const config = writeConfig(dir, site);
  writeFileSync(config, readFileSync(config, 'utf8').replace(/kioskResetMs: \d+/, 'kioskResetMs: 60000'));
  gw = await startGatewayProcess({ site, config });
  ({ browser, page } = await openKiosk(gw.url, 'in-1'));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  expect(await gw?.stop()).toBe(0);
});

describe('the reasons of a refusal on the kiosk', () => {
  it('shows all four reasons of a refusal whole inside a 1920×1080 and an 800×480 screen, most important first, Chinese ≥ 28 px and English ≥ 20 px on the small one', async () => {
    await present((await cli(['pass', 'issue', '--name', '赵六', ...FOUR_REASONS])).stdout.trim(), 36.6);
    await page.waitForSelector('body[data-view="refuse"]', { timeout: 10_000 });
    // Turn back (high-risk trip) before the health code, the test and the missing approval.
    const codes = ['TRAVEL_RISK_AREA', 'HEALTH_CODE_YELLOW', 'TEST_EXPIRED', 'VISITOR_NO_APPROVAL'];
    expect(await shownCodes()).toEqual(codes);
    expect(await page.locator('#refuse-reasons').innerText()).toContain('采样于100小时前');
    for (const [width, height] of [
      [1920, 1080],
      [800, 480],
    ] as const) {
      const items = await expectReadable(width, height, `kiosk-11-four-reasons-${width}x${height}.png`);
      expect(items.map((i) => i.code), `${width}×${height}`).toEqual(codes);
      // The first reason's next step is always there.
      expect(await page.locator('#refuse-reasons li').first().locator('.next .zh').isVisible()).toBe(true);
    }
    await page.setViewportSize({ width: 1920, height: 1080 });
  });

  const listed = `kw-${randomBytes(3).toString('hex')}`;

  it('says only 请联系工作人员 for a watchlist refusal, never why, while the guard console keeps the reason', { timeout: 60_000 }, async () => {
    await watchlist(listed);
    await present((await cli(['pass', 'issue', '--sub', listed, '--name', '钱七'])).stdout.trim(), 36.5);
    // (The refusal before stays up for a minute: wait for this one.)
    await page.waitForSelector('body[data-view="refuse"] #refuse-reasons li[data-code="CONTACT_STAFF"]', { timeout: 10_000 });
    expect(await shownCodes()).toEqual(['CONTACT_STAFF']);
    const shown = await page.locator('[data-view-of="refuse"]').innerText();
    expect(shown).toContain('请联系工作人员');
    expect(shown).toContain('Please contact the staff');
    const why = /密接|管控|隔离|监测|close contact|isolation|monitoring|WATCHLIST/i;
    expect(shown).not.toMatch(why);
    expect(await page.content()).not.toMatch(why);
    expect(await (await fetch(`${gw.url}/api/lanes`)).text()).not.toMatch(why);
    await page.screenshot({ path: shot('kiosk-13-watchlist.png') });
    // The guard's ledger still says why.
    const ledger = (await (await guardGet(gw, '/api/events?limit=1')).json()) as { events: { reasons: { code: string; zh: string }[] }[] };
    expect(ledger.events[0]?.reasons).toEqual([expect.objectContaining({ code: 'WATCHLIST_CLOSE_CONTACT', zh: '您在密接管控期内' })]);
  });

  // Uses the watchlist entry of the test above.
  it('keeps five reasons whole on an 800×480 panel, and on a panel too small for them folds the last ones into "另有N项原因" but never the first', { timeout: 60_000 }, async () => {
    await present((await cli(['pass', 'issue', '--sub', listed, '--name', '钱七', ...FOUR_REASONS])).stdout.trim(), 36.5);
    await page.waitForSelector('body[data-view="refuse"] #refuse-reasons li:nth-child(5)', { timeout: 10_000 });
    const codes = ['CONTACT_STAFF', 'TRAVEL_RISK_AREA', 'HEALTH_CODE_YELLOW', 'TEST_EXPIRED', 'VISITOR_NO_APPROVAL'];
    expect(await shownCodes()).toEqual(codes);
    const all = await expectReadable(800, 480, 'kiosk-12-five-reasons-800x480.png');
    expect(all.map((i) => i.code)).toEqual(codes);
    // The first reason has no next step of its own: the next one's ("turn back") is kept.
    expect(await page.locator('#refuse-reasons li[data-code="TRAVEL_RISK_AREA"] .next .zh').isVisible()).toBe(true);

    const folded = await expectReadable(640, 360, 'kiosk-12-five-reasons-640x360.png');
    const more = folded.at(-1);
    expect(more?.code).toBe('more');
    const shown = folded.slice(0, -1).map((i) => i.code);
    expect(shown[0]).toBe('CONTACT_STAFF');
    expect(shown).toEqual(codes.slice(0, shown.length));
    expect(more?.text).toContain(`另有${codes.length - shown.length}项原因，请联系工作人员`);
    expect(more?.text).toContain(`${codes.length - shown.length} more: please ask the staff`);
    await page.setViewportSize({ width: 1920, height: 1080 });
  });
});
