--
-- Observation retention (src/prune.c, src/polls.c): polls older than the
-- edge, the latest poll stored (semantics §4's default report instant)
-- minus restmon.observation_retention (35 days by default), are deleted by
-- restmon_prune_observations() and restmon_upkeep() in bounded batches,
-- and never loaded again: ingestion counts them as expired
-- (doc/operations.md, Retention).
--
\i test/preamble.psql
\set retention_file :fixtures '/demo/retention.csv'

-- 35 days by default, at least the evidence horizon of 192 hours (semantics
-- §5); a server-wide setting (postgresql.conf or ALTER SYSTEM): no session
-- changes what a load keeps
SHOW restmon.observation_retention;
SELECT pg_temp.error_of($$SET restmon.observation_retention = '8d'$$);
SELECT pg_temp.error_of($$SET restmon.observation_retention = -1$$);
ALTER SYSTEM SET restmon.observation_retention = '191h';
SHOW restmon.observation_retention;

-- the latest poll: L = 2023-03-01 12:00 UTC (store z), so the edge is
-- L - 35 days = 2023-01-25 12:00 UTC (February 2023 has 28 days).  Store a:
-- one poll 1 us before the edge, one exactly at it, one 1 us after, one an
-- hour before L.  Store old: two polls a day and three days before the edge,
-- hours and a zone.  (Rows inserted with SQL are not checked against the
-- edge: only restmon's ingestion is.)
INSERT INTO restmon.business_hours VALUES
	('old', 0, '09:00', '17:00'), ('old', 2, '09:00', '17:00');
INSERT INTO restmon.store_timezone VALUES ('old', 'Asia/Tokyo');
INSERT INTO restmon.observation VALUES
	('a', '2023-01-25 11:59:59.999999+00', true),
	('a', '2023-01-25 12:00:00+00', false),
	('a', '2023-01-25 12:00:00.000001+00', true),
	('a', '2023-03-01 11:00:00+00', true),
	('old', '2023-01-24 12:00:00+00', true),
	('old', '2023-01-22 12:00:00+00', false),
	('z', '2023-03-01 12:00:00+00', true);
SELECT restmon_default_as_of();

CREATE TEMP TABLE report_before AS SELECT * FROM restmon_store_uptime();

-- while another session holds a lock that conflicts with pruning (here
-- VACUUM's, SHARE UPDATE EXCLUSIVE), a batch deletes nothing and says
-- why, without waiting: the 3 polls before the edge (a's 1 us before it,
-- old's two) stay
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
SELECT dblink_connect('vacuum', format('host=%s port=%s dbname=%s',
	current_setting('unix_socket_directories'), current_setting('port'),
	current_database()));
SELECT dblink_exec('vacuum', 'BEGIN');
SELECT dblink_exec('vacuum', 'LOCK restmon.observation IN SHARE UPDATE EXCLUSIVE MODE');
SELECT restmon_prune_observations() AS pruned;
SELECT count(*) AS polls_before_edge FROM restmon.observation
WHERE observed_at < '2023-01-25 12:00:00+00';
SELECT dblink_exec('vacuum', 'COMMIT');
SELECT dblink_disconnect('vacuum');

-- a batch of max_rows = 1 stops after its first DELETE, the oldest week's
-- polls of up to 64 stores (old's of Sunday 2023-01-22; weeks start on
-- Mondays, doc/operations.md, "How polls are stored"); then the rest (a's
-- and old's of the week of 2023-01-23); then nothing
SELECT restmon_prune_observations(1) AS pruned;
SELECT restmon_prune_observations() AS pruned;
SELECT restmon_prune_observations() AS pruned;
SELECT pg_temp.error_of($$SELECT restmon_prune_observations(0)$$);

-- the poll exactly at the edge is kept, the one 1 us older is gone
SELECT store_id, observed_at, active FROM restmon.observation ORDER BY 1, 2;

-- store old keeps its row, its hours and its zone, and stays in the report
SELECT store_id, first_observed_at, last_observed_at FROM restmon.store
ORDER BY 1;
SELECT count(*) AS hours_rows FROM restmon.business_hours WHERE store_id = 'old';
SELECT timezone FROM restmon.store_timezone WHERE store_id = 'old';
SELECT count(*) AS old_in_report FROM restmon_store_uptime() WHERE store_id = 'old';

-- a report at the default instant is unchanged by pruning, every store and
-- every figure, both ways
SELECT (SELECT count(*) FROM report_before) AS rows_before,
       (SELECT count(*) FROM restmon_store_uptime()) AS rows_after,
       (SELECT count(*) FROM (SELECT * FROM report_before
                              EXCEPT SELECT * FROM restmon_store_uptime()) d)
         AS only_before,
       (SELECT count(*) FROM (SELECT * FROM restmon_store_uptime()
                              EXCEPT SELECT * FROM report_before) d)
         AS only_after;

-- the status file read again (as the hourly job does): its lines of the
-- pruned polls are not loaded again but counted as expired, and so is
-- any line older than the edge; a line exactly at the edge is kept.
--   line 2  a    2023-01-25 11:59:59.999999  pruned: expired
--   line 3  a    2023-01-25 12:00:00          stored: duplicate
--   line 4  old  2023-01-24 12:00:00          pruned: expired
--   line 5  old  2023-01-22 12:00:00          pruned: expired (a conflict
--                                             if it were compared)
--   line 6  b    2023-01-25 12:00:00          new, at the edge: loaded
--   line 7  b    2023-01-25 11:59:59.999999   new, 1 us older: expired
--   line 8  a    2023-03-01 11:30:00          new: loaded
-- so 7 read, 2 loaded, 1 duplicate, 0 rejected, 4 expired
COPY (SELECT * FROM (VALUES
             ('a', 'active', '2023-01-25 11:59:59.999999 UTC'),
             ('a', 'inactive', '2023-01-25 12:00:00 UTC'),
             ('old', 'active', '2023-01-24 12:00:00 UTC'),
             ('old', 'active', '2023-01-22 12:00:00 UTC'),
             ('b', 'active', '2023-01-25 12:00:00 UTC'),
             ('b', 'inactive', '2023-01-25 11:59:59.999999 UTC'),
             ('a', 'active', '2023-03-01 11:30:00 UTC'))
             AS v(store_id, status, timestamp_utc))
TO :'retention_file' WITH (FORMAT csv, HEADER);
SELECT rows_read, rows_loaded, rows_duplicate, rows_rejected, rows_expired,
       outcome
FROM restmon_ingest_status(:'retention_file');
SELECT rows_read, rows_loaded, rows_duplicate, rows_rejected, rows_expired
FROM restmon.ingest_run ORDER BY run_id DESC LIMIT 1;
SELECT count(*) AS polls_before_edge FROM restmon.observation
WHERE observed_at < '2023-01-25 12:00:00+00';
SELECT store_id, observed_at, active FROM restmon.observation
WHERE store_id IN ('a', 'b') ORDER BY 1, 2;

-- the API goes through the same code: one poll older than the edge, one
-- at it (a duplicate now), one new
SELECT received, loaded, duplicate, rejected, rejects, run_id, expired
FROM restmon_record_polls('[
	{"store_id": "b", "status": "active", "timestamp_utc": "2023-01-01 00:00:00 UTC"},
	{"store_id": "b", "status": "active", "timestamp_utc": "2023-01-25 12:00:00 UTC"},
	{"store_id": "b", "status": "active", "timestamp_utc": "2023-03-01 11:00:00 UTC"}]');
SELECT received, loaded, duplicate, rejected, expired
FROM restmon_record_polls_csv(E'store_id,status,timestamp_utc\nc,active,2023-01-25 11:00:00 UTC\n');
SELECT count(*) AS polls_before_edge FROM restmon.observation
WHERE observed_at < '2023-01-25 12:00:00+00';

-- restmon_upkeep() runs a batch (an old poll inserted with SQL is gone)
INSERT INTO restmon.observation VALUES ('a', '2023-01-01 00:00:00+00', true);
SELECT count(*) AS polls_before_edge FROM restmon.observation
WHERE observed_at < '2023-01-25 12:00:00+00';
SELECT restmon_upkeep() AS workers_started;
SELECT count(*) AS polls_before_edge FROM restmon.observation
WHERE observed_at < '2023-01-25 12:00:00+00';

-- restmon.store out of step with the polls (rows deleted by hand): the
-- polls of stores it does not list are pruned all the same, whether their
-- ids sort before, between or after the stores it lists.  It lists a
-- (first poll 1 us before the edge) and old as having polls before the
-- edge; '0' sorts before a, 'a0' between a and old, 'zz' after old.  All 4
-- polls of 2023-01-01 are older than the edge: one batch deletes them
-- (none is left), and the stores with polls left are a, b and z
INSERT INTO restmon.observation VALUES
	('0', '2023-01-01 00:00:00+00', true), ('a', '2023-01-01 00:00:00+00', true),
	('a0', '2023-01-01 00:00:00+00', true), ('zz', '2023-01-01 00:00:00+00', true);
DELETE FROM restmon.store WHERE store_id IN ('0', 'a0', 'zz');
SELECT store_id FROM restmon.store
WHERE first_observed_at < '2023-01-25 12:00:00+00' ORDER BY 1;
SELECT restmon_prune_observations() AS pruned;
SELECT count(*) AS polls_before_edge FROM restmon.observation
WHERE observed_at < '2023-01-25 12:00:00+00';
SELECT restmon_rebuild_stores() AS stores;

-- with nothing stored there is no edge: a first load keeps everything
-- (the upkeep prunes it to the edge afterwards)
DELETE FROM restmon.observation;
SELECT restmon_rebuild_stores() AS stores;
SELECT rows_read, rows_loaded, rows_duplicate, rows_rejected, rows_expired
FROM restmon_ingest_status(:'retention_file');

DROP EXTENSION restmon;
