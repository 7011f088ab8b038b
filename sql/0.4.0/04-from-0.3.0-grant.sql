-- sql/0.4.0/04-from-0.3.0-grant.sql: part of restmon 0.4.0's scripts
-- (Makefile), upgrade from 0.3.0 only: restmon_grant_report_api() as 0.4.0
-- defines it in 02-reports.sql.

-- restmon_grant_report_api() grants restmon_report_csv_page() and
-- restmon_report_csv_etag() too
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
		' %1$I.restmon_report_csv_etag(text),'
		' %1$I.restmon_get_report(text), %1$I.restmon_wait_report(text, interval)'
		' TO %2$s', '@extschema@', role);
END
$$;
