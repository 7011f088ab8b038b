-- sql/0.4.0/05-retention.sql: part of restmon 0.4.0's scripts (Makefile),
-- install and upgrade (new in 0.4.0): observation retention, a sharded
-- cluster's partition functions, the stored CSV of a report.


-- Observation retention (0.4.0): deletes the status polls older than
-- restmon.observation_retention, counted back from the latest poll stored,
-- about max_rows at most per call, and never while an ingestion runs;
-- restmon_upkeep() runs one batch.  Stores keep their hours and zones.
CREATE FUNCTION restmon_prune_observations(max_rows bigint DEFAULT 100000)
RETURNS bigint
AS 'MODULE_PATHNAME', 'restmon_prune_observations'
LANGUAGE C VOLATILE STRICT;
REVOKE ALL ON FUNCTION restmon_prune_observations(bigint) FROM PUBLIC;

---------------------------------------------------------------------------
-- A partition of a sharded cluster (issue 18, doc/scale-out.md): the
-- coordinator (extension restmon_coordinator) sends each partition the
-- business hours and time zones of the stores it owns, and the partition
-- replaces its snapshot with them, in one transaction, as a file's load
-- replaces it on one node (same lock, same DISTINCT, first zone of a store
-- already chosen by the coordinator).  Polls come through
-- restmon_record_polls().  Not part of the API: revoked from PUBLIC.
---------------------------------------------------------------------------

CREATE FUNCTION restmon.partition_replace_hours(store_ids text[],
	days smallint[], starts time[], ends time[])
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n bigint;
BEGIN
	LOCK TABLE restmon.business_hours IN SHARE ROW EXCLUSIVE MODE;
	DELETE FROM restmon.business_hours;
	INSERT INTO restmon.business_hours
		(store_id, day_of_week, start_local, end_local)
	SELECT DISTINCT s, d, a, b
	FROM ROWS FROM (unnest(store_ids), unnest(days), unnest(starts),
					unnest(ends)) AS r(s, d, a, b)
	ORDER BY 1, 2, 3, 4;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;

CREATE FUNCTION restmon.partition_replace_timezones(store_ids text[],
	zones text[])
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n bigint;
BEGIN
	LOCK TABLE restmon.store_timezone IN SHARE ROW EXCLUSIVE MODE;
	DELETE FROM restmon.store_timezone;
	INSERT INTO restmon.store_timezone (store_id, timezone)
	SELECT s, z FROM ROWS FROM (unnest(store_ids), unnest(zones)) AS r(s, z);
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;

REVOKE ALL ON FUNCTION restmon.partition_replace_hours(text[], smallint[],
	time[], time[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION restmon.partition_replace_timezones(text[], text[])
	FROM PUBLIC;

---------------------------------------------------------------------------
-- A complete report's CSV stored once (issue 17): rendered when the report
-- completes, in the transaction that marks it Complete (a report completed
-- before 0.4.0: by restmon_report_csv_etag(), the first time the HTTP
-- gateway asks for it), and returned by restmon_report_csv() and
-- restmon_report_csv_page() without rendering again.  It goes with its
-- report (pruning).  Stored uncompressed, so that a page reads a slice.
---------------------------------------------------------------------------

CREATE TABLE restmon.report_file (
	report_id	text PRIMARY KEY REFERENCES restmon.report ON DELETE CASCADE,
	etag		text NOT NULL,		-- strong HTTP entity tag, quotes included
	bytes		bigint NOT NULL,	-- octet_length(csv)
	csv			text NOT NULL		-- restmon_report_csv(report_id), byte for byte
);
ALTER TABLE restmon.report_file ALTER COLUMN csv SET STORAGE EXTERNAL;
SELECT pg_catalog.pg_extension_config_dump('restmon.report_file', '');

-- restmon_report_status()'s status and error, and a Complete report's
-- ETag and CSV size (NULL otherwise): the HTTP gateway's one check per
-- request for a CSV.  VOLATILE: it may store the file of an older report.
CREATE FUNCTION restmon_report_csv_etag(report_id text,
	OUT status text, OUT error text, OUT etag text, OUT bytes bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'restmon_report_csv_etag'
LANGUAGE C VOLATILE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION restmon_report_csv_etag(text) FROM PUBLIC;
