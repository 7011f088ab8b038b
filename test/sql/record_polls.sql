--
-- Polls as they arrive: restmon_record_polls(jsonb), restmon_record_poll()
-- and restmon_record_polls_csv(text).  The same checks (semantics §1.3,
-- §1.4) and the same rules (semantics §1.6: polls accumulate, the first of
-- a store and instant wins, a stored poll wins over a batch, a conflicting
-- duplicate is rejected) as a status file; every expectation is derived by
-- hand from those sections.
--
\i test/preamble.psql

-- semantics §1.6: a first batch, all new: received 3 = loaded 3
SELECT received, loaded, duplicate, rejected, rejects, run_id
FROM restmon_record_polls('[
  {"store_id": "s1", "status": "active", "timestamp_utc": "2024-10-03T10:00:00Z"},
  {"store_id": "s1", "status": "inactive", "timestamp_utc": "2024-10-03 11:00:00 UTC"},
  {"store_id": "s2", "status": "ACTIVE ", "timestamp_utc": "2024-10-03T10:30:00+00:00"}
]');
SELECT store_id, observed_at, active FROM restmon.observation ORDER BY 1, 2;
-- restmon.store follows, as for a file: s1 from 10:00 to 11:00, s2 10:30
SELECT * FROM restmon.store ORDER BY 1;

-- polls accumulate: a later batch adds to them (s1 at 12:00, s3 new);
-- 10:00 of s1 again with its stored status is a duplicate
SELECT received, loaded, duplicate, rejected
FROM restmon_record_polls('[
  {"store_id": "s1", "status": "active", "timestamp_utc": "2024-10-03T12:00:00Z"},
  {"store_id": "s1", "status": "active", "timestamp_utc": "2024-10-03T10:00:00Z"},
  {"store_id": "s3", "status": "inactive", "timestamp_utc": "2024-10-03T09:00:00Z"}
]');
SELECT * FROM restmon.store ORDER BY 1;

-- the stored poll wins: s1 at 11:00 is stored inactive, so "active" is a
-- conflicting duplicate (element 0, rejected); element 1 is new
SELECT received, loaded, duplicate, rejected, rejects, run_id IS NOT NULL AS logged
FROM restmon_record_polls('[
  {"store_id": "s1", "status": "active", "timestamp_utc": "2024-10-03T11:00:00Z"},
  {"store_id": "s2", "status": "inactive", "timestamp_utc": "2024-10-03T11:30:00Z"}
]');
SELECT observed_at, active FROM restmon.observation
WHERE store_id = 's1' AND observed_at = '2024-10-03 11:00:00+00';

-- within a batch the first element wins (semantics §9.8): s4 at 08:00,
-- elements 0 (inactive, inserted), 1 (inactive: duplicate), 2 (active:
-- conflicting duplicate); elements 3 and 4 name one instant two ways
-- (+02:00 and UTC): 4 duplicates 3
SELECT received, loaded, duplicate, rejected, rejects
FROM restmon_record_polls('[
  {"store_id": "s4", "status": "inactive", "timestamp_utc": "2024-10-03T08:00:00Z"},
  {"store_id": "s4", "status": "inactive", "timestamp_utc": "2024-10-03 08:00:00 UTC"},
  {"store_id": "s4", "status": "active", "timestamp_utc": "2024-10-03T08:00:00Z"},
  {"store_id": "s4", "status": "active", "timestamp_utc": "2024-10-03T11:00:00+02:00"},
  {"store_id": "s4", "status": "active", "timestamp_utc": "2024-10-03T09:00:00Z"}
]');
SELECT observed_at, active FROM restmon.observation WHERE store_id = 's4' ORDER BY 1;

-- rejected elements are kept as a file's rejected lines are: run of source
-- 'api', line_no = the element's index, raw_line = the element's JSON
SELECT i.source, r.file, r.line_no, r.reason, r.raw_text
FROM restmon.rejected r JOIN restmon.ingest_run i USING (run_id)
ORDER BY r.run_id, r.line_no;
-- a run is logged only for a batch that rejected something, with its counts
SELECT source, file, rows_read, rows_loaded, rows_duplicate, rows_rejected, outcome
FROM restmon.ingest_run ORDER BY run_id;

---------------------------------------------------------------------------
-- Hostile input: clear errors for a batch that is not an array, and for a
-- bad element a reason, while the good elements of its batch still load.
---------------------------------------------------------------------------
SELECT pg_temp.error_of($$SELECT restmon_record_polls('{"store_id": "s1"}')$$);
SELECT pg_temp.error_of($$SELECT restmon_record_polls('"polls"')$$);
SELECT pg_temp.error_of($$SELECT restmon_record_polls(NULL)$$);
SELECT pg_temp.error_of($$SELECT restmon_record_polls('[{"store_id": ')$$);
-- an empty array: nothing received, nothing to reject
SELECT received, loaded, duplicate, rejected, rejects, run_id
FROM restmon_record_polls('[]');

