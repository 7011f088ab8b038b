--
-- A report worker's kept helpers (src/report_helper.c): with
-- restmon.report_workers = 2 a report worker computes each full report
-- with one helper, a dynamic background worker started once that waits,
-- like the idle report worker, for the next report.  semantics §6.2: the
-- report equals the serial one (rows in store-id byte order, every figure
-- of semantics §6); the helper reads exactly the leader's snapshot (an
-- ingestion still open is not seen, once committed it is, never half); a
-- helper's error fails the report and the next one works; the helpers
-- end with their report worker (restmon.report_workers lowered, the
-- worker terminated, restmon.report_worker_idle, DROP EXTENSION, DROP
-- DATABASE without FORCE).  Needs pgtap and dblink; creates and drops
-- database restmon_helper_other.  Sets restmon.report_workers,
-- restmon.report_worker_idle and restmon.debug_report_helper_error with
-- ALTER SYSTEM and resets them.
--
\set ON_ERROR_STOP 1
\i test/preamble.psql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS dblink;
\i test/loop_head.psql
-- restmon.store's estimate set: a worker's first report cuts the ranges,
-- the next ones use its kept bounds (src/report_helper.c)
ANALYZE restmon.store;
\set new_polls :fixtures '/demo/helper_new_polls.csv'
\unset ON_ERROR_STOP

-- the report workers, or the helpers, of this database
CREATE FUNCTION pg_temp.procs(kind text) RETURNS bigint
LANGUAGE sql AS $$
	SELECT count(*) FROM pg_stat_activity
	WHERE backend_type = 'restmon report ' || kind
	  AND datname = current_database()
$$;
-- wait (up to secs) until there are n of them
CREATE FUNCTION pg_temp.wait_procs(kind text, n bigint, secs numeric)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
	WHILE pg_temp.procs(kind) <> n AND clock_timestamp() < t0 + secs * interval '1 s' LOOP
		PERFORM pg_sleep(0.02);
		PERFORM pg_stat_clear_snapshot();
	END LOOP;
	RETURN pg_temp.procs(kind);
END $$;
CREATE FUNCTION pg_temp.helper_pid() RETURNS int LANGUAGE sql AS $$
	SELECT min(pid) FROM pg_stat_activity
	WHERE backend_type = 'restmon report helper' AND datname = current_database()
