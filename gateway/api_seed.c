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
 * restmon_report_csv_etag, restmon_report_csv); the figures are the
 * database's (semantics §6 for the CSV).  A report is answered by its
 * state: Running (200 JSON), Failed (500 JSON with the error), Complete
 * (200 CSV, or 304 to a GET whose If-None-Match holds its ETag).  The
 * state and the ETag come from one call, restmon_report_csv_etag, on every
 * request: a pruned report is a 404 even when its CSV was cached.  A
 * complete CSV is stored once by the extension (restmon.report_file) and
 * never changes: it is read whole once (restmon_report_csv) and kept in
 * csv_cache.c, whose one buffer every response shares.  A CSV larger than
 * the cache is never held whole: it is read in pages of CSV_PAGE_BYTES
 * (restmon_report_csv_page, the same bytes) and each page is fetched only
 * when the client has taken the one before, sent chunked.  A connection
 * streaming such a CSV so holds at most one page (64 KiB and a line) and
 * no database connection between pages.
 *
 * Health, status polls, 304s and cached CSVs are answered on the pool
 * thread (server.c); triggers run on the trigger lane's workers, and what
 * reads a CSV from the database (whole, or a page) on the CSV lane's
 * workers (work.c), the connection suspended meanwhile.
 *
 * An as_of is checked here before any SQL: only ISO 8601 with an explicit
 * offset (Z or +hh[:mm]) is accepted, so words such as "now" or "epoch",
 * "infinity", or a time read in the gateway session's zone never reach
 * the database (semantics §4).
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
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
	DbConn	   *dc;
	const char *params[2] = {as_of, store_id};
	PGresult   *err = NULL;
	PGresult   *res;
	json_object *obj;
	enum MHD_Result ret;

	if (as_of != NULL && !iso8601_with_offset(as_of))
		return send_error(c, r, 400,
						  "as_of must be an ISO 8601 timestamp with an explicit offset, such as 2024-10-03T23:00:00Z",
						  "22007", NULL);
	if ((dc = db_acquire(LANE_TRIGGER)) == NULL)
		return send_db_unavailable(c, r);
	res = db_call(dc, DB_TRIGGER, 2, params, &err);
	if (res == NULL)
	{
		ret = send_db_error(c, r, dc, err);
		db_release(dc);
		return ret;
	}
	db_release(dc);
	obj = json_object_new_object();
	js_set_string(obj, "message", "Success");
	js_set_int(obj, "error_code", 200);
	js_set_string(obj, "report_id", PQgetvalue(res, 0, 0));
	PQclear(res);
	return send_json(c, r, 200, obj, NULL);
}

/*
 * A report that is not Complete: Running or Failed; clears res.  A Failed
 * report's error is "SQLSTATE: message" (restmon_report_status): its
 * SQLSTATE goes in sqlstate, as in every error.
 */
