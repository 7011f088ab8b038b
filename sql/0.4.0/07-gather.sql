-- sql/0.4.0/07-gather.sql: part of restmon 0.4.0's scripts (Makefile),
-- install and upgrade (new in 0.4.0): a partition's gather, the versions of
-- hours and zones, the bound of the latest poll.


---------------------------------------------------------------------------
-- A sharded cluster's gather (doc/scale-out.md): a partition computes the
-- pass of all its stores as of as_of ('report': every store's figures;
-- 'incidents': those of at least min_duration) as this node alone would,
-- and returns them as a few text values in restmon's compact layout
-- (src/gather.c), which the coordinator merges in store-id byte order.
-- Figures that restmon_store_uptime() and restmon_incidents() give anyone.
---------------------------------------------------------------------------

CREATE FUNCTION restmon.partition_gather(kind text, as_of timestamptz,
	min_duration interval DEFAULT '0')
RETURNS SETOF text
AS 'MODULE_PATHNAME', 'restmon_partition_gather'
LANGUAGE C STABLE STRICT
SET jit = off;

---------------------------------------------------------------------------
-- The versions of the zones and business hours (state alerts, issue 14):
-- every statement that writes restmon.business_hours or
-- restmon.store_timezone sets its table's row to a number never used
-- before, in its own transaction, so that a session may keep what it read
-- of them (src/alert_hours.c) for as long as its snapshot reads the same
-- numbers.  The triggers fire ALWAYS (session_replication_role too).
---------------------------------------------------------------------------
CREATE SEQUENCE restmon.schedule_version_seq;
CREATE TABLE restmon.schedule_version (
	source		text PRIMARY KEY CHECK (source IN ('hours', 'timezones')),
	version		bigint NOT NULL
);
INSERT INTO restmon.schedule_version
	SELECT s, pg_catalog.nextval('restmon.schedule_version_seq')
	FROM pg_catalog.unnest(ARRAY['hours', 'timezones']) s;

CREATE FUNCTION restmon.schedule_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	UPDATE restmon.schedule_version
	SET version = pg_catalog.nextval('restmon.schedule_version_seq')
	WHERE source = TG_ARGV[0];
	RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION restmon.schedule_changed() FROM PUBLIC;

CREATE TRIGGER business_hours_version
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON restmon.business_hours
	FOR EACH STATEMENT EXECUTE FUNCTION restmon.schedule_changed('hours');
ALTER TABLE restmon.business_hours ENABLE ALWAYS TRIGGER business_hours_version;
CREATE TRIGGER store_timezone_version
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON restmon.store_timezone
	FOR EACH STATEMENT EXECUTE FUNCTION restmon.schedule_changed('timezones');
ALTER TABLE restmon.store_timezone ENABLE ALWAYS TRIGGER store_timezone_version;

---------------------------------------------------------------------------
-- An upper bound of the latest poll stored (issue 14): the day after the
-- one of restmon.store's latest last_observed_at, in UTC, raised in the
-- transaction of every write that moves it past the bound (the trigger
-- below; src/store_track.c, which writes restmon.store in place, raises it
-- itself), never lowered but by hand.  A load checks a poll against the
-- retention edge through it (src/prune.c): a poll at or after the bound
-- minus the retention is kept without computing the edge; only for one
-- before it is the latest poll computed, as before.  NULL: nothing stored.
---------------------------------------------------------------------------
CREATE TABLE restmon.poll_bound (
	latest_at	timestamptz
);
INSERT INTO restmon.poll_bound
	SELECT pg_catalog.date_bin('1 day', pg_catalog.max(s.last_observed_at),
							   '2000-01-01 00:00+00') + interval '1 day'
	FROM restmon.store s;

CREATE FUNCTION restmon.raise_poll_bound(latest timestamptz) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	UPDATE restmon.poll_bound
	SET latest_at = pg_catalog.date_bin('1 day', latest,
										'2000-01-01 00:00+00') + interval '1 day'
	WHERE latest IS NOT NULL AND (latest_at IS NULL OR latest_at <= latest);
$$;

CREATE FUNCTION restmon.store_raise_poll_bound() RETURNS trigger
LANGUAGE plpgsql AS
$$
BEGIN
	PERFORM restmon.raise_poll_bound(
		(SELECT pg_catalog.max(n.last_observed_at) FROM new_rows n));
	RETURN NULL;
END
$$;

CREATE TRIGGER store_poll_bound_insert
	AFTER INSERT ON restmon.store
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION restmon.store_raise_poll_bound();
ALTER TABLE restmon.store ENABLE ALWAYS TRIGGER store_poll_bound_insert;
CREATE TRIGGER store_poll_bound_update
	AFTER UPDATE ON restmon.store
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION restmon.store_raise_poll_bound();
ALTER TABLE restmon.store ENABLE ALWAYS TRIGGER store_poll_bound_update;
