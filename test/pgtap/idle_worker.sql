--
-- A report worker with no report left waits idle, up to
-- restmon.report_worker_idle (2 s by default), for the next request of
-- its database (src/report_worker.c): the next report needs no process
-- start; while idle it holds no claim and shows its idle mark in pg_locks;
-- it exits once the time has passed, at once with the setting 0, when a
-- request of another database needs its slot, and when restmon is dropped.
-- Needs a disposable database with pgtap and dblink; creates and drops
-- database restmon_idle_other.  Sets restmon.report_worker_idle and
-- restmon.max_report_workers with ALTER SYSTEM and resets them.
--
\set ON_ERROR_STOP 1
\i test/preamble.psql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS dblink;
\i test/loop_head.psql
\unset ON_ERROR_STOP

-- the report workers of this database, idle or not
CREATE FUNCTION pg_temp.workers(idle boolean DEFAULT NULL) RETURNS bigint
LANGUAGE sql AS $$
	SELECT count(*) FROM pg_stat_activity
	WHERE backend_type = 'restmon report worker'
	  AND datname = current_database()
	  AND (idle IS NULL OR (state = 'idle') = idle)
$$;
-- wait (up to secs) until this database has no report worker
CREATE FUNCTION pg_temp.wait_no_worker(secs numeric) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
	WHILE pg_temp.workers() > 0 AND clock_timestamp() < t0 + secs * interval '1 s' LOOP
		PERFORM pg_sleep(0.02);
		PERFORM pg_stat_clear_snapshot();
	END LOOP;
	RETURN pg_temp.workers();
END $$;

-- wait (up to secs) until this database's report worker waits idle
CREATE FUNCTION pg_temp.wait_idle(secs numeric) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
	WHILE pg_temp.workers(true) = 0 AND clock_timestamp() < t0 + secs * interval '1 s' LOOP
		PERFORM pg_sleep(0.01);
		PERFORM pg_stat_clear_snapshot();
	END LOOP;
	RETURN pg_temp.workers(true);
END $$;

SELECT plan(13);

SELECT restmon_trigger_report() AS r1 \gset
SELECT is(restmon_wait_report(:'r1', '60 s'), 'Complete', 'a report completes');
SELECT worker_pid AS pid1 FROM restmon.report WHERE report_id = :'r1' \gset
SELECT restmon_trigger_report() AS r2 \gset
SELECT is(restmon_wait_report(:'r2', '60 s'), 'Complete', 'the next one too');
SELECT is((SELECT worker_pid FROM restmon.report WHERE report_id = :'r2'), :pid1,
	'computed by the same worker, waiting idle: no process start');

SELECT is(pg_temp.wait_idle(1.5), 1::bigint,
	'the worker waits idle (state idle in pg_stat_activity)');
SELECT is((SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
           WHERE l.locktype = 'advisory' AND d.datname = current_database()
             AND l.objsubid = 3 AND l.pid = :pid1 AND l.granted), 1::bigint,
	'holding its idle mark, an advisory lock of this database');
SELECT is((SELECT count(*) FROM restmon.report WHERE status = 'Running'), 0::bigint,
	'and no report is left Running');

SELECT is(pg_temp.wait_no_worker(30), 0::bigint,
	'after restmon.report_worker_idle it exits');

-- restmon.report_worker_idle = 0: the worker exits as soon as the queue is
-- empty
ALTER SYSTEM SET restmon.report_worker_idle = 0;
SELECT pg_reload_conf();
SELECT pg_sleep(0.3);
SELECT restmon_trigger_report() AS r3 \gset
SELECT is(restmon_wait_report(:'r3', '60 s'), 'Complete', 'with the setting 0 a report completes');
-- within 1 s: with the default (2 s) it would still be there
SELECT is(pg_temp.wait_no_worker(1), 0::bigint, 'and its worker exits without waiting');
ALTER SYSTEM RESET restmon.report_worker_idle;
SELECT pg_reload_conf();
SELECT pg_sleep(0.3);

-- the only slot (restmon.max_report_workers = 1) held by this database's
-- idle worker, which would wait 20 s: a request of another database wakes
-- it, it leaves, and the request's new worker takes the slot, so that
-- report completes well before the 20 s
ALTER SYSTEM SET restmon.max_report_workers = 1;
ALTER SYSTEM SET restmon.report_worker_idle = '20s';
SELECT pg_reload_conf();
SELECT pg_sleep(0.3);
SELECT restmon_trigger_report() AS r5 \gset
SELECT restmon_wait_report(:'r5', '60 s');
SELECT is(pg_temp.wait_idle(1.5), 1::bigint, 'an idle worker holds the only slot');
SET client_min_messages = warning;
DROP DATABASE IF EXISTS restmon_idle_other WITH (FORCE);
CREATE DATABASE restmon_idle_other;
RESET client_min_messages;
SELECT dblink_connect('other', format('host=%s port=%s dbname=restmon_idle_other',
	split_part(current_setting('unix_socket_directories'), ',', 1),
	current_setting('port'))) AS connected;
SELECT dblink_exec('other', 'CREATE EXTENSION restmon');
SELECT id AS other FROM dblink('other', 'SELECT restmon_trigger_report()') t(id text) \gset
SELECT is((SELECT s FROM dblink('other',
	format('SELECT restmon_wait_report(%L, %L)', :'other', '10 s')) t(s text)),
	'Complete', 'a report of another database completes at once');
SELECT is(pg_temp.wait_no_worker(5), 0::bigint,
	'this database''s idle worker left its slot');
SELECT dblink_disconnect('other');
SET client_min_messages = warning;
DROP DATABASE restmon_idle_other WITH (FORCE);
RESET client_min_messages;
ALTER SYSTEM RESET restmon.max_report_workers;
ALTER SYSTEM RESET restmon.report_worker_idle;
SELECT pg_reload_conf();
SELECT pg_sleep(0.3);

-- an idle worker ends with DROP EXTENSION (restmon_before_drop): it would
-- wait 20 s, so only the drop ends it within 5 s
ALTER SYSTEM SET restmon.report_worker_idle = '20s';
SELECT pg_reload_conf();
SELECT pg_sleep(0.3);
SELECT restmon_trigger_report() AS r4 \gset
SELECT restmon_wait_report(:'r4', '60 s');
SET client_min_messages = warning;
DROP EXTENSION restmon;
RESET client_min_messages;
SELECT is(pg_temp.wait_no_worker(5), 0::bigint, 'an idle worker ends with DROP EXTENSION restmon');
ALTER SYSTEM RESET restmon.report_worker_idle;
SELECT pg_reload_conf();

SELECT * FROM finish();
SET client_min_messages = warning;
CREATE EXTENSION restmon;
