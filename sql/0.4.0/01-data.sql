-- sql/0.4.0/01-data.sql: part of restmon 0.4.0's scripts (Makefile), install
-- only: the schema, the polls and stores, business hours and zones,
-- ingestion runs and rejects, ingestion and the report functions.

-- Internal data lives in schema restmon; the API functions live in the
-- schema the extension is created in (normally public), so the user calls
-- them unqualified.  The rules of doc/semantics.md live in the C code only.
CREATE SCHEMA restmon;

-- Status polls (semantics §1): accumulate; one row per store and instant,
-- kept unique by restmon.observation_key (01-observation-key.sql).
CREATE TABLE restmon.observation (
	store_id	text COLLATE "C" NOT NULL,
	observed_at	timestamptz NOT NULL,
	active		boolean NOT NULL
);

-- Every store ever polled, with its first and latest poll: lets a report
-- list the stores seen at or before T (semantics §6) and find the default T
-- (semantics §4) without scanning the history.
CREATE TABLE restmon.store (
	store_id	text COLLATE "C" PRIMARY KEY,
	first_observed_at timestamptz NOT NULL,
	last_observed_at timestamptz NOT NULL
) WITH (fillfactor = 50);

-- restmon.store follows every insert into restmon.observation: ingestion,
-- which writes the table directly, calls track_stores once per chunk; any
-- other writer goes through the statement-level trigger below, which reads
-- the transition table and calls the same function.  Known stores are
-- updated in one join (an hourly load moves every store's latest poll),
-- only unknown ones go through the upsert; the table's pages keep half
-- their room (fillfactor 50) so that an update stays on its page (HOT).
-- track_stores is in 06-ingest.sql (install and upgrade).

CREATE FUNCTION restmon.observation_track_stores() RETURNS trigger
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

CREATE TRIGGER observation_track_stores
	AFTER INSERT ON restmon.observation
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION restmon.observation_track_stores();

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

-- Business hours snapshot (semantics §1-3).  day_of_week: 0 = Monday.
CREATE TABLE restmon.business_hours (
	store_id	text COLLATE "C" NOT NULL,
	day_of_week	smallint NOT NULL CHECK (day_of_week BETWEEN 0 AND 6),
	start_local	time NOT NULL,
	end_local	time NOT NULL
);
CREATE INDEX business_hours_store_idx ON restmon.business_hours (store_id);

-- Time-zone snapshot (semantics §1-2); names validated against PostgreSQL's
-- time-zone database on ingest.
CREATE TABLE restmon.store_timezone (
	store_id	text COLLATE "C" PRIMARY KEY,
	timezone	text NOT NULL
);

-- One row per file ingested.
CREATE TABLE restmon.ingest_run (
	run_id		bigserial PRIMARY KEY,
	started_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	finished_at	timestamptz,
	source		text NOT NULL CHECK (source IN ('status', 'hours', 'timezones')),
	file		text NOT NULL,
	rows_read	bigint NOT NULL DEFAULT 0,
	rows_loaded	bigint NOT NULL DEFAULT 0,
	rows_duplicate bigint NOT NULL DEFAULT 0,
	rows_rejected bigint NOT NULL DEFAULT 0,
	outcome		text NOT NULL DEFAULT 'running'
		CHECK (outcome IN ('running', 'loaded', 'failed')),
	error		text,
	-- polls older than the retention edge, not loaded (0.4.0; last, as
	-- the upgrade adds it): rows_read = loaded + duplicate + rejected +
	-- expired
	rows_expired bigint NOT NULL DEFAULT 0
);

-- Rows that broke a rule of semantics §1, kept with their line and reason.
CREATE TABLE restmon.rejected_row (
	run_id		bigint NOT NULL REFERENCES restmon.ingest_run ON DELETE CASCADE,
	file		text NOT NULL,
	line_no		bigint NOT NULL,
	raw_line	bytea NOT NULL,
	reason		text NOT NULL,
	PRIMARY KEY (run_id, line_no)
);

SELECT pg_catalog.pg_extension_config_dump('restmon.observation', '');
-- restmon.store is derived from restmon.observation and not dumped: restoring
-- the polls fills it again through the trigger above (doc/operations.md).
SELECT pg_catalog.pg_extension_config_dump('restmon.business_hours', '');
SELECT pg_catalog.pg_extension_config_dump('restmon.store_timezone', '');
SELECT pg_catalog.pg_extension_config_dump('restmon.ingest_run', '');
SELECT pg_catalog.pg_extension_config_dump('restmon.ingest_run_run_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('restmon.rejected_row', '');

-- Rejected rows with their raw text shown as text where it is valid UTF-8.
CREATE VIEW restmon.rejected AS
	SELECT r.run_id, r.file, r.line_no, r.reason,
		   CASE WHEN pg_catalog.length(r.raw_line) <= 1000
				THEN pg_catalog.encode(r.raw_line, 'escape') END AS raw_text,
		   r.raw_line
	FROM restmon.rejected_row r;

---------------------------------------------------------------------------
-- The report (semantics §3-6)
---------------------------------------------------------------------------

CREATE FUNCTION restmon_store_uptime(as_of timestamptz DEFAULT NULL,
	store_id text DEFAULT NULL)
RETURNS TABLE (store_id text,
	uptime_last_hour numeric, uptime_last_day numeric, uptime_last_week numeric,
	downtime_last_hour numeric, downtime_last_day numeric, downtime_last_week numeric,
	evidence_last_hour int, evidence_last_day int, evidence_last_week int)
AS 'MODULE_PATHNAME', 'restmon_store_uptime'
LANGUAGE C STABLE CALLED ON NULL INPUT
-- its reads are index range scans: compiling them costs more than it saves
SET jit = off;

-- The business time of one store as merged UTC intervals (semantics §3), for
-- inspection: what the report counts as open.
CREATE FUNCTION restmon_business_intervals(store_id text,
	range_start timestamptz, range_end timestamptz)
RETURNS TABLE (opens timestamptz, closes timestamptz)
AS 'MODULE_PATHNAME', 'restmon_business_intervals'
LANGUAGE C STABLE STRICT;

-- semantics §4's default report instant: the latest poll stored.
CREATE FUNCTION restmon_default_as_of()
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'restmon_default_as_of'
LANGUAGE C STABLE;

