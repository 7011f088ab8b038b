/* sql/restmon--0.3.0--0.4.0.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION restmon UPDATE TO '0.4.0'" to load this file. \quit

-- 0.4.0 adds objects only; each block below is repeated in
-- restmon--0.4.0.sql, and test/sql/upgrade.sql checks that both give the
-- same extension.

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
