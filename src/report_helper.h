/*-------------------------------------------------------------------------
 *
 * src/report_helper.h
 *	  What a report worker (the leader, report_helper.c) and its kept
 *	  helpers (report_helper_worker.c) share: the layout of their dynamic
 *	  shared memory segment, which lives as long as the report worker.
 *
 *	  The segment holds an RmHelperCtl, then one shm_mq area per helper
 *	  (RM_QUEUE_SIZE each), then the leader's serialized snapshot
 *	  (snap_space bytes), then the pass's RmParallelShared (ranges).
 *
 *-------------------------------------------------------------------------
 */
#ifndef RESTMON_REPORT_HELPER_H
#define RESTMON_REPORT_HELPER_H

#include "port/atomics.h"
#include "storage/condition_variable.h"
#include "storage/proc.h"

#include "report_parallel_int.h"

#define RM_HELPER_ERRLEN	256 /* bytes of a helper's error message kept */

/* one helper's state; gen fields hold a pass's generation, 0 for none */
typedef struct RmHelperSlot
{
	pg_atomic_uint32 busy;		/* the pass it is taking part in */
	pg_atomic_uint32 done;		/* the last pass it finished without error */
	uint32		err_gen;		/* the pass its error (below) belongs to */
	int			err_code;		/* the error's SQLSTATE */
	char		err_msg[RM_HELPER_ERRLEN];
	bool		stop;			/* the leader asks it to exit */
	uint32		incarnation;	/* of the helper started last for the slot */
} RmHelperSlot;

typedef struct RmHelperCtl
{
	int			nslots;			/* helpers this segment has room for */
	pid_t		leader_pid;
	PGPROC	   *leader_proc;
	bool		stop;			/* every helper exits (the leader is gone) */
	pg_atomic_uint32 gen;		/* the latest pass, 0 before the first */
	pg_atomic_uint32 over;		/* the latest pass that has ended */
	TimestampTz gen_started;	/* when the latest pass started */
	ConditionVariable work_cv;	/* helpers wait on it for a pass */
	ConditionVariable idle_cv;	/* the leader waits on it for busy == 0 */
	Size		queues_off;		/* from this struct */
	Size		snap_off;
	Size		snap_space;
	Size		shared_off;
	int			maxranges;
	RmHelperSlot slot[FLEXIBLE_ARRAY_MEMBER];
} RmHelperCtl;

/* what a helper is told, in bgw_extra */
typedef struct RmHelperArgs
{
	Oid			dboid;
	Oid			roleoid;
	uint32		handle;			/* the segment's dsm_handle */
	int			slot;
	uint32		incarnation;	/* an older one for the slot exits */
} RmHelperArgs;

#define rm_helper_queue(ctl, i) \
	((shm_mq *) ((char *) (ctl) + (ctl)->queues_off + \
				 (Size) (i) * RM_QUEUE_SIZE))
#define rm_helper_shared(ctl) \
	((RmParallelShared *) ((char *) (ctl) + (ctl)->shared_off))
#define rm_helper_snap(ctl)		((char *) (ctl) + (ctl)->snap_off)

#endif							/* RESTMON_REPORT_HELPER_H */
