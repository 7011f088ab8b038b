// web/src/overview.js: the overview of one report (restmon_report_overview,
// restmon_report_histogram): stores reporting, share of business time up
// in each window, and stores by weekly share up.
import * as api from './api.js';
import { el, hundredths, instant, percent } from './format.js';

export function renderCards(container, overview) {
  const card = (label, value, note, id) => el('div', { class: 'card', id },
    el('div', { class: 'card-value' }, value),
    el('div', { class: 'card-label' }, label),
    note ? el('div', { class: 'card-note' }, note) : null);
  container.replaceChildren(
    card('stores reporting', String(overview.stores), null, 'card-stores'),
    card('business time up, last hour', percent(overview.up_share_last_hour),
      `${hundredths(overview.uptime_last_hour)} of ${hundredths(sum(overview, 'hour'))} store-minutes`),
    card('business time up, last day', percent(overview.up_share_last_day),
      `${hundredths(overview.uptime_last_day)} of ${hundredths(sum(overview, 'day'))} store-hours`),
    card('business time up, last week', percent(overview.up_share_last_week),
      `${hundredths(overview.uptime_last_week)} of ${hundredths(sum(overview, 'week'))} store-hours`),
    card('stores down now', '…', 'at the latest poll', 'card-down'));
}

// business time of a window as the API gives it (its own column)
function sum(o, w) {
  return o[`business_time_last_${w}`];
}

export async function renderHistogram(container, reportId) {
  const [rows, { chartIn, STATE_COLORS }] = await Promise.all([
    api.reportHistogram(reportId), import('./charts.js')]);
  const chartEl = el('div', { class: 'chart histogram', role: 'img',
    'aria-label': 'Stores by share of weekly business time up: ' + rows.map((r) =>
      `${r.label}: ${r.stores} stores`).join('; ') });
  container.replaceChildren(chartEl);
  const chart = chartIn(chartEl);
  chart.setOption({
    aria: { enabled: true },
    animation: false,
    grid: { left: 56, right: 16, top: 16, bottom: 56 },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'category', data: rows.map((r) => r.label),
      name: 'share of the week\'s business time up', nameLocation: 'middle',
      nameGap: 36 },
    yAxis: { type: 'value', name: 'stores' },
    series: [{ type: 'bar', name: 'stores', data: rows.map((r) => r.stores),
      itemStyle: { color: STATE_COLORS.up } }],
  });
  return rows;
}

export function asOfLabel(report) {
  return report ? instant(report.as_of, 'UTC', true) : '—';
}
