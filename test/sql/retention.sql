--
-- Observation retention (src/prune.c): restmon_prune_observations() and
-- restmon_upkeep() delete the polls older than
-- restmon.observation_retention, counted back from the latest poll stored
-- (semantics §4's default report instant), in bounded batches.
--
\i test/preamble.psql

-- -1 (keep every poll) by default; else at least the evidence horizon of
-- 192 hours (semantics §5)
SHOW restmon.observation_retention;
SELECT pg_temp.error_of($$SET restmon.observation_retention = '191h'$$);
SET restmon.observation_retention = '8d';
SHOW restmon.observation_retention;

-- the latest poll: L = 2023-01-10 12:00 UTC (store z), so the edge is
-- L - 192 h = 2023-01-02 12:00 UTC.  Store a: one poll 1 us before the
-- edge, one exactly at it, one 1 us after, one an hour before L.  Store
-- old: two polls a day and two days before the edge, hours and a zone.
INSERT INTO restmon.business_hours VALUES
	('old', 0, '09:00', '17:00'), ('old', 2, '09:00', '17:00');
INSERT INTO restmon.store_timezone VALUES ('old', 'Asia/Tokyo');
INSERT INTO restmon.observation VALUES
	('a', '2023-01-02 11:59:59.999999+00', true),
	('a', '2023-01-02 12:00:00+00', false),
	('a', '2023-01-02 12:00:00.000001+00', true),
	('a', '2023-01-10 11:00:00+00', true),
	('old', '2023-01-01 12:00:00+00', true),
	('old', '2022-12-31 12:00:00+00', false),
	('z', '2023-01-10 12:00:00+00', true);
SELECT restmon_default_as_of();

CREATE TEMP TABLE report_before AS SELECT * FROM restmon_store_uptime();

-- a batch of max_rows = 1 stops after the first store with old polls
-- (stores in byte order: a, then old); then the rest; then nothing
SELECT restmon_prune_observations(1) AS pruned;
SELECT restmon_prune_observations() AS pruned;
SELECT restmon_prune_observations() AS pruned;
SELECT pg_temp.error_of($$SELECT restmon_prune_observations(0)$$);

-- the poll exactly at the edge is kept, the one 1 us older is gone
SELECT store_id, observed_at, active FROM restmon.observation ORDER BY 1, 2;

-- store old keeps its row, its hours and its zone
SELECT store_id, first_observed_at, last_observed_at FROM restmon.store
ORDER BY 1;
SELECT count(*) AS hours_rows FROM restmon.business_hours WHERE store_id = 'old';
SELECT timezone FROM restmon.store_timezone WHERE store_id = 'old';

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

-- restmon_upkeep() runs a batch (a new old poll of store a is gone)
INSERT INTO restmon.observation VALUES ('a', '2023-01-01 00:00:00+00', true);
SELECT restmon_upkeep() AS workers_started;
SELECT count(*) AS polls_before_edge FROM restmon.observation
WHERE observed_at < '2023-01-02 12:00:00+00';

-- -1 keeps every poll
INSERT INTO restmon.observation VALUES ('a', '2023-01-01 00:00:00+00', true);
SET restmon.observation_retention = -1;
SELECT restmon_prune_observations() AS pruned;
RESET restmon.observation_retention;

DROP EXTENSION restmon;
