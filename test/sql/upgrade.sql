--
-- ALTER EXTENSION restmon UPDATE from 0.1.0 gives the same extension as a
-- fresh install of the current version, and it works: an ingest after the
-- upgrade keeps restmon.store, as does a plain INSERT through the trigger.
--
\i test/preamble.psql
SET client_min_messages = warning;
DROP EXTENSION restmon;
CREATE EXTENSION restmon VERSION '0.1.0';
ALTER EXTENSION restmon UPDATE;
RESET client_min_messages;
SELECT extversion FROM pg_extension WHERE extname = 'restmon';

-- every member object, with the definition and privileges of every
-- function, and every column (with its storage), index and trigger of its
-- tables
CREATE TEMP VIEW ext_objects AS
SELECT pg_describe_object(d.classid, d.objid, d.objsubid) AS object,
       CASE WHEN d.classid = 'pg_proc'::regclass
            THEN md5(pg_get_functiondef(d.objid) || coalesce(
                     (SELECT proacl::text FROM pg_proc WHERE oid = d.objid), ''))
       END AS definition
FROM pg_depend d
WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'restmon')
UNION ALL
SELECT c.oid::regclass || '.' || a.attname,
       format_type(a.atttypid, a.atttypmod) || ' storage ' || a.attstorage::text
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = 'restmon')
  AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'restmon'
UNION ALL
SELECT tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = 'restmon')
  AND NOT t.tgisinternal;
CREATE TEMP TABLE upgraded AS SELECT * FROM ext_objects;

-- a poll file after the upgrade: 5 rows, 2 stores (test/fixtures/ingest)
SELECT rows_read, rows_loaded, rows_rejected
FROM restmon_ingest_status(:'fixtures' || '/ingest/status_basic.csv');
SELECT count(*) AS stores FROM restmon.store;
-- and a plain INSERT, through the trigger
INSERT INTO restmon.observation VALUES ('upgraded', '2023-01-01 00:00+00', true);
SELECT store_id, first_observed_at, last_observed_at FROM restmon.store
WHERE store_id = 'upgraded';

DROP EXTENSION restmon;
SET client_min_messages = warning;
CREATE EXTENSION restmon;
RESET client_min_messages;

CREATE TEMP TABLE fresh AS SELECT * FROM ext_objects;

-- no difference either way (and the lists are not empty)
SELECT 'only after upgrade' AS side, * FROM (TABLE upgraded EXCEPT TABLE fresh) u
UNION ALL
SELECT 'only in a fresh install', * FROM (TABLE fresh EXCEPT TABLE upgraded) f;
SELECT count(*) > 50 AS compared FROM fresh;

DROP EXTENSION restmon;
