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

#include "port/atomics.h"
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

/* report_parallel.c */
extern text *rm_par_bound(RmParallelShared *sh, int i);
extern void rm_par_compute_range(RmParallelShared *sh, int i,
								 RmRangeEmit emit, void *arg);

#endif							/* RESTMON_REPORT_PARALLEL_INT_H */
