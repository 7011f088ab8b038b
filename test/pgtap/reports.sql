--
-- Asynchronous reports (restmon_trigger_report / restmon_get_report /
-- restmon_report_csv / restmon_upkeep).  Runs in autocommit mode: a report
-- is computed by a background worker only after its request commits.
-- Needs a disposable database with pgtap and dblink available.
--
\set ON_ERROR_STOP 1
\i test/preamble.psql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS dblink;
\i test/loop_head.psql
\unset ON_ERROR_STOP

SELECT plan(40);

-- the id (doc/sql.md, restmon_trigger_report): 22 URL-safe characters,
-- the request's Unix milliseconds as 11 hex digits, then 66 random bits
SELECT restmon_trigger_report() AS r1 \gset
SELECT matches(:'r1'::text, '^[0-9a-f]{11}[A-Za-z0-9_-]{11}$', 'report id is 22 URL-safe characters, 11 hex digits first');
SELECT isnt(restmon_trigger_report(), :'r1'::text, 'two triggers give different ids');
SELECT cmp_ok(('x' || lpad(left(:'r1', 11), 16, '0'))::bit(64)::bigint,
	'<=', (SELECT floor(extract(epoch FROM requested_at) * 1000)::bigint
	       FROM restmon.report WHERE report_id = :'r1'),
	'the id starts with the request time in ms, taken just before requested_at');
SELECT cmp_ok(('x' || lpad(left(:'r1', 11), 16, '0'))::bit(64)::bigint,
	'>', (SELECT floor(extract(epoch FROM requested_at) * 1000)::bigint - 1000
	      FROM restmon.report WHERE report_id = :'r1'),
	'... and less than a second before it');
SELECT pg_sleep(0.003);
SELECT ok(restmon_trigger_report() > :'r1',
	'a later request sorts after an earlier one (its rows go to the index''s right edge)');

-- asynchrony, deterministically: the worker waits for the requesting
-- transaction, so inside it the report is still Running
BEGIN;
SELECT restmon_trigger_report() AS r2 \gset
SELECT results_eq(
	format('SELECT status, store_id, uptime_last_hour FROM restmon_get_report(%L)', :'r2'),
	$$VALUES ('Running'::text, NULL::text, NULL::numeric)$$,
	'while its transaction is open the report is one Running row with NULL figures');
SELECT is(restmon_report_csv(:'r2'), NULL::text, 'CSV of a Running report is NULL');
COMMIT;
SELECT is(restmon_wait_report(:'r2', '60 s'), 'Complete', 'Running -> Complete after commit');
SELECT is(restmon_wait_report(:'r1', '60 s'), 'Complete', 'first report completes too');

-- semantics §4: T resolved at trigger time and stored with the report
SELECT is((SELECT as_of FROM restmon.reports WHERE report_id = :'r2'),
	restmon_default_as_of(), 'the default as_of is stored with the report');

-- the worker calls the one implementation: rows equal restmon_store_uptime()
SELECT set_eq(
	format('SELECT store_id, uptime_last_hour, uptime_last_day, uptime_last_week,'
	       ' downtime_last_hour, downtime_last_day, downtime_last_week'
	       ' FROM restmon_get_report(%L)', :'r2'),
	'SELECT store_id, uptime_last_hour, uptime_last_day, uptime_last_week,'
	' downtime_last_hour, downtime_last_day, downtime_last_week FROM restmon_store_uptime()',
	'completed rows equal restmon_store_uptime() for the same as_of');
SELECT results_eq(
	format('SELECT store_id, uptime_last_hour, uptime_last_day, uptime_last_week,'
	       ' downtime_last_hour, downtime_last_day, downtime_last_week'
	       ' FROM restmon_get_report(%L)', :'r2'),
	'SELECT store_id, uptime_last_hour, uptime_last_day, uptime_last_week,'
	' downtime_last_hour, downtime_last_day, downtime_last_week'
	' FROM restmon_store_uptime() ORDER BY store_id COLLATE "C"',
	'completed rows equal restmon_store_uptime() figure by figure, in byte order');
