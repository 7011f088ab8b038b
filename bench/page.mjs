// bench/page.mjs: the web page's first load on the benchmark's cluster
// (bench/page.sh): RUNS first loads in fresh browser contexts of Debian's
// chromium; prints the first meaningful paint of each (the overview's
// figures and worst stores in, ms after navigation start), and the largest
// response of any of them.
import { chromium } from 'playwright-core';
import { firstLoad } from '../test/page/first_load.mjs';

const url = process.env.RESTMON_URL + '/web/';
const runs = Number(process.env.RUNS || 5);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'] });
const loads = [];
for (let i = 0; i < runs; i++)
  loads.push(await firstLoad(browser, url));
await browser.close();
const ms = loads.map((l) => Math.round(l.ms)).sort((a, b) => a - b);
const [bigUrl, big] = loads.flatMap((l) => l.sizes).sort((a, b) => b[1] - a[1])[0];
const total = loads[0].sizes.reduce((n, [, b]) => n + b, 0);
console.log(JSON.stringify({ paints_ms: ms, median_ms: ms[Math.floor(ms.length / 2)],
  best_ms: ms[0], largest_response: { url: bigUrl.replace(/^https?:\/\/[^/]+/, ''), bytes: big },
  first_load_bytes: total, requests: loads[0].sizes.length }));
