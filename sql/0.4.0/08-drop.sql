-- sql/0.4.0/08-drop.sql: part of restmon 0.4.0's scripts (Makefile),
-- install and upgrade (changed in 0.4.0: a worker that exits while the
-- drop ends it no longer gives a warning; the jobs are removed by
-- restmon_unschedule(), whose restmon.cron_query() knows when there are
-- none to remove).

-- DROP EXTENSION restmon: before the drop takes its locks, end this
-- database's report workers (a worker holding one of restmon's tables while
-- waiting for another would deadlock with the drop) and remove this
-- database's pg_cron jobs where restmon can reach them (pg_cron's database,
-- or through dblink; see restmon_unschedule).  The event trigger is a
-- member of the extension and goes with it.
CREATE OR REPLACE FUNCTION restmon.before_drop_extension() RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	msgs text;
	worker int;
	running int[];
BEGIN
	IF pg_catalog.current_query() !~* '\mrestmon\M' THEN
		RETURN;				-- another extension
	END IF;
	-- an idle worker may exit between the two (restmon.report_worker_idle):
	-- pg_terminate_backend() then warns that its pid is no backend, which
	-- says nothing to whoever drops restmon, so its warnings are not shown;
	-- a worker still there after the 5 s it waits is named here instead
	msgs := pg_catalog.current_setting('client_min_messages');
	PERFORM pg_catalog.set_config('client_min_messages', 'error', true);
	FOR worker IN SELECT a.pid FROM pg_catalog.pg_stat_activity a
		WHERE a.backend_type = 'restmon report worker'
		  AND a.datname = pg_catalog.current_database()
	LOOP
		IF NOT pg_catalog.pg_terminate_backend(worker, 5000) THEN
			running := running || worker;
		END IF;
	END LOOP;
	PERFORM pg_catalog.set_config('client_min_messages', msgs, true);
	SELECT pg_catalog.array_agg(a.pid) INTO running
	FROM pg_catalog.pg_stat_activity a WHERE a.pid = ANY (running);
	IF running IS NOT NULL THEN
		RAISE WARNING 'restmon report workers % did not end within 5 s', running
			USING HINT = 'DROP EXTENSION waits for the locks they hold.';
	END IF;
	-- restmon.cron_query() says when scheduling is not set up (no pg_cron,
	-- or no dblink to reach its database): then there are no jobs to remove
	BEGIN
		PERFORM @extschema@.restmon_unschedule();
	EXCEPTION
		WHEN undefined_object THEN
			NULL;
		WHEN OTHERS THEN
			RAISE NOTICE 'restmon''s pg_cron jobs were not removed: %', SQLERRM
				USING HINT = 'Remove them with cron.unschedule() in pg_cron''s database.';
	END;
END
$$;
