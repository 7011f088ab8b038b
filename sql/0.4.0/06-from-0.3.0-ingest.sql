-- sql/0.4.0/06-from-0.3.0-ingest.sql: part of restmon 0.4.0's scripts
-- (Makefile), upgrade from 0.3.0 only: what 06-ingest.sql needs first (the ingestion
-- functions' old signatures dropped, the new summary column, restmon.store's
-- fillfactor).


---------------------------------------------------------------------------
-- Observation retention on by default (35 days): ingestion does not load a
-- poll older than the retention edge again, and counts it as expired
-- (src/polls.c, src/prune.c).  The summaries gain rows_expired, last.
---------------------------------------------------------------------------

ALTER TABLE restmon.ingest_run ADD COLUMN rows_expired bigint NOT NULL DEFAULT 0;

DROP FUNCTION restmon_ingest_status(text);
DROP FUNCTION restmon_ingest_hours(text);
DROP FUNCTION restmon_ingest_timezones(text);
DROP FUNCTION restmon_ingest(text);

---------------------------------------------------------------------------
-- restmon.store kept at less cost (issue 17 §4): known stores updated in
-- one join, unknown ones upserted; updates stay on their page (HOT)
---------------------------------------------------------------------------

ALTER TABLE restmon.store SET (fillfactor = 50);
