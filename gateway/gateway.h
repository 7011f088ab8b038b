/*-------------------------------------------------------------------------
 *
 * gateway/gateway.h
 *	  restmon-http's private header: what its files share, grouped by the
 *	  file that owns it.
 *
 * restmon-http is a thin HTTP gateway over restmon's SQL API: every request
 * becomes one call of an API function; no report logic lives here.  Its
 * files form layers, each using only those below it (nothing calls back
 * up):
 *
 *	main.c		options, signals, start and stop
 *	server.c	the libmicrohttpd daemon (a pool of threads over epoll),
 *				its limits, request bodies, calls handed to workers, the
 *				access log
 *	routes.c	the routing table: path and method -> handler
 *	limits.c	the rate limit on triggers, per client address
 *	api_seed.c	the seed routes (/api/..., /store/...)
 *	api_polls.c	POST /api/polls, on the poll role's connections
 *	api_postgrest.c, postgrest.c, pgrst_sql.c, pgrst_api.c
 *				the PostgREST dialect over schema restmon_api (postgrest.h)
 *	static.c	the web page's files under /web/, and "/" for a browser
 *	csv_cache.c	complete reports' CSVs kept in memory, shared by responses
 *	work.c		the lanes' worker threads: the database calls that may
 *				wait, off the pool threads
 *	db.c		libpq connections pooled in lanes (health, status,
 *				trigger, CSV, PostgREST calls, polls), prepared API calls,
 *				reconnect, SQLSTATE -> HTTP status
 *	http.c		per-request state, JSON request bodies, responses
 *	json.c		json-c helpers, error bodies
 *
 * Built with -D_GNU_SOURCE (see the Makefile).
 *
 *-------------------------------------------------------------------------
 */
#ifndef RESTMON_GATEWAY_H
#define RESTMON_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <netinet/in.h>
#include <json-c/json.h>
#include <libpq-fe.h>
#include <microhttpd.h>

#define MAX_BODY		(16 * 1024) /* a larger request body: 413 */
#define MAX_ID_IN_PATH	256		/* a longer path parameter: 400 */
#define MAX_POLLS_BODY	(1024 * 1024)	/* POST /api/polls: a larger body, 413 */
#define CSV_PAGE_BYTES	(64 * 1024) /* a CSV is streamed in such pages */

/* ---------------------------------------------------------------------
 * json.c: json-c helpers (no HTTP)
 * ---------------------------------------------------------------------
 */
extern void js_set_string(json_object *obj, const char *key,
						  const char *value);
extern void js_set_int(json_object *obj, const char *key, int value);
extern json_object *js_error_body(unsigned int status, const char *message,
								  const char *sqlstate);
extern json_object *js_parse_object(const char *text, size_t len);
typedef enum JsMember
{
	JS_STRING,					/* a string (or absent, or null) */
	JS_NOT_STRING,
	JS_HAS_NUL					/* a string holding \u0000 */
} JsMember;
extern JsMember js_string_member(json_object *obj, const char *key,
								 const char **out);

/* ---------------------------------------------------------------------
 * http.c: one request's state and its response
 * ---------------------------------------------------------------------
 */

/* a piece of work for a lane's workers (work.c), kept in what it concerns */
typedef struct WorkItem
{
	void		(*fn) (void *arg);
	void	   *arg;
	struct WorkItem *next;		/* in its lane's queue */
} WorkItem;

struct Request;
typedef enum MHD_Result (*DeferredCall) (struct MHD_Connection *c,
										 struct Request *r);

/* per-request state, in libmicrohttpd's *req_cls (made by server.c) */
typedef struct Request
{
	char	   *body;
	size_t		body_len;
	bool		too_large;
	size_t		max_body;		/* MAX_BODY, or the route's own limit */
	struct timespec started;
	unsigned int status;		/* of the response queued, for the log */
	char		method[4 * 8 + 1];	/* as logged: 8 bytes, escaped */
	char	   *url;			/* for the access log */

	/* a call run by a lane's worker while the connection is suspended */
	DeferredCall deferred;
	struct MHD_Connection *conn;
	WorkItem	work;
	bool		in_worker;		/* send_response keeps the response: */
	struct MHD_Response *resp;	/* queued once the connection resumes */
	enum MHD_Result result;		/* the call's, when it queued nothing */
	const void *route;			/* what the deferred call serves */
	const char *path;			/* libmicrohttpd's, for the request */
	const char *verb;
	bool		csv_whole;		/* the deferred CSV: read whole, cached */
	bool		get;			/* a GET of a report (may be a 304) */
	char		param[MAX_ID_IN_PATH + 1];
	char		etag[160];
} Request;

