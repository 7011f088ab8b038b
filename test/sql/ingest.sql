--
-- Ingestion of the three CSV sources: semantics §1 (inputs, rejected rows,
-- accumulation, snapshots) and semantics §2 (what a missing row means is left to
-- the report tests).  Fixtures: test/fixtures/ingest, read from the copy
-- named :fixtures (test/preamble.psql).
--
\i test/preamble.psql
\set fx :fixtures '/ingest'

-- semantics §1: a timestamp without a zone means UTC, whatever the session says
SET TimeZone = 'America/Los_Angeles';

-- semantics §1: integer and UUID store ids; "... UTC", ISO "Z" and "+00:00";
-- status case-insensitive and trimmed; a quoted field.  5 rows, all new.
SELECT replace(file, :'fixtures', '<fixtures>') AS file, rows_read, rows_loaded,
       rows_duplicate, rows_rejected, outcome
FROM restmon_ingest_status(:'fx' || '/status_basic.csv');
SET TimeZone = 'UTC';
SELECT store_id, observed_at, active FROM restmon.observation ORDER BY 1, 2;

-- semantics §1: re-loading the same file adds nothing: 5 duplicates
SELECT rows_read, rows_loaded, rows_duplicate, rows_rejected
FROM restmon_ingest_status(:'fx' || '/status_basic.csv');

-- semantics §1: columns by header name (swapped, mixed case, spaces and quotes
-- around names), a UTF-8 byte-order mark, CRLF and no final newline.
-- Line 2 is new, line 3 repeats a stored observation.
SELECT rows_read, rows_loaded, rows_duplicate, rows_rejected
FROM restmon_ingest_status(:'fx' || '/status_reordered.csv');

-- semantics §1: every kind of malformed line is rejected with its line number,
-- raw text and reason; the one good line (15) still loads.
SELECT rows_read, rows_loaded, rows_duplicate, rows_rejected
FROM restmon_ingest_status(:'fx' || '/status_bad.csv') AS r \gset bad_
\echo read :bad_rows_read loaded :bad_rows_loaded rejected :bad_rows_rejected
SELECT line_no, reason, raw_text
FROM restmon.rejected
WHERE run_id = (SELECT max(run_id) FROM restmon.ingest_run)
ORDER BY line_no;
SELECT count(*) AS store_11_loaded FROM restmon.observation WHERE store_id = '11';

-- semantics §1: same store and instant with the opposite status is a conflict:
-- the first (stored) stays, the later is rejected; also within one file.
--   line 2: stored active, file inactive  -> conflicting duplicate
--   line 3: same as stored                -> duplicate
--   line 4: new; line 5: repeats line 4   -> duplicate
--   line 6: opposite of line 4            -> conflicting duplicate
--   line 7: new
SELECT rows_read, rows_loaded, rows_duplicate, rows_rejected
FROM restmon_ingest_status(:'fx' || '/status_conflict.csv');
SELECT line_no, reason FROM restmon.rejected_row
WHERE run_id = (SELECT max(run_id) FROM restmon.ingest_run) ORDER BY line_no;
SELECT store_id, observed_at, active FROM restmon.observation
WHERE store_id IN ('42', '8419537941919820732') AND observed_at < '2023-01-22 13:00+00'
   OR store_id = '42'
ORDER BY 1, 2;

-- semantics §1: a header without a required column, an empty file and a missing
-- file fail the run with an error that names the file, and change nothing.
SELECT count(*) AS observations_before FROM restmon.observation;
SELECT pg_temp.error_of(format('SELECT * FROM restmon_ingest_status(%L)',
	:'fx' || '/status_nocol.csv'), :'fixtures');
SELECT pg_temp.error_of(format('SELECT * FROM restmon_ingest_status(%L)',
	:'fx' || '/status_empty.csv'), :'fixtures');
SELECT pg_temp.error_of(format('SELECT * FROM restmon_ingest_status(%L)',
	:'fx' || '/no_such_file.csv'), :'fixtures');
SELECT pg_temp.error_of(format('SELECT * FROM restmon_ingest_status(%L)',
	:'fx'), :'fixtures');
SELECT count(*) AS observations_after FROM restmon.observation;

-- restmon.store follows the observations: first poll per store
SELECT store_id, first_observed_at FROM restmon.store ORDER BY 1;

-- semantics §1: business hours, "dayOfWeek" alias, H:MM and fractions.
-- 4 rows: 3 new, line 4 repeats line 3.
SELECT rows_read, rows_loaded, rows_duplicate, rows_rejected
FROM restmon_ingest_hours(:'fx' || '/hours_v1.csv');
SELECT store_id, day_of_week, start_local, end_local
FROM restmon.business_hours ORDER BY 1, 2, 3;

