/*-------------------------------------------------------------------------
 *
 * src/report_helper.c
 *	  A report worker's kept helpers: when a report worker (report_worker.c)
 *	  computes a pass over every store with restmon.report_workers > 1, its
 *	  other processes are dynamic background workers it started once and
 *	  that live as long as it does, idle included, rather than a
 *	  ParallelContext's workers started for each report (a process start,
 *	  InitPostgres and the leader's state restored cost more than a third
 *	  of a 14,000-store report: doc/operations.md, "Where a report's time
 *	  goes").  The helpers' side is report_helper_worker.c; the ranges,
 *	  their order and the queues' messages are report_parallel.c's, shared
 *	  with the ParallelContext path, which the synchronous
 *	  restmon_store_uptime() keeps.
 *
 * One dynamic shared memory segment, created with the first helpers and
 * kept (its layout: report_helper.h), holds a shm_mq area per helper, the
 * leader's serialized snapshot and the pass's ranges.  A pass is a
 * generation: the leader waits until no helper is still busy with the
 * previous one, serializes its active snapshot (SerializeSnapshot, as
 * parallel.c does), creates each helper's queue, bumps the generation and
 * wakes the helpers (a condition variable), then cuts and publishes the
 * ranges and leads exactly as report_parallel.c's leader does.  A helper
 * imports the snapshot with RestoreTransactionSnapshot() naming the
 * leader's PGPROC, so it reads exactly what the leader reads (a report
 * never sees half of an ingestion).  The helpers are members of the
 * leader's lock group, so a helper's lock request queued behind a waiting
 * DROP cannot deadlock unseen with the leader that waits for its rows.
 *
 * Invariants:
 *	- a helper takes part in generation g only while it is the latest and
 *	  not over: it marks itself busy with g, then looks (the leader marks
 *	  g over, then waits for busy 0, each with a full barrier between);
 *	  the leader reuses the queues and the ranges only once no helper is
 *	  busy;
 *	- a helper's queue detaching before it has marked the pass done
 *	  fails the report with the helper's error (kept in its slot) or, if
 *	  it died, an error of its own; the next report starts a new helper;
 *	- the helpers end with their report worker: it marks them stopped
 *	  when it exits (before_shmem_exit) and when restmon.report_workers is
 *	  lowered; a helper also leaves once the leader's pid is gone.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/procarray.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "report_helper.h"
#include "report_worker.h"

/* the report worker's helpers (NULL/0 in every other process) */
static bool helpers_on = false;
static dsm_segment *seg = NULL;
static RmHelperCtl *ctl = NULL;
static BackgroundWorkerHandle **handles = NULL;
static int	nhelpers = 0;		/* slots [0, nhelpers) have a helper */
static uint32 pass_gen = 0;		/* the pass under way, 0 for none */

/* the segment's size for nslots helpers and maxranges ranges */
static Size
segment_layout(RmHelperCtl *c, int nslots, int maxranges)
{
	Size		off = MAXALIGN(offsetof(RmHelperCtl, slot) +
							   sizeof(RmHelperSlot) * nslots);
	Size		snap;

	/* a snapshot's xids and subxids at most, and its fixed part */
	snap = MAXALIGN(1024 + sizeof(TransactionId) *
					((Size) GetMaxSnapshotXidCount() +
					 GetMaxSnapshotSubxidCount()));
	if (c != NULL)
	{
		c->nslots = nslots;
		c->maxranges = maxranges;
		c->queues_off = off;
		c->snap_off = off + (Size) nslots * RM_QUEUE_SIZE;
		c->snap_space = snap;
		c->shared_off = c->snap_off + snap;
	}
	return off + (Size) nslots * RM_QUEUE_SIZE + snap +
		rm_par_shared_size(maxranges);
}

/*
 * Every helper is asked to exit, and woken; one the postmaster has not
 * started yet never starts (it would connect to a database perhaps being
 * dropped)
 */
