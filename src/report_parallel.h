/*-------------------------------------------------------------------------
 *
 * src/report_parallel.h
 *	  A pass over every store -- a full report, or the incidents -- computed
 *	  by several processes, each on a contiguous range of stores
 *	  (report_parallel.c), and the per-range computations it shares with
 *	  the serial passes (store_uptime.c, timeline.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef RESTMON_REPORT_PARALLEL_H
#define RESTMON_REPORT_PARALLEL_H

#include "datatype/timestamp.h"
#include "utils/timestamp.h"
#include "nodes/execnodes.h"

#include "core.h"

/* receives the figures of one store, in byte order of store ids */
typedef void (*RmStoreEmit) (void *arg, const char *key, int keylen,
							 const RmResult *res);

/* the columns of restmon_store_uptime()'s rows (rm_uptime_values()) */
#define RM_UPTIME_COLS	10

/* receives one store's result as bytes (RmResult, or RmIncident[]) */
typedef void (*RmRangeEmit) (void *arg, const char *key, int keylen,
							 const void *data, int len);

/* what a parallel pass computes */
typedef enum RmParallelKind
{
	RM_PASS_REPORT,				/* the figures, one RmResult per store */
	RM_PASS_INCIDENTS			/* a store's kept RmIncident[], if any */
} RmParallelKind;

/* called once every result is handed on (see rm_uptime_report()) */
typedef void (*RmPassDone) (void *arg);

typedef struct RmParallelPass
{
	RmParallelKind kind;
	TimestampTz T;
	const Interval *min_duration;	/* incidents: the shortest kept */
	RmPassDone	done;			/* NULL, or called with put's argument */
} RmParallelPass;

/* store_uptime.c (inside SPI) */
extern void rm_uptime_range(TimestampTz T, text *lo, text *hi,
							RmStoreEmit emit, void *arg);

/* store_bounds.c */
extern int	rm_uptime_bounds(TimestampTz T, int nranges, int min_stores,
							 double estimate, text ***firsts, int *nstores);
extern void rm_uptime_put_row(ReturnSetInfo *rsinfo, const char *key,
							  int keylen, const RmResult *res);
extern void rm_uptime_values(const char *key, int keylen,
							 const RmResult *res, Datum *values);
extern void rm_uptime_report(TimestampTz T, RmStoreEmit emit, RmPassDone done,
							 void *arg);

/* timeline.c (inside SPI) */
extern void rm_incidents_range(TimestampTz T, text *lo, text *hi,
							   const Interval *min_duration, RmRangeEmit emit,
							   void *arg);

extern void rm_incidents_all(TimestampTz T, const Interval *min_duration,
							 RmRangeEmit emit, void *arg);

/* gather.c: a pass over every partition of a sharded cluster (inside SPI) */
extern void rm_coordinator_gather(RmParallelKind kind, TimestampTz T,
								  const Interval *min_duration,
								  RmRangeEmit put, void *arg);
extern void rm_coordinator_uptime(TimestampTz T, RmStoreEmit emit,
								  void *arg);

/* report_parallel.c (inside SPI) */
extern int	rm_report_processes(void);
extern bool rm_parallel_pass(const RmParallelPass *pass, RmRangeEmit put,
							 void *put_arg);
extern bool rm_report_parallel(TimestampTz T, RmStoreEmit emit,
							   RmPassDone done, void *arg);

/* report_helper.c: a report worker's kept helpers */
extern void rm_helpers_enable(void);
extern void rm_helpers_trim(void);

#endif							/* RESTMON_REPORT_PARALLEL_H */
