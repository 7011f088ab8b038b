/* sql/restmon--0.3.0--0.4.0.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION restmon UPDATE TO '0.4.0'" to load this file. \quit

-- 0.4.0 adds objects only; each block below is repeated in
-- restmon--0.4.0.sql, and test/sql/upgrade.sql checks that both give the
-- same extension.

-- Observation retention (0.4.0): deletes the status polls older than
-- restmon.observation_retention, counted back from the latest poll stored,
-- about max_rows at most per call, and never while an ingestion runs;
-- restmon_upkeep() runs one batch.  Stores keep their hours and zones.
CREATE FUNCTION restmon_prune_observations(max_rows bigint DEFAULT 100000)
RETURNS bigint
AS 'MODULE_PATHNAME', 'restmon_prune_observations'
LANGUAGE C VOLATILE STRICT;
REVOKE ALL ON FUNCTION restmon_prune_observations(bigint) FROM PUBLIC;
