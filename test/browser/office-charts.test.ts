// The console's charts page in a real browser against the built central service on
// PostgreSQL, the database filled through the real writer (classify + writeBatch): today's
// passages at three checkpoints, refusals over the last two weeks and fever alerts over a
// month. The page draws three uPlot canvases whose legends and totals match the API's
// data (checked in the DOM, not in pixels), resizes them with the window, says in words
// when a day has no passages, and takes in an event published over the broker without a
// click. Screenshots at 1920×1080 and 1366×768.
import { connect } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classify } from '../../central/classify.js';
import { chinaDate, chinaDayStart } from '../../central/console/charts.js';
import { openDb, type Db } from '../../central/db/adapter.js';
import { Partitions } from '../../central/db/partitions.js';
import { loadValidators } from '../../central/schemas.js';
import { monthsOf, writeBatch } from '../../central/writer.js';
import { Cleanup, SHARED_BROKER, tempDir } from '../gateway/telemetry/helpers.js';
import { alertPayload, eventPayload, testDatabase, writeServiceConfig } from '../central/helpers.js';
import { startServiceProcess, type ServiceProcess } from '../central/process.js';
import { launchChromium, shot } from './browser.js';
import { addOfficer, OFFICER_PASSWORD, SCREEN_SIZES } from './office-helpers.js';

const PREFIX = 'test-office-charts';
const SITE = 'mine-a';
const DAY = 86_400_000;
const HOUR = 3_600_000;
const REFUSAL_REASONS = ['HEALTH_CODE_RED', 'TEMP_FEVER', 'TEST_EXPIRED', 'WATCHLIST_ISOLATION'];

let cleanup: Cleanup;
let office: ServiceProcess;
let browser: Browser;

/** Writes the fixture through the writer; times relative to `now` (China-time days). */
async function seedCharts(db: Db, now: number): Promise<void> {
  const validators = loadValidators();
  const partitions = new Partitions(db);
  const seqs = new Map<string, number>();
  const items: ReturnType<typeof classify>[] = [];
  const add = (checkpoint: string, channel: string, body: unknown): void => {
    items.push(classify(`${PREFIX}/${SITE}/${checkpoint}/${channel}`, Buffer.from(JSON.stringify(body)), PREFIX, validators));
  };
  const event = (checkpoint: string, at: number, outcome: 'admit' | 'refuse' | 'refer', reasons: string[] = []): void => {
    const seq = (seqs.get(checkpoint) ?? 0) + 1;
    seqs.set(checkpoint, seq);
    add(checkpoint, 'events', eventPayload({ site: SITE, checkpoint }, seq, { at: new Date(at).toISOString(), outcome, reasons, alerts: [] }));
  };
  // Today so far: 150 passages spread over the hours begun, gate-1 the busiest.
  const today = chinaDayStart(chinaDate(now));
  const elapsed = Math.max(60_000, now - today - 60_000);
  for (let i = 0; i < 150; i += 1) {
    const at = today + Math.floor((elapsed * (i + 0.5)) / 150);
    const checkpoint = i % 6 < 3 ? 'gate-1' : i % 6 < 5 ? 'gate-2' : 'gate-3';
    if (i % 10 === 3) event(checkpoint, at, 'refuse', [REFUSAL_REASONS[i % 2]!]);
    else if (i % 17 === 5) event(checkpoint, at, 'refer', ['DEVICE_DOWN_THERMOMETER']);
    else event(checkpoint, at, 'admit');
  }
  // The 13 days before: 1-4 refusals a day at 10:00 China time, with rotating reasons.
  for (let d = 1; d <= 13; d += 1) {
    for (let k = 0; k < (d % 4) + 1; k += 1) event('gate-2', today - d * DAY + 10 * HOUR + k * 60_000, 'refuse', [REFUSAL_REASONS[(d + k) % 4]!]);
  }
  // Fever alerts: 0-2 a day over the last 30 days, at 09:00 China time.
  for (let d = 0; d < 30; d += 1) {
    const at = Math.min(now - 60_000, today - d * DAY + 9 * HOUR);
    for (let k = 0; k < d % 3; k += 1) add('gate-1', 'alerts', alertPayload({ site: SITE, checkpoint: 'gate-1' }, null, { at: new Date(at + k * 1000).toISOString() }));
  }
  for (const it of items) if (it.type === 'rejected') throw new Error(`fixture message rejected: ${it.reason}`);
  await partitions.ensure(monthsOf(items, now));
  await db.transaction((tx) => writeBatch(tx, items, now));
}

