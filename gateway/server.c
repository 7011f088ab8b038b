/*-------------------------------------------------------------------------
 *
 * gateway/server.c
 *	  restmon-http's libmicrohttpd daemon: its thread pool and limits, each
 *	  request's state and body, and the access log.
 *
 * libmicrohttpd serves the requests from a pool of threads (each with its
 * own database connection, see db.c; each thread waits on its sockets
 * with epoll, so a slow or idle connection costs a file descriptor and
 * its 32 KiB of memory, not a thread), within a connection limit, a limit
 * of connections per client address, and an idle timeout: a connection
 * that sends nothing for --timeout seconds is closed, whether it is
 * between requests or in the middle of one.  A request's body is
 * gathered up to MAX_BODY bytes (beyond that the rest is read and dropped,
 * and the answer is 413) before it is routed.  Every request, answered or
 * not, leaves one access line on stderr:
 *
 *	ADDRESS METHOD PATH STATUS TIMEms[ (not completed)]
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "gateway.h"

#define CONNECTION_MEMORY	(32 * 1024) /* libmicrohttpd's, per connection */

/* the first call of a request: its state */
static enum MHD_Result
begin_request(const char *url, const char *method, void **req_cls)
{
	Request    *r = calloc(1, sizeof(Request));

	if (r == NULL)
		return MHD_NO;
	clock_gettime(CLOCK_MONOTONIC, &r->started);
	snprintf(r->method, sizeof(r->method), "%s", method);
	r->url = strndup(url, 200);
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
	if (*upload_data_size > 0)
	{
		ret = add_body(r, upload_data, *upload_data_size);
		if (ret == MHD_YES)
			*upload_data_size = 0;
		return ret;
	}
	if (r->too_large)
		return send_error(c, r, 413, "the request body is too large",
						  NULL, NULL);
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
	free(r->url);
	free(r->body);
	free(r);
	*req_cls = NULL;
}

/* the daemon listening and serving, or NULL */
struct MHD_Daemon *
server_start(const GatewayOptions *opts)
{
	unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG;

	return MHD_start_daemon(flags, (uint16_t) opts->port, NULL, NULL,
							on_request, NULL,
							MHD_OPTION_SOCK_ADDR,
							(struct sockaddr *) &opts->addr,
							MHD_OPTION_THREAD_POOL_SIZE,
							(unsigned int) opts->threads,
							MHD_OPTION_CONNECTION_LIMIT,
							(unsigned int) opts->max_conn,
							MHD_OPTION_PER_IP_CONNECTION_LIMIT,
							(unsigned int) opts->max_per_client,
							MHD_OPTION_CONNECTION_TIMEOUT,
							(unsigned int) opts->timeout,
							MHD_OPTION_CONNECTION_MEMORY_LIMIT,
							(size_t) CONNECTION_MEMORY,
							MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
							MHD_OPTION_END);
}

/* stops serving: the pool threads finish and exit */
void
server_stop(struct MHD_Daemon *d)
{
	MHD_stop_daemon(d);
}
