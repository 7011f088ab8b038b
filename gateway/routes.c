/*-------------------------------------------------------------------------
 *
 * gateway/routes.c
 *	  restmon-http's routing table: a request's path and method -> its
 *	  handler.
 *
 * A route's path is matched to the letter, except for at most one
 * "{name}" segment, which matches a non-empty run of characters other than
 * '/' and is handed to the handler as its parameter (at most
 * MAX_ID_IN_PATH bytes, else 400 "name is too long").  A route may take
 * one trailing slash or not.  The first route whose path and method match
 * wins; a path that matches with another method only is a 405 that names
 * the methods it has in Allow; no path at all, 404.  No normalisation:
 * "/../" is just characters.  The web page's files (and "/" asked for by a
 * browser) are static.c's, looked at before the table.
 *
 * A route names the query parameter it reads; any other one, or that one
 * given twice or without a value, is a 400: a parameter is never silently
 * ignored.  The routes that trigger a report are rate-limited per client
 * (limits.c): 429 with Retry-After once the client's bucket is empty.
 *
 * A route's handler runs on the pool thread (ON_POOL: it never waits
 * but on a status poll's or health's own call) or on a worker of the lane
 * its calls wait in (server_defer); so do the PostgREST dialect's calls
 * (pgrst_lane).  The checks above are made on the pool thread first.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "gateway.h"

typedef struct Route
{
	const char *method;
	const char *path;			/* without a trailing slash */
	bool		slash_optional; /* path + "/" matches too */
	RouteHandler handler;
	const char *query;			/* the query parameter it reads, or NULL */
	bool		limited;		/* a trigger: rate-limited per client */
	int			lane;			/* its workers' (a DbLane), or ON_POOL */
} Route;

#define ON_POOL		(-1)		/* answered on the pool thread (server.c) */

static const Route routes[] = {
	{"POST", "/api/trigger_report", false, seed_trigger_body, NULL, true,
	LANE_TRIGGER},
	{"GET", "/api/get_report", false, seed_get_report_query, "report_id",
	false, ON_POOL},
	{"GET", "/api/health", false, seed_health, NULL, false, ON_POOL},
	{"POST", "/store/get_report", true, seed_get_report_body, NULL, false,
	ON_POOL},
	{"GET", "/store/{store_id}/trigger_report", true, seed_trigger_store,
	"as_of", true, LANE_TRIGGER},
	{"POST", "/api/polls", false, polls_post, NULL, false, LANE_POLLS},
};

/* the largest request body a path takes: MAX_BODY, but polls come in batches */
size_t
route_body_limit(const char *url)
{
	return strcmp(url, "/api/polls") == 0 ? MAX_POLLS_BODY : MAX_BODY;
}

/* the characters of a parameter name an error message may echo */
#define NAME_CHARS \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"

/* the query parameters of a request, checked against its route's */
typedef struct QueryCheck
{
	const char *allowed;
	int			seen;			/* times the allowed one appeared */
	char		msg[96];		/* the first problem, or "" */
} QueryCheck;

static enum MHD_Result
check_query_param(void *cls, enum MHD_ValueKind kind, const char *key,
				  const char *value)
{
	QueryCheck *q = cls;

	(void) kind;
	if (q->allowed != NULL && strcmp(key, q->allowed) == 0 && value != NULL &&
		q->seen++ == 0)
		return MHD_YES;
	if (q->allowed != NULL && strcmp(key, q->allowed) == 0)
		snprintf(q->msg, sizeof(q->msg), value == NULL ?
				 "query parameter %s has no value" :
				 "query parameter %s is given twice", q->allowed);
	else if (strlen(key) <= 40 && strspn(key, NAME_CHARS) == strlen(key))
		snprintf(q->msg, sizeof(q->msg), "unknown query parameter \"%s\"",
				 key);
	else
		snprintf(q->msg, sizeof(q->msg), "unknown query parameter");
	return MHD_NO;
}

/* a path parameter: where it stands in the URL, and its name */
typedef struct PathParam
{
	const char *start;
	size_t		len;
	const char *name;			/* in the route's path, up to '}' */
	size_t		name_len;
} PathParam;

/* does url match the route's path? (sets *param if it has one) */
static bool
path_matches(const Route *route, const char *url, PathParam *param)
{
	const char *p = route->path;

	param->start = NULL;
	while (*p != '\0')
	{
		if (*p == '{')
		{
			const char *close = strchr(p, '}');

			param->name = p + 1;
			param->name_len = (size_t) (close - p - 1);
			param->start = url;
			param->len = strcspn(url, "/");
			if (param->len == 0)
				return false;
			url += param->len;
			p = close + 1;
			continue;
		}
		if (*p++ != *url++)
			return false;
	}
	return *url == '\0' || (route->slash_optional && strcmp(url, "/") == 0);
}

/* a route's handler, on a worker of its lane (server_defer) */
static enum MHD_Result
run_route(struct MHD_Connection *c, Request *r)
{
	const Route *route = r->route;

	return route->handler(c, r, strchr(route->path, '{') ? r->param : NULL);
}

/* the PostgREST dialect's call, on a worker of its lane */
static enum MHD_Result
run_pgrst(struct MHD_Connection *c, Request *r)
{
	return pgrst_route(c, r, r->path, r->verb);
}

/* the route's handler, with its path parameter (if any) checked and copied */
static enum MHD_Result
call_route(struct MHD_Connection *c, Request *r, const Route *route,
		   const PathParam *param)
{
	char		msg[96];
	QueryCheck	q = {route->query, 0, ""};
	int			retry_after;

	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, check_query_param, &q);
	if (q.msg[0] != '\0')
		return send_error(c, r, 400, q.msg, "22023", NULL);
	if (route->limited && !limits_take_trigger(c, &retry_after))
		return send_rate_limited(c, r, retry_after);
	if (param->start != NULL && param->len > MAX_ID_IN_PATH)
	{
		snprintf(msg, sizeof(msg), "%.*s is too long",
				 (int) param->name_len, param->name);
		return send_error(c, r, 400, msg, "22023", NULL);
	}
	if (param->start != NULL)
	{
		memcpy(r->param, param->start, param->len);
		r->param[param->len] = '\0';
	}
	if (route->lane != ON_POOL)
	{
		r->route = route;
		return server_defer(c, r, (DbLane) route->lane, run_route);
	}
	return route->handler(c, r, param->start != NULL ? r->param : NULL);
}

enum MHD_Result
route_request(struct MHD_Connection *c, Request *r, const char *url,
			  const char *method)
{
	char		allow[64] = "";
	char		msg[80];
	PathParam	param;
	size_t		i;
	enum MHD_Result ret;

	if (static_route(c, r, url, method, &ret))
		return ret;
	/* the PostgREST dialect's paths (api_postgrest.c) */
	if (pgrst_owns(url))
	{
		r->path = url;
		r->verb = method;
		return server_defer(c, r, pgrst_lane(url), run_pgrst);
	}
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
	{
		if (!path_matches(&routes[i], url, &param))
			continue;
		if (strcmp(method, routes[i].method) == 0)
			return call_route(c, r, &routes[i], &param);
		if (strstr(allow, routes[i].method) == NULL)
			snprintf(allow + strlen(allow), sizeof(allow) - strlen(allow),
					 "%s%s", allow[0] ? ", " : "", routes[i].method);
	}
	if (allow[0] != '\0')
	{
		snprintf(msg, sizeof(msg), "use %s", allow);
		return send_error(c, r, 405, msg, "0A000", allow);
	}
	return send_error(c, r, 404, "no such endpoint", "42883", NULL);
}