SELECT is((SELECT count(DISTINCT status) FROM restmon_get_report(:'r2')), 1::bigint,
	'every row of a complete report says Complete');
SELECT is((SELECT rows FROM restmon.reports WHERE report_id = :'r2'),
	(SELECT count(*) FROM restmon_store_uptime()), 'row count recorded');

-- semantics §6 CSV: exact header, one line per store, byte order
SELECT is(split_part(restmon_report_csv(:'r2'), E'\n', 1),
	'store_id,uptime_last_hour,uptime_last_day,uptime_last_week,downtime_last_hour,downtime_last_day,downtime_last_week',
	'CSV header as semantics §6 writes it');
SELECT is((SELECT count(*) FROM regexp_split_to_table(rtrim(restmon_report_csv(:'r2'), E'\n'), E'\n')),
	(SELECT count(*) + 1 FROM restmon_store_uptime()), 'CSV has a header and one line per store');
SELECT is(split_part(split_part(restmon_report_csv(:'r2'), E'\n', 2), ',', 1),
	(SELECT min(store_id COLLATE "C") FROM restmon.store), 'CSV starts with the first store in byte order');

-- a single-store report, as of an explicit T
SELECT store_id AS one FROM restmon.store ORDER BY store_id DESC LIMIT 1 \gset
SELECT restmon_trigger_report('2024-10-03 23:00+00', :'one') AS r3 \gset
SELECT is(restmon_wait_report(:'r3', '60 s'), 'Complete', 'single-store report completes');
SELECT results_eq(
	format('SELECT store_id, uptime_last_day, downtime_last_week FROM restmon_get_report(%L)', :'r3'),
	format('SELECT store_id, uptime_last_day, downtime_last_week FROM restmon_store_uptime(%L, %L)',
	       '2024-10-03 23:00+00', :'one'),
	'single-store report has that store only, as of the given T');

-- synchronous variant
SELECT restmon_trigger_report(wait => true) AS r4 \gset
SELECT is((restmon_report_status(:'r4')).status, 'Complete', 'wait => true returns a complete report');

-- a report triggered in a transaction that rolls back never appears
BEGIN;
SELECT restmon_trigger_report() AS r5 \gset
ROLLBACK;
SELECT pg_sleep(0.5);
SELECT throws_ok(format('SELECT * FROM restmon_get_report(%L)', :'r5'), 'P0002', NULL,
	'a rolled-back request does not exist');

-- errors: unknown id, malformed id, unknown store
SELECT throws_ok($$SELECT * FROM restmon_get_report('AAAAAAAAAAAAAAAAAAAAAA')$$, 'P0002', NULL,
	'unknown report id is an error');
SELECT throws_ok($$SELECT * FROM restmon_get_report('x'' OR 1=1 --')$$, '22023', 'invalid report id',
	'malformed report id is an error');
SELECT throws_ok($$SELECT restmon_trigger_report(store_id => 'no-such-store')$$, 'P0002', NULL,
	'a single-store report of an unknown store is refused');

-- semantics §4: an instant no report can have is refused when triggered
SELECT throws_ok($$SELECT restmon_trigger_report('infinity')$$, '22008', 'as_of is out of range',
	'as_of infinity is refused at trigger time');
SELECT throws_ok($$SELECT restmon_trigger_report('100000-01-01 00:00+00')$$, '22008', 'as_of is out of range',
	'as_of in year 100000 is refused at trigger time');

-- the Failed path: a request recorded with an as_of outside the supported
-- range (written straight into the queue) fails in the worker
INSERT INTO restmon.report (report_id, as_of) VALUES ('failedFAILEDfailed0006', 'infinity');
SELECT 'failedFAILEDfailed0006' AS r6 \gset
SELECT cmp_ok(restmon_upkeep(), '>=', 1, 'upkeep starts a worker for a queued request');
SELECT is(restmon_wait_report(:'r6', '60 s'), 'Failed', 'an error in the worker gives Failed');
SELECT results_eq(format('SELECT status FROM restmon_get_report(%L)', :'r6'),
	$$VALUES ('Failed'::text)$$, 'a failed report is one Failed row');