static void
stop_all(void)
{
	pid_t		pid;

	if (ctl == NULL)
		return;
	ctl->stop = true;
	for (int i = 0; i < ctl->nslots; i++)
		ctl->slot[i].stop = true;
	ConditionVariableBroadcast(&ctl->work_cv);
	for (int i = 0; i < nhelpers; i++)
		if (handles[i] != NULL &&
			GetBackgroundWorkerPid(handles[i], &pid) == BGWH_NOT_YET_STARTED)
			TerminateBackgroundWorker(handles[i]);
}

static void
helpers_at_exit(int code pg_attribute_unused(),
				Datum arg pg_attribute_unused())
{
	stop_all();
}

/*
 * This process is a report worker: its passes over every store use kept
 * helpers, which end with it.
 */
void
rm_helpers_enable(void)
{
	if (helpers_on)
		return;
	helpers_on = true;
	before_shmem_exit(helpers_at_exit, 0);
}

/* the helpers stopped and the segment let go (their copy lives on) */
static void
teardown(void)
{
	stop_all();
	for (int i = 0; i < nhelpers; i++)
		if (handles[i] != NULL)
			pfree(handles[i]);
	if (handles != NULL)
		pfree(handles);
	handles = NULL;
	nhelpers = 0;
	if (seg != NULL)
		dsm_detach(seg);
	seg = NULL;
	ctl = NULL;
}

/* a segment with room for nslots helpers, kept as long as this process */
static void
create_segment(int nslots, int maxranges)
{
	Size		size = segment_layout(NULL, nslots, maxranges);

	seg = dsm_create(size, 0);
	dsm_pin_mapping(seg);
	ctl = dsm_segment_address(seg);
	memset(ctl, 0, offsetof(RmHelperCtl, slot) +
		   sizeof(RmHelperSlot) * nslots);
	(void) segment_layout(ctl, nslots, maxranges);
	ctl->leader_pid = MyProcPid;
	ctl->leader_proc = MyProc;
	pg_atomic_init_u32(&ctl->gen, 0);
	pg_atomic_init_u32(&ctl->over, 0);
	ConditionVariableInit(&ctl->work_cv);
	ConditionVariableInit(&ctl->idle_cv);
	for (int i = 0; i < nslots; i++)
	{
		pg_atomic_init_u32(&ctl->slot[i].busy, 0);
		pg_atomic_init_u32(&ctl->slot[i].done, 0);
	}
	handles = MemoryContextAllocZero(TopMemoryContext,
									 sizeof(BackgroundWorkerHandle *) * nslots);
	BecomeLockGroupLeader();
}

/* start helper i; false when no background worker slot is free */
static bool
start_helper(int i)
{
	BackgroundWorker worker;
	RmHelperArgs args;
	MemoryContext oldcxt;
	bool		ok;

	rm_bgworker_init(&worker, "restmon_report_helper_main",
					 "restmon report helper");
	snprintf(worker.bgw_name, BGW_MAXLEN, "restmon report helper %d of pid %d",
			 i + 1, MyProcPid);
	worker.bgw_notify_pid = MyProcPid;
	args.dboid = MyDatabaseId;
	args.roleoid = GetSessionUserId();
	args.handle = dsm_segment_handle(seg);
	args.slot = i;
	args.incarnation = ++ctl->slot[i].incarnation;
	memcpy(worker.bgw_extra, &args, sizeof(args));

	ctl->slot[i].stop = false;
	ctl->slot[i].err_gen = 0;
	pg_atomic_write_u32(&ctl->slot[i].busy, 0);
	pg_atomic_write_u32(&ctl->slot[i].done, 0);
	oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	ok = RegisterDynamicBackgroundWorker(&worker, &handles[i]);
	MemoryContextSwitchTo(oldcxt);
	return ok;
}

