/*-------------------------------------------------------------------------
 *
 * gateway/db.c
 *	  restmon-http's database side: pools of libpq connections in lanes,
 *	  the API calls prepared once per connection, the HTTP status of an
 *	  error.
 *
 * A request borrows a database connection for one call at a time:
 * db_acquire() hands out an idle connection of a lane, or opens a new one
 * while the lane is under its size, or waits for one to come back
 * (db_release()).  Who calls: libmicrohttpd's pool threads (server.c) for
 * health and status polls, whose lanes have a connection per pool thread
 * (health: one, its calls are short), so they never wait; the lanes'
 * workers (work.c) for everything else, a worker per connection of its
 * lane.  The calls are sorted into lanes by what they do, so that a call
 * that waits never waits in front of another kind:
 *
 *	LANE_HEALTH		one connection, for GET /api/health (SELECT 1) only
 *	LANE_FAST		--threads connections, one kept by each pool thread (no
 *					lock on the way to it): status polls
 *					(restmon_report_csv_etag: a report's state and its CSV's
 *					ETag, read by key; once, for a report completed before
 *					0.4.0, it also stores that report's CSV)
 *	LANE_TRIGGER	--slow-connections connections: triggers, which insert
 *					into restmon.report and so wait behind any lock on it
 *	LANE_CSV		--slow-connections connections: pages of a CSV
 *					(restmon_report_csv_page), a few milliseconds each
 *	LANE_API		--threads connections: the PostgREST dialect's calls
 *					(api_postgrest.c), which may compute every store
 *	LANE_POLLS		--threads connections opened with --poll-dsn, as the
 *					poll role: POST /api/polls (none without --poll-dsn)
 *
 * The status lane's sessions have a lock_timeout of
 * FAST_LOCK_TIMEOUT: a status poll that meets a lock that blocks reads
 * (`LOCK restmon.report`, ACCESS EXCLUSIVE) fails at once with 55P03 and
 * is made again by a worker of the CSV lane (api_seed.c), so the pool
 * threads, and health, go on.
 *
 * Two triggers blocked behind `LOCK restmon.report IN SHARE MODE` hold two
 * trigger connections; health, status polls and CSV pages go on on their
 * own.  A connection is held for one call, never while a client is slow
 * to read: a CSV is streamed a page at a time, each page fetched on a
 * borrowed connection when the client has taken the previous one
 * (api_seed.c).  A lane is a mutex and a condition variable; a request
 * waiting for a connection waits only behind calls of its kind.
 *
 * Every call is a statement prepared once per connection (named s0,
 * s1, ...), with parameters: nothing is built with %s.  A connection that
 * died while idle (the database restarted) still looks fine until libpq
 * reads from it, so db_acquire() reads what is pending before handing it
 * out and replaces a closed one: a restart costs the first request
 * nothing, and no call is ever sent twice.
 *
 *-------------------------------------------------------------------------
 */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"

#define CppAsString(x)	#x
#define CppAsString2(x) CppAsString(x)
#define FAST_LOCK_TIMEOUT 10	/* ms; then 55P03, and the call is retried on
								 * a worker (api_seed.c) */

/* a pooled connection */
struct DbConn
{
	PGconn	   *conn;			/* NULL until opened */
	unsigned int prepared;		/* bit per DbCall prepared on it */
	DbLane		lane;
	struct DbConn *next;		/* in its lane's idle or kept list */
};

typedef struct Lane
{
	pthread_mutex_t lock;
	pthread_cond_t returned;	/* a connection came back or was dropped */
	DbConn	   *idle;
	DbConn	   *kept;			/* LANE_FAST: kept by their serving threads */
	int			count;			/* connections of the lane, idle or lent */
	int			size;			/* at most */
} Lane;

static const char *conninfo = "";
static const char *poll_conninfo = NULL;	/* LANE_POLLS: --poll-dsn */
static int	statement_timeout_ms = 30000;
static Lane lanes[DB_NLANES];

/*
 * A serving thread's own status connection (LANE_FAST has one per serving
 * thread, and only serving threads use it): taken once, then kept, so a
 * status poll takes no lock.
 */
static __thread DbConn *own_fast = NULL;

