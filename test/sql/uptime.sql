--
-- restmon_store_uptime(): semantics §2-7.  Every expected figure below is
-- computed by hand from doc/semantics.md (the derivation is in the comment of each
-- store); the query at the end prints restmon's figures and whether they
-- equal the hand-computed ones.  H = hour; times UTC unless marked local.
--
\i test/preamble.psql

CREATE TEMP TABLE expected (
	store_id text, as_of timestamptz,
	uh numeric, ud numeric, uw numeric, dh numeric, dd numeric, dw numeric,
	eh int, ed int, ew int);

-- s01, semantics §7 worked example.  New York, open Monday 09:00-12:00 local
-- (14:00-17:00 UTC in January).  Polls 10:14 local inactive, 11:15 local
-- active; T = 12:30 local.  Midpoint 10:44:30: up 12:00-10:44:30 = 1.2583 H,
-- down 1.7417 H; last hour [11:30, 12:30) meets 30 min of business, all
-- nearest the 11:15 poll.  Week = day: the Monday before ends 17:00 UTC
-- Jan 16, before T - 168 H = 17:30 UTC Jan 16.
INSERT INTO restmon.store_timezone VALUES ('s01', 'America/New_York');
INSERT INTO restmon.business_hours VALUES ('s01', 0, '09:00', '12:00');
INSERT INTO restmon.observation VALUES
	('s01', '2023-01-23 15:14', false), ('s01', '2023-01-23 16:15', true);
INSERT INTO expected VALUES ('s01', '2023-01-23 17:30', 30.00, 1.26, 1.26, 0.00, 1.74, 1.74, 0, 2, 2);

-- s02, semantics §2: no hours rows = open 24x7.  One active poll 2 H before T
-- fills every window.
INSERT INTO restmon.observation VALUES ('s02', '2023-01-25 16:00', true);
INSERT INTO expected VALUES ('s02', '2023-01-25 18:00', 60.00, 24.00, 168.00, 0.00, 0.00, 0.00, 0, 1, 1);

-- s03, semantics §2: no time zone = America/Chicago.  Monday 09:00-17:00 local
-- = 15:00-23:00 UTC (CST).  Polls 16:00 active, 20:00 inactive (both open
-- in Chicago; 20:00 would be closed in UTC).  Midpoint 18:00: up 3 H, down
-- 5 H.  T = Tuesday 12:00: the hour is closed; the Monday before ended
-- before the week began.
INSERT INTO restmon.business_hours VALUES ('s03', 0, '09:00', '17:00');
INSERT INTO restmon.observation VALUES
	('s03', '2023-01-23 16:00', true), ('s03', '2023-01-23 20:00', false);
INSERT INTO expected VALUES ('s03', '2023-01-24 12:00', 0.00, 3.00, 3.00, 0.00, 5.00, 5.00, 0, 2, 2);

-- s04, semantics §2-3: a weekday without a row is closed; 23:59:59 = midnight.
-- UTC, Tuesday 00:00-23:59:59 only.  Monday's inactive poll is outside
-- business time (ignored).  T = Wednesday 00:00: the hour [23:00, 24:00)
-- is a full 60 min (not 59.98); the day is the whole 24 H Tuesday.
INSERT INTO restmon.store_timezone VALUES ('s04', 'UTC');
INSERT INTO restmon.business_hours VALUES ('s04', 1, '00:00', '23:59:59');
INSERT INTO restmon.observation VALUES
	('s04', '2023-01-23 12:00', false), ('s04', '2023-01-24 06:00', true);
INSERT INTO expected VALUES ('s04', '2023-01-25 00:00', 60.00, 24.00, 24.00, 0.00, 0.00, 0.00, 0, 1, 1);

-- s05, semantics §3: 23:59:00 = midnight too.  Tuesday 10:00-23:59, one
-- inactive poll 23:30: hour 60 min down, day 14 H down.
INSERT INTO restmon.store_timezone VALUES ('s05', 'UTC');
INSERT INTO restmon.business_hours VALUES ('s05', 1, '10:00', '23:59:00');
INSERT INTO restmon.observation VALUES ('s05', '2023-01-24 23:30', false);
INSERT INTO expected VALUES ('s05', '2023-01-25 00:00', 0.00, 0.00, 0.00, 60.00, 14.00, 14.00, 1, 1, 1);

