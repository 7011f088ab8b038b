--
-- Report workers never starve the cluster's other background workers
-- (issue 12): an open transaction holds no worker (they start at its
-- commit), at most restmon.max_report_workers report workers run at once
-- and the other reports wait queued, and meanwhile parallel query still
-- gets its workers.  Needs a disposable database with pgtap and dblink.
-- Sets restmon.max_report_workers = 2 with ALTER SYSTEM and resets it.
--
\set ON_ERROR_STOP 1
\i test/preamble.psql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS dblink;
\i test/loop_head.psql
-- a table parallel query scans with 2 workers whenever it can have them
DROP TABLE IF EXISTS public.slots_probe;
CREATE TABLE public.slots_probe AS SELECT g FROM generate_series(1, 100000) g;
ALTER TABLE public.slots_probe SET (parallel_workers = 2);
ANALYZE public.slots_probe;
\unset ON_ERROR_STOP
ALTER SYSTEM SET restmon.max_report_workers = 2;
SELECT pg_reload_conf();
SELECT pg_sleep(0.3);

CREATE FUNCTION pg_temp.report_workers() RETURNS bigint LANGUAGE sql AS
$$SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'restmon report worker'$$;

-- how many workers a parallel count(*) of slots_probe launched
CREATE FUNCTION pg_temp.parallel_workers_launched() RETURNS int LANGUAGE plpgsql AS $$
DECLARE plan json;
BEGIN
	SET LOCAL max_parallel_workers_per_gather = 2;
	SET LOCAL parallel_setup_cost = 0;
	SET LOCAL parallel_tuple_cost = 0;
	EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON) SELECT count(*) FROM public.slots_probe' INTO plan;
	RETURN (SELECT max(n::int)
			FROM jsonb_path_query(plan::jsonb, 'lax $.**."Workers Launched"') AS x(n));
END $$;

SELECT plan(10);

SELECT is(current_setting('restmon.max_report_workers'), '2',
	'restmon.max_report_workers is 2 for this test');

-- another session triggers 40 reports in one transaction and keeps it open
SELECT dblink_connect('req', format('host=%s port=%s dbname=%s',
	split_part(current_setting('unix_socket_directories'), ',', 1),
	current_setting('port'), current_database())) AS connected;
SELECT dblink_exec('req', 'BEGIN');
CREATE TEMP TABLE many AS
SELECT id FROM dblink('req', 'SELECT restmon_trigger_report() FROM generate_series(1, 40)') AS t(id text);
SELECT is((SELECT count(*) FROM many), 40::bigint, '40 reports requested in one open transaction');
SELECT pg_sleep(0.5);
SELECT pg_stat_clear_snapshot();
SELECT is(pg_temp.report_workers(), 0::bigint,
	'while it is open, no restmon report worker exists');
SELECT is((SELECT count(*) FROM pg_stat_activity WHERE backend_type <> 'client backend'
           AND wait_event_type = 'Lock' AND wait_event = 'transactionid'), 0::bigint,
	'no background worker waits for that transaction');
SELECT is(pg_temp.parallel_workers_launched(), 2,
	'meanwhile parallel query gets its 2 workers');

-- commit: the 40 run, never more than 2 at once, the rest queued
SELECT dblink_exec('req', 'COMMIT');
SELECT dblink_disconnect('req');
CREATE TEMP TABLE samples (workers bigint, queued bigint);
DO $$
DECLARE n int := 0;
BEGIN
	WHILE n < 6000 AND EXISTS (SELECT FROM restmon.report r JOIN many m ON m.id = r.report_id
	                           WHERE r.status = 'Running') LOOP
		PERFORM pg_stat_clear_snapshot();
		INSERT INTO samples SELECT pg_temp.report_workers(),
			(SELECT count(*) FROM restmon.report r JOIN many m ON m.id = r.report_id
			 WHERE r.status = 'Running' AND r.worker_pid IS NULL);
		PERFORM pg_sleep(0.01);
		n := n + 1;
	END LOOP;
END $$;
SELECT is((SELECT count(*) FROM restmon.report r JOIN many m ON m.id = r.report_id
           WHERE r.status = 'Complete'), 40::bigint, 'after the commit all 40 complete');
SELECT cmp_ok((SELECT max(workers) FROM samples), '<=', 2::bigint,
	'never more than restmon.max_report_workers report workers at once');
SELECT cmp_ok((SELECT max(workers) FROM samples), '>=', 1::bigint,
	'workers did run');
SELECT cmp_ok((SELECT max(queued) FROM samples), '>', 0::bigint,
	'the other reports waited queued, without a worker');

-- the workers run as the extension's owner, not as the caller, who may
-- only use the report API (the gateway's role)
DO $$ BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'restmon_slots_test') THEN
		CREATE ROLE restmon_slots_test;
	END IF;
END $$;
SELECT restmon_grant_report_api('restmon_slots_test');
SET ROLE restmon_slots_test;
SELECT restmon_trigger_report() AS by_api_role \gset
RESET ROLE;
SELECT is(restmon_wait_report(:'by_api_role', '60 s'), 'Complete',
	'a report triggered by a role with only the report API completes');

SELECT * FROM finish();

ALTER SYSTEM RESET restmon.max_report_workers;
SELECT pg_reload_conf();
DROP TABLE public.slots_probe;