static const char *const call_sql[] = {
	[DB_TRIGGER] = "SELECT restmon_trigger_report($1::timestamptz, $2::text)",
	[DB_CSV_PAGE] = "SELECT csv, resume_after"
	" FROM restmon_report_csv_page($1, $2, $3::integer)",
	[DB_HEALTH] = "SELECT 1",
	/* the summary as JSON text, and whether anything in it was valid */
	[DB_RECORD_JSON] = "SELECT pg_catalog.row_to_json(r)::text, r.received = 0"
	" OR r.loaded + r.duplicate + r.expired > 0"
	" FROM restmon_record_polls($1::jsonb) r",
	[DB_RECORD_CSV] = "SELECT pg_catalog.row_to_json(r)::text, r.received = 0"
	" OR r.loaded + r.duplicate + r.expired > 0"
	" FROM restmon_record_polls_csv($1) r",
	/* a report's state and its CSV's ETag; a complete CSV whole */
	[DB_CSV_ETAG] = "SELECT status, error, etag, bytes"
	" FROM restmon_report_csv_etag($1)",
	[DB_CSV] = "SELECT restmon_report_csv($1)",
};

/* before the threads start: how to connect, and each lane's size */
void
db_init(const char *info, const char *poll_info, int timeout_ms,
		int fast_size, int slow_size)
{
	conninfo = info;
	poll_conninfo = poll_info;
	statement_timeout_ms = timeout_ms;
	for (int i = 0; i < DB_NLANES; i++)
	{
		pthread_mutex_init(&lanes[i].lock, NULL);
		pthread_cond_init(&lanes[i].returned, NULL);
	}
	lanes[LANE_HEALTH].size = 1;
	lanes[LANE_FAST].size = fast_size;
	lanes[LANE_TRIGGER].size = slow_size;
	lanes[LANE_CSV].size = slow_size;
	lanes[LANE_API].size = fast_size;
	lanes[LANE_POLLS].size = poll_info != NULL ? fast_size : 0;
}

/* whether a lane has connections at all (LANE_POLLS: --poll-dsn given) */
bool
db_lane_enabled(DbLane lane)
{
	return lanes[lane].size > 0;
}

/* after the threads stopped: every connection is idle, close them */
void
db_shutdown(void)
{
	for (int i = 0; i < DB_NLANES; i++)
	{
		DbConn	  **lists[2] = {&lanes[i].idle, &lanes[i].kept};

		for (int k = 0; k < 2; k++)
		{
			while (*lists[k] != NULL)
			{
				DbConn	   *dc = *lists[k];

				*lists[k] = dc->next;
				if (dc->conn != NULL)
					PQfinish(dc->conn);
				free(dc);
			}
		}
	}
}

/* a new session: its statement timeout; nothing prepared on it yet */
static void
setup_session(DbConn *dc)
{
	char		sql[64];

	/* an integer, not user input */
	snprintf(sql, sizeof(sql), "SET statement_timeout = %d",
			 statement_timeout_ms);
	PQclear(PQexec(dc->conn, sql));
	/* status polls never wait on a lock: see FAST_LOCK_TIMEOUT */
	if (dc->lane == LANE_FAST)
		PQclear(PQexec(dc->conn, "SET lock_timeout = "
					   CppAsString2(FAST_LOCK_TIMEOUT)));
	dc->prepared = 0;
}

/*
 * Whether the server still holds this idle connection: what it sent (the
 * FATAL of a shutdown) is read, then the end of the stream, which is when
 * libpq marks the connection bad.
 */
static bool
conn_open(PGconn *conn)
{
	struct pollfd pfd = {PQsocket(conn), POLLIN, 0};

	/* nothing pending (the usual case): one poll(), no read */
	if (PQstatus(conn) == CONNECTION_OK && pfd.fd >= 0 &&
		poll(&pfd, 1, 0) == 0)
		return true;
	for (int i = 0; i < 2; i++)
		if (PQstatus(conn) != CONNECTION_OK || !PQconsumeInput(conn))
			return false;
	return PQstatus(conn) == CONNECTION_OK;
}

/* a slot of the lane: an idle connection, or a new one, or wait */
static DbConn *
take_slot(DbLane lane)
{
	Lane	   *l = &lanes[lane];
	DbConn	   *dc = NULL;

	if (lane == LANE_FAST && own_fast != NULL)
		return own_fast;
	pthread_mutex_lock(&l->lock);
	while (l->idle == NULL && l->count >= l->size)
		pthread_cond_wait(&l->returned, &l->lock);
	if (l->idle != NULL)
	{
		dc = l->idle;
		l->idle = dc->next;
	}
	else if ((dc = calloc(1, sizeof(DbConn))) != NULL)
	{
		dc->lane = lane;
		l->count++;
	}
	if (lane == LANE_FAST && dc != NULL)
	{
		dc->next = l->kept;
		l->kept = dc;
		own_fast = dc;
	}
	pthread_mutex_unlock(&l->lock);
	return dc;
}

