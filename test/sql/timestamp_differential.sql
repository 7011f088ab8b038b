--
-- The timestamps of store_status.csv (semantics §1) read by ingestion,
-- differentially against PostgreSQL's own timestamptz_in: tens of
-- thousands of generated strings, valid and borderline, in the
-- unambiguous ISO-like forms (year-month-day order; an explicit offset,
-- Z, UTC or no zone, read as UTC here since TimeZone = UTC).  They cover
-- the fast path of src/parse.c (two-digit fields, up to 6 fraction
-- digits, UTC forms) and the general one (everything else).  What must
-- hold, whatever else the ingestion rules refuse:
--   - every instant loaded equals txt::timestamptz;
--   - every string timestamptz_in refuses is rejected, never loaded.
-- Only counts are printed.
--
\i test/preamble.psql
\set dir :fixtures '/demo'
\set ts_file :dir '/ts_differential.csv'

-- a deterministic pseudo-random choice in [0, m) for row n and stream s
-- (md5: the same on every platform)
CREATE FUNCTION pg_temp.pick(n bigint, s int, m bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE AS
$$
	SELECT ('x' || substr(md5(n || '/' || s), 1, 12))::bit(48)::bigint % m
$$;

CREATE FUNCTION pg_temp.two(v bigint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT lpad(v::text, 2, '0') $$;

CREATE TEMP TABLE ts_gen (n int PRIMARY KEY, txt text NOT NULL);

-- 1. every month's last days, in leap and common years and at the edges
-- of the range, at the times that carry into the next day, in four zones
INSERT INTO ts_gen
SELECT row_number() OVER (), txt
FROM (SELECT lpad(y::text, 4, '0') || '-' || pg_temp.two(m) || '-' ||
             pg_temp.two(d) || ' ' || t || z AS txt
      FROM unnest(ARRAY[1, 1900, 2000, 2023, 2024, 9999]) y,
           generate_series(1, 12) m,
           generate_series(28, 31) d,
           unnest(ARRAY['00:00:00', '23:59:59.9999995', '24:00:00',
                        '23:59:60']) t,
           unnest(ARRAY['', 'Z', '+15:59', '-15:59']) z
      ORDER BY y, m, d, t, z) c;

-- 2. 36,000 strings drawn field by field, the borderline values often
INSERT INTO ts_gen
SELECT 10000 + n,
       -- year: mostly 1-2025, sometimes anything up to 9999 or a notable one
       CASE pg_temp.pick(n, 1, 8)
           WHEN 0 THEN (ARRAY['0001', '0004', '0099', '0100', '0400', '1582',
                              '1600', '1900', '1969', '1970', '1999', '2000',
                              '2001', '2020', '2023', '2024', '2100', '2400',
                              '9996', '9999'])[1 + pg_temp.pick(n, 2, 20)]
           WHEN 1 THEN lpad((1 + pg_temp.pick(n, 3, 9999))::text, 4, '0')
           ELSE lpad((1 + pg_temp.pick(n, 3, 2025))::text, 4, '0') END
       || '-' ||
       -- month: 00 or 13 sometimes, February often, sometimes one digit
       CASE pg_temp.pick(n, 4, 20)
           WHEN 0 THEN '00' WHEN 1 THEN '13'
           WHEN 2 THEN '02' WHEN 3 THEN '02' WHEN 4 THEN '02'
           WHEN 5 THEN (1 + pg_temp.pick(n, 5, 9))::text
           ELSE pg_temp.two(1 + pg_temp.pick(n, 5, 12)) END
       || '-' ||
       -- day: 00 or 32 sometimes, 28-31 often, or any
       CASE pg_temp.pick(n, 6, 16)
           WHEN 0 THEN '00' WHEN 1 THEN '32'
           WHEN 2 THEN '28' WHEN 3 THEN '29' WHEN 4 THEN '29'
           WHEN 5 THEN '30' WHEN 6 THEN '31' WHEN 7 THEN '31'
           ELSE pg_temp.two(1 + pg_temp.pick(n, 7, 31)) END
       || CASE WHEN pg_temp.pick(n, 8, 4) = 0 THEN 'T' ELSE ' ' END ||
       -- time: hour 24 or 25, minute 60, second 60 or 61 sometimes, the
       -- edges of each field often
       CASE pg_temp.pick(n, 9, 20)
           WHEN 0 THEN '24' WHEN 1 THEN '25'
           WHEN 2 THEN '23' WHEN 3 THEN '23' WHEN 4 THEN '00' WHEN 5 THEN '00'
           ELSE pg_temp.two(pg_temp.pick(n, 10, 24)) END
       || ':' ||
       CASE pg_temp.pick(n, 11, 16)
           WHEN 0 THEN '60' WHEN 1 THEN '59' WHEN 2 THEN '59'
           WHEN 3 THEN '00' WHEN 4 THEN '00'
           ELSE pg_temp.two(pg_temp.pick(n, 12, 60)) END
       || ':' ||
       CASE pg_temp.pick(n, 13, 16)
           WHEN 0 THEN '61' WHEN 1 THEN '60' WHEN 2 THEN '59' WHEN 3 THEN '59'
           WHEN 4 THEN '00'
           ELSE pg_temp.two(pg_temp.pick(n, 14, 60)) END
       ||
       -- fraction: none, 1-9 digits (all nines often: they carry), or a
       -- point without digits
       CASE WHEN f.d = 0 THEN ''
            WHEN f.d = 10 THEN '.'
            WHEN pg_temp.pick(n, 16, 3) = 0 THEN '.' || repeat('9', f.d)
            ELSE '.' || lpad(pg_temp.pick(n, 17, (10::bigint ^ f.d)::bigint)::text,
                             f.d, '0') END
       ||
       -- zone: none, UTC, Z, +00, +00:00, -00, or an offset of 0-17 hours
       CASE pg_temp.pick(n, 18, 12)
           WHEN 0 THEN '' WHEN 1 THEN ' UTC' WHEN 2 THEN 'Z'
           WHEN 3 THEN '+00' WHEN 4 THEN '+00:00' WHEN 5 THEN ' utc'
           WHEN 6 THEN '+' || pg_temp.two(pg_temp.pick(n, 19, 18))
           WHEN 7 THEN '-' || pg_temp.two(pg_temp.pick(n, 19, 18))
           WHEN 10 THEN '-00'
           ELSE (CASE WHEN pg_temp.pick(n, 20, 2) = 0 THEN '+' ELSE '-' END) ||
                pg_temp.two(pg_temp.pick(n, 19, 18)) || ':' ||
                (ARRAY['00', '00', '15', '30', '45', '59', '30', '60'])
                    [1 + pg_temp.pick(n, 21, 8)]
       END
FROM generate_series(1, 36000) n,
     LATERAL (SELECT pg_temp.pick(n, 15, 11) ::int AS d) f;

SELECT count(*) AS strings, count(DISTINCT txt) AS distinct_strings FROM ts_gen;

-- one store per string: line n + 1 of the file holds string n
COPY (SELECT 'd' || n AS store_id, 'active' AS status, txt AS timestamp_utc
      FROM ts_gen ORDER BY n)
TO :'ts_file' WITH (FORMAT csv, HEADER);

SELECT rows_read, rows_loaded + rows_duplicate + rows_rejected = rows_read
       AS every_row_counted, rows_duplicate
FROM restmon_ingest_status(:'ts_file');

-- timestamptz_in's answer for each string, NULL where it fails
CREATE FUNCTION pg_temp.try_timestamptz(s text) RETURNS timestamptz
LANGUAGE plpgsql AS
$$
BEGIN
	RETURN s::timestamptz;
EXCEPTION WHEN OTHERS THEN
	RETURN NULL;
END
$$;

CREATE TEMP TABLE ts_line AS
SELECT row_number() OVER (ORDER BY n) + 1 AS line_no, n, txt
FROM ts_gen;

CREATE TEMP TABLE ts_result AS
SELECT l.n, l.txt, pg_temp.try_timestamptz(l.txt) AS pg,
       o.observed_at AS loaded,
       EXISTS (SELECT FROM restmon.rejected r
               WHERE r.file LIKE '%/ts_differential.csv'
                 AND r.line_no = l.line_no) AS rejected
FROM ts_line l
LEFT JOIN restmon.observation o ON o.store_id = 'd' || l.n;

-- the differential: all zeros
SELECT count(*) FILTER (WHERE loaded IS NOT NULL AND loaded <> pg)
           AS loaded_differently,
       count(*) FILTER (WHERE pg IS NULL AND loaded IS NOT NULL)
           AS loaded_though_refused,
       count(*) FILTER (WHERE pg IS NULL AND NOT rejected)
           AS refused_not_rejected,
       count(*) FILTER (WHERE (loaded IS NULL) = NOT rejected)
           AS neither_or_both
FROM ts_result;

-- and the comparison means something: thousands on each side, both paths
SELECT count(*) FILTER (WHERE loaded IS NOT NULL) >= 10000 AS many_loaded,
       count(*) FILTER (WHERE pg IS NULL) >= 5000 AS many_refused,
       count(*) FILTER (WHERE loaded IS NOT NULL AND
                        txt ~ '^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d{1,6})?( UTC|Z|\+00|\+00:00)?$')
           >= 1000 AS many_fast,
       count(*) FILTER (WHERE loaded IS NOT NULL AND
                        txt !~ '^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d{1,6})?( UTC|Z|\+00|\+00:00)?$')
           >= 1000 AS many_general
FROM ts_result;

-- a few disagreements, should there be any
SELECT n, txt, pg, loaded, rejected FROM ts_result
WHERE (loaded IS NOT NULL AND loaded IS DISTINCT FROM pg)
   OR (pg IS NULL AND NOT rejected)
ORDER BY n LIMIT 10;

DROP EXTENSION restmon;
