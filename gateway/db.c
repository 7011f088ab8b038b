/*-------------------------------------------------------------------------
 *
 * gateway/db.c
 *	  restmon-http's database side: one libpq connection per thread, the
 *	  API calls prepared once per connection, the HTTP status of an error.
 *
 * Connections are never shared between threads: each of libmicrohttpd's
 * pool threads keeps its own in thread-specific data, opens it on first
 * use, reopens it after the database went away, and closes it when the
 * thread exits.  Every call is a statement prepared once per connection
 * (named s0, s1, ...), with parameters: nothing is built with %s.
 *
 * A connection that died while idle (the database restarted) still looks
 * fine until libpq reads from it, so db_conn() reads what is pending
 * before handing it out and replaces a closed one: a restart costs the
 * first request of each thread nothing, and no call is ever sent twice.
 *
 *-------------------------------------------------------------------------
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "gateway.h"

static const char *conninfo = "";
static int	statement_timeout_ms = 30000;
static pthread_key_t conn_key;

static const char *const call_sql[] = {
	[DB_TRIGGER] = "SELECT restmon_trigger_report($1::timestamptz, $2::text)",
	[DB_STATUS] = "SELECT status, error FROM restmon_report_status($1)",
	[DB_CSV] = "SELECT restmon_report_csv($1)",
	[DB_HEALTH] = "SELECT 1",
};
static __thread unsigned int prepared;	/* on this thread's connection */

static void
close_conn(void *p)
{
	PQfinish((PGconn *) p);
}

/* before the threads start: how to connect, and the connections' key */
void
db_init(const char *info, int timeout_ms)
{
	conninfo = info;
	statement_timeout_ms = timeout_ms;
	pthread_key_create(&conn_key, close_conn);
}

/* after the threads stopped */
void
db_shutdown(void)
{
	pthread_key_delete(conn_key);
}

/* a new session: its statement timeout; nothing prepared on it yet */
static void
setup_session(PGconn *conn)
{
	char		sql[64];

	/* an integer, not user input */
	snprintf(sql, sizeof(sql), "SET statement_timeout = %d",
			 statement_timeout_ms);
	PQclear(PQexec(conn, sql));
	prepared = 0;
}

/*
 * Whether the server still holds this idle connection: what it sent (the
 * FATAL of a shutdown) is read, then the end of the stream, which is when
 * libpq marks the connection bad.
 */
static bool
conn_open(PGconn *conn)
{
	for (int i = 0; i < 2; i++)
		if (PQstatus(conn) != CONNECTION_OK || !PQconsumeInput(conn))
			return false;
	return PQstatus(conn) == CONNECTION_OK;
}

/* this thread's connection, (re)opened as needed; NULL if unreachable */
PGconn *
db_conn(void)
{
	PGconn	   *conn = pthread_getspecific(conn_key);

	/*
	 * A connection the server closed while it sat idle (a restart, an
	 * administrator) still says CONNECTION_OK until libpq reads from it: read
	 * what is pending first, so it is replaced before a call is sent on it.
	 * (A call is never sent twice: one that fails mid-way is an error, and a
	 * trigger cannot be recorded twice.)
	 */
	if (conn != NULL && conn_open(conn))
		return conn;
	if (conn != NULL)
		PQfinish(conn);
	conn = PQconnectdb(conninfo);
	if (PQstatus(conn) != CONNECTION_OK)
	{
		fprintf(stderr, "restmon-http: cannot connect: %s",
				PQerrorMessage(conn));
		PQfinish(conn);
		pthread_setspecific(conn_key, NULL);
		return NULL;
	}
	setup_session(conn);
	pthread_setspecific(conn_key, conn);
	return conn;
}

/* run a call once: prepared first on this connection if need be */
static PGresult *
call_once(PGconn *conn, DbCall call, int nparams, const char *const *params)
{
	char		name[8];
	PGresult   *res;

	snprintf(name, sizeof(name), "s%d", (int) call);
	if (!(prepared & (1u << call)))
	{
		res = PQprepare(conn, name, call_sql[call], nparams, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			return res;
		PQclear(res);
		prepared |= 1u << call;
	}
	return PQexecPrepared(conn, name, nparams, params, NULL, NULL, 0);
}

/*
 * Run an API call, preparing it first on this connection; its rows, or NULL
 * on failure with the error result in *err (the caller clears either).
 */
PGresult *
db_call(PGconn *conn, DbCall call, int nparams, const char *const *params,
		PGresult **err)
{
	PGresult   *res = call_once(conn, call, nparams, params);

	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		return res;
	*err = res;
	return NULL;
}

/* HTTP status for a SQLSTATE (NULL: no answer), after PostgREST's mapping */
unsigned int
db_http_status(const char *s)
{
	if (s == NULL)
		return 503;				/* no answer from the database */
	if (strncmp(s, "08", 2) == 0 || strncmp(s, "53", 2) == 0 ||
		strcmp(s, "57P01") == 0 || strcmp(s, "57P02") == 0 ||
		strcmp(s, "57P03") == 0)
		return 503;
	if (strcmp(s, "25006") == 0)
		return 503;				/* a standby: writes go to the primary */
	if (strcmp(s, "57014") == 0)
		return 504;				/* statement timeout */
	if (strcmp(s, "P0002") == 0)
		return 404;
	if (strcmp(s, "42501") == 0)
		return 403;
	if (strncmp(s, "22", 2) == 0 || strncmp(s, "23", 2) == 0)
		return 400;
	if (strcmp(s, "55000") == 0)
		return 409;
	return 500;
}

/* no connection to be had: 503 */
enum MHD_Result
send_db_unavailable(struct MHD_Connection *c, Request *r)
{
	return send_error(c, r, 503, "the database is not available", NULL, NULL);
}

/* an error result (or no result) as a JSON error response; clears res */
enum MHD_Result
send_db_error(struct MHD_Connection *c, Request *r, PGconn *conn, PGresult *res)
{
	const char *sqlstate = NULL;
	const char *msg = NULL;
	unsigned int status;
	enum MHD_Result ret;

	if (res != NULL)
	{
		sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	}
	if (conn != NULL && PQstatus(conn) != CONNECTION_OK)
		sqlstate = NULL;		/* the connection broke: retry later */
	status = db_http_status(sqlstate);
	if (msg == NULL)
		msg = status == 503 ?
			"the database is not available" : "database error";
	ret = send_error(c, r, status, msg, sqlstate, NULL);
	PQclear(res);
	return ret;
}

/*
 * A statement of the PostgREST dialect (api_postgrest.c), built from its
 * whitelist with every value a parameter; its rows, or NULL with the error
 * in *err, as db_call.
 */
PGresult *
db_query(PGconn *conn, const char *sql, int nparams,
		 const char *const *params, PGresult **err)
{
	PGresult   *res = PQexecParams(conn, sql, nparams, NULL, params, NULL,
								   NULL, 0);

	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		return res;
	*err = res;
	return NULL;
}
