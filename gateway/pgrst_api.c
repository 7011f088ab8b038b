/*-------------------------------------------------------------------------
 *
 * gateway/pgrst_api.c
 *	  The whitelist of restmon-http's PostgREST dialect: what schema
 *	  restmon_api holds (sql/restmon--0.4.0.sql), and nothing else.
 *
 * Each entry names a view or a function of restmon_api, its kind, whether
 * it is VOLATILE (POST only), whether it returns "text/csv" (served as the
 * body), whether it triggers a report (rate-limited per client, as the
 * seed's trigger routes: limits.c), its arguments
 * (name, SQL type, whether it has no default) and its result columns; the
 * SQL the dialect runs names only these identifiers, so a request can
 * reach nothing else.  test/postgrest.sh checks this table against the
 * catalog (every restmon_api function and view, its arguments and
 * columns).  To expose a new function: add its wrapper to restmon_api in
 * the SQL scripts, grant it in restmon_grant_postgrest_api() (or the
 * poll role's grant function), then add its entry here and its paths to
 * openapi.json (doc/postgrest.md, "Adding a function").
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "postgrest.h"

/* an optional argument or a column; a required argument; the end */
#define COL(name, type)	{name, type, false}
#define REQ(name, type)	{name, type, true}
#define END				{NULL, NULL, false}

#define REPORT_FIGURES \
	COL("uptime_last_hour", "numeric"), COL("uptime_last_day", "numeric"), \
	COL("uptime_last_week", "numeric"), COL("downtime_last_hour", "numeric"), \
	COL("downtime_last_day", "numeric"), COL("downtime_last_week", "numeric")

const PgrstObject pgrst_objects[] = {
	{"restmon_trigger_report", PGRST_SCALAR_FUNCTION, true, false, true,
		{COL("as_of", "timestamptz"), COL("store_id", "text"), END},
	{END}},
	{"restmon_report_status", PGRST_SET_FUNCTION, false, false, false,
		{REQ("report_id", "text"), END},
	{COL("status", "text"), COL("error", "text"), COL("rows", "int8"), END}},
	{"restmon_get_report", PGRST_SET_FUNCTION, false, false, false,
		{REQ("report_id", "text"), END},
	{COL("status", "text"), COL("store_id", "text"), REPORT_FIGURES, END}},
	{"restmon_report_csv", PGRST_SCALAR_FUNCTION, false, true, false,
		{REQ("report_id", "text"), END},
	{END}},
	{"restmon_store_uptime", PGRST_SET_FUNCTION, false, false, false,
		{COL("as_of", "timestamptz"), COL("store_id", "text"), END},
		{COL("store_id", "text"), REPORT_FIGURES,
			COL("evidence_last_hour", "int4"), COL("evidence_last_day", "int4"),
	COL("evidence_last_week", "int4"), END}},
	{"restmon_default_as_of", PGRST_SCALAR_FUNCTION, false, false, false,
		{END},
	{END}},
	{"reports", PGRST_VIEW, false, false, false,
		{END},
		{COL("report_id", "text"), COL("status", "text"),
			COL("requested_at", "timestamptz"), COL("started_at", "timestamptz"),
			COL("finished_at", "timestamptz"), COL("as_of", "timestamptz"),
			COL("store_filter", "text"), COL("rows", "int8"),
	COL("duration", "interval"), COL("error", "text"), END}},
	{"report_rows", PGRST_VIEW, false, false, false,
		{END},
	{COL("report_id", "text"), COL("store_id", "text"), REPORT_FIGURES, END}},
	/* the web page's summaries (issue 16) */
	{"restmon_report_overview", PGRST_SET_FUNCTION, false, false, false,
		{REQ("report_id", "text"), END},
		{COL("stores", "int8"), REPORT_FIGURES,
			COL("business_time_last_hour", "numeric"),
			COL("business_time_last_day", "numeric"),
			COL("business_time_last_week", "numeric"),
			COL("up_share_last_hour", "numeric"),
			COL("up_share_last_day", "numeric"),
	COL("up_share_last_week", "numeric"), END}},
	{"restmon_report_histogram", PGRST_SET_FUNCTION, false, false, false,
		{REQ("report_id", "text"), END},
	{COL("bucket", "int4"), COL("label", "text"), COL("stores", "int8"), END}},
	{"restmon_store_hours", PGRST_SET_FUNCTION, false, false, false,
		{REQ("store_id", "text"), END},
		{COL("timezone", "text"), COL("timezone_in_file", "text"),
	COL("hours", "jsonb"), END}},
	/* the timeline and incidents (issue 14) */
	{"restmon_store_timeline", PGRST_SET_FUNCTION, false, false, false,
		{REQ("store_id", "text"), COL("as_of", "timestamptz"), END},
		{COL("starts", "timestamptz"), COL("ends", "timestamptz"),
	COL("state", "text"), COL("decided_by", "timestamptz"), END}},
	{"restmon_incidents", PGRST_SET_FUNCTION, false, false, false,
		{COL("as_of", "timestamptz"), COL("min_duration", "interval"),
		COL("store_id", "text"), END},
		{COL("store_id", "text"), COL("starts", "timestamptz"),
			COL("ends", "timestamptz"), COL("duration", "interval"),
			COL("business_duration", "interval"),
	COL("open_at_end", "bool"), END}},
	{NULL, PGRST_VIEW, false, false, false, {END}, {END}}
};

/* the entry of a view (kind PGRST_VIEW) or a function (any other), or NULL */
const PgrstObject *
pgrst_lookup(PgrstKind kind, const char *name)
{
	for (const PgrstObject *o = pgrst_objects; o->name != NULL; o++)
		if ((o->kind == PGRST_VIEW) == (kind == PGRST_VIEW) &&
			strcmp(o->name, name) == 0)
			return o;
	return NULL;
}
