/*-------------------------------------------------------------------------
 *
 * src/report_parallel_worker.c
 *	  A parallel worker of a pass over every store (report_parallel.c has
 *	  the leader and the design): it waits until the leader has published
 *	  the ranges, takes the next range no process took (leaving the last
 *	  RM_LEADER_TAIL to the leader, which computes them while this worker
 *	  exits), computes it with the serial pass's function and sends each
 *	  store's result, then the range's end, through its shared memory
 *	  queue.  Computing range i (rm_par_compute_range()) is here too: the
 *	  leader computes its ranges with the same function.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "executor/spi.h"
#include "storage/condition_variable.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "utils/wait_event.h"

#include "report_parallel_int.h"

PGDLLEXPORT void restmon_report_parallel_main(dsm_segment *seg, shm_toc *toc);

/* the first store of range i, NULL for the first range (unbounded) */
text *
rm_par_bound(RmParallelShared *sh, int i)
{
	return sh->bound_off[i] == 0 ? NULL :
		(text *) ((char *) sh + sh->bound_off[i]);
}

/* a store's figures, handed on as a result's bytes */
typedef struct RmFiguresEmit
{
	RmRangeEmit emit;
	void	   *arg;
} RmFiguresEmit;

static void
figures_emit(void *arg, const char *key, int keylen, const RmResult *res)
{
	RmFiguresEmit *f = (RmFiguresEmit *) arg;

	f->emit(f->arg, key, keylen, res, sizeof(RmResult));
}

/* range i of the pass: its stores' results handed to emit, in order */
void
rm_par_compute_range(RmParallelShared *sh, int i, RmRangeEmit emit,
					 void *arg)
{
	if (sh->kind == RM_PASS_REPORT)
	{
		RmFiguresEmit f = {emit, arg};

		rm_uptime_range(sh->T, rm_par_bound(sh, i), rm_par_bound(sh, i + 1), figures_emit,
						&f);
	}
	else
		rm_incidents_range(sh->T, rm_par_bound(sh, i), rm_par_bound(sh, i + 1),
						   &sh->min_duration, emit, arg);
}

/*
 * A worker's next range: the next one no process took, or nranges when
 * only the last RM_LEADER_TAIL are left (the leader takes them)
 */
static int
claim_worker_range(RmParallelShared *sh)
{
	uint32		r = pg_atomic_read_u32(&sh->next_range);

	while (r + RM_LEADER_TAIL < (uint32) sh->nranges)
	{
		if (pg_atomic_compare_exchange_u32(&sh->next_range, &r, r + 1))
			return (int) r;
	}
	return sh->nranges;
}

/* a worker: wait until the leader has published the ranges */
static void
wait_ranges(RmParallelShared *sh)
{
	ConditionVariablePrepareToSleep(&sh->ready_cv);
	while (pg_atomic_read_u32(&sh->ready) == 0)
		ConditionVariableSleep(&sh->ready_cv, PG_WAIT_EXTENSION);
	ConditionVariableCancelSleep();
	pg_read_barrier();
}

typedef struct RmWorkerOut
{
	shm_mq_handle *mqh;
	int			range;
	bool		detached;		/* the leader is gone: stop */
	RmRowMsg   *msg;			/* grown to the longest message */
	Size		msg_cap;
} RmWorkerOut;

static void
send_msg(RmWorkerOut *out, const char *key, int keylen, const void *data,
		 int len)
{
	RmRowMsg   *m;
	Size		size = offsetof(RmRowMsg, key) + Max(keylen, 0) + len;

	if (out->detached)
		return;
	if (keylen > RM_STORE_ID_MAX_BYTES)
		elog(ERROR, "store id of %d bytes in a report", keylen);
	if (size > out->msg_cap)
	{
		out->msg_cap = Max(size, out->msg_cap * 2);
		out->msg = out->msg ? repalloc(out->msg, out->msg_cap) :
			palloc(out->msg_cap);
	}
	m = out->msg;
	m->range = out->range;
	m->keylen = keylen;
	m->len = len;
	if (keylen > 0)
		memcpy(m->key, key, keylen);
	if (len > 0)
		memcpy(m->key + keylen, data, len);
	if (shm_mq_send(out->mqh, size, m, false, keylen < 0) == SHM_MQ_DETACHED)
		out->detached = true;
}

static void
worker_emit(void *arg, const char *key, int keylen, const void *data,
			int len)
{
	send_msg((RmWorkerOut *) arg, key, keylen, data, len);
}

/*
 * Ranges until none is left, each store's result sent through mqh, which
 * is detached when it returns (the leader's end of every range sent).
 * Inside a transaction with the leader's snapshot.
 */
void
rm_par_send_ranges(RmParallelShared *sh, shm_mq_handle *mqh)
{
	RmWorkerOut *out = palloc0(sizeof(RmWorkerOut));

	out->mqh = mqh;
	out->msg_cap = MAXALIGN(offsetof(RmRowMsg, key) + RM_STORE_ID_MAX_BYTES +
							sizeof(RmResult));
	out->msg = palloc(out->msg_cap);
	SPI_connect();
	while (!out->detached &&
		   (out->range = claim_worker_range(sh)) < sh->nranges)
	{
		rm_par_compute_range(sh, out->range, worker_emit, out);
		send_msg(out, NULL, -1, NULL, 0);	/* the range's end */
	}
	SPI_finish();
	pfree(out->msg);
	pfree(out);
}

/*
 * A parallel worker (ParallelWorkerMain has restored the leader's
 * transaction, snapshots, user and settings): ranges until none is left.
 */
void
restmon_report_parallel_main(dsm_segment *seg, shm_toc *toc)
{
	RmParallelShared *sh = shm_toc_lookup(toc, RM_PKEY_SHARED, false);
	char	   *space = shm_toc_lookup(toc, RM_PKEY_QUEUES, false);
	shm_mq	   *mq = (shm_mq *) (space + (Size) ParallelWorkerNumber * RM_QUEUE_SIZE);
	shm_mq_handle *mqh;

	shm_mq_set_sender(mq, MyProc);
	mqh = shm_mq_attach(mq, seg, NULL);
	wait_ranges(sh);
	rm_par_send_ranges(sh, mqh);
	shm_mq_detach(mqh);
}