/* is helper i gone (or never started)? */
static bool
helper_gone(int i)
{
	pid_t		pid;

	return handles[i] == NULL ||
		GetBackgroundWorkerPid(handles[i], &pid) == BGWH_STOPPED;
}

/*
 * want helpers, room for maxranges ranges: the segment recreated if it is
 * too small, helpers that are gone started again, extra ones stopped.
 * Fewer if background worker slots run out.
 */
static void
ensure_helpers(int want, int maxranges)
{
	if (ctl != NULL && (want > ctl->nslots || maxranges > ctl->maxranges))
		teardown();
	if (ctl == NULL)
		create_segment(want, maxranges);
	for (int i = want; i < nhelpers; i++)
	{
		ctl->slot[i].stop = true;
		if (handles[i] != NULL)
			pfree(handles[i]);
		handles[i] = NULL;
	}
	if (want < nhelpers)
		ConditionVariableBroadcast(&ctl->work_cv);
	nhelpers = Min(nhelpers, want);
	for (int i = 0; i < want; i++)
	{
		if (i < nhelpers && !helper_gone(i))
			continue;
		if (handles[i] != NULL)
			pfree(handles[i]);
		handles[i] = NULL;
		if (!start_helper(i))
		{
			want = i;
			break;
		}
	}
	nhelpers = want;
}

/*
 * After a reload: restmon.report_workers lowered stops the extra helpers
 * at once (the report worker calls it while idle).
 */
void
rm_helpers_trim(void)
{
	int			want = restmon_report_helpers ? rm_report_processes() - 1 : 0;

	if (ctl == NULL || want >= nhelpers)
		return;
	if (want <= 0)
		teardown();
	else
		ensure_helpers(want, ctl->maxranges);
}

/* wait until no helper is busy with an earlier pass (or it is gone) */
static void
wait_helpers_idle(void)
{
	for (int i = 0; i < nhelpers; i++)
	{
		while (pg_atomic_read_u32(&ctl->slot[i].busy) != 0 && !helper_gone(i))
		{
			(void) ConditionVariableTimedSleep(&ctl->idle_cv, 100,
											   PG_WAIT_EXTENSION);
			CHECK_FOR_INTERRUPTS();
		}
	}
	ConditionVariableCancelSleep();
}

/* queue i detached: fine once its helper has finished the pass */
static void
helper_detached(RmLeader *L pg_attribute_unused(), int i)
{
	uint32		gen = pg_atomic_read_u32(&ctl->gen);
	RmHelperSlot *slot = &ctl->slot[i];

	pg_read_barrier();
	if (pg_atomic_read_u32(&slot->done) == gen)
		return;
	if (slot->err_gen == gen)
		ereport(ERROR,
				(errcode(slot->err_code),
				 errmsg("%s", slot->err_msg),
				 errcontext("restmon report helper %d", i + 1)));
	ereport(ERROR,
			(errcode(ERRCODE_INTERNAL_ERROR),
			 errmsg("a restmon report helper exited during a report")));
}

/*
 * restmon.debug_report_helper_error (tests): wait until every helper has
 * taken part in pass gen, so its error is raised whatever the timing
 */
static void
wait_helpers_took_part(uint32 gen)
{
	for (int i = 0; i < nhelpers; i++)
	{
		RmHelperSlot *slot = &ctl->slot[i];

		while (!helper_gone(i) &&
			   (pg_atomic_read_u32(&slot->busy) != 0 ||
				(pg_atomic_read_u32(&slot->done) != gen &&
				 slot->err_gen != gen)))
		{
			(void) ConditionVariableTimedSleep(&ctl->idle_cv, 100,
											   PG_WAIT_EXTENSION);
			CHECK_FOR_INTERRUPTS();
		}
		ConditionVariableCancelSleep();
		helper_detached(NULL, i);
	}
}

/*
 * A new pass: the snapshot and the ranges' header in the segment, each
 * helper's queue created, then the helpers woken; returns its generation
 */
