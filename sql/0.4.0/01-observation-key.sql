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
