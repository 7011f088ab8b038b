--
-- Two loads of one snapshot at once (semantics §1.7: each hours or zone
-- file replaces the whole previous table): the second waits for the first
-- and then replaces what it committed, so two overlapping loads end with
-- exactly the second file's rows, as one after the other would.  Under
-- REPEATABLE READ a load is refused up front (25001: ingestion needs READ
-- COMMITTED) rather than keep both.  Runs in
-- autocommit mode, with a second and third session through dblink.
-- Before: both files' hours were kept, and the second zone load failed
-- with 23505.
--
\set ON_ERROR_STOP 1
\i test/preamble.psql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS dblink;
\set hours_a :fixtures '/demo/snap_hours_a.csv'
\set hours_b :fixtures '/demo/snap_hours_b.csv'
\set tz_a :fixtures '/demo/snap_tz_a.csv'
\set tz_b :fixtures '/demo/snap_tz_b.csv'

-- file A: s1 and s2 open 09-12 on Monday; file B: s1 open 14-18 on Monday
COPY (VALUES ('store_id,day,start_time_local,end_time_local'),
	('s1,0,09:00,12:00'), ('s2,0,09:00,12:00')) TO :'hours_a';
COPY (VALUES ('store_id,day,start_time_local,end_time_local'),
	('s1,0,14:00,18:00')) TO :'hours_b';
COPY (VALUES ('store_id,timezone_str'),
	('s1,America/New_York'), ('s2,America/New_York')) TO :'tz_a';
COPY (VALUES ('store_id,timezone_str'), ('s1,Asia/Kolkata')) TO :'tz_b';
\unset ON_ERROR_STOP

SELECT plan(9);

SELECT dblink_connect('a', format('host=%s port=%s dbname=%s',
	current_setting('unix_socket_directories'), current_setting('port'), current_database()));
SELECT dblink_connect('b', format('host=%s port=%s dbname=%s',
	current_setting('unix_socket_directories'), current_setting('port'), current_database()));
SELECT pid AS b_pid FROM dblink('b', 'SELECT pg_backend_pid()') AS t(pid int) \gset
SET restmon_test.b_pid = :b_pid;

-- waits (up to 5 s) until session b waits for a lock; true if it does
CREATE FUNCTION pg_temp.b_waits() RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
	n int := 0;
BEGIN
	WHILE n < 250 AND NOT EXISTS (
		SELECT FROM pg_stat_activity
		WHERE pid = current_setting('restmon_test.b_pid')::int AND wait_event_type = 'Lock') LOOP
		PERFORM pg_sleep(0.02);
		PERFORM pg_stat_clear_snapshot();
		n := n + 1;
	END LOOP;
	RETURN EXISTS (SELECT FROM pg_stat_activity
		WHERE pid = current_setting('restmon_test.b_pid')::int AND wait_event_type = 'Lock');
END $$;

-- hours: a loads file A and keeps its transaction open; b loads file B
SELECT dblink_exec('a', 'BEGIN');
SELECT is((SELECT loaded FROM dblink('a',
	format('SELECT rows_loaded FROM restmon_ingest_hours(%L)', :'hours_a'))
	AS t(loaded bigint)), 2::bigint, 'session a loads hours file A, not committed yet');
SELECT dblink_send_query('b',
	format('SELECT rows_loaded, rows_rejected FROM restmon_ingest_hours(%L)', :'hours_b'));
SELECT ok(pg_temp.b_waits(), 'session b''s hours load waits for session a''s');
SELECT dblink_exec('a', 'COMMIT');
SELECT results_eq(
	$$SELECT * FROM dblink_get_result('b') AS t(loaded bigint, rejected bigint)$$,
	$$VALUES (1::bigint, 0::bigint)$$,
	'session b, after a commits: its 1 row loaded');
SELECT * FROM dblink_get_result('b') AS t(loaded bigint, rejected bigint);
SELECT results_eq(
	$$SELECT store_id COLLATE "default", day_of_week::int, start_local, end_local
	  FROM restmon.business_hours ORDER BY 1, 3$$,
	$$VALUES ('s1', 0, time '14:00', time '18:00')$$,
	'the hours snapshot is exactly file B''s: nothing of A is left');

-- time zones: the same, and the second load does not fail with 23505
SELECT dblink_exec('a', 'BEGIN');
SELECT is((SELECT loaded FROM dblink('a',
	format('SELECT rows_loaded FROM restmon_ingest_timezones(%L)', :'tz_a'))
	AS t(loaded bigint)), 2::bigint, 'session a loads zone file A, not committed yet');
SELECT dblink_send_query('b',
	format('SELECT rows_loaded, rows_rejected FROM restmon_ingest_timezones(%L)', :'tz_b'));
SELECT ok(pg_temp.b_waits(), 'session b''s zone load waits for session a''s');
SELECT dblink_exec('a', 'COMMIT');
SELECT results_eq(
	$$SELECT * FROM dblink_get_result('b') AS t(loaded bigint, rejected bigint)$$,
	$$VALUES (1::bigint, 0::bigint)$$,
	'session b, after a commits: its 1 row loaded, no unique violation');
SELECT * FROM dblink_get_result('b') AS t(loaded bigint, rejected bigint);
SELECT results_eq(
	$$SELECT store_id COLLATE "default", timezone COLLATE "default" FROM restmon.store_timezone ORDER BY 1$$,
	$$VALUES ('s1', 'Asia/Kolkata')$$,
	'the zone snapshot is exactly file B''s');

-- REPEATABLE READ: b's snapshot predates a load that a commits; b's own
-- load is refused (25001) instead of keeping both snapshots
DELETE FROM restmon.business_hours;
SELECT dblink_exec('b', 'BEGIN ISOLATION LEVEL REPEATABLE READ');
SELECT * FROM dblink('b', 'SELECT count(*) FROM restmon.business_hours') AS t(n bigint);
SELECT * FROM dblink('a', format('SELECT rows_loaded FROM restmon_ingest_hours(%L)', :'hours_a'))
	AS t(loaded bigint);
SELECT throws_ok(
	format($$SELECT * FROM dblink('b', %L) AS t(loaded bigint)$$,
		format('SELECT rows_loaded FROM restmon_ingest_hours(%L)', :'hours_b')),
	'25001', NULL,
	'a REPEATABLE READ load that cannot see a concurrent load''s rows is refused (25001)');
SELECT dblink_exec('b', 'ROLLBACK');

SELECT dblink_disconnect('a');
SELECT dblink_disconnect('b');
SELECT * FROM finish();
