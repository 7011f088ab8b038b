--
-- A report reads each store's evidence horizon (semantics §5: the 192
-- hours up to T) as ranges of restmon.observation_key, one per week of
-- the horizon (src/observation_weeks.c, doc/operations.md, "How polls are
-- stored"), each found from the leaf where the previous store's range in
-- that week ended, else from the leaf found for it at the end of the
-- previous store's read (the item after that range is this store's oldest
-- poll of the week, src/observation_find.c), else from the level-1 page of
-- the last descent or one of the next few to its right, else from the
-- root.  Here every store keeps 40 days of hourly polls, as restmon keeps
-- 35 days by default (doc/operations.md, Retention): in the horizon's
-- first week a store's horizon starts after up to 7 days of its older
-- polls, leaves after the previous store's range.  Whatever the path, a
-- store's figures are those of its horizon's polls alone: the report
-- equals the report over those polls only, with 1 and 2 processes, and
-- after the polls older than the retention are pruned (the leaves they
-- held emptied).
--
\set ON_ERROR_STOP 1
\i test/preamble.psql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT plan(10);

-- 400 stores (no hours: open 24/7, semantics §2), one poll an hour for 40
-- days up to T = 2023-03-01 00:00 UTC, 960 each, active or not by a fixed
-- pattern that differs between stores
INSERT INTO restmon.observation
SELECT format('st%s', lpad(s::text, 4, '0')),
	   '2023-03-01 00:00+00'::timestamptz - h * interval '1 hour',
	   (h * 7 + s * 13) % 5 <> 0
FROM generate_series(0, 399) s, generate_series(0, 959) h
ORDER BY 1, 2;
ANALYZE restmon.observation;

SELECT is(restmon_default_as_of(), '2023-03-01 00:00+00'::timestamptz,
	'T is the latest poll');
-- 384,000 items of about 32 bytes: some 1,500 leaves, more than one
-- level-1 page holds downlinks for
SELECT ok(pg_relation_size('restmon.observation_key') / 8192 > 1000,
	'the key has more leaves than one level-1 page holds');

SET restmon.report_workers = 1;
CREATE TEMP TABLE r_history AS SELECT * FROM restmon_store_uptime();
SET restmon.report_workers = 2;
CREATE TEMP TABLE r_history_2 AS SELECT * FROM restmon_store_uptime();
RESET restmon.report_workers;

SELECT is((SELECT count(*) FROM r_history), 400::bigint, 'every store reported');
SELECT set_eq('TABLE r_history_2', 'TABLE r_history',
	'2 processes: the same rows as 1');

-- pruned to the retention: the edge is T - 35 days = T - 840 hours, so
-- the polls of hours 841 to 959 before T, 119 a store (the one exactly at
-- the edge is kept)
SELECT is(restmon_prune_observations(1000000), 400 * 119::bigint,
	'the polls older than the retention pruned');
SELECT set_eq('SELECT * FROM restmon_store_uptime()', 'TABLE r_history',
	'after pruning: the same rows');

-- the horizon's polls alone, in a primary key of their own
CREATE TEMP TABLE horizon AS
SELECT * FROM restmon.observation
WHERE observed_at > '2023-03-01 00:00+00'::timestamptz - interval '192 hours';
TRUNCATE restmon.observation;
INSERT INTO restmon.observation SELECT * FROM horizon ORDER BY 1, 2;
SELECT set_eq('SELECT * FROM restmon_store_uptime()', 'TABLE r_history',
	'the horizon''s polls alone: the same rows');

-- polls recorded as they arrive read each store's stored polls at their
-- instants first (semantics §1.6: a poll already stored is a duplicate):
-- one poll of every store at the same instant is read through the leaf
-- found at the end of the previous store's read, as a report's are
CREATE FUNCTION pg_temp.hour_of_polls(h int) RETURNS jsonb
LANGUAGE sql AS $$
	SELECT jsonb_agg(jsonb_build_object('store_id', format('st%s', lpad(s::text, 4, '0')),
		'status', 'active',
		'timestamp_utc', to_char(timestamptz '2023-03-01 00:00 UTC' + h * interval '1 hour',
								 'YYYY-MM-DD"T"HH24:MI:SS"Z"')) ORDER BY s)
	FROM generate_series(0, 399) s
$$;
SELECT row_eq($$SELECT loaded, duplicate FROM restmon_record_polls(pg_temp.hour_of_polls(1))$$,
	ROW(400::bigint, 0::bigint), 'an hour later, one poll of every store: all new');
SELECT row_eq($$SELECT loaded, duplicate FROM restmon_record_polls(pg_temp.hour_of_polls(1))$$,
	ROW(0::bigint, 400::bigint), 'the same again: every store''s poll found, all duplicates');
-- T itself, hour 0 of the start: store s was polled active there when
-- 13 s % 5 <> 0, that is when s % 5 <> 0 (13 = 3 mod 5): 320 stores, whose
-- active poll is a duplicate; the 80 others' stored inactive one wins and
-- the active one is rejected as a conflicting duplicate (semantics §1.6)
SELECT row_eq($$SELECT loaded, duplicate, rejected FROM restmon_record_polls(pg_temp.hour_of_polls(0))$$,
	ROW(0::bigint, 320::bigint, 80::bigint),
	'the polls at T: 320 duplicates, 80 conflicting duplicates');

SELECT * FROM finish();
