/*-------------------------------------------------------------------------
 *
 * src/report_parallel.c
 *	  A pass over every store computed by several processes -- a full
 *	  report, or the incidents of every store: the stores, in byte order,
 *	  are cut into contiguous ranges of about the same number of stores;
 *	  the backend running the pass (the leader) and parallel workers each
 *	  take the next range not taken yet and compute it with the serial
 *	  pass's own function (rm_uptime_range() of store_uptime.c, the one
 *	  implementation of the figures, or rm_incidents_range() of
 *	  timeline.c); the workers send each store's result through a shared
 *	  memory queue, and the leader hands them on range by range, so they
 *	  come in store-id byte order (semantics §6.2), exactly as the serial
 *	  pass gives them.
 *
 * The workers' side is report_parallel_worker.c.
 *
 * It is PostgreSQL's parallel infrastructure as parallel query uses it: a
 * ParallelContext (access/transam/parallel.c) starts the workers, which
 * run in the leader's transaction with its snapshots, user and settings,
 * so every process reads the same committed data (a report never sees
 * half of an ingestion); their errors are raised again in the leader; one
 * shm_mq per worker carries its rows.
 *
 * The workers are launched first, when restmon.store's estimate says the
 * pass is big enough to share, and the leader cuts the ranges while they
 * start (a process start costs more than the cutting); a worker waits for
 * the ranges on a condition variable.  Near the end a worker leaves the
 * last RM_LEADER_TAIL ranges to the leader, which computes them while the
 * worker exits (the leader waits for that exit before it returns); a
 * worker the postmaster has not even started by the time every range has
 * ended is stopped rather than waited for.
 *
 * Invariants:
 *	- the ranges partition the stores of the report: bound i is a store id
 *	  at or before the first store of range i (rm_uptime_bounds(),
 *	  store_bounds.c), range i is [bound i, bound i+1), the first and last
 *	  are unbounded;
 *	  no process computes a range before the leader has published them all
 *	  (ready);
 *	- a range is computed by one process, which sends its stores' results
 *	  (a kind's bytes: RmResult, or the store's RmIncident array) in order
 *	  and then an end mark; the leader hands on range i's results only once
 *	  every range before it has ended, buffering the later ones;
 *	- fewer workers than asked for (none free, or none at all) changes
 *	  nothing but the time: the leader takes whatever ranges are left.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "optimizer/cost.h"
#include "postmaster/bgworker.h"
#include "port/atomics.h"
#include "storage/condition_variable.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/wait_event.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "report_parallel.h"
#include "report_parallel_int.h"
#include "restmon.h"

/* restmon.report_workers resolved: how many processes, the leader included */
int
rm_report_processes(void)
{
	if (restmon_report_workers >= 0)
		return Max(restmon_report_workers, 1);
	return Max(max_parallel_workers_per_gather, 1);
}

/* the next range no process took, or nranges */
static int
claim_range(RmParallelShared *sh)
{
	uint32		r = pg_atomic_fetch_add_u32(&sh->next_range, 1);

	return r < (uint32) sh->nranges ? (int) r : sh->nranges;
}

/* the size of the shared struct with room for maxranges bounds */
Size
rm_par_shared_size(int maxranges)
{
	Size		sz = MAXALIGN(add_size(offsetof(RmParallelShared, bound_off),
									   mul_size(sizeof(Size), maxranges + 1)));

	return add_size(sz, mul_size(RM_BOUND_SPACE, Max(maxranges - 1, 0)));
}

/* the pass, its ranges not published yet */
void
rm_par_init_shared(RmParallelShared *sh, const RmParallelPass *pass, int maxranges)
{
	sh->kind = pass->kind;
	sh->T = pass->T;
	if (pass->min_duration != NULL)
		sh->min_duration = *pass->min_duration;
	sh->maxranges = maxranges;
	sh->nranges = 0;
	pg_atomic_init_u32(&sh->ready, 0);
	ConditionVariableInit(&sh->ready_cv);
	pg_atomic_init_u32(&sh->next_range, 0);
}

/* publish the ranges (at most maxranges) and wake the waiting workers */
void
rm_par_publish(RmParallelShared *sh, text **firsts, int nranges)
{
	Size		off = MAXALIGN(offsetof(RmParallelShared, bound_off) +
							   sizeof(Size) * (sh->maxranges + 1));

	Assert(nranges >= 1 && nranges <= sh->maxranges);
	sh->nranges = nranges;
	sh->bound_off[0] = 0;
	sh->bound_off[nranges] = 0;
	for (int i = 1; i < nranges; i++)
	{
		text	   *t = (text *) ((char *) sh + off);
		int			len = VARSIZE_ANY_EXHDR(firsts[i]);

		if (len > RM_STORE_ID_MAX_BYTES)
			elog(ERROR, "store id of %d bytes in a report", len);
		/* a plain 4-byte header, whatever the source's */
		SET_VARSIZE(t, len + VARHDRSZ);
		memcpy(VARDATA(t), VARDATA_ANY(firsts[i]), len);
		sh->bound_off[i] = off;
		off += RM_BOUND_SPACE;
	}
	pg_write_barrier();
	pg_atomic_write_u32(&sh->ready, 1);
	ConditionVariableBroadcast(&sh->ready_cv);
}