async function signIn(page: Page, id: string): Promise<void> {
  await page.goto(`${office.url}/sign-in`);
  await page.fill('#officer-id', id);
  await page.fill('#password', OFFICER_PASSWORD);
  await page.click('button[type="submit"]');
  await page.waitForURL(`${office.url}/`);
}

interface Passages { checkpoints: { checkpoint: string; totals: { admitted: number; refused: number; referred: number } }[] }
interface Refusals { refused: number[]; reasons: { zh: string; en: string; total: number }[] }
interface Fever { total: number[] }

const api = async <T,>(page: Page, path: string): Promise<T> => {
  const res = await page.request.get(`${office.url}${path}`);
  expect(res.status(), path).toBe(200);
  return (await res.json()) as T;
};
const legend = async (page: Page, chart: string): Promise<string[]> =>
  (await page.locator(`#${chart} .u-legend .u-series .u-label`).allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
const total = async (page: Page, chart: string): Promise<number> => Number(await page.locator(`#${chart}`).getAttribute('data-total'));
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

describe('office console charts page in the browser', () => {
  beforeAll(async () => {
    cleanup = new Cleanup();
    const dataDir = await tempDir(cleanup, 'office-charts');
    const databaseUrl = await testDatabase(cleanup);
    const config = await writeServiceConfig({ dataDir, databaseUrl, mqttUrl: SHARED_BROKER, clientId: 'office-charts', prefix: PREFIX });
    expect(await addOfficer(config, 'zhao.min', '赵敏', 'viewer')).toBe(0);
    office = await startServiceProcess(cleanup, config);
    const db = await openDb({ url: databaseUrl, dataDir });
    cleanup.add(() => db.close());
    await seedCharts(db, Date.now());
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await cleanup.run();
  });

  it('draws the three charts with the API\'s data in their legends and totals, resizes them with the window, and takes a published event in without a click', async () => {
    const page = await browser.newPage({ viewport: SCREEN_SIZES[0] });
    await signIn(page, 'zhao.min');
    await page.click('.nav a[data-page="charts"]');
    for (const chart of ['chart-passages', 'chart-refusals', 'chart-fever']) await page.waitForSelector(`#${chart} canvas`);
    const [passages, refusals, fever] = await Promise.all([
      api<Passages>(page, '/api/charts/passages'),
      api<Refusals>(page, '/api/charts/refusals?days=14'),
      api<Fever>(page, '/api/charts/fever?days=30'),
    ]);

    // Legends start with the hovered hour or day. Passages: one line per checkpoint, refused and referred as bars; the totals table is the API's.
    expect(passages.checkpoints.map((c) => c.checkpoint)).toEqual(['gate-1', 'gate-2', 'gate-3']);
    expect(sum(passages.checkpoints.map((c) => c.totals.admitted + c.totals.refused + c.totals.referred))).toBe(150);
    expect(await total(page, 'chart-passages')).toBe(150);
    expect(await legend(page, 'chart-passages')).toEqual(['时 Hour', '拒绝 Refused', '待核 Referred', 'gate-1', 'gate-2', 'gate-3']);
    const rows = (await page.locator('#passage-totals tbody tr').allInnerTexts()).map((t) => t.split(/\s+/).join(' '));
    expect(rows).toEqual(passages.checkpoints.map((c) => `${c.checkpoint} ${c.totals.admitted} ${c.totals.refused} ${c.totals.referred}`));

    // Refusals: one line per reason, named in words, plus the day's refused passages.
    const refusedIn14 = sum(refusals.refused);
    expect(refusedIn14).toBeGreaterThan(15);
    expect(await total(page, 'chart-refusals')).toBe(refusedIn14);
    expect(await legend(page, 'chart-refusals')).toEqual(['日期 Day', '拒绝人次 Refused passages', ...refusals.reasons.map((r) => `${r.zh} ${r.en}`)]);
    expect(await legend(page, 'chart-refusals')).toEqual(expect.arrayContaining(['体温偏高 Temperature too high', '健康码为红码 Health code is red']));

    // Fever alerts per day.
    expect(await total(page, 'chart-fever')).toBe(sum(fever.total));
    expect(sum(fever.total)).toBe(30);
    expect(await legend(page, 'chart-fever')).toEqual(['日期 Day', '发热告警 Fever alerts']);
    expect(await page.locator('.charts canvas').count()).toBe(3);

    // Resizing the window resizes the charts.
    const wide = (await page.locator('#chart-passages canvas').boundingBox())!.width;
    for (const size of SCREEN_SIZES) {
      await page.setViewportSize(size);
      await expect.poll(async () => Math.round((await page.locator('#chart-passages canvas').boundingBox())!.width)).toBe(Math.round((await page.locator('#chart-passages .plot').boundingBox())!.width));
      await page.screenshot({ path: shot(`office-charts-${size.width}x${size.height}.png`), fullPage: true });
    }
    expect((await page.locator('#chart-passages canvas').boundingBox())!.width).toBeLessThan(wide - 300);

    // Live: a refusal a gateway publishes now shows up without a click.
    await expect.poll(async () => ((await (await fetch(`${office.url}/healthz`)).json()) as { broker: { connected: boolean } }).broker.connected, { timeout: 10_000 }).toBe(true);
    const gw = connect(SHARED_BROKER, { clientId: `fake-gw-charts-${process.pid}` });
    await new Promise<void>((resolve, reject) => {
      gw.once('connect', () => resolve());
      gw.once('error', reject);
    });
    const live = eventPayload({ site: SITE, checkpoint: 'gate-3' }, 1000, { at: new Date().toISOString(), outcome: 'refuse', reasons: ['TEMP_FEVER'], alerts: [] });
    await gw.publishAsync(`${PREFIX}/${SITE}/gate-3/events`, JSON.stringify(live), { qos: 1 });
    await gw.endAsync();
    await expect.poll(() => total(page, 'chart-passages'), { timeout: 15_000 }).toBe(151);
    expect(await page.locator('#passage-totals tr[data-checkpoint="gate-3"] td.refused').count()).toBe(1);
    await page.close();
  }, 90_000);

  it('says in words that a day had no passages, and draws no chart for it', async () => {
    const page = await browser.newPage({ viewport: SCREEN_SIZES[1] });
    await signIn(page, 'zhao.min');
    await page.goto(`${office.url}/#charts`);
    await page.waitForSelector('#chart-passages canvas');
    const quiet = chinaDate(Date.now() - 60 * DAY);
    await page.fill('#c-date', quiet);
    await page.dispatchEvent('#c-date', 'change');
    await page.waitForSelector('#chart-passages .empty');
    expect((await page.locator('#chart-passages .empty').innerText()).replace(/\s+/g, ' ')).toBe(`${quiet} 没有通行记录。 No passages on ${quiet}.`);
    expect(await page.locator('#chart-passages canvas').count()).toBe(0);
    // The two day charts are not about that date: still drawn.
    expect(await page.locator('#chart-refusals canvas, #chart-fever canvas').count()).toBe(2);
    await page.close();
  }, 60_000);
});
