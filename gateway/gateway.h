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
 *	server.c	the libmicrohttpd daemon, per-connection limits, request
 *				bodies, the access log
 *	routes.c	the routing table: path and method -> handler
 *	limits.c	the rate limit on triggers, per client address
 *	api_seed.c	the seed routes (/api/..., /store/...)
 *	api_polls.c	POST /api/polls, on the poll role's own connection
 *	db.c		per-thread libpq connection, prepared API calls, reconnect,
 *				SQLSTATE -> HTTP status
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
extern bool js_string_member(json_object *obj, const char *key,
							 const char **out);

/* ---------------------------------------------------------------------
 * http.c: one request's state and its response
 * ---------------------------------------------------------------------
 */

/* per-request state, in libmicrohttpd's *req_cls (made by server.c) */
typedef struct Request
{
	char	   *body;
	size_t		body_len;
	bool		too_large;
	size_t		max_body;		/* MAX_BODY, or the route's own limit */
	struct timespec started;
	unsigned int status;		/* of the response queued, for the log */
	char		method[8];
	char	   *url;			/* for the access log */
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
 * db.c: the database, one connection per thread
 * ---------------------------------------------------------------------
 */

/* the API calls, prepared once per connection */
typedef enum DbCall
{
	DB_TRIGGER,					/* restmon_trigger_report(as_of, store_id) */
	DB_STATUS,					/* restmon_report_status(id) */
	DB_CSV,						/* restmon_report_csv(id) */
	DB_HEALTH					/* SELECT 1 */
} DbCall;

extern void db_init(const char *conninfo, int statement_timeout_ms);
extern void db_shutdown(void);
extern PGconn *db_conn(void);
extern PGresult *db_call(PGconn *conn, DbCall call, int nparams,
						 const char *const *params, PGresult **err);
extern unsigned int db_http_status(const char *sqlstate);
extern enum MHD_Result send_db_unavailable(struct MHD_Connection *c,
										   Request *r);
extern enum MHD_Result send_db_error(struct MHD_Connection *c, Request *r,
									 PGconn *conn, PGresult *res);

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

/* ---------------------------------------------------------------------
 * api_polls.c: POST /api/polls, on the poll role's own connection
 * ---------------------------------------------------------------------
 */
extern void polls_init(const char *conninfo, int statement_timeout_ms);
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
	int			threads;
	int			max_conn;
	int			max_per_client; /* connections from one address */
	int			timeout;
	double		trigger_rate;	/* triggers a second per client; 0: off */
	int			trigger_burst;
	int			statement_timeout_ms;
} GatewayOptions;

extern struct MHD_Daemon *server_start(const GatewayOptions *opts);
extern void server_stop(struct MHD_Daemon *d);

#endif							/* RESTMON_GATEWAY_H */
