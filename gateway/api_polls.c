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
 * The poll role: this route records polls on its own connection per
 * thread, opened with --poll-dsn as a role that may only record polls
 * (restmon_grant_poll_api), apart from the report API's connection
 * (db.c), so neither role holds the other's rights.  Without --poll-dsn
 * the route answers 503.
 *
 *-------------------------------------------------------------------------
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gateway.h"

static const char *poll_conninfo = NULL;
static int	poll_timeout_ms = 30000;
static pthread_key_t poll_key;
static __thread unsigned int poll_prepared; /* statements prepared on this
											 * thread's poll connection */

/* the summary as JSON text, and whether anything in it was valid */
static const char *const record_sql[] = {
	"SELECT pg_catalog.row_to_json(r)::text, r.received = 0"
	" OR r.loaded + r.duplicate > 0"
	" FROM restmon_record_polls($1::jsonb) r",
	"SELECT pg_catalog.row_to_json(r)::text, r.received = 0"
	" OR r.loaded + r.duplicate > 0"
	" FROM restmon_record_polls_csv($1) r",
};

static void
close_poll_conn(void *p)
{
	PQfinish((PGconn *) p);
}

/* before the threads start: the poll role's conninfo (NULL: no route) */
void
polls_init(const char *conninfo, int statement_timeout_ms)
{
	poll_conninfo = conninfo;
	poll_timeout_ms = statement_timeout_ms;
	pthread_key_create(&poll_key, close_poll_conn);
}

/* this thread's poll connection, (re)opened as db_conn() does; or NULL */
static PGconn *
poll_conn(void)
{
	PGconn	   *conn = pthread_getspecific(poll_key);
	char		sql[64];

	if (conn != NULL && PQstatus(conn) == CONNECTION_OK &&
		PQconsumeInput(conn) && PQconsumeInput(conn) &&
		PQstatus(conn) == CONNECTION_OK)
		return conn;
	if (conn != NULL)
		PQfinish(conn);
	conn = PQconnectdb(poll_conninfo);
	if (PQstatus(conn) != CONNECTION_OK)
	{
		fprintf(stderr, "restmon-http: cannot connect for polls: %s",
				PQerrorMessage(conn));
		PQfinish(conn);
		pthread_setspecific(poll_key, NULL);
		return NULL;
	}
	/* an integer, not user input */
	snprintf(sql, sizeof(sql), "SET statement_timeout = %d", poll_timeout_ms);
	PQclear(PQexec(conn, sql));
	poll_prepared = 0;
	pthread_setspecific(poll_key, conn);
	return conn;
}

/* run the record call (csv: the text/csv one); its result */
static PGresult *
record_call(PGconn *conn, bool csv, const char *body, int len)
{
	const char *name = csv ? "p1" : "p0";
	const char *params[1] = {body};
	int			lengths[1] = {len};
	int			formats[1] = {0};

	if (!(poll_prepared & (1u << csv)))
	{
		PGresult   *res = PQprepare(conn, name, record_sql[csv], 1, NULL);

		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			return res;
		PQclear(res);
		poll_prepared |= 1u << csv;
	}
	return PQexecPrepared(conn, name, 1, params, lengths, formats, 0);
}

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
	PGconn	   *conn;
	PGresult   *res;
	struct MHD_Response *resp;
	unsigned int status;

	(void) param;
	if (poll_conninfo == NULL)
		return send_error(c, r, 503,
						  "recording polls is not enabled: start restmon-http with --poll-dsn",
						  NULL, NULL);
	if (kind < 0)
		return send_error(c, r, 415,
						  "the body must be application/json or text/csv",
						  NULL, NULL);
	if (r->body == NULL || r->body_len == 0)
		return send_error(c, r, 400, "the request body is empty", NULL, NULL);
	if (memchr(r->body, '\0', r->body_len) != NULL)
		return send_error(c, r, 400, "the request body holds a NUL byte",
						  "22P02", NULL);
	if ((conn = poll_conn()) == NULL)
		return send_db_unavailable(c, r);
	res = record_call(conn, kind == 1, r->body, (int) r->body_len);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return send_db_error(c, r, conn, res);
	status = strcmp(PQgetvalue(res, 0, 1), "t") == 0 ? 200 : 400;
	resp = MHD_create_response_from_buffer(PQgetlength(res, 0, 0),
										   PQgetvalue(res, 0, 0),
										   MHD_RESPMEM_MUST_COPY);
	PQclear(res);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	return send_response(c, r, status, resp);
}
