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

-- 0.3.0: rejected lines have a retention, restmon.reject_retention, and
-- the daily restmon-prune job deletes the expired ones too.
CREATE FUNCTION restmon_prune_rejects()
RETURNS bigint
AS 'MODULE_PATHNAME', 'restmon_prune_rejects'
LANGUAGE C VOLATILE;

CREATE OR REPLACE FUNCTION restmon_schedule(data_dir text DEFAULT NULL,
	ingest_cron text DEFAULT '0 * * * *')
RETURNS TABLE (job_name text, schedule text, command text)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	dir text := COALESCE(data_dir, pg_catalog.current_setting('restmon.data_dir', true), '');
	jobs text[][] := ARRAY[
		['restmon-ingest', ingest_cron,
		 pg_catalog.format('SELECT * FROM %I.restmon_ingest(%L)', '@extschema@', dir)],
		['restmon-upkeep', '* * * * *',
		 pg_catalog.format('SELECT %I.restmon_upkeep()', '@extschema@')],
		['restmon-prune', '17 3 * * *',
		 pg_catalog.format('SELECT %1$I.restmon_prune_reports(), %1$I.restmon_prune_rejects()', '@extschema@')]];
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
		RAISE EXCEPTION 'restmon_schedule() needs the pg_cron extension'
			USING ERRCODE = 'undefined_object',
			      HINT = 'Add pg_cron to shared_preload_libraries, set cron.database_name, and CREATE EXTENSION pg_cron.';
	END IF;
	IF dir = '' THEN
		RAISE EXCEPTION 'no data directory to ingest from'
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Pass data_dir or set restmon.data_dir.';
	END IF;
	FOR i IN 1 .. pg_catalog.array_length(jobs, 1) LOOP
		-- named jobs: scheduling again replaces them
		EXECUTE 'SELECT cron.schedule_in_database($1, $2, $3, pg_catalog.current_database())'
			USING jobs[i][1], jobs[i][2], jobs[i][3];
		job_name := jobs[i][1];
		schedule := jobs[i][2];
		command := jobs[i][3];
		RETURN NEXT;
	END LOOP;
END
$$;