/* the leader's state for a pass of nranges ranges */
void
rm_par_leader_init(RmLeader *L, int nranges)
{
	L->ended = palloc0(sizeof(bool) * nranges);
	L->held = palloc0(sizeof(StringInfoData) * nranges);
	for (int i = 0; i < nranges; i++)
		initStringInfo(&L->held[i]);
	L->msgcxt = AllocSetContextCreate(CurrentMemoryContext,
									  "restmon parallel report messages",
									  ALLOCSET_DEFAULT_SIZES);
	L->rowcxt = AllocSetContextCreate(CurrentMemoryContext,
									  "restmon parallel report rows",
									  ALLOCSET_SMALL_SIZES);
}

void
rm_par_leader_free(RmLeader *L)
{
	MemoryContextDelete(L->msgcxt);
	MemoryContextDelete(L->rowcxt);
}

/* ---------------------------------------------------------------------
 * The leader: rows in range order
 * ---------------------------------------------------------------------
 */

static void
emit_held(RmLeader *L, int range)
{
	StringInfo	buf = &L->held[range];
	int			pos = 0;

	while (pos < buf->len)
	{
		RmRowMsg   *m = (RmRowMsg *) (buf->data + pos);
		MemoryContext oldcxt = MemoryContextSwitchTo(L->rowcxt);

		L->put(L->put_arg, m->key, m->keylen, m->key + m->keylen, m->len);
		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(L->rowcxt);
		pos += RM_MSG_SIZE(m->keylen, m->len);
	}
	pfree(buf->data);
	buf->data = NULL;
	buf->len = 0;
}

/* a store's result: on now if it is its range's turn, else held */
static void
accept_row(RmLeader *L, int range, const char *key, int keylen,
		   const void *data, int len)
{
	StringInfo	buf = &L->held[range];
	RmRowMsg	m;

	if (range == L->next_emit)
	{
		L->put(L->put_arg, key, keylen, data, len);
		return;
	}
	m.range = range;
	m.keylen = keylen;
	m.len = len;
	appendBinaryStringInfo(buf, (char *) &m, offsetof(RmRowMsg, key));
	appendBinaryStringInfo(buf, key, keylen);
	appendBinaryStringInfo(buf, data, len);
	/* keep every message aligned */
	while (buf->len % MAXIMUM_ALIGNOF != 0)
		appendStringInfoChar(buf, '\0');
}

/* a range has ended: emit every range whose turn has come */
static void
end_range(RmLeader *L, int range)
{
	L->ended[range] = true;
	while (L->next_emit < L->sh->nranges && L->ended[L->next_emit])
	{
		L->next_emit++;
		if (L->next_emit < L->sh->nranges && L->held[L->next_emit].data)
			emit_held(L, L->next_emit);
	}
}

/* read every message waiting in the queues; returns how many */
static int
read_queues(RmLeader *L)
{
	int			got = 0;
	MemoryContext oldcxt = MemoryContextSwitchTo(L->msgcxt);

	for (int i = 0; i < L->nqueues; i++)
	{
		for (;;)
		{
			Size		nbytes;
			void	   *data;
			shm_mq_result r;
			RmRowMsg   *m;

			if (L->queues[i] == NULL)
				break;
			r = shm_mq_receive(L->queues[i], &nbytes, &data, true);
			if (r == SHM_MQ_WOULD_BLOCK)
				break;
			if (r == SHM_MQ_DETACHED)
			{
				shm_mq_detach(L->queues[i]);
				L->queues[i] = NULL;
				L->nlive--;
				if (L->detached != NULL)
					L->detached(L, i);
				break;
			}
			m = (RmRowMsg *) data;
			if (m->keylen < 0)
				end_range(L, m->range);
			else
				accept_row(L, m->range, m->key, m->keylen,
						   m->key + m->keylen, m->len);
			got++;
		}
	}
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(L->msgcxt);
	return got;
}

/* a store the leader computed itself; its queues are read now and then */
static void
leader_emit(void *arg, const char *key, int keylen, const void *data,
			int len)
{
	RmLeader   *L = (RmLeader *) arg;

	accept_row(L, L->range, key, keylen, data, len);
	if (++L->stores % RM_DRAIN_EVERY == 0)
		(void) read_queues(L);
}

