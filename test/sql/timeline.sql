--
-- restmon_store_timeline() and restmon_incidents(): semantics §5.5.  Every
-- row expected below is derived by hand in the comment before its query
-- (times UTC unless marked local; H = hour).  Beside each timeline, the
-- up and down seconds of its segments inside each window are printed next
-- to the report's figures for the same store and T: the timeline is the
-- picture the report measures.  For every store of the demo and real data
-- the same holds by test/timeline_check.psql.
--
\i test/preamble.psql
SET IntervalStyle = 'postgres';

-- up and down seconds of a timeline inside each window [T - len, T), and
-- the report's figures of the window (minutes for the hour, hours else)
CREATE FUNCTION pg_temp.sums(store text, t timestamptz)
RETURNS TABLE (win text, up_s numeric, down_s numeric, uptime numeric,
	downtime numeric)
LANGUAGE sql AS $$
	SELECT w.win,
	       coalesce(sum(extract(epoch FROM least(s.ends, t) - greatest(s.starts, t - w.len)))
	                FILTER (WHERE s.state = 'up' AND s.ends > t - w.len), 0),
	       coalesce(sum(extract(epoch FROM least(s.ends, t) - greatest(s.starts, t - w.len)))
	                FILTER (WHERE s.state = 'down' AND s.ends > t - w.len), 0),
	       (array[u.uptime_last_hour, u.uptime_last_day, u.uptime_last_week])[w.o],
	       (array[u.downtime_last_hour, u.downtime_last_day, u.downtime_last_week])[w.o]
	FROM (VALUES (1, 'hour', interval '1 hour'), (2, 'day', interval '24 hours'),
	             (3, 'week', interval '168 hours')) w(o, win, len)
	CROSS JOIN restmon_store_uptime(t, store) u
	LEFT JOIN restmon_store_timeline(store, t) s ON true
	GROUP BY w.o, w.win, u.uptime_last_hour, u.uptime_last_day,
	         u.uptime_last_week, u.downtime_last_hour, u.downtime_last_day,
	         u.downtime_last_week
	ORDER BY w.o
$$;

-- t01, semantics §7 (the worked example).  New York, Monday 09:00-12:00 local
-- = 14:00-17:00 UTC.  Polls 15:14 inactive, 16:15 active; switch halfway,
-- 15:44:30.  T = 17:30, the week from Jan 16 17:30 (the Monday before
-- closed at 17:00, before it):
--   closed [Jan 16 17:30, Jan 23 14:00)
--   down   [14:00, 15:44:30) decided by 15:14
--   up     [15:44:30, 17:00) decided by 16:15
--   closed [17:00, 17:30)
-- Sums: hour [16:30, 17:30): up 1800 s; day and week: up 4530 s, down
-- 6270 s.  Report: 30.00 min, 1.26 H up; 0.00 min, 1.74 H down.
INSERT INTO restmon.store_timezone VALUES ('t01', 'America/New_York');
INSERT INTO restmon.business_hours VALUES ('t01', 0, '09:00', '12:00');
INSERT INTO restmon.observation VALUES
	('t01', '2023-01-23 15:14', false), ('t01', '2023-01-23 16:15', true);
SELECT * FROM restmon_store_timeline('t01', '2023-01-23 17:30');
SELECT * FROM pg_temp.sums('t01', '2023-01-23 17:30');

