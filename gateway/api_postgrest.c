/*-------------------------------------------------------------------------
 *
 * gateway/api_postgrest.c
 *	  restmon-http's PostgREST dialect, second half: its routes, running a
 *	  checked plan through db.c, and the responses (doc/postgrest.md).
 *
 *	GET  /							the OpenAPI document (openapi.json)
 *	POST /rpc/FN					JSON object of named arguments
 *	GET  /rpc/FN?arg=value			STABLE functions only (VOLATILE: 405)
 *	GET  /reports, /report_rows		the views
 *
 * FN and the views are those of the whitelist (pgrst_api.c).  Responses
 * follow PostgREST: set results are JSON arrays of objects (or CSV, or one
 * object for application/vnd.pgrst.object+json) with Content-Range
 * "from-to/total" (total "*" without Prefer: count=exact; 206 when the page
 * is part of the total, 416 past its end); scalar results are JSON
 * scalars; errors are {"code","message","details","hint"} with PostgREST's
 * status for the SQLSTATE (pgrst_sql.c), PT404 being 404.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "postgrest.h"

/* openapi.json, as a C string (the Makefile writes openapi_json.inc) */
static const char openapi_json[] =
#include "openapi_json.inc"
		   ;

static json_object *
str_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? json_object_new_string(s) : NULL;
}

/* PostgREST's error body */
static json_object *
error_object(const char *code, const char *message, const char *details,
			 const char *hint)
{
	json_object *obj = json_object_new_object();

	json_object_object_add(obj, "code", json_object_new_string(code));
	json_object_object_add(obj, "details", str_or_null(details));
	json_object_object_add(obj, "hint", str_or_null(hint));
	json_object_object_add(obj, "message", json_object_new_string(message));
	return obj;
}

static enum MHD_Result
send_pgrst_error(struct MHD_Connection *c, Request *r, unsigned int status,
				 const char *code, const char *message, const char *details,
				 const char *hint, const char *allow)
{
	return send_json(c, r, status, error_object(code, message, details, hint),
					 allow);
}

/* an error with one more header: 416's Content-Range, 429's Retry-After */
static enum MHD_Result
send_error_header(struct MHD_Connection *c, Request *r, unsigned int status,
				  json_object *obj, const char *header, const char *value)
{
	const char *text;
	struct MHD_Response *resp;

	text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);

	resp = MHD_create_response_from_buffer(strlen(text), (void *) text,
										   MHD_RESPMEM_MUST_COPY);
	json_object_put(obj);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, header, value);
	return send_response(c, r, status, resp);
}

/* 416, with the Content-Range "*\/total" PostgREST sends with it */
static enum MHD_Result
send_range_error(struct MHD_Connection *c, Request *r, const char *cr,
				 long offset, long total)
{
	char		msg[96];

	snprintf(msg, sizeof(msg),
			 "An offset of %ld was requested, but there are only %ld rows.",
			 offset, total);
	return send_error_header(c, r, 416,
							 error_object("PGRST103",
										  "Requested range not satisfiable",
										  msg, NULL),
							 "Content-Range", cr);
}

/* 429 (PT429): over the client's trigger rate, as the seed routes say it */
static enum MHD_Result
send_pgrst_rate_limited(struct MHD_Connection *c, Request *r, int retry_after)
{
	char		secs[16];

	snprintf(secs, sizeof(secs), "%d", retry_after < 1 ? 1 : retry_after);
	return send_error_header(c, r, 429,
							 error_object("PT429",
										  "too many report triggers from this client",
										  NULL,
										  "Retry after the time in Retry-After."),
							 "Retry-After", secs);
}

static enum MHD_Result
send_plan_error(struct MHD_Connection *c, Request *r, const PgrstPlan *p)
{
	return send_pgrst_error(c, r, p->err_status, p->err_code, p->err_message,
							p->err_details, p->err_hint, NULL);
}

/* a database error, or none at all (503); clears res */
static enum MHD_Result
send_pgrst_db_error(struct MHD_Connection *c, Request *r, PGconn *conn,
					PGresult *res)
{
	const char *state = NULL;
	enum MHD_Result ret;

	if (res != NULL && (conn == NULL || PQstatus(conn) == CONNECTION_OK))
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (state == NULL)
		ret = send_pgrst_error(c, r, 503, "PGRST001",
							   "the database is not available", NULL, NULL,
							   NULL);
	else
		ret = send_pgrst_error(c, r, pgrst_http_status(state), state,
							   PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY),
							   PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL),
							   PQresultErrorField(res, PG_DIAG_MESSAGE_HINT),
							   NULL);
	PQclear(res);
	return ret;
}

