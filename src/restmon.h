/*-------------------------------------------------------------------------
 *
 * src/restmon.h
 *	  What every part of restmon shares: its settings, the byte order of
 *	  store ids, and the store lookups a report starts from.  Each part's
 *	  own interface has its own header: core.h, schedule.h, observation.h,
 *	  report_queue.h, report_worker.h, report_csv.h; the ingestion files
 *	  share ingest_int.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RESTMON_H
#define RESTMON_H

#include "datatype/timestamp.h"

/* restmon.c: settings */
extern char *restmon_data_dir;
extern int	restmon_report_retention;	/* minutes */
extern int	restmon_max_future; /* minutes; -1: no limit */
extern int	restmon_max_report_workers; /* -1: max_worker_processes / 4 */
extern bool restmon_state_alerts;
extern int	restmon_report_workers; /* -1: max_parallel_workers_per_gather */
extern int	restmon_report_worker_idle; /* ms a report worker waits idle */
extern int	restmon_observation_retention;	/* minutes; -1: keep all */
extern int	restmon_gather_chunk;	/* bytes a value of gather.c, about */
extern bool restmon_report_helpers; /* report workers keep their helpers */
extern bool restmon_debug_report_helper_error;	/* tests: helpers fail */

#define RM_GATHER_CHUNK_DEFAULT	(64 * 1024)

#define RM_REPORT_WORKER_IDLE_DEFAULT	2000	/* ms */

/* prune.c: observation retention (35 days by default) */
#define RM_OBSERVATION_RETENTION_DEFAULT	(35 * 24 * 60)
#define RM_UPKEEP_PRUNE_ROWS	50000	/* polls deleted per upkeep, at most */
#define RM_UPKEEP_PRUNE_MS		1000	/* and milliseconds spent, about */
extern int64 rm_prune_observations(int64 max_rows, int max_ms, bool *in_use);

/* load_log.c: a statement prepared once per backend */
extern struct _SPI_plan *rm_kept_plan(struct _SPI_plan **plan, const char *sql,
									  int nargs, Oid *types);

extern bool rm_retention_edge(TimestampTz *edge);
extern bool rm_retention_edge_bound(TimestampTz *edge, bool *exact);

/*
 * Byte order of store ids, as COLLATE "C" (semantics §6): memcmp on the
 * common prefix, then the shorter first.
 */
static inline int
rm_key_cmp(const char *a, int alen, const char *b, int blen)
{
	int			c = memcmp(a, b, Min(alen, blen));

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* store_id.c: what a store id is (semantics §1.8) */
#define RM_STORE_ID_MAX_BYTES	255
extern bool rm_store_id_valid(const char *s, int len, const char **why);
extern char *rm_value_excerpt(const char *s, int len);
extern char *rm_store_id_reason(const char *s, int len);
extern char *rm_store_field_reason(const char *s, int len);
extern void rm_check_store_id(text *id);

/* store_id_hash.c: backend-local tables keyed by a store id's bytes */
typedef struct RmIdKey
{
	const char *id;
	int			len;
} RmIdKey;
struct HTAB;
extern struct HTAB *rm_id_hash_create(const char *name, long nelem,
									  Size entrysize, MemoryContext cxt);
extern void *rm_id_hash_find(struct HTAB *htab, text *id);
extern void *rm_id_hash_enter(struct HTAB *htab, MemoryContext cxt, text *id,
							  bool *found);

/* parse.c: semantics §1 helpers shared with other files */
extern bool rm_parse_local_time(const char *s, int64 *usecs);

/* store_uptime.c: stores and the default report instant (inside SPI) */
extern bool rm_default_as_of(TimestampTz *T);
extern bool rm_store_known(text *store);
extern struct pg_tz *rm_store_zone(text *store);	/* store_zone.c */
extern void rm_error_unknown_store(text *store) pg_attribute_noreturn();
extern void rm_check_instant(TimestampTz t, const char *what);

/* milliseconds from a to b, for DEBUG2 timings */
static inline double
rm_ms_between(TimestampTz a, TimestampTz b)
{
	return (double) (b - a) / 1000.0;
}

#endif							/* RESTMON_H */
