/* sql/restmon_coordinator--0.4.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION restmon_coordinator" to load this file. \quit

-- restmon sharded by store (issue 18, doc/scale-out.md).  The database
-- with this extension is the coordinator: the store data lives on the
-- partitions, ordinary restmon databases, each owning the stores whose
-- hashtext(store_id) falls in it (PL/Proxy's rule: hash & (N - 1), N a
-- power of 2).  The cluster is the PL/Proxy foreign server restmon_cluster
-- (restmon_cluster_define()).  restmon's own entry points hand their work
-- to the functions of schema restmon_coordinator (src/coordinator.c):
-- figures are computed by the partitions' restmon, never here.
-- The partitions' restmon is expected in their schema public.

CREATE SCHEMA restmon_coordinator;

---------------------------------------------------------------------------
-- The cluster
---------------------------------------------------------------------------

-- Defines (or redefines) the cluster: partitions[i] is the libpq connection
-- string of partition i - 1.  Returns the number of partitions.
CREATE FUNCTION restmon_cluster_define(partitions text[])
RETURNS int
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n int := pg_catalog.cardinality(partitions);
	opts text;
BEGIN
	IF n < 1 OR (n & (n - 1)) <> 0 THEN
		RAISE EXCEPTION 'the number of partitions must be a power of 2, not %', n
			USING ERRCODE = '22023',
			      HINT = 'PL/Proxy sends a store to partition hashtext(store_id) & (N - 1).';
	END IF;
	SELECT pg_catalog.string_agg(pg_catalog.format('p%s %L', i - 1, partitions[i]),
								 ', ' ORDER BY i)
	INTO opts FROM pg_catalog.generate_subscripts(partitions, 1) AS i;
	DROP SERVER IF EXISTS restmon_cluster CASCADE;
	EXECUTE pg_catalog.format(
		'CREATE SERVER restmon_cluster FOREIGN DATA WRAPPER plproxy OPTIONS (%s)',
		opts);
	CREATE USER MAPPING FOR PUBLIC SERVER restmon_cluster;
	RETURN n;
END
$$;

REVOKE ALL ON FUNCTION restmon_cluster_define(text[]) FROM PUBLIC;

-- the number of partitions of restmon_cluster
CREATE FUNCTION restmon_coordinator.partitions()
RETURNS int
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n int;
BEGIN
	SELECT pg_catalog.count(*) INTO n
	FROM pg_catalog.pg_foreign_server s, pg_catalog.unnest(s.srvoptions) o
	WHERE s.srvname = 'restmon_cluster' AND o ~ '^p[0-9]+=';
	IF n = 0 THEN
		RAISE EXCEPTION 'no restmon cluster is defined in this database'
			USING ERRCODE = '55000',
			      HINT = 'Call restmon_cluster_define(ARRAY[<connection string of each partition>]).';
	END IF;
	RETURN n;
END
$$;

-- the partition that owns a store (PL/Proxy's RUN ON hashtext(store_id))
CREATE FUNCTION restmon_coordinator.partition_of(store_id text, n int)
RETURNS int
LANGUAGE sql IMMUTABLE STRICT
AS $$ SELECT pg_catalog.hashtext(store_id) & (n - 1) $$;

-- what each partition holds, and whether it answers
CREATE FUNCTION restmon_coordinator.part_counts(part int,
	OUT stores bigint, OUT polls bigint)
LANGUAGE plproxy AS $$
	CLUSTER 'restmon_cluster';
	RUN ON part;
	SELECT (SELECT count(*) FROM restmon.store) AS stores,
		   (SELECT count(*) FROM restmon.observation) AS polls;
$$;

CREATE FUNCTION restmon_cluster_status()
RETURNS TABLE (partition int, conninfo text, reachable boolean,
	stores bigint, polls bigint, error text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	c record;
BEGIN
	FOR c IN
		SELECT pg_catalog.substr(o, 2, pg_catalog.strpos(o, '=') - 2)::int AS p,
			   pg_catalog.regexp_replace(pg_catalog.substr(o, pg_catalog.strpos(o, '=') + 1),
										 'password=\S*', 'password=********') AS ci
		FROM pg_catalog.pg_foreign_server s, pg_catalog.unnest(s.srvoptions) o
		WHERE s.srvname = 'restmon_cluster' AND o ~ '^p[0-9]+='
		ORDER BY 1
	LOOP
		partition := c.p;
		conninfo := c.ci;
		BEGIN
			SELECT k.stores, k.polls INTO stores, polls
			FROM restmon_coordinator.part_counts(c.p) k;
			reachable := true;
			error := NULL;
		EXCEPTION WHEN OTHERS THEN
			reachable := false;
			stores := NULL;
			polls := NULL;
			error := SQLERRM;
		END;
		RETURN NEXT;
	END LOOP;
END
$$;

REVOKE ALL ON FUNCTION restmon_cluster_status() FROM PUBLIC;

---------------------------------------------------------------------------
-- Reading: routed by store, or gathered from all partitions
---------------------------------------------------------------------------

-- semantics §4: the latest poll of all partitions, one instant for all
CREATE FUNCTION restmon_coordinator.part_default_as_of()
RETURNS SETOF timestamptz
LANGUAGE plproxy AS $$
	CLUSTER 'restmon_cluster';
	RUN ON ALL;
	SELECT public.restmon_default_as_of();
$$;

CREATE FUNCTION restmon_coordinator.default_as_of()
RETURNS timestamptz
LANGUAGE sql VOLATILE
AS $$ SELECT pg_catalog.max(t) FROM restmon_coordinator.part_default_as_of() t $$;

CREATE FUNCTION restmon_coordinator.store_known(sid text)
RETURNS boolean
LANGUAGE plproxy AS $$
	CLUSTER 'restmon_cluster';
	RUN ON hashtext(sid);
	SELECT EXISTS (SELECT FROM restmon.store WHERE store_id = sid)
		OR EXISTS (SELECT FROM restmon.business_hours WHERE store_id = sid)
		OR EXISTS (SELECT FROM restmon.store_timezone WHERE store_id = sid);
$$;

CREATE FUNCTION restmon_coordinator.part_store_uptime(as_of timestamptz,
	sid text)
RETURNS TABLE (store_id text,
	uptime_last_hour numeric, uptime_last_day numeric, uptime_last_week numeric,
	downtime_last_hour numeric, downtime_last_day numeric, downtime_last_week numeric,
	evidence_last_hour int, evidence_last_day int, evidence_last_week int)
LANGUAGE plproxy AS $$
	CLUSTER 'restmon_cluster';
	RUN ON hashtext(sid);
	SELECT * FROM public.restmon_store_uptime(as_of, sid);
$$;

-- every store of every partition, all partitions at once: each partition's
-- pass as a few text values (restmon.partition_gather(), src/gather.c),
-- which restmon on the coordinator merges in store-id byte order and hands
-- on as one node's pass (restmon_store_uptime() of every store, the report
-- worker's rows, restmon_incidents() of every store)
CREATE FUNCTION restmon_coordinator.all_gather(kind text, as_of timestamptz,
	min_duration interval)
RETURNS SETOF text
LANGUAGE plproxy AS $$
	CLUSTER 'restmon_cluster';
	RUN ON ALL;
	SELECT restmon.partition_gather(kind, as_of, min_duration);
$$;

CREATE FUNCTION restmon_coordinator.store_timeline(sid text, as_of timestamptz)
RETURNS TABLE (starts timestamptz, ends timestamptz, state text,
	decided_by timestamptz)
LANGUAGE plproxy AS $$
	CLUSTER 'restmon_cluster';
	RUN ON hashtext(sid);
	SELECT * FROM public.restmon_store_timeline(sid, as_of);
$$;

CREATE FUNCTION restmon_coordinator.business_intervals(sid text,
	range_start timestamptz, range_end timestamptz)
RETURNS TABLE (opens timestamptz, closes timestamptz)
LANGUAGE plproxy AS $$
	CLUSTER 'restmon_cluster';
	RUN ON hashtext(sid);
	SELECT * FROM public.restmon_business_intervals(sid, range_start, range_end);
$$;

CREATE FUNCTION restmon_coordinator.part_incidents(as_of timestamptz,
	min_duration interval, sid text)
RETURNS TABLE (store_id text, starts timestamptz, ends timestamptz,
	duration interval, business_duration interval, open_at_end boolean)
LANGUAGE plproxy AS $$
	CLUSTER 'restmon_cluster';
	RUN ON hashtext(sid);
	SELECT * FROM public.restmon_incidents(as_of, min_duration, sid);
$$;

---------------------------------------------------------------------------
-- Ingestion: restmon reads the file here (one reader, rejects kept here
-- with their line numbers), then distribute() sends each store's rows to
-- its partition and empties the coordinator's tables.  Each partition
-- commits its part on its own (PL/Proxy has no two-phase commit): if a
-- partition fails, the file's run fails here and is rolled back here, the
-- partitions already sent keep their rows, and running the same file again
-- converges to the single-node state (polls already stored are duplicates;
-- a snapshot is replaced again).
---------------------------------------------------------------------------

-- batches of polls as status-file text (restmon_record_polls_csv: the same
-- reader and checks as a file), batch i to partition parts[i]: PL/Proxy
-- splits the arrays by partition and calls the partitions concurrently;
-- each partition records its batches in one transaction, raising state
-- alerts (restmon.state_alerts, set for that transaction) only when alerts
-- is true: polls of the API, not a file's (as on one node)
CREATE FUNCTION restmon_coordinator.part_record_polls(parts int[],
	batches text[], alerts boolean, OUT loaded bigint, OUT duplicate bigint,
	OUT rejected bigint)
RETURNS SETOF record
LANGUAGE plproxy AS $$
	CLUSTER 'restmon_cluster';
	SPLIT parts, batches;
	RUN ON parts;
	SELECT sum(r.loaded)::bigint AS loaded, sum(r.duplicate)::bigint AS duplicate,
		   sum(r.rejected)::bigint AS rejected
	FROM unnest(batches) AS b(csv),
		 LATERAL public.restmon_record_polls_csv(
			 CASE WHEN set_config('restmon.state_alerts', alerts::text, true) IS NOT NULL
				  THEN b.csv END) AS r;
$$;

CREATE FUNCTION restmon_coordinator.part_replace_hours(part int,
	store_ids text[], days smallint[], starts time[], ends time[])
RETURNS bigint
LANGUAGE plproxy AS $$
	CLUSTER 'restmon_cluster';
	RUN ON part;
	SELECT restmon.partition_replace_hours(store_ids, days, starts, ends);
$$;

CREATE FUNCTION restmon_coordinator.part_replace_timezones(part int,
	store_ids text[], zones text[])
RETURNS bigint
LANGUAGE plproxy AS $$
	CLUSTER 'restmon_cluster';
	RUN ON part;
	SELECT restmon.partition_replace_timezones(store_ids, zones);
$$;

-- polls per call to a partition
CREATE FUNCTION restmon_coordinator.batch_size()
RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT 50000 $$;

-- Called by restmon's ingestion (src/coordinator.c) after a file was
-- applied to this database's tables: returns what the partitions loaded,
-- and the duplicates and rejects they found beyond the file's own.
CREATE FUNCTION restmon_coordinator.distribute(source text,
	OUT loaded bigint, OUT duplicate bigint, OUT rejected bigint)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
-- instants written as text here and read back on the partitions: ISO, UTC
SET DateStyle = 'ISO, YMD'
SET TimeZone = 'UTC'
AS $$
DECLARE
	n int := restmon_coordinator.partitions();
	nb bigint;
BEGIN
	loaded := 0;
	duplicate := 0;
	rejected := 0;
	IF source IN ('status', 'api') THEN
		-- batches of about batch_size() polls, a store's polls in one: by
		-- bits of its hash above those that choose its partition (no sort)
		SELECT pg_catalog.count(*) INTO nb FROM restmon.observation;
		nb := GREATEST(1, pg_catalog.ceil(nb::numeric / n / restmon_coordinator.batch_size()));
		SELECT coalesce(pg_catalog.sum(p.loaded), 0),
			   coalesce(pg_catalog.sum(p.duplicate), 0),
			   coalesce(pg_catalog.sum(p.rejected), 0)
		INTO loaded, duplicate, rejected
		FROM (SELECT pg_catalog.array_agg(b.part) AS parts,
					 pg_catalog.array_agg(b.csv) AS batches
			  FROM (SELECT x.h & (n - 1) AS part,
						   'store_id,status,timestamp_utc' || E'\n' ||
						   pg_catalog.string_agg(
							   '"' || pg_catalog.replace(x.store_id, '"', '""') || '",' ||
							   CASE WHEN x.active THEN 'active' ELSE 'inactive' END ||
							   ',' || x.observed_at::text, E'\n') AS csv
					FROM (SELECT o.store_id, o.active, o.observed_at,
								 pg_catalog.hashtext(o.store_id) AS h
						  FROM restmon.observation o) x
					GROUP BY 1, ((x.h >> 16) & 65535) % nb) b
			  HAVING pg_catalog.count(*) > 0) a,
			 restmon_coordinator.part_record_polls(a.parts, a.batches,
												   source = 'api') p;
		DELETE FROM restmon.observation;
		DELETE FROM restmon.store;
	ELSIF source = 'hours' THEN
		FOR p IN 0 .. n - 1 LOOP
			PERFORM restmon_coordinator.part_replace_hours(p,
				coalesce(pg_catalog.array_agg(h.store_id), '{}'),
				coalesce(pg_catalog.array_agg(h.day_of_week), '{}'),
				coalesce(pg_catalog.array_agg(h.start_local), '{}'),
				coalesce(pg_catalog.array_agg(h.end_local), '{}'))
			FROM restmon.business_hours h
			WHERE restmon_coordinator.partition_of(h.store_id, n) = p;
		END LOOP;
		SELECT pg_catalog.count(*) INTO loaded FROM restmon.business_hours;
		DELETE FROM restmon.business_hours;
	ELSIF source = 'timezones' THEN
		FOR p IN 0 .. n - 1 LOOP
			PERFORM restmon_coordinator.part_replace_timezones(p,
				coalesce(pg_catalog.array_agg(z.store_id), '{}'),
				coalesce(pg_catalog.array_agg(z.timezone), '{}'))
			FROM restmon.store_timezone z
			WHERE restmon_coordinator.partition_of(z.store_id, n) = p;
		END LOOP;
		SELECT pg_catalog.count(*) INTO loaded FROM restmon.store_timezone;
		DELETE FROM restmon.store_timezone;
	END IF;
END
$$;

---------------------------------------------------------------------------
-- Reports that a partition failed, run again by restmon_upkeep().  A call
-- to the partitions that fails because one did not answer raises 08006
-- (src/coordinator.c), so such a report is Failed with error_sqlstate
-- '08006' (class 08) and PL/Proxy's message naming the partition.  Once every
-- partition answers, restmon_upkeep() queues it again under the same id
-- and as_of (a worker computes it as if for the first time), at most
-- max_report_retries() times, the k-th retry no sooner than
-- retry_delay(k) after the last failure.  No other failure is retried.
---------------------------------------------------------------------------

CREATE TABLE restmon_coordinator.report_retry (
	report_id	text PRIMARY KEY REFERENCES restmon.report ON DELETE CASCADE,
	retries		int NOT NULL,			-- times queued again
	retried_at	timestamptz NOT NULL	-- the last time
);
SELECT pg_catalog.pg_extension_config_dump('restmon_coordinator.report_retry', '');

CREATE FUNCTION restmon_coordinator.max_report_retries()
RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT 5 $$;

-- before retry k + 1 (k done): none for the first, then 1, 2, 4, 8 minutes
CREATE FUNCTION restmon_coordinator.retry_delay(k int)
RETURNS interval LANGUAGE sql IMMUTABLE STRICT
AS $$ SELECT CASE WHEN k = 0 THEN interval '0' ELSE pg_catalog.make_interval(mins => 1 << (k - 1)) END $$;

-- does every partition answer?  (one concurrent round trip)
CREATE FUNCTION restmon_coordinator.part_ping()
RETURNS SETOF int
LANGUAGE plproxy AS $$
	CLUSTER 'restmon_cluster';
	RUN ON ALL;
	SELECT 1;
$$;

CREATE FUNCTION restmon_coordinator.partitions_answer()
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM pg_catalog.count(*) FROM restmon_coordinator.part_ping();
	RETURN true;
EXCEPTION WHEN OTHERS THEN
	RETURN false;
END
$$;

-- called by restmon_upkeep() (src/coordinator.c) with restmon's names of
-- the statuses Failed and Running; returns how many reports it queued
CREATE FUNCTION restmon_coordinator.retry_reports(failed text, running text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	due text[];
	n bigint;
BEGIN
	SELECT pg_catalog.array_agg(r.report_id) INTO due
	FROM restmon.report r
		 LEFT JOIN restmon_coordinator.report_retry t USING (report_id)
	WHERE r.status = failed AND r.error_sqlstate LIKE '08%'
	  AND coalesce(t.retries, 0) < restmon_coordinator.max_report_retries()
	  AND r.finished_at <= pg_catalog.now()
		  - restmon_coordinator.retry_delay(coalesce(t.retries, 0));
	IF due IS NULL OR NOT restmon_coordinator.partitions_answer() THEN
		RETURN 0;
	END IF;
	-- queued as when requested: a worker claims it (attempts from 0)
	UPDATE restmon.report SET status = running, worker_pid = NULL,
		started_at = NULL, finished_at = NULL, attempts = 0, row_count = NULL,
		error_sqlstate = NULL, error_message = NULL
	WHERE report_id = ANY (due) AND status = failed;
	GET DIAGNOSTICS n = ROW_COUNT;
	INSERT INTO restmon_coordinator.report_retry AS t
	SELECT d, 1, pg_catalog.now() FROM pg_catalog.unnest(due) d
	ON CONFLICT (report_id) DO UPDATE
		SET retries = t.retries + 1, retried_at = pg_catalog.now();
	RETURN n;
END
$$;
