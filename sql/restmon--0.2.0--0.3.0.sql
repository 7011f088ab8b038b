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

---------------------------------------------------------------------------
-- 0.3.0, operations: clean dump and restore, several databases
---------------------------------------------------------------------------

-- restmon.store is derived from restmon.observation and no longer dumped:
-- restoring the polls fills it again through the trigger, where the dumped
-- rows then collided with it.  Leaving and joining the extension again
-- removes it from the extension's dumped tables.
ALTER EXTENSION restmon DROP TABLE restmon.store;
ALTER EXTENSION restmon ADD TABLE restmon.store;

DROP FUNCTION restmon_schedule(text, text);
DROP FUNCTION restmon_unschedule();

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

-- DROP EXTENSION restmon: before the drop takes its locks, end this
-- database's report workers (a worker holding one of restmon's tables while
-- waiting for another would deadlock with the drop) and remove this
-- database's pg_cron jobs where restmon can reach them (pg_cron's database,
-- or through dblink; see restmon_unschedule).  The event trigger is a
-- member of the extension and goes with it.
CREATE FUNCTION restmon.before_drop_extension() RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF pg_catalog.current_query() !~* '\mrestmon\M' THEN
		RETURN;				-- another extension
	END IF;
	PERFORM pg_catalog.pg_terminate_backend(a.pid, 5000)
	FROM pg_catalog.pg_stat_activity a
	WHERE a.backend_type = 'restmon report worker'
	  AND a.datname = pg_catalog.current_database();
	IF pg_catalog.current_setting('cron.database_name', true) IS NOT NULL AND
	   (EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron') OR
		EXISTS (SELECT FROM pg_extension WHERE extname = 'dblink')) THEN
		BEGIN
			PERFORM restmon.cron_query(pg_catalog.format(
				'SELECT pg_catalog.count(cron.unschedule(jobid)) FROM cron.job'
				' WHERE database = %L AND jobname IN (%L, %L, %L)',
				pg_catalog.current_database(), restmon.job_name('ingest'),
				restmon.job_name('upkeep'), restmon.job_name('prune')));
		EXCEPTION WHEN OTHERS THEN
			RAISE NOTICE 'restmon''s pg_cron jobs were not removed: %', SQLERRM
				USING HINT = 'Remove them with cron.unschedule() in pg_cron''s database.';
		END;
	END IF;
END
$$;

CREATE EVENT TRIGGER restmon_before_drop ON ddl_command_start
	WHEN TAG IN ('DROP EXTENSION')
	EXECUTE FUNCTION restmon.before_drop_extension();

-- 0.3.0: one privilege rule.  Every function that loads data, runs or
-- schedules jobs, or hands out rights is revoked from PUBLIC (ingestion
-- already was; upkeep, pruning and scheduling were not).  Functions that
-- only read run with the caller's own rights on restmon's tables.
REVOKE ALL ON FUNCTION restmon_upkeep() FROM PUBLIC;
REVOKE ALL ON FUNCTION restmon_prune_reports() FROM PUBLIC;
REVOKE ALL ON FUNCTION restmon_schedule(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION restmon_unschedule() FROM PUBLIC;
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

-- 0.3.0: rejected lines have a retention, restmon.reject_retention, and
-- the daily restmon-prune job deletes the expired ones too.
CREATE FUNCTION restmon_prune_rejects()
RETURNS bigint
AS 'MODULE_PATHNAME', 'restmon_prune_rejects'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION restmon_prune_rejects() FROM PUBLIC;
