// test/page/page.test.mjs: the operators' web page in Debian's chromium
// (playwright-core), against the gateway at RESTMON_URL serving the
// installed page and the PostgREST dialect, on the test cluster (psql with
// the libpq environment test/page.sh sets).  What the page shows is
// compared with the same query in SQL; the page computes no figure
// (issue 16).  Run by test/page.sh, which loads the demo and triggers the
// report RESTMON_REPORT.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';
import { firstLoad } from './first_load.mjs';

const BASE = process.env.RESTMON_URL;
const REPORT = process.env.RESTMON_REPORT;
const SHOTS = process.env.RESTMON_SHOTS;
const PAGE_SIZE = 25;
const FIGURES = ['uptime_last_hour', 'uptime_last_day', 'uptime_last_week',
  'downtime_last_hour', 'downtime_last_day', 'downtime_last_week'];

// rows of a query as arrays of text (psql, unaligned, tab-separated)
function sql(query) {
  const out = execFileSync('psql', ['-X', '-At', '-F', '\t', '-v', 'ON_ERROR_STOP=1',
    '-c', query], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
}
const quote = (s) => `'${String(s).replace(/'/g, "''")}'`;

let browser;
let page;
const consoleErrors = [];

before(async () => {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu'] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
});
after(async () => { await browser?.close(); });

// the worst-stores table as the page shows it: [store_id, ...figures]
async function worstRows() {
  return page.$$eval('#worst-table tbody tr', (trs) => trs.map((tr) =>
    [...tr.querySelectorAll('th, td')].map((c) => c.textContent.trim())));
}
function sqlPage(order, asc, offset) {
  return sql(`SELECT store_id, ${FIGURES.join(', ')} FROM restmon_api.report_rows
    WHERE report_id = ${quote(REPORT)}
    ORDER BY ${order} ${asc ? 'ASC' : 'DESC'}${order === 'store_id' ? '' : ', store_id'}
    LIMIT ${PAGE_SIZE} OFFSET ${offset}`);
}
async function waitTable(expectedFirst) {
  await page.waitForFunction((id) => document.querySelector(
    '#worst-table tbody th')?.textContent.trim() === id, expectedFirst);
}

test('GET / from a browser leads to the page; a JSON client still gets the OpenAPI document', async () => {
  const res = await page.goto(BASE + '/');
  assert.equal(new URL(page.url()).pathname, '/web/');
  assert.equal(res.headers()['content-type'], 'text/html; charset=utf-8');
  const api = await fetch(BASE + '/', { headers: { Accept: 'application/openapi+json' } });
  assert.equal((await api.json()).openapi, '3.0.3');
  const plain = await fetch(BASE + '/');
  assert.match(plain.headers.get('content-type'), /openapi\+json/);
});

test('first load: the overview paints and no response is over 1 MB', async () => {
  // how fast it paints is the benchmark's (bench/page.sh), never a test's:
  // here, that the overview's mark is reached in each of three first loads
  const loads = [];
  for (let i = 0; i < 3; i++)
    loads.push(await firstLoad(browser, BASE + '/web/'));
  console.log(`first meaningful paint: ${loads.map((l) => l.ms.toFixed(0)).join(', ')} ms`);
  for (const l of loads)
    assert.ok(Number.isFinite(l.ms) && l.ms > 0, `overview mark at ${l.ms}`);
  const big = loads.flatMap((l) => l.sizes).filter(([, n]) => n > 1024 * 1024);
  assert.deepEqual(big, [], 'responses over 1 MB');
  await page.goto(BASE + '/web/');
  await page.waitForSelector('#worst-table tbody tr');
});

test('overview: stores reporting and shares up are restmon_report_overview()', async () => {
  const [[stores, hour, day, week]] = sql(`SELECT stores, up_share_last_hour,
    up_share_last_day, up_share_last_week
    FROM restmon_api.restmon_report_overview(${quote(REPORT)})`);
  const cards = await page.$$eval('#cards .card-value', (els) => els.map((e) => e.textContent));
  const pct = (s) => `${(Number(s) * 100).toFixed(1)} %`;
  assert.deepEqual(cards.slice(0, 4), [stores, pct(hour), pct(day), pct(week)]);
});

test('worst stores: the first page equals the same query in SQL', async () => {
  const expected = sqlPage('downtime_last_week', false, 0);
  assert.equal(expected.length, PAGE_SIZE);
  assert.deepEqual(await worstRows(), expected);
  const [[count]] = sql(`SELECT count(*) FROM restmon_api.report_rows WHERE report_id = ${quote(REPORT)}`);
  assert.match(await page.textContent('.pager .range'), new RegExp(`^stores 1–25 of ${count}$`));
});

test('worst stores: sorting and paging change it as SQL says', async () => {
  await page.click('button[data-column="uptime_last_day"]');
  let expected = sqlPage('uptime_last_day', true, 0);
  await waitTable(expected[0][0]);
  assert.deepEqual(await worstRows(), expected, 'uptime_last_day ascending');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.column), 'uptime_last_day',
    'the focus stays on the column header');

  await page.keyboard.press('Enter');	// the keyboard sorts too: descending
  expected = sqlPage('uptime_last_day', false, 0);
  await waitTable(expected[0][0]);
  assert.deepEqual(await worstRows(), expected, 'uptime_last_day descending');

  await page.click('button[data-page="next"]');
  expected = sqlPage('uptime_last_day', false, PAGE_SIZE);
  await waitTable(expected[0][0]);
  assert.deepEqual(await worstRows(), expected, 'second page');
  assert.match(page.url(), /sort=uptime_last_day/);
  assert.match(page.url(), /page=1/);

  await page.click('button[data-column="store_id"]');
  expected = sqlPage('store_id', true, 0);
  await waitTable(expected[0][0]);
  assert.deepEqual(await worstRows(), expected, 'store_id ascending');

  const prefix = expected[3][0].slice(0, 3);
  await page.fill('#worst-q', prefix);
  await page.press('#worst-q', 'Enter');
  const found = sql(`SELECT store_id FROM restmon_api.report_rows
    WHERE report_id = ${quote(REPORT)} AND starts_with(store_id, ${quote(prefix)})
    ORDER BY store_id LIMIT ${PAGE_SIZE}`).map((r) => r[0]);
  await page.waitForFunction((n) => document.querySelectorAll('#worst-table tbody tr').length === n
    && document.querySelector('#worst-q') !== null, found.length);
  assert.deepEqual((await worstRows()).map((r) => r[0]), found, `stores starting with ${prefix}`);
});

