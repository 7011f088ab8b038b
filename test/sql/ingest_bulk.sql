--
-- Status ingestion at scale (semantics §1): the usual timestamp form is read by a
-- fast path that must agree with PostgreSQL's own parser on every input,
-- and polls are applied in chunks of maintenance_work_mem that must give
-- the same result as one pass.  Files are written here with COPY TO.
--
\i test/preamble.psql
\set dir :fixtures '/demo'
\set ts_file :dir '/ts.csv'
\set chunks_file :dir '/chunks.csv'
\set indexed_file :dir '/indexed.csv'
\set triggered_file :dir '/triggered.csv'

-- semantics §1: "... UTC", ISO 8601 with Z or +00:00, no zone = UTC.  Every form
-- must give what timestamptz_in gives with TimeZone = UTC, or be rejected
-- where timestamptz_in fails.
CREATE TEMP TABLE ts_case (n int, txt text);
INSERT INTO ts_case VALUES
	(1, '2023-01-22 12:09:39.388884 UTC'),
	(2, '2023-01-22 12:09:39 UTC'),
	(3, '2023-01-22 12:09:39.3 UTC'),
	(4, '2023-01-22 12:09:39.1234567 UTC'),		-- 7 digits: rounded
	(5, '2023-01-22T12:09:39Z'),
	(6, '2023-01-22 12:09:39+00:00'),
	(7, '2023-01-22 12:09:39+00'),
	(8, '2023-01-22 12:09:39'),
	(9, '2023-01-22 12:09:39+05:30'),			-- another offset
	(10, '2024-02-29 23:59:59.999999 UTC'),		-- leap day
	(11, '2023-02-29 00:00:00 UTC'),				-- no such day
	(12, '1900-02-29 00:00:00 UTC'),				-- 1900 is not a leap year
	(13, '2000-02-29 00:00:00 UTC'),				-- 2000 is
	(14, '2023-13-01 00:00:00 UTC'),				-- month 13
	(15, '2023-00-10 00:00:00 UTC'),				-- month 0
	(16, '2023-12-31 24:00:00 UTC'),				-- the next midnight
	(17, '2023-12-31 23:59:60 UTC'),				-- a leap second
	(18, '2023-12-31 23:60:00 UTC'),				-- minute 60
	(19, '2023-04-31 10:00:00 UTC'),				-- April has 30 days
	(20, '0001-01-01 00:00:00 UTC'),
	(21, '9999-12-31 23:59:59.999999 UTC'),
	(22, '2023-01-22 12:09:39. UTC'),			-- a point without digits
	(23, '2023-01-22 12:09:39.388884 utc'),		-- lower-case zone
	(24, '2023-01-22 12:09:39 America/New_York'),	-- a zone name
	(25, '2023-1-22 12:09:39 UTC'),				-- one-digit month
	(26, '2023-01-22 2:09:39 UTC'),				-- one-digit hour
	(27, '2023-01-22 12:09:39.000000 UTC'),
	(28, '2023-01-22 12:09:39.388884 UTC ');		-- a trailing space (trimmed)

COPY (SELECT 'ts' || lpad(n::text, 2, '0') AS store_id, 'active' AS status,
             txt AS timestamp_utc
      FROM ts_case ORDER BY n)
TO :'ts_file' WITH (FORMAT csv, HEADER);

-- the parsers are compared over the whole range, 9999 included: no limit
-- on polls after the server clock (restmon.max_future, semantics §4)
SET restmon.max_future = -1;
SELECT rows_read, rows_loaded, rows_duplicate, rows_rejected
FROM restmon_ingest_status(:'ts_file');
RESET restmon.max_future;

-- timestamptz_in's answer for each input, NULL where it fails
CREATE FUNCTION pg_temp.try_timestamptz(s text) RETURNS timestamptz
LANGUAGE plpgsql AS
$$
BEGIN
	RETURN trim(s)::timestamptz;
