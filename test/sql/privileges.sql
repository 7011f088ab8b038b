--
-- The privilege rule (doc/sql.md, "Privileges"): every function that loads
-- data, runs or schedules jobs, or hands out rights is revoked from PUBLIC;
-- the report API runs as the extension's owner and is granted role by role
-- (restmon_grant_report_api); the functions that only read run with the
-- caller's own rights on restmon's tables and are open to everyone.
--
\i test/preamble.psql
SET client_min_messages = warning;
DROP ROLE IF EXISTS restmon_plain;
RESET client_min_messages;
CREATE ROLE restmon_plain;

-- every API function, and whether a role with no grants may run it
CREATE TEMP VIEW api AS
SELECT p.proname AS function, oidvectortypes(p.proargtypes) AS args,
       has_function_privilege('restmon_plain', p.oid, 'EXECUTE') AS may_run
FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid
WHERE d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
  AND d.refclassid = 'pg_extension'::regclass
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'restmon')
  AND p.pronamespace <> 'restmon'::regnamespace;
SELECT function, args, may_run FROM api ORDER BY 1, 2;

-- restmon's internal schema is closed to such a role
SELECT has_schema_privilege('restmon_plain', 'restmon', 'USAGE') AS internal_schema;

-- and the rule holds when called: upkeep, pruning and scheduling refuse
SET ROLE restmon_plain;
SELECT restmon_upkeep();
SELECT restmon_prune_reports();
SELECT * FROM restmon_schedule('/nowhere');
SELECT restmon_unschedule();
-- reading needs rights on restmon's tables, which this role does not have
SELECT * FROM restmon_store_uptime();
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM restmon_store_timeline('s1');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM restmon_incidents();
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET ROLE;

-- the report API for a role: exactly the five report functions more
SELECT restmon_grant_report_api('restmon_plain');
SELECT function, args FROM api WHERE may_run ORDER BY 1, 2;

-- the poll API for a role (issue 14): the three record functions besides
-- the three readers open to everyone, and no privilege on any table
SET client_min_messages = warning;
DROP ROLE IF EXISTS restmon_poller;
RESET client_min_messages;
CREATE ROLE restmon_poller;
SELECT restmon_grant_poll_api('restmon_poller');
SELECT p.proname AS function, oidvectortypes(p.proargtypes) AS args
FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid
WHERE d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'restmon')
  AND has_function_privilege('restmon_poller', p.oid, 'EXECUTE')
  AND p.pronamespace <> 'restmon'::regnamespace
ORDER BY 1, 2;
SELECT count(*) AS tables_it_may_touch
FROM pg_class c
WHERE c.relnamespace = 'restmon'::regnamespace AND c.relkind IN ('r', 'v', 'S')
  AND (has_table_privilege('restmon_poller', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')
	   OR (c.relkind = 'S' AND has_sequence_privilege('restmon_poller', c.oid, 'USAGE')));
-- they run as the extension's owner with a pinned search_path
SELECT p.proname, p.prosecdef, p.proconfig
FROM pg_proc p WHERE p.proname LIKE 'restmon\_record\_poll%' ORDER BY 1;
-- as that role: polls are recorded; nothing else is open to it
SET ROLE restmon_poller;
SELECT received, loaded, rejected
FROM restmon_record_polls('[{"store_id": "p1", "status": "active", "timestamp_utc": "2024-10-03T07:00:00Z"}]');
SELECT received, loaded, rejected FROM restmon_record_poll('p1', 'active', '2024-10-03 08:00:00+00');
SELECT received, loaded, rejected
FROM restmon_record_polls_csv(E'store_id,status,timestamp_utc\np1,inactive,2024-10-03 09:00:00 UTC\n');
SELECT pg_temp.error_of('SELECT count(*) FROM restmon.observation');
SELECT pg_temp.error_of($$INSERT INTO restmon.observation VALUES ('p2', now(), true)$$);
SELECT pg_temp.error_of('SELECT restmon_trigger_report()');
SELECT pg_temp.error_of($$SELECT restmon_ingest_status('/dev/null')$$);
RESET ROLE;
SELECT store_id, observed_at, active FROM restmon.observation ORDER BY 1, 2;

DROP VIEW api;
DROP OWNED BY restmon_plain;
DROP ROLE restmon_plain;
DROP OWNED BY restmon_poller;
DROP ROLE restmon_poller;
DROP EXTENSION restmon;
