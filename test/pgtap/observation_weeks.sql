--
-- The key of restmon.observation is (restmon.observation_week(observed_at),
-- store_id, observed_at) (doc/operations.md, "How polls are stored"):
-- weeks start on Mondays at 00:00 UTC, week 0 on 2000-01-03, and instants
-- outside weeks -32768 .. 32767 count in those.  A store's polls are read
-- week by week, one reader per week (src/observation_weeks.c); the core
-- refuses polls out of time order, so a report over a horizon of 3 weeks
-- that comes out at all read them in order, and its evidence counts
-- (semantics §6.4: the polls in [T - window, T]) say it read them all.
--
\set ON_ERROR_STOP 1
\i test/preamble.psql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT plan(23);

-- 2000-01-03 is 2 days after PostgreSQL's epoch (a Saturday); 2023-01-23
-- is 8,421 days later (23 years of 365 days, 6 leap days, 20 days):
-- 1,203 weeks exactly
SELECT is(restmon.observation_week('2000-01-03 00:00+00'), 0::smallint,
	'week 0 starts on Monday 2000-01-03 00:00 UTC');
SELECT is(restmon.observation_week('2000-01-02 23:59:59.999999+00'), (-1)::smallint,
	'... and 1 us before is week -1');
SELECT is(restmon.observation_week('2023-01-23 00:00+00'), 1203::smallint,
	'Monday 2023-01-23 00:00 UTC starts week 1,203');
SELECT is(restmon.observation_week('2023-01-29 23:59:59.999999+00'), 1203::smallint,
	'... which ends the next Sunday at midnight UTC');
-- the week is UTC's, whatever the session's zone
SET TimeZone = 'Asia/Tokyo';
SELECT is(restmon.observation_week('2023-01-23 08:59:59.999999+09'), 1202::smallint,
	'Tokyo 09:00 on Monday is the UTC week''s start: 1 us before, week 1,202');
SELECT is(restmon.observation_week('2023-01-23 09:00+09'), 1203::smallint,
	'... and at it, week 1,203');
SET TimeZone = 'UTC';
-- week 32,767 starts 229,369 days after 2000-01-03 (the year 2628)
SELECT is(restmon.observation_week('3000-01-01 00:00+00'), 32767::smallint,
	'the year 3000 counts in the last week');
SELECT is(restmon.observation_week('1000-01-01 00:00+00'), (-32768)::smallint,
	'the year 1000 in the first');

-- T = Monday 2023-01-23 03:00 UTC; the horizon (T - 192 h, T] starts on
-- Sunday 2023-01-15 03:00: weeks 1,201, 1,202 and 1,203.  Stores without
-- hours are open all week (semantics §2).
--   wk: active polls every 6 hours from T back to T - 198 h (34 polls):
--       in [T - 168 h, T] k = 0 .. 28 (29), in [T - 24 h, T] 5, in
--       [T - 1 h, T] 1; all up
--   a0: active at T - 1 h and T - 30 min, in week 1,203 only: evidence
--       2, 2, 2; all up
--   z9: one inactive poll at T - 190 h, in week 1,201 only, outside every
--       window but the nearest poll to all of them: evidence 0, all down
--   far: polls in the first and the last week (the years 1000 and 3000)
--       and an active one at T - 2 h: only that one is in the horizon
INSERT INTO restmon.observation
SELECT 'wk', '2023-01-23 03:00+00'::timestamptz - k * interval '6 hours', true
FROM generate_series(0, 33) k;
INSERT INTO restmon.observation VALUES
	('a0', '2023-01-23 02:00+00', true), ('a0', '2023-01-23 02:30+00', true),
	('z9', '2023-01-15 05:00+00', false),
	('far', '1000-01-01 00:00+00', false), ('far', '3000-01-01 00:00+00', false),
	('far', '2023-01-23 01:00+00', true);

SELECT is((SELECT count(DISTINCT restmon.observation_week(observed_at))
		   FROM restmon.observation WHERE store_id = 'wk'), 3::bigint,
	'wk''s polls lie in 3 weeks');
SELECT results_eq(
	$$SELECT store_id, evidence_last_hour, evidence_last_day, evidence_last_week
	  FROM restmon_store_uptime('2023-01-23 03:00+00') ORDER BY store_id$$,
	$$VALUES ('a0'::text, 2, 2, 2), ('far', 0, 1, 1), ('wk', 1, 5, 29),
	         ('z9', 0, 0, 0)$$,
	'every poll of each window read, across the weeks');
SELECT results_eq(
	$$SELECT store_id, uptime_last_hour, uptime_last_day, uptime_last_week,
	         downtime_last_week
	  FROM restmon_store_uptime('2023-01-23 03:00+00') ORDER BY store_id$$,
	$$VALUES ('a0'::text, 60.00, 24.00, 168.00, 0.00),
	         ('far', 60.00, 24.00, 168.00, 0.00),
	         ('wk', 60.00, 24.00, 168.00, 0.00),
	         ('z9', 0.00, 0.00, 0.00, 168.00)$$,
	'and their figures');
SELECT set_eq(
	$$SELECT * FROM restmon_store_uptime('2023-01-23 03:00+00', 'wk')$$,
	$$SELECT * FROM restmon_store_uptime('2023-01-23 03:00+00') WHERE store_id = 'wk'$$,
	'a single store read alone gives its row of the full report');

