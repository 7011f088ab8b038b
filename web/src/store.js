// web/src/store.js: one store at one instant T (a report's as_of, or the
// latest poll): its figures with their evidence (restmon_store_uptime), its
// week as a timeline (restmon_store_timeline), its incidents
// (restmon_incidents) and its business hours (restmon_store_hours).
// Without a report (a link from "down now"), T is the latest poll.
import * as api from './api.js';
import { COLUMN_LABELS, el, hundredths, instant, interval } from './format.js';

const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const WEEK_MS = 168 * 3600 * 1000;

export async function renderStore(main, storeId, reportId) {
  const report = reportId ? await api.report(reportId) : null;
  const asOf = report ? report.as_of : await api.defaultAsOf();
  const [figures, segments, incidents, hours, { renderTimeline }] = await Promise.all([
    api.storeUptime(storeId, asOf), api.storeTimeline(storeId, asOf),
    api.storeIncidents(storeId, asOf), api.storeHours(storeId),
    import('./timeline.js')]);
  const zone = hours.timezone;
  const T = Date.parse(asOf);

  const timeline = el('div', { id: 'timeline' });
  main.replaceChildren(
    el('p', { class: 'crumbs' }, el('a', { href: reportId ? `#/?report=${encodeURIComponent(reportId)}` : '#/' },
      '‹ All stores')),
    el('h1', {}, `Store ${storeId}`),
    el('p', { class: 'asof' }, `Figures at ${instant(asOf, 'UTC', true)}`,
      zone ? ` (${instant(asOf, zone)} in ${zone})` : '',
      report ? `, the instant of report ${report.report_id}` : ', the latest poll', '.'),
    el('section', { 'aria-labelledby': 'h-figures' },
      el('h2', { id: 'h-figures' }, 'Figures'), figureTable(figures)),
    el('section', { 'aria-labelledby': 'h-week' },
      el('h2', { id: 'h-week' }, 'The week'),
      el('p', { class: 'hint' }, 'Business time up, down, and closed (outside business hours); each tick is a poll that decided a segment. Scroll or drag to zoom in.'),
      timeline),
    el('section', { 'aria-labelledby': 'h-incidents' },
      el('h2', { id: 'h-incidents' }, 'Incidents'), incidentTable(incidents, zone)),
    el('section', { 'aria-labelledby': 'h-hours' },
      el('h2', { id: 'h-hours' }, 'Business hours'), hoursTable(hours)));
  renderTimeline(timeline, segments, { zone, week: [T - WEEK_MS, T] });
}

function figureTable(f) {
  const windows = ['hour', 'day', 'week'];
  return el('div', { class: 'scroll' }, el('table', { class: 'figures', id: 'store-figures' },
    el('thead', {}, el('tr', {}, el('td', {}),
      windows.map((w) => el('th', { scope: 'col' }, `last ${w} (${w === 'hour' ? 'min' : 'h'})`)))),
    el('tbody', {}, ['uptime', 'downtime', 'evidence'].map((k) => el('tr', {},
      el('th', { scope: 'row' }, { uptime: 'up', downtime: 'down', evidence: 'polls deciding it' }[k]),
      windows.map((w) => el('td', { class: 'num', 'data-column': `${k}_last_${w}` },
        k === 'evidence' ? f[`${k}_last_${w}`] : hundredths(f[`${k}_last_${w}`]))))))));
}

function incidentTable(rows, zone) {
  if (rows.length === 0)
    return el('p', { class: 'empty' }, 'No incident in the week.');
  return el('div', { class: 'scroll' }, el('table', { class: 'figures', id: 'store-incidents' },
    el('thead', {}, el('tr', {}, ['Down from', 'to', 'Business time down', 'Duration', 'Still down']
      .map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, rows.map((r) => el('tr', {},
      el('td', {}, instant(r.starts), zone ? el('br') : null, zone ? instant(r.starts, zone) : null),
      el('td', {}, instant(r.ends), zone ? el('br') : null, zone ? instant(r.ends, zone) : null),
      el('td', {}, interval(r.business_duration)),
      el('td', {}, interval(r.duration)),
      el('td', {}, r.open_at_end ? 'yes' : 'no'))))));
}

function hoursTable(h) {
  const note = el('p', {}, `Time zone: ${h.timezone}`,
    h.timezone_in_file ? '' : ' (none given for this store: restmon\'s default, semantics §2)', '.');
  if (!h.hours || h.hours.length === 0)
    return el('div', {}, note, el('p', {}, 'No business hours given: open all day, every day (semantics §2).'));
  return el('div', {}, note, el('table', { class: 'figures', id: 'store-hours' },
    el('thead', {}, el('tr', {}, ['Day', 'Opens', 'Closes'].map((t) => el('th', { scope: 'col' }, t)))),
    el('tbody', {}, h.hours.map((r) => el('tr', {},
      el('th', { scope: 'row' }, DAYS[r.day_of_week]),
      el('td', {}, r.start_local), el('td', {}, r.end_local))))));
}

export { COLUMN_LABELS };
