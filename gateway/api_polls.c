/*-------------------------------------------------------------------------
 *
 * gateway/api_polls.c
 *	  restmon-http's poll route: pollers send polls as they arrive.
 *
 *	POST /api/polls		a JSON array of {"store_id", "status",
 *						"timestamp_utc"} (application/json), or a status
 *						file's text with its header (text/csv)
 *
 * One request is one call of restmon_record_polls(jsonb) or
 * restmon_record_polls_csv(text): every check and rule is the database's
 * (semantics §1.3, §1.6); the body is handed over as it came.  The answer
 * is the call's summary: 200, or 400 when nothing in the body was valid
 * (every element rejected: the reasons are in the summary), 400 with the
 * database's message for a body that is not JSON or not an array, 413
 * over MAX_POLLS_BODY bytes (routes.c, server.c), 415 for another
 * Content-Type.
 *
 * The poll role: this route records polls on connections of a lane of
 * their own (db.c, LANE_POLLS), opened with --poll-dsn as a role that may
 * only record polls (restmon_grant_poll_api), apart from the report API's
 * connections, so neither role holds the other's rights.  Without
 * --poll-dsn the route answers 503.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gateway.h"

/* the body's kind from its Content-Type: 0 JSON, 1 CSV, -1 neither */
static int
body_kind(struct MHD_Connection *c)
{
	const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
												   "Content-Type");
	size_t		len;

	if (type == NULL)
		return 0;
	len = strcspn(type, "; \t");
	if (len == strlen("application/json") &&
		strncasecmp(type, "application/json", len) == 0)
		return 0;
	if (len == strlen("text/csv") && strncasecmp(type, "text/csv", len) == 0)
		return 1;
	return -1;
}

/* POST /api/polls */
enum MHD_Result
polls_post(struct MHD_Connection *c, Request *r, const char *param)
{
	int			kind = body_kind(c);
	DbConn	   *dc;
	PGresult   *res;
	PGresult   *err = NULL;
	const char *params[1];
	struct MHD_Response *resp;
	unsigned int status;

	(void) param;
	if (!db_lane_enabled(LANE_POLLS))
		return send_error(c, r, 503,
						  "recording polls is not enabled: start restmon-http with --poll-dsn",
						  "55000", NULL);
	if (kind < 0)
		return send_error(c, r, 415,
						  "the body must be application/json or text/csv",
						  "0A000", NULL);
	if (r->body == NULL || r->body_len == 0)
		return send_error(c, r, 400, "the request body is empty", "22023",
						  NULL);
	if (memchr(r->body, '\0', r->body_len) != NULL)
		return send_error(c, r, 400, "the request body holds a NUL byte",
						  "22P02", NULL);
	if ((dc = db_acquire(LANE_POLLS)) == NULL)
		return send_db_unavailable(c, r);
	params[0] = r->body;
	res = db_call(dc, kind == 1 ? DB_RECORD_CSV : DB_RECORD_JSON, 1, params,
				  &err);
	if (res == NULL)
	{
		enum MHD_Result ret = send_db_error(c, r, dc, err);

		db_release(dc);
		return ret;
	}
	db_release(dc);
	status = strcmp(PQgetvalue(res, 0, 1), "t") == 0 ? 200 : 400;
	resp = MHD_create_response_from_buffer(PQgetlength(res, 0, 0),
										   PQgetvalue(res, 0, 0),
										   MHD_RESPMEM_MUST_COPY);
	PQclear(res);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	return send_response(c, r, status, resp);
}