-- semantics §1.3 and §1.9: a timestamp without a zone is UTC whatever the
-- session's TimeZone (element 12, loaded at 07:00 UTC); every other element
-- but the last is rejected with its reason; the last one loads
SET TimeZone = 'Asia/Kolkata';
SELECT received, loaded, duplicate, rejected
FROM restmon_record_polls('[
  5,
  null,
  "s5,active,2024-10-03 07:00:00",
  [1, 2],
  {},
  {"store_id": null, "status": "active", "timestamp_utc": "2024-10-03T07:00:00Z"},
  {"store_id": 42, "status": "active", "timestamp_utc": "2024-10-03T07:00:00Z"},
  {"store_id": "s5", "status": "maybe", "timestamp_utc": "2024-10-03T07:00:00Z"},
  {"store_id": "s5", "status": "active", "timestamp_utc": "now"},
  {"store_id": "s5", "status": "active", "timestamp_utc": "2023-02-29T07:00:00Z"},
  {"store_id": "s 5", "status": "active", "timestamp_utc": "2024-10-03T07:00:00Z"},
  {"store_id": "", "status": "active", "timestamp_utc": "2024-10-03T07:00:00Z"},
  {"store_id": "s5", "status": "active", "timestamp_utc": "2024-10-03 07:00:00"},
  {"store_id": "s5", "status": "active", "timestamp_utc": "2024-10-03T08:00:00 IST"},
  {"store_id": "s5", "status": "active"},
  {"store_id": "s5", "status": true, "timestamp_utc": "2024-10-03T07:00:00Z"},
  {"store_id": "s6", "status": " inactive", "timestamp_utc": "2024-10-03T07:00:00+05:30", "extra": 1}
]') \gset h_
SET TimeZone = 'UTC';
\echo received :h_received loaded :h_loaded duplicate :h_duplicate rejected :h_rejected
SELECT line_no AS index, reason FROM restmon.rejected
WHERE run_id = (SELECT max(run_id) FROM restmon.ingest_run) ORDER BY line_no;
SELECT store_id, observed_at, active FROM restmon.observation
WHERE store_id IN ('s5', 's6') ORDER BY 1, 2;

-- a 1 MB store id: rejected with its length, its raw text cut to 1024
-- bytes; the poll after it in the batch loads
SELECT received, loaded, rejected, rejects->0->>'reason' AS reason
FROM restmon_record_polls(jsonb_build_array(
	jsonb_build_object('store_id', repeat('x', 1048576), 'status', 'active',
		'timestamp_utc', '2024-10-03T07:00:00Z'),
	jsonb_build_object('store_id', 's7', 'status', 'active',
		'timestamp_utc', '2024-10-03T07:00:00Z')));
SELECT octet_length(raw_line) AS raw_bytes, reason LIKE '%(raw_line keeps the first 1024 of 1048653 bytes)' AS cut
FROM restmon.rejected_row WHERE run_id = (SELECT max(run_id) FROM restmon.ingest_run);

-- semantics §4: restmon.max_future holds for the API too (5 minutes here)
SET restmon.max_future = 5;
SELECT received, loaded, rejected, rejects->0->>'reason' AS reason
FROM restmon_record_polls('[{"store_id": "s8", "status": "active", "timestamp_utc": "2999-01-01T00:00:00Z"}]');
RESET restmon.max_future;

-- a batch is one transaction: rolled back, nothing of it stays
BEGIN;
SELECT loaded FROM restmon_record_polls('[{"store_id": "s9", "status": "active", "timestamp_utc": "2024-10-03T07:00:00Z"}]');
ROLLBACK;
SELECT count(*) AS s9_polls FROM restmon.observation WHERE store_id = 's9';
SELECT count(*) AS s9_store FROM restmon.store WHERE store_id = 's9';

-- like file loads, refused under REPEATABLE READ (25001)
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT pg_temp.error_of($$SELECT restmon_record_polls('[]')$$);
ROLLBACK;

---------------------------------------------------------------------------
-- restmon_record_poll(): one poll, the same checks; NULLs are reasons
---------------------------------------------------------------------------
SELECT received, loaded, duplicate, rejected, rejects
FROM restmon_record_poll('s10', 'active', '2024-10-03 07:00:00.25+00');
SELECT received, loaded, duplicate, rejected, rejects
FROM restmon_record_poll('s10', 'Active', '2024-10-03 09:00:00.25+02');
SELECT received, loaded, duplicate, rejected, rejects
FROM restmon_record_poll('s10', 'inactive', '2024-10-03 07:00:00.25+00');
SELECT received, loaded, duplicate, rejected, rejects
FROM restmon_record_poll(NULL, 'active', '2024-10-03 07:00:00+00');
SELECT received, loaded, duplicate, rejected, rejects
FROM restmon_record_poll('s10', NULL, '2024-10-03 07:00:00+00');
SELECT received, loaded, duplicate, rejected, rejects
FROM restmon_record_poll('s10', 'active', NULL);
SELECT received, loaded, duplicate, rejected, rejects
FROM restmon_record_poll('s10', 'active', 'infinity');
SELECT raw_text FROM restmon.rejected
WHERE run_id = (SELECT max(run_id) FROM restmon.ingest_run);
SELECT observed_at, active FROM restmon.observation WHERE store_id = 's10';