static void
free_result(void *cls)
{
	PQclear((PGresult *) cls);
}

static const char *const content_types[] = {
	[FMT_JSON] = "application/json; charset=utf-8",
	[FMT_CSV] = "text/csv; charset=utf-8",
	[FMT_OBJECT] = "application/vnd.pgrst.object+json; charset=utf-8",
};

/* the range answered: status and Content-Range, as PostgREST computes them */
static unsigned int
range_status(const PgrstPlan *p, long rows, long total, char *cr, size_t size)
{
	long		lower = p->offset;
	long		upper = lower + rows - 1;
	char		tot[24] = "*";

	if (total >= 0)
		snprintf(tot, sizeof(tot), "%ld", total);
	if (total != 0 && lower <= upper)
		snprintf(cr, size, "%ld-%ld/%s", lower, upper, tot);
	else
		snprintf(cr, size, "*/%s", tot);
	if (total < 0)
		return 200;
	if (lower > total)
		return 416;
	return rows < total ? 206 : 200;
}

/* the statement's one row (count, rows, body) as the response; owns res */
static enum MHD_Result
send_rows(struct MHD_Connection *c, Request *r, const PgrstPlan *p,
		  PGresult *res)
{
	long		total = PQgetisnull(res, 0, 0) ? -1 : atol(PQgetvalue(res, 0, 0));
	long		rows = atol(PQgetvalue(res, 0, 1));
	char	   *body = PQgetvalue(res, 0, 2);
	size_t		len = (size_t) PQgetlength(res, 0, 2);
	unsigned int status = 200;
	char		cr[64] = "";
	char		msg[96];
	struct MHD_Response *resp;

	if (p->obj->kind != PGRST_SCALAR_FUNCTION)
	{
		status = range_status(p, rows, total, cr, sizeof(cr));
		if (status == 416)
		{
			PQclear(res);
			return send_range_error(c, r, cr, p->offset, total);
		}
	}
	else if (PQgetisnull(res, 0, 2) && p->format != FMT_CSV)
		body = "null", len = 4;
	if (p->format == FMT_OBJECT && p->obj->kind != PGRST_SCALAR_FUNCTION)
	{
		if (rows != 1)
		{
			PQclear(res);
			snprintf(msg, sizeof(msg), "The result contains %ld rows", rows);
			return send_pgrst_error(c, r, 406, "PGRST116",
									"JSON object requested, multiple (or no) rows returned",
									msg, NULL, NULL);
		}
		body++, len -= 2;		/* json_agg's "[" and "]" */
		status = 200;
	}
	resp = MHD_create_response_from_buffer_with_free_callback_cls(len, body,
																  free_result,
																  res);
	MHD_add_response_header(resp, "Content-Type",
							p->obj->kind == PGRST_SCALAR_FUNCTION &&
							p->format == FMT_OBJECT ?
							content_types[FMT_JSON] : content_types[p->format]);
	if (cr[0] != '\0')
		MHD_add_response_header(resp, "Content-Range", cr);
	return send_response(c, r, status, resp);
}

/* a plan checked: its statement run and answered */
static enum MHD_Result
run_plan(struct MHD_Connection *c, Request *r, PgrstPlan *p)
{
	DbConn	   *dc;
	PGresult   *err = NULL;
	PGresult   *res;
	char	   *sql;

	if ((sql = pgrst_build_sql(p)) == NULL)
		return send_pgrst_error(c, r, 500, "PGRST000", "out of memory",
								NULL, NULL, NULL);
	/* a trigger waits with triggers; every other call in the API lane */
	if ((dc = db_acquire(p->obj->limited ? LANE_TRIGGER : LANE_API)) == NULL)
	{
		free(sql);
		return send_pgrst_db_error(c, r, NULL, NULL);
	}
	res = db_query(db_pgconn(dc), sql, p->nparams, p->params, &err);
	free(sql);
	if (res == NULL)
	{
		enum MHD_Result ret = send_pgrst_db_error(c, r, db_pgconn(dc), err);

		db_release(dc);
		return ret;
	}
	db_release(dc);
	return send_rows(c, r, p, res);
}

