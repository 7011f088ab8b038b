// web/src/downnow.js: the stores down now: restmon_incidents() at the
// latest poll (restmon_default_as_of()), the incidents still open at its
// end, refreshed every few seconds while the overview is on screen.
import * as api from './api.js';
import { el, instant, interval, storeLink } from './format.js';

// starts refreshing into container; returns a function that stops it
export function startDownNow(container, { seconds, limit, onCount }) {
  let timer = null;
  let stopped = false;
  const refresh = async () => {
    const started = new Date();
    try {
      const asOf = await api.defaultAsOf();
      const { rows, count } = await api.downNow(asOf, limit);
      if (stopped) return;
      render(container, rows, count, asOf, seconds);
      // when the refresh shown began (the browser tests wait on it)
      container.dataset.refreshStarted = started.toISOString();
      onCount?.(count);
    } catch (e) {
      if (stopped) return;
      container.querySelector('.refreshed')?.replaceChildren(
        `could not refresh: ${e.message}`);
    }
    if (!stopped) timer = setTimeout(refresh, seconds * 1000);
  };
  refresh();
  return () => { stopped = true; clearTimeout(timer); };
}

function render(container, rows, count, asOf, seconds) {
  const now = new Date();
  const list = rows.length === 0
    ? el('p', { class: 'empty' }, 'No store is down at the latest poll.')
    : el('div', { class: 'scroll' }, el('table', { class: 'figures', id: 'down-table' },
      el('caption', {}, `${count} stores down at the latest poll`
        + (count > rows.length ? ` (the ${rows.length} down longest shown)` : '')),
      el('thead', {}, el('tr', {},
        el('th', { scope: 'col' }, 'Store'),
        el('th', { scope: 'col' }, 'Down since'),
        el('th', { scope: 'col' }, 'Business time down'))),
      el('tbody', {}, rows.map((r) => el('tr', { 'data-store': r.store_id },
        el('th', { scope: 'row' }, storeLink(r.store_id)),
        el('td', {}, instant(r.starts)),
        el('td', {}, interval(r.business_duration)))))));
  const more = count > rows.length
    ? el('p', {}, el('a', { href: withParam('down', Math.min(count, 1000)) },
      `Show ${count > 1000 ? 'the first 1000' : `all ${count}`}`))
    : null;
  container.replaceChildren(
    el('p', { class: 'refreshed' },
      `Latest poll ${instant(asOf, 'UTC', true)}; refreshed at `,
      el('time', { datetime: now.toISOString() }, now.toLocaleTimeString('en-GB')),
      `, every ${seconds} s.`),
    list, more);
}

// the current address with one parameter of its hash replaced
function withParam(name, value) {
  const [path, query] = location.hash.replace(/^#/, '').split('?');
  const params = new URLSearchParams(query || '');
  params.set(name, value);
  return `#${path || '/'}?${params}`;
}
