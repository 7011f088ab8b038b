--
-- bench/reference.sql: an independent, pure-SQL implementation of semantics §2-6,
-- written the way the usual implementations are (window functions and
-- range types), only to compare against restmon in the benchmark: same
-- figures, measured speed.  Not part of the extension.
--
CREATE SCHEMA IF NOT EXISTS bench;

CREATE OR REPLACE FUNCTION bench.reference_report(t timestamptz)
RETURNS TABLE (store_id text,
	uptime_last_hour numeric, uptime_last_day numeric, uptime_last_week numeric,
	downtime_last_hour numeric, downtime_last_day numeric, downtime_last_week numeric)
LANGUAGE sql STABLE
-- CTE row estimates are guesses: without this the planner picks nested
-- loops over millions of rows and the reference takes hours, not minutes
SET enable_nestloop = off
AS $$
WITH stores AS (
	-- semantics §6: every store with a poll at or before T
	SELECT DISTINCT o.store_id FROM restmon.observation o WHERE o.observed_at <= t),
zone AS (
	-- semantics §2: no zone = America/Chicago
	SELECT s.store_id, COALESCE(z.timezone, 'America/Chicago') AS tz
	FROM stores s LEFT JOIN restmon.store_timezone z USING (store_id)),
dates AS (
	SELECT d::date AS d
	FROM generate_series((t - interval '10 days')::date, (t + interval '2 days')::date, interval '1 day') d),
ranges AS (
	-- semantics §3: [date + start, date + end) local; end >= 23:59 is midnight;
	-- end <= start runs into the next date; AT TIME ZONE to UTC
	SELECT z.store_id,
	       tstzrange((d.d + h.start_local) AT TIME ZONE z.tz,
	                 (CASE WHEN h.end_local >= '23:59' THEN (d.d + 1)::timestamp
	                       WHEN h.end_local <= h.start_local THEN d.d + 1 + h.end_local
	                       ELSE d.d + h.end_local END) AT TIME ZONE z.tz) AS r
	FROM zone z
	JOIN restmon.business_hours h USING (store_id)
	JOIN dates d ON extract(isodow FROM d.d) - 1 = h.day_of_week
	UNION ALL
	-- semantics §2: no rows = 24x7
	SELECT z.store_id, tstzrange(t - interval '9 days', t + interval '1 day')
	FROM zone z
	WHERE NOT EXISTS (SELECT FROM restmon.business_hours h WHERE h.store_id = z.store_id)),
business AS (
	SELECT r.store_id,
	       range_agg(r.r) * tstzmultirange(tstzrange(t - interval '192 hours', t, '(]')) AS b
	FROM ranges r GROUP BY r.store_id),
evidence AS (
	-- semantics §5: polls in (T - 192h, T] inside business time
	SELECT o.store_id, o.observed_at, o.active
	FROM restmon.observation o JOIN business b USING (store_id)
	WHERE o.observed_at > t - interval '192 hours' AND o.observed_at <= t
	  AND b.b @> o.observed_at),
regions AS (
	-- each poll owns the time up to halfway to its neighbours
	SELECT e.store_id, e.active,
	       tstzrange(COALESCE(e.observed_at - (e.observed_at - lag(e.observed_at) OVER w) / 2, '-infinity'),
	                 COALESCE(e.observed_at + (lead(e.observed_at) OVER w - e.observed_at) / 2, 'infinity')) AS region
	FROM evidence e
	WINDOW w AS (PARTITION BY e.store_id ORDER BY e.observed_at)),
windows AS (
	SELECT * FROM (VALUES ('hour', interval '1 hour', 60.0),
	                      ('day', interval '24 hours', 3600.0),
	                      ('week', interval '168 hours', 3600.0)) AS w(name, len, unit)),
busy AS (
	SELECT b.store_id, w.name, w.unit,
	       (SELECT COALESCE(sum(extract(epoch FROM upper(x) - lower(x))), 0)
	        FROM unnest(b.b * tstzmultirange(tstzrange(t - w.len, t))) x) AS secs
	FROM business b, windows w),
up AS (
	SELECT r.store_id, w.name,
	       sum((SELECT COALESCE(sum(extract(epoch FROM upper(x) - lower(x))), 0)
	            FROM unnest(b.b * tstzmultirange(r.region) * tstzmultirange(tstzrange(t - w.len, t))) x)) AS secs
	FROM regions r JOIN business b USING (store_id), windows w
	WHERE r.active
	GROUP BY r.store_id, w.name),
figures AS (
	SELECT bu.store_id, bu.name,
	       round(COALESCE(u.secs, 0) / bu.unit, 2) AS up,
	       round((bu.secs - COALESCE(u.secs, 0)) / bu.unit, 2) AS down
	FROM busy bu LEFT JOIN up u USING (store_id, name))
SELECT s.store_id,
       max(f.up) FILTER (WHERE f.name = 'hour'), max(f.up) FILTER (WHERE f.name = 'day'),
       max(f.up) FILTER (WHERE f.name = 'week'), max(f.down) FILTER (WHERE f.name = 'hour'),
       max(f.down) FILTER (WHERE f.name = 'day'), max(f.down) FILTER (WHERE f.name = 'week')
FROM stores s JOIN figures f USING (store_id)
GROUP BY s.store_id
ORDER BY s.store_id COLLATE "C"
$$;
