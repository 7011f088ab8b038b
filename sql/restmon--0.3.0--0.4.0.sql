/* sql/restmon--0.3.0--0.4.0.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION restmon UPDATE TO '0.4.0'" to load this file. \quit

-- 0.4.0 adds objects only; each block below is repeated in
-- restmon--0.4.0.sql, and test/sql/upgrade.sql checks that both give the
-- same extension.

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
	OUT rejected bigint, OUT rejects jsonb, OUT run_id bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'restmon_record_polls'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION restmon_record_poll(store_id text, status text,
	timestamp_utc timestamptz,
	OUT received bigint, OUT loaded bigint, OUT duplicate bigint,
	OUT rejected bigint, OUT rejects jsonb, OUT run_id bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'restmon_record_poll'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

-- csv: a status file's text, header first (the gateway's text/csv bodies)
CREATE FUNCTION restmon_record_polls_csv(csv text,
	OUT received bigint, OUT loaded bigint, OUT duplicate bigint,
	OUT rejected bigint, OUT rejects jsonb, OUT run_id bigint)
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
