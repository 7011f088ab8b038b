-- sql/0.4.0/03-api.sql: part of restmon 0.4.0's scripts (Makefile), install
-- and upgrade (new in 0.4.0): the HTTP API schema, the page's summaries, the
-- timeline and incidents, polls as they arrive, CSV pages.


---------------------------------------------------------------------------
-- The HTTP API: schema restmon_api (doc/postgrest.md)
---------------------------------------------------------------------------

-- What PostgREST exposes (db-schemas = restmon_api) and what restmon-http's
-- PostgREST dialect serves: thin, read-only views and functions over the
-- API above, and nothing else (no table, no ingestion, no internal helper).
-- Each function has named arguments and a single signature; the readers
-- are STABLE (GET or POST), the trigger VOLATILE (POST only).  They run as
-- the extension's owner, so a role needs no right on any table.
--
-- Errors keep the SQL API's SQLSTATE, message, detail and hint, except
-- "not found" (P0002 in the SQL API): PostgREST answers P0* with 500, so
-- here it is raised as PT404, PostgREST's convention for "HTTP status 404"
-- (restmon-http maps it the same way).  A malformed id stays 22023: 400.
CREATE SCHEMA restmon_api;
COMMENT ON SCHEMA restmon_api IS
	'restmon''s HTTP API, for PostgREST''s db-schemas (doc/postgrest.md)';
REVOKE ALL ON SCHEMA restmon_api FROM PUBLIC;

-- PostgREST's media type handler (PostgREST 12+): a function returning this
-- domain answers Accept: text/csv with its text as the body.
CREATE DOMAIN restmon_api."text/csv" AS text;

