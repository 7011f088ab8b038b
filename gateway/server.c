/*-------------------------------------------------------------------------
 *
 * gateway/server.c
 *	  restmon-http's libmicrohttpd daemon: a pool of threads over epoll
 *	  within its limits, each request's state and body, the calls handed
 *	  to the lanes' workers, and the access log.
 *
 * libmicrohttpd serves the connections from a pool of --threads threads,
 * each with an epoll set of its own (as 0.3.0 did): a connection costs no
 * thread, only libmicrohttpd's CONNECTION_MEMORY and, while it streams a
 * CSV too large for the cache, one page of it (CSV_PAGE_BYTES and a line,
 * api_seed.c); in the kernel, a send buffer of SEND_BUFFER at most.  A
 * client that is slow to send or to read holds its connection and nothing
 * else.  What bounds the connections: at most --max-connections at once,
 * --max-per-client from one address, and an idle timeout: a connection
 * that makes no progress for --timeout seconds (sends nothing, or takes
 * nothing of its response) is closed, whether it is between requests or
 * in the middle of one.
 *
 * A pool thread answers at once what never waits: health, status polls
 * (one call by key on the status lane, whose connections are as many as
 * the pool threads, so a pool thread never waits for one), 304s, cached
 * CSVs, static files, errors.  A call that may wait (a trigger behind a
 * lock, a CSV read from the database, a PostgREST call, a batch of polls)
 * is handed to its lane's workers (work.c) by server_defer(): the
 * connection is suspended, the worker runs the call, keeps its response
 * in the Request and resumes the connection, whose next turn queues it.
 * So a pool thread never waits on anything but a status poll's or
 * health's own short call (a status poll that meets a lock gives up after
 * db.c's FAST_LOCK_TIMEOUT and is deferred too, api_seed.c).
 *
 * A request's body is gathered up to MAX_BODY bytes (beyond that the rest
 * is read and dropped, and the answer is 413) before it is routed.  Every
 * request, answered or not, leaves one access line on stderr:
 *
 *	ADDRESS METHOD PATH STATUS TIMEms[ (not completed)]
 *
 * where the method and path have every byte outside printable ASCII, the
 * space and the backslash written \xHH, so a request cannot forge a line
 * (%0A in a path is a line feed once decoded).
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include "gateway.h"

#define CONNECTION_MEMORY	(32 * 1024) /* libmicrohttpd's, per connection */
#define STACK_SIZE			(512 * 1024)	/* of a pool thread */
#define LOGGED_PATH			200 /* bytes of a path the log keeps */
#define SEND_BUFFER			(64 * 1024) /* SO_SNDBUF of a connection */

/*
 * A new connection: its kernel send buffer is fixed at SEND_BUFFER (Linux
 * would grow it up to net.ipv4.tcp_wmem's maximum, 4 MiB, whatever the
 * client reads), so that a client that stops reading stops the stream
 * after that much, and nothing more of a CSV is fetched for it.
 */
static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	const union MHD_ConnectionInfo *ci;
	int			size = SEND_BUFFER;

	(void) cls;
	(void) socket_context;
	if (toe != MHD_CONNECTION_NOTIFY_STARTED)
		return;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci != NULL)
		setsockopt(ci->connect_fd, SOL_SOCKET, SO_SNDBUF, &size,
				   sizeof(size));
}

/* s as one access-log field in out (size >= 4 * max + 1): see the banner */
static void
log_field(char *out, const char *s, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	size_t		i;

	for (i = 0; s[i] != '\0' && i < max; i++)
	{
		unsigned char ch = (unsigned char) s[i];

		if (ch > ' ' && ch < 0x7f && ch != '\\')
			*out++ = (char) ch;
		else
		{
			*out++ = '\\';
			*out++ = 'x';
			*out++ = hex[ch >> 4];
			*out++ = hex[ch & 15];
		}
	}
	*out = '\0';
}

/* the first call of a request: its state */
static enum MHD_Result
begin_request(const char *url, const char *method, void **req_cls)
{
	Request    *r = calloc(1, sizeof(Request));

	if (r == NULL)
		return MHD_NO;
	clock_gettime(CLOCK_MONOTONIC, &r->started);
	log_field(r->method, method, (sizeof(r->method) - 1) / 4);
	r->url = malloc(4 * LOGGED_PATH + 1);
	if (r->url != NULL)
		log_field(r->url, url, LOGGED_PATH);
	r->max_body = route_body_limit(url);
	*req_cls = r;
	return MHD_YES;
}

/* a piece of the body: kept while the body fits its route's limit */
static enum MHD_Result
add_body(Request *r, const char *data, size_t size)
{
	if (!r->too_large && r->body_len + size <= r->max_body)
	{
		char	   *b = realloc(r->body, r->body_len + size + 1);

		if (b == NULL)
			return MHD_NO;
		memcpy(b + r->body_len, data, size);
		r->body = b;
		r->body_len += size;
		r->body[r->body_len] = '\0';
	}
	else
		r->too_large = true;
	return MHD_YES;
}

