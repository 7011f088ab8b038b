--
-- The real public data (test/fixtures/loop-2024: complete hours and zones,
-- the head of a status export, the same head saved with a UTF-8 BOM).
-- SPEC 1: every row loads; the BOM copy adds nothing new.
-- SPEC 3: restmon's business intervals equal an independent computation
-- with PostgreSQL range types, for every store of the hours file, and
-- SPEC 5: uptime + downtime = business time, for every store and window
-- (test/spec_check.psql).
--
SET client_min_messages = warning;
CREATE EXTENSION restmon;
RESET client_min_messages;
SET DateStyle = 'ISO, YMD';
SET TimeZone = 'UTC';
\set fx '/tmp/restmon-fixtures/loop-2024'

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

DROP EXTENSION restmon;
