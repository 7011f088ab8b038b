--
-- Generated demo data (scripts/gen_demo.sql: split shifts, overnight hours,
-- 23:59:59 and 23:59:00 ends, closed days, 24x7 stores, zones across the US,
-- Lord_Howe and Sydney, missing zones, bad rows), ending just after the US
-- spring-forward change so that the windows cross it.
-- semantics §1: the bad rows are rejected, the rest loads.
-- semantics §3 and 5: test/spec_check.psql for every store.
--
\i test/preamble.psql

\set outdir :fixtures '/demo'
\set stores 400
\set days 8
\set seed 7
\set end_ts '2023-03-12 09:30:00+00'
\set ECHO none
\o /dev/null
\i scripts/gen_demo.sql
\o
\set ON_ERROR_STOP 0
\set ECHO all
SELECT (SELECT count(*) FROM gen_store) AS stores,
       (SELECT count(*) FROM gen_status) AS polls;

-- the generator's bad rows: 5 status lines, 2 hours lines, 1 zone line
SELECT regexp_replace(file, '^.*/', '') AS file, rows_rejected
FROM restmon_ingest(:'outdir');
SELECT reason, count(*) FROM restmon.rejected_row GROUP BY 1 ORDER BY 1;

\i test/spec_check.psql
\i test/timeline_check.psql

DROP EXTENSION restmon;
