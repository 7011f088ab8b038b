/* sql/restmon--0.1.0--0.2.0.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION restmon UPDATE TO '0.2.0'" to load this file. \quit

-- 0.2.0 ingests status polls straight into restmon.observation, bypassing
-- its trigger: restmon.store is now kept by one function that ingestion and
-- the trigger both call.
CREATE FUNCTION restmon.track_stores(store_ids text[], firsts timestamptz[],
	lasts timestamptz[]) RETURNS void
LANGUAGE sql AS
$$
	INSERT INTO restmon.store AS s (store_id, first_observed_at, last_observed_at)
	SELECT * FROM ROWS FROM (pg_catalog.unnest(store_ids),
		pg_catalog.unnest(firsts), pg_catalog.unnest(lasts))
	ON CONFLICT (store_id) DO UPDATE
		SET first_observed_at = LEAST(s.first_observed_at, excluded.first_observed_at),
			last_observed_at = GREATEST(s.last_observed_at, excluded.last_observed_at)
		WHERE excluded.first_observed_at < s.first_observed_at
		   OR excluded.last_observed_at > s.last_observed_at
$$;

CREATE OR REPLACE FUNCTION restmon.observation_track_stores() RETURNS trigger
LANGUAGE plpgsql AS
$$
BEGIN
	PERFORM restmon.track_stores(pg_catalog.array_agg(n.store_id),
		pg_catalog.array_agg(n.lo), pg_catalog.array_agg(n.hi))
	FROM (SELECT store_id, pg_catalog.min(observed_at) AS lo,
	             pg_catalog.max(observed_at) AS hi
	      FROM new_rows GROUP BY store_id) n;
	RETURN NULL;
END
$$;

-- Lets a role use the report API, and nothing else: EXECUTE on the report
-- functions (they run as the extension's owner); no privilege on any
-- table.  This is what the HTTP gateway's role needs.
CREATE FUNCTION restmon_grant_report_api(role regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	EXECUTE pg_catalog.format(
		'GRANT EXECUTE ON FUNCTION %1$I.restmon_trigger_report(timestamptz, text, boolean),'
		' %1$I.restmon_report_status(text), %1$I.restmon_report_csv(text),'
		' %1$I.restmon_get_report(text), %1$I.restmon_wait_report(text, interval)'
		' TO %2$s', '@extschema@', role);
END
$$;
REVOKE ALL ON FUNCTION restmon_grant_report_api(regrole) FROM PUBLIC;