-- t02, semantics §3.2: overnight hours at both edges of the week.  UTC,
-- every day 22:00-02:00.  Polls Jan 24 01:30 active (in Monday's night),
-- Jan 24 23:00 inactive (Tuesday's); switch Jan 24 12:15, in closed time.
-- T = Jan 25 01:00: the week [Jan 18 01:00, T) starts and ends inside a
-- night.  Up, all decided by Jan 24 01:30: [Jan 18 01:00, 02:00), then the
-- six nights from Jan 18 22:00 to Jan 24 02:00; closed between them;
-- closed [Jan 24 02:00, 22:00); down [Jan 24 22:00, T) decided by 23:00.
-- 15 rows.  Sums: hour down 3600 s; day [Jan 24 01:00, T): up 3600 s,
-- down 10800 s; week: up 1 + 6 x 4 = 25 H = 90000 s, down 10800 s.
-- Report: 0.00 1.00 25.00 up, 60.00 3.00 3.00 down.
INSERT INTO restmon.store_timezone VALUES ('t02', 'UTC');
INSERT INTO restmon.business_hours SELECT 't02', d, '22:00', '02:00' FROM generate_series(0, 6) d;
INSERT INTO restmon.observation VALUES
	('t02', '2023-01-24 01:30', true), ('t02', '2023-01-24 23:00', false);
SELECT * FROM restmon_store_timeline('t02', '2023-01-25 01:00');
SELECT * FROM pg_temp.sums('t02', '2023-01-25 01:00');

-- t03, semantics §3.3: a DST change.  New York, Sundays 00:00-23:59:59
-- local.  Sunday 2023-03-12 local opens 05:00 UTC (EST) and, clocks having
-- gone forward at 07:00 UTC, closes at midnight EDT = Mar 13 04:00 UTC: a
-- 23 H day.  Polls Mar 12 06:45 inactive, 07:20 active; switch 07:02:30.
-- T = Mar 13 06:00 (the Sunday before closed Mar 6 05:00, before the week):
--   closed [Mar 6 06:00, Mar 12 05:00)
--   down   [Mar 12 05:00, 07:02:30) decided by 06:45
--   up     [07:02:30, Mar 13 04:00) decided by 07:20
--   closed [Mar 13 04:00, 06:00)
-- Sums: hour closed, 0 and 0; day [Mar 12 06:00, T): down 3750 s, up
-- 20 H 57 min 30 s = 75450 s; week: down 7350 s, up 75450 s.  Report:
-- up 0.00 20.96 20.96 (75450 / 3600 = 20.9583), down 0.00 1.04 2.04
-- (1.0417 and 2.0417).
INSERT INTO restmon.store_timezone VALUES ('t03', 'America/New_York');
INSERT INTO restmon.business_hours VALUES ('t03', 6, '00:00', '23:59:59');
INSERT INTO restmon.observation VALUES
	('t03', '2023-03-12 06:45', false), ('t03', '2023-03-12 07:20', true);
SELECT * FROM restmon_store_timeline('t03', '2023-03-13 06:00');
SELECT * FROM pg_temp.sums('t03', '2023-03-13 06:00');

-- t04, semantics §5.2: ties.  Open 24x7 (no hours).  Polls Jan 25 10:00
-- active, 12:00 inactive, 12:00:00.000003 active; T = 13:00.
-- The 10:00 and 12:00 polls switch at exactly 11:00: that instant is a tie
-- and belongs to the earlier poll, a single instant of no length; the
-- segments are half-open, so 11:00 starts the down segment.  The 12:00 and
-- 12:00:00.000003 polls switch at 12:00:00.0000015, between two
-- microseconds: shown rounded up, at 12:00:00.000002 (microsecond .000001
-- is nearer 12:00, .000002 nearer .000003).
--   up   [Jan 18 13:00, Jan 25 11:00) decided by 10:00
--   down [11:00, 12:00:00.000002) decided by 12:00
--   up   [12:00:00.000002, 13:00) decided by 12:00:00.000003
-- Sums as shown: hour down 0.000002 s (exactly 1.5 us), up 3599.999998 s;
-- day down 3600.000002 s, up 82799.999998 s; week down the same, up
-- 601199.999998 s.  Report: up 60.00 23.00 167.00, down 0.00 1.00 1.00.
INSERT INTO restmon.store_timezone VALUES ('t04', 'UTC');
INSERT INTO restmon.observation VALUES
	('t04', '2023-01-25 10:00', true), ('t04', '2023-01-25 12:00', false),
	('t04', '2023-01-25 12:00:00.000003', true);
SELECT * FROM restmon_store_timeline('t04', '2023-01-25 13:00');
SELECT * FROM pg_temp.sums('t04', '2023-01-25 13:00');

-- t05, semantics §5.1 and §5.3: no evidence.  UTC, Monday 09:00-17:00 only;
-- its one poll, Jan 30 08:00 active, is made while closed and ignored.
-- T = Jan 31 12:00: closed [Jan 24 12:00, Jan 30 09:00), down [09:00,
-- 17:00) decided by no poll, closed [17:00, T).  Sums: hour 0 and 0; day
-- [Jan 30 12:00, T): down 18000 s; week down 28800 s.  Report: up 0.00
-- 0.00 0.00, down 0.00 5.00 8.00.
INSERT INTO restmon.store_timezone VALUES ('t05', 'UTC');
INSERT INTO restmon.business_hours VALUES ('t05', 0, '09:00', '17:00');
INSERT INTO restmon.observation VALUES ('t05', '2023-01-30 08:00', true);
SELECT * FROM restmon_store_timeline('t05', '2023-01-31 12:00');
SELECT * FROM pg_temp.sums('t05', '2023-01-31 12:00');

-- semantics §6.1: a timeline exactly when the report has a row.  t01 before
-- its first poll, and t06, named only by an hours row: no rows, as the
-- report.  A store no source names: P0002; a NULL or malformed id: errors.
INSERT INTO restmon.business_hours VALUES ('t06', 0, '09:00', '17:00');
SELECT count(*) AS t01_before_first_poll
FROM restmon_store_timeline('t01', '2023-01-23 15:00');
SELECT count(*) AS t06_hours_only FROM restmon_store_timeline('t06', '2023-01-31 12:00');
SELECT count(*) AS t06_report_rows FROM restmon_store_uptime('2023-01-31 12:00', 't06');
SELECT pg_temp.error_of($$SELECT * FROM restmon_store_timeline('nobody')$$);
SELECT pg_temp.error_of($$SELECT * FROM restmon_store_timeline(NULL)$$);
SELECT pg_temp.error_of($$SELECT * FROM restmon_store_timeline('a b')$$);
SELECT pg_temp.error_of($$SELECT * FROM restmon_store_timeline('t01', 'infinity')$$);

-- semantics §4: T defaults as in the report, to the latest poll stored
-- (t03's Mar 12 07:20); the session's TimeZone changes no instant
SELECT restmon_default_as_of();
SELECT count(*) AS differing FROM (
	(SELECT * FROM restmon_store_timeline('t03')
	 EXCEPT SELECT * FROM restmon_store_timeline('t03', '2023-03-12 07:20'))
	UNION ALL
	(SELECT * FROM restmon_store_timeline('t03', '2023-03-12 07:20')
	 EXCEPT SELECT * FROM restmon_store_timeline('t03'))) d;
CREATE TEMP TABLE t02_utc AS SELECT * FROM restmon_store_timeline('t02', '2023-01-25 01:00');
SET TimeZone = 'Pacific/Chatham';
SELECT count(*) AS differing_under_chatham FROM (
	SELECT * FROM restmon_store_timeline('t02', '2023-01-25 01:00+00')
	EXCEPT SELECT * FROM t02_utc) d;
SET TimeZone = 'UTC';

--
-- restmon_incidents(), semantics §5.5, on a fresh extension: four stores at
-- T = Mon Jan 23 12:00, the week from Jan 16 12:00.
--
SET client_min_messages = warning;
DROP EXTENSION restmon;
CREATE EXTENSION restmon;
RESET client_min_messages;

-- i01, one incident across closing time.  UTC, every night 22:00-02:00.
-- Polls Jan 20 23:00 active, Jan 21 01:00 inactive (switch Jan 21 00:00),
-- Jan 21 23:00 inactive (switch Jan 21 12:00, both inactive), Jan 22 01:00
-- active (switch Jan 22 00:00), Jan 22 23:00 active.  Down [Jan 21 00:00,
-- 02:00), closed until 22:00, down [Jan 21 22:00, Jan 22 00:00): one
-- incident Jan 21 00:00 - Jan 22 00:00, duration 1 day, business 4 H, not
-- open at T.  Up: the 7 nights of the week hold 28 H, 24 H up.
INSERT INTO restmon.store_timezone VALUES ('i01', 'UTC');
INSERT INTO restmon.business_hours SELECT 'i01', d, '22:00', '02:00' FROM generate_series(0, 6) d;
INSERT INTO restmon.observation VALUES
	('i01', '2023-01-20 23:00', true), ('i01', '2023-01-21 01:00', false),
	('i01', '2023-01-21 23:00', false), ('i01', '2023-01-22 01:00', true),
	('i01', '2023-01-22 23:00', true);
SELECT * FROM restmon_store_timeline('i01', '2023-01-23 12:00')
WHERE starts >= '2023-01-20 22:00' AND starts < '2023-01-22 22:00';

-- i02, open at T.  24x7; Jan 23 06:00 active, 08:00 inactive: down from the
-- switch at 07:00 to T, 5 H, open_at_end.
-- i03, two short incidents of equal length.  24x7; Jan 22 10:00 active,
-- 10:30 inactive, 11:00 active, 15:00 active, 15:30 inactive, 16:00 active:
-- down [10:15, 10:45) and [15:15, 15:45), 30 min each.
-- i04, 24x7; Jan 22 06:00 active, 08:00 inactive, 10:00 active: down
-- [07:00, 09:00), 2 H.
INSERT INTO restmon.store_timezone VALUES ('i02', 'UTC'), ('i03', 'UTC'), ('i04', 'UTC');
INSERT INTO restmon.observation VALUES
	('i02', '2023-01-23 06:00', true), ('i02', '2023-01-23 08:00', false),
	('i03', '2023-01-22 10:00', true), ('i03', '2023-01-22 10:30', false),
	('i03', '2023-01-22 11:00', true), ('i03', '2023-01-22 15:00', true),
	('i03', '2023-01-22 15:30', false), ('i03', '2023-01-22 16:00', true),
	('i04', '2023-01-22 06:00', true), ('i04', '2023-01-22 08:00', false),
	('i04', '2023-01-22 10:00', true);

-- ordered by business time lost, most first (i01 lasts a day but lost
-- 4 H; i02 lost 5 H), then store_id, then start (i03's two):
--   i02 Jan 23 07:00 - 12:00, 05:00:00, 05:00:00, t
--   i01 Jan 21 00:00 - Jan 22 00:00, 1 day, 04:00:00, f
--   i04 Jan 22 07:00 - 09:00, 02:00:00, 02:00:00, f
--   i03 Jan 22 10:15 - 10:45, 00:30:00, 00:30:00, f
--   i03 Jan 22 15:15 - 15:45, 00:30:00, 00:30:00, f
SELECT * FROM restmon_incidents('2023-01-23 12:00');

-- each store's incidents add up to its downtime_last_week (semantics §5.4):
-- i01 4.00, i02 5.00, i03 1.00, i04 2.00
SELECT u.store_id, u.downtime_last_week,
       (SELECT sum(business_duration) FROM restmon_incidents('2023-01-23 12:00') i
        WHERE i.store_id = u.store_id) AS incidents_business
FROM restmon_store_uptime('2023-01-23 12:00') u ORDER BY 1;

-- min_duration compares business_duration, inclusive: 2 hours keeps i02,
-- i01 and i04 (exactly 2 H); one second more leaves i02 and i01; NULL is
-- no minimum (5 rows)
SELECT store_id, business_duration FROM restmon_incidents('2023-01-23 12:00', '2 hours');
SELECT store_id, business_duration FROM restmon_incidents('2023-01-23 12:00', '02:00:01');
SELECT count(*) AS null_minimum FROM restmon_incidents('2023-01-23 12:00', NULL);

-- store_id: that store's rows only (i03's two); unknown: P0002
SELECT * FROM restmon_incidents('2023-01-23 12:00', store_id => 'i03');
SELECT pg_temp.error_of($$SELECT * FROM restmon_incidents(store_id => 'nobody')$$);

-- the default T is the latest poll, i02's Jan 23 08:00: i02 is down from
-- 07:00, 1 H, open at that T
SELECT * FROM restmon_incidents(store_id => 'i02');

-- no polls at all: no incidents (as the report is empty), or 55000 for one
-- store, as restmon_store_uptime
SET client_min_messages = warning;
DROP EXTENSION restmon;
CREATE EXTENSION restmon;
RESET client_min_messages;
INSERT INTO restmon.store_timezone VALUES ('z', 'UTC');
SELECT count(*) AS incidents FROM restmon_incidents();
SELECT pg_temp.error_of($$SELECT * FROM restmon_incidents(store_id => 'z')$$);
SELECT pg_temp.error_of($$SELECT * FROM restmon_store_timeline('z')$$);

DROP EXTENSION restmon;
