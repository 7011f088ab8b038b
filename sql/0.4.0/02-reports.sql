-- sql/0.4.0/02-reports.sql: part of restmon 0.4.0's scripts (Makefile),
-- install only: asynchronous reports, scheduling with pg_cron (the DROP
-- EXTENSION event trigger: 08-drop.sql, 09-drop-trigger.sql).

---------------------------------------------------------------------------
-- Asynchronous reports
---------------------------------------------------------------------------

CREATE TABLE restmon.report (
	report_id	text PRIMARY KEY,
	status		text NOT NULL DEFAULT 'Running'
		CHECK (status IN ('Running', 'Complete', 'Failed')),
	requested_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	started_at	timestamptz,
	finished_at	timestamptz,
	as_of		timestamptz,		-- semantics §4's T, resolved when requested
	store_filter text,				-- a single-store report
	worker_pid	int,				-- the backend working on it
	attempts	int NOT NULL DEFAULT 0,
	row_count	bigint,
	error_sqlstate text,
	error_message text
);
CREATE INDEX report_running_idx ON restmon.report (requested_at)
	WHERE status = 'Running';

CREATE TABLE restmon.report_row (
	report_id	text NOT NULL REFERENCES restmon.report ON DELETE CASCADE,
	store_id	text COLLATE "C" NOT NULL,
	uptime_last_hour numeric NOT NULL,
	uptime_last_day numeric NOT NULL,
	uptime_last_week numeric NOT NULL,
	downtime_last_hour numeric NOT NULL,
	downtime_last_day numeric NOT NULL,
	downtime_last_week numeric NOT NULL,
	PRIMARY KEY (report_id, store_id)
);

SELECT pg_catalog.pg_extension_config_dump('restmon.report', '');
SELECT pg_catalog.pg_extension_config_dump('restmon.report_row', '');

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

CREATE VIEW restmon.reports AS
	SELECT report_id, status, requested_at, started_at, finished_at, as_of,
		   store_filter, row_count AS rows, finished_at - started_at AS duration,
		   attempts, worker_pid,
		   error_sqlstate || ': ' || error_message AS error
	FROM restmon.report;

