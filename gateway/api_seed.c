/*-------------------------------------------------------------------------
 *
 * gateway/api_seed.c
 *	  restmon-http's seed routes: triggering a report and fetching it, in
 *	  the two shapes clients use, and a health check.
 *
 *	POST /api/trigger_report			[{"store_id": "...", "as_of": "..."}]
 *	GET  /api/get_report?report_id=ID
 *	GET  /store/STORE_ID/trigger_report/[?as_of=...]
 *	POST /store/get_report/				{"report_id": "..."}
 *	GET  /api/health
 *
 * Each request is one call of restmon's SQL API (restmon_trigger_report,
 * restmon_report_status, restmon_report_csv); the figures are the
 * database's (semantics §6 for the CSV).  A report is answered by its
 * state: Running (200 JSON), Failed (500 JSON with the error), Complete
 * (200 CSV, served from the libpq result without a copy).
 *
 * An as_of is checked here before any SQL: only ISO 8601 with an explicit
 * offset (Z or +hh[:mm]) is accepted, so words such as "now" or "epoch",
 * "infinity", or a time read in the gateway session's zone never reach
 * the database (semantics §4).
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "gateway.h"

/* n ASCII digits at *p, advancing it */
static bool
digits(const char **p, int n)
{
	for (int i = 0; i < n; i++, (*p)++)
		if (**p < '0' || **p > '9')
			return false;
	return true;
}

/*
 * YYYY-MM-DD(T| )hh:mm[:ss[.f+]](Z|+hh[:mm]|-hh[:mm]|+hhmm|-hhmm): ISO 8601
 * with an explicit offset; the database checks that the fields are a real
 * date and the instant is in range.
 */
bool
iso8601_with_offset(const char *s)
{
	const char *p = s;

	if (!digits(&p, 4) || *p++ != '-' || !digits(&p, 2) || *p++ != '-' ||
		!digits(&p, 2) || (*p != 'T' && *p != 't' && *p != ' '))
		return false;
	p++;
	if (!digits(&p, 2) || *p++ != ':' || !digits(&p, 2))
		return false;
	if (*p == ':')
	{
		p++;
		if (!digits(&p, 2))
			return false;
		if (*p == '.' || *p == ',')
		{
			p++;
			if (!digits(&p, 1))
				return false;
			while (*p >= '0' && *p <= '9')
				p++;
		}
	}
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
		return true;
	if (*p != '+' && *p != '-')
		return false;
	p++;
	if (!digits(&p, 2))
		return false;
	if (*p == ':')
		p++;
	if (*p != '\0' && !digits(&p, 2))
		return false;
	return *p == '\0';
}

static enum MHD_Result
do_trigger(struct MHD_Connection *c, Request *r, const char *store_id,
		   const char *as_of)
{
	PGconn	   *conn;
	const char *params[2] = {as_of, store_id};
	PGresult   *err = NULL;
	PGresult   *res;
	json_object *obj;

	if (as_of != NULL && !iso8601_with_offset(as_of))
		return send_error(c, r, 400,
						  "as_of must be an ISO 8601 timestamp with an explicit offset, such as 2024-10-03T23:00:00Z",
						  "22007", NULL);
	if ((conn = db_conn()) == NULL)
		return send_db_unavailable(c, r);
	res = db_call(conn, DB_TRIGGER, 2, params, &err);
	if (res == NULL)
		return send_db_error(c, r, conn, err);
	obj = json_object_new_object();
	js_set_string(obj, "message", "Success");
	js_set_int(obj, "error_code", 200);
	js_set_string(obj, "report_id", PQgetvalue(res, 0, 0));
	PQclear(res);
	return send_json(c, r, 200, obj, NULL);
}

/* a report that is not Complete: Running or Failed; clears res */
static enum MHD_Result
send_report_state(struct MHD_Connection *c, Request *r, const char *id,
				  PGresult *res)
{
	json_object *obj = json_object_new_object();
	unsigned int status = 200;

	if (strcmp(PQgetvalue(res, 0, 0), "Failed") == 0)
	{
		status = 500;
		js_set_int(obj, "error_code", 500);
		js_set_string(obj, "status", "Failed");
		js_set_string(obj, "report_id", id);
		js_set_string(obj, "message", PQgetisnull(res, 0, 1) ?
					  "the report failed" : PQgetvalue(res, 0, 1));
	}
	else
	{
		js_set_string(obj, "status", "Running");
		js_set_string(obj, "report_id", id);
	}
	PQclear(res);
	return send_json(c, r, status, obj, NULL);
}

