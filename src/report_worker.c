/*-------------------------------------------------------------------------
 *
 * src/report_worker.c
 *	  Computing asynchronous reports: the dynamic background workers that
 *	  claim and fill queued reports, how they are started, and the
 *	  synchronous path (restmon_trigger_report(wait => true)).  What a
 *	  report holds is restmon_store_uptime()'s (store_uptime.c); the
 *	  statements on the queue are report_queue.c's.
 *
 * Invariants:
 *	- a worker started from inside the requesting transaction waits for it
 *	  to end (XactLockTableWait) and finds no report if it rolled back;
 *	- a worker claims a report in a committed transaction before filling
 *	  it, fills it in a second one, and records a failure in a third;
 *	- when no worker slot is free the report stays queued (worker_pid NULL):
 *	  the next worker to finish, or upkeep, takes it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "report_queue.h"
#include "report_worker.h"

PGDLLEXPORT void restmon_report_worker_main(Datum main_arg);

/* what a worker is told, in bgw_extra */
typedef struct RmWorkerArgs
{
	Oid			dboid;
	Oid			roleoid;
	TransactionId wait_xid;		/* requester's transaction, or invalid */
	char		report_id[RM_ID_LEN + 1];
} RmWorkerArgs;

StaticAssertDecl(sizeof(RmWorkerArgs) <= BGW_EXTRALEN,
				 "RmWorkerArgs must fit in bgw_extra");

/*
 * Start a worker for a report (or for whatever report is queued, if id is
 * NULL), after wait_xid ends.  Returns false when no worker slot is free.
 */
bool
rm_report_launch(const char *id, TransactionId wait_xid)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	RmWorkerArgs args;

	memset(&worker, 0, sizeof(worker));
	memset(&args, 0, sizeof(args));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS |
		BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "restmon");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "restmon_report_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "restmon report worker");
	snprintf(worker.bgw_type, BGW_MAXLEN, "restmon report worker");
	worker.bgw_notify_pid = MyProcPid;

	args.dboid = MyDatabaseId;
	args.roleoid = GetUserId();
	args.wait_xid = wait_xid;
	if (id != NULL)
		strlcpy(args.report_id, id, sizeof(args.report_id));
	memcpy(worker.bgw_extra, &args, sizeof(args));

	return RegisterDynamicBackgroundWorker(&worker, &handle);
}

/*
 * Synchronous path (wait => true): same rows, same statement, in the
 * caller's transaction; an error is the caller's error.
 */
void
rm_run_report(const char *id)
{
	char		claimed[RM_ID_LEN + 1];

	strlcpy(claimed, id, sizeof(claimed));
	SPI_connect();
	if (!rm_report_claim(claimed))
		elog(ERROR, "could not start report %s", id);
	rm_report_fill(id);
	SPI_finish();
}

/* ---------------------------------------------------------------------
 * The worker
 * ---------------------------------------------------------------------
 */

/* a transaction of the worker's, with SPI and a snapshot */
static void
begin_step(const char *activity)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (activity != NULL)
		pgstat_report_activity(STATE_RUNNING, activity);
}

static void
end_step(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/*
 * Claim a report in its own transaction: the given one, or (id empty) the
 * oldest queued one.  Returns false if there is none to claim.
 */
static bool
claim_report(char *id)
{
	bool		claimed;

	begin_step("claiming a restmon report");
	claimed = rm_report_claim(id);
	end_step();
	return claimed;
}

/* fill a claimed report; an error marks it Failed, with its SQLSTATE */
static void
run_claimed_report(const char *id)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ErrorData  *volatile edata = NULL;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PG_TRY();
	{
		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		pgstat_report_activity(STATE_RUNNING, "computing a restmon report");
		rm_report_fill(id);
		end_step();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
	}
	PG_END_TRY();

	if (edata != NULL)
	{
		ereport(LOG,
				(errmsg("restmon report %s failed: %s", id, edata->message)));
		begin_step(NULL);
		rm_report_fail(id, unpack_sql_state(edata->sqlerrcode), edata->message);
		end_step();
		FreeErrorData(edata);
	}
}

void
restmon_report_worker_main(Datum main_arg)
{
	RmWorkerArgs args;
	char		id[RM_ID_LEN + 1];

	memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(args.dboid, args.roleoid, 0);

	/* the request is visible only once its transaction has committed */
	if (TransactionIdIsValid(args.wait_xid))
	{
		StartTransactionCommand();
		pgstat_report_activity(STATE_RUNNING, "waiting for the transaction that requested a restmon report");
		XactLockTableWait(args.wait_xid, NULL, NULL, XLTW_None);
		CommitTransactionCommand();
	}

	/*
	 * Our report (gone if its transaction rolled back, or taken by another
	 * worker), then every queued one.
	 */
	strlcpy(id, args.report_id, sizeof(id));
	if (id[0] != '\0' && claim_report(id))
		run_claimed_report(id);
	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		id[0] = '\0';
		if (!claim_report(id))
			break;
		run_claimed_report(id);
	}
	pgstat_report_activity(STATE_IDLE, NULL);
	proc_exit(0);
}
