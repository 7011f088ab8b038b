--
-- restmon_report_csv_page(): a complete report's CSV (semantics §6) a page
-- at a time, as the HTTP gateway streams it.  The pages, concatenated, are
-- restmon_report_csv() byte for byte, whatever the page size; a page stops
-- at the first line that reaches max_bytes.  Runs in autocommit mode (a
-- report is computed after its request commits).
--
\set ON_ERROR_STOP 1
\i test/preamble.psql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT count(*) FROM restmon_ingest_timezones(:'fixtures' || '/loop-2024/timezones.csv');
SELECT count(*) FROM restmon_ingest_hours(:'fixtures' || '/loop-2024/menu_hours.csv');
SELECT count(*) FROM restmon_ingest_status(:'fixtures' || '/loop-2024/store_status_head_1000.csv');
\unset ON_ERROR_STOP

SELECT plan(13);

SELECT restmon_trigger_report(wait => true) AS r \gset
SELECT restmon_trigger_report(store_id => (SELECT min(store_id) FROM restmon.store),
	wait => true) AS r1 \gset

-- every page of report id with page size b, in order
CREATE FUNCTION pg_temp.pages(id text, b integer)
RETURNS TABLE (n integer, csv text, resume_after text)
LANGUAGE sql AS $$
	WITH RECURSIVE p(n, csv, resume_after) AS (
		SELECT 1, x.csv, x.resume_after
		FROM restmon_report_csv_page(id, NULL, b) x
		UNION ALL
		SELECT p.n + 1, x.csv, x.resume_after
		FROM p, restmon_report_csv_page(id, p.resume_after, b) x
		WHERE p.resume_after IS NOT NULL)
	SELECT * FROM p
$$;

SELECT is((SELECT string_agg(csv, '' ORDER BY n) FROM pg_temp.pages(:'r', 65536)),
	restmon_report_csv(:'r'), '64 KiB pages put together are the CSV, byte for byte');
SELECT is((SELECT string_agg(csv, '' ORDER BY n) FROM pg_temp.pages(:'r', 1000)),
	restmon_report_csv(:'r'), '1000-byte pages put together are the CSV');
SELECT is((SELECT string_agg(csv, '' ORDER BY n) FROM pg_temp.pages(:'r', 1)),
	restmon_report_csv(:'r'), 'one-line pages put together are the CSV');
-- the header goes with the first line: one page per store
SELECT is((SELECT count(*) FROM pg_temp.pages(:'r', 1)),
	(SELECT count(*) FROM restmon.store), 'with max_bytes 1, one page per store');
SELECT is((SELECT csv FROM pg_temp.pages(:'r', 1) WHERE n = 1),
	split_part(restmon_report_csv(:'r'), E'\n', 1) || E'\n' ||
	split_part(restmon_report_csv(:'r'), E'\n', 2) || E'\n',
	'the first page is the header and the first line');
-- a page stops at the line that reaches max_bytes: every page but the last
-- holds at least 1000 bytes, and less than 1000 plus its last line
SELECT is((SELECT count(*) FROM pg_temp.pages(:'r', 1000) p
	WHERE p.resume_after IS NOT NULL AND (octet_length(p.csv) < 1000 OR
		octet_length(p.csv) - octet_length(regexp_replace(p.csv, '[^\n]*\n$', '')) +
		1000 <= octet_length(p.csv))), 0::bigint,
	'a page ends with the first line that reaches max_bytes');
SELECT is((SELECT count(*) FROM pg_temp.pages(:'r', 1000) WHERE resume_after IS NULL),
	1::bigint, 'only the last page has no resume_after');
SELECT is((SELECT resume_after FROM pg_temp.pages(:'r', 1) WHERE n = 1),
	(SELECT min(store_id COLLATE "C") FROM restmon.store),
	'resume_after is the store_id of the page''s last line');
SELECT results_eq(format('SELECT csv, resume_after FROM restmon_report_csv_page(%L)', :'r1'),
	format('SELECT restmon_report_csv(%L), NULL::text', :'r1'),
	'a one-store report is one page with the defaults');

-- a Running report: both NULL; a Failed one and an unknown id: errors
BEGIN;
SELECT restmon_trigger_report() AS r2 \gset
SELECT results_eq(format('SELECT csv, resume_after FROM restmon_report_csv_page(%L)', :'r2'),
	$$VALUES (NULL::text, NULL::text)$$, 'a Running report has no page yet');
COMMIT;
INSERT INTO restmon.report (report_id, as_of) VALUES ('failedFAILEDfailed0007', 'infinity');
SELECT restmon_upkeep() >= 1 AS started \gset
SELECT restmon_wait_report('failedFAILEDfailed0007', '60 s') AS st \gset
SELECT throws_ok($$SELECT * FROM restmon_report_csv_page('failedFAILEDfailed0007')$$,
	'55000', NULL, 'a Failed report''s page is an error, as its CSV');
SELECT throws_ok($$SELECT * FROM restmon_report_csv_page('AAAAAAAAAAAAAAAAAAAAAA')$$,
	'P0002', NULL, 'an unknown report is 404''s P0002');
SELECT throws_ok(format('SELECT * FROM restmon_report_csv_page(%L, NULL, 0)', :'r'),
	'22023', 'max_bytes must be positive', 'max_bytes 0 is refused');

SELECT * FROM finish();