static enum MHD_Result
send_report_state(struct MHD_Connection *c, Request *r, const char *id,
				  PGresult *res)
{
	json_object *obj = json_object_new_object();
	unsigned int status = 200;

	if (strcmp(PQgetvalue(res, 0, 0), "Failed") == 0)
	{
		const char *error = PQgetvalue(res, 0, 1);
		char		sqlstate[6] = "XX000";

		if (strlen(error) > 7 && strspn(error, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 5 &&
			error[5] == ':' && error[6] == ' ')
			memcpy(sqlstate, error, 5);
		status = 500;
		js_set_int(obj, "error_code", 500);
		js_set_string(obj, "status", "Failed");
		js_set_string(obj, "report_id", id);
		js_set_string(obj, "message", PQgetisnull(res, 0, 1) ?
					  "the report failed" : error);
		js_set_string(obj, "sqlstate", sqlstate);
	}
	else
	{
		js_set_string(obj, "status", "Running");
		js_set_string(obj, "report_id", id);
	}
	PQclear(res);
	return send_json(c, r, status, obj, NULL);
}

/*
 * A CSV being streamed: the page in hand and how much of it was sent.  The
 * next page is fetched when libmicrohttpd asks for more and this one is
 * used up, i.e. when the client has taken it: a client that does not read
 * holds this page and no database connection.
 */
typedef struct CsvStream
{
	char		id[MAX_ID_IN_PATH + 1];
	PGresult   *page;			/* csv, resume_after */
	size_t		sent;			/* bytes of the page's csv */
	/* the next page, fetched by a worker of the CSV lane (next_page) */
	struct MHD_Connection *conn;	/* suspended meanwhile */
	WorkItem	work;
	bool		fetching;
	bool		fetched;		/* next holds it, or NULL: cut short */
	PGresult   *next;
} CsvStream;

static void
free_stream(void *cls)
{
	CsvStream  *st = cls;

	PQclear(st->page);
	PQclear(st->next);
	free(st);
}

/* page after resume_after of the page in hand, on a connection of the CSV lane */
static PGresult *
fetch_page(const char *id, const char *after)
{
	DbConn	   *dc;
	char		bytes[16];
	const char *params[3] = {id, after, bytes};
	PGresult   *err = NULL;
	PGresult   *res;

	snprintf(bytes, sizeof(bytes), "%d", CSV_PAGE_BYTES);
	if ((dc = db_acquire(LANE_CSV)) == NULL)
		return NULL;
	res = db_call(dc, DB_CSV_PAGE, 3, params, &err);
	db_release(dc);
	if (res == NULL || PQgetisnull(res, 0, 0))
	{
		/* pruned or failed meanwhile, or the database went away */
		fprintf(stderr, "restmon-http: CSV of %s cut short: %s", id,
				err != NULL ? PQresultErrorMessage(err) : "no page\n");
		PQclear(err);
		PQclear(res);
		return NULL;
	}
	return res;
}

/* on a worker of the CSV lane: the next page, then the stream resumes */
static void
next_page(void *arg)
{
	CsvStream  *st = arg;

	st->next = fetch_page(st->id, PQgetvalue(st->page, 0, 1));
	st->fetched = true;
	MHD_resume_connection(st->conn);	/* st is not touched after this */
}

/*
 * libmicrohttpd asks for up to max more bytes of the CSV.  When the page in
 * hand is used up, the next one is asked of a worker and the connection
 * suspended (0 bytes: libmicrohttpd asks again once it resumes), so the
 * pool thread never waits on the database.
 */
static ssize_t
read_stream(void *cls, uint64_t pos, char *buf, size_t max)
{
	CsvStream  *st = cls;
	size_t		len = (size_t) PQgetlength(st->page, 0, 0);

	(void) pos;
	if (st->sent == len)
	{
		if (PQgetisnull(st->page, 0, 1))
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (!st->fetching)
		{
			st->fetching = true;
			st->fetched = false;
			st->work.fn = next_page;
			st->work.arg = st;
			MHD_suspend_connection(st->conn);
			work_submit(LANE_CSV, &st->work);
			return 0;
		}
		if (!st->fetched)
			return 0;			/* not reached: suspended until fetched */
		st->fetching = false;
		if (st->next == NULL)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		PQclear(st->page);
		st->page = st->next;
		st->next = NULL;
		st->sent = 0;
		len = (size_t) PQgetlength(st->page, 0, 0);
	}
	if (max > len - st->sent)
		max = len - st->sent;
	memcpy(buf, PQgetvalue(st->page, 0, 0) + st->sent, max);
	st->sent += max;
	return (ssize_t) max;
}

static void
free_result(void *cls)
{
	PQclear((PGresult *) cls);
}

/* a CSV of one page, the response owning the libpq result */
static struct MHD_Response *
one_page_response(PGresult *res)
{
	size_t		len = (size_t) PQgetlength(res, 0, 0);
	char	   *csv = PQgetvalue(res, 0, 0);

	return MHD_create_response_from_buffer_with_free_callback_cls(len, csv,
																  free_result,
																  res);
}

/* the headers of a complete report's CSV, in a 200 or a 304 */
static void
add_csv_headers(struct MHD_Response *resp, const char *id, const char *etag)
{
	char		disposition[128];

	MHD_add_response_header(resp, "Content-Type", "text/csv; charset=utf-8");
	MHD_add_response_header(resp, "X-Report-Status", "Complete");
	/* the id was validated by the database: URL-safe characters only */
	snprintf(disposition, sizeof(disposition),
			 "attachment; filename=\"report-%s.csv\"", id);
	MHD_add_response_header(resp, "Content-Disposition", disposition);
	MHD_add_response_header(resp, "ETag", etag);
	/* the same bytes until the report is pruned: revalidate each time */
	MHD_add_response_header(resp, "Cache-Control", "no-cache");
}

/*
 * A CSV too large for the cache: streamed (chunked) a page at a time; the
 * first page is fetched now, so that an error is still an HTTP status.
 */
static struct MHD_Response *
paged_response(struct MHD_Connection *c, Request *r, const char *id,
			   enum MHD_Result *sent)
{
	DbConn	   *dc;
	char		bytes[16];
	const char *params[3] = {id, NULL, bytes};
	PGresult   *err = NULL;
	PGresult   *res;
	CsvStream  *st;

	snprintf(bytes, sizeof(bytes), "%d", CSV_PAGE_BYTES);
	if ((dc = db_acquire(LANE_CSV)) == NULL)
	{
		*sent = send_db_unavailable(c, r);
		return NULL;
	}
	if ((res = db_call(dc, DB_CSV_PAGE, 3, params, &err)) == NULL)
	{
		*sent = send_db_error(c, r, dc, err);
		db_release(dc);
		return NULL;
	}
	db_release(dc);
	if (PQgetisnull(res, 0, 1))
		return one_page_response(res);
	if ((st = calloc(1, sizeof(CsvStream))) == NULL)
	{
		PQclear(res);
		*sent = MHD_NO;
		return NULL;
	}
	snprintf(st->id, sizeof(st->id), "%s", id);
	st->page = res;
	st->conn = c;
	return MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024,
											 read_stream, st, free_stream);
}

