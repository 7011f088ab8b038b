-- sql/0.4.0/01-observation-key.sql: part of restmon 0.4.0's scripts
-- (Makefile), install and upgrade: the key of restmon.observation.

-- The week of an instant (doc/operations.md, "How polls are stored"): weeks
-- start on Mondays at 00:00 UTC, numbered from 2000-01-03 (week 0).
CREATE FUNCTION restmon.observation_week(timestamptz) RETURNS smallint
AS 'MODULE_PATHNAME', 'restmon_observation_week'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The only index of restmon.observation, and what keeps one row per store
-- and instant (the week is a function of the instant).  A report reads each
-- store's horizon as a range of it, store by store in store order within
-- each week of the horizon, so its cost follows the rows of the horizon,
-- not the history kept before it; ingestion maintains this one index, and
-- an hourly load adds to the newest week's range only.
CREATE UNIQUE INDEX observation_key ON restmon.observation
	(restmon.observation_week(observed_at), store_id, observed_at)
	INCLUDE (active);

-- The weeks an interval of instants touches, from the week of its start to
-- the week of its end (none when the end comes first): a query of one
-- store's polls names them, so that the key is descended once per week at
-- that store instead of read through whole weeks, e.g.
--   WHERE restmon.observation_week(observed_at)
--         = ANY (restmon.observation_weeks(lo, hi))
--     AND store_id = '…' AND observed_at BETWEEN lo AND hi
CREATE FUNCTION restmon.observation_weeks(from_at timestamptz,
	to_at timestamptz)
RETURNS smallint[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN ARRAY(SELECT w::smallint
			 FROM pg_catalog.generate_series(
				 restmon.observation_week(from_at)::integer,
				 restmon.observation_week(to_at)::integer) w);