static uint32
begin_pass(RmLeader *L, const RmParallelPass *pass, int maxranges)
{
	Snapshot	snap = GetActiveSnapshot();
	uint32		gen;

	wait_helpers_idle();
	if (EstimateSnapshotSpace(snap) > ctl->snap_space)
		elog(ERROR, "snapshot of %zu bytes for a report helper",
			 EstimateSnapshotSpace(snap));
	SerializeSnapshot(snap, rm_helper_snap(ctl));
	L->sh = rm_helper_shared(ctl);
	rm_par_init_shared(L->sh, pass, maxranges);
	L->nqueues = nhelpers;
	L->nlive = nhelpers;
	L->queues = palloc0(sizeof(shm_mq_handle *) * Max(nhelpers, 1));
	for (int i = 0; i < nhelpers; i++)
	{
		shm_mq	   *mq = shm_mq_create(rm_helper_queue(ctl, i), RM_QUEUE_SIZE);

		shm_mq_set_receiver(mq, MyProc);
		L->queues[i] = shm_mq_attach(mq, seg, handles[i]);
	}
	L->detached = helper_detached;
	ctl->gen_started = L->started;
	gen = pg_atomic_add_fetch_u32(&ctl->gen, 1);
	if (gen == 0)				/* 0 means none */
		gen = pg_atomic_add_fetch_u32(&ctl->gen, 1);
	pass_gen = gen;
	ConditionVariableBroadcast(&ctl->work_cv);
	return gen;
}

/* the pass is over (done or failed): no helper takes part any more */
static void
end_pass(RmLeader *L, uint32 gen)
{
	pass_gen = 0;
	pg_atomic_write_u32(&ctl->over, gen);
	pg_memory_barrier();
	for (int i = 0; i < L->nqueues; i++)
		if (L->queues[i] != NULL)
		{
			shm_mq_detach(L->queues[i]);
			L->queues[i] = NULL;
		}
	/* helpers still waiting for the ranges */
	ConditionVariableBroadcast(&L->sh->ready_cv);
}

/*
 * The ranges cut (leader alone if there are too few stores), published,
 * computed, and pass->done; at DEBUG2 the log says where the time went.
 */
static void
run_pass(RmLeader *L, const RmParallelPass *pass, int nprocs, text **firsts,
		 int nranges)
{
	TimestampTz t[3];

	rm_par_leader_init(L, nranges);
	t[0] = GetCurrentTimestamp();
	rm_par_publish(L->sh, firsts, nranges);
	rm_par_lead(L);
	if (restmon_debug_report_helper_error)
		wait_helpers_took_part(pg_atomic_read_u32(&ctl->gen));
	t[1] = GetCurrentTimestamp();
	if (pass->done != NULL)
		pass->done(L->put_arg);
	t[2] = GetCurrentTimestamp();
	elog(DEBUG2, "restmon %s: ranges cut %.1f ms, computed %.1f ms,"
		 " done %.1f ms, %d ranges, %d of %d kept helpers",
		 pass->kind == RM_PASS_REPORT ? "report" : "incidents",
		 rm_ms_between(L->started, t[0]), rm_ms_between(t[0], t[1]),
		 rm_ms_between(t[1], t[2]), nranges, nhelpers, nprocs - 1);
	rm_par_leader_free(L);
}

/*
 * Is this a report worker whose passes use kept helpers?  (If
 * restmon.report_helpers was turned off meanwhile, its helpers exit now.)
 */
bool
rm_helpers_on(void)
{
	if (helpers_on && !restmon_report_helpers && ctl != NULL)
		teardown();
	return helpers_on && restmon_report_helpers;
}

/*
 * The ranges' bounds of the last pass that cut them, kept for the next
 * passes while restmon.store's estimate stays within RM_KEPT_DRIFT of
 * what it was: any bounds partition the stores (range i is [bound i,
 * bound i+1), the first and last unbounded), so the rows are the same;
 * only how evenly the ranges share the stores depends on them, and the
 * helpers need not wait for the cut (a read of every store's id).
 */