EXCEPTION WHEN OTHERS THEN
	RETURN NULL;
END
$$;

SELECT c.n, c.txt, o.observed_at, r.reason IS NOT NULL AS rejected,
       o.observed_at IS NOT DISTINCT FROM pg_temp.try_timestamptz(c.txt) AS agrees
FROM ts_case c
LEFT JOIN restmon.observation o ON o.store_id = 'ts' || lpad(c.n::text, 2, '0')
LEFT JOIN restmon.rejected r ON r.file LIKE '%/ts.csv' AND r.line_no = c.n + 1
ORDER BY c.n;

-- those polls go, and restmon.store forgets them: the latest poll stored
-- (9999-12-31) would put the retention edge (restmon.observation_retention,
-- 35 days before the latest poll stored) after every poll below
DELETE FROM restmon.observation WHERE store_id LIKE 'ts%';
SELECT restmon_rebuild_stores() AS stores;

-- semantics §1 at scale: 100,000 lines applied in 2 chunks (maintenance_work_mem
-- = 1MB holds 65,536 polls of 16 bytes), 97 stores, one instant per line:
--   lines 1-60000       new: store c<i % 97>, 2023-01-01 + i minutes,
--                       active when i % 3 = 0
--   lines 60001-80000   lines 1-20000 again: 20,000 duplicates, those from
--                       line 65,537 on found stored by the second chunk
--   lines 80001-80010   lines 1-10 with the other status: 10 conflicting
--                       duplicates (file lines 80002-80011, after the header),
--                       found by the second chunk, its lines counted from
--                       its first
--   lines 80011-100000  new, i = 60001 ... 79990
-- so 79,990 loaded, 20,000 duplicates, 10 rejected.
CREATE TEMP TABLE chunk_line AS
SELECT line, i, CASE WHEN (i % 3 = 0) <> flip THEN 'active' ELSE 'inactive' END AS status
FROM (SELECT g AS line, g AS i, false AS flip FROM generate_series(1, 60000) g
      UNION ALL
      SELECT g, g - 60000, false FROM generate_series(60001, 80000) g
      UNION ALL
      SELECT g, g - 80000, true FROM generate_series(80001, 80010) g
      UNION ALL
      SELECT g, g - 20010, false FROM generate_series(80011, 100000) g) l;

COPY (SELECT 'c' || (i % 97) AS store_id, status,
             to_char(timestamptz '2023-01-01 00:00 UTC' + i * interval '1 minute',
                     'YYYY-MM-DD HH24:MI:SS') || ' UTC' AS timestamp_utc
      FROM chunk_line ORDER BY line)
TO :'chunks_file' WITH (FORMAT csv, HEADER);

SET maintenance_work_mem = '1MB';
SELECT rows_read, rows_loaded, rows_duplicate, rows_rejected
FROM restmon_ingest_status(:'chunks_file');
RESET maintenance_work_mem;

-- the conflicting lines, with their raw text read back from the file
SELECT count(*), min(line_no), max(line_no), min(reason), max(reason)
FROM restmon.rejected WHERE file LIKE '%/chunks.csv';
SELECT line_no, raw_text FROM restmon.rejected
WHERE file LIKE '%/chunks.csv' ORDER BY line_no LIMIT 2;

-- what is stored: the first line of each (store, instant) won
SELECT count(*) AS polls, count(DISTINCT store_id) AS stores,
       min(observed_at), max(observed_at),
       count(*) FILTER (WHERE active) AS active
FROM restmon.observation WHERE store_id LIKE 'c%';
-- i % 3 = 0 for i in 1 ... 79990: 26,663 active
SELECT count(*) AS stores, min(first_observed_at), max(last_observed_at)
FROM restmon.store WHERE store_id LIKE 'c%';