static void
free_result(void *cls)
{
	PQclear((PGresult *) cls);
}

/* a Complete report: its CSV, the response owning the libpq result */
static enum MHD_Result
send_report_csv(struct MHD_Connection *c, Request *r, PGconn *conn,
				const char *id)
{
	const char *params[1] = {id};
	PGresult   *err = NULL;
	PGresult   *res;
	struct MHD_Response *resp;
	char		disposition[128];
	size_t		csv_len;
	char	   *csv;

	res = db_call(conn, DB_CSV, 1, params, &err);
	if (res == NULL)
		return send_db_error(c, r, conn, err);
	csv_len = (size_t) PQgetlength(res, 0, 0);
	csv = PQgetvalue(res, 0, 0);
	resp = MHD_create_response_from_buffer_with_free_callback_cls(csv_len, csv,
																  free_result,
																  res);
	MHD_add_response_header(resp, "Content-Type", "text/csv; charset=utf-8");
	MHD_add_response_header(resp, "X-Report-Status", "Complete");
	/* the id was validated by the database: URL-safe characters only */
	snprintf(disposition, sizeof(disposition),
			 "attachment; filename=\"report-%s.csv\"", id);
	MHD_add_response_header(resp, "Content-Disposition", disposition);
	return send_response(c, r, 200, resp);
}

static enum MHD_Result
do_get_report(struct MHD_Connection *c, Request *r, const char *id)
{
	PGconn	   *conn;
	const char *params[1] = {id};
	PGresult   *err = NULL;
	PGresult   *res;
	const char *status;

	if (id == NULL || id[0] == '\0')
		return send_error(c, r, 400, "report_id is required", NULL, NULL);
	if ((conn = db_conn()) == NULL)
		return send_db_unavailable(c, r);

	res = db_call(conn, DB_STATUS, 1, params, &err);
	if (res == NULL)
		return send_db_error(c, r, conn, err);
	status = PQgetvalue(res, 0, 0);
	if (strcmp(status, "Running") == 0 || strcmp(status, "Failed") == 0)
		return send_report_state(c, r, id, res);
	PQclear(res);
	return send_report_csv(c, r, conn, id);
}

/* POST /api/trigger_report: optional store_id and as_of in the body */
enum MHD_Result
seed_trigger_body(struct MHD_Connection *c, Request *r, const char *param)
{
	enum MHD_Result ret = MHD_NO;
	json_object *body;
	const char *store_id,
			   *as_of;

	(void) param;
	if ((body = request_json_body(c, r, &ret)) == NULL)
		return ret;
	if (request_string_member(c, r, body, "store_id", &store_id, &ret) &&
		request_string_member(c, r, body, "as_of", &as_of, &ret))
		ret = do_trigger(c, r, store_id, as_of);
	json_object_put(body);
	return ret;
}

/* GET /store/STORE_ID/trigger_report/[?as_of=...] */
enum MHD_Result
seed_trigger_store(struct MHD_Connection *c, Request *r, const char *param)
{
	return do_trigger(c, r, param,
					  MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
												  "as_of"));
}

/* GET /api/get_report?report_id=ID */
enum MHD_Result
seed_get_report_query(struct MHD_Connection *c, Request *r, const char *param)
{
	(void) param;
	return do_get_report(c, r,
						 MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
													 "report_id"));
}

/* POST /store/get_report/ with report_id in the body */
enum MHD_Result
seed_get_report_body(struct MHD_Connection *c, Request *r, const char *param)
{
	enum MHD_Result ret = MHD_NO;
	json_object *body;
	const char *id;

	(void) param;
	if ((body = request_json_body(c, r, &ret)) == NULL)
		return ret;
	if (request_string_member(c, r, body, "report_id", &id, &ret))
		ret = do_get_report(c, r, id);
	json_object_put(body);
	return ret;
}

/* GET /api/health: the database answers */
enum MHD_Result
seed_health(struct MHD_Connection *c, Request *r, const char *param)
{
	PGconn	   *conn = db_conn();
	PGresult   *err = NULL;
	PGresult   *res;
	json_object *obj;

	(void) param;
	if (conn == NULL)
		return send_db_unavailable(c, r);
	if ((res = db_call(conn, DB_HEALTH, 0, NULL, &err)) == NULL)
		return send_db_error(c, r, conn, err);
	PQclear(res);
	obj = json_object_new_object();
	js_set_string(obj, "status", "ok");
	return send_json(c, r, 200, obj, NULL);
}