#define RM_KEPT_DRIFT	0.1
static text **kept_firsts = NULL;
static int	kept_nranges = 0;
static int	kept_maxranges = 0;
static double kept_estimate = 0;

static bool
kept_bounds_fit(int maxranges, double estimate)
{
	return kept_firsts != NULL && kept_maxranges == maxranges &&
		estimate > 0 &&
		fabs(estimate - kept_estimate) <= kept_estimate * RM_KEPT_DRIFT;
}

static void
keep_bounds(text **firsts, int nranges, int maxranges, double estimate)
{
	MemoryContext oldcxt;

	if (kept_firsts != NULL)
	{
		for (int i = 1; i < kept_nranges; i++)
			pfree(kept_firsts[i]);
		pfree(kept_firsts);
		kept_firsts = NULL;
	}
	if (estimate <= 0 || nranges < 2)
		return;
	oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	kept_firsts = palloc0(sizeof(text *) * nranges);
	for (int i = 1; i < nranges; i++)
		kept_firsts[i] = (text *) pg_detoast_datum_copy((struct varlena *) firsts[i]);
	MemoryContextSwitchTo(oldcxt);
	kept_nranges = nranges;
	kept_maxranges = maxranges;
	kept_estimate = estimate;
}

/*
 * The ranges cut, and kept; the helpers woken before the cut when the
 * estimate is large, and not at all (gen 0) when there turn out to be too
 * few stores to share.  Returns the pass's generation.
 */
static uint32
cut_and_begin(RmLeader *L, const RmParallelPass *pass, int nprocs,
			  int maxranges, double estimate)
{
	uint32		gen = 0;
	text	  **firsts;
	int			nstores;
	int			nranges;

	if (estimate >= (double) nprocs * RM_MIN_PROC_STORES * RM_EARLY_STORES)
		gen = begin_pass(L, pass, maxranges);
	nranges = rm_uptime_bounds(pass->T, maxranges, RM_MIN_RANGE_STORES,
							   estimate, &firsts, &nstores);
	if (nranges < 2 || nstores / nprocs < RM_MIN_PROC_STORES)
		nranges = 1;			/* the leader alone: one unbounded range */
	else
		keep_bounds(firsts, nranges, maxranges, estimate);
	if (gen == 0 && nranges > 1)
		gen = begin_pass(L, pass, maxranges);
	if (gen != 0)
		run_pass(L, pass, nprocs, firsts, nranges);
	return gen;
}

/*
 * rm_parallel_pass() in a report worker (rm_helpers_on()), nprocs > 1:
 * the same contract, computed with the kept helpers, on the kept bounds
 * if they fit, else on bounds cut now; false (nothing done) when there
 * are too few stores to share.
 */
bool
rm_helpers_pass(const RmParallelPass *pass, RmRangeEmit put, void *put_arg,
				int nprocs)
{
	int			maxranges = nprocs * RM_RANGES_PER_PROC;
	double		estimate = rm_par_store_estimate();
	uint32		gen = 0;
	RmLeader	L;

	memset(&L, 0, sizeof(L));
	L.started = GetCurrentTimestamp();
	L.put = put;
	L.put_arg = put_arg;
	ensure_helpers(nprocs - 1, maxranges);
	PG_TRY();
	{
		if (kept_bounds_fit(maxranges, estimate))
		{
			gen = begin_pass(&L, pass, maxranges);
			run_pass(&L, pass, nprocs, kept_firsts, kept_nranges);
		}
		else
			gen = cut_and_begin(&L, pass, nprocs, maxranges, estimate);
	}
	PG_CATCH();
	{
		if (pass_gen != 0)
			end_pass(&L, pass_gen);
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (gen == 0)
		return false;
	end_pass(&L, gen);
	return true;
}
