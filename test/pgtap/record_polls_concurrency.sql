--
-- Many pollers at once (issue 14; semantics §1.6: polls accumulate, the
-- first of a store and instant wins): 16 sessions record overlapping
-- batches through restmon_record_polls() at the same time.  Nothing is lost
-- and nothing is stored twice; a report running meanwhile does not wait
-- for them and never sees part of a batch.  Sessions 1..16 are dblink
-- connections; this session watches.
--
\set ON_ERROR_STOP 1
\i test/preamble.psql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS dblink;

-- batch j (1..16): stores s0..s19 at hours 5j .. 5j+29 (600 polls, active
-- when the hour is even: overlapping batches agree), and its own store pj
-- at hours 0..9, the first 5 polls at the start of the batch, the last 5
-- at its end, so a half-applied batch would show fewer than 10 of them
CREATE FUNCTION pg_temp.batch(j int) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_agg(e ORDER BY k, o) FROM (
		SELECT 1 AS k, h AS o, jsonb_build_object('store_id', 'p' || j,
			'status', 'active', 'timestamp_utc',
			to_char(timestamptz '2023-01-01 00:00 UTC' + h * interval '1 hour',
					'YYYY-MM-DD"T"HH24:MI:SS"Z"')) AS e
		FROM generate_series(0, 4) h
		UNION ALL
		SELECT 2, h * 100 + s, jsonb_build_object('store_id', 's' || s,
			'status', CASE WHEN h % 2 = 0 THEN 'active' ELSE 'inactive' END,
			'timestamp_utc', to_char(timestamptz '2023-01-01 00:00 UTC' + h * interval '1 hour',
					'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
		FROM generate_series(5 * j, 5 * j + 29) h, generate_series(0, 19) s
		UNION ALL
		SELECT 3, h, jsonb_build_object('store_id', 'p' || j,
			'status', 'active', 'timestamp_utc',
			to_char(timestamptz '2023-01-01 00:00 UTC' + h * interval '1 hour',
					'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
		FROM generate_series(5, 9) h) x
	$$;
\unset ON_ERROR_STOP

SELECT plan(9);

SELECT count(*) FROM (
	SELECT dblink_connect('c' || j, format('host=%s port=%s dbname=%s',
		current_setting('unix_socket_directories'), current_setting('port'),
		current_database()))
	FROM generate_series(1, 16) j) c;

-- session 1 records its batch and keeps its transaction open
SELECT dblink_exec('c1', 'BEGIN');
SELECT is((SELECT received FROM dblink('c1', format(
	'SELECT received FROM restmon_record_polls(%L)', pg_temp.batch(1)))
	AS t(received bigint)), 610::bigint, 'session 1 records 610 polls, not committed yet');

-- sessions 2..16 send theirs meanwhile (each its own transaction)
SELECT count(*) FROM (
	SELECT dblink_send_query('c' || j, format(
		'SELECT received, loaded, duplicate, rejected FROM restmon_record_polls(%L)',
		pg_temp.batch(j)))
	FROM generate_series(2, 16) j) s;

-- a report meanwhile neither waits nor sees session 1's uncommitted batch
SET statement_timeout = '10s';
SELECT lives_ok('SELECT count(*) FROM restmon_store_uptime(''2023-01-05 00:00+00'')',
	'a report runs while 16 sessions record');
RESET statement_timeout;
SELECT is((SELECT count(*) FROM restmon.observation WHERE store_id = 'p1'), 0::bigint,
	'nothing of the uncommitted batch is seen');
SELECT dblink_exec('c1', 'COMMIT');

-- while the others commit one after another, every look at the table sees
-- each batch whole or not at all: its own store has 0 or 10 polls
CREATE TEMP TABLE partial (seen bigint);
DO $$
BEGIN
	FOR i IN 1 .. 200 LOOP
		INSERT INTO partial
		SELECT count(*) FROM restmon.observation o
		WHERE o.store_id LIKE 'p%'
		GROUP BY o.store_id HAVING count(*) NOT IN (0, 10);
		EXIT WHEN (SELECT count(*) FROM restmon.observation WHERE store_id LIKE 'p%') = 160;
		PERFORM pg_sleep(0.01);
	END LOOP;
END $$;
SELECT is((SELECT count(*) FROM partial), 0::bigint,
	'no look at the table saw part of a batch');

-- every session's summary: 610 received each, no rejects
CREATE TEMP TABLE summary AS
SELECT j, r.* FROM generate_series(2, 16) j,
	LATERAL dblink_get_result('c' || j) AS r(received bigint, loaded bigint,
		duplicate bigint, rejected bigint);
SELECT is((SELECT sum(received) FROM summary), 15 * 610::numeric,
	'sessions 2..16 received 610 polls each');

-- stores s0..s19 at hours 5 .. 5*16+29 = 109: 105 hours x 20 = 2,100
-- distinct polls, plus 16 x 10 of the sessions' own stores = 2,260; every
-- other poll received is a duplicate: 16 x 610 - 2,260 = 7,500
SELECT is((SELECT count(*) FROM restmon.observation), 2260::bigint,
	'2,260 distinct polls stored, each once');
SELECT is((SELECT sum(loaded) + 600 + 10 FROM summary), 2260::numeric,
	'the loaded counts add up to the rows stored (session 1 loaded all 610 of its own)');
SELECT is((SELECT sum(duplicate) FROM summary), 7500::numeric,
	'the rest are duplicates, none rejected');
SELECT is((SELECT count(*) FROM restmon.observation
		   WHERE store_id LIKE 's%' AND active = (extract(hour FROM observed_at)::int % 2 = 0)),
	2100::bigint, 'every poll of s0..s19 with its status');

SELECT count(*) FROM (
	SELECT dblink_disconnect('c' || j) FROM generate_series(1, 16) j) d;
SELECT * FROM finish();
