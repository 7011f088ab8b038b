/*-------------------------------------------------------------------------
 *
 * gateway/static.c
 *	  restmon-http's static files: the operators' web page (web/ in the
 *	  source tree, built and installed by "make install") served from the
 *	  web root under /web/, and the content negotiation of "/".
 *
 * Invariants:
 *	- Only GET and HEAD of paths under WEB_PREFIX read files, and only
 *	  regular files under the web root: every path segment must match
 *	  [A-Za-z0-9_-][A-Za-z0-9._-]* (no "..", no hidden file, no empty
 *	  segment), so nothing outside the root is ever named; the last
 *	  component is opened without following a symbolic link.  Anything
 *	  else under the prefix is a 404 that says nothing about the disk.
 *	- "/" answers a browser (an Accept header that names text/html before
 *	  any JSON type) with a 303 to WEB_PREFIX; every other client (curl's
 *	  "* / *", application/json, application/openapi+json) falls through to
 *	  the routing table, where "/" is the API's own answer (the OpenAPI
 *	  document).  "Vary: Accept" says so to caches.
 *	- A file's content type comes from its extension (a short table; an
 *	  unknown one is application/octet-stream), with nosniff.  When the
 *	  client accepts gzip and "<file>.gz" exists beside it (the build
 *	  writes one for the bundle), that is sent with Content-Encoding: gzip.
 *	- Nothing here touches the database.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sys/stat.h>

#include "gateway.h"

#define WEB_PREFIX		"/web/"
#define MAX_WEB_PATH	512

/* the characters a path segment may start with; then "." too */
#define SEGMENT_FIRST \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"

static char web_root[MAX_WEB_PATH] = RESTMON_WEB_ROOT;

/* the page's content security policy: everything from this origin only */
#define WEB_CSP \
	"default-src 'self'; img-src 'self' data: blob:; " \
	"style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"

static const struct
{
	const char *ext;
	const char *type;
}			content_types[] = {
	{".html", "text/html; charset=utf-8"},
	{".js", "text/javascript; charset=utf-8"},
	{".mjs", "text/javascript; charset=utf-8"},
	{".css", "text/css; charset=utf-8"},
	{".json", "application/json"},
	{".map", "application/json"},
	{".svg", "image/svg+xml"},
	{".png", "image/png"},
	{".ico", "image/x-icon"},
	{".txt", "text/plain; charset=utf-8"},
};

void
static_init(const char *root)
{
	if (root != NULL)
		snprintf(web_root, sizeof(web_root), "%s", root);
}

const char *
static_web_root(void)
{
	return web_root;
}

static const char *
content_type(const char *path)
{
	size_t		len = strlen(path);
	size_t		i;

	for (i = 0; i < sizeof(content_types) / sizeof(content_types[0]); i++)
	{
		size_t		elen = strlen(content_types[i].ext);

		if (len > elen && strcmp(path + len - elen, content_types[i].ext) == 0)
			return content_types[i].type;
	}
	return "application/octet-stream";
}

/* is rel (the part after WEB_PREFIX) a path we may serve? */
static bool
safe_relative_path(const char *rel)
{
	const char *seg = rel;

	if (strlen(rel) >= MAX_WEB_PATH / 2)
		return false;
	for (;;)
	{
		size_t		len = strcspn(seg, "/");

		if (len == 0 || strchr(SEGMENT_FIRST, seg[0]) == NULL ||
			strspn(seg, SEGMENT_FIRST ".") < len)
			return false;
		if (seg[len] == '\0')
			return true;
		seg += len + 1;
	}
}

/* does the client take gzip? (a plain scan: "gzip" not followed by q=0) */
static bool
accepts_gzip(struct MHD_Connection *c)
{
	const char *ae = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
												 "Accept-Encoding");
	const char *g = ae ? strcasestr(ae, "gzip") : NULL;

	return g != NULL && strncmp(g + 4, ";q=0", 4) != 0;
}

/* a regular file opened for reading (not through a final symlink), or -1 */
static int
open_regular(const char *path, struct stat *st)
{
	int			fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -1;
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode))
	{
		close(fd);
		return -1;
	}
	return fd;
}

