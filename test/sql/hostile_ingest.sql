--
-- Hostile input that must cost nothing (issue 11): semantics §1.3 (what a
-- store id, a timestamp and a zone name are), §1.4 (a bad line is rejected
-- alone, with a reason), §1.7 (zone snapshots: duplicates and conflicts).
-- The files are written here, into the writable demo directory of the
-- fixture copy (test/preamble.psql), one COPY row per line.
--
\i test/preamble.psql
\set dir :fixtures '/demo'

-- ---------------------------------------------------------------------
-- semantics §1.3: a store id is 1-255 bytes of UTF-8, no space, control or
-- invisible character, not starting with = + - @.  A bad one is rejected
-- with its line (the reason quotes 32 bytes at most); every other line
-- still loads.  Before: the 2,880-byte id failed the whole file with a
-- btree "index row size" error.
-- ---------------------------------------------------------------------
\set status_ids :dir '/hostile_ids_status.csv'
COPY (VALUES ('store_id,timestamp_utc,status'),
	('good-1,2023-01-01 00:00:00,active'),
	((SELECT string_agg(md5(i::text), '') FROM generate_series(1, 90) i) || ',2023-01-01 00:00:00,active'),
	('good2,2023-01-01 00:00:00,inactive'),
	('with space,2023-01-01 00:00:00,active'),
	(E'nb\u00A0sp,2023-01-01 00:00:00,active'),
	(E'\uFEFFbom,2023-01-01 00:00:00,active'),
	(E'zero\u200Bwidth,2023-01-01 00:00:00,active'),
	(E'word\u2060joiner,2023-01-01 00:00:00,active'),
	(E'ctl\x01x,2023-01-01 00:00:00,active'),
	('=1+2,2023-01-01 00:00:00,active'),
	('+1,2023-01-01 00:00:00,active'),
	('-1,2023-01-01 00:00:00,active'),
	('@SUM(1),2023-01-01 00:00:00,active'),
	(repeat('a', 255) || ',2023-01-01 00:00:00,active'),
	(repeat('b', 256) || ',2023-01-01 00:00:00,active'),
	(E'caf\u00E9-\u00FCml\u00E4ut,2023-01-01 00:00:00,active'),
	('  trimmed  ,2023-01-01 00:00:00,active'))
TO :'status_ids';
SELECT rows_read, rows_loaded, rows_duplicate, rows_rejected, outcome
FROM restmon_ingest_status(:'status_ids');
SELECT left(store_id, 12) AS store_id, octet_length(store_id) AS bytes
FROM restmon.observation ORDER BY store_id;
SELECT line_no, reason FROM restmon.rejected_row ORDER BY line_no;

-- the same rule in the hours and time-zone files
\set hours_ids :dir '/hostile_ids_hours.csv'
COPY (VALUES ('store_id,day,start_time_local,end_time_local'),
	('good-1,0,09:00,17:00'),
	((SELECT string_agg(md5(i::text), '') FROM generate_series(1, 100) i) || ',0,09:00,17:00'),
	(E'nb\u00A0sp,0,09:00,17:00'),
	('good2,1,09:00,17:00'))
TO :'hours_ids';
SELECT rows_read, rows_loaded, rows_duplicate, rows_rejected, outcome
FROM restmon_ingest_hours(:'hours_ids');
SELECT store_id, day_of_week FROM restmon.business_hours ORDER BY 1, 2;
\set tz_ids :dir '/hostile_ids_tz.csv'
COPY (VALUES ('store_id,timezone_str'),
	('good-1,America/New_York'),
	((SELECT string_agg(md5(i::text), '') FROM generate_series(1, 150) i) || ',America/New_York'),
	('@x,America/New_York'),
	('good2,Asia/Kolkata'))
TO :'tz_ids';
SELECT rows_read, rows_loaded, rows_duplicate, rows_rejected, outcome
FROM restmon_ingest_timezones(:'tz_ids');
SELECT * FROM restmon.store_timezone ORDER BY 1;
SELECT r.source, j.line_no, j.reason
FROM restmon.rejected_row j JOIN restmon.ingest_run r USING (run_id)
WHERE r.source <> 'status' ORDER BY r.run_id, j.line_no;

-- semantics §1.3: the same rule for ids that arrive over SQL (and so over
-- HTTP): 22023 with a hint, before any lookup; a well-formed id no source
-- knows is still P0002
SELECT pg_temp.error_of(format('SELECT * FROM restmon_store_uptime(%L, %L)',
	'2023-01-02 00:00+00', repeat('x', 1000000)));
