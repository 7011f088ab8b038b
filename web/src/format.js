// web/src/format.js: how values are written on the page.  Display only:
// figures are shown as the API returns them (semantics §6.3: hour columns
// are minutes, day and week columns hours, 2 decimals), never recomputed.

export const COLUMN_LABELS = {
  store_id: 'Store',
  uptime_last_hour: 'Up, last hour (min)',
  uptime_last_day: 'Up, last day (h)',
  uptime_last_week: 'Up, last week (h)',
  downtime_last_hour: 'Down, last hour (min)',
  downtime_last_day: 'Down, last day (h)',
  downtime_last_week: 'Down, last week (h)',
  evidence_last_hour: 'Polls deciding the hour',
  evidence_last_day: 'Polls deciding the day',
  evidence_last_week: 'Polls deciding the week',
};

// an instant as "2023-01-25 17:59 UTC" (or in a zone, with its name)
export function instant(value, timeZone = 'UTC', seconds = false) {
  if (value == null) return '—';
  const d = value instanceof Date ? value : new Date(value);
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-GB', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: seconds ? '2-digit' : undefined,
    hourCycle: 'h23', weekday: 'short',
  }).formatToParts(d).map((p) => [p.type, p.value]));
  const time = `${parts.hour}:${parts.minute}${seconds ? ':' + parts.second : ''}`;
  return `${parts.weekday} ${parts.year}-${parts.month}-${parts.day} ${time}` +
    (timeZone === 'UTC' ? ' UTC' : '');
}

// an axis label: "14:00" over "Mon 01-23", in a zone
export function axisTime(value, timeZone) {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-GB', {
    timeZone, month: '2-digit', day: '2-digit', hour: '2-digit',
    minute: '2-digit', hourCycle: 'h23', weekday: 'short',
  }).formatToParts(new Date(value)).map((x) => [x.type, x.value]));
  return `${p.hour}:${p.minute}\n${p.weekday} ${p.month}-${p.day}`;
}

// a PostgreSQL interval as JSON gives it ("1 day 02:03:04.5") -> "1 d 2 h 3 min"
export function interval(text) {
  if (text == null) return '—';
  const m = /^(?:(\d+) days? )?(\d+):(\d\d):(\d\d)/.exec(text);
  if (!m) return text;
  const [d, h, min] = [Number(m[1] || 0), Number(m[2]), Number(m[3])];
  const out = [];
  if (d) out.push(`${d} d`);
  if (h) out.push(`${h} h`);
  if (min || out.length === 0) out.push(`${min} min`);
  return out.join(' ');
}

// a figure as the CSV writes it (semantics §6.3: already rounded to 2
// decimals by the API; JSON drops trailing zeros, this puts them back)
export function hundredths(value) {
  return value == null ? '—' : Number(value).toFixed(2);
}

// a share in [0, 1] (as the API gives it) as a percentage, or "—"
export function percent(share) {
  return share == null ? '—' : `${(Number(share) * 100).toFixed(1)} %`;
}

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat())
    if (c != null) e.append(c instanceof Node ? c : String(c));
  return e;
}

export function storeLink(storeId, reportId) {
  const q = reportId ? `?report=${encodeURIComponent(reportId)}` : '';
  return el('a', { href: `#/store/${encodeURIComponent(storeId)}${q}` }, storeId);
}