---------------------------------------------------------------------------
-- One pipeline: the same polls as a status file (restmon_ingest_status),
-- as a file's text (restmon_record_polls_csv) and as JSON give the same
-- observations and the same counts.  Duplicates, a conflict, bad values.
---------------------------------------------------------------------------
CREATE TEMP TABLE input (n int, store_id text, status text, timestamp_utc text);
INSERT INTO input VALUES
	(1, 'a', 'active', '2024-10-01 10:00:00 UTC'),
	(2, 'b', 'inactive', '2024-10-01T10:00:00Z'),
	(3, 'a', 'active', '2024-10-01 10:00:00'),			-- duplicate of 1
	(4, 'a', 'inactive', '2024-10-01 12:00:00+02'),		-- conflicts with 1
	(5, 'c', 'maybe', '2024-10-01 10:00:00 UTC'),		-- rejected
	(6, 'c', 'active', 'yesterday'),					-- rejected
	(7, 'c', 'ACTIVE', '2024-10-01 09:59:59.999999 UTC'),
	(8, 'b', 'inactive', '2024-10-01 11:00:00 UTC'),
	(9, 'b', 'active', '2024-10-01 05:00:00 America/Chicago'); -- = 10:00 UTC: conflicts with 2
SELECT format('/tmp/restmon_record_polls_%s.csv', pg_backend_pid()) AS csv_path \gset
COPY (SELECT store_id, status, timestamp_utc FROM input ORDER BY n)
	TO :'csv_path' (FORMAT csv, HEADER);

-- from scratch each time: a fresh extension
SET client_min_messages = warning;
DROP EXTENSION restmon CASCADE;
CREATE EXTENSION restmon;
RESET client_min_messages;
SELECT rows_read, rows_loaded, rows_duplicate, rows_rejected
FROM restmon_ingest_status(:'csv_path');
CREATE TEMP TABLE via_file AS SELECT * FROM restmon.observation;
CREATE TEMP TABLE via_file_rej AS
	SELECT line_no - 2 AS n0, reason FROM restmon.rejected_row;

SET client_min_messages = warning;
DROP EXTENSION restmon CASCADE;
CREATE EXTENSION restmon;
RESET client_min_messages;
SELECT received, loaded, duplicate, rejected
FROM restmon_record_polls_csv(pg_read_file(:'csv_path'));
CREATE TEMP TABLE via_csv AS SELECT * FROM restmon.observation;
CREATE TEMP TABLE via_csv_rej AS
	SELECT line_no - 2 AS n0, reason FROM restmon.rejected_row;

SET client_min_messages = warning;
DROP EXTENSION restmon CASCADE;
CREATE EXTENSION restmon;
RESET client_min_messages;
SELECT received, loaded, duplicate, rejected
FROM restmon_record_polls((SELECT jsonb_agg(jsonb_build_object('store_id', store_id,
	'status', status, 'timestamp_utc', timestamp_utc) ORDER BY n) FROM input));
CREATE TEMP TABLE via_json AS SELECT * FROM restmon.observation;
CREATE TEMP TABLE via_json_rej AS
	SELECT line_no AS n0, reason FROM restmon.rejected_row;

-- the observations (hand-derived: a 10:00 active, c 09:59:59.999999
-- active, b 10:00 inactive, b 11:00 inactive), the same three ways
SELECT store_id, observed_at, active FROM via_json ORDER BY 1, 2;
SELECT (SELECT count(*) FROM (TABLE via_file EXCEPT TABLE via_json) x) +
	   (SELECT count(*) FROM (TABLE via_json EXCEPT TABLE via_file) x) +
	   (SELECT count(*) FROM (TABLE via_csv EXCEPT TABLE via_json) x) +
	   (SELECT count(*) FROM (TABLE via_json EXCEPT TABLE via_csv) x) AS differences;
-- and the same rejects at the same positions (element i = line i + 2)
SELECT n0, reason FROM via_json_rej ORDER BY 1;
SELECT (SELECT count(*) FROM (TABLE via_file_rej EXCEPT TABLE via_json_rej) x) +
	   (SELECT count(*) FROM (TABLE via_json_rej EXCEPT TABLE via_file_rej) x) +
	   (SELECT count(*) FROM (TABLE via_csv_rej EXCEPT TABLE via_json_rej) x) +
	   (SELECT count(*) FROM (TABLE via_json_rej EXCEPT TABLE via_csv_rej) x) AS reject_differences;

-- a text/csv body that is no status file is an error, as a file is
SELECT pg_temp.error_of($$SELECT restmon_record_polls_csv('store_id,status')$$);
SELECT pg_temp.error_of($$SELECT restmon_record_polls_csv('')$$);

DROP EXTENSION restmon;