-- s06, semantics §3: end <= start runs past midnight.  Every day 22:00-02:00.
-- Polls Jan 24 01:30 active (in Monday's shift), Jan 24 23:00 inactive;
-- midpoint Jan 24 12:15.  T = Jan 25 01:00.
--   hour [00:00, 01:00): inside Tuesday's shift, nearest 23:00: 60 min down
--   day [Jan 24 01:00, Jan 25 01:00): 01:00-02:00 up (1 H) + 22:00-01:00
--     down (3 H)
--   week [Jan 18 01:00, ...): 1 H (Jan 17's shift clipped) + 6 full shifts
--     (24 H) before the midpoint = 25 H up; Jan 24's clipped shift 3 H down
INSERT INTO restmon.store_timezone VALUES ('s06', 'UTC');
INSERT INTO restmon.business_hours SELECT 's06', d, '22:00', '02:00' FROM generate_series(0, 6) d;
INSERT INTO restmon.observation VALUES
	('s06', '2023-01-24 01:30', true), ('s06', '2023-01-24 23:00', false);
INSERT INTO expected VALUES ('s06', '2023-01-25 01:00', 0.00, 1.00, 25.00, 60.00, 3.00, 3.00, 0, 2, 2);

-- s07, split shift Monday 11:00-14:00 and 17:00-22:00.  Polls 12:00 active,
-- 18:00 inactive, midpoint 15:00 (in the gap): up 3 H, down 5 H.
-- s08, the same plus an overlapping row 13:00-15:00 (semantics §3: union):
-- 11:00-15:00 up (4 H), 17:00-22:00 down (5 H).
INSERT INTO restmon.store_timezone VALUES ('s07', 'UTC'), ('s08', 'UTC');
INSERT INTO restmon.business_hours VALUES
	('s07', 0, '11:00', '14:00'), ('s07', 0, '17:00', '22:00'),
	('s08', 0, '11:00', '14:00'), ('s08', 0, '17:00', '22:00'), ('s08', 0, '13:00', '15:00');
INSERT INTO restmon.observation VALUES
	('s07', '2023-01-23 12:00', true), ('s07', '2023-01-23 18:00', false),
	('s08', '2023-01-23 12:00', true), ('s08', '2023-01-23 18:00', false);
INSERT INTO expected VALUES
	('s07', '2023-01-23 23:00', 0.00, 3.00, 3.00, 0.00, 5.00, 5.00, 0, 2, 2),
	('s08', '2023-01-23 23:00', 0.00, 4.00, 4.00, 0.00, 5.00, 5.00, 0, 2, 2);

-- s09, semantics §3: end = start is 24 H from start.  Monday 10:00-10:00 =
-- Mon 10:00 - Tue 10:00.  Poll Monday 11:00 active; T = Tuesday 12:00.
-- Day [Mon 12:00, Tue 12:00) meets 22 H; week 24 H (the shift of Jan 16
-- ended before the week began).  The poll is before the day window.
INSERT INTO restmon.store_timezone VALUES ('s09', 'UTC');
INSERT INTO restmon.business_hours VALUES ('s09', 0, '10:00', '10:00');
INSERT INTO restmon.observation VALUES ('s09', '2023-01-23 11:00', true);
INSERT INTO expected VALUES ('s09', '2023-01-24 12:00', 0.00, 22.00, 24.00, 0.00, 0.00, 0.00, 0, 0, 1);

-- s10, semantics §3 + DST: New York, Sunday 00:00-23:59:59 local.  Sunday
-- 2023-03-12 (spring forward) is 23 H long: 05:00 UTC - Mar 13 04:00 UTC.
-- T = Mar 13 04:00 (local midnight).  Week [Mar 6 04:00, ...) also meets
-- the last hour of Sunday Mar 5 (EST, until Mar 6 05:00 UTC): 24 H.
INSERT INTO restmon.store_timezone VALUES ('s10', 'America/New_York');
INSERT INTO restmon.business_hours VALUES ('s10', 6, '00:00', '23:59:59');
INSERT INTO restmon.observation VALUES ('s10', '2023-03-12 12:00', true);
INSERT INTO expected VALUES ('s10', '2023-03-13 04:00', 60.00, 23.00, 24.00, 0.00, 0.00, 0.00, 0, 1, 1);

-- s11, the hour window across the change (07:00 UTC, 02:00 EST -> 03:00
-- EDT).  Same hours; polls 06:45 inactive, 07:20 active, T = 07:30.
--   hour [06:30, 07:30): midpoint 07:02:30: down 32.5 min, up 27.5 min
--   day: Sunday began 05:00 UTC: 2.5 H; down 2.0417 H, up 0.4583 H
--   week: also Sunday Mar 5 from 07:30 to Mar 6 05:00 UTC = 21.5 H, nearest
--     the 06:45 poll: down 21.5 + 2.0417 = 23.5417 H
INSERT INTO restmon.store_timezone VALUES ('s11', 'America/New_York');
INSERT INTO restmon.business_hours VALUES ('s11', 6, '00:00', '23:59:59');
INSERT INTO restmon.observation VALUES
	('s11', '2023-03-12 06:45', false), ('s11', '2023-03-12 07:20', true);
INSERT INTO expected VALUES ('s11', '2023-03-12 07:30', 27.50, 0.46, 0.46, 32.50, 2.04, 23.54, 2, 2, 2);

-- s12, semantics §3: a local time in the spring-forward gap resolves as
-- PostgreSQL does (offset before the change): Sunday 02:30-04:00 local on
-- Mar 12 = 07:30-08:00 UTC, 30 min.  One poll only, long before the
-- horizon: no evidence, all downtime (semantics §5.3); the poll gives it a
-- row (semantics §6.1: a store never polled by T has none, even alone).
INSERT INTO restmon.store_timezone VALUES ('s12', 'America/New_York');
INSERT INTO restmon.business_hours VALUES ('s12', 6, '02:30', '04:00');
INSERT INTO restmon.observation VALUES ('s12', '2023-03-01 00:00', true);
INSERT INTO expected VALUES ('s12', '2023-03-12 09:00', 0.00, 0.00, 0.00, 0.00, 0.50, 0.50, 0, 0, 0);

-- s13, fall back: Sunday 2023-11-05 is 25 H long (04:00 UTC - Nov 6 05:00
-- UTC).  One inactive poll; T = Nov 6 05:00: day 24 H, week 25 H down.
INSERT INTO restmon.store_timezone VALUES ('s13', 'America/New_York');
INSERT INTO restmon.business_hours VALUES ('s13', 6, '00:00', '23:59:59');
INSERT INTO restmon.observation VALUES ('s13', '2023-11-05 12:00', false);
INSERT INTO expected VALUES ('s13', '2023-11-06 05:00', 0.00, 0.00, 0.00, 60.00, 24.00, 25.00, 0, 1, 1);

-- s14, semantics §3: a repeated local time takes the later instant: Sunday
-- 01:30-03:00 local on Nov 5 = 06:30 (EST) - 08:00 UTC = 1.5 H.  As s12,
-- one poll long before the horizon: all downtime.
INSERT INTO restmon.store_timezone VALUES ('s14', 'America/New_York');
INSERT INTO restmon.business_hours VALUES ('s14', 6, '01:30', '03:00');
INSERT INTO restmon.observation VALUES ('s14', '2023-10-20 00:00', true);
INSERT INTO expected VALUES ('s14', '2023-11-05 09:00', 0.00, 0.00, 0.00, 0.00, 1.50, 1.50, 0, 0, 0);

-- s15, a 30-minute DST change: Australia/Lord_Howe leaves DST on Sunday
-- 2023-04-02 (+11 -> +10:30), a 24.5 H day: Apr 1 13:00 - Apr 2 13:30 UTC.
-- T = Apr 2 13:30: day 24 H, week 24.5 H (the Sunday before ended Mar 26
-- 13:00, before the week began), all nearest the one active poll.
INSERT INTO restmon.store_timezone VALUES ('s15', 'Australia/Lord_Howe');
INSERT INTO restmon.business_hours VALUES ('s15', 6, '00:00', '23:59:59');
INSERT INTO restmon.observation VALUES ('s15', '2023-04-02 00:00', true);
INSERT INTO expected VALUES ('s15', '2023-04-02 13:30', 60.00, 24.00, 24.50, 0.00, 0.00, 0.00, 0, 1, 1);

-- s16, southern hemisphere spring forward, and start = end again:
-- Australia/Sydney, Sunday 00:00-00:00 (24 H from 00:00).  Sunday
-- 2023-10-01 is 23 H long: Sep 30 14:00 - Oct 1 13:00 UTC.  T = Oct 1
-- 13:00: day 23 H; week adds Sep 24 13:00-14:00 (end of the Sunday
-- before): 24 H, all nearest the one inactive poll.
INSERT INTO restmon.store_timezone VALUES ('s16', 'Australia/Sydney');
INSERT INTO restmon.business_hours VALUES ('s16', 6, '00:00', '00:00');
INSERT INTO restmon.observation VALUES ('s16', '2023-10-01 01:00', false);
INSERT INTO expected VALUES ('s16', '2023-10-01 13:00', 0.00, 0.00, 0.00, 60.00, 23.00, 24.00, 0, 1, 1);

-- s17, semantics §5: polls outside business hours are ignored.  Monday
-- 09:00-17:00; polls 08:50 inactive and 17:10 inactive (closed: ignored),
-- 09:30 and 16:30 active.  Counted, they would take 10 min at each end.
INSERT INTO restmon.store_timezone VALUES ('s17', 'UTC');
INSERT INTO restmon.business_hours VALUES ('s17', 0, '09:00', '17:00');
INSERT INTO restmon.observation VALUES
	('s17', '2023-01-23 08:50', false), ('s17', '2023-01-23 09:30', true),
	('s17', '2023-01-23 16:30', true), ('s17', '2023-01-23 17:10', false);
INSERT INTO expected VALUES ('s17', '2023-01-23 20:00', 0.00, 8.00, 8.00, 0.00, 0.00, 0.00, 0, 2, 2);

-- s18-s25: open 24x7, T = 2023-01-25 12:00.
-- s18, semantics §5: polls after T are ignored: T-30min inactive, T+10min active
-- -> all down.
INSERT INTO restmon.observation VALUES
	('s18', '2023-01-25 11:30', false), ('s18', '2023-01-25 12:10', true);
INSERT INTO expected VALUES ('s18', '2023-01-25 12:00', 0.00, 0.00, 0.00, 60.00, 24.00, 168.00, 1, 1, 1);
-- s19, a poll exactly at T is evidence (t <= T): T-2H active, T inactive,
-- midpoint T-1H: hour down; day up 23 H, down 1 H; week up 167 H.
INSERT INTO restmon.observation VALUES
	('s19', '2023-01-25 10:00', true), ('s19', '2023-01-25 12:00', false);
INSERT INTO expected VALUES ('s19', '2023-01-25 12:00', 0.00, 23.00, 167.00, 60.00, 1.00, 1.00, 1, 2, 2);
-- s20, evidence only before the windows fills them: one poll T-30H.
INSERT INTO restmon.observation VALUES ('s20', '2023-01-24 06:00', true);
INSERT INTO expected VALUES ('s20', '2023-01-25 12:00', 60.00, 24.00, 168.00, 0.00, 0.00, 0.00, 0, 0, 1);
-- s21, the horizon is T-192H exclusive: a poll exactly at T-192H is not
-- evidence (all downtime); s22, one second later it is (all uptime).
INSERT INTO restmon.observation VALUES
	('s21', '2023-01-17 12:00:00', true), ('s22', '2023-01-17 12:00:01', true);
INSERT INTO expected VALUES
	('s21', '2023-01-25 12:00', 0.00, 0.00, 0.00, 60.00, 24.00, 168.00, 0, 0, 0),
	('s22', '2023-01-25 12:00', 60.00, 24.00, 168.00, 0.00, 0.00, 0.00, 0, 0, 0);
-- s23, a midpoint exactly on the window edge: T-70min active, T-50min
-- inactive, midpoint T-60min: the whole hour is inactive.
INSERT INTO restmon.observation VALUES
	('s23', '2023-01-25 10:50', true), ('s23', '2023-01-25 11:10', false);
INSERT INTO expected VALUES ('s23', '2023-01-25 12:00', 0.00, 23.00, 167.00, 60.00, 1.00, 1.00, 1, 2, 2);
-- s24, semantics §6 rounding, half away from zero: polls T-34H active,
-- T-11:59:24 inactive, midpoint T-22.995H: day up 1.005 H -> 1.01, down
-- 22.995 H -> 23.00; week up 145.005 H -> 145.01.
INSERT INTO restmon.observation VALUES
	('s24', '2023-01-24 02:00', true), ('s24', '2023-01-25 00:00:36', false);
INSERT INTO expected VALUES ('s24', '2023-01-25 12:00', 0.00, 1.01, 145.01, 60.00, 23.00, 23.00, 0, 1, 2);
-- s25, rounding in minutes: polls T-61min active, T-58:45 inactive,
-- midpoint T-59:52.5: hour up 7.5 s = 0.125 min -> 0.13, down 59.875 ->
-- 59.88; day up 23.0021 H -> 23.00, down 0.9979 H -> 1.00.
INSERT INTO restmon.observation VALUES
	('s25', '2023-01-25 10:59', true), ('s25', '2023-01-25 11:01:15', false);
INSERT INTO expected VALUES ('s25', '2023-01-25 12:00', 0.13, 23.00, 167.00, 59.88, 1.00, 1.00, 1, 2, 2);

-- Each store on its own, as of its T: restmon's figures and the check.
SELECT r.store_id, r.uptime_last_hour AS uh, r.uptime_last_day AS ud,
       r.uptime_last_week AS uw, r.downtime_last_hour AS dh,
       r.downtime_last_day AS dd, r.downtime_last_week AS dw,
       r.evidence_last_hour AS eh, r.evidence_last_day AS ed,
       r.evidence_last_week AS ew,
       (r.uptime_last_hour, r.uptime_last_day, r.uptime_last_week,
        r.downtime_last_hour, r.downtime_last_day, r.downtime_last_week,
        r.evidence_last_hour, r.evidence_last_day, r.evidence_last_week)
       = (e.uh, e.ud, e.uw, e.dh, e.dd, e.dw, e.eh, e.ed, e.ew) AS as_spec
FROM expected e, LATERAL restmon_store_uptime(e.as_of, e.store_id) r
ORDER BY e.store_id;

-- The session's TimeZone changes nothing (semantics §3 uses each store's zone)
SET TimeZone = 'Pacific/Chatham';
SELECT count(*) AS rows_differing_under_chatham
FROM expected e, LATERAL restmon_store_uptime(e.as_of, e.store_id) r
WHERE (r.uptime_last_hour, r.uptime_last_day, r.uptime_last_week,
       r.downtime_last_hour, r.downtime_last_day, r.downtime_last_week)
   IS DISTINCT FROM (e.uh, e.ud, e.uw, e.dh, e.dd, e.dw);
SET TimeZone = 'UTC';

-- Business intervals agree with PostgreSQL's AT TIME ZONE at the gap and
-- at the repeated hour (semantics §3)
SELECT b.opens, b.closes,
       b.opens = ('2023-03-12 02:30'::timestamp AT TIME ZONE 'America/New_York') AS gap_as_pg
FROM restmon_business_intervals('s12', '2023-03-12 00:00', '2023-03-13 00:00') b;
SELECT b.opens, b.closes,
       b.opens = ('2023-11-05 01:30'::timestamp AT TIME ZONE 'America/New_York') AS repeat_as_pg
FROM restmon_business_intervals('s14', '2023-11-05 00:00', '2023-11-06 00:00') b;

-- semantics §6: the full report as of T lists every store with a poll at or
-- before T (not s10-s16, polled later), in byte
-- order: 'Z' < '_' < 'a' whatever the locale.
INSERT INTO restmon.observation VALUES
	('alpha', '2023-01-25 11:00', true), ('Zeta', '2023-01-25 11:00', true),
	('_under', '2023-01-25 11:00', true);
SELECT string_agg(store_id, ' ') AS stores_in_order
FROM restmon_store_uptime('2023-01-25 12:00');

-- a single-store report of a store no source knows is an error
SELECT * FROM restmon_store_uptime('2023-01-25 12:00', 'nope');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- semantics §4: without as_of, T is the latest poll stored: s13's 2023-11-05 12:00
SELECT restmon_default_as_of();
SELECT count(*) AS same_as_explicit_T FROM (
	SELECT * FROM restmon_store_uptime()
	INTERSECT
	SELECT * FROM restmon_store_uptime('2023-11-05 12:00')) x;
SELECT count(*) AS stores_in_default_report FROM restmon_store_uptime();

-- semantics §5: a report as of a past T does not change when newer polls arrive
CREATE TEMP TABLE before_new AS SELECT * FROM restmon_store_uptime('2023-01-25 12:00');
INSERT INTO restmon.observation
	SELECT store_id, '2023-01-25 12:00'::timestamptz + i * interval '7 min', i % 2 = 0
	FROM restmon.store, generate_series(1, 20) i;
SELECT count(*) AS changed_rows FROM (
	(SELECT * FROM before_new EXCEPT SELECT * FROM restmon_store_uptime('2023-01-25 12:00'))
	UNION ALL
	(SELECT * FROM restmon_store_uptime('2023-01-25 12:00') EXCEPT SELECT * FROM before_new)) x;


DROP EXTENSION restmon;
