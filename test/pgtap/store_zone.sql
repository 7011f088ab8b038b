--
-- restmon_store_timezone() and restmon_business_intervals(): the zone a
-- store's hours are read in (semantics §2) and its dated business
-- intervals (semantics §3.1, §3.3), both through the one lookup the report
-- uses.  Every value below is worked out by hand in the comment before it.
--
\set ON_ERROR_STOP 1
\i test/preamble.psql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
\unset ON_ERROR_STOP

SELECT plan(10);

-- z1: New York, Mondays 09:00-12:00 local.  z2: the same hours, no zone
-- row.  z3: a zone row whose name the server does not know (as if its
-- time zone data had dropped it).  Each has one poll, so each is known.
INSERT INTO restmon.store_timezone VALUES ('z1', 'America/New_York'),
	('z3', 'Mars/Olympus_Mons');
INSERT INTO restmon.business_hours VALUES ('z1', 0, '09:00', '12:00'),
	('z2', 0, '09:00', '12:00'), ('z3', 0, '09:00', '12:00');
INSERT INTO restmon.observation VALUES ('z1', '2023-01-23 15:00', true),
	('z2', '2023-01-23 15:00', true), ('z3', '2023-01-23 15:00', true);

SELECT is(restmon_store_timezone('z1'), 'America/New_York',
	'a store''s own zone (semantics §2)');
SELECT is(restmon_store_timezone('z2'), 'America/Chicago',
	'no zone row: America/Chicago (semantics §2)');
SELECT is(restmon_store_timezone('z3'), 'America/Chicago',
	'a zone name the server does not know: America/Chicago (semantics §2)');
SELECT throws_ok($$SELECT restmon_store_timezone('nobody')$$, 'P0002', NULL,
	'a store no source knows: P0002 (semantics §6.1)');

-- Monday 2023-01-23, New York in EST (UTC-5): 09:00-12:00 local is
-- 14:00-17:00 UTC.  In July (EDT, UTC-4), Monday 2023-07-24: 13:00-16:00.
SELECT results_eq($$SELECT opens, closes FROM restmon_business_intervals('z1',
		'2023-01-23 00:00+00', '2023-01-24 00:00+00')$$,
	$$VALUES ('2023-01-23 14:00+00'::timestamptz, '2023-01-23 17:00+00'::timestamptz)$$,
	'New York hours in winter, 14:00-17:00 UTC (semantics §3.3)');
SELECT results_eq($$SELECT opens, closes FROM restmon_business_intervals('z1',
		'2023-07-24 00:00+00', '2023-07-25 00:00+00')$$,
	$$VALUES ('2023-07-24 13:00+00'::timestamptz, '2023-07-24 16:00+00'::timestamptz)$$,
	'New York hours in summer, 13:00-16:00 UTC (semantics §3.3)');

-- z2 and z3 read in Chicago (CST, UTC-6): 15:00-18:00 UTC.
SELECT results_eq($$SELECT opens, closes FROM restmon_business_intervals('z2',
		'2023-01-23 00:00+00', '2023-01-24 00:00+00')$$,
	$$VALUES ('2023-01-23 15:00+00'::timestamptz, '2023-01-23 18:00+00'::timestamptz)$$,
	'no zone row: the hours are Chicago time (semantics §2)');
SELECT results_eq($$SELECT opens, closes FROM restmon_business_intervals('z3',
		'2023-01-23 00:00+00', '2023-01-24 00:00+00')$$,
	$$VALUES ('2023-01-23 15:00+00'::timestamptz, '2023-01-23 18:00+00'::timestamptz)$$,
	'an unknown zone name: the hours are Chicago time (semantics §2)');

-- The range cuts an interval: [15:30, 16:00) of z1's 14:00-17:00.
SELECT results_eq($$SELECT opens, closes FROM restmon_business_intervals('z1',
		'2023-01-23 15:30+00', '2023-01-23 16:00+00')$$,
	$$VALUES ('2023-01-23 15:30+00'::timestamptz, '2023-01-23 16:00+00'::timestamptz)$$,
	'intervals are clipped to the range asked for');

-- The PostgREST view of the same: the zone as the report reads it, and as
-- its file gave it.
SELECT results_eq($$SELECT timezone, timezone_in_file
		FROM restmon_api.restmon_store_hours('z3')$$,
	$$VALUES ('America/Chicago'::text, 'Mars/Olympus_Mons'::text)$$,
	'restmon_store_hours shows both the zone used and the one in the file');

SELECT * FROM finish();