static enum MHD_Result
send_openapi(struct MHD_Connection *c, Request *r)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(strlen(openapi_json),
										   (void *) openapi_json,
										   MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(resp, "Content-Type",
							"application/openapi+json; charset=utf-8");
	return send_response(c, r, 200, resp);
}

/* a request for a function or a view of the whitelist */
static enum MHD_Result
serve_object(struct MHD_Connection *c, Request *r, const PgrstObject *o,
			 bool post)
{
	PgrstPlan  *p = malloc(sizeof(PgrstPlan));
	const char *ctype;
	enum MHD_Result ret;

	if (p == NULL)
		return MHD_NO;
	pgrst_plan_init(p, o);
	if (!post)
		for (int i = 0; o->args[i].name != NULL; i++)
			p->arg_param[i] = -2;	/* arguments from the query string */
	ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	if (post && ctype != NULL && strncasecmp(ctype, "application/json", 16) != 0)
		pgrst_fail(p, 415, "PGRST107", NULL,
				   "The Content-Type must be application/json");
	else if (pgrst_parse_query(p, c) && pgrst_parse_headers(p, c) &&
			 (!post || pgrst_parse_body(p, r->body, r->body_len)))
		pgrst_check_args(p);
	ret = p->err_status != 0 ? send_plan_error(c, r, p) : run_plan(c, r, p);
	pgrst_plan_free(p);
	free(p);
	return ret;
}

/* the paths of the dialect: "/", "/rpc/...", and the whitelist's views */
bool
pgrst_owns(const char *url)
{
	return strcmp(url, "/") == 0 || strncmp(url, "/rpc/", 5) == 0 ||
		(url[0] == '/' && pgrst_lookup(PGRST_VIEW, url + 1) != NULL);
}

/* the lane whose workers run a call of the dialect: triggers wait apart */
DbLane
pgrst_lane(const char *url)
{
	const PgrstObject *o = NULL;

	if (strncmp(url, "/rpc/", 5) == 0)
		o = pgrst_lookup(PGRST_SET_FUNCTION, url + 5);
	return o != NULL && o->limited ? LANE_TRIGGER : LANE_API;
}

enum MHD_Result
pgrst_route(struct MHD_Connection *c, Request *r, const char *url,
			const char *method)
{
	bool		get = strcmp(method, "GET") == 0;
	bool		post = strcmp(method, "POST") == 0;
	const PgrstObject *o;
	char		msg[160];
	int			retry_after;

	if (strcmp(url, "/") == 0)
		return get ? send_openapi(c, r) :
			send_pgrst_error(c, r, 405, "PGRST117", "Unsupported HTTP method",
							 NULL, NULL, "GET");
	if (strncmp(url, "/rpc/", 5) != 0)
		return get ? serve_object(c, r, pgrst_lookup(PGRST_VIEW, url + 1),
								  false) :
			send_pgrst_error(c, r, 405, "PGRST117", "Unsupported HTTP method",
							 "restmon_api's views are read-only.", NULL, "GET");
	o = pgrst_lookup(PGRST_SET_FUNCTION, url + 5);
	if (o == NULL)
	{
		snprintf(msg, sizeof(msg), "Could not find the function %s.%.60s in the schema cache",
				 PGRST_SCHEMA, strspn(url + 5, "abcdefghijklmnopqrstuvwxyz_0123456789") ==
				 strlen(url + 5) ? url + 5 : "(?)");
		return send_pgrst_error(c, r, 404, "PGRST202", msg, NULL,
								"restmon_api's functions are listed at GET /.",
								NULL);
	}
	if (!get && !post)
		return send_pgrst_error(c, r, 405, "PGRST101",
								"For functions, only GET and POST verbs are allowed",
								NULL, NULL, "GET, POST");
	if (get && o->is_volatile)
	{
		snprintf(msg, sizeof(msg), "cannot execute %s() in a read-only transaction",
				 o->name);
		return send_pgrst_error(c, r, 405, "25006", msg, NULL,
								"It changes data: call it with POST.",
								"POST");
	}
	if (o->limited && !limits_take_trigger(c, &retry_after))
		return send_pgrst_rate_limited(c, r, retry_after);
	return serve_object(c, r, o, post);
}
