-- sql/0.4.0/06-ingest.sql: part of restmon 0.4.0's scripts (Makefile),
-- install and upgrade (changed in 0.4.0): restmon.track_stores (restmon.store
-- kept at less cost: known stores updated in one join, unknown ones
-- upserted) and the ingestion functions (their summaries gain rows_expired,
-- last).

CREATE OR REPLACE FUNCTION restmon.track_stores(store_ids text[], firsts timestamptz[],
	lasts timestamptz[]) RETURNS void
LANGUAGE plpgsql AS
$$
DECLARE
	updated bigint;
BEGIN
	UPDATE restmon.store AS s
	SET first_observed_at = LEAST(s.first_observed_at, n.lo),
		last_observed_at = GREATEST(s.last_observed_at, n.hi)
	FROM (SELECT pg_catalog.unnest(store_ids) AS id,
				 pg_catalog.unnest(firsts) AS lo,
				 pg_catalog.unnest(lasts) AS hi) AS n
	WHERE s.store_id = n.id
	  AND (n.lo < s.first_observed_at OR n.hi > s.last_observed_at);
	GET DIAGNOSTICS updated = ROW_COUNT;
	IF updated = pg_catalog.cardinality(store_ids) THEN
		RETURN;					-- every store known and moved
	END IF;
	INSERT INTO restmon.store AS s (store_id, first_observed_at, last_observed_at)
	SELECT n.id, n.lo, n.hi
	FROM (SELECT pg_catalog.unnest(store_ids) AS id,
				 pg_catalog.unnest(firsts) AS lo,
				 pg_catalog.unnest(lasts) AS hi) AS n
	WHERE NOT EXISTS (SELECT FROM restmon.store k WHERE k.store_id = n.id)
	ON CONFLICT (store_id) DO UPDATE
		SET first_observed_at = LEAST(s.first_observed_at, excluded.first_observed_at),
			last_observed_at = GREATEST(s.last_observed_at, excluded.last_observed_at)
		WHERE excluded.first_observed_at < s.first_observed_at
		   OR excluded.last_observed_at > s.last_observed_at;
END
$$;

---------------------------------------------------------------------------
-- Ingestion (semantics §1)
---------------------------------------------------------------------------

CREATE FUNCTION restmon_ingest_status(path text,
	OUT file text, OUT rows_read bigint, OUT rows_loaded bigint,
	OUT rows_duplicate bigint, OUT rows_rejected bigint, OUT outcome text,
	OUT run_id bigint, OUT rows_expired bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'restmon_ingest_status'
LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION restmon_ingest_hours(path text,
	OUT file text, OUT rows_read bigint, OUT rows_loaded bigint,
	OUT rows_duplicate bigint, OUT rows_rejected bigint, OUT outcome text,
	OUT run_id bigint, OUT rows_expired bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'restmon_ingest_hours'
LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION restmon_ingest_timezones(path text,
	OUT file text, OUT rows_read bigint, OUT rows_loaded bigint,
	OUT rows_duplicate bigint, OUT rows_rejected bigint, OUT outcome text,
	OUT run_id bigint, OUT rows_expired bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'restmon_ingest_timezones'
LANGUAGE C STRICT VOLATILE;

-- dir NULL: the setting restmon.data_dir
CREATE FUNCTION restmon_ingest(dir text DEFAULT NULL)
RETURNS TABLE (file text, rows_read bigint, rows_loaded bigint,
	rows_duplicate bigint, rows_rejected bigint, outcome text, error text,
	rows_expired bigint)
AS 'MODULE_PATHNAME', 'restmon_ingest'
LANGUAGE C VOLATILE;

REVOKE ALL ON FUNCTION restmon_ingest_status(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION restmon_ingest_hours(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION restmon_ingest_timezones(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION restmon_ingest(text) FROM PUBLIC;