SELECT is((SELECT error FROM restmon.reports WHERE report_id = :'r6'),
	'22008: as_of is out of range', 'the failure keeps its SQLSTATE and message');

-- a worker killed mid-report is recovered by upkeep: another session holds
-- a lock the worker needs, we kill the worker while it waits, then upkeep
-- runs the report again
SELECT dblink_connect('blocker', format('host=%s port=%s dbname=%s',
	split_part(current_setting('unix_socket_directories'), ',', 1),
	current_setting('port'), current_database())) AS connected;
SELECT dblink_exec('blocker', 'BEGIN; LOCK TABLE restmon.report_row IN ACCESS EXCLUSIVE MODE');
SELECT restmon_trigger_report() AS r7 \gset
DO $$
DECLARE n int := 0;
BEGIN
	WHILE n < 1000 AND NOT EXISTS (
		SELECT FROM restmon.report r JOIN pg_stat_activity a ON a.pid = r.worker_pid
		WHERE r.status = 'Running' AND a.wait_event_type = 'Lock') LOOP
		PERFORM pg_sleep(0.02);
		PERFORM pg_stat_clear_snapshot();
		n := n + 1;
	END LOOP;
END $$;
SELECT ok(pg_terminate_backend(worker_pid), 'the worker is killed mid-report')
FROM restmon.report WHERE report_id = :'r7';
SELECT dblink_exec('blocker', 'ROLLBACK');
SELECT dblink_disconnect('blocker');
DO $$
DECLARE n int := 0;
BEGIN
	-- wait for the killed worker to leave pg_stat_activity
	WHILE n < 500 AND EXISTS (
		SELECT FROM restmon.report r JOIN pg_stat_activity a ON a.pid = r.worker_pid
		WHERE r.status = 'Running') LOOP
		PERFORM pg_sleep(0.02);
		PERFORM pg_stat_clear_snapshot();
		n := n + 1;
	END LOOP;
END $$;
SELECT is((restmon_report_status(:'r7')).status, 'Running', 'the killed report is left Running');
SELECT cmp_ok(restmon_upkeep(), '>=', 1, 'upkeep starts a worker for it');
SELECT is(restmon_wait_report(:'r7', '60 s'), 'Complete', 'and the report completes');
SELECT is((SELECT attempts FROM restmon.report WHERE report_id = :'r7'), 2, 'on its second attempt');

-- restmon_grant_report_api(role): the report API and nothing else
DO $$ BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'restmon_api_test') THEN
		CREATE ROLE restmon_api_test;
	END IF;
END $$;
SELECT lives_ok($$SELECT restmon_grant_report_api('restmon_api_test')$$,
	'restmon_grant_report_api grants a role');
SELECT ok(has_function_privilege('restmon_api_test', 'restmon_trigger_report(timestamptz, text, boolean)', 'EXECUTE')
      AND has_function_privilege('restmon_api_test', 'restmon_report_status(text)', 'EXECUTE')
      AND has_function_privilege('restmon_api_test', 'restmon_report_csv(text)', 'EXECUTE')
      AND has_function_privilege('restmon_api_test', 'restmon_get_report(text)', 'EXECUTE')
      AND has_function_privilege('restmon_api_test', 'restmon_wait_report(text, interval)', 'EXECUTE'),
	'the role may execute the five report functions');
SELECT ok(NOT has_function_privilege('restmon_api_test', 'restmon_ingest(text)', 'EXECUTE')
      AND NOT has_function_privilege('restmon_api_test', 'restmon_grant_report_api(regrole)', 'EXECUTE')
      AND NOT has_table_privilege('restmon_api_test', 'restmon.report', 'SELECT')
      AND NOT has_table_privilege('restmon_api_test', 'restmon.observation', 'SELECT'),
	'but not ingest, grant, or read a table');
SET ROLE restmon_api_test;
SELECT is((restmon_report_status(:'r7')).status, 'Complete', 'as that role, a report status reads');
SELECT throws_ok('SELECT count(*) FROM restmon.report', '42501', NULL,
	'as that role, the report table does not');
RESET ROLE;

SELECT * FROM finish();
