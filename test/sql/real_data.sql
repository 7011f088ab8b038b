--
-- The real public data (test/fixtures/loop-2024: complete hours and zones,
-- the head of a status export, the same head saved with a UTF-8 BOM).
-- SPEC 1: every row loads; the BOM copy adds nothing new.
-- SPEC 3: restmon's business intervals equal an independent computation
-- with PostgreSQL range types, for every store of the hours file.
-- SPEC 5: uptime + downtime = business time, for every store and window.
--
SET client_min_messages = warning;
CREATE EXTENSION restmon;
RESET client_min_messages;
SET DateStyle = 'ISO, YMD';
SET TimeZone = 'UTC';
\set fx '/tmp/restmon-fixtures/loop-2024'

SELECT regexp_replace(file, '^.*/', '') AS file, rows_read, rows_loaded,
       rows_duplicate, rows_rejected
FROM restmon_ingest_timezones(:'fx' || '/timezones.csv');
SELECT regexp_replace(file, '^.*/', '') AS file, rows_read, rows_loaded,
       rows_duplicate, rows_rejected
FROM restmon_ingest_hours(:'fx' || '/menu_hours.csv');
SELECT regexp_replace(file, '^.*/', '') AS file, rows_read, rows_loaded,
       rows_duplicate, rows_rejected
FROM restmon_ingest_status(:'fx' || '/store_status_head_1000.csv');
SELECT regexp_replace(file, '^.*/', '') AS file, rows_read, rows_loaded,
       rows_duplicate, rows_rejected
FROM restmon_ingest_status(:'fx' || '/store_status_head_364_utf8bom.csv');

SELECT count(*) AS polls, min(observed_at), max(observed_at)
FROM restmon.observation;
SELECT restmon_default_as_of();

-- An independent statement of SPEC 2-3 in SQL: each row opens
-- [date + start, date + end) on its weekday's dates, end >= 23:59 means
-- midnight, end <= start runs into the next date; converted with
-- AT TIME ZONE; no rows = 24x7; no zone = America/Chicago.
CREATE TEMP TABLE spec_business AS
WITH p AS (SELECT restmon_default_as_of() AS t),
stores AS (
	SELECT store_id FROM restmon.business_hours
	UNION SELECT store_id FROM restmon.store),
zone AS (
	SELECT s.store_id, coalesce(z.timezone, 'America/Chicago') AS tz
	FROM stores s LEFT JOIN restmon.store_timezone z USING (store_id)),
dates AS (
	SELECT d::date AS d FROM p,
	generate_series((p.t - interval '10 days')::date, (p.t + interval '2 days')::date, interval '1 day') d),
ranges AS (
	SELECT z.store_id,
	       tstzrange((d.d + h.start_local) AT TIME ZONE z.tz,
	                 (CASE WHEN h.end_local >= '23:59' THEN (d.d + 1)::timestamp
	                       WHEN h.end_local <= h.start_local THEN d.d + 1 + h.end_local
	                       ELSE d.d + h.end_local END) AT TIME ZONE z.tz) AS r
	FROM zone z
	JOIN restmon.business_hours h USING (store_id)
	JOIN dates d ON extract(isodow FROM d.d) - 1 = h.day_of_week
	UNION ALL
	SELECT z.store_id, tstzrange(p.t - interval '9 days', p.t + interval '1 day')
	FROM zone z, p
	WHERE NOT EXISTS (SELECT FROM restmon.business_hours h WHERE h.store_id = z.store_id))
SELECT store_id,
       range_agg(r) * tstzmultirange(tstzrange(p.t - interval '192 hours', p.t + interval '1 microsecond')) AS b
FROM ranges, p GROUP BY store_id, p.t;

SELECT count(*) AS stores_compared FROM spec_business;

-- SPEC 3: identical business intervals over the whole horizon
SELECT count(*) AS stores_with_other_business_time
FROM spec_business s, restmon_default_as_of() t
WHERE s.b IS DISTINCT FROM (
	SELECT coalesce(range_agg(tstzrange(i.opens, i.closes)), '{}'::tstzmultirange)
	FROM restmon_business_intervals(s.store_id, t - interval '192 hours', t + interval '1 microsecond') i);

-- SPEC 5: uptime + downtime = business time in each window (each figure
-- is rounded on its own, so the sum may differ by one hundredth)
WITH t AS (SELECT restmon_default_as_of() AS t),
r AS (SELECT * FROM restmon_store_uptime()),
w AS (
	SELECT s.store_id,
	       (SELECT coalesce(sum(extract(epoch FROM upper(x) - lower(x))), 0)
	        FROM unnest(s.b * tstzmultirange(tstzrange(t - interval '1 hour', t))) x) / 60 AS bh,
	       (SELECT coalesce(sum(extract(epoch FROM upper(x) - lower(x))), 0)
	        FROM unnest(s.b * tstzmultirange(tstzrange(t - interval '24 hours', t))) x) / 3600 AS bd,
	       (SELECT coalesce(sum(extract(epoch FROM upper(x) - lower(x))), 0)
	        FROM unnest(s.b * tstzmultirange(tstzrange(t - interval '168 hours', t))) x) / 3600 AS bw
	FROM spec_business s, t)
SELECT count(*) = (SELECT count(DISTINCT store_id) FROM restmon.observation)
         AS one_row_per_polled_store,
       count(*) FILTER (WHERE abs(r.uptime_last_hour + r.downtime_last_hour - w.bh) > 0.01
                           OR abs(r.uptime_last_day + r.downtime_last_day - w.bd) > 0.01
                           OR abs(r.uptime_last_week + r.downtime_last_week - w.bw) > 0.01)
         AS stores_violating_invariant
FROM r JOIN w USING (store_id);

DROP EXTENSION restmon;
