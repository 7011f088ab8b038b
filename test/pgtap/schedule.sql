--
-- Load and scheduling: more concurrent reports than free worker slots all
-- complete; restmon_schedule() creates pg_cron jobs and an ingestion job
-- really runs.  Autocommit mode; needs pg_cron in this database
-- (cron.database_name) and a disposable database.
--
\set ON_ERROR_STOP 1
\i test/preamble.psql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS pg_cron;
\set dir_ok :fixtures '/dir_ok'
SELECT count(*) FROM restmon_ingest_hours(:'fixtures' || '/loop-2024/menu_hours.csv');
SELECT count(*) FROM restmon_ingest_status(:'fixtures' || '/loop-2024/store_status_head_1000.csv');
\unset ON_ERROR_STOP

SELECT plan(11);

-- more requests than worker slots, all in one transaction: the workers that
-- could not be registered leave their reports queued, and the workers that
-- finish take them
CREATE TEMP TABLE many (report_id text);
BEGIN;
INSERT INTO many SELECT restmon_trigger_report()
FROM generate_series(1, current_setting('max_worker_processes')::int + 8);
COMMIT;
SELECT cmp_ok((SELECT count(*) FROM many), '>', current_setting('max_worker_processes')::bigint,
	'more reports requested than max_worker_processes');
SELECT is((SELECT count(*) FROM many m WHERE restmon_wait_report(m.report_id, '120 s') = 'Complete'),
	(SELECT count(*) FROM many), 'every one of them completes');
SELECT is((SELECT count(DISTINCT r.row_count) FROM restmon.report r JOIN many USING (report_id)),
	1::bigint, 'all with the same number of rows');

-- the scheduled ingestion below loads polls of 2023: with the 2024 polls
-- above stored, they would be older than the retention edge (35 days
-- before the latest poll stored, doc/operations.md) and expire; start
-- from no polls
DO $$
BEGIN
	DELETE FROM restmon.observation;
	PERFORM restmon_rebuild_stores();
END $$;

-- scheduling
SELECT throws_ok($$SELECT * FROM restmon_schedule(data_dir => '')$$, '22023', NULL,
	'scheduling needs a data directory');
SELECT results_eq(
	format($$SELECT job_name, schedule FROM restmon_schedule(%L, '* * * * *') ORDER BY 1$$, :'dir_ok'),
	$$VALUES ('restmon-ingest'::text, '* * * * *'::text), ('restmon-prune', '17 3 * * *'), ('restmon-upkeep', '* * * * *')$$,
	'restmon_schedule() creates three jobs');
SELECT is((SELECT count(*) FROM restmon_schedule(:'dir_ok', '* * * * *')), 3::bigint,
	'scheduling again ...');
SELECT is((SELECT count(*) FROM cron.job WHERE jobname LIKE 'restmon-%'), 3::bigint,
	'... replaces the jobs instead of adding');
SELECT is((SELECT database FROM cron.job WHERE jobname = 'restmon-ingest'), current_database()::text,
	'jobs run in this database');

-- pg_cron has minute granularity: wait for the ingestion job to run
DO $$
DECLARE n int := 0;
BEGIN
	WHILE n < 1500 AND NOT EXISTS (
		SELECT FROM cron.job_run_details d JOIN cron.job j USING (jobid)
		WHERE j.jobname = 'restmon-ingest' AND d.status IN ('succeeded', 'failed')) LOOP
		PERFORM pg_sleep(0.1);
		n := n + 1;
	END LOOP;
END $$;
SELECT is((SELECT d.status FROM cron.job_run_details d JOIN cron.job j USING (jobid)
	WHERE j.jobname = 'restmon-ingest' AND d.status IN ('succeeded', 'failed')
	ORDER BY d.runid LIMIT 1), 'succeeded', 'the ingestion job ran and succeeded');
SELECT ok(EXISTS (SELECT FROM restmon.observation WHERE store_id = 'd1'),
	'rows of the scheduled ingestion arrived');

SELECT is(restmon_unschedule(), 3, 'restmon_unschedule() removes the three jobs');

SELECT * FROM finish();
DROP EXTENSION restmon CASCADE;