// go to an overview and wait for its first "down now" refresh: one that
// began after the navigation (the view before it may still be on screen,
// its own list with it, until the new one replaces it)
async function gotoDownNow(url) {
  const since = new Date().toISOString();
  await page.goto(url);
  await page.waitForFunction((t) => (document.querySelector('#down-now')?.dataset.refreshStarted ?? '') >= t,
    since, { timeout: 15000 });
}

test('down now lists exactly the stores SQL lists', async () => {
  await gotoDownNow(BASE + '/web/#/?refresh=2');
  const expected = sql(`SELECT store_id FROM restmon_incidents(restmon_default_as_of())
    WHERE open_at_end ORDER BY business_duration DESC, store_id LIMIT 10`).map((r) => r[0]);
  const shown = await page.$$eval('#down-table tbody tr', (trs) => trs.map((t) => t.dataset.store));
  assert.ok(expected.length > 0);
  assert.deepEqual(shown, expected);
  const [[count]] = sql(`SELECT count(*) FROM restmon_incidents(restmon_default_as_of()) WHERE open_at_end`);
  assert.equal(await page.textContent('#card-down .card-value'), count);
  if (SHOTS) await page.screenshot({ path: join(SHOTS, 'page-overview.png'), fullPage: true });
});

test('store page: the timeline draws exactly the segments of restmon_store_timeline()', async () => {
  // a store whose week has all three states
  const [[store]] = sql(`SELECT store_id FROM restmon.store s,
      LATERAL (SELECT count(DISTINCT state) AS n, count(*) AS segs
               FROM restmon_store_timeline(s.store_id,
                    (SELECT as_of FROM restmon.report WHERE report_id = ${quote(REPORT)}))) t
    WHERE t.n = 3 ORDER BY t.segs DESC, store_id LIMIT 1`);
  const segments = sql(`SELECT state FROM restmon_store_timeline(${quote(store)},
    (SELECT as_of FROM restmon.report WHERE report_id = ${quote(REPORT)})) ORDER BY starts`).map((r) => r[0]);
  await page.goto(`${BASE}/web/#/store/${store}?report=${REPORT}`);
  await page.waitForSelector('#timeline .chart[data-series]');
  const shown = await page.$$eval('#segment-table tbody tr', (trs) => trs.map((t) => t.dataset.state));
  assert.deepEqual(shown, segments, 'the table of segments');
  const series = JSON.parse(await page.getAttribute('#timeline .chart', 'data-series'));
  for (const state of ['closed', 'up', 'down'])
    assert.equal(series[state], segments.filter((s) => s === state).length, `the chart's ${state} bands`);
  const figures = sql(`SELECT ${FIGURES.join(', ')} FROM restmon_store_uptime(
    (SELECT as_of FROM restmon.report WHERE report_id = ${quote(REPORT)}), ${quote(store)})`)[0];
  const cells = await page.$$eval('#store-figures td[data-column]', (tds) =>
    Object.fromEntries(tds.map((td) => [td.dataset.column, td.textContent])));
  assert.deepEqual(FIGURES.map((f) => cells[f]), figures, 'its figures');
  if (SHOTS) await page.screenshot({ path: join(SHOTS, 'page-store.png'), fullPage: true });
});

