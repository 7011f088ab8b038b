// web/src/worst.js: the worst stores of a report: one page of
// restmon_api.report_rows at a time, sorted, paged and searched on the
// server (order, offset/limit, Prefer: count=exact); never all the stores.
import * as api from './api.js';
import { COLUMN_LABELS, el, hundredths, storeLink } from './format.js';

export const PAGE_SIZE = 25;
const COLUMNS = ['store_id', ...api.REPORT_COLUMNS];

// state: { report, sort, asc, page, q }; onChange(newState) re-renders
export async function renderWorst(container, state, onChange) {
  const { rows, count } = await api.reportRows(state.report, {
    order: state.sort, ascending: state.asc, offset: state.page * PAGE_SIZE,
    limit: PAGE_SIZE, prefix: state.q,
  });
  const first = count === 0 ? 0 : state.page * PAGE_SIZE + 1;
  const last = state.page * PAGE_SIZE + rows.length;

  const search = el('form', { class: 'search', role: 'search',
    onsubmit: (ev) => {
      ev.preventDefault();
      onChange({ ...state, q: ev.target.elements.q.value.trim(), page: 0 });
    } },
  el('label', { for: 'worst-q' }, 'Store id starts with'),
  el('input', { id: 'worst-q', name: 'q', value: state.q || '', inputmode: 'search',
    autocomplete: 'off' }),
  el('button', { type: 'submit' }, 'Search'));

  const head = el('tr', {}, COLUMNS.map((c) => {
    const sorted = state.sort === c;
    const next = sorted ? !state.asc : c === 'store_id' || c.startsWith('uptime');
    return el('th', { scope: 'col',
      'aria-sort': sorted ? (state.asc ? 'ascending' : 'descending') : null },
    el('button', { type: 'button', class: 'sort', 'data-column': c,
      onclick: () => onChange({ ...state, sort: c, asc: next, page: 0,
        focus: `[data-column="${c}"]` }) },
    COLUMN_LABELS[c], sorted ? (state.asc ? ' ▲' : ' ▼') : ''));
  }));
  const body = rows.map((r) => el('tr', {}, COLUMNS.map((c) => c === 'store_id'
    ? el('th', { scope: 'row' }, storeLink(r.store_id, state.report))
    : el('td', { class: 'num' }, hundredths(r[c])))));

  const pager = el('nav', { class: 'pager', 'aria-label': 'Pages of stores' },
    el('button', { type: 'button', 'data-page': 'prev', disabled: state.page === 0,
      onclick: () => onChange({ ...state, page: state.page - 1,
        focus: '[data-page="prev"]' }) }, '‹ Previous'),
    el('span', { class: 'range', 'aria-live': 'polite' },
      `stores ${first}–${last} of ${count}`),
    el('button', { type: 'button', 'data-page': 'next', disabled: last >= count,
      onclick: () => onChange({ ...state, page: state.page + 1,
        focus: '[data-page="next"]' }) }, 'Next ›'));

  const table = el('table', { class: 'figures', id: 'worst-table' },
    el('caption', {}, `Stores by ${COLUMN_LABELS[state.sort].toLowerCase()}, `
      + (state.asc ? 'ascending' : 'descending')),
    el('thead', {}, head), el('tbody', {}, body));
  container.replaceChildren(search, el('div', { class: 'scroll' }, table), pager);
  // keep the keyboard where it was (a disabled button gives way to its twin)
  const again = state.focus && container.querySelector(state.focus);
  if (again && !again.disabled) again.focus();
  else if (again) container.querySelector('.pager button:not([disabled])')?.focus();
  return { rows, count };
}
