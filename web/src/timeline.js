// web/src/timeline.js: a store's week as a state timeline: the segments of
// restmon_store_timeline() as bands on a time axis (UTC below, the store's
// local time above), one ECharts custom series per state, and the polls
// that decided them as ticks.  Hovering a band names its state, its
// bounds and the poll that decided it.  The same segments are listed in a
// table under the chart (for the keyboard and screen readers).
import { chartIn, DOWN_DECAL, echarts, STATE_COLORS } from './charts.js';
import { axisTime, el, instant } from './format.js';

const STATES = ['closed', 'up', 'down'];

function band(params, api) {
  const start = api.coord([api.value(0), 1]);
  const end = api.coord([api.value(1), 1]);
  const state = STATES[api.value(2)];
  const height = api.size([0, 1])[1] * (state === 'closed' ? 0.35 : 0.7);
  const cs = params.coordSys;
  const shape = echarts.graphic.clipRectByRect(
    { x: start[0], y: start[1] - height / 2, width: Math.max(end[0] - start[0], 1), height },
    { x: cs.x, y: cs.y, width: cs.width, height: cs.height });
  return shape && { type: 'rect', shape, style: api.style() };
}

function tooltip(p, zone) {
  if (p.seriesName === 'polls')
    return `poll at ${instant(p.value[0], 'UTC', true)}`;
  const [s, e, , by] = p.value;
  const local = zone ? `<br>${instant(s, zone)} – ${instant(e, zone)} (${zone})` : '';
  const why = p.seriesName === 'closed' ? 'outside business hours'
    : by == null ? 'no poll decides it: down by definition'
      : `decided by the poll at ${instant(by, 'UTC', true)}`;
  return `<b>${p.seriesName}</b> ${instant(s)} – ${instant(e)}${local}<br>${why}`;
}

// segments: rows of restmon_store_timeline(); week: [start, end] as ms
export function renderTimeline(container, segments, { zone, week }) {
  const chartEl = el('div', { class: 'chart timeline', role: 'img',
    'aria-label': `The week as ${segments.length} segments: `
      + STATES.map((s) => `${segments.filter((g) => g.state === s).length} ${s}`).join(', ')
      + '; the table below lists them.' });
  const data = segments.map((g) => [Date.parse(g.starts), Date.parse(g.ends),
    STATES.indexOf(g.state), g.decided_by == null ? null : Date.parse(g.decided_by)]);
  const polls = [...new Set(segments.map((g) => g.decided_by).filter(Boolean))]
    .map((t) => [Date.parse(t), 0]);
  const axis = (position, tz) => ({ type: 'time', position, min: week[0], max: week[1],
    axisLabel: { hideOverlap: true, lineHeight: 14, formatter: (v) => axisTime(v, tz) },
    name: tz, nameLocation: 'start', nameGap: 8,
    nameTextStyle: { align: 'right', verticalAlign: position === 'top' ? 'bottom' : 'top', padding: [0, 4, 0, 0] }, splitLine: { show: position === 'bottom' } });
  container.replaceChildren(chartEl, segmentTable(segments, zone));
  const chart = chartIn(chartEl);
  chart.setOption({
    useUTC: true,
    animation: false,
    aria: { enabled: true, decal: { show: false } },
    legend: { top: 0, data: STATES.concat('polls') },
    grid: { left: 110, right: 24, top: 72, bottom: 80 },
    tooltip: { formatter: (p) => tooltip(p, zone) },
    xAxis: zone ? [axis('bottom', 'UTC'), axis('top', zone)] : [axis('bottom', 'UTC')],
    yAxis: { type: 'category', data: ['polls', 'state'], axisTick: { show: false } },
    dataZoom: [{ type: 'inside', xAxisIndex: zone ? [0, 1] : [0], filterMode: 'weakFilter' },
      { type: 'slider', xAxisIndex: zone ? [0, 1] : [0], height: 18, bottom: 8, filterMode: 'weakFilter' }],
    series: STATES.map((s, i) => ({
      type: 'custom', name: s, renderItem: band, encode: { x: [0, 1], y: 2 },
      itemStyle: { color: STATE_COLORS[s], decal: s === 'down' ? DOWN_DECAL : undefined },
      data: data.filter((d) => d[2] === i),
    })).concat({
      type: 'scatter', name: 'polls', symbol: 'rect', symbolSize: [2, 14],
      itemStyle: { color: '#222' }, data: polls,
    }),
  });
  // what the chart holds, per series (the browser tests read it)
  chartEl.dataset.series = JSON.stringify(Object.fromEntries(
    chart.getOption().series.map((x) => [x.name, x.data.length])));
  return chart;
}

function segmentTable(segments, zone) {
  return el('details', { class: 'segments' },
    el('summary', {}, `The week as a table (${segments.length} segments)`),
    el('div', { class: 'scroll' }, el('table', { class: 'figures', id: 'segment-table' },
      el('thead', {}, el('tr', {},
        el('th', { scope: 'col' }, 'State'),
        el('th', { scope: 'col' }, 'From (UTC)'),
        el('th', { scope: 'col' }, 'To (UTC)'),
        zone ? el('th', { scope: 'col' }, `From (${zone})`) : null,
        el('th', { scope: 'col' }, 'Decided by the poll at'))),
      el('tbody', {}, segments.map((g) => el('tr', { 'data-state': g.state },
        el('td', {}, el('span', { class: `state state-${g.state}` }, g.state)),
        el('td', {}, instant(g.starts, 'UTC', true)),
        el('td', {}, instant(g.ends, 'UTC', true)),
        zone ? el('td', {}, instant(g.starts, zone)) : null,
        el('td', {}, g.decided_by ? instant(g.decided_by, 'UTC', true) : '—')))))));
}