/* a worker runs a deferred call, then resumes its connection */
static void
run_deferred(void *arg)
{
	Request    *r = arg;
	struct MHD_Connection *c = r->conn;

	r->in_worker = true;
	r->result = r->deferred(c, r);
	r->in_worker = false;
	MHD_resume_connection(c);
}

/*
 * Hand call to a worker of lane: the connection is suspended until the call
 * is done; its response is queued when libmicrohttpd calls on_request again
 * (deferred_answer).  The call may read the request (its headers, body and
 * the fields of r) as a handler does: nothing else touches it meanwhile.
 */
enum MHD_Result
server_defer(struct MHD_Connection *c, Request *r, DbLane lane,
			 DeferredCall call)
{
	r->deferred = call;
	r->conn = c;
	r->work.fn = run_deferred;
	r->work.arg = r;
	MHD_suspend_connection(c);
	work_submit(lane, &r->work);
	return MHD_YES;
}

/* the connection resumed: the deferred call's response, queued now */
static enum MHD_Result
deferred_answer(struct MHD_Connection *c, Request *r)
{
	enum MHD_Result ret;

	r->deferred = NULL;
	if (r->resp == NULL)
		return r->result == MHD_YES ? MHD_NO : r->result;
	ret = MHD_queue_response(c, r->status, r->resp);
	MHD_destroy_response(r->resp);
	r->resp = NULL;
	return ret;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
		   const char *method, const char *version, const char *upload_data,
		   size_t *upload_data_size, void **req_cls)
{
	Request    *r = *req_cls;
	enum MHD_Result ret;

	(void) cls;
	(void) version;
	if (r == NULL)
		return begin_request(url, method, req_cls);
	if (r->deferred != NULL)
		return deferred_answer(c, r);
	if (*upload_data_size > 0)
	{
		ret = add_body(r, upload_data, *upload_data_size);
		if (ret == MHD_YES)
			*upload_data_size = 0;
		return ret;
	}
	if (r->too_large)
		return send_error(c, r, 413, "the request body is too large",
						  "54000", NULL);
	return route_request(c, r, url, method);
}

/* the client's address as text, or "-" */
static void
client_address(struct MHD_Connection *c, char *addr, size_t size)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *) sa)->sin_addr,
				  addr, (socklen_t) size);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) sa)->sin6_addr,
				  addr, (socklen_t) size);
}

/* one access line per request, then the request's state is freed */
static void
on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	Request    *r = *req_cls;
	char		addr[INET6_ADDRSTRLEN] = "-";
	struct timespec now;
	double		ms;

	(void) cls;
	if (r == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - r->started.tv_sec) * 1e3 +
		(now.tv_nsec - r->started.tv_nsec) / 1e6;
	client_address(c, addr, sizeof(addr));
	fprintf(stderr, "%s %s %s %u %.1fms%s\n", addr, r->method,
			r->url ? r->url : "-", r->status, ms,
			toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ?
			"" : " (not completed)");
	if (r->resp != NULL)
		MHD_destroy_response(r->resp);
	free(r->url);
	free(r->body);
	free(r);
	*req_cls = NULL;
}

/* the daemon listening and serving, or NULL */
struct MHD_Daemon *
server_start(const GatewayOptions *opts)
{
	unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD |
	MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;

	return MHD_start_daemon(flags, (uint16_t) opts->port, NULL, NULL,
							on_request, NULL,
							MHD_OPTION_SOCK_ADDR,
							(struct sockaddr *) &opts->addr,
							MHD_OPTION_THREAD_POOL_SIZE,
							(unsigned int) opts->threads,
							MHD_OPTION_THREAD_STACK_SIZE,
							(size_t) STACK_SIZE,
							MHD_OPTION_CONNECTION_LIMIT,
							(unsigned int) opts->max_conn,
							MHD_OPTION_PER_IP_CONNECTION_LIMIT,
							(unsigned int) opts->max_per_client,
							MHD_OPTION_CONNECTION_TIMEOUT,
							(unsigned int) opts->timeout,
							MHD_OPTION_CONNECTION_MEMORY_LIMIT,
							(size_t) CONNECTION_MEMORY,
							MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
							MHD_OPTION_UNESCAPE_CALLBACK, pgrst_unescape, NULL,
							MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
							MHD_OPTION_END);
}

/*
 * Stops serving: the workers finish what they were given (and so resume
 * every suspended connection; what is deferred from now on runs on the
 * pool thread), then libmicrohttpd's threads exit.
 */
void
server_stop(struct MHD_Daemon *d)
{
	work_stop();
	MHD_stop_daemon(d);
}
