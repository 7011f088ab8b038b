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

DROP VIEW api;
DROP OWNED BY restmon_plain;
DROP ROLE restmon_plain;
DROP EXTENSION restmon;