/* a CSV the cache can hold: read whole, once, then shared (csv_cache.c) */
static struct MHD_Response *
cached_response(struct MHD_Connection *c, Request *r, const char *id,
				const char *etag, enum MHD_Result *sent)
{
	CsvEntry   *e = csv_cache_get(id, etag);
	DbConn	   *dc;
	const char *params[1] = {id};
	PGresult   *err = NULL;
	PGresult   *res;

	if (e != NULL)
		return csv_cache_response(e);
	/* this request reads it; the others for it wait (csv_cache.c) */
	if ((dc = db_acquire(LANE_CSV)) == NULL)
	{
		csv_cache_abandon(id);
		*sent = send_db_unavailable(c, r);
		return NULL;
	}
	if ((res = db_call(dc, DB_CSV, 1, params, &err)) == NULL)
	{
		csv_cache_abandon(id);
		*sent = send_db_error(c, r, dc, err);	/* pruned meanwhile: 404 */
		db_release(dc);
		return NULL;
	}
	db_release(dc);
	if ((e = csv_cache_put(id, etag, res)) == NULL)
	{
		*sent = MHD_NO;
		return NULL;
	}
	return csv_cache_response(e);
}

/* a complete report's CSV read from the database, on a worker */
static enum MHD_Result
send_csv_deferred(struct MHD_Connection *c, Request *r)
{
	struct MHD_Response *resp;
	enum MHD_Result sent = MHD_NO;

	if (r->csv_whole)
		resp = cached_response(c, r, r->param, r->etag, &sent);
	else
		resp = paged_response(c, r, r->param, &sent);
	if (resp == NULL)
		return sent;
	add_csv_headers(resp, r->param, r->etag);
	return send_response(c, r, 200, resp);
}

/*
 * A Complete report (res: restmon_report_csv_etag's row, cleared here):
 * 304 to a GET whose If-None-Match holds its ETag, else its CSV: from the
 * cache here, or read from the database (whole into the cache, or in
 * pages) by a worker of the CSV lane.
 */
