/*-------------------------------------------------------------------------
 *
 * gateway/limits.c
 *	  restmon-http's rate limit on report triggers: a token bucket per
 *	  client address.  A trigger without a token is answered 429 with a
 *	  Retry-After header (whole seconds until a token is back) and never
 *	  reaches the database.
 *
 * Each client has a bucket of --trigger-burst tokens, refilled at
 * --trigger-rate tokens a second; a rate of 0 turns the limit off.  The
 * buckets live in a fixed table (BUCKETS entries, open addressing over
 * PROBE slots): when a new client finds the slots of its address taken,
 * it takes the one idle longest, whose client starts again with a full
 * bucket.  So memory is fixed, whatever the number of clients; a client
 * with many addresses (a whole IPv6 prefix) is not held back by this, the
 * connection limits and what is in front of the gateway are (see
 * doc/security.md).  One mutex guards the table: a trigger holds it for a
 * few loads and stores.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>

#include "gateway.h"

#define BUCKETS		4096
#define PROBE		8

typedef struct Bucket
{
	uint8_t		addr[16];		/* IPv4 as ::ffff:a.b.c.d */
	bool		used;
	double		tokens;
	double		stamp;			/* when tokens was computed, seconds */
} Bucket;

static Bucket buckets[BUCKETS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static double rate = 0;			/* tokens a second; 0: no limit */
static double burst = 1;

void
limits_init(double trigger_rate, int trigger_burst)
{
	rate = trigger_rate;
	burst = trigger_burst < 1 ? 1 : trigger_burst;
}

/* the client's address as 16 bytes; false if it has none we know */
static bool
client_key(struct MHD_Connection *c, uint8_t *key)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return false;
	memset(key, 0, 16);
	if (sa->sa_family == AF_INET)
	{
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *) sa)->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6)
	{
		memcpy(key, &((const struct sockaddr_in6 *) sa)->sin6_addr, 16);
		return true;
	}
	return false;
}

static uint32_t
hash_key(const uint8_t *key)
{
	uint32_t	h = 2166136261u;	/* FNV-1a */

	for (int i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;
	return h;
}

/* the bucket of key: its own, a free one, or the one idle longest */
static Bucket *
find_bucket(const uint8_t *key, double now)
{
	uint32_t	h = hash_key(key);
	Bucket	   *take = NULL;

	for (int i = 0; i < PROBE; i++)
	{
		Bucket	   *b = &buckets[(h + (uint32_t) i) % BUCKETS];

		if (b->used && memcmp(b->addr, key, 16) == 0)
			return b;
		if (!b->used)
		{
			take = b;
			break;
		}
		if (take == NULL || b->stamp < take->stamp)
			take = b;
	}
	memcpy(take->addr, key, 16);
	take->used = true;
	take->tokens = burst;
	take->stamp = now;
	return take;
}

/*
 * Take a trigger token for the client of c: true if it may go on, else
 * false with the seconds until a token is back in *retry_after.
 */
bool
limits_take_trigger(struct MHD_Connection *c, int *retry_after)
{
	uint8_t		key[16];
	struct timespec ts;
	double		now;
	Bucket	   *b;
	bool		ok;

	if (rate <= 0 || !client_key(c, key))
		return true;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec + ts.tv_nsec / 1e9;

	pthread_mutex_lock(&lock);
	b = find_bucket(key, now);
	b->tokens = fmin(burst, b->tokens + (now - b->stamp) * rate);
	b->stamp = now;
	ok = b->tokens >= 1;
	if (ok)
		b->tokens -= 1;
	else
		*retry_after = (int) ceil((1 - b->tokens) / rate);
	pthread_mutex_unlock(&lock);
	return ok;
}

/* 429 with Retry-After */
enum MHD_Result
send_rate_limited(struct MHD_Connection *c, Request *r, int retry_after)
{
	json_object *obj;
	const char *text;
	struct MHD_Response *resp;
	char		secs[16];

	obj = js_error_body(429, "too many report triggers from this client; "
						"retry after the time in Retry-After", "53400");
	text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);

	resp = MHD_create_response_from_buffer(strlen(text), (void *) text,
										   MHD_RESPMEM_MUST_COPY);
	json_object_put(obj);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	snprintf(secs, sizeof(secs), "%d", retry_after < 1 ? 1 : retry_after);
	MHD_add_response_header(resp, "Retry-After", secs);
	return send_response(c, r, 429, resp);
}