SELECT pg_temp.error_of($$SELECT * FROM restmon_store_uptime('2023-01-02 00:00+00', '=1+1')$$);
SELECT pg_temp.error_of($$SELECT * FROM restmon_store_uptime('2023-01-02 00:00+00', '')$$);
SELECT pg_temp.error_of($$SELECT * FROM restmon_business_intervals(E'good2\u00A0',
	'2023-01-02 00:00+00', '2023-01-03 00:00+00')$$);
SELECT pg_temp.error_of($$SELECT restmon_trigger_report(NULL, E'a\u200Bb')$$);
SELECT pg_temp.error_of($$SELECT restmon_trigger_report(NULL, E'a\tb')$$);
SELECT pg_temp.error_of($$SELECT * FROM restmon_store_uptime('2023-01-02 00:00+00', 'nobody')$$);
SELECT store_id, uptime_last_day FROM restmon_store_uptime('2023-01-01 01:00+00', 'good2');

-- ---------------------------------------------------------------------
-- semantics §1.3: what is loaded does not depend on the session.  Numeric
-- dates are read year first whatever DateStyle says ("1/2/2023" has no day
-- 2023: rejected); zone abbreviations ("IST" is +02 under Default, +05:30
-- under India) are refused, UTC/GMT/Z kept; no zone is UTC.  The file is
-- loaded under three settings: the second and third loads add nothing.
-- Before: "1/2/2023" was 2 January under MDY and 1 February under DMY,
-- and IST gave two instants.
-- ---------------------------------------------------------------------
\set dates :dir '/hostile_dates.csv'
COPY (VALUES ('store_id,timestamp_utc,status'),
	('d01,1/2/2023 12:00:00,active'),
	('d02,2023/01/02 12:00:00,active'),
	('d03,02-Jan-2023 13:00:00,active'),
	('d04,2023-01-02 14:00:00 IST,active'),
	('d05,2023-01-02 15:00:00 Asia/Kolkata,active'),
	('d06,2023-01-02 16:00,active'),
	('d07,2023-01-02 17:00 UTC,active'),
	('d08,Jan 2 2023 18:00:00,active'),
	('d09,2023-01-02 19:00:00 Japan,active'),
	('d10,2023-01-02 20:00:00 EST,active'),
	('d11,2023-01-02 21:00 GMT,active'),
	('d12,2023-01-02T22:00z,active'))
TO :'dates';
DELETE FROM restmon.rejected_row;
SET DateStyle = 'ISO, MDY';
SET TimeZone = 'America/New_York';
SET timezone_abbreviations = 'Default';
SELECT rows_read, rows_loaded, rows_duplicate, rows_rejected
FROM restmon_ingest_status(:'dates');
SET DateStyle = 'ISO, DMY';
SET TimeZone = 'Asia/Kolkata';
SET timezone_abbreviations = 'India';
SELECT rows_read, rows_loaded, rows_duplicate, rows_rejected
FROM restmon_ingest_status(:'dates');
SET DateStyle = 'SQL, YMD';
SET TimeZone = 'Pacific/Chatham';
RESET timezone_abbreviations;
SELECT rows_read, rows_loaded, rows_duplicate, rows_rejected
FROM restmon_ingest_status(:'dates');
SET DateStyle = 'ISO, YMD';
SET TimeZone = 'UTC';
SELECT store_id, observed_at FROM restmon.observation
WHERE store_id LIKE 'd__' ORDER BY 1, 2;
SELECT DISTINCT line_no, reason FROM restmon.rejected_row ORDER BY 1;

-- ---------------------------------------------------------------------
-- semantics §1.3, §1.7: zone names are compared without regard to case
-- and stored as pg_timezone_names spells them, so "UTC" then "utc" is a
-- duplicate; "localtime", "posixrules" and "Factory" depend on the
-- machine and are rejected.  Before: "utc" was a conflicting duplicate,
-- the three were accepted and "america/new_york" was stored as written.
-- ---------------------------------------------------------------------
\set zones :dir '/hostile_zones.csv'
COPY (VALUES ('store_id,timezone_str'),
	('z1,UTC'),
	('z1,utc'),
	('z2,localtime'),
	('z3,posixrules'),
	('z4,Factory'),
	('z5,america/new_york'),
	('z6,ASIA/KOLKATA'),
	('z6,Asia/Kolkata'),
	('z7,Etc/GMT+5'),
	('z8,Mars/Olympus_Mons'))
TO :'zones';
DELETE FROM restmon.rejected_row;
SELECT rows_read, rows_loaded, rows_duplicate, rows_rejected
FROM restmon_ingest_timezones(:'zones');
SELECT * FROM restmon.store_timezone ORDER BY 1;
SELECT line_no, reason FROM restmon.rejected_row ORDER BY line_no;