extern enum MHD_Result send_response(struct MHD_Connection *c, Request *r,
									 unsigned int status,
									 struct MHD_Response *resp);
extern enum MHD_Result send_json(struct MHD_Connection *c, Request *r,
								 unsigned int status, json_object *obj,
								 const char *allow);
extern enum MHD_Result send_error(struct MHD_Connection *c, Request *r,
								  unsigned int status, const char *message,
								  const char *sqlstate, const char *allow);
extern json_object *request_json_body(struct MHD_Connection *c, Request *r,
									  enum MHD_Result *sent);
extern bool request_string_member(struct MHD_Connection *c, Request *r,
								  json_object *obj, const char *key,
								  const char **out, enum MHD_Result *sent);

/* ---------------------------------------------------------------------
 * db.c: the database, pools of connections in lanes
 * ---------------------------------------------------------------------
 */

/* the API calls, prepared once per connection */
typedef enum DbCall
{
	DB_TRIGGER,					/* restmon_trigger_report(as_of, store_id) */
	DB_CSV_PAGE,				/* restmon_report_csv_page(id, after, bytes) */
	DB_HEALTH,					/* SELECT 1 */
	DB_RECORD_JSON,				/* restmon_record_polls(jsonb), summary */
	DB_RECORD_CSV,				/* restmon_record_polls_csv(text), summary */
	DB_CSV_ETAG,				/* restmon_report_csv_etag(id) */
	DB_CSV						/* restmon_report_csv(id) */
} DbCall;

/* the lanes of connections, by how long their calls may take (db.c) */
typedef enum DbLane
{
	LANE_HEALTH,				/* GET /api/health */
	LANE_FAST,					/* status polls */
	LANE_TRIGGER,				/* triggers (may wait on a lock) */
	LANE_CSV,					/* pages of a CSV */
	LANE_API,					/* PostgREST calls (reads over many stores) */
	LANE_POLLS,					/* POST /api/polls, as the poll role */
	DB_NLANES
} DbLane;

typedef struct DbConn DbConn;

extern void db_init(const char *conninfo, const char *poll_conninfo,
					int statement_timeout_ms, int fast_size, int slow_size);
extern bool db_lane_enabled(DbLane lane);
extern void db_shutdown(void);
extern DbConn *db_acquire(DbLane lane);
extern void db_release(DbConn *dc);
extern PGconn *db_pgconn(DbConn *dc);
extern PGresult *db_call(DbConn *dc, DbCall call, int nparams,
						 const char *const *params, PGresult **err);
extern unsigned int db_http_status(const char *sqlstate);
extern enum MHD_Result send_db_unavailable(struct MHD_Connection *c,
										   Request *r);
extern enum MHD_Result send_db_error(struct MHD_Connection *c, Request *r,
									 DbConn *dc, PGresult *res);
extern PGresult *db_query(PGconn *conn, const char *sql, int nparams,
						  const char *const *params, PGresult **err);

/* ---------------------------------------------------------------------
 * api_seed.c: the seed routes' handlers
 * ---------------------------------------------------------------------
 */

/* a route's handler; param is the path parameter, or NULL */
typedef enum MHD_Result (*RouteHandler) (struct MHD_Connection *c,
										 Request *r, const char *param);

extern enum MHD_Result seed_trigger_body(struct MHD_Connection *c,
										 Request *r, const char *param);
extern enum MHD_Result seed_trigger_store(struct MHD_Connection *c,
										  Request *r, const char *param);
extern enum MHD_Result seed_get_report_query(struct MHD_Connection *c,
											 Request *r, const char *param);
extern enum MHD_Result seed_get_report_body(struct MHD_Connection *c,
											Request *r, const char *param);
