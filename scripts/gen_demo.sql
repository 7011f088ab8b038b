--
-- scripts/gen_demo.sql: deterministic demo data in the real data's layout.
--
--   psql -v outdir=/abs/dir [-v stores=2000] [-v days=8] [-v seed=42]
--        [-v end_ts='2023-01-25 18:00:00+00'] [-v bad_rows=1] [-v uuid_ids=0]
--        -f scripts/gen_demo.sql
--
-- Writes store_status.csv, menu_hours.csv and timezones.csv into outdir
-- (client side, through psql).  Pseudo-random choices come from
-- hashtextextended(key, seed), never from random(), so the same variables
-- give byte-identical files whatever the plan.
--
\set ON_ERROR_STOP 1
\if :{?outdir} \else \echo 'set -v outdir=/absolute/dir' \quit \endif
\if :{?stores} \else \set stores 2000 \endif
\if :{?days} \else \set days 8 \endif
\if :{?seed} \else \set seed 42 \endif
\if :{?end_ts} \else \set end_ts '2023-01-25 18:00:00+00' \endif
\if :{?bad_rows} \else \set bad_rows 1 \endif
\if :{?uuid_ids} \else \set uuid_ids 0 \endif
\pset tuples_only on
\pset format unaligned
\set QUIET 1
SET TimeZone = 'UTC';
SET max_parallel_workers_per_gather = 0;

-- u(key, seed): a uniform number in [0, 1) (inlined by the planner)
CREATE TEMP TABLE gen_params AS
SELECT :stores::int AS stores, :days::int AS days, :seed::bigint AS seed,
       :'end_ts'::timestamptz AS end_ts, :bad_rows::int AS bad_rows,
       :uuid_ids::int AS uuid_ids;

CREATE FUNCTION pg_temp.u(key text, seed bigint) RETURNS float8
LANGUAGE sql IMMUTABLE AS
$$ SELECT (hashtextextended(key, seed) & 1099511627775)::float8 / 1099511627776 $$;

CREATE TEMP TABLE gen_store AS
SELECT i,
       CASE WHEN p.uuid_ids = 1
            THEN (SELECT substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-4' || substr(h, 14, 3) || '-a'
                         || substr(h, 18, 3) || '-' || substr(h, 21, 12)
                  FROM md5(p.seed || ':store:' || i) h)
            ELSE (1000000000000000000 + (hashtextextended('id' || i, p.seed) & 9223372036854775807) % 8000000000000000000)::text
       END AS store_id,
       pg_temp.u('class' || i, :seed) AS reliability,
       pg_temp.u('hours' || i, :seed) AS hours_kind,
       pg_temp.u('zone' || i, :seed) AS zone_pick,
       (pg_temp.u('minute' || i, :seed) * 60)::int AS minute,
       -- about 30% of stores have one outage: a run of 2-11 polls inactive
       floor(pg_temp.u('ostart' || i, :seed) * p.days * 24)::int AS outage_start,
       CASE WHEN pg_temp.u('olen' || i, :seed) < 0.3
            THEN 2 + floor(pg_temp.u('olen2' || i, :seed) * 10)::int ELSE 0 END AS outage_len
FROM gen_params p, generate_series(1, p.stores) i;

-- status polls: about one an hour, some hours missed, some outages
CREATE TEMP TABLE gen_status AS
SELECT * FROM (
	SELECT s.store_id,
	       CASE WHEN pg_temp.u(s.i || ':' || h, :seed) <
	                 CASE WHEN s.reliability < 0.7 THEN 0.03
	                      WHEN s.reliability < 0.9 THEN 0.3 ELSE 0.85 END
	                 OR h >= s.outage_start AND h < s.outage_start + s.outage_len
	            THEN 'inactive' ELSE 'active' END AS status,
	       date_trunc('hour', p.end_ts) - h * interval '1 hour'
	         + s.minute * interval '1 minute'
	         + (pg_temp.u('j' || s.i || ':' || h, :seed) * 120000000)::bigint * interval '1 microsecond' AS ts,
	       hashtextextended(s.i || ':' || h, p.seed) AS shuffle,
	       p.end_ts
	FROM gen_params p, gen_store s, generate_series(0, p.days * 24) h
	WHERE pg_temp.u('miss' || s.i || ':' || h, :seed) >= 0.04
) x
WHERE ts <= end_ts AND ts > end_ts - (SELECT days FROM gen_params) * interval '1 day';

\set f :outdir '/store_status.csv'
SELECT line FROM (
	SELECT 0 AS part, 0::bigint AS k, 'store_id,status,timestamp_utc' AS line
	UNION ALL
	SELECT 1, shuffle, store_id || ',' || status || ',' || to_char(ts, 'YYYY-MM-DD HH24:MI:SS.US') || ' UTC'
	FROM gen_status
	UNION ALL
	-- about 0.2% of the polls a second time, later in the file (duplicates)
	SELECT 1, shuffle # 1, store_id || ',' || status || ',' || to_char(ts, 'YYYY-MM-DD HH24:MI:SS.US') || ' UTC'
	FROM gen_status WHERE pg_temp.u('dup' || shuffle, :seed) < 0.002
	UNION ALL
	SELECT 2, n, line FROM gen_params p, (VALUES
		(1, '1,maybe,2023-01-22 12:00:00 UTC'),
		(2, '2,active,2023-13-45 99:00:00 UTC'),
		(3, ',active,2023-01-22 12:00:00 UTC'),
		(4, '3,active'),
		(5, '')) AS b(n, line)
	WHERE p.bad_rows = 1
) x ORDER BY part, k \g :f

