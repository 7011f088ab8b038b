/*-------------------------------------------------------------------------
 *
 * src/sources.c
 *	  The three CSV sources of semantics §1: their usual file names, their
 *	  columns (with the accepted aliases) and the fixed statements that
 *	  stage and apply hours and time zones.
 *
 * Hours and time zones (snapshots, small) are staged in a temporary table
 * without indexes, then applied by one set-based statement per file:
 * duplicates and conflicts are found with a window over the staged rows
 * (earlier line wins).  Status polls (large, accumulating) are gathered in
 * memory instead, sorted and applied in C (polls.c).  Conflicting lines
 * come back as line numbers; their raw text is read again from the file
 * (they are rare, and no raw text is kept for the others).
 *
 * Invariants: each staging table has a fixed name, so every statement
 * here is fixed text; column 0 of every source is store_id.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"

#include "ingest_int.h"

const RmSourceDef rm_sources[RM_NUM_SOURCES] = {
	[RM_SRC_STATUS] = {
		.name = "status",
		.file_names = {"store_status.csv", "stores.csv", NULL},
		.ncols = 3,
		.cols = {
			{{"store_id", NULL}, TEXTOID},
			{{"timestamp_utc", NULL}, TIMESTAMPTZOID},
			{{"status", NULL}, BOOLOID},
		},
		/* polls are applied in C, see polls.c; no statement */
	},
	[RM_SRC_HOURS] = {
		.name = "hours",
		.file_names = {"business_hours.csv", "menu_hours.csv", NULL},
		.ncols = 4,
		.cols = {
			{{"store_id", NULL}, TEXTOID},
			{{"day", "dayOfWeek", "day_of_week", NULL}, INT2OID},
			{{"start_time_local", NULL}, TIMEOID},
			{{"end_time_local", NULL}, TIMEOID},
		},
		.stage_table = "pg_temp.restmon_stage_hours",
		.stage_sql =
		"CREATE TEMP TABLE restmon_stage_hours (line_no int8,"
		" store_id text COLLATE \"C\", day_of_week int2, start_local time,"
		" end_local time) ON COMMIT DROP",
		.truncate_sql = "TRUNCATE pg_temp.restmon_stage_hours",
		.analyze_sql = "ANALYZE pg_temp.restmon_stage_hours",
		.insert_sql =
		"INSERT INTO pg_temp.restmon_stage_hours"
		" SELECT * FROM ROWS FROM (pg_catalog.unnest($1::int8[]),"
		"  pg_catalog.unnest($2::text[]), pg_catalog.unnest($3::int2[]),"
		"  pg_catalog.unnest($4::time[]), pg_catalog.unnest($5::time[]))",
		.replace_sql = "DELETE FROM restmon.business_hours",
		.finish_sql =
		"WITH ins AS ("
		"  INSERT INTO restmon.business_hours"
		"   (store_id, day_of_week, start_local, end_local)"
		"  SELECT DISTINCT store_id, day_of_week, start_local, end_local"
		"  FROM pg_temp.restmon_stage_hours"
		"  ORDER BY 1, 2, 3, 4"
		"  RETURNING 1)"
		" SELECT (SELECT pg_catalog.count(*) FROM ins),"
		"  (SELECT pg_catalog.count(*) FROM pg_temp.restmon_stage_hours)"
		"    - (SELECT pg_catalog.count(*) FROM ins),"
		"  NULL::int8[]"
	},
	[RM_SRC_TIMEZONES] = {
		.name = "timezones",
		.file_names = {"timezones.csv", NULL, NULL},
		.ncols = 2,
		.cols = {
			{{"store_id", NULL}, TEXTOID},
			{{"timezone_str", "timezone", NULL}, TEXTOID},
		},
		.stage_table = "pg_temp.restmon_stage_timezones",
		.stage_sql =
		"CREATE TEMP TABLE restmon_stage_timezones (line_no int8,"
		" store_id text COLLATE \"C\", timezone text) ON COMMIT DROP",
		.truncate_sql = "TRUNCATE pg_temp.restmon_stage_timezones",
		.analyze_sql = "ANALYZE pg_temp.restmon_stage_timezones",
		.insert_sql =
		"INSERT INTO pg_temp.restmon_stage_timezones"
		" SELECT * FROM ROWS FROM (pg_catalog.unnest($1::int8[]),"
		"  pg_catalog.unnest($2::text[]), pg_catalog.unnest($3::text[]))",
		.replace_sql = "DELETE FROM restmon.store_timezone",
		.finish_sql =
		"WITH ranked AS ("
		"  SELECT s.*, pg_catalog.first_value(s.timezone) OVER w AS first_tz,"
		"         pg_catalog.row_number() OVER w AS rn"
		"  FROM pg_temp.restmon_stage_timezones s"
		"  WINDOW w AS (PARTITION BY s.store_id ORDER BY s.line_no)),"
		" ins AS ("
		"  INSERT INTO restmon.store_timezone (store_id, timezone)"
		"  SELECT store_id, timezone FROM ranked WHERE rn = 1"
		"  RETURNING 1)"
		" SELECT (SELECT pg_catalog.count(*) FROM ins),"
		"  pg_catalog.count(*) FILTER (WHERE rn > 1 AND timezone = first_tz),"
		"  pg_catalog.array_agg(line_no ORDER BY line_no)"
		"   FILTER (WHERE timezone <> first_tz)"
		" FROM ranked"
	},
};
