--
-- restmon.store after recorded polls (store_track.c): a backend looks for
-- a store's row first at the TID where it last found it, kept across
-- batches, and must get the same row as the primary key would give when
-- that TID has gone stale: the row updated by another session, the table
-- rewritten (VACUUM FULL), an update rolled back, a non-HOT update (an
-- index on last_observed_at), the row deleted.  Session c1 (dblink) keeps
-- its cache across all the steps; this session makes the TIDs stale.
-- After every step each store's row is (first poll, last poll) of its
-- polls (restmon.track_stores: LEAST of the firsts, GREATEST of the lasts).
--
\set ON_ERROR_STOP 1
\i test/preamble.psql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS dblink;

-- session c1 records one poll of store s at hour h of 2023-01-02 (UTC)
CREATE FUNCTION pg_temp.rec(s text, h int) RETURNS bigint LANGUAGE sql AS $$
	SELECT loaded FROM dblink('c1', format(
		'SELECT loaded FROM restmon_record_polls(%L)',
		jsonb_build_array(jsonb_build_object('store_id', s, 'status', 'active',
			'timestamp_utc', to_char(timestamptz '2023-01-02 00:00 UTC'
				+ h * interval '1 hour', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')))))
		AS t(loaded bigint)
	$$;
-- stores whose row is not (first poll, last poll) of their polls
CREATE FUNCTION pg_temp.wrong() RETURNS bigint LANGUAGE sql AS $$
	SELECT count(*) FROM (
		SELECT store_id, min(observed_at) AS lo, max(observed_at) AS hi
		FROM restmon.observation GROUP BY store_id) o
	FULL JOIN restmon.store s USING (store_id)
	WHERE s.first_observed_at IS DISTINCT FROM o.lo
	   OR s.last_observed_at IS DISTINCT FROM o.hi
	$$;
\unset ON_ERROR_STOP

SELECT plan(9);

SELECT dblink_connect('c1', format('host=%s port=%s dbname=%s',
	current_setting('unix_socket_directories'), current_setting('port'),
	current_database()));

-- stores a, b, c: new (the upsert), then known (found by the primary key,
-- their TIDs kept), then known again (found at the kept TIDs)
SELECT sum(pg_temp.rec(s, h)) FROM generate_series(1, 3) h,
	unnest(ARRAY['a', 'b', 'c']) s;
SELECT is(pg_temp.wrong(), 0::bigint,
	'three batches for each of three stores: every row is its polls'' range');

-- another session moves a's row (the statement trigger's update)
INSERT INTO restmon.observation VALUES ('a', '2023-01-02 04:00+00', true);
SELECT pg_temp.rec('a', 5);
SELECT is((SELECT last_observed_at FROM restmon.store WHERE store_id = 'a'),
	'2023-01-02 05:00+00'::timestamptz,
	'a row another session updated is found again, and widened');

-- the table rewritten: every kept TID points into the old file
VACUUM FULL restmon.store;
SELECT pg_temp.rec(s, 6) FROM unnest(ARRAY['a', 'b', 'c']) s;
SELECT is(pg_temp.wrong(), 0::bigint, 'after VACUUM FULL: every row is its polls'' range');

-- a batch rolled back: its update of b's row never happened
SELECT dblink_exec('c1', 'BEGIN');
SELECT pg_temp.rec('b', 7);
SELECT dblink_exec('c1', 'ROLLBACK');
SELECT pg_temp.rec('b', 8);
SELECT is((SELECT (first_observed_at, last_observed_at)::text FROM restmon.store
		   WHERE store_id = 'b'),
	'("2023-01-02 01:00:00+00","2023-01-02 08:00:00+00")',
	'after a rolled-back batch the row is widened from what committed');
SELECT is((SELECT count(*) FROM restmon.observation WHERE store_id = 'b'
		   AND observed_at = '2023-01-02 07:00+00'), 0::bigint,
	'the rolled-back poll is not stored');

-- updates that are not HOT (an index on a column they change): each puts
-- the row at a new TID, which is kept
CREATE INDEX store_last ON restmon.store (last_observed_at);
SELECT pg_temp.rec(s, h) FROM generate_series(9, 11) h,
	unnest(ARRAY['a', 'b', 'c']) s;
SELECT is(pg_temp.wrong(), 0::bigint,
	'updates that are not HOT: every row is its polls'' range');
DROP INDEX restmon.store_last;

-- c's row deleted, the table vacuumed (its line pointer free for another
-- row), a row for a new store d: c's kept TID shows nothing, or d's row
DELETE FROM restmon.store WHERE store_id = 'c';
VACUUM restmon.store;
INSERT INTO restmon.store VALUES ('d', '2023-01-02 00:00+00', '2023-01-02 00:00+00');
INSERT INTO restmon.observation VALUES ('d', '2023-01-02 00:00+00', true);
SELECT pg_temp.rec('c', 12);
SELECT is((SELECT (first_observed_at, last_observed_at)::text FROM restmon.store
		   WHERE store_id = 'c'),
	'("2023-01-02 12:00:00+00","2023-01-02 12:00:00+00")',
	'a deleted row is made again from the new polls only (the upsert)');
SELECT is((SELECT (first_observed_at, last_observed_at)::text FROM restmon.store
		   WHERE store_id = 'd'),
	'("2023-01-02 00:00:00+00","2023-01-02 00:00:00+00")',
	'another store''s row is left alone');
SELECT is((SELECT count(*) FROM restmon.store WHERE store_id IN ('a', 'b', 'c', 'd')),
	4::bigint, 'one row per store');

SELECT dblink_disconnect('c1');
SELECT * FROM finish();