-- business hours: regular, closed days, split shifts, overlapping shifts,
-- overnight (also overlapping the next day's first shift), start = end (24
-- hours), H:MM and fractional times, all day (23:59:59, 23:59:00, 23:59:30)
-- and about 10% of stores with none (24x7)
\set f :outdir '/menu_hours.csv'
SELECT line FROM (
	SELECT 0 AS part, '' AS sid, 0 AS d, 0 AS seq, 'store_id,dayOfWeek,start_time_local,end_time_local' AS line
	UNION ALL
	SELECT 1, s.store_id, d, seq, s.store_id || ',' || d || ',' || st || ',' || en
	FROM gen_store s, generate_series(0, 6) d,
	LATERAL (
		SELECT 1 AS seq, '08:00:00' AS st, '15:00:00' AS en
		WHERE s.hours_kind >= 0.10 AND s.hours_kind < 0.14
		UNION ALL
		SELECT 2, '13:30:00', '20:45:30' WHERE s.hours_kind >= 0.10 AND s.hours_kind < 0.14
		UNION ALL
		SELECT 1, '18:00:00', '01:30:00' WHERE s.hours_kind >= 0.14 AND s.hours_kind < 0.18
		UNION ALL
		SELECT 2, '01:00:00', '03:00:00' WHERE s.hours_kind >= 0.14 AND s.hours_kind < 0.18
		UNION ALL
		SELECT 1, '12:00:00', '12:00:00'
		WHERE s.hours_kind >= 0.18 AND s.hours_kind < 0.21 AND d IN (2, 4)
		UNION ALL
		SELECT 1, '09:00:00', '17:00:00'
		WHERE s.hours_kind >= 0.18 AND s.hours_kind < 0.21 AND d NOT IN (2, 4)
		UNION ALL
		SELECT 1, '9:30', '23:59:30'
		WHERE s.hours_kind >= 0.21 AND s.hours_kind < 0.24 AND d < 5	-- closed Sun
		UNION ALL
		SELECT 1, '06:30:00.25', '14:05' WHERE s.hours_kind >= 0.21 AND s.hours_kind < 0.24 AND d = 5
		UNION ALL
		SELECT 1, '09:00:00', '21:00:00'
		WHERE s.hours_kind >= 0.24 AND s.hours_kind < 0.40
		UNION ALL
		SELECT 1, '10:00:00', '22:00:00'
		WHERE s.hours_kind >= 0.40 AND s.hours_kind < 0.50 AND d NOT IN (0, 6)	-- closed Mon, Sun
		UNION ALL
		SELECT 1, '11:00:00', '14:00:00' WHERE s.hours_kind >= 0.50 AND s.hours_kind < 0.65
		UNION ALL
		SELECT 2, '17:00:00', '22:00:00' WHERE s.hours_kind >= 0.50 AND s.hours_kind < 0.65
		UNION ALL
		SELECT 1, '22:00:00', '02:00:00' WHERE s.hours_kind >= 0.65 AND s.hours_kind < 0.75
		UNION ALL
		SELECT 1, '00:00:00', '23:59:59' WHERE s.hours_kind >= 0.75 AND s.hours_kind < 0.90
		UNION ALL
		SELECT 1, '00:00:00', '23:59:00' WHERE s.hours_kind >= 0.90
	) h
	UNION ALL
	SELECT 2, '', n, 0, line FROM gen_params p, (VALUES
		(1, '1,7,10:00:00,11:00:00'),
		(2, '2,1,25:61,11:00:00')) AS b(n, line)
	WHERE p.bad_rows = 1
) x ORDER BY part, sid COLLATE "C", d, seq \g :f

-- time zones: the US and a few others; about 5% of stores have none
\set f :outdir '/timezones.csv'
SELECT line FROM (
	SELECT 0 AS part, 0 AS i, 'store_id,timezone_str' AS line
	UNION ALL
	SELECT 1, s.i, s.store_id || ',' ||
	       (ARRAY['America/New_York', 'America/Chicago', 'America/Denver',
	              'America/Los_Angeles', 'America/Phoenix', 'America/Anchorage',
	              'Pacific/Honolulu', 'America/Boise', 'America/Indiana/Indianapolis',
	              'America/Detroit', 'Europe/London', 'Asia/Kolkata',
	              'Australia/Lord_Howe', 'Australia/Sydney'])[1 + floor(s.zone_pick / 0.95 * 14)::int]
	FROM gen_store s WHERE s.zone_pick < 0.95
	UNION ALL
	SELECT 2, 0, '9,Mars/Olympus_Mons' FROM gen_params WHERE bad_rows = 1
) x ORDER BY part, i \g :f

\set QUIET 0
\pset tuples_only off
\pset format aligned
SELECT (SELECT count(*) FROM gen_store) AS stores,
       (SELECT count(*) FROM gen_status) AS polls,
       :'outdir' AS written_to;