-- restmon.observation_weeks(from, to): the weeks from the week of "from"
-- to the week of "to".  The horizon above, (T - 192 h, T], from Sunday
-- 2023-01-15 03:00 UTC, covers weeks 1,201 .. 1,203
SELECT is(restmon.observation_weeks('2023-01-15 03:00+00', '2023-01-23 03:00+00'),
	'{1201,1202,1203}'::smallint[], 'the horizon''s weeks: 1,201 to 1,203');
SELECT is(restmon.observation_weeks('2023-01-23 00:00+00', '2023-01-29 23:59:59.999999+00'),
	'{1203}'::smallint[], 'Monday 00:00 to the next Sunday''s last microsecond: one week');
SELECT is(restmon.observation_weeks('2023-01-23 00:00+00', '2023-01-22 23:59:59.999999+00'),
	'{}'::smallint[], 'none when the end comes first');
-- one store's polls through them: wk's in [T - 192 h, T] are k = 0 .. 32
-- (T - 192 h is k = 32), 33 polls; the key is descended at (week, 'wk')
-- for each week, both in its index condition
CREATE FUNCTION pg_temp.plan_of(q text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
	line text;
	plan text := '';
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
		plan := plan || line || E'\n';
	END LOOP;
	RETURN plan;
END
$f$;
\set store_polls 'SELECT count(*) FROM restmon.observation WHERE restmon.observation_week(observed_at) = ANY (restmon.observation_weeks(''2023-01-15 03:00+00'', ''2023-01-23 03:00+00'')) AND store_id = ''wk'' AND observed_at BETWEEN ''2023-01-15 03:00+00'' AND ''2023-01-23 03:00+00'''
SET enable_seqscan = off;
SELECT matches(pg_temp.plan_of(:'store_polls'),
	'Index Cond: \(\(\(restmon\.observation_week\(observed_at\)\) = ANY \(''\{1201,1202,1203\}''::smallint\[\]\)\) AND \(store_id = ''wk''::text\)',
	'its plan descends the key at each week''s range of the store');
RESET enable_seqscan;
SELECT results_eq(:'store_polls', $$VALUES (33::bigint)$$,
	'and it finds the store''s 33 polls of the 3 weeks');

-- a load's duplicate check reads across the weeks too: wk's polls again,
-- and one new at T + 6 h, from a status file (far's polls gone first: its
-- poll in the year 3000 would put the retention edge after all of them)
DELETE FROM restmon.observation WHERE store_id = 'far';
SELECT restmon_rebuild_stores() AS stores \gset
\set weeks_file :fixtures '/demo/weeks.csv'
COPY (SELECT 'wk' AS store_id, 'active' AS status,
			 to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC' AS timestamp_utc
	  FROM (SELECT '2023-01-23 09:00+00'::timestamptz - k * interval '6 hours' AS t
			FROM generate_series(0, 34) k) v)
TO :'weeks_file' WITH (FORMAT csv, HEADER);
SELECT is(:stores, 3, 'far gone, 3 stores left');
SELECT results_eq(
	format('SELECT rows_read, rows_loaded, rows_duplicate FROM restmon_ingest_status(%L)',
		   :'weeks_file'),
	$$VALUES (35::bigint, 1::bigint, 34::bigint)$$,
	'a status file of polls over 3 weeks: the 34 stored found, 1 new');
SELECT is((SELECT count(*) FROM restmon.observation WHERE store_id = 'wk'), 35::bigint,
	'and stored once each');

-- a store's polls read over more weeks than a handle keeps readers for
-- (16; the others share one, src/observation_weeks.c): 20 weekly polls,
-- Mondays at 12:00 UTC from 2022-09-05, loaded, then loaded again with one
-- more; with the retention off, as it would otherwise expire most of them.
-- Each stored poll must be found as a duplicate: inserting one again would
-- break observation_key's uniqueness
ALTER SYSTEM SET restmon.observation_retention = -1;
SELECT pg_reload_conf() \gset
SELECT pg_sleep(0.5) \gset
SELECT is(current_setting('restmon.observation_retention'), '-1',
	'retention off for this part');
\set long_file :fixtures '/demo/long.csv'
COPY (SELECT 'long' AS store_id, 'active' AS status,
			 to_char(('2022-09-05 12:00+00'::timestamptz + k * interval '7 days') AT TIME ZONE 'UTC',
					 'YYYY-MM-DD HH24:MI:SS') || ' UTC' AS timestamp_utc
	  FROM generate_series(0, 19) k)
TO :'long_file' WITH (FORMAT csv, HEADER);
SELECT restmon_ingest_status(:'long_file') \gset
COPY (SELECT 'long' AS store_id, 'active' AS status,
			 to_char(('2022-09-05 12:00+00'::timestamptz + k * interval '7 days') AT TIME ZONE 'UTC',
					 'YYYY-MM-DD HH24:MI:SS') || ' UTC' AS timestamp_utc
	  FROM generate_series(0, 20) k)
TO :'long_file' WITH (FORMAT csv, HEADER);
SELECT results_eq(
	format('SELECT rows_read, rows_loaded, rows_duplicate FROM restmon_ingest_status(%L)',
		   :'long_file'),
	$$VALUES (21::bigint, 1::bigint, 20::bigint)$$,
	'polls over 21 weeks: the 20 stored found, 1 new');
SELECT is((SELECT count(DISTINCT restmon.observation_week(observed_at))
		   FROM restmon.observation WHERE store_id = 'long'), 21::bigint,
	'one poll in each of 21 weeks');
ALTER SYSTEM RESET restmon.observation_retention;
SELECT pg_reload_conf() \gset

SELECT * FROM finish();