static enum MHD_Result
serve_file(struct MHD_Connection *c, Request *r, const char *rel)
{
	char		path[MAX_WEB_PATH * 2];
	struct stat st;
	struct MHD_Response *resp;
	bool		gz = false;
	int			fd = -1;

	if (accepts_gzip(c))
	{
		snprintf(path, sizeof(path), "%s/%s.gz", web_root, rel);
		fd = open_regular(path, &st);
		gz = fd >= 0;
	}
	if (fd < 0)
	{
		snprintf(path, sizeof(path), "%s/%s", web_root, rel);
		fd = open_regular(path, &st);
	}
	if (fd < 0)
		return send_error(c, r, 404, errno == ENOENT && access(web_root, F_OK)
						  != 0 ? "the web page is not installed here" :
						  "no such file", "58P01", NULL);
	resp = MHD_create_response_from_fd((uint64_t) st.st_size, fd);
	if (resp == NULL)
	{
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", content_type(rel));
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Cache-Control", "no-cache");
	MHD_add_response_header(resp, "Vary", "Accept-Encoding");
	if (gz)
		MHD_add_response_header(resp, "Content-Encoding", "gzip");
	if (strcmp(content_type(rel), content_types[0].type) == 0)
		MHD_add_response_header(resp, "Content-Security-Policy", WEB_CSP);
	return send_response(c, r, 200, resp);
}

static enum MHD_Result
send_redirect(struct MHD_Connection *c, Request *r, const char *location)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "Location", location);
	MHD_add_response_header(resp, "Vary", "Accept");
	return send_response(c, r, 303, resp);
}

/* the q of one media range (p, len long): 1 unless it says otherwise */
static double
media_q(const char *p, size_t len)
{
	const char *q = memchr(p, ';', len);

	while (q != NULL && q < p + len)
	{
		q += 1 + strspn(q + 1, " \t");
		if ((q[0] == 'q' || q[0] == 'Q') && q[1] == '=')
			return strtod(q + 2, NULL);
		q = memchr(q, ';', (size_t) (p + len - q));
	}
	return 1.0;
}

/*
 * Does this Accept header ask for a page? The first of text/html,
 * application/xhtml+xml and the JSON types it names (with q above 0)
 * decides.
 */
static bool
wants_html(const char *accept)
{
	const char *p = accept;

	while (*p != '\0')
	{
		size_t		len,
					tlen;

		p += strspn(p, " \t,");
		len = strcspn(p, ",");
		tlen = strcspn(p, ";, \t");
		if (len > 0 && media_q(p, len) > 0)
		{
			if ((tlen == 9 && strncasecmp(p, "text/html", 9) == 0) ||
				(tlen == 21 && strncasecmp(p, "application/xhtml+xml", 21) == 0))
				return true;
			if (tlen >= 16 && strncasecmp(p, "application/", 12) == 0 &&
				strncasecmp(p + tlen - 4, "json", 4) == 0)
				return false;
		}
		p += len;
	}
	return false;
}

/*
 * The static part of routing: true (with the response queued in *ret) when
 * the request was for the page; false to go on to the routing table.
 */
bool
static_route(struct MHD_Connection *c, Request *r, const char *url,
			 const char *method, enum MHD_Result *ret)
{
	bool		get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	const char *rel;

	if (strcmp(url, "/") == 0)
	{
		const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
														 "Accept");

		if (!get || accept == NULL || !wants_html(accept))
			return false;
		*ret = send_redirect(c, r, WEB_PREFIX);
		return true;
	}
	if (strcmp(url, "/web") == 0 && get)
	{
		*ret = send_redirect(c, r, WEB_PREFIX);
		return true;
	}
	if (strncmp(url, WEB_PREFIX, strlen(WEB_PREFIX)) != 0)
		return false;
	if (!get)
		*ret = send_error(c, r, 405, "use GET", "0A000", "GET, HEAD");
	else if ((rel = url + strlen(WEB_PREFIX))[0] == '\0')
		*ret = serve_file(c, r, "index.html");
	else if (!safe_relative_path(rel))
		*ret = send_error(c, r, 404, "no such file", "58P01", NULL);
	else
		*ret = serve_file(c, r, rel);
	return true;
}
