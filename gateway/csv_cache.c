/*-------------------------------------------------------------------------
 *
 * gateway/csv_cache.c
 *	  restmon-http's cache of complete reports' CSVs: a bounded set of
 *	  bodies in memory, keyed by report id and ETag, each shared by every
 *	  response that sends it.
 *
 * A complete report's CSV never changes (restmon.report_file, stored once
 * by the extension), so a body read once serves every later request for
 * it; what can change is whether the report still exists (pruning), and
 * that is checked by the database on every request before the cache is
 * looked at (restmon_report_csv_etag on the fast lane, api_seed.c): a
 * pruned report is a 404, never a stale body.  An entry holds the
 * PGresult the body came in (no copy), and is sent with
 * MHD_create_response_from_buffer_with_free_callback_cls: one buffer for
 * every response, however many clients read it, however slowly.
 *
 * Invariants:
 *	- the bodies cached add up to at most the limit (--csv-cache-mb,
 *	  counting RM_ENTRY_OVERHEAD a body); a body larger than the limit is
 *	  never cached (api_seed.c streams it in pages);
 *	- an entry is freed when it is out of the cache and no response holds
 *	  it (a reference count under the mutex): eviction never frees a body
 *	  that is being sent;
 *	- the least recently used entries go first; an entry whose report
 *	  answers with another ETag is dropped when it is seen;
 *	- a body is read from the database by one request at a time: the
 *	  others that want it wait for that read (csv_cache_get), so a burst
 *	  of requests for a report not cached yet costs one read.
 *
 *-------------------------------------------------------------------------
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"

#define RM_BUCKETS			4096
#define RM_ENTRY_OVERHEAD	1024	/* bytes counted per entry besides the
									 * body */

struct CsvEntry
{
	char	   *id;
	char	   *etag;
	PGresult   *res;			/* owns the body: row 0, column 0 */
	const char *body;
	size_t		len;
	int			refs;			/* responses sending it, + 1 while cached */
	bool		cached;
	struct CsvEntry *hnext;		/* in its bucket */
	struct CsvEntry *older;		/* LRU list, newest first */
	struct CsvEntry *newer;
};

/* a body being read from the database: the others wait for it */
typedef struct CsvLoading
{
	char	   *id;
	struct CsvLoading *next;
} CsvLoading;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t loaded = PTHREAD_COND_INITIALIZER;
static CsvLoading *loading;
static CsvEntry *buckets[RM_BUCKETS];
static CsvEntry *newest;
static CsvEntry *oldest;
static size_t limit;			/* bytes; 0: no cache */
static size_t used;

void
csv_cache_init(size_t max_bytes)
{
	limit = max_bytes;
}

size_t
csv_cache_limit(void)
{
	return limit;
}

static unsigned int
bucket_of(const char *id)
{
	unsigned int h = 2166136261u;	/* FNV-1a */

	for (; *id; id++)
		h = (h ^ (unsigned char) *id) * 16777619u;
	return h % RM_BUCKETS;
}

static size_t
cost(const CsvEntry *e)
{
	return e->len + RM_ENTRY_OVERHEAD;
}

static void
free_entry(CsvEntry *e)
{
	PQclear(e->res);
	free(e->id);
	free(e->etag);
	free(e);
}

/* drop a reference (the lock held); the last one frees the entry */
static void
unref(CsvEntry *e)
{
	if (--e->refs == 0)
		free_entry(e);
}

static void
lru_unlink(CsvEntry *e)
{
	if (e->newer != NULL)
		e->newer->older = e->older;
	else
		newest = e->older;
	if (e->older != NULL)
		e->older->newer = e->newer;
	else
		oldest = e->newer;
	e->newer = e->older = NULL;
}

static void
lru_push(CsvEntry *e)
{
	e->older = newest;
	e->newer = NULL;
	if (newest != NULL)
		newest->newer = e;
	newest = e;
	if (oldest == NULL)
		oldest = e;
}

/* take an entry out of the cache (the lock held) */
static void
uncache(CsvEntry *e)
{
	CsvEntry  **p = &buckets[bucket_of(e->id)];

	while (*p != e)
		p = &(*p)->hnext;
	*p = e->hnext;
	lru_unlink(e);
	used -= cost(e);
	e->cached = false;
	unref(e);
}

/* the entry of a report id (the lock held), or NULL */
static CsvEntry *
find(const char *id)
{
	CsvEntry   *e = buckets[bucket_of(id)];

	while (e != NULL && strcmp(e->id, id) != 0)
		e = e->hnext;
	return e;
}

/* the body of report id being read (the lock held), or NULL */
static CsvLoading **
find_loading(const char *id)
{
	CsvLoading **l = &loading;

	while (*l != NULL && strcmp((*l)->id, id) != 0)
		l = &(*l)->next;
	return *l != NULL ? l : NULL;
}

