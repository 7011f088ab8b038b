// web/src/api.js: every call the page makes, through the PostgREST
// protocol only (@supabase/postgrest-js), so the page works unchanged in
// front of restmon-http or a real PostgREST exposing schema restmon_api
// (doc/postgrest.md).  The page computes no figure: each function returns
// what one SQL function or view of restmon_api returns.
import { PostgrestClient } from '@supabase/postgrest-js';

// the API's URL: <meta name="restmon-api">, relative to the page
function apiUrl() {
  const meta = document.querySelector('meta[name="restmon-api"]');
  const url = new URL(meta ? meta.content : '/', document.baseURI);
  return url.href.replace(/\/$/, '');
}

const db = new PostgrestClient(apiUrl());

// the data of a postgrest-js answer, or a thrown Error with its message
function unwrap({ data, error, count }) {
  if (error) {
    const e = new Error(error.message || 'request failed');
    e.code = error.code;
    e.details = error.details;
    e.hint = error.hint;
    throw e;
  }
  return count === undefined || count === null ? data : { rows: data, count };
}

// arguments without the undefined ones (so a GET leaves them out)
function args(o) {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v != null));
}

export const REPORT_COLUMNS = [
  'uptime_last_hour', 'uptime_last_day', 'uptime_last_week',
  'downtime_last_hour', 'downtime_last_day', 'downtime_last_week',
];

// the latest reports, newest first (the view restmon_api.reports)
export async function recentReports(limit = 20) {
  return unwrap(await db.from('reports')
    .select('report_id,status,requested_at,finished_at,as_of,store_filter,rows,duration,error')
    .order('requested_at', { ascending: false })
    .limit(limit));
}

export async function report(reportId) {
  const rows = unwrap(await db.from('reports')
    .select('report_id,status,requested_at,finished_at,as_of,store_filter,rows,duration,error')
    .eq('report_id', reportId));
  return rows[0] || null;
}

// one page of a report's rows, sorted and filtered on the server
export async function reportRows(reportId, { order, ascending, offset, limit, prefix }) {
  let q = db.from('report_rows')
    .select(['store_id', ...REPORT_COLUMNS].join(','), { count: 'exact' })
    .eq('report_id', reportId);
  if (prefix)
    q = q.gte('store_id', prefix).lt('store_id', prefix + '~');
  q = q.order(order, { ascending });
  if (order !== 'store_id')
    q = q.order('store_id', { ascending: true });
  return unwrap(await q.range(offset, offset + limit - 1));
}

// the overview of a report: totals, shares up, stores (restmon_report_overview)
export async function reportOverview(reportId) {
  const rows = unwrap(await db.rpc('restmon_report_overview',
    { report_id: reportId }, { get: true }));
  return rows[0];
}

// stores by weekly share of business time up (restmon_report_histogram)
export async function reportHistogram(reportId) {
  return unwrap(await db.rpc('restmon_report_histogram',
    { report_id: reportId }, { get: true }).order('bucket'));
}

export async function defaultAsOf() {
  return unwrap(await db.rpc('restmon_default_as_of', {}, { get: true }));
}

// the stores down at the end of the week (incidents open at its end)
export async function downNow(asOf, limit = 10) {
  return unwrap(await db.rpc('restmon_incidents', args({ as_of: asOf }),
    { get: true, count: 'exact' })
    .eq('open_at_end', true)
    .order('business_duration', { ascending: false })
    .order('store_id')
    .range(0, limit - 1));
}

export async function storeIncidents(storeId, asOf) {
  return unwrap(await db.rpc('restmon_incidents',
    args({ as_of: asOf, store_id: storeId }), { get: true }));
}

export async function storeUptime(storeId, asOf) {
  const rows = unwrap(await db.rpc('restmon_store_uptime',
    args({ as_of: asOf, store_id: storeId }), { get: true }));
  return rows[0] || null;
}

export async function storeTimeline(storeId, asOf) {
  return unwrap(await db.rpc('restmon_store_timeline',
    args({ store_id: storeId, as_of: asOf }), { get: true }).order('starts'));
}

// its zone (as the report reads it), whether the file gave it, its hours
export async function storeHours(storeId) {
  const rows = unwrap(await db.rpc('restmon_store_hours',
    { store_id: storeId }, { get: true }));
  return rows[0];
}

export async function triggerReport(asOf, storeId) {
  return unwrap(await db.rpc('restmon_trigger_report',
    args({ as_of: asOf, store_id: storeId })));
}

// semantics §6.5's CSV of a complete report, as text
export async function reportCsv(reportId) {
  return unwrap(await db.rpc('restmon_report_csv',
    { report_id: reportId }, { get: true }).csv());
}