/* a slot given up (its connection could not be opened) */
static void
drop_slot(DbConn *dc)
{
	Lane	   *l = &lanes[dc->lane];

	pthread_mutex_lock(&l->lock);
	if (dc == own_fast)
	{
		DbConn	  **p = &l->kept;

		while (*p != dc)
			p = &(*p)->next;
		*p = dc->next;
		own_fast = NULL;
	}
	l->count--;
	pthread_cond_signal(&l->returned);
	pthread_mutex_unlock(&l->lock);
	free(dc);
}

/*
 * A connection of the lane for the caller alone, (re)opened as needed,
 * until db_release(); NULL if the database is unreachable.  Waits while
 * all of the lane's connections are lent.
 */
DbConn *
db_acquire(DbLane lane)
{
	DbConn	   *dc = take_slot(lane);

	if (dc == NULL)
		return NULL;

	/*
	 * A connection the server closed while it sat idle (a restart, an
	 * administrator) still says CONNECTION_OK until libpq reads from it: read
	 * what is pending first, so it is replaced before a call is sent on it.
	 * (A call is never sent twice: one that fails mid-way is an error, and a
	 * trigger cannot be recorded twice.)
	 */
	if (dc->conn != NULL && conn_open(dc->conn))
		return dc;
	if (dc->conn != NULL)
		PQfinish(dc->conn);
	dc->conn = PQconnectdb(lane == LANE_POLLS ? poll_conninfo : conninfo);
	if (PQstatus(dc->conn) != CONNECTION_OK)
	{
		fprintf(stderr, "restmon-http: cannot connect: %s",
				PQerrorMessage(dc->conn));
		PQfinish(dc->conn);
		drop_slot(dc);
		return NULL;
	}
	setup_session(dc);
	return dc;
}

/* give a connection back to its lane */
void
db_release(DbConn *dc)
{
	Lane	   *l;

	if (dc == NULL || dc == own_fast)
		return;					/* a serving thread keeps its own */
	l = &lanes[dc->lane];
	pthread_mutex_lock(&l->lock);
	dc->next = l->idle;
	l->idle = dc;
	pthread_cond_signal(&l->returned);
	pthread_mutex_unlock(&l->lock);
}

/* the libpq connection of a borrowed one */
PGconn *
db_pgconn(DbConn *dc)
{
	return dc == NULL ? NULL : dc->conn;
}

/* run a call once: prepared first on this connection if need be */
static PGresult *
call_once(DbConn *dc, DbCall call, int nparams, const char *const *params)
{
	char		name[8];
	PGresult   *res;

	snprintf(name, sizeof(name), "s%d", (int) call);
	if (!(dc->prepared & (1u << call)))
	{
		res = PQprepare(dc->conn, name, call_sql[call], nparams, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			return res;
		PQclear(res);
		dc->prepared |= 1u << call;
	}
	return PQexecPrepared(dc->conn, name, nparams, params, NULL, NULL, 0);
}

/*
 * Run an API call, preparing it first on this connection; its rows, or NULL
 * on failure with the error result in *err (the caller clears either).
 */
PGresult *
db_call(DbConn *dc, DbCall call, int nparams, const char *const *params,
		PGresult **err)
{
	PGresult   *res = call_once(dc, call, nparams, params);

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

/* no connection to be had: 503 (08001: cannot establish a connection) */
enum MHD_Result
send_db_unavailable(struct MHD_Connection *c, Request *r)
{
	return send_error(c, r, 503, "the database is not available", "08001",
					  NULL);
}

/*
 * An error result (or no result) as a JSON error response; clears res.
 * A connection that broke during the call is 503 with 08006.
 */
enum MHD_Result
send_db_error(struct MHD_Connection *c, Request *r, DbConn *dc,
			  PGresult *res)
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
	if (dc != NULL && PQstatus(dc->conn) != CONNECTION_OK)
		sqlstate = NULL;		/* the connection broke: retry later */
	status = db_http_status(sqlstate);
	if (msg == NULL)
		msg = status == 503 ?
			"the database is not available" : "database error";
	ret = send_error(c, r, status, msg,
					 sqlstate != NULL ? sqlstate : "08006", NULL);
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
