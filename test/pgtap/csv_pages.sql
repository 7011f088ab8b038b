--
-- restmon_report_csv_page(): a complete report's CSV (semantics §6) a page
-- at a time, as the HTTP gateway streams it.  The pages, concatenated, are
-- restmon_report_csv() byte for byte, whatever the page size; a page stops
-- at the first line that reaches max_bytes.  Both read the file stored when
-- the report completed (restmon.report_file), and give the same pages as
-- the rows rendered again (a report without a file, completed before
-- 0.4.0); the file goes when the report is pruned.  Runs in autocommit mode (a
-- report is computed after its request commits).
--
\set ON_ERROR_STOP 1
\i test/preamble.psql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
\i test/loop_head.psql
\unset ON_ERROR_STOP

SELECT plan(22);

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

-- the stored file (restmon.report_file) and the rows rendered again
SELECT is(restmon_report_csv(:'r'),
	(SELECT csv FROM restmon.report_file WHERE report_id = :'r'),
	'restmon_report_csv() is the stored file');
CREATE TEMP TABLE from_file AS
	SELECT b, p.* FROM unnest(ARRAY[1, 100, 1000, 65536]) b, pg_temp.pages(:'r', b) p;
CREATE TEMP TABLE seek_file AS
	SELECT a, p.* FROM (SELECT store_id AS a FROM restmon.report_row
		WHERE report_id = :'r' UNION VALUES (''), ('0'), ('5'), ('zzz')) s,
		restmon_report_csv_page(:'r', a, 500) p;
CREATE TEMP TABLE file AS SELECT * FROM restmon.report_file WHERE report_id = :'r';
DELETE FROM restmon.report_file WHERE report_id = :'r';
SELECT is(restmon_report_csv(:'r'), (SELECT csv FROM file),
	'without its file, the CSV rendered from the rows is the same bytes');
SELECT results_eq(format($$SELECT b, p.* FROM unnest(ARRAY[1, 100, 1000, 65536]) b,
		pg_temp.pages(%L, b) p ORDER BY b, n$$, :'r'),
	'SELECT * FROM from_file ORDER BY b, n',
	'... and so are its pages of 1, 100, 1000 and 65536 bytes');
SELECT results_eq(format($$SELECT a, p.* FROM (SELECT store_id AS a FROM restmon.report_row
		WHERE report_id = %1$L UNION VALUES (''), ('0'), ('5'), ('zzz')) s,
		restmon_report_csv_page(%1$L, a, 500) p ORDER BY a COLLATE "C"$$, :'r'),
	'SELECT * FROM seek_file ORDER BY a COLLATE "C"',
	'... and the page after every store id, and after ids of no store');
SELECT is((SELECT count(*) FROM seek_file WHERE a = 'zzz' AND csv = '' AND resume_after IS NULL),
	1::bigint, 'after the last store id: an empty page, no resume_after');
SELECT is((SELECT etag FROM restmon_report_csv_etag(:'r')), (SELECT etag FROM file),
	'restmon_report_csv_etag() stores the file again, with the same ETag');
SELECT results_eq(format('SELECT etag, bytes, csv FROM restmon.report_file WHERE report_id = %L', :'r'),
	'SELECT etag, bytes, csv FROM file', '... and the same bytes');
SELECT is((SELECT attstorage FROM pg_attribute
	WHERE attrelid = 'restmon.report_file'::regclass AND attname = 'csv'), 'e',
	'the file is stored uncompressed, so a page reads a slice');
UPDATE restmon.report SET finished_at = now() - interval '30 days' WHERE report_id = :'r';
SELECT restmon_prune_reports() AS pruned \gset
SELECT is((SELECT count(*) FROM restmon.report_file WHERE report_id = :'r'), 0::bigint,
	'a pruned report''s file goes with it');

SELECT * FROM finish();
