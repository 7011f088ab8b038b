// web/src/main.js: restmon's operators' page: the router (the view and
// its state live in the URL's hash, so every view can be bookmarked and
// the Back button works) and the overview, which shows one complete
// report (the latest, or the one picked).
//
//   #/?report=ID&sort=COL&asc=1&page=N&q=PREFIX&refresh=SECONDS&down=N
//   #/store/STORE_ID?report=ID
//   #/reports?watch=ID
import * as api from './api.js';
import { startDownNow } from './downnow.js';
import { el, instant } from './format.js';
import { renderCards, renderHistogram } from './overview.js';
import { renderReports } from './reports.js';
import { renderStore } from './store.js';
import { renderWorst } from './worst.js';

const main = document.getElementById('main');
const status = document.getElementById('status');
let stopRefresh = () => {};

function parseHash() {
  const [path, query] = location.hash.replace(/^#/, '').split('?');
  return { path: path || '/', params: new URLSearchParams(query || '') };
}

function setHash(path, params) {
  const q = new URLSearchParams(Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')).toString();
  history.replaceState(null, '', `#${path}${q ? '?' + q : ''}`);
}

async function route() {
  stopRefresh();
  stopRefresh = () => {};
  const { path, params } = parseHash();
  const store = /^\/store\/(.+)$/.exec(path);
  try {
    if (store)
      await renderStore(main, decodeURIComponent(store[1]), params.get('report'));
    else if (path === '/reports')
      await renderReports(main, { watch: params.get('watch') });
    else
      await renderOverview(params);
    document.title = `restmon: ${main.querySelector('h1')?.textContent || 'stores'}`;
  } catch (e) {
    main.replaceChildren(el('h1', {}, 'Something went wrong'),
      el('p', { class: 'error', role: 'alert' }, e.message),
      e.hint ? el('p', {}, e.hint) : null);
  }
}

// the report the overview shows: the one named, or the latest complete
// report of every store
async function pickReport(params, recent) {
  const wanted = params.get('report');
  if (wanted)
    return recent.find((r) => r.report_id === wanted) || await api.report(wanted);
  return recent.find((r) => r.status === 'Complete' && r.store_filter == null) || null;
}

async function renderOverview(params) {
  const recent = await api.recentReports(50);
  const report = await pickReport(params, recent);
  const refresh = Math.max(1, Number(params.get('refresh')) || 30);
  const cards = el('div', { class: 'cards', id: 'cards' });
  const down = el('div', { id: 'down-now' }, el('p', {}, 'Loading…'));
  const histogram = el('div', { id: 'histogram' });
  const worst = el('div', { id: 'worst' });
  main.replaceChildren(
    el('h1', {}, 'Stores online'),
    asOfPicker(recent, report),
    cards,
    el('div', { class: 'columns' },
      el('section', { 'aria-labelledby': 'h-down' },
        el('h2', { id: 'h-down' }, 'Down now'), down),
      el('section', { 'aria-labelledby': 'h-hist' },
        el('h2', { id: 'h-hist' }, 'Stores by weekly uptime'), histogram)),
    el('section', { 'aria-labelledby': 'h-worst' },
      el('h2', { id: 'h-worst' }, 'Worst stores'), worst));
  if (!report || report.status !== 'Complete') {
    cards.replaceChildren(el('p', {}, report
      ? `Report ${report.report_id} is ${report.status}.`
      : 'No complete report of every store yet. ',
    el('a', { href: '#/reports' }, 'Run one')));
  } else {
    const state = {
      report: report.report_id,
      sort: params.get('sort') || 'downtime_last_week',
      asc: params.get('asc') === '1',
      page: Math.max(0, Number(params.get('page')) || 0),
      q: params.get('q') || '',
    };
    const onChange = async (next) => {
      setHash('/', { report: params.get('report'), sort: next.sort,
        asc: next.asc ? '1' : undefined, page: next.page || undefined,
        q: next.q, refresh: params.get('refresh'), down: params.get('down') });
      await renderWorst(worst, next, onChange);
    };
    const [overview] = await Promise.all([
      api.reportOverview(report.report_id), renderWorst(worst, state, onChange)]);
    renderCards(cards, overview);
    // the first meaningful paint: the figures and the worst stores are in
    performance.mark('restmon-overview');
    renderHistogram(histogram, report.report_id).catch(showError);
  }
  stopRefresh = startDownNow(down, { seconds: refresh,
    limit: Math.min(1000, Math.max(1, Number(params.get('down')) || 10)),
    onCount: (n) => {
      const card = document.querySelector('#card-down .card-value');
      if (card) card.textContent = String(n);
    } });
}

// which report the overview shows: the complete reports of every store
function asOfPicker(recent, report) {
  const complete = recent.filter((r) => r.status === 'Complete' && r.store_filter == null);
  const select = el('select', { id: 'asof-select', onchange: (ev) => {
    location.hash = `#/?report=${encodeURIComponent(ev.target.value)}`;
  } }, complete.map((r) => el('option', { value: r.report_id,
    selected: report && r.report_id === report.report_id },
  `${instant(r.as_of, 'UTC', true)} (report ${r.report_id})`)));
  return el('div', { class: 'asof' },
    el('label', { for: 'asof-select' }, 'Figures at'),
    complete.length ? select : el('span', {}, '—'),
    el('a', { href: '#/reports' }, 'Another instant: run a report'));
}

function showError(e) {
  status.textContent = `Error: ${e.message}`;
}

window.addEventListener('hashchange', route);
route();
