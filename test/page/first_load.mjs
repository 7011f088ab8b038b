// test/page/first_load.mjs: one first load of the page, as the browser tests
// (test/page/page.test.mjs) and the benchmark (bench/page.sh) measure it.

// one first load in a fresh browser context (nothing cached): when the
// figures and the worst stores were in (ms after navigation start), and
// every response's size
export async function firstLoad(browser, url) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const p = await context.newPage();
  const sizes = [];
  p.on('response', async (r) => {
    const body = await r.body().catch(() => Buffer.alloc(0));
    sizes.push([r.url(), Number(r.headers()['content-length'] ?? body.length)]);
  });
  await p.goto(url, { waitUntil: 'load' });
  await p.waitForFunction(() => performance.getEntriesByName('restmon-overview').length);
  const ms = await p.evaluate(() => performance.getEntriesByName('restmon-overview')[0].startTime);
  await p.waitForLoadState('networkidle');
  await context.close();
  return { ms, sizes };
}
