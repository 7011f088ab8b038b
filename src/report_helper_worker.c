/*-------------------------------------------------------------------------
 *
 * src/report_helper_worker.c
 *	  A kept helper of a report worker (report_helper.c has the leader and
 *	  the design): a dynamic background worker that joins its report
 *	  worker's lock group, then waits on a condition variable for the next
 *	  pass.  For each one it imports the leader's snapshot into a
 *	  repeatable-read transaction of its own (RestoreTransactionSnapshot()
 *	  with the leader's PGPROC, as a parallel worker does), computes
 *	  ranges with report_parallel_worker.c's code and sends their results
 *	  through its shm_mq; an error is kept in its slot for the leader to
 *	  raise, and the helper waits for the next pass.
 *
 * Invariants:
 *	- it takes part in a pass only as the invariants of report_helper.c
 *	  say (busy marked, then the pass seen current and not over), and
 *	  marks the pass done, or keeps its error, before its queue detaches;
 *	- it exits when stopped, when the leader's pid is gone, on SIGTERM
 *	  (pg_ctl stop, pg_terminate_backend) and on the postmaster's death.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/procarray.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/wait_event.h"

#include "report_helper.h"

PGDLLEXPORT void restmon_report_helper_main(Datum main_arg);

typedef struct RmHelper
{
	RmHelperCtl *ctl;
	RmHelperSlot *slot;
	int			index;
	uint32		incarnation;
	dsm_segment *seg;
} RmHelper;

/* wait until the ranges are published; false if the pass is over first */
static bool
wait_ranges(RmHelperCtl *ctl, RmParallelShared *sh, uint32 gen)
{
	bool		ready;

	ConditionVariablePrepareToSleep(&sh->ready_cv);
	while (!(ready = pg_atomic_read_u32(&sh->ready) != 0) &&
		   pg_atomic_read_u32(&ctl->over) != gen)
		ConditionVariableSleep(&sh->ready_cv, PG_WAIT_EXTENSION);
	ConditionVariableCancelSleep();
	pg_read_barrier();
	return ready && pg_atomic_read_u32(&ctl->over) != gen;
}

/*
 * Pass gen in a transaction of its own with the leader's snapshot: its
 * ranges computed and sent, then marked done
 */
static void
compute_pass(RmHelper *h, shm_mq_handle *mqh, uint32 gen)
{
	RmParallelShared *sh = rm_helper_shared(h->ctl);
	TimestampTz woken = GetCurrentTimestamp();

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	/* one snapshot for the transaction: the leader's */
	XactIsoLevel = XACT_REPEATABLE_READ;
	RestoreTransactionSnapshot(RestoreSnapshot(rm_helper_snap(h->ctl)),
							   h->ctl->leader_proc);
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "computing restmon report ranges");
	if (restmon_debug_report_helper_error)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("restmon.debug_report_helper_error is set")));
	if (wait_ranges(h->ctl, sh, gen))
	{
		elog(DEBUG2, "restmon report helper %d: woken %.1f ms, ranges %.1f ms"
			 " after the pass started",
			 h->index + 1, rm_ms_between(h->ctl->gen_started, woken),
			 rm_ms_between(h->ctl->gen_started, GetCurrentTimestamp()));
		rm_par_send_ranges(sh, mqh);
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	pg_write_barrier();
	pg_atomic_write_u32(&h->slot->done, gen);
}

/* an error of pass gen, kept for the leader; the transaction aborted */
static void
keep_error(RmHelper *h, uint32 gen, MemoryContext cxt)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(cxt);
	edata = CopyErrorData();
	FlushErrorState();
	AbortCurrentTransaction();
	h->slot->err_code = edata->sqlerrcode;
	strlcpy(h->slot->err_msg, edata->message, RM_HELPER_ERRLEN);
	pg_write_barrier();
	h->slot->err_gen = gen;
	FreeErrorData(edata);
}

/* should this helper exit? (the leader stopped it, or is gone) */
static bool
must_exit(RmHelper *h, bool check_leader)
{
	if (h->ctl->stop || h->slot->stop ||
		h->slot->incarnation != h->incarnation)
		return true;
	return check_leader && BackendPidGetProc(h->ctl->leader_pid) == NULL;
}

/* take part in pass gen if it is still current and not over */
static void
take_part(RmHelper *h, uint32 gen)
{
	shm_mq	   *mq;
	shm_mq_handle *mqh;
	MemoryContext cxt = CurrentMemoryContext;

	pg_atomic_write_u32(&h->slot->busy, gen);
	pg_memory_barrier();
	if (pg_atomic_read_u32(&h->ctl->gen) == gen &&
		pg_atomic_read_u32(&h->ctl->over) != gen)
	{
		mq = rm_helper_queue(h->ctl, h->index);
		shm_mq_set_sender(mq, MyProc);
		mqh = shm_mq_attach(mq, h->seg, NULL);
		PG_TRY();
		{
			compute_pass(h, mqh, gen);
		}
		PG_CATCH();
		{
			keep_error(h, gen, cxt);
		}
		PG_END_TRY();
		shm_mq_detach(mqh);
		pgstat_report_activity(STATE_IDLE, NULL);
	}
	pg_atomic_write_u32(&h->slot->busy, 0);
	ConditionVariableBroadcast(&h->ctl->idle_cv);
}

void
restmon_report_helper_main(Datum main_arg pg_attribute_unused())
{
	RmHelperArgs args;
	RmHelper	h;
	uint32		seen = 0;
	bool		timed_out = false;

	memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));
	pqsignal(SIGTERM, die);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(args.dboid, args.roleoid, 0);

	h.seg = dsm_attach((dsm_handle) args.handle);
	if (h.seg == NULL)
		proc_exit(0);			/* the leader let it go already */
	dsm_pin_mapping(h.seg);
	h.ctl = dsm_segment_address(h.seg);
	h.index = args.slot;
	h.slot = &h.ctl->slot[args.slot];
	h.incarnation = args.incarnation;
	if (must_exit(&h, false) ||
		!BecomeLockGroupMember(h.ctl->leader_proc, h.ctl->leader_pid))
		proc_exit(0);
	pgstat_report_activity(STATE_IDLE, NULL);

	for (;;)
	{
		uint32		gen;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (must_exit(&h, timed_out))
			break;
		gen = pg_atomic_read_u32(&h.ctl->gen);
		if (gen != seen)
		{
			ConditionVariableCancelSleep();
			seen = gen;
			take_part(&h, gen);
			continue;
		}
		timed_out = ConditionVariableTimedSleep(&h.ctl->work_cv, 1000,
												PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();
	proc_exit(0);
}
