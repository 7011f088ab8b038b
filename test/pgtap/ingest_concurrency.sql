--
-- Two status ingestions at once (semantics §1: polls accumulate, the first of a
-- store and instant wins): the second waits for the first and then sees
-- what it stored, so overlapping files give the same result as one after
-- the other.  A report does not wait for an ingestion.  Runs in
-- autocommit mode, with a second and third session through dblink.
--
\set ON_ERROR_STOP 1
\i test/preamble.psql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS dblink;
\set file_a :fixtures '/demo/concurrent_a.csv'
\set file_b :fixtures '/demo/concurrent_b.csv'

-- file A: stores a0..a9, 100 hourly polls each (1,000 lines), active when
-- the hour is even.  File B: the same 1,000 lines, except that the 10 polls
-- of hour 0 have the other status, then 500 new polls (hours 100..149).
COPY (SELECT 'a' || s AS store_id, CASE WHEN h % 2 = 0 THEN 'active' ELSE 'inactive' END AS status,
             to_char(timestamptz '2023-01-01 00:00 UTC' + h * interval '1 hour',
                     'YYYY-MM-DD HH24:MI:SS') || ' UTC' AS timestamp_utc
      FROM generate_series(0, 9) s, generate_series(0, 99) h ORDER BY h, s)
TO :'file_a' WITH (FORMAT csv, HEADER);
COPY (SELECT 'a' || s AS store_id,
             CASE WHEN (h % 2 = 0) <> (h = 0) THEN 'active' ELSE 'inactive' END AS status,
             to_char(timestamptz '2023-01-01 00:00 UTC' + h * interval '1 hour',
                     'YYYY-MM-DD HH24:MI:SS') || ' UTC' AS timestamp_utc
      FROM generate_series(0, 9) s, generate_series(0, 149) h ORDER BY h, s)
TO :'file_b' WITH (FORMAT csv, HEADER);
\unset ON_ERROR_STOP

SELECT plan(9);

SELECT dblink_connect('a', format('host=%s port=%s dbname=%s',
	current_setting('unix_socket_directories'), current_setting('port'), current_database()));
SELECT dblink_connect('b', format('host=%s port=%s dbname=%s',
	current_setting('unix_socket_directories'), current_setting('port'), current_database()));
SELECT pid AS b_pid FROM dblink('b', 'SELECT pg_backend_pid()') AS t(pid int) \gset

-- session a loads file A and keeps its transaction open
SELECT dblink_exec('a', 'BEGIN');
SELECT is((SELECT loaded FROM dblink('a',
	format('SELECT rows_loaded FROM restmon_ingest_status(%L)', :'file_a'))
	AS t(loaded bigint)), 1000::bigint, 'session a loads file A (1,000 polls), not committed yet');

-- session b loads file B meanwhile: it waits for a's lock
SELECT dblink_send_query('b',
	format('SELECT rows_loaded, rows_duplicate, rows_rejected
	  FROM restmon_ingest_status(%L)', :'file_b'));
SET restmon_test.b_pid = :b_pid;
DO $$
DECLARE
	n int := 0;
BEGIN
	WHILE n < 500 AND NOT EXISTS (
		SELECT FROM pg_stat_activity
		WHERE pid = current_setting('restmon_test.b_pid')::int AND wait_event_type = 'Lock') LOOP
		PERFORM pg_sleep(0.02);
		PERFORM pg_stat_clear_snapshot();
		n := n + 1;
	END LOOP;
END $$;
SELECT ok(EXISTS (SELECT FROM pg_stat_activity WHERE pid = :b_pid AND wait_event_type = 'Lock'),
	'session b waits for session a');

-- a report meanwhile does not wait for either
SET statement_timeout = '10s';
SELECT lives_ok('SELECT count(*) FROM restmon_store_uptime(''2023-01-07 00:00+00'')',
	'a report runs while both ingestions hold or wait for the lock');
RESET statement_timeout;

SELECT dblink_exec('a', 'COMMIT');
-- b then sees A's rows: 1,000 lines already stored, of which the 10 of
-- hour 0 conflict (rejected) and 990 agree (duplicates); 500 new
SELECT results_eq(
	$$SELECT * FROM dblink_get_result('b') AS t(loaded bigint, duplicate bigint, rejected bigint)$$,
	$$VALUES (500::bigint, 990::bigint, 10::bigint)$$,
	'session b, after a commits: 500 loaded, 990 duplicates, 10 conflicts rejected');
SELECT * FROM dblink_get_result('b') AS t(loaded bigint, duplicate bigint, rejected bigint);

SELECT is((SELECT count(*) FROM restmon.observation), 1500::bigint,
	'1,500 polls stored, each once');
SELECT is((SELECT count(*) FROM restmon.observation
           WHERE observed_at = '2023-01-01 00:00+00' AND active), 10::bigint,
	'hour 0 keeps file A''s status (the first stored wins)');
SELECT results_eq(
	$$SELECT count(*), min(first_observed_at), max(last_observed_at) FROM restmon.store$$,
	$$VALUES (10::bigint, '2023-01-01 00:00+00'::timestamptz, '2023-01-07 05:00+00'::timestamptz)$$,
	'restmon.store: 10 stores, from hour 0 to hour 149');

-- a first load of its own into the empty table rebuilds the indexes by
-- sort only when no other session holds a lock on them
-- (src/observation_write.c): while session b's open transaction has read
-- the table (its plan locked the primary key), the load inserts row by row
-- and does not wait for b
TRUNCATE restmon.observation, restmon.store;
SELECT pg_relation_filenode('restmon.observation_key') AS pkey_file \gset
SELECT dblink_exec('b', 'BEGIN');
SELECT * FROM dblink('b', $$SELECT count(*) FROM restmon.observation WHERE store_id = 'a0'$$)
	AS t(n bigint);
SET statement_timeout = '10s';
SELECT is((SELECT rows_loaded FROM restmon_ingest_status(:'file_a')), 1000::bigint,
	'a first load while another session has read the table: 1,000 polls, without waiting');
RESET statement_timeout;
SELECT ok(pg_relation_filenode('restmon.observation_key') = :pkey_file,
	'... inserted row by row: the primary key keeps its file');
SELECT dblink_exec('b', 'COMMIT');

SELECT dblink_disconnect('a');
SELECT dblink_disconnect('b');
SELECT * FROM finish();