$$;
-- a report's rows that are not the serial report's at its as_of, plus the
-- serial report's rows that are not the report's (store and every figure)
CREATE FUNCTION pg_temp.differences(id text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE t timestamptz := (SELECT as_of FROM restmon.report WHERE report_id = id);
	n bigint;
BEGIN
	PERFORM set_config('restmon.report_workers', '1', true);
	CREATE TEMP TABLE serial ON COMMIT DROP AS
	SELECT store_id, uptime_last_hour, uptime_last_day, uptime_last_week,
	       downtime_last_hour, downtime_last_day, downtime_last_week
	FROM restmon_store_uptime(t);
	SELECT count(*) INTO n FROM (
		(SELECT store_id, uptime_last_hour, uptime_last_day, uptime_last_week,
		        downtime_last_hour, downtime_last_day, downtime_last_week
		 FROM restmon.report_row WHERE report_id = id
		 EXCEPT SELECT * FROM serial)
		UNION ALL
		(SELECT * FROM serial
		 EXCEPT SELECT store_id, uptime_last_hour, uptime_last_day, uptime_last_week,
		        downtime_last_hour, downtime_last_day, downtime_last_week
		 FROM restmon.report_row WHERE report_id = id)) d;
	RETURN n + abs((SELECT count(*) FROM serial) -
		(SELECT count(*) FROM restmon.report_row WHERE report_id = id));
END $$;
-- after ALTER SYSTEM: the server's processes reload
CREATE FUNCTION pg_temp.reload() RETURNS boolean LANGUAGE sql AS $$
	SELECT pg_reload_conf(); SELECT pg_sleep(0.3); SELECT true
$$;

-- a new store polled twice and an inactive poll of a known store, all
-- before the report instant (semantics §1: store_id,status,timestamp_utc)
SELECT restmon_default_as_of() AS t \gset
COPY (SELECT 'store_id,status,timestamp_utc' UNION ALL
      SELECT format('helper-new-store,%s,%s', s, to_char(:'t'::timestamptz - h * interval '1 hour',
	                 'YYYY-MM-DD HH24:MI:SS') || ' UTC')
      FROM (VALUES ('active', 2), ('inactive', 1)) v(s, h)) TO :'new_polls';

SELECT plan(19);

ALTER SYSTEM SET restmon.report_workers = '2';
SELECT pg_temp.reload();
ALTER SYSTEM SET restmon.report_worker_idle = '20s';
SELECT pg_temp.reload();

-- 1. equal to the serial report, at the default instant and 37 h 13 min
-- earlier; the helper kept between them
SELECT restmon_trigger_report() AS r1 \gset
SELECT is(restmon_wait_report(:'r1', '60 s'), 'Complete', 'a report computed with a helper completes');
SELECT is(pg_temp.differences(:'r1'), 0::bigint, 'its rows are the serial report''s');
SELECT is(pg_temp.wait_procs('helper', 1, 5), 1::bigint,
	'its worker waits idle with one helper');
SELECT pg_temp.helper_pid() AS helper1 \gset
SELECT restmon_trigger_report(:'t'::timestamptz - interval '37 hours 13 minutes') AS r2 \gset
SELECT is(restmon_wait_report(:'r2', '60 s'), 'Complete', 'the next report completes');
SELECT is(pg_temp.differences(:'r2'), 0::bigint, 'its rows are the serial report''s too');
SELECT is(pg_temp.helper_pid(), :helper1, 'computed with the same helper: no process start');

-- 2. the leader's snapshot: an ingestion open in another session is not
-- seen by the report, nor by its helper; once committed, the next report
-- sees all of it
SELECT dblink_connect('a', format('host=%s port=%s dbname=%s',
	split_part(current_setting('unix_socket_directories'), ',', 1),
	current_setting('port'), current_database()));
SELECT dblink_exec('a', 'BEGIN');
SELECT * FROM dblink('a', format('SELECT rows_loaded FROM restmon_ingest_status(%L)',
	:'new_polls')) t(n bigint);
SELECT restmon_trigger_report(:'t') AS r3 \gset
SELECT is(restmon_wait_report(:'r3', '60 s'), 'Complete', 'a report while an ingestion is open completes');
SELECT is((SELECT count(*) FROM restmon.report_row
           WHERE report_id = :'r3' AND store_id = 'helper-new-store'), 0::bigint,
	'it does not see the open ingestion');
SELECT is(pg_temp.differences(:'r3'), 0::bigint, 'its rows are the serial report''s');
SELECT dblink_exec('a', 'COMMIT');
SELECT restmon_trigger_report(:'t') AS r4 \gset
SELECT is(restmon_wait_report(:'r4', '60 s'), 'Complete', 'the next report completes');
-- semantics §6: one row per store polled before T
SELECT is((SELECT count(*) FROM restmon.report_row
           WHERE report_id = :'r4' AND store_id = 'helper-new-store'), 1::bigint,
	'it sees the committed ingestion');
SELECT is(pg_temp.differences(:'r4'), 0::bigint, 'all of it: its rows are the serial report''s');
SELECT dblink_disconnect('a');

-- 3. a helper's error fails the report (not left Running); the next works
ALTER SYSTEM SET restmon.debug_report_helper_error = 'on';
SELECT pg_temp.reload();
SELECT restmon_trigger_report() AS r5 \gset
SELECT is(restmon_wait_report(:'r5', '60 s'), 'Failed', 'a helper''s error fails the report');
SELECT matches((SELECT error_message FROM restmon.report WHERE report_id = :'r5'),
	'debug_report_helper_error', 'with the helper''s error');
ALTER SYSTEM RESET restmon.debug_report_helper_error;
SELECT pg_temp.reload();
SELECT restmon_trigger_report() AS r6 \gset
SELECT is(restmon_wait_report(:'r6', '60 s'), 'Complete', 'the next report completes');

-- 4. the helpers end with their report worker: restmon.report_workers
-- lowered (the worker stays idle), the worker terminated, DROP EXTENSION
SELECT pg_temp.wait_procs('helper', 1, 5) AS helpers_before_lowering;
ALTER SYSTEM SET restmon.report_workers = '1';
SELECT pg_temp.reload();
SELECT is(pg_temp.wait_procs('helper', 0, 5), 0::bigint,
	'restmon.report_workers lowered to 1: the helper exits');
ALTER SYSTEM SET restmon.report_workers = '2';
SELECT pg_temp.reload();
SELECT restmon_trigger_report() AS r7 \gset
SELECT restmon_wait_report(:'r7', '60 s');
SELECT pg_temp.wait_procs('helper', 1, 5) AS helpers_again;
SELECT pg_terminate_backend(pid) FROM pg_stat_activity
WHERE backend_type = 'restmon report worker' AND datname = current_database();
SELECT is(pg_temp.wait_procs('helper', 0, 5), 0::bigint,
	'its report worker terminated: the helper exits');
SELECT restmon_trigger_report() AS r8 \gset
SELECT restmon_wait_report(:'r8', '60 s');
SELECT pg_temp.wait_procs('helper', 1, 5) AS helpers_again;
SET client_min_messages = warning;
DROP EXTENSION restmon;
RESET client_min_messages;
SELECT is(pg_temp.wait_procs('helper', 0, 5) + pg_temp.wait_procs('worker', 0, 5), 0::bigint,
	'DROP EXTENSION restmon: the idle worker and its helper exit');

-- restmon.report_worker_idle (2 s by default) passed: both gone, so DROP
-- DATABASE without FORCE (which waits 5 s for sessions) succeeds
ALTER SYSTEM RESET restmon.report_worker_idle;
SELECT pg_temp.reload();
SET client_min_messages = warning;
DROP DATABASE IF EXISTS restmon_helper_other WITH (FORCE);
CREATE DATABASE restmon_helper_other;
RESET client_min_messages;
SELECT dblink_connect('other', format('host=%s port=%s dbname=restmon_helper_other',
	split_part(current_setting('unix_socket_directories'), ',', 1),
	current_setting('port')));
SELECT dblink_exec('other', 'CREATE EXTENSION restmon');
SELECT * FROM dblink('other', format(
	'SELECT (SELECT count(*) FROM restmon_ingest_timezones(%L))'
	' + (SELECT count(*) FROM restmon_ingest_hours(%L))',
	:'fixtures' || '/loop-2024/timezones.csv',
	:'fixtures' || '/loop-2024/menu_hours.csv')) t(n bigint);
SELECT * FROM dblink('other', format('SELECT rows_loaded FROM restmon_ingest_status(%L)',
	:'fixtures' || '/loop-2024/store_status_head_1000.csv')) t(n bigint);
SELECT id AS other FROM dblink('other', 'SELECT restmon_trigger_report()') t(id text) \gset
SELECT * FROM dblink('other', format('SELECT restmon_wait_report(%L, %L)',
	:'other', '60 s')) t(s text);
SELECT dblink_disconnect('other');
DROP DATABASE restmon_helper_other;
SELECT is((SELECT count(*) FROM pg_database WHERE datname = 'restmon_helper_other'),
	0::bigint, 'DROP DATABASE without FORCE: the idle worker and helper left in time');

ALTER SYSTEM RESET restmon.report_workers;
SELECT pg_temp.reload();
SELECT * FROM finish();
SET client_min_messages = warning;
CREATE EXTENSION restmon;
