/* sql/restmon--0.3.0--0.4.0.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION restmon UPDATE TO '0.4.0'" to load this file. \quit

-- 0.4.0 adds objects only; each block below is repeated in
-- restmon--0.4.0.sql, and test/sql/upgrade.sql checks that both give the
-- same extension.

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

-- restmon_grant_report_api() grants restmon_report_csv_page() too
CREATE OR REPLACE FUNCTION restmon_grant_report_api(role regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	EXECUTE pg_catalog.format(
		'GRANT EXECUTE ON FUNCTION %1$I.restmon_trigger_report(timestamptz, text, boolean),'
		' %1$I.restmon_report_status(text), %1$I.restmon_report_csv(text),'
		' %1$I.restmon_report_csv_page(text, text, integer),'
		' %1$I.restmon_get_report(text), %1$I.restmon_wait_report(text, interval)'
		' TO %2$s', '@extschema@', role);
END
$$;
