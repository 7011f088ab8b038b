--
-- A report reads each store's evidence horizon (semantics §5: the 192
-- hours up to T) as a range of the primary key (src/observation.c), found
-- from the leaf where the previous store's range ended, else from the
-- level-1 page of the last descent, else from the root.  Here every store
-- keeps 40 days of hourly polls, as restmon keeps 35 days by default
-- (doc/operations.md, Retention): a store's horizon starts leaves after
-- the previous store's range, under the same level-1 page for most stores
-- and under the next one for some.  Whatever the path, a store's figures
-- are those of its horizon's polls alone: the report equals the report
-- over those polls only, with 1 and 2 processes, and after the polls
-- older than the retention are pruned (the leaves they held emptied).
--
\set ON_ERROR_STOP 1
\i test/preamble.psql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT plan(7);

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
-- level-1 page holds downlinks for (a store's 768 polls before its
-- horizon fill some 3 leaves)
SELECT ok(pg_relation_size('restmon.observation_pkey') / 8192 > 1000,
	'the primary key has more leaves than one level-1 page holds');

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

SELECT * FROM finish();