/* compute ranges and read the workers' rows until every range has ended */
void
rm_par_lead(RmLeader *L)
{
	RmParallelShared *sh = L->sh;

	while (L->next_emit < sh->nranges)
	{
		int			got = read_queues(L);

		if (L->next_emit >= sh->nranges)
			break;
		L->range = claim_range(sh);
		if (L->range < sh->nranges)
		{
			rm_par_compute_range(sh, L->range, leader_emit, L);
			end_range(L, L->range);
			continue;
		}
		if (got == 0)
		{
			if (L->nlive == 0)
			{
				/* a worker's error is raised here; else none is left */
				if (L->pcxt != NULL)
					WaitForParallelWorkersToFinish(L->pcxt);
				elog(ERROR, "a parallel worker left report ranges unfinished");
			}
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1,
							 PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
		CHECK_FOR_INTERRUPTS();
	}
}

/* the queues, one per worker, read by this process */
static shm_mq_handle **
create_queues(ParallelContext *pcxt)
{
	char	   *space;
	shm_mq_handle **queues;

	if (pcxt->nworkers == 0)
		return NULL;
	space = shm_toc_allocate(pcxt->toc, mul_size(RM_QUEUE_SIZE, pcxt->nworkers));
	queues = palloc0(sizeof(shm_mq_handle *) * pcxt->nworkers);
	for (int i = 0; i < pcxt->nworkers; i++)
	{
		shm_mq	   *mq = shm_mq_create(space + (Size) i * RM_QUEUE_SIZE,
									   RM_QUEUE_SIZE);

		shm_mq_set_receiver(mq, MyProc);
		queues[i] = shm_mq_attach(mq, pcxt->seg, NULL);
	}
	shm_toc_insert(pcxt->toc, RM_PKEY_QUEUES, space);
	return queues;
}

/*
 * Enter parallel mode and launch up to nworkers workers for the pass, with
 * room for maxranges ranges, not published yet
 */
static ParallelContext *
launch(RmLeader *L, const RmParallelPass *pass, int nworkers, int maxranges)
{
	ParallelContext *pcxt;
	Size		shsize = rm_par_shared_size(maxranges);

	EnterParallelMode();
	pcxt = CreateParallelContext("restmon", "restmon_report_parallel_main",
								 nworkers);
	shm_toc_estimate_chunk(&pcxt->estimator, shsize);
	shm_toc_estimate_chunk(&pcxt->estimator,
						   mul_size(RM_QUEUE_SIZE, pcxt->nworkers));
	shm_toc_estimate_keys(&pcxt->estimator, 2);
	InitializeParallelDSM(pcxt);	/* may set nworkers to 0 */

	L->sh = shm_toc_allocate(pcxt->toc, shsize);
	rm_par_init_shared(L->sh, pass, maxranges);
	shm_toc_insert(pcxt->toc, RM_PKEY_SHARED, L->sh);
	L->queues = create_queues(pcxt);

	LaunchParallelWorkers(pcxt);
	L->nqueues = pcxt->nworkers_launched;
	L->nlive = L->nqueues;
	for (int i = 0; i < L->nqueues; i++)
		shm_mq_set_handle(L->queues[i], pcxt->worker[i].bgwhandle);
	return pcxt;
}

/*
 * Is a worker not even started yet (the postmaster has not forked it)
 * although every range has ended?  On a busy machine its start would
 * otherwise cost the whole pass; stopped before it starts, it logs nothing.
 */
static bool
unstarted_worker(ParallelContext *pcxt)
{
	for (int i = 0; i < pcxt->nworkers_launched; i++)
	{
		pid_t		pid;

		if (pcxt->worker[i].bgwhandle != NULL &&
			GetBackgroundWorkerPid(pcxt->worker[i].bgwhandle, &pid) ==
			BGWH_NOT_YET_STARTED)
			return true;
	}
	return false;
}

/*
 * The ranges published: compute, hand on every result, then pass->done,
 * while the workers exit; end parallel mode.  A worker not started by
 * then is stopped (DestroyParallelContext terminates every unfinished
 * worker) rather than waited for.  At DEBUG2 the log says where the
 * pass's time went (doc/operations.md, "Where a report's time goes").
 */
static void
run_ranges(RmLeader *L, ParallelContext *pcxt, text **firsts, int nranges,
		   const RmParallelPass *pass)
{
	TimestampTz t[4];

	t[0] = GetCurrentTimestamp();
	rm_par_publish(L->sh, firsts, nranges);
	elog(DEBUG1, "restmon %s: %d ranges, %d of %d parallel workers launched",
		 pass->kind == RM_PASS_REPORT ? "report" : "incidents",
		 nranges, pcxt->nworkers_launched, pcxt->nworkers);
	L->pcxt = pcxt;
	rm_par_lead(L);
	t[1] = GetCurrentTimestamp();
	if (pass->done != NULL)
		pass->done(L->put_arg);
	t[2] = GetCurrentTimestamp();

	if (!unstarted_worker(pcxt))
		WaitForParallelWorkersToFinish(pcxt);
	DestroyParallelContext(pcxt);
	ExitParallelMode();
	t[3] = GetCurrentTimestamp();
	elog(DEBUG2, "restmon %s: ranges cut %.1f ms, computed %.1f ms,"
		 " done %.1f ms, workers gone %.1f ms",
		 pass->kind == RM_PASS_REPORT ? "report" : "incidents",
		 rm_ms_between(L->started, t[0]), rm_ms_between(t[0], t[1]),
		 rm_ms_between(t[1], t[2]), rm_ms_between(t[2], t[3]));
}

/* restmon.store's row estimate (pg_class.reltuples; -1: never counted) */
double
rm_par_store_estimate(void)
{
	Oid			nsp = get_namespace_oid("restmon", true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid("store", nsp) :
	InvalidOid;
	HeapTuple	tup;
	double		n;

	if (!OidIsValid(relid))
		return -1;
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		return -1;
	n = ((Form_pg_class) GETSTRUCT(tup))->reltuples;
	ReleaseSysCache(tup);
	return n;
}

/*
 * The pass over every store as of pass->T, computed by up to
 * rm_report_processes() processes, each store's result handed to put in
 * store-id byte order, then pass->done (if any) called with put_arg
 * before the workers' exit is waited for.  False, having done nothing
 * (done not called), when one process
 * computes it (the caller's serial scan): one is asked for, there are too
 * few stores, or this already is a parallel worker.  When restmon.store's
 * estimate is large the workers are launched first, and the leader cuts
 * the ranges while they start; if there turn out to be too few stores
 * after all, the leader computes them as one range.  Inside SPI.
 */
bool
rm_parallel_pass(const RmParallelPass *pass, RmRangeEmit put, void *put_arg)
{
	int			nprocs = rm_report_processes();
	int			maxranges = nprocs * RM_RANGES_PER_PROC;
	ParallelContext *pcxt = NULL;
	text	  **firsts;
	int			nstores;
	int			nranges;
	double		estimate;
	RmLeader	L;

	if (nprocs <= 1 || IsInParallelMode())
		return false;
	if (rm_helpers_on())		/* a report worker: its kept helpers */
		return rm_helpers_pass(pass, put, put_arg, nprocs);

	memset(&L, 0, sizeof(L));
	L.started = GetCurrentTimestamp();
	L.put = put;
	L.put_arg = put_arg;
	estimate = rm_par_store_estimate();
	if (estimate >= (double) nprocs * RM_MIN_PROC_STORES * RM_EARLY_STORES)
		pcxt = launch(&L, pass, nprocs - 1, maxranges);

	nranges = rm_uptime_bounds(pass->T, maxranges, RM_MIN_RANGE_STORES,
							   estimate, &firsts, &nstores);
	if (nranges < 2 || nstores / nprocs < RM_MIN_PROC_STORES)
	{
		if (pcxt == NULL)
			return false;
		nranges = 1;			/* the leader alone: one unbounded range */
	}

	rm_par_leader_init(&L, nranges);

	if (pcxt == NULL)
		pcxt = launch(&L, pass, Min(nprocs - 1, nranges - 1), maxranges);
	run_ranges(&L, pcxt, firsts, nranges, pass);
	rm_par_leader_free(&L);
	return true;
}

/* where rm_report_parallel() hands each store's figures */
typedef struct RmReportPut
{
	RmStoreEmit emit;
	RmPassDone	done;
	void	   *arg;
} RmReportPut;

static void
report_done(void *arg)
{
	RmReportPut *rp = (RmReportPut *) arg;

	rp->done(rp->arg);
}

static void
report_put(void *arg, const char *key, int keylen, const void *data,
		   int len pg_attribute_unused())
{
	RmReportPut *rp = (RmReportPut *) arg;
	RmResult	res;

	Assert(len == sizeof(RmResult));
	memcpy(&res, data, sizeof(RmResult));
	rp->emit(rp->arg, key, keylen, &res);
}

/*
 * The full report as of T, each store's figures handed to emit in byte
 * order, then done (if not NULL) called: rm_parallel_pass() of the
 * figures.
 */
bool
rm_report_parallel(TimestampTz T, RmStoreEmit emit, RmPassDone done,
				   void *arg)
{
	RmParallelPass pass = {.kind = RM_PASS_REPORT,.T = T,
	.done = done != NULL ? report_done : NULL};
	RmReportPut rp = {emit, done, arg};

	return rm_parallel_pass(&pass, report_put, &rp);
}
