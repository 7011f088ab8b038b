// web/src/reports.js: reports: trigger one (every store or one store, at
// the latest poll or a chosen instant), watch it go from Running to
// Complete (restmon_api.reports), download its CSV (restmon_report_csv,
// Accept: text/csv) as the API gives it.
import * as api from './api.js';
import { el, instant, interval } from './format.js';

const WATCH_MS = 500;

export async function renderReports(main, { watch } = {}) {
  const list = el('div', { id: 'report-list' });
  const message = el('p', { id: 'report-message', role: 'status', 'aria-live': 'polite' });
  const form = el('form', { class: 'trigger', id: 'trigger-form', onsubmit: async (ev) => {
    ev.preventDefault();
    const f = ev.target.elements;
    const storeId = f.store_id.value.trim() || undefined;
    const asOf = f.as_of.value ? new Date(f.as_of.value + 'Z').toISOString() : undefined;
    f.go.disabled = true;
    try {
      const id = await api.triggerReport(asOf, storeId);
      message.textContent = `Report ${id} requested.`;
      await watchReport(id, list, message);
    } catch (e) {
      message.textContent = `Could not trigger a report: ${e.message}`;
    } finally {
      f.go.disabled = false;
    }
  } },
  el('fieldset', {},
    el('legend', {}, 'Run a report'),
    el('label', { for: 'trigger-store' }, 'Store id (empty: every store)'),
    el('input', { id: 'trigger-store', name: 'store_id', autocomplete: 'off' }),
    el('label', { for: 'trigger-asof' }, 'At (UTC; empty: the latest poll)'),
    el('input', { id: 'trigger-asof', name: 'as_of', type: 'datetime-local', step: '1' }),
    el('button', { type: 'submit', name: 'go' }, 'Run report')));
  main.replaceChildren(el('h1', {}, 'Reports'), form, message,
    el('section', { 'aria-labelledby': 'h-recent' },
      el('h2', { id: 'h-recent' }, 'Recent reports'), list));
  await renderList(list);
  if (watch) await watchReport(watch, list, message);
}

// polls the report until it is no longer Running, re-listing as it goes
async function watchReport(id, list, message) {
  for (;;) {
    const r = await api.report(id);
    await renderList(list);
    if (!r || r.status !== 'Running') {
      message.textContent = r ? `Report ${id}: ${r.status}.` : `Report ${id} is gone.`;
      return r;
    }
    message.textContent = `Report ${id}: Running…`;
    await new Promise((ok) => setTimeout(ok, WATCH_MS));
  }
}

async function renderList(list) {
  const reports = await api.recentReports(20);
  if (!list.isConnected) return;
  list.replaceChildren(el('div', { class: 'scroll' }, el('table', { class: 'figures', id: 'reports-table' },
    el('thead', {}, el('tr', {}, ['Report', 'Status', 'At (as_of)', 'Stores', 'Took', 'Requested', 'CSV']
      .map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, reports.map((r) => el('tr', { 'data-report': r.report_id, 'data-status': r.status },
      el('th', { scope: 'row' }, r.store_filter == null
        ? el('a', { href: `#/?report=${encodeURIComponent(r.report_id)}` }, r.report_id)
        : r.report_id),
      el('td', {}, el('span', { class: `report-status status-${r.status.toLowerCase()}` }, r.status),
        r.error ? el('div', { class: 'error' }, r.error) : null),
      el('td', {}, instant(r.as_of, 'UTC', true)),
      el('td', {}, r.store_filter == null ? String(r.rows ?? '—') : `store ${r.store_filter}`),
      el('td', {}, interval(r.duration)),
      el('td', {}, instant(r.requested_at, 'UTC', true)),
      el('td', {}, r.status === 'Complete'
        ? el('button', { type: 'button', class: 'download', 'data-report': r.report_id,
          onclick: () => download(r.report_id) }, 'Download CSV')
        : '—')))))));
}

async function download(id) {
  const csv = await api.reportCsv(id);
  const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
  const a = el('a', { href: url, download: `report-${id}.csv` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