/* the read of report id's body is over (the lock held): wake the others */
static void
end_loading(const char *id)
{
	CsvLoading **l = find_loading(id);

	if (l != NULL)
	{
		CsvLoading *done = *l;

		*l = done->next;
		free(done->id);
		free(done);
		pthread_cond_broadcast(&loaded);
	}
}

/*
 * The cached body of report id with this ETag, with a reference for the
 * caller (csv_cache_response() hands it to the response), or NULL: then
 * the caller reads it and calls csv_cache_put(), or csv_cache_abandon() if
 * it cannot.  One request reads a body at a time: the others for it wait
 * here for that read, so a burst of requests for a report not yet cached
 * reads it once.  A body cached under another ETag is dropped.
 */
CsvEntry *
csv_cache_get(const char *id, const char *etag)
{
	CsvEntry   *e;

	pthread_mutex_lock(&lock);
	for (;;)
	{
		e = find(id);
		if (e != NULL && strcmp(e->etag, etag) != 0)
		{
			uncache(e);
			e = NULL;
		}
		if (e != NULL || find_loading(id) == NULL)
			break;
		pthread_cond_wait(&loaded, &lock);
	}
	if (e != NULL)
	{
		e->refs++;
		lru_unlink(e);
		lru_push(e);
	}
	else
	{
		CsvLoading *l = calloc(1, sizeof(CsvLoading));

		/* out of memory: read it without telling the others */
		if (l != NULL && (l->id = strdup(id)) != NULL)
		{
			l->next = loading;
			loading = l;
		}
		else
			free(l);
	}
	pthread_mutex_unlock(&lock);
	return e;
}

/*
 * The body of report id with that ETag if it is cached, with a reference
 * for the caller; else NULL, and nothing waited for or promised (the caller
 * goes on to csv_cache_get on a thread that may wait).
 */
CsvEntry *
csv_cache_peek(const char *id, const char *etag)
{
	CsvEntry   *e;

	pthread_mutex_lock(&lock);
	e = find(id);
	if (e != NULL && strcmp(e->etag, etag) == 0)
	{
		e->refs++;
		lru_unlink(e);
		lru_push(e);
	}
	else
		e = NULL;
	pthread_mutex_unlock(&lock);
	return e;
}

/* the caller of csv_cache_get() could not read the body */
void
csv_cache_abandon(const char *id)
{
	pthread_mutex_lock(&lock);
	end_loading(id);
	pthread_mutex_unlock(&lock);
}

/*
 * Cache the body of report id (res's row 0, column 0; the entry owns res)
 * and return it with a reference for the caller.  The least recently used
 * entries make room; a body over the whole limit is returned uncached.
 * NULL (res cleared) when out of memory.
 */
CsvEntry *
csv_cache_put(const char *id, const char *etag, PGresult *res)
{
	CsvEntry   *e = calloc(1, sizeof(CsvEntry));
	CsvEntry   *old;

	if (e == NULL || (e->id = strdup(id)) == NULL ||
		(e->etag = strdup(etag)) == NULL)
	{
		if (e != NULL)
			free(e->id);
		free(e);
		PQclear(res);
		csv_cache_abandon(id);
		return NULL;
	}
	e->res = res;
	e->body = PQgetvalue(res, 0, 0);
	e->len = (size_t) PQgetlength(res, 0, 0);
	e->refs = 1;
	pthread_mutex_lock(&lock);
	end_loading(id);
	if ((old = find(id)) != NULL)
		uncache(old);			/* another request cached it meanwhile */
	if (cost(e) <= limit)
	{
		while (used + cost(e) > limit)
			uncache(oldest);
		e->cached = true;
		e->refs++;
		e->hnext = buckets[bucket_of(id)];
		buckets[bucket_of(id)] = e;
		lru_push(e);
		used += cost(e);
	}
	pthread_mutex_unlock(&lock);
	return e;
}

/* a response gave its body back */
static void
release(void *cls)
{
	pthread_mutex_lock(&lock);
	unref((CsvEntry *) cls);
	pthread_mutex_unlock(&lock);
}

/* a response sending the entry's body; takes the caller's reference */
struct MHD_Response *
csv_cache_response(CsvEntry *e)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer_with_free_callback_cls(e->len,
																  (void *) e->body,
																  release, e);
	if (resp == NULL)
		release(e);
	return resp;
}

/* does an If-None-Match field value match etag (weak comparison)? */
bool
csv_etag_matches(const char *field, const char *etag)
{
	size_t		len = strlen(etag);
	const char *p = field;

	while (p != NULL && *p != '\0')
	{
		const char *end;

		p += strspn(p, " \t,");
		if (*p == '*')
			return true;		/* any current representation */
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (*p != '"' || (end = strchr(p + 1, '"')) == NULL)
			return false;		/* not an entity tag: no match */
		if ((size_t) (end + 1 - p) == len && memcmp(p, etag, len) == 0)
			return true;
		p = end + 1;
	}
	return false;
}