-- semantics §1: a new hours file replaces the snapshot; bad days and times are
-- rejected (8 rows: 1 loaded, 7 rejected).
SELECT rows_read, rows_loaded, rows_duplicate, rows_rejected
FROM restmon_ingest_hours(:'fx' || '/hours_v2.csv');
SELECT line_no, reason FROM restmon.rejected_row
WHERE run_id = (SELECT max(run_id) FROM restmon.ingest_run) ORDER BY line_no;
SELECT store_id, day_of_week, start_local, end_local
FROM restmon.business_hours ORDER BY 1, 2, 3;

-- semantics §1: a failed hours load (no end_time_local column) keeps the old
-- snapshot
SELECT pg_temp.error_of(format('SELECT * FROM restmon_ingest_hours(%L)',
	:'fx' || '/hours_nocol.csv'), :'fixtures');
SELECT store_id, day_of_week, start_local, end_local
FROM restmon.business_hours ORDER BY 1, 2, 3;

-- semantics §1: time zones must be names PostgreSQL knows (IANA, any case,
-- stored as pg_timezone_names spells them: america/chicago -> America/Chicago);
-- a POSIX spec or an unknown name is rejected; the same store twice with
-- another zone is a conflicting duplicate.
--   8 rows: 3 new (1, 2, 5), 1 duplicate (6), 4 rejected (3, 4, 7, 9)
SELECT rows_read, rows_loaded, rows_duplicate, rows_rejected
FROM restmon_ingest_timezones(:'fx' || '/tz_v1.csv');
SELECT line_no, reason FROM restmon.rejected_row
WHERE run_id = (SELECT max(run_id) FROM restmon.ingest_run) ORDER BY line_no;
SELECT store_id, timezone FROM restmon.store_timezone ORDER BY 1;

-- snapshot replacement, columns swapped, alias "timezone"
SELECT rows_read, rows_loaded, rows_duplicate, rows_rejected
FROM restmon_ingest_timezones(:'fx' || '/tz_v2.csv');
SELECT store_id, timezone FROM restmon.store_timezone ORDER BY 1;

-- restmon_ingest(dir): the usual file names and aliases (stores.csv,
-- menu_hours.csv), each file on its own
SELECT replace(file, :'fixtures', '<fixtures>') AS file, rows_read, rows_loaded,
       rows_duplicate, rows_rejected, outcome, error
FROM restmon_ingest(:'fixtures' || '/dir_ok');
SELECT store_id, day_of_week, start_local, end_local FROM restmon.business_hours;

-- one bad file (business_hours.csv without a "day" column) fails alone and
-- keeps the old hours (with a WARNING, not shown here: it names the
-- checkout's fixture directory; the error column says the same); the
-- other two files load
SET client_min_messages = error;
SELECT replace(file, :'fixtures', '<fixtures>') AS file, rows_read, rows_loaded,
       rows_duplicate, rows_rejected, outcome,
       replace(error, :'fixtures', '<fixtures>') AS error
FROM restmon_ingest(:'fixtures' || '/dir_badhours');
RESET client_min_messages;
SELECT store_id, day_of_week, start_local, end_local FROM restmon.business_hours;
SELECT store_id, timezone FROM restmon.store_timezone;

-- a missing directory, and no directory configured
SELECT pg_temp.error_of(format('SELECT * FROM restmon_ingest(%L)',
	:'fixtures' || '/no_such_dir'), :'fixtures');
SET restmon.data_dir = '';
SELECT * FROM restmon_ingest();
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET restmon.data_dir;

-- the log of runs: failed runs of restmon_ingest() are kept with the error
SELECT run_id, source, regexp_replace(file, '^.*/', '') AS file, rows_read,
       rows_loaded, rows_duplicate, rows_rejected, outcome,
       replace(error, :'fixtures', '<fixtures>') AS error
FROM restmon.ingest_run ORDER BY run_id;

-- every line is accounted for in every successful run
SELECT count(*) AS unbalanced_runs FROM restmon.ingest_run
WHERE outcome = 'loaded'
  AND rows_read <> rows_loaded + rows_duplicate + rows_rejected;

-- callers without superuser or pg_read_server_files cannot read files
CREATE ROLE restmon_nobody;
GRANT EXECUTE ON FUNCTION restmon_ingest_status(text) TO restmon_nobody;
SET ROLE restmon_nobody;
SELECT * FROM restmon_ingest_status(:'fx' || '/status_basic.csv');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP OWNED BY restmon_nobody;
DROP ROLE restmon_nobody;

-- restmon.data_dir is the default directory (dir_ok again: the snapshots
-- are replaced by the same rows; stores.csv: line 2 is now a duplicate,
-- line 3 is rejected again)
\set d :fixtures '/dir_ok'
SET restmon.data_dir = :'d';
SELECT regexp_replace(file, '^.*/', '') AS file, rows_read, rows_loaded,
       rows_duplicate, rows_rejected, outcome
FROM restmon_ingest();
RESET restmon.data_dir;

DROP EXTENSION restmon;