test('down now: a poll recorded over HTTP that turns a store down shows within one refresh', async () => {
  // a store open all week (no hours rows), up at the latest poll
  const [[store, T]] = sql(`SELECT s.store_id, restmon_default_as_of()
    FROM restmon.store s
    WHERE NOT EXISTS (SELECT FROM restmon.business_hours h WHERE h.store_id = s.store_id)
      AND NOT EXISTS (SELECT FROM restmon_incidents(NULL, '0', s.store_id) i WHERE i.open_at_end)
    ORDER BY s.store_id LIMIT 1`);
  // every store down now on the page (down=1000)
  await gotoDownNow(BASE + '/web/#/?refresh=2&down=1000');
  assert.ok(!(await page.$(`#down-table tr[data-store="${store}"]`)), 'not down before');
  const at = new Date(Date.parse(T.replace(' ', 'T').replace(/\+00$/, 'Z')) + 60000).toISOString();
  const recorded = new Date();
  const res = await fetch(BASE + '/api/polls', { method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify([{ store_id: store, status: 'inactive', timestamp_utc: at }]) });
  assert.equal(res.status, 200, await res.text());
  const [[open]] = sql(`SELECT count(*) FROM restmon_incidents(NULL, '0', ${quote(store)}) WHERE open_at_end`);
  assert.equal(open, '1', 'SQL says the store is down now');
  // the first refresh that began after the poll was recorded shows it
  await page.waitForFunction((t) => document.querySelector('#down-now').dataset.refreshStarted > t,
    recorded.toISOString(), { timeout: 15000 });
  const shown = await page.$$eval('#down-table tbody tr', (trs) => trs.map((t) => t.dataset.store));
  const expected = sql(`SELECT store_id FROM restmon_incidents(restmon_default_as_of())
    WHERE open_at_end ORDER BY business_duration DESC, store_id LIMIT 1000`).map((r) => r[0]);
  assert.ok(shown.includes(store), `${store} is shown down`);
  assert.deepEqual(shown, expected);
  const [[count]] = sql(`SELECT count(*) FROM restmon_incidents(restmon_default_as_of()) WHERE open_at_end`);
  assert.equal(await page.textContent('#card-down .card-value'), count);
});

test('reports: triggered from the page, it ends Complete and its CSV equals restmon_report_csv()', async () => {
  await page.goto(BASE + '/web/#/reports');
  await page.waitForSelector('#reports-table');
  await page.click('#trigger-form button[type="submit"]');
  await page.waitForFunction(() => /: Complete\.$/.test(document.querySelector('#report-message').textContent),
    null, { timeout: 60000 });
  const id = /^Report (\S+):/.exec(await page.textContent('#report-message'))[1];
  assert.equal(sql(`SELECT status FROM restmon.report WHERE report_id = ${quote(id)}`)[0][0], 'Complete');
  const [download] = await Promise.all([page.waitForEvent('download'),
    page.click(`button.download[data-report="${id}"]`)]);
  const csv = readFileSync(await download.path(), 'utf8');
  const expected = execFileSync('psql', ['-X', '-At', '-c',
    `SELECT restmon_report_csv(${quote(id)})`], { encoding: 'utf8' }).replace(/\n$/, '');
  assert.equal(csv, expected);
  assert.equal(download.suggestedFilename(), `report-${id}.csv`);
});

test('phone width: nothing wider than the screen but the tables\' own scrollers', async () => {
  const phone = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  phone.on('pageerror', (e) => consoleErrors.push(String(e)));
  await phone.goto(BASE + '/web/');
  await phone.waitForSelector('#worst-table tbody tr');
  const width = await phone.evaluate(() => document.documentElement.scrollWidth);
  const wide = await phone.evaluate(() => [...document.querySelectorAll('main *')]
    .filter((e) => e.getBoundingClientRect().right > 391 && !e.closest('.scroll'))
    .map((e) => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className).slice(0, 5));
  assert.ok(width <= 390, `the page is ${width} px wide: ${wide.join(', ')}`);
  if (SHOTS) await phone.screenshot({ path: join(SHOTS, 'page-phone.png') });
  await phone.close();
});

test('accessibility: axe finds no serious or critical violation', async () => {
  const views = ['/web/', `/web/#/store/${sql('SELECT min(store_id) FROM restmon.store')[0][0]}?report=${REPORT}`,
    '/web/#/reports'];
  for (const v of views) {
    await page.goto(BASE + v);
    await page.waitForSelector(v.includes('store') ? '#timeline .chart[data-series]'
      : v.includes('reports') ? '#reports-table' : '#worst-table tbody tr');
    const { violations } = await new AxeBuilder({ page }).analyze();
    const bad = violations.filter((x) => x.impact === 'serious' || x.impact === 'critical')
      .map((x) => `${x.id}: ${x.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
    assert.deepEqual(bad, [], v);
  }
});

test('keyboard: the skip link and the sort buttons take a visible focus', async () => {
  await page.goto(BASE + '/web/');
  await page.waitForSelector('#worst-table tbody tr');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'skip');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.equal(outline, 'solid');
});

test('no console errors', () => {
  assert.deepEqual(consoleErrors, []);
});
