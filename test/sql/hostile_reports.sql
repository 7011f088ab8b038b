--
-- Reports against hostile input (issue 11, items 3, 7, 8, 9 and two
-- surviving rule changes):
--  - semantics §4: a poll later than the server clock plus
--    restmon.max_future is rejected per line; one far-future row cannot
--    keep the default report instant: restmon_rebuild_stores() repairs the
--    cache of restmon.store; an instant outside the years 1-9999 is a
--    clean 22008 at every entry point (restmon_store_uptime,
--    restmon_trigger_report, restmon_business_intervals), never XX000;
--  - semantics §6.1: a single-store report is that store's row of the
--    full report, so a known store with no poll at or before T has none;
--  - semantics §6.4: a poll exactly at T - 1 h, T - 24 h, T - 168 h counts
--    as evidence of that window (both ends counted);
--  - semantics §6.2 and §6.5: rows and CSV lines in byte order;
--  - ingestion refuses REPEATABLE READ and SERIALIZABLE (25001).
-- H = hour; times UTC.  T = 2023-06-01 12:00 throughout.
--
\i test/preamble.psql

-- semantics §4: far-future polls are rejected with a reason, the rest loads
SELECT rows_read, rows_loaded, rows_rejected, outcome
FROM restmon_ingest_status(:'fixtures' || '/hostile_reports/status_future.csv');
SELECT line_no, reason FROM restmon.rejected ORDER BY line_no;
SELECT restmon_default_as_of();

-- one far-future row written straight into the table (not through
-- ingestion) takes over the default instant; the report is a clean 22008
INSERT INTO restmon.observation VALUES ('rogue', '100000-01-01 00:00+00', true);
SELECT restmon_default_as_of();
SELECT count(*) FROM restmon_store_uptime();
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT restmon_trigger_report();
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- deleting the row is not enough: restmon.store still caches it ...
DELETE FROM restmon.observation WHERE store_id = 'rogue';
SELECT restmon_default_as_of();
-- ... restmon_rebuild_stores() recomputes the cache: the default is back
SELECT restmon_rebuild_stores();
SELECT restmon_default_as_of();
SELECT store_id, first_observed_at, last_observed_at FROM restmon.store;

-- instants no report can have: 22008 at the SQL boundary
SELECT count(*) FROM restmon_store_uptime('infinity');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) FROM restmon_store_uptime('-infinity');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) FROM restmon_store_uptime('100000-01-01 00:00+00');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) FROM restmon_store_uptime('294276-12-31 00:00+00', 'real1');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT restmon_trigger_report('infinity');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT restmon_trigger_report('-infinity', 'real1');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT restmon_trigger_report('100000-01-01 00:00+00', wait => true);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT restmon_trigger_report('294276-12-31 00:00+00');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) FROM restmon_business_intervals('real1', '-infinity', '2023-06-01');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) FROM restmon_business_intervals('real1', '2023-06-01', '100000-01-01 00:00+00');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- the first and last instants of the range are fine
SELECT count(*) FROM restmon_store_uptime('0001-01-01 00:00+00');
SELECT count(*) FROM restmon_store_uptime('9999-12-31 23:59:59.999999+00');
SELECT count(*) AS reports FROM restmon.report;

-- semantics §6.1: stores known without a poll at or before T.  'late' is
-- polled after T only; 'h_only' has business hours only.
INSERT INTO restmon.observation VALUES ('late', '2023-06-02 00:00', true);
INSERT INTO restmon.business_hours VALUES ('h_only', 3, '09:00', '17:00');
SELECT count(*) AS late_alone FROM restmon_store_uptime('2023-06-01 12:00', 'late');
SELECT count(*) AS h_only_alone FROM restmon_store_uptime('2023-06-01 12:00', 'h_only');
SELECT count(*) AS late_later FROM restmon_store_uptime('2023-06-02 00:00', 'late');
SELECT restmon_trigger_report('2023-06-01 12:00', 'late', wait => true) AS r_late \gset
SELECT status, rows FROM restmon_report_status(:'r_late');
SELECT count(*) AS late_rows FROM restmon_get_report(:'r_late');
SELECT restmon_report_csv(:'r_late');
-- a store no source names is still an error
SELECT count(*) FROM restmon_store_uptime('2023-06-01 12:00', 'nobody');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- semantics §6.4: 'edge', open 24x7, active polls exactly at T - 168 H,
-- T - 24 H, T - 1 H and T: each window counts the poll at its start and
-- the one at T, so evidence is 2 (hour), 3 (day), 4 (week); all up:
-- 60.00 min, 24.00 H, 168.00 H.  'edge_out' has its polls one
-- microsecond before those starts (and none at T): hour 0, day 1, week 2,
-- still all up (the nearest poll is active).
INSERT INTO restmon.observation VALUES
	('edge', '2023-05-25 12:00', true), ('edge', '2023-05-31 12:00', true),
	('edge', '2023-06-01 11:00', true), ('edge', '2023-06-01 12:00', true),
	('edge_out', '2023-05-25 11:59:59.999999', true),
	('edge_out', '2023-05-31 11:59:59.999999', true),
	('edge_out', '2023-06-01 10:59:59.999999', true);

-- semantics §6.2: ids whose byte order differs from length-first order and
-- from any locale's: '10' < '9' < 'Zeta' < '_under' < 'alpha'.  Each is open
-- 24x7 with one poll at T - 30 min: 'active' gives 60.00, 24.00, 168.00 up;
-- '10' is inactive: as much down.
INSERT INTO restmon.observation VALUES
	('9', '2023-06-01 11:30', true), ('10', '2023-06-01 11:30', false),
	('Zeta', '2023-06-01 11:30', true), ('_under', '2023-06-01 11:30', true),
	('alpha', '2023-06-01 11:30', true);

-- The full report as of T, in its order.  real1 (semantics §5.2): open
-- 24x7, active 11:30, inactive 11:45, midpoint 11:37:30: up from the
-- start of each window to 11:37:30, down 22.5 min after it: hour up
-- 37.5 min; day up 23.625 H -> 23.63, down 0.375 H -> 0.38 (halves up);
-- week up 167.625 -> 167.63, down 0.38.
SELECT * FROM restmon_store_uptime('2023-06-01 12:00');

-- each row equals the single-store report of its store, figure by figure
SELECT count(*) AS rows_differing_from_single_store
FROM restmon_store_uptime('2023-06-01 12:00') f
LEFT JOIN LATERAL restmon_store_uptime('2023-06-01 12:00', f.store_id) s ON true
WHERE s IS NULL OR (f.*) IS DISTINCT FROM (s.*);

-- the asynchronous report: the same rows in the same order, and the CSV
SELECT restmon_trigger_report('2023-06-01 12:00', wait => true) AS r_all \gset
SELECT string_agg(store_id, ' ') AS get_report_order FROM restmon_get_report(:'r_all');
SELECT restmon_report_csv(:'r_all');

-- ingestion under REPEATABLE READ or SERIALIZABLE is refused up front
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT rows_loaded FROM restmon_ingest_status(:'fixtures' || '/ingest/status_basic.csv');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT count(*) FROM restmon_ingest(:'fixtures' || '/dir_ok');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT rows_loaded FROM restmon_ingest_hours(:'fixtures' || '/ingest/hours_v1.csv');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
SELECT count(*) AS runs_logged FROM restmon.ingest_run;

DROP EXTENSION restmon;
