--
-- The real public data (test/fixtures/loop-2024: complete hours and zones,
-- the head of a status export, the same head saved with a UTF-8 BOM).
-- semantics §1: every row loads; the BOM copy adds nothing new.
-- semantics §3: restmon's business intervals equal an independent computation
-- with PostgreSQL range types, for every store of the hours file, and
-- semantics §5: uptime + downtime = business time, for every store and window
-- (test/spec_check.psql).
--
\i test/preamble.psql
\set fx :fixtures '/loop-2024'

SELECT regexp_replace(file, '^.*/', '') AS file, rows_read, rows_loaded,
       rows_duplicate, rows_rejected
FROM restmon_ingest_timezones(:'fx' || '/timezones.csv');
SELECT regexp_replace(file, '^.*/', '') AS file, rows_read, rows_loaded,
       rows_duplicate, rows_rejected
FROM restmon_ingest_hours(:'fx' || '/menu_hours.csv');
SELECT regexp_replace(file, '^.*/', '') AS file, rows_read, rows_loaded,
       rows_duplicate, rows_rejected
FROM restmon_ingest_status(:'fx' || '/store_status_head_1000.csv');
SELECT regexp_replace(file, '^.*/', '') AS file, rows_read, rows_loaded,
       rows_duplicate, rows_rejected
FROM restmon_ingest_status(:'fx' || '/store_status_head_364_utf8bom.csv');

SELECT count(*) AS polls, min(observed_at), max(observed_at)
FROM restmon.observation;
SELECT restmon_default_as_of();

\i test/spec_check.psql
\i test/timeline_check.psql

-- the same report once VACUUM has set the visibility map: the primary key
-- is then read without visiting the heap (observation.c), and no figure
-- changes
CREATE TEMP TABLE before_vacuum AS SELECT * FROM restmon_store_uptime();
VACUUM restmon.observation;
SELECT relallvisible > 0 AS heap_skipped FROM pg_class
WHERE oid = 'restmon.observation'::regclass;
SELECT (SELECT count(*) FROM before_vacuum)
         = (SELECT count(DISTINCT store_id) FROM restmon.observation) AS every_store,
       (SELECT count(*) FROM (SELECT * FROM restmon_store_uptime()
                              EXCEPT SELECT * FROM before_vacuum) d) AS differing;

DROP EXTENSION restmon;