-- the error being handled again, as PT404 (HTTP 404), detail and hint kept
CREATE FUNCTION restmon.raise_not_found(message text, detail text, hint text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF detail <> '' AND hint <> '' THEN
		RAISE SQLSTATE 'PT404' USING MESSAGE = message, DETAIL = detail, HINT = hint;
	ELSIF detail <> '' THEN
		RAISE SQLSTATE 'PT404' USING MESSAGE = message, DETAIL = detail;
	ELSIF hint <> '' THEN
		RAISE SQLSTATE 'PT404' USING MESSAGE = message, HINT = hint;
	END IF;
	RAISE SQLSTATE 'PT404' USING MESSAGE = message;
END
$$;

CREATE FUNCTION restmon_api.restmon_trigger_report(as_of timestamptz DEFAULT NULL,
	store_id text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	m text; d text; h text;
BEGIN
	RETURN @extschema@.restmon_trigger_report(as_of, store_id);
EXCEPTION WHEN no_data_found THEN
	GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL,
		h = PG_EXCEPTION_HINT;
	PERFORM restmon.raise_not_found(m, d, h);
END
$$;

CREATE FUNCTION restmon_api.restmon_report_status(report_id text)
RETURNS TABLE (status text, error text, rows bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	m text; d text; h text;
BEGIN
	RETURN QUERY SELECT s.status, s.error, s.rows
		FROM @extschema@.restmon_report_status(report_id) s;
EXCEPTION WHEN no_data_found THEN
	GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL,
		h = PG_EXCEPTION_HINT;
	PERFORM restmon.raise_not_found(m, d, h);
END
$$;

CREATE FUNCTION restmon_api.restmon_get_report(report_id text)
RETURNS TABLE (status text, store_id text,
	uptime_last_hour numeric, uptime_last_day numeric, uptime_last_week numeric,
	downtime_last_hour numeric, downtime_last_day numeric, downtime_last_week numeric)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	m text; d text; h text;
BEGIN
	RETURN QUERY SELECT * FROM @extschema@.restmon_get_report(report_id);
EXCEPTION WHEN no_data_found THEN
	GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL,
		h = PG_EXCEPTION_HINT;
	PERFORM restmon.raise_not_found(m, d, h);
END
$$;

-- semantics §6's CSV, byte for byte; null while the report is Running
CREATE FUNCTION restmon_api.restmon_report_csv(report_id text)
RETURNS restmon_api."text/csv"
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	m text; d text; h text;
BEGIN
	RETURN @extschema@.restmon_report_csv(report_id);
EXCEPTION WHEN no_data_found THEN
	GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL,
		h = PG_EXCEPTION_HINT;
	PERFORM restmon.raise_not_found(m, d, h);
END
$$;

-- the report computed on the spot (semantics §4-6), every store or one (a
-- row type: PL/pgSQL cannot name an argument and a result column alike)
CREATE TYPE restmon.store_uptime AS (store_id text,
	uptime_last_hour numeric, uptime_last_day numeric, uptime_last_week numeric,
	downtime_last_hour numeric, downtime_last_day numeric, downtime_last_week numeric,
	evidence_last_hour int, evidence_last_day int, evidence_last_week int);

CREATE FUNCTION restmon_api.restmon_store_uptime(as_of timestamptz DEFAULT NULL,
	store_id text DEFAULT NULL)
RETURNS SETOF restmon.store_uptime
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
	m text; d text; h text;
BEGIN
	RETURN QUERY SELECT * FROM @extschema@.restmon_store_uptime(as_of, store_id);
EXCEPTION WHEN no_data_found THEN
	GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL,
		h = PG_EXCEPTION_HINT;
	PERFORM restmon.raise_not_found(m, d, h);
END
$$;

-- semantics §4's default report instant
CREATE FUNCTION restmon_api.restmon_default_as_of()
RETURNS timestamptz
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT @extschema@.restmon_default_as_of() $$;

-- the reports and their rows, read-only (only SELECT is ever granted)
CREATE VIEW restmon_api.reports AS
	SELECT report_id, status, requested_at, started_at, finished_at, as_of,
		   store_filter, rows, duration, error
	FROM restmon.reports;

CREATE VIEW restmon_api.report_rows AS
	SELECT report_id, store_id::text AS store_id, uptime_last_hour,
		   uptime_last_day, uptime_last_week, downtime_last_hour,
		   downtime_last_day, downtime_last_week
	FROM restmon.report_row;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA restmon_api FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA restmon_api FROM PUBLIC;

-- PostgREST's anonymous (or report) role: read everything in restmon_api
-- and trigger reports; no table, no ingestion.  The poll-recording role
-- gets its function here through its own grant function.
CREATE FUNCTION restmon_grant_postgrest_api(role regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA restmon_api TO %s', role);
	EXECUTE pg_catalog.format(
		'GRANT EXECUTE ON FUNCTION restmon_api.restmon_trigger_report(timestamptz, text),'
		' restmon_api.restmon_report_status(text), restmon_api.restmon_get_report(text),'
		' restmon_api.restmon_report_csv(text),'
		' restmon_api.restmon_store_uptime(timestamptz, text),'
		' restmon_api.restmon_default_as_of(),'
		' restmon_api.restmon_report_overview(text),'
		' restmon_api.restmon_report_histogram(text),'
		' restmon_api.restmon_store_hours(text),'
		' restmon_api.restmon_store_timeline(text, timestamptz),'
		' restmon_api.restmon_incidents(timestamptz, interval, text) TO %s', role);
	EXECUTE pg_catalog.format(
		'GRANT SELECT ON restmon_api.reports, restmon_api.report_rows TO %s', role);
END
$$;
REVOKE ALL ON FUNCTION restmon_grant_postgrest_api(regrole) FROM PUBLIC;

---------------------------------------------------------------------------
-- The web page's summaries (issue 16, doc/page.md): a report's overview,
-- its stores by weekly share up, and a store's zone and hours.  Sums and
-- shares of a report's rows, in SQL, so the page computes nothing.
---------------------------------------------------------------------------

-- the zone a store's hours are read in (semantics §2-3), as the report reads it
CREATE FUNCTION restmon_store_timezone(store_id text)
RETURNS text
AS 'MODULE_PATHNAME', 'restmon_store_timezone'
LANGUAGE C STABLE STRICT;

-- A complete report's totals: stores, the sums of its figures, business
-- time (up + down) and the share of it up, in each window (the units of
-- semantics §6.3: hour sums are minutes, day and week sums hours).  An
-- unknown report is PT404 (HTTP 404), a malformed id 22023 (400); a report
-- not Complete has no rows (stores 0, shares null).
CREATE FUNCTION restmon_api.restmon_report_overview(report_id text)
RETURNS TABLE (stores bigint,
	uptime_last_hour numeric, uptime_last_day numeric, uptime_last_week numeric,
	downtime_last_hour numeric, downtime_last_day numeric, downtime_last_week numeric,
	business_time_last_hour numeric, business_time_last_day numeric,
	business_time_last_week numeric,
	up_share_last_hour numeric, up_share_last_day numeric, up_share_last_week numeric)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
	PERFORM restmon_api.restmon_report_status(report_id);
	RETURN QUERY
	SELECT t.n, t.uh, t.ud, t.uw, t.dh, t.dd, t.dw,
		   t.uh + t.dh, t.ud + t.dd, t.uw + t.dw,
		   round(t.uh / nullif(t.uh + t.dh, 0), 4),
		   round(t.ud / nullif(t.ud + t.dd, 0), 4),
		   round(t.uw / nullif(t.uw + t.dw, 0), 4)
	FROM (SELECT count(*) AS n,
				 coalesce(sum(r.uptime_last_hour), 0) AS uh,
				 coalesce(sum(r.uptime_last_day), 0) AS ud,
				 coalesce(sum(r.uptime_last_week), 0) AS uw,
				 coalesce(sum(r.downtime_last_hour), 0) AS dh,
				 coalesce(sum(r.downtime_last_day), 0) AS dd,
				 coalesce(sum(r.downtime_last_week), 0) AS dw
		  FROM restmon.report_row r
		  WHERE r.report_id = restmon_report_overview.report_id) t;
END
$$;

-- A complete report's stores by share of the week's business time up
-- (uptime_last_week / (uptime_last_week + downtime_last_week)): buckets 0
-- to 9 are [0 %, 10 %) ... [90 %, 100 %], bucket 10 the stores with no
-- business time in the week.  Every bucket is listed, empty or not.
CREATE FUNCTION restmon_api.restmon_report_histogram(report_id text)
RETURNS TABLE (bucket int, label text, stores bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
	PERFORM restmon_api.restmon_report_status(report_id);
	RETURN QUERY
	SELECT b.b,
		   CASE WHEN b.b = 10 THEN 'no business time'
				ELSE (b.b * 10) || '–' || (b.b * 10 + 10) || ' %' END,
		   count(s.b)
	FROM generate_series(0, 10) b(b)
	LEFT JOIN (SELECT coalesce(least(floor(r.uptime_last_week /
					nullif(r.uptime_last_week + r.downtime_last_week, 0) * 10), 9),
					10)::int AS b
			   FROM restmon.report_row r
			   WHERE r.report_id = restmon_report_histogram.report_id) s
		   ON s.b = b.b
	GROUP BY b.b
	ORDER BY b.b;
END
$$;

-- A store's zone as the report reads it, the zone its file gave (null: none),
-- and its weekly business hours as loaded (day 0 = Monday; none: open all
-- the time, semantics §2).  An unknown store is PT404.
CREATE FUNCTION restmon_api.restmon_store_hours(store_id text)
RETURNS TABLE (timezone text, timezone_in_file text, hours jsonb)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	m text; d text; h text;
BEGIN
	RETURN QUERY
	SELECT @extschema@.restmon_store_timezone(store_id),
		   (SELECT z.timezone FROM restmon.store_timezone z
			WHERE z.store_id = restmon_store_hours.store_id),
		   coalesce((SELECT jsonb_agg(jsonb_build_object(
							 'day_of_week', b.day_of_week,
							 'start_local', b.start_local,
							 'end_local', b.end_local)
						 ORDER BY b.day_of_week, b.start_local, b.end_local)
					 FROM restmon.business_hours b
					 WHERE b.store_id = restmon_store_hours.store_id), '[]');
EXCEPTION WHEN no_data_found THEN
	GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL,
		h = PG_EXCEPTION_HINT;
	PERFORM restmon.raise_not_found(m, d, h);
END
$$;

REVOKE ALL ON FUNCTION restmon_api.restmon_report_overview(text),
	restmon_api.restmon_report_histogram(text),
	restmon_api.restmon_store_hours(text) FROM PUBLIC;

-- The timeline and the incidents (issue 14) in the HTTP API, like
-- restmon_store_uptime's wrapper: a store no source knows is PT404.
CREATE FUNCTION restmon_api.restmon_store_timeline(store_id text,
	as_of timestamptz DEFAULT NULL)
RETURNS TABLE (starts timestamptz, ends timestamptz, state text,
	decided_by timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
	m text; d text; h text;
BEGIN
	RETURN QUERY SELECT * FROM @extschema@.restmon_store_timeline(store_id, as_of);
EXCEPTION WHEN no_data_found THEN
	GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL,
		h = PG_EXCEPTION_HINT;
	PERFORM restmon.raise_not_found(m, d, h);
END
$$;

-- (PL/pgSQL cannot name an argument and a result column both store_id: the
-- error mapping lives in restmon.incidents_api, the exposed wrapper is SQL)
CREATE FUNCTION restmon.incidents_api(as_of timestamptz, min_duration interval,
	store_filter text)
RETURNS TABLE (store_id text, starts timestamptz, ends timestamptz,
	duration interval, business_duration interval, open_at_end boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
	m text; d text; h text;
BEGIN
	RETURN QUERY SELECT * FROM @extschema@.restmon_incidents(as_of,
		min_duration, store_filter);
EXCEPTION WHEN no_data_found THEN
	GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL,
		h = PG_EXCEPTION_HINT;
	PERFORM restmon.raise_not_found(m, d, h);
END
$$;

CREATE FUNCTION restmon_api.restmon_incidents(as_of timestamptz DEFAULT NULL,
	min_duration interval DEFAULT '0', store_id text DEFAULT NULL)
RETURNS TABLE (store_id text, starts timestamptz, ends timestamptz,
	duration interval, business_duration interval, open_at_end boolean)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT * FROM restmon.incidents_api($1, $2, $3) $$;

REVOKE ALL ON FUNCTION restmon_api.restmon_store_timeline(text, timestamptz),
	restmon_api.restmon_incidents(timestamptz, interval, text) FROM PUBLIC;

---------------------------------------------------------------------------
-- The timeline behind the report, and incidents (semantics §5.5)
---------------------------------------------------------------------------

-- The week [T - 168h, T) of one store as closed, up and down segments, each
-- with the evidence poll that decides it: the picture the report measures,
-- from the same core.  Like restmon_store_uptime, open to everyone and
-- reading with the caller's own rights on restmon's tables.
CREATE FUNCTION restmon_store_timeline(store_id text,
	as_of timestamptz DEFAULT NULL)
RETURNS TABLE (starts timestamptz, ends timestamptz, state text,
	decided_by timestamptz)
AS 'MODULE_PATHNAME', 'restmon_store_timeline'
LANGUAGE C STABLE CALLED ON NULL INPUT
SET jit = off;

-- The down runs of the week across stores (closed time does not end one),
-- most business time lost first.
CREATE FUNCTION restmon_incidents(as_of timestamptz DEFAULT NULL,
	min_duration interval DEFAULT '0', store_id text DEFAULT NULL)
RETURNS TABLE (store_id text, starts timestamptz, ends timestamptz,
	duration interval, business_duration interval, open_at_end boolean)
AS 'MODULE_PATHNAME', 'restmon_incidents'
LANGUAGE C STABLE CALLED ON NULL INPUT
SET jit = off;

---------------------------------------------------------------------------
-- Polls as they arrive (issue 14; semantics §1.3, §1.6): pollers record
-- polls over SQL or HTTP instead of writing a status file.  The same checks
-- and the same sorted apply as restmon_ingest_status() (src/record_polls.c
-- feeds src/polls.c).  A rejected element is kept in restmon.rejected_row
-- (line_no: its index in the array, from 0) under a run of source 'api'.
---------------------------------------------------------------------------

ALTER TABLE restmon.ingest_run DROP CONSTRAINT ingest_run_source_check;
ALTER TABLE restmon.ingest_run ADD CONSTRAINT ingest_run_source_check
	CHECK (source IN ('status', 'hours', 'timezones', 'api'));

-- polls: [{"store_id": "...", "status": "active", "timestamp_utc": "..."}, ...]
-- They run as the extension's owner, so a role needs only EXECUTE on them
-- (restmon_grant_poll_api), no privilege on any table.
CREATE FUNCTION restmon_record_polls(polls jsonb,
	OUT received bigint, OUT loaded bigint, OUT duplicate bigint,
	OUT rejected bigint, OUT rejects jsonb, OUT run_id bigint,
	OUT expired bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'restmon_record_polls'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION restmon_record_poll(store_id text, status text,
	timestamp_utc timestamptz,
	OUT received bigint, OUT loaded bigint, OUT duplicate bigint,
	OUT rejected bigint, OUT rejects jsonb, OUT run_id bigint,
	OUT expired bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'restmon_record_poll'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

-- csv: a status file's text, header first (the gateway's text/csv bodies)
CREATE FUNCTION restmon_record_polls_csv(csv text,
	OUT received bigint, OUT loaded bigint, OUT duplicate bigint,
	OUT rejected bigint, OUT rejects jsonb, OUT run_id bigint,
	OUT expired bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'restmon_record_polls_csv'
LANGUAGE C STRICT VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

REVOKE ALL ON FUNCTION restmon_record_polls(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION restmon_record_poll(text, text, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION restmon_record_polls_csv(text) FROM PUBLIC;

-- Lets a role record polls, and nothing else: EXECUTE on the three record
-- functions; no privilege on any table.  The HTTP gateway's poll role.
CREATE FUNCTION restmon_grant_poll_api(role regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	EXECUTE pg_catalog.format(
		'GRANT EXECUTE ON FUNCTION %1$I.restmon_record_polls(jsonb),'
		' %1$I.restmon_record_poll(text, text, timestamptz),'
		' %1$I.restmon_record_polls_csv(text) TO %2$s',
		'@extschema@', role);
END
$$;
REVOKE ALL ON FUNCTION restmon_grant_poll_api(regrole) FROM PUBLIC;

-- A page of restmon_report_csv(): the header when after_store_id is NULL,
-- then the lines of the stores after it, until the page holds max_bytes (a
-- line is never split); resume_after is the next page's after_store_id,
-- NULL on the last page.  Both NULL while Running.  The HTTP gateway
-- streams a CSV with it without holding it whole.
CREATE FUNCTION restmon_report_csv_page(report_id text,
	after_store_id text DEFAULT NULL, max_bytes integer DEFAULT 65536,
	OUT csv text, OUT resume_after text)
RETURNS record
AS 'MODULE_PATHNAME', 'restmon_report_csv_page'
LANGUAGE C STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION restmon_report_csv_page(text, text, integer) FROM PUBLIC;