-- the same file in one chunk (after deleting the rows, and the stores, so
-- that no retention edge applies, as for the first load) gives the same rows
CREATE TEMP TABLE chunked AS
SELECT store_id, observed_at, active FROM restmon.observation WHERE store_id LIKE 'c%';
DELETE FROM restmon.observation WHERE store_id LIKE 'c%';
SELECT restmon_rebuild_stores() AS stores;
SELECT rows_read, rows_loaded, rows_duplicate, rows_rejected
FROM restmon_ingest_status(:'chunks_file');
SELECT (SELECT count(*) FROM (SELECT * FROM chunked
                              EXCEPT SELECT store_id, observed_at, active
                              FROM restmon.observation WHERE store_id LIKE 'c%') a) AS only_chunked,
       (SELECT count(*) FROM (SELECT store_id, observed_at, active
                              FROM restmon.observation WHERE store_id LIKE 'c%'
                              EXCEPT SELECT * FROM chunked) b) AS only_one_pass;

-- and a third load of it adds nothing.  Now polls are stored, so the
-- retention edge applies (doc/operations.md): the latest poll stored,
-- 2023-02-25 13:10 (i = 79,990), minus 35 days = 2023-01-21 13:10, that is
-- i = 20 * 1440 + 13 * 60 + 10 = 29,590; a line with i < 29,590 is expired
-- (i = 29,590 itself, exactly at the edge, is kept):
--   lines 1-29589 (i = line): 29,589 expired; lines 29590-60000: 30,411
--   duplicates; lines 60001-80000 (i = 1 ... 20,000): 20,000 expired;
--   lines 80001-80010 (i = 1 ... 10): 10 expired, no longer conflicts;
--   lines 80011-100000 (i = 60,001 ... 79,990): 19,990 duplicates
-- so 50,401 duplicates and 49,599 expired, 0 rejected: 100,000 in all.
SELECT rows_read, rows_loaded, rows_duplicate, rows_rejected, rows_expired
FROM restmon_ingest_status(:'chunks_file');
SELECT rows_read, rows_loaded, rows_duplicate, rows_rejected, rows_expired
FROM restmon.ingest_run ORDER BY run_id DESC LIMIT 1;

-- an index a user adds is kept up to date by ingestion, as by COPY:
-- 1,000 new polls, all found again through that index
CREATE INDEX observation_time_idx ON restmon.observation (observed_at);
COPY (SELECT 'x' || (i % 5) AS store_id, 'active' AS status,
             to_char(timestamptz '2023-03-01 00:00 UTC' + i * interval '1 hour',
                     'YYYY-MM-DD HH24:MI:SS') || ' UTC' AS timestamp_utc
      FROM generate_series(1, 1000) i)
TO :'indexed_file' WITH (FORMAT csv, HEADER);
SELECT rows_read, rows_loaded FROM restmon_ingest_status(:'indexed_file');
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM restmon.observation
WHERE observed_at >= '2023-03-01' AND observed_at < '2023-05-01';
SELECT count(*) FROM restmon.observation
WHERE observed_at >= '2023-03-01' AND observed_at < '2023-05-01';
RESET enable_seqscan;
RESET enable_bitmapscan;
DROP INDEX restmon.observation_time_idx;

-- a trigger restmon does not know is refused, not skipped: the file
-- changes nothing
CREATE FUNCTION public.poll_audit() RETURNS trigger LANGUAGE plpgsql
AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER poll_audit AFTER INSERT ON restmon.observation
	FOR EACH ROW EXECUTE FUNCTION public.poll_audit();
COPY (SELECT 'y1' AS store_id, 'active' AS status,
             '2023-04-01 00:00:00 UTC' AS timestamp_utc)
TO :'triggered_file' WITH (FORMAT csv, HEADER);
SELECT rows_loaded FROM restmon_ingest_status(:'triggered_file');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) FROM restmon.observation WHERE store_id = 'y1';
DROP TRIGGER poll_audit ON restmon.observation;
DROP FUNCTION public.poll_audit();