static enum MHD_Result
send_report_csv(struct MHD_Connection *c, Request *r, const char *id,
				PGresult *res, bool get)
{
	char		etag[160];
	size_t		bytes = strtoull(PQgetvalue(res, 0, 3), NULL, 10);
	const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
												  MHD_HTTP_HEADER_IF_NONE_MATCH);
	struct MHD_Response *resp;
	CsvEntry   *e;

	snprintf(etag, sizeof(etag), "%s", PQgetvalue(res, 0, 2));
	PQclear(res);
	if (get && inm != NULL && csv_etag_matches(inm, etag))
	{
		/*
		 * No body.  libmicrohttpd 0.9.75 adds "Content-Length: 0" (RFC 9110
		 * wants none or the 200's; setting it gives both): clients ignore the
		 * body of a 304 whatever it says.
		 */
		resp = MHD_create_response_from_buffer(0, NULL,
											   MHD_RESPMEM_PERSISTENT);
		add_csv_headers(resp, id, etag);
		return send_response(c, r, 304, resp);
	}
	r->csv_whole = bytes + 1024 <= csv_cache_limit();
	if (r->csv_whole && (e = csv_cache_peek(id, etag)) != NULL)
	{
		resp = csv_cache_response(e);
		add_csv_headers(resp, id, etag);
		return send_response(c, r, 200, resp);
	}
	if (r->in_worker)
		return send_csv_deferred(c, r);
	if (strlen(id) >= sizeof(r->param))
		return send_error(c, r, 400, "report_id is too long", "22023", NULL);
	snprintf(r->param, sizeof(r->param), "%s", id);
	snprintf(r->etag, sizeof(r->etag), "%s", etag);
	return server_defer(c, r, LANE_CSV, send_csv_deferred);
}

static enum MHD_Result do_get_report(struct MHD_Connection *c, Request *r,
									 const char *id, bool get);

/* a status poll that met a lock, made again on a worker of the CSV lane */
static enum MHD_Result
get_report_deferred(struct MHD_Connection *c, Request *r)
{
	return do_get_report(c, r, r->param, r->get);
}

/*
 * The call failed on the pool thread because it would wait on a lock
 * (55P03: the status lane's lock_timeout, db.c): made again by a worker,
 * with the statement timeout only.  (restmon_report_csv_etag changes
 * nothing but once, in a transaction that failed: it may be made again.)
 */
static bool
met_a_lock(Request *r, PGresult *err)
{
	const char *s = err ? PQresultErrorField(err, PG_DIAG_SQLSTATE) : NULL;

	return !r->in_worker && s != NULL && strcmp(s, "55P03") == 0;
}

static enum MHD_Result
do_get_report(struct MHD_Connection *c, Request *r, const char *id, bool get)
{
	DbConn	   *dc;
	const char *params[1] = {id};
	PGresult   *err = NULL;
	PGresult   *res;
	const char *status;
	enum MHD_Result ret;

	if (id == NULL || id[0] == '\0')
		return send_error(c, r, 400, "report_id is required", "22023", NULL);
	if ((dc = db_acquire(r->in_worker ? LANE_CSV : LANE_FAST)) == NULL)
		return send_db_unavailable(c, r);
	res = db_call(dc, DB_CSV_ETAG, 1, params, &err);
	if (res == NULL && met_a_lock(r, err) && strlen(id) < sizeof(r->param))
	{
		db_release(dc);
		PQclear(err);
		snprintf(r->param, sizeof(r->param), "%s", id);
		r->get = get;
		return server_defer(c, r, LANE_CSV, get_report_deferred);
	}
	if (res == NULL)
	{
		ret = send_db_error(c, r, dc, err);
		db_release(dc);
		return ret;
	}
	db_release(dc);
	status = PQgetvalue(res, 0, 0);
	if (strcmp(status, "Running") == 0 || strcmp(status, "Failed") == 0)
		return send_report_state(c, r, id, res);
	return send_report_csv(c, r, id, res, get);
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
													 "report_id"), true);
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
		ret = do_get_report(c, r, id, false);
	json_object_put(body);
	return ret;
}

/* GET /api/health: the database answers (on a connection of its own) */
enum MHD_Result
seed_health(struct MHD_Connection *c, Request *r, const char *param)
{
	DbConn	   *dc = db_acquire(LANE_HEALTH);
	PGresult   *err = NULL;
	PGresult   *res;
	json_object *obj;
	enum MHD_Result ret;

	(void) param;
	if (dc == NULL)
		return send_db_unavailable(c, r);
	if ((res = db_call(dc, DB_HEALTH, 0, NULL, &err)) == NULL)
	{
		ret = send_db_error(c, r, dc, err);
		db_release(dc);
		return ret;
	}
	db_release(dc);
	PQclear(res);
	obj = json_object_new_object();
	js_set_string(obj, "status", "ok");
	return send_json(c, r, 200, obj, NULL);
}