extern enum MHD_Result seed_health(struct MHD_Connection *c, Request *r,
								   const char *param);
extern bool iso8601_with_offset(const char *s);

/* ---------------------------------------------------------------------
 * api_postgrest.c, postgrest.c: the PostgREST dialect (postgrest.h)
 * ---------------------------------------------------------------------
 */
extern bool pgrst_owns(const char *url);
extern DbLane pgrst_lane(const char *url);
extern enum MHD_Result pgrst_route(struct MHD_Connection *c, Request *r,
								   const char *url, const char *method);
extern size_t pgrst_unescape(void *cls, struct MHD_Connection *c, char *s);

/* ---------------------------------------------------------------------
 * api_polls.c: POST /api/polls, on the poll role's connections
 * ---------------------------------------------------------------------
 */
extern enum MHD_Result polls_post(struct MHD_Connection *c, Request *r,
								  const char *param);

/* ---------------------------------------------------------------------
 * limits.c: the rate limit on triggers
 * ---------------------------------------------------------------------
 */
extern void limits_init(double trigger_rate, int trigger_burst);
extern bool limits_take_trigger(struct MHD_Connection *c, int *retry_after);
extern enum MHD_Result send_rate_limited(struct MHD_Connection *c,
										 Request *r, int retry_after);

/* ---------------------------------------------------------------------
 * static.c: the web page's static files (RESTMON_WEB_ROOT: the Makefile's)
 * ---------------------------------------------------------------------
 */
extern void static_init(const char *root);
extern const char *static_web_root(void);
extern bool static_route(struct MHD_Connection *c, Request *r,
						 const char *url, const char *method,
						 enum MHD_Result *ret);

/* ---------------------------------------------------------------------
 * csv_cache.c: complete reports' CSVs in memory
 * ---------------------------------------------------------------------
 */
typedef struct CsvEntry CsvEntry;

extern void csv_cache_init(size_t max_bytes);
extern size_t csv_cache_limit(void);
extern CsvEntry *csv_cache_get(const char *id, const char *etag);
extern CsvEntry *csv_cache_peek(const char *id, const char *etag);
extern CsvEntry *csv_cache_put(const char *id, const char *etag,
							   PGresult *res);
extern void csv_cache_abandon(const char *id);
extern struct MHD_Response *csv_cache_response(CsvEntry *e);
extern bool csv_etag_matches(const char *field, const char *etag);

/* ---------------------------------------------------------------------
 * routes.c: the routing table
 * ---------------------------------------------------------------------
 */
extern enum MHD_Result route_request(struct MHD_Connection *c, Request *r,
									 const char *url, const char *method);
extern size_t route_body_limit(const char *url);

/* ---------------------------------------------------------------------
 * server.c: the daemon
 * ---------------------------------------------------------------------
 */

/* the command-line options (parsed by main.c) */
typedef struct GatewayOptions
{
	const char *conninfo;
	const char *poll_conninfo;	/* --poll-dsn: POST /api/polls; or NULL */
	int			port;
	const char *bind_addr;
	struct sockaddr_in addr;	/* bind_addr and port */
	int			threads;		/* connections of the fast lane */
	int			slow_conns;		/* of the trigger lane, and of the CSV one */
	int			max_conn;
	int			max_per_client; /* connections from one address */
	int			timeout;
	double		trigger_rate;	/* triggers a second per client; 0: off */
	int			trigger_burst;
	int			statement_timeout_ms;
	const char *web_root;		/* --web-root, or NULL: the installed copy */
	int			csv_cache_mb;	/* --csv-cache-mb: complete CSVs kept */
} GatewayOptions;

extern struct MHD_Daemon *server_start(const GatewayOptions *opts);
extern void server_stop(struct MHD_Daemon *d);
extern enum MHD_Result server_defer(struct MHD_Connection *c, Request *r,
									DbLane lane, DeferredCall call);

/* ---------------------------------------------------------------------
 * work.c: the lanes' worker threads
 * ---------------------------------------------------------------------
 */
extern bool work_start(const int *nworkers);
extern void work_submit(DbLane lane, WorkItem *w);
extern void work_stop(void);

#endif							/* RESTMON_GATEWAY_H */