-- into a table truncated in the same transaction (no page, and no other
-- session can read it before commit), the first chunk inserts its rows
-- into the heap only and rebuilds every index by sort (src/observation.c);
-- the next chunks find them through the primary key: the same counts and
-- rows as above (no poll stored, so no retention edge), and the indexes
-- (the primary key and a user's) hold exactly the table's rows (amcheck)
-- the rows of the chunked load not stored, and those stored not in it
CREATE TEMP VIEW chunked_diff AS
SELECT (SELECT count(*) FROM (SELECT * FROM chunked
                              EXCEPT SELECT store_id, observed_at, active
                              FROM restmon.observation) a) AS only_chunked,
       (SELECT count(*) FROM (SELECT store_id, observed_at, active
                              FROM restmon.observation
                              EXCEPT SELECT * FROM chunked) b) AS only_stored;
CREATE INDEX observation_time_idx ON restmon.observation (observed_at);
BEGIN;
TRUNCATE restmon.observation, restmon.store;
SELECT pg_relation_filenode('restmon.observation_key') AS pkey_file \gset
SET LOCAL maintenance_work_mem = '1MB';
SELECT rows_read, rows_loaded, rows_duplicate, rows_rejected, rows_expired
FROM restmon_ingest_status(:'chunks_file');
SELECT pg_relation_filenode('restmon.observation_key') <> :pkey_file
  AS pkey_rebuilt;
COMMIT;
SELECT * FROM chunked_diff;
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS amcheck;
RESET client_min_messages;
SELECT bt_index_check(i, true) FROM (VALUES ('restmon.observation_key'::regclass),
	('restmon.observation_time_idx'::regclass)) v(i);
DROP INDEX restmon.observation_time_idx;
-- restmon.store follows, as for any load
SELECT count(*) AS stores, min(first_observed_at), max(last_observed_at)
FROM restmon.store;

-- a load of its own (not in a transaction block) into a table without a
-- page, made in an earlier transaction as by CREATE EXTENSION, takes the
-- same path when no other session holds a lock on the table's indexes
-- (src/observation_write.c): the primary key gets a new file, the table
-- keeps its own, and the counts are those of the first load above (no
-- poll stored: 79,990 new, 20,000 duplicates, 10 conflicts, none
-- expired) and the rows those of the chunked load
TRUNCATE restmon.observation, restmon.store;
SELECT pg_relation_filenode('restmon.observation') AS heap_file,
       pg_relation_filenode('restmon.observation_key') AS pkey_file \gset
SELECT rows_read, rows_loaded, rows_duplicate, rows_rejected, rows_expired
FROM restmon_ingest_status(:'chunks_file');
SELECT pg_relation_filenode('restmon.observation') = :heap_file AS heap_kept,
       pg_relation_filenode('restmon.observation_key') <> :pkey_file
  AS pkey_rebuilt;
SELECT * FROM chunked_diff;
SELECT bt_index_check('restmon.observation_key', true);
-- the next load finds pages: one index insertion per row, the primary key
-- keeps its file; the 1,000 polls of the indexed file are new
SELECT pg_relation_filenode('restmon.observation_key') AS pkey_file \gset
SELECT rows_read, rows_loaded FROM restmon_ingest_status(:'indexed_file');
SELECT pg_relation_filenode('restmon.observation_key') = :pkey_file
  AS pkey_kept;
-- so does a first load in a transaction block, whose lock would last
-- until the block's end: row by row, the same counts and rows
TRUNCATE restmon.observation, restmon.store;
SELECT pg_relation_filenode('restmon.observation_key') AS pkey_file \gset
BEGIN;
SELECT rows_read, rows_loaded, rows_duplicate, rows_rejected, rows_expired
FROM restmon_ingest_status(:'chunks_file');
COMMIT;
SELECT pg_relation_filenode('restmon.observation_key') = :pkey_file
  AS pkey_kept;
SELECT * FROM chunked_diff;

DROP VIEW chunked_diff;
DROP EXTENSION restmon;
DROP EXTENSION amcheck;
