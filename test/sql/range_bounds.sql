--
-- A parallel report's ranges (src/store_bounds.c): with many stores they
-- are cut at the keys separating the leaves of restmon.store's index on
-- store_id, read from its level-1 page, instead of from every store
-- counted.  Whatever the cut, semantics §6.2: the rows of a report
-- computed by several processes are exactly the serial report's, in the
-- same store-id byte order.
--
\i test/preamble.psql

-- 6,000 stores (no hours: open 24/7, semantics §2) with ids of 46 bytes,
-- so restmon.store's index holds at most some 130 a leaf (at least 46
-- leaves; how many, below), two polls each, an hour apart, up to
-- T = 2023-03-01 00:00 UTC, active or not by a pattern that differs
-- between stores; and 10 stores with a
-- third poll on 2023-02-01, the only stores of a report as of
-- 2023-02-02 (semantics §6.1: a store is reported from its first poll on)
INSERT INTO restmon.observation
SELECT format('%s-%s', repeat('r', 40), lpad(s::text, 5, '0')),
	   '2023-03-01 00:00+00'::timestamptz - h * interval '1 hour',
	   (s + h) % 3 <> 0
FROM generate_series(1, 6000) s, generate_series(0, 1) h;
INSERT INTO restmon.observation
SELECT format('%s-%s', repeat('r', 40), lpad(s::text, 5, '0')),
	   '2023-02-01 00:00+00', true
FROM generate_series(600, 6000, 600) s;
ANALYZE restmon.store;

-- the leaf cut's conditions (src/store_bounds.c) for 2 processes (32
-- ranges) and for 4 (64): an estimate of at least 32 x 64 and 64 x 64
-- stores, and at least 32 and 64 leaves (pages less the metapage and the
-- root, the level-1 page)
SELECT reltuples >= 32 * 64 AS estimate_for_32, reltuples >= 64 * 64 AS estimate_for_64
FROM pg_class WHERE oid = 'restmon.store'::regclass;
SELECT pg_relation_size('restmon.store_pkey') / 8192 - 2 >= 32 AS leaves_for_32,
	   pg_relation_size('restmon.store_pkey') / 8192 - 2 >= 64 AS leaves_for_64;

CREATE TEMP TABLE runs (processes int, t timestamptz, n bigint,
	store_id text, uh numeric, ud numeric, uw numeric, dh numeric,
	dd numeric, dw numeric, eh int, ed int, ew int);
CREATE FUNCTION pg_temp.run(processes int, t timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('restmon.report_workers', processes::text, true);
	INSERT INTO runs
	SELECT processes, t, u.ordinality, u.store_id,
		   u.uptime_last_hour, u.uptime_last_day, u.uptime_last_week,
		   u.downtime_last_hour, u.downtime_last_day, u.downtime_last_week,
		   u.evidence_last_hour, u.evidence_last_day, u.evidence_last_week
	FROM restmon_store_uptime(t) WITH ORDINALITY u;
END
$$;

-- the leader says where the ranges were cut: 32 (2 processes x 16) and 64
SET client_min_messages = debug1;
SELECT pg_temp.run(2, '2023-03-01 00:00+00');
SELECT pg_temp.run(4, '2023-03-01 00:00+00');
SELECT pg_temp.run(2, '2023-02-02 00:00+00');
RESET client_min_messages;
SELECT pg_temp.run(1, '2023-03-01 00:00+00');
SELECT pg_temp.run(1, '2023-02-02 00:00+00');

-- every store at T, the 10 early ones at 2023-02-02; each run row for row
-- the serial one (position, store and every figure)
SELECT processes, t, count(*) AS stores FROM runs GROUP BY 1, 2 ORDER BY 2, 1;
SELECT r.processes, r.t, count(*) AS differing
FROM runs r
WHERE r.processes > 1 AND NOT EXISTS
	(SELECT FROM runs s
	 WHERE s.processes = 1 AND s.t = r.t AND s.n = r.n
	   AND (s.store_id, s.uh, s.ud, s.uw, s.dh, s.dd, s.dw, s.eh, s.ed, s.ew)
		   = (r.store_id, r.uh, r.ud, r.uw, r.dh, r.dd, r.dw, r.eh, r.ed, r.ew))
GROUP BY 1, 2;
-- the serial order is store-id byte order (semantics §6.2)
SELECT bool_and(store_id COLLATE "C" > prev COLLATE "C") AS byte_order
FROM (SELECT store_id, lag(store_id) OVER (ORDER BY n) AS prev
	  FROM runs WHERE processes = 1 AND t = '2023-03-01 00:00+00') o
WHERE prev IS NOT NULL;
-- store r...-00001 (s = 1): polls at T - 1 h (s + 1 = 2: active) and at T
-- (s = 1: active), open 24/7: the last hour is up, all 60 minutes
-- (semantics §5)
SELECT uh, dh FROM runs
WHERE processes = 1 AND t = '2023-03-01 00:00+00' AND n = 1;
