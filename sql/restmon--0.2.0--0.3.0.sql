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

-- 0.3.0: restmon.store can be recomputed.
-- semantics §4: restmon.store caches each store's first and latest poll,
-- and the latest of all is the default report instant.  Rows deleted from
-- restmon.observation (a far-future poll, say) stay in that cache until it
-- is recomputed: restmon_rebuild_stores() recomputes it from
-- restmon.observation, under a lock that holds off loads meanwhile, and
-- returns the number of stores.
CREATE FUNCTION restmon_rebuild_stores()
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n bigint;
BEGIN
	LOCK TABLE restmon.observation IN SHARE MODE;
	LOCK TABLE restmon.store IN EXCLUSIVE MODE;
	DELETE FROM restmon.store;
	INSERT INTO restmon.store (store_id, first_observed_at, last_observed_at)
		SELECT o.store_id, pg_catalog.min(o.observed_at),
			   pg_catalog.max(o.observed_at)
		FROM restmon.observation o GROUP BY o.store_id;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;
REVOKE ALL ON FUNCTION restmon_rebuild_stores() FROM PUBLIC;
