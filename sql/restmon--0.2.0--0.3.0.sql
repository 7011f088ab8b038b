/* sql/restmon--0.2.0--0.3.0.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION restmon UPDATE TO '0.3.0'" to load this file. \quit

-- 0.3.0: report workers no longer look up the extension's schema and build
-- their statement around it; they call restmon.report_rows().
-- The rows of one report: restmon_store_uptime()'s figures for the
-- request's as_of and store, in restmon.report_row's shape.  Report
-- workers fill a report with one fixed statement,
--   INSERT INTO restmon.report_row SELECT * FROM restmon.report_rows($1)
-- the extension's schema bound here, at install time.
CREATE FUNCTION restmon.report_rows(report_id text)
RETURNS SETOF restmon.report_row
LANGUAGE sql STABLE
AS $$
	SELECT r.report_id, u.store_id, u.uptime_last_hour, u.uptime_last_day,
		   u.uptime_last_week, u.downtime_last_hour, u.downtime_last_day,
		   u.downtime_last_week
	FROM restmon.report r,
		 @extschema@.restmon_store_uptime(r.as_of, r.store_filter) u
	WHERE r.report_id = report_rows.report_id
$$;

-- 0.3.0: one privilege rule.  Every function that loads data, runs or
-- schedules jobs, or hands out rights is revoked from PUBLIC (ingestion
-- already was; upkeep, pruning and scheduling were not).  Functions that
-- only read run with the caller's own rights on restmon's tables.
REVOKE ALL ON FUNCTION restmon_upkeep() FROM PUBLIC;
REVOKE ALL ON FUNCTION restmon_prune_reports() FROM PUBLIC;
REVOKE ALL ON FUNCTION restmon_schedule(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION restmon_unschedule() FROM PUBLIC;