-- The report API runs as the extension's owner (SECURITY DEFINER), so a
-- role that may only EXECUTE these functions (the HTTP gateway's) can use
-- reports without any access to the tables.  They are revoked from PUBLIC
-- below: grant them to the roles that should trigger and read reports.

-- Running, Complete or Failed, with the error of a failed report and the
-- rows of a complete one; an error for a malformed (22023) or unknown
-- (P0002) id
CREATE FUNCTION restmon_report_status(report_id text,
	OUT status text, OUT error text, OUT rows bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'restmon_report_status'
LANGUAGE C STABLE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

-- Records a report request and returns its id at once; a background worker
-- computes it.  wait => true computes it before returning.
CREATE FUNCTION restmon_trigger_report(as_of timestamptz DEFAULT NULL,
	store_id text DEFAULT NULL, wait boolean DEFAULT false)
RETURNS text
AS 'MODULE_PATHNAME', 'restmon_trigger_report'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION restmon_get_report(report_id text)
RETURNS TABLE (status text, store_id text,
	uptime_last_hour numeric, uptime_last_day numeric, uptime_last_week numeric,
	downtime_last_hour numeric, downtime_last_day numeric, downtime_last_week numeric)
LANGUAGE plpgsql STABLE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	st text := (@extschema@.restmon_report_status(report_id)).status;
BEGIN
	IF st = 'Complete' THEN
		RETURN QUERY
			SELECT 'Complete'::text, r.store_id::text, r.uptime_last_hour,
				   r.uptime_last_day, r.uptime_last_week, r.downtime_last_hour,
				   r.downtime_last_day, r.downtime_last_week
			FROM restmon.report_row r
			WHERE r.report_id = restmon_get_report.report_id
			ORDER BY r.store_id;
	ELSE
		RETURN QUERY SELECT st, NULL::text, NULL::numeric, NULL::numeric,
			NULL::numeric, NULL::numeric, NULL::numeric, NULL::numeric;
	END IF;
END
$$;

-- semantics §6's CSV; NULL while the report is Running, an error if it Failed
CREATE FUNCTION restmon_report_csv(report_id text)
RETURNS text
AS 'MODULE_PATHNAME', 'restmon_report_csv'
LANGUAGE C STABLE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

-- Waits (up to timeout) until a report is no longer Running; returns its
-- status.  Handy in psql and scripts.
CREATE FUNCTION restmon_wait_report(report_id text,
	timeout interval DEFAULT '5 minutes')
RETURNS text
LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	deadline timestamptz := pg_catalog.clock_timestamp() + timeout;
	st text;
BEGIN
	LOOP
		st := (@extschema@.restmon_report_status(report_id)).status;
		EXIT WHEN st <> 'Running' OR pg_catalog.clock_timestamp() >= deadline;
		PERFORM pg_catalog.pg_sleep(0.02);
	END LOOP;
	RETURN st;
END
$$;

-- Re-runs reports whose worker stopped and starts queued ones; returns the
-- number of workers started.  Scheduled every minute by restmon_schedule().
CREATE FUNCTION restmon_upkeep()
RETURNS int
AS 'MODULE_PATHNAME', 'restmon_upkeep'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION restmon_upkeep() FROM PUBLIC;

REVOKE ALL ON FUNCTION restmon_report_status(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION restmon_trigger_report(timestamptz, text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION restmon_get_report(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION restmon_report_csv(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION restmon_wait_report(text, interval) FROM PUBLIC;

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
		' %1$I.restmon_report_csv_page(text, text, integer),'
		' %1$I.restmon_report_csv_etag(text),'
		' %1$I.restmon_get_report(text), %1$I.restmon_wait_report(text, interval)'
		' TO %2$s', '@extschema@', role);
END
$$;
REVOKE ALL ON FUNCTION restmon_grant_report_api(regrole) FROM PUBLIC;

-- Deletes finished reports older than restmon.report_retention.
CREATE FUNCTION restmon_prune_reports()
RETURNS bigint
AS 'MODULE_PATHNAME', 'restmon_prune_reports'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION restmon_prune_reports() FROM PUBLIC;

-- Deletes the rejected lines of ingestion runs that finished more than
-- restmon.reject_retention ago (the runs and their counts stay).
CREATE FUNCTION restmon_prune_rejects()
RETURNS bigint
AS 'MODULE_PATHNAME', 'restmon_prune_rejects'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION restmon_prune_rejects() FROM PUBLIC;

---------------------------------------------------------------------------
-- Scheduling with pg_cron (optional: everything else works without it)
---------------------------------------------------------------------------

-- pg_cron runs in one database of the cluster (cron.database_name); its
-- jobs run in any (cron.schedule_in_database, pg_cron 1.4).  Each restmon
-- schedules its own jobs, named restmon-ingest, restmon-upkeep and
-- restmon-prune in pg_cron's database and restmon-ingest@<database> (and so
-- on) in any other, so that several databases never replace each other's
-- jobs.  From another database the jobs are written through dblink.

-- runs a statement that returns one bigint in pg_cron's database
CREATE FUNCTION restmon.cron_query(statement text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cron_db text := pg_catalog.current_setting('cron.database_name', true);
	dblink_schema name;
	conn text;
	result bigint;
BEGIN
	IF cron_db IS NULL THEN
		RAISE EXCEPTION 'scheduling needs the pg_cron extension'
			USING ERRCODE = 'undefined_object',
			      HINT = 'Add pg_cron to shared_preload_libraries, set cron.database_name, and CREATE EXTENSION pg_cron.';
	END IF;
	IF cron_db = pg_catalog.current_database() THEN
		IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron') THEN
			RAISE EXCEPTION 'scheduling needs the pg_cron extension'
				USING ERRCODE = 'undefined_object',
				      HINT = 'CREATE EXTENSION pg_cron first.';
		END IF;
		EXECUTE statement INTO result;
		RETURN result;
	END IF;
	SELECT e.extnamespace::regnamespace::name INTO dblink_schema
	FROM pg_extension e WHERE e.extname = 'dblink';
	IF dblink_schema IS NULL THEN
		RAISE EXCEPTION 'scheduling from database "%" needs the dblink extension', pg_catalog.current_database()
			USING ERRCODE = 'undefined_object',
			      HINT = pg_catalog.format('pg_cron runs in database "%s": CREATE EXTENSION dblink here, so that restmon can write its jobs there.', cron_db);
	END IF;
	-- the server's own socket (or localhost), as the current user
	conn := pg_catalog.format('dbname=%s user=%s port=%s host=%s',
		restmon.conninfo_quote(cron_db), restmon.conninfo_quote(current_user),
		pg_catalog.current_setting('port'),
		restmon.conninfo_quote(COALESCE(NULLIF(pg_catalog.btrim(pg_catalog.split_part(
			pg_catalog.current_setting('unix_socket_directories'), ',', 1)), ''),
			'localhost')));
	EXECUTE pg_catalog.format('SELECT v FROM %I.dblink($1, $2) AS t(v bigint)',
		dblink_schema) INTO result USING conn, statement;
	RETURN result;
END
$$;

CREATE FUNCTION restmon.conninfo_quote(v text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT
AS $$
	SELECT '''' || pg_catalog.replace(pg_catalog.replace(v, '\', '\\'), '''', '\''') || ''''
$$;

-- this database's job names: restmon-ingest, or restmon-ingest@<database>
CREATE FUNCTION restmon.job_name(job text)
RETURNS text
LANGUAGE sql STABLE STRICT
AS $$
	SELECT 'restmon-' || job ||
		CASE WHEN pg_catalog.current_database() =
				  pg_catalog.current_setting('cron.database_name', true)
			 THEN '' ELSE '@' || pg_catalog.current_database() END
$$;

CREATE FUNCTION restmon_schedule(data_dir text DEFAULT NULL,
	ingest_cron text DEFAULT '0 * * * *')
RETURNS TABLE (job_name text, schedule text, command text)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	dir text := COALESCE(data_dir, pg_catalog.current_setting('restmon.data_dir', true), '');
	jobs text[][] := ARRAY[
		[restmon.job_name('ingest'), ingest_cron,
		 pg_catalog.format('SELECT * FROM %I.restmon_ingest(%L)', '@extschema@', dir)],
		[restmon.job_name('upkeep'), '* * * * *',
		 pg_catalog.format('SELECT %I.restmon_upkeep()', '@extschema@')],
		[restmon.job_name('prune'), '17 3 * * *',
		 pg_catalog.format('SELECT %1$I.restmon_prune_reports(), %1$I.restmon_prune_rejects()', '@extschema@')]];
BEGIN
	IF dir = '' THEN
		RAISE EXCEPTION 'no data directory to ingest from'
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Pass data_dir or set restmon.data_dir.';
	END IF;
	FOR i IN 1 .. pg_catalog.array_length(jobs, 1) LOOP
		-- named jobs: scheduling again replaces them
		PERFORM restmon.cron_query(pg_catalog.format(
			'SELECT cron.schedule_in_database(%L, %L, %L, %L)',
			jobs[i][1], jobs[i][2], jobs[i][3], pg_catalog.current_database()));
		job_name := jobs[i][1];
		schedule := jobs[i][2];
		command := jobs[i][3];
		RETURN NEXT;
	END LOOP;
END
$$;

-- removes this database's jobs (only those); returns how many
CREATE FUNCTION restmon_unschedule()
RETURNS int
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
	RETURN restmon.cron_query(pg_catalog.format(
		'SELECT pg_catalog.count(cron.unschedule(jobid)) FROM cron.job'
		' WHERE database = %L AND jobname IN (%L, %L, %L)',
		pg_catalog.current_database(), restmon.job_name('ingest'),
		restmon.job_name('upkeep'), restmon.job_name('prune')));
END
$$;
REVOKE ALL ON FUNCTION restmon_schedule(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION restmon_unschedule() FROM PUBLIC;
