/*-------------------------------------------------------------------------
 *
 * src/report_parallel_int.h
 *	  What the leader (report_parallel.c) and the workers
 *	  (report_parallel_worker.c) of a parallel pass share: the dynamic
 *	  shared memory's keys and layout, and a queue's messages.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RESTMON_REPORT_PARALLEL_INT_H
#define RESTMON_REPORT_PARALLEL_INT_H

#include "access/parallel.h"
#include "lib/stringinfo.h"
#include "port/atomics.h"
#include "storage/shm_mq.h"
#include "storage/condition_variable.h"

#include "report_parallel.h"
#include "restmon.h"

/* keys of the dynamic shared memory's table of contents */
#define RM_PKEY_SHARED		UINT64CONST(0x726D6F6E00000001)
#define RM_PKEY_QUEUES		UINT64CONST(0x726D6F6E00000002)

#define RM_QUEUE_SIZE		(256 * 1024)	/* bytes, per worker */
#define RM_LEADER_TAIL		2	/* last ranges a worker leaves to the leader */
/* the space of a bound: a store id with a plain 4-byte header */
#define RM_BOUND_SPACE		MAXALIGN(VARHDRSZ + RM_STORE_ID_MAX_BYTES)

/* what the leader shares with its workers */
typedef struct RmParallelShared
{
	RmParallelKind kind;
	TimestampTz T;
	Interval	min_duration;	/* incidents: the shortest kept */
	int			maxranges;		/* room for this many */
	int			nranges;		/* set when ready */
	pg_atomic_uint32 ready;		/* the ranges are published */
	ConditionVariable ready_cv; /* workers wait on it for ready */
	pg_atomic_uint32 next_range;	/* the next range no process took */
	/* bound i's offset from this struct, 0 for none; maxranges + 1 */
	Size		bound_off[FLEXIBLE_ARRAY_MEMBER];
} RmParallelShared;

/*
 * one message of a worker's queue: a store's result (its key, then len
 * bytes of data), or a range's end
 */
typedef struct RmRowMsg
{
	int32		range;
	int32		keylen;			/* -1: the range has ended */
	int32		len;
	char		key[FLEXIBLE_ARRAY_MEMBER];
} RmRowMsg;

#define RM_MSG_SIZE(keylen, len) \
	MAXALIGN(offsetof(RmRowMsg, key) + (keylen) + (len))

#define RM_RANGES_PER_PROC	16	/* ranges per process: the leader, which also
								 * writes the rows, and late workers even out */
#define RM_MIN_RANGE_STORES 8	/* stores per range at least */
#define RM_MIN_PROC_STORES	32	/* fewer stores per process: computed alone */
#define RM_DRAIN_EVERY		32	/* the leader reads its queues every n stores */
#define RM_EARLY_STORES		4	/* workers launched before the ranges are cut
								 * when the estimate is RM_MIN_PROC_STORES
								 * times this per process */

/* the leader's state */
typedef struct RmLeader
{
	TimestampTz started;		/* the pass's start, for its DEBUG2 timings */
	RmRangeEmit put;			/* where results go, in store order */
	void	   *put_arg;
	RmParallelShared *sh;
	int			next_emit;		/* the range whose rows go out now */
	bool	   *ended;
	StringInfoData *held;		/* per range: RmRowMsg, until its turn */
	int			nqueues;
	shm_mq_handle **queues;		/* NULL once detached */
	int			nlive;
	int			range;			/* the range the leader computes */
	int			stores;			/* stores it computed since it last read */
	MemoryContext msgcxt;		/* reset after each read of the queues */
	MemoryContext rowcxt;		/* reset after each held row emitted */
	ParallelContext *pcxt;		/* its workers; NULL: kept helpers */
	/* kept helpers: queue i detached (raises a helper's error) */
	void		(*detached) (struct RmLeader *L, int queue);
} RmLeader;

/* report_parallel.c */
extern Size rm_par_shared_size(int maxranges);
extern void rm_par_init_shared(RmParallelShared *sh, const RmParallelPass *pass,
							   int maxranges);
extern void rm_par_publish(RmParallelShared *sh, text **firsts, int nranges);
extern void rm_par_leader_init(RmLeader *L, int nranges);
extern void rm_par_leader_free(RmLeader *L);
extern void rm_par_lead(RmLeader *L);
extern double rm_par_store_estimate(void);

/* report_parallel_worker.c */
extern text *rm_par_bound(RmParallelShared *sh, int i);
extern void rm_par_compute_range(RmParallelShared *sh, int i,
								 RmRangeEmit emit, void *arg);
extern void rm_par_send_ranges(RmParallelShared *sh, shm_mq_handle *mqh);

/* report_helper.c: kept helpers of a report worker */
extern bool rm_helpers_on(void);
extern bool rm_helpers_pass(const RmParallelPass *pass, RmRangeEmit put,
							void *put_arg, int nprocs);

#endif							/* RESTMON_REPORT_PARALLEL_INT_H */
