--
-- Hostile source files (issue 11), semantics §1: what is read is the file
-- that was opened (a file renamed over the path while it loads changes
-- nothing); only regular files are read (a FIFO is refused, not waited on);
-- a line is at most 65536 bytes (a longer one is rejected with its length,
-- the rest of the file still loads) and a rejected line keeps at most 1024
-- bytes of its raw text, a reason at most a short excerpt of a value; a
-- column named twice in a header is an error; a file with CR line ends is
-- refused with a message saying so; rejected lines are pruned after
-- restmon.reject_retention.  Also semantics §1's "a timestamp without a
-- zone is UTC" on the general parser's path, under a non-UTC session.
--
-- The files are written here, by COPY TO (and COPY TO PROGRAM, as
-- superuser, for what COPY cannot write: CR line ends, a FIFO, a rename)
-- into :fixtures/demo/hostile.
--
\i test/preamble.psql
\set fx :fixtures '/demo/hostile'
-- a shell command run by the server (COPY TO PROGRAM), echoed without the
-- checkout's fixture path
CREATE FUNCTION pg_temp.sh(cmd text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format('COPY (SELECT 1 WHERE false) TO PROGRAM %L', cmd);
END
$$;
SELECT pg_temp.sh('rm -rf ' || :'fx' || ' && mkdir -p ' || :'fx' || '/fifo_dir');

-- semantics §1: a timestamp without a zone is UTC, also in the forms the
-- fast path leaves to PostgreSQL's parser (no seconds; 7 fraction digits),
-- whatever the session's TimeZone
\set f :fx '/general.csv'
COPY (VALUES ('store_id,timestamp_utc,status'),
             ('g1,2023-01-22 12:09,active'),
             ('g1,2023-01-22T12:09:39.1234567,inactive')) TO :'f';
SET TimeZone = 'America/Los_Angeles';
SELECT rows_read, rows_loaded, rows_rejected FROM restmon_ingest_status(:'f');
SET TimeZone = 'UTC';
SELECT store_id, observed_at, active FROM restmon.observation
WHERE store_id = 'g1' ORDER BY observed_at;

-- semantics §1: a column named twice, by one name or by two of its aliases,
-- is an error (not "the first one wins")
\set f :fx '/status_dup.csv'
COPY (VALUES ('store_id,status,timestamp_utc,STATUS'),
             ('d1,active,2023-01-22 12:00:00,inactive')) TO :'f';
SELECT pg_temp.error_of(format('SELECT restmon_ingest_status(%L)', :'f'), :'fixtures');
\set f :fx '/hours_dup.csv'
COPY (VALUES ('store_id,day,dayOfWeek,start_time_local,end_time_local'),
             ('d1,0,1,09:00:00,17:00:00')) TO :'f';
SELECT pg_temp.error_of(format('SELECT restmon_ingest_hours(%L)', :'f'), :'fixtures');
-- a column that is not the source's may be named twice: it is not read
\set f :fx '/status_extra_dup.csv'
COPY (VALUES ('store_id,note,timestamp_utc,note,status'),
             ('d2,a,2023-01-22 12:00:00,b,active')) TO :'f';
SELECT rows_read, rows_loaded, rows_rejected FROM restmon_ingest_status(:'f');

-- semantics §1: lines end with LF or CRLF; a file with CR line ends (old
-- Mac) is refused with a message that says so
\set f :fx '/status_cr.csv'
SELECT pg_temp.sh('printf ''store_id,timestamp_utc,status\r1,2023-01-22 12:00:00,active\r'' > '
              || :'f');
SELECT pg_temp.error_of(format('SELECT restmon_ingest_status(%L)', :'f'), :'fixtures');

-- semantics §1: only a regular file is read: a FIFO is refused at once
-- (reading it would wait for a writer for good), by name or in a directory
\set f :fx '/status.fifo'
SELECT pg_temp.sh('mkfifo ' || :'f' || ' ' || :'fx' || '/fifo_dir/store_status.csv');
SELECT pg_temp.error_of(format('SELECT restmon_ingest_status(%L)', :'f'), :'fixtures');
\set d :fx '/fifo_dir'
-- (its WARNING names the checkout's fixture path: the error column says
-- the same)
SET client_min_messages = error;
SELECT replace(file, :'fixtures', '<fixtures>') AS file, rows_read, outcome,
       replace(error, :'fixtures', '<fixtures>') AS error
FROM restmon_ingest(:'d');
RESET client_min_messages;

-- semantics §1: a conflicting line is rejected with its own raw text, even
-- when a new file is renamed over the path while the file loads (here: by
-- triggers that run while the polls and the zones are applied, before the
-- conflicting lines are rejected)
CREATE FUNCTION public.hostile_swap() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format('COPY (SELECT 1 WHERE false) TO PROGRAM %L',
				   current_setting('hostile.swap'));
	RETURN NULL;
END
$$;
CREATE TRIGGER hostile_swap AFTER INSERT OR UPDATE ON restmon.store
	FOR EACH STATEMENT EXECUTE FUNCTION public.hostile_swap();
CREATE TRIGGER hostile_swap AFTER INSERT ON restmon.store_timezone
	FOR EACH STATEMENT EXECUTE FUNCTION public.hostile_swap();
\set f :fx '/status_swap.csv'
\set g :fx '/status_swap.new'
COPY (VALUES ('store_id,timestamp_utc,status'),
             ('m1,2023-01-22 12:00:00,active'),
             ('m1,2023-01-22 12:00:00,inactive'),
             ('m1,2023-01-22 13:00:00,active')) TO :'f';
COPY (VALUES ('store_id,timestamp_utc,status'),
             ('NEW,2023-01-22 12:00:00,active'),
             ('NEW,2023-01-22 12:00:00,active'),
             ('NEW,2023-01-22 13:00:00,active')) TO :'g';
SELECT set_config('hostile.swap', format('test ! -e %1$s || mv -f %1$s %2$s', :'g', :'f'),
                  false) IS NOT NULL AS set;
SELECT rows_read, rows_loaded, rows_duplicate, rows_rejected
FROM restmon_ingest_status(:'f');
SELECT line_no, convert_from(raw_line, 'UTF8') AS raw_line, reason
FROM restmon.rejected_row
WHERE run_id = (SELECT max(run_id) FROM restmon.ingest_run);
\set f :fx '/zones_swap.csv'
\set g :fx '/zones_swap.new'
COPY (VALUES ('store_id,timezone_str'),
             ('m1,Europe/Paris'),
             ('m1,Asia/Tokyo')) TO :'f';
COPY (VALUES ('store_id,timezone_str'),
             ('NEW,Europe/Paris'),
             ('NEW,Europe/Paris')) TO :'g';
SELECT set_config('hostile.swap', format('test ! -e %1$s || mv -f %1$s %2$s', :'g', :'f'),
                  false) IS NOT NULL AS set;
SELECT rows_read, rows_loaded, rows_duplicate, rows_rejected
FROM restmon_ingest_timezones(:'f');
SELECT line_no, convert_from(raw_line, 'UTF8') AS raw_line, reason
FROM restmon.rejected_row
WHERE run_id = (SELECT max(run_id) FROM restmon.ingest_run);
-- a file written into (not replaced) while it loads cannot give its
-- conflicting lines back: the load fails and changes nothing
\set f :fx '/status_write.csv'
COPY (VALUES ('store_id,timestamp_utc,status'),
             ('w1,2023-01-22 12:00:00,active'),
             ('w1,2023-01-22 12:00:00,inactive')) TO :'f';
SELECT set_config('hostile.swap',
                  format('printf ''store_id,timestamp_utc,status\n'' > %s', :'f'),
                  false) IS NOT NULL AS set;
SELECT pg_temp.error_of(format('SELECT restmon_ingest_status(%L)', :'f'), :'fixtures');
SELECT count(*) AS w1_rows FROM restmon.observation WHERE store_id = 'w1';
DROP TRIGGER hostile_swap ON restmon.store;
DROP TRIGGER hostile_swap ON restmon.store_timezone;
DROP FUNCTION public.hostile_swap();

-- semantics §1: long lines.  Lines of 1 MB (and 65537 bytes) are rejected
-- with their length, only their first 1024 bytes kept, and the lines after
-- them still load; a line of exactly 65536 bytes is read as any line; a
-- rejected line over 1024 bytes keeps 1024 and says so; a reason quotes at
-- most 32 bytes of a value.
\set f :fx '/status_long.csv'
COPY (VALUES ('store_id,timestamp_utc,status'),
             ('l1,2023-01-22 12:00:00,active'),
             (repeat('x', 1048576)),
             ('l2,' || repeat('2', 1048576) || ',active'),
             (repeat('y', 65537)),
             ('l3,' || repeat('3', 65536 - 3 - 7) || ',active'),
             ('l4,2023-01-22 12:00:00,' || repeat('z', 2000)),
             ('l5,2023-01-22 12:00:00,active'),
             (repeat('w', 1048576)),
             ('l6,2023-01-22 12:00:00,inactive')) TO :'f';
SELECT rows_read, rows_loaded, rows_duplicate, rows_rejected
FROM restmon_ingest_status(:'f');
SELECT line_no, octet_length(raw_line) AS raw_bytes,
       convert_from(substring(raw_line FROM 1 FOR 8), 'UTF8') AS raw_start,
       reason
FROM restmon.rejected_row
WHERE run_id = (SELECT max(run_id) FROM restmon.ingest_run)
ORDER BY line_no;
SELECT store_id, observed_at, active FROM restmon.observation
WHERE store_id LIKE 'l_' ORDER BY store_id;
-- every reason, of every source, is short
\set f :fx '/hours_long.csv'
COPY (VALUES ('store_id,day,start_time_local,end_time_local'),
             ('h1,' || repeat('9', 5000) || ',09:00,17:00'),
             ('h1,0,' || repeat('9', 5000) || ',17:00'),
             ('h1,0,09:00:00,17:00:00')) TO :'f';
SELECT rows_read, rows_loaded, rows_rejected FROM restmon_ingest_hours(:'f');
SELECT line_no, octet_length(raw_line) AS raw_bytes,
       octet_length(reason) <= 300 AS short_reason
FROM restmon.rejected_row
WHERE run_id = (SELECT max(run_id) FROM restmon.ingest_run)
ORDER BY line_no;

-- semantics §1: rejected lines are kept for restmon.reject_retention (7
-- days by default) after their run finished; restmon_prune_rejects()
-- deletes older ones, the runs and their counts stay
SHOW restmon.reject_retention;
\set f :fx '/status_dup_again.csv'
COPY (VALUES ('store_id,timestamp_utc,status'),
             ('r1,2023-01-22 12:00:00,active'),
             ('r1,bad,active')) TO :'f';
SELECT run_id AS old_run FROM restmon_ingest_status(:'f') \gset
SELECT run_id AS new_run FROM restmon_ingest_status(:'f') \gset
UPDATE restmon.ingest_run SET finished_at = finished_at - interval '8 days'
WHERE run_id = :old_run;
SELECT restmon_prune_rejects() AS pruned;
SELECT run_id = :new_run AS is_new_run, count(*)
FROM restmon.rejected_row WHERE run_id IN (:old_run, :new_run) GROUP BY 1;
SELECT rows_rejected FROM restmon.ingest_run WHERE run_id = :old_run;
SET restmon.reject_retention = '1h';
UPDATE restmon.ingest_run SET finished_at = finished_at - interval '2 hours'
WHERE run_id = :new_run;
SELECT restmon_prune_rejects() AS pruned;
SELECT count(*) FROM restmon.rejected_row WHERE run_id IN (:old_run, :new_run);
RESET restmon.reject_retention;
