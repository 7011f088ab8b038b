// test/client/postgrest.test.js: restmon-http's PostgREST dialect driven by
// the real PostgREST client, @supabase/postgrest-js (doc/postgrest.md).
// Run by test/postgrest_js.sh, which starts the gateway (RESTMON_URL) on
// the test cluster (libpq environment: psql answers the same questions in
// SQL).  Output: TAP (node --test --test-reporter=tap).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const { PostgrestClient } = require('@supabase/postgrest-js');

const db = new PostgrestClient(process.env.RESTMON_URL, { schema: 'restmon_api' });

// one value from psql (a JSON text, parsed), in the public SQL API
function sql(query) {
	const out = execFileSync('psql', ['-X', '-At', '-c', query], { encoding: 'utf8' });
	return JSON.parse(out);
}
function psqlText(query) {
	return execFileSync('psql', ['-X', '-At', '-c', query], { encoding: 'utf8' });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let reportId;

test("rpc('restmon_trigger_report') answers a report id (POST, VOLATILE)", async () => {
	const { data, error, status } = await db.rpc('restmon_trigger_report');
	assert.equal(error, null);
	assert.equal(status, 200);
	assert.match(data, /^[A-Za-z0-9_-]{22}$/);
	reportId = data;
});

test("rpc('restmon_get_report', {report_id}) polled until Complete: every store, as in SQL", async () => {
	let rows;
	for (let i = 0; i < 300; i++) {
		const { data, error } = await db.rpc('restmon_get_report', { report_id: reportId });
		assert.equal(error, null);
		rows = data;
		if (rows.length > 0 && rows[0].status === 'Complete') break;
		await sleep(100);
	}
	assert.equal(rows[0].status, 'Complete');
	const expected = sql(`SELECT json_agg(t) FROM restmon_get_report('${reportId}') t`);
	assert.deepEqual(rows, expected);
});

test("rpc('restmon_store_uptime').order('downtime_last_week', {ascending: false}).limit(20) equals SQL", async () => {
	const { data, error, status } = await db.rpc('restmon_store_uptime')
		.order('downtime_last_week', { ascending: false }).limit(20);
	assert.equal(error, null);
	assert.equal(status, 200);
	assert.equal(data.length, 20);
	const expected = sql(`SELECT json_agg(t) FROM (SELECT * FROM restmon_store_uptime()
		ORDER BY downtime_last_week DESC LIMIT 20) t`);
	// ties may come in either order: the figures in order, and the same rows
	assert.deepEqual(data.map((r) => r.downtime_last_week), expected.map((r) => r.downtime_last_week));
	const key = (r) => JSON.stringify(r);
	const atBoundary = (r) => r.downtime_last_week === data[19].downtime_last_week;
	assert.deepEqual(data.filter((r) => !atBoundary(r)).map(key).sort(),
		expected.filter((r) => !atBoundary(r)).map(key).sort());
});

test('two order keys give exactly the SQL order (downtime desc, store_id)', async () => {
	const { data, error } = await db.rpc('restmon_store_uptime')
		.order('downtime_last_week', { ascending: false }).order('store_id').limit(20);
	assert.equal(error, null);
	const expected = sql(`SELECT json_agg(t) FROM (SELECT * FROM restmon_store_uptime()
		ORDER BY downtime_last_week DESC, store_id LIMIT 20) t`);
	assert.deepEqual(data, expected);
});

test('.range() pages with exact counts cover every store once, in order', async () => {
	const total = sql('SELECT count(*) FROM restmon_store_uptime()');
	const ids = [];
	for (let from = 0; from < total; from += 100) {
		const { data, error, count, status } = await db.rpc('restmon_store_uptime', {}, { count: 'exact' })
			.select('store_id').order('store_id').range(from, from + 99);
		assert.equal(error, null);
		assert.equal(count, total);
		assert.equal(status, total > 100 ? 206 : 200);
		assert.equal(data.length, Math.min(100, total - from));
		ids.push(...data.map((r) => r.store_id));
	}
	assert.deepEqual(ids, sql(`SELECT json_agg(store_id ORDER BY store_id) FROM restmon_store_uptime()`));
});

test("rpc('restmon_report_csv').csv() equals restmon_report_csv() byte for byte", async () => {
	const { data, error } = await db.rpc('restmon_report_csv', { report_id: reportId }).csv();
	assert.equal(error, null);
	assert.equal(data + '\n', psqlText(`SELECT restmon_report_csv('${reportId}')`));
	assert.ok(data.startsWith('store_id,uptime_last_hour,'));
});

test("from('reports').select(...).eq('report_id', id): the report, Complete", async () => {
	const { data, error } = await db.from('reports').select('report_id,status,rows').eq('report_id', reportId);
	assert.equal(error, null);
	assert.deepEqual(data, [{ report_id: reportId, status: 'Complete',
		rows: sql('SELECT count(*) FROM restmon_store_uptime()') }]);
});

test("from('report_rows') with eq, gt, in, order: as in SQL", async () => {
	const { data, error } = await db.from('report_rows')
		.select('store_id,downtime_last_week').eq('report_id', reportId)
		.gt('downtime_last_week', 100).order('downtime_last_week').order('store_id');
	assert.equal(error, null);
	assert.ok(data.length > 0);
	assert.deepEqual(data, sql(`SELECT json_agg(t) FROM (SELECT store_id, downtime_last_week
		FROM restmon_get_report('${reportId}') WHERE downtime_last_week > 100
		ORDER BY downtime_last_week, store_id) t`));
	const two = data.slice(0, 2).map((r) => r.store_id);
	const sel = await db.from('report_rows').select('store_id').eq('report_id', reportId)
		.in('store_id', two).order('store_id');
	assert.deepEqual(sel.data, two.sort().map((s) => ({ store_id: s })));
});

test("rpc('restmon_report_status').single(): one object", async () => {
	const { data, error } = await db.rpc('restmon_report_status', { report_id: reportId }).single();
	assert.equal(error, null);
	assert.deepEqual(data, { status: 'Complete', error: null,
		rows: sql('SELECT count(*) FROM restmon_store_uptime()') });
});

test('GET rpc with arguments in the query string (get: true) and a count', async () => {
	const { data, error, count } = await db.rpc('restmon_get_report', { report_id: reportId },
		{ get: true, count: 'exact' }).select('store_id').order('store_id').limit(5);
	assert.equal(error, null);
	assert.equal(count, sql('SELECT count(*) FROM restmon_store_uptime()'));
	assert.deepEqual(data.map((r) => r.store_id),
		sql(`SELECT json_agg(store_id) FROM (SELECT store_id FROM restmon_store_uptime() ORDER BY 1 LIMIT 5) t`));
});

test('an unknown report: the client error PT404, status 404, message and hint kept', async () => {
	const { data, error, status } = await db.rpc('restmon_get_report', { report_id: 'AAAAAAAAAAAAAAAAAAAAAA' });
	assert.equal(data, null);
	assert.equal(status, 404);
	assert.equal(error.code, 'PT404');
	assert.equal(error.message, 'report "AAAAAAAAAAAAAAAAAAAAAA" does not exist');
	assert.match(error.hint, /report_retention/);
});

test('a malformed id: the client error 22023, status 400, detail kept', async () => {
	const { data, error, status } = await db.rpc('restmon_get_report', { report_id: 'not an id' });
	assert.equal(data, null);
	assert.equal(status, 400);
	assert.equal(error.code, '22023');
	assert.equal(error.message, 'invalid report id');
	assert.match(error.details, /22 characters/);
});

test('an unknown store: 404 PT404 with its detail', async () => {
	const { error, status } = await db.rpc('restmon_store_uptime', { store_id: 'no-such-store' });
	assert.equal(status, 404);
	assert.equal(error.code, 'PT404');
	assert.equal(error.message, 'store "no-such-store" is unknown');
});

test('the VOLATILE trigger by GET: 405, 25006, as PostgREST refuses it', async () => {
	const { error, status } = await db.rpc('restmon_trigger_report', {}, { get: true });
	assert.equal(status, 405);
	assert.equal(error.code, '25006');
});

test('an unknown column: 400 42703; an unknown function: 404 PGRST202', async () => {
	const a = await db.from('reports').select('report_id,nope');
	assert.equal(a.status, 400);
	assert.equal(a.error.code, '42703');
	const b = await db.rpc('restmon_ingest', { dir: '/etc' });
	assert.equal(b.status, 404);
	assert.equal(b.error.code, 'PGRST202');
});
