/*-------------------------------------------------------------------------
 *
 * src/report_worker.c
 *	  Computing asynchronous reports: the dynamic background workers that
 *	  claim and fill queued reports, the slots that bound how many run at
 *	  once, how they are started (at commit), and the synchronous path
 *	  (restmon_trigger_report(wait => true)).  What a report holds is
 *	  restmon_store_uptime()'s (store_uptime.c); the statements on the
 *	  queue are report_queue.c's.
 *
 * Invariants:
 *	- an open transaction holds no worker: a request only counts the
 *	  workers it wants, and they are registered once its transaction has
 *	  committed (an XactCallback); a rollback asks for none;
 *	- at most restmon.max_report_workers workers hold a slot, a
 *	  session-level lock on an advisory tag of database 0 (cluster-wide,
 *	  no SQL advisory lock can name it; pg_locks shows it with classid
 *	  RM_SLOT_CLASS and objid the slot).  A worker takes a slot before it
 *	  connects to a database, and exits at once if none is free, so it
 *	  never shows in pg_stat_activity without one; the committer starts
 *	  no more workers than it finds free slots;
 *	- a worker claims a report in a committed transaction before filling
 *	  it, fills it (rows and Complete) in a second one, and records a
 *	  failure in a third.  The CSV it rendered while writing the rows is
 *	  stored (report_file.c) in a transaction of its own right after the
 *	  report's commit, which neither waits for it nor for its WAL: until it
 *	  is stored, or if storing fails (logged, the report stays Complete),
 *	  the CSV is rendered from the rows, the same bytes (report_file.c);
 *	- the rest stay queued (worker_pid NULL): a worker takes queued
 *	  reports until none is left, then gives its slot back and looks once
 *	  more (a commit that found every slot busy relies on that look);
 *	  restmon_upkeep() starts workers for what is still queued;
 *	- a worker with no report left waits idle, still holding its slot, up
 *	  to restmon.report_worker_idle for the next request of its database,
 *	  so that request needs no process start.  While it waits it holds an
 *	  idle mark (an advisory tag of its database, RM_IDLE_FIELD4), taken
 *	  before it last looks at the queue; a commit that asks for workers
 *	  wakes (SetLatch) the idle workers of its database it finds marked,
 *	  and starts new ones only for the rest.  A worker drops the mark
 *	  before it claims, and before its final look when it leaves, so a
 *	  request whose commit counted a mark is taken either way.  Idle, it
 *	  holds no claim, no transaction and no lock but its slot and mark;
 *	- a commit that finds too few free slots, but idle workers of other
 *	  databases, starts workers that wait up to RM_SLOT_WAIT_MS for a
 *	  slot: such a worker holds a want mark (RM_WANT_FIELD4) and wakes the
 *	  idle workers, and an idle worker woken with nothing queued that sees
 *	  a want mark leaves.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "commands/extension.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "report_file.h"
#include "report_parallel.h"
#include "report_queue.h"
#include "report_slots.h"
#include "report_worker.h"
#include "restmon.h"

PGDLLEXPORT void restmon_report_worker_main(Datum main_arg);

/* what a worker is told, in bgw_extra */
typedef struct RmWorkerArgs
{
	Oid			dboid;
	Oid			roleoid;
	bool		wait_slot;		/* idle workers elsewhere were asked to leave:
								 * wait a moment for their slot */
} RmWorkerArgs;

StaticAssertDecl(sizeof(RmWorkerArgs) <= BGW_EXTRALEN,
				 "RmWorkerArgs must fit in bgw_extra");

/* workers this transaction wants started at commit, and their role */
static int	launch_at_commit = 0;
static Oid	launch_role = InvalidOid;
static bool xact_callback_registered = false;

/* ---------------------------------------------------------------------
 * Starting workers, at commit
 * ---------------------------------------------------------------------
 */

/*
 * A dynamic background worker of restmon's, one that connects to a
 * database and is never restarted: function is its entry point in this
 * library, type what pg_stat_activity shows.  The caller names it and
 * fills bgw_notify_pid and bgw_extra.
 */
void
rm_bgworker_init(BackgroundWorker *worker, const char *function,
				 const char *type)
{
	memset(worker, 0, sizeof(*worker));
	worker->bgw_flags = BGWORKER_SHMEM_ACCESS |
		BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker->bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker->bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker->bgw_library_name, BGW_MAXLEN, "restmon");
	snprintf(worker->bgw_function_name, BGW_MAXLEN, "%s", function);
	snprintf(worker->bgw_type, BGW_MAXLEN, "%s", type);
}

/* register one worker; false when no background worker slot is free */
static bool
register_worker(Oid dboid, Oid roleoid, bool wait_slot)
{
	BackgroundWorker worker;
	RmWorkerArgs args;

	memset(&args, 0, sizeof(args));
	rm_bgworker_init(&worker, "restmon_report_worker_main",
					 "restmon report worker");
	snprintf(worker.bgw_name, BGW_MAXLEN, "restmon report worker");
	worker.bgw_notify_pid = 0;

	args.dboid = dboid;
	args.roleoid = roleoid;
	args.wait_slot = wait_slot;
	memcpy(worker.bgw_extra, &args, sizeof(args));

	return RegisterDynamicBackgroundWorker(&worker, NULL);
}

/*
 * After commit: as many workers as were asked for, idle ones of this
 * database first, then new ones while slots are free, or held by idle
 * workers of other databases (the new ones wait a moment for those).
 * Nothing here may raise an error (the transaction is over); a worker that
 * cannot be registered leaves its reports queued.
 */
static void
launch_xact_callback(XactEvent event, void *arg pg_attribute_unused())
{
	int			n;
	int			free;
	int			freed = 0;

	switch (event)
	{
		case XACT_EVENT_COMMIT:
			n = launch_at_commit;
			launch_at_commit = 0;
			n -= rm_idle_workers(n, false, true);
			free = rm_slots_free();
			if (n > free)
				freed = rm_idle_workers(n - free, true, false);
			n = Min(n, free + freed);
			for (int i = 0; i < n; i++)
				if (!register_worker(MyDatabaseId, launch_role, freed > 0))
					break;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:	/* upkeep starts it once committed */
			launch_at_commit = 0;
			break;
		default:
			break;
	}
}

/*
 * Ask for up to n workers when the current transaction commits (reports
 * it requested or released become visible then).  They run as the current
 * user: inside the SECURITY DEFINER report API that is the extension's
 * owner, not the caller, who may have no access to the queue's tables (at
 * commit the caller is the current user again).  Returns how many would
 * take them if it committed now: n, or fewer if fewer workers of this
 * database are idle than slots are free.
 */
int
rm_report_launch_at_commit(int n)
{
	if (!xact_callback_registered)
	{
		RegisterXactCallback(launch_xact_callback, NULL);
		xact_callback_registered = true;
	}
	launch_at_commit = Min(launch_at_commit + n, rm_max_report_workers());
	launch_role = GetUserId();
	return Min(n, rm_idle_workers(n, false, false) + rm_slots_free() +
			   rm_idle_workers(n, true, false));
}

/* a filled report's CSV and ETag, kept past its commit (fill_report) */
static MemoryContext file_cxt = NULL;
static text *file_csv = NULL;
static char *file_etag = NULL;

/*
 * Fill a claimed report (its rows and Complete), in the current
 * transaction.  The CSV is rendered as the rows are written (unless the
 * SQL is older than the module: no file then); later (true) keeps it in
 * file_cxt for store_file() after the commit, else it is stored here,
 * before Complete, in the same transaction.  finished_at is when
 * everything but the commit is done.
 */
static void
fill_report(const char *id, bool later)
{
	bool		file = rm_report_file_available();
	bool		kept;
	text	   *csv = NULL;
	char	   *etag = NULL;
	int64		nrows;
	int64		bytes;
	TimestampTz t0 = GetCurrentTimestamp();
	TimestampTz t1;
	TimestampTz t2;

	if (later && file_cxt == NULL)
		file_cxt = AllocSetContextCreate(TopMemoryContext,
										 "restmon report file",
										 ALLOCSET_DEFAULT_SIZES);
	nrows = rm_report_fill(id, file ? &csv : NULL, &etag,
						   later ? file_cxt : CurrentMemoryContext);
	t1 = GetCurrentTimestamp();
	kept = file && later && csv != NULL;
	if (kept)
	{
		file_csv = csv;			/* rendered into file_cxt */
		file_etag = MemoryContextStrdup(file_cxt, etag);
	}
	else if (file)
		(void) rm_report_file_store(id, csv, etag, &bytes);
	t2 = GetCurrentTimestamp();
	rm_report_complete(id, nrows);
	elog(DEBUG2, "restmon report %s: rows %.1f ms, file %.1f ms%s, complete %.1f ms",
		 id, rm_ms_between(t0, t1), rm_ms_between(t1, t2),
		 kept ? " (kept for after the commit)" : "",
		 rm_ms_between(t2, GetCurrentTimestamp()));
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
	fill_report(id, false);
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

	/*
	 * The claim's commit does not wait for its WAL flush (SET LOCAL
	 * synchronous_commit = off): the report's own commit, synchronous,
	 * flushes it too, and a crash before that loses only the claim, so the
	 * report is queued again as if it had not been taken, one attempt not
	 * counted.
	 */
	(void) set_config_option("synchronous_commit", "off", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
	claimed = rm_report_claim(id);
	end_step();
	return claimed;
}

/*
 * Store the CSV fill_report() kept, in a transaction of its own whose
 * commit does not wait for its WAL (a crash loses only the file, which
 * is rendered from the rows until stored again).  A failure is logged and
 * costs only the file: the report is Complete already.
 */
static void
store_file(const char *id)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	TimestampTz t0 = GetCurrentTimestamp();
	int64		bytes;

	if (file_csv == NULL)
	{
		if (file_cxt != NULL)	/* a CSV not rendered in order */
			MemoryContextReset(file_cxt);
		return;
	}
	PG_TRY();
	{
		begin_step("storing a restmon report's CSV");
		(void) set_config_option("synchronous_commit", "off", PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0,
								 false);
		(void) rm_report_file_store(id, file_csv, file_etag, &bytes);
		end_step();
		elog(DEBUG2, "restmon report %s: file stored %.1f ms after the commit",
			 id, rm_ms_between(t0, GetCurrentTimestamp()));
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		ereport(LOG,
				(errmsg("could not store the CSV of restmon report %s: %s",
						id, edata->message),
				 errdetail("The report is complete; its CSV is rendered from its rows until it is stored.")));
		FreeErrorData(edata);
	}
	PG_END_TRY();
	MemoryContextReset(file_cxt);
	file_csv = NULL;
	file_etag = NULL;
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
		fill_report(id, true);
		end_step();
		elog(DEBUG2, "restmon report %s: committed %.1f ms after its start",
			 id, rm_ms_between(GetCurrentStatementStartTimestamp(),
							   GetCurrentTimestamp()));
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
	}
	PG_END_TRY();

	if (edata == NULL)
	{
		store_file(id);
		return;
	}
	if (file_cxt != NULL)		/* a file kept before the error: not stored */
		MemoryContextReset(file_cxt);
	file_csv = NULL;
	file_etag = NULL;
	ereport(LOG,
			(errmsg("restmon report %s failed: %s", id, edata->message)));
	begin_step(NULL);
	rm_report_fail(id, unpack_sql_state(edata->sqlerrcode), edata->message);
	end_step();
	FreeErrorData(edata);
}

/*
 * Are reports queued? (its own transaction: it sees the latest commits;
 * none if restmon was dropped meanwhile)
 */
static bool
reports_queued(void)
{
	bool		queued;

	begin_step(NULL);
	queued = OidIsValid(get_extension_oid("restmon", true)) &&
		rm_report_count_queued() > 0;
	end_step();
	return queued;
}

/* restmon.report_worker_idle's time since start has gone, in ms (>= 0) */
static long
idle_left(TimestampTz start)
{
	long		ms = TimestampDifferenceMilliseconds(start, GetCurrentTimestamp());

	return Max((long) restmon_report_worker_idle - ms, 0);
}

/*
 * Wait idle, holding the slot, for the next request of this database (see
 * the banner): true when a report is queued, false once
 * restmon.report_worker_idle has passed, the slot is no longer within
 * restmon.max_report_workers, or a new worker wants a slot (a want mark
 * seen when woken).  The idle mark is taken before the queue is looked at,
 * and dropped before returning.
 */
static bool
wait_idle(void)
{
	TimestampTz start = GetCurrentTimestamp();
	bool		woken;

	if (restmon_report_worker_idle <= 0 ||
		rm_slot_held() >= rm_max_report_workers())
		return false;
	rm_idle_mark(true);
	woken = reports_queued();
	pgstat_report_activity(STATE_IDLE, NULL);
	while (!woken && idle_left(start) > 0)
	{
		int			rc = WaitLatch(MyLatch,
								   WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
								   idle_left(start), PG_WAIT_EXTENSION);

		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			rm_helpers_trim();	/* restmon.report_workers lowered */
			if (rm_slot_held() >= rm_max_report_workers())
				break;
		}
		if ((rc & WL_LATCH_SET) != 0)
		{
			woken = reports_queued();
			if (!woken && rm_want_marks())
				break;
		}
	}
	rm_idle_mark(false);
	return woken;
}

/* claim and fill queued reports until none is left; returns how many */
static int
run_queued_reports(void)
{
	char		id[RM_ID_LEN + 1];
	int			n = 0;

	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		id[0] = '\0';
		if (!claim_report(id))
			break;
		run_claimed_report(id);
		n++;
	}
	return n;
}

void
restmon_report_worker_main(Datum main_arg pg_attribute_unused())
{
	RmWorkerArgs args;

	memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));

	pqsignal(SIGTERM, die);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();

	/*
	 * A slot first, before connecting: without one this worker leaves at
	 * once, unseen in pg_stat_activity, and the workers that hold the slots
	 * take its reports.
	 */
	before_shmem_exit(rm_slot_release_at_exit, 0);
	if (!rm_slot_take_waiting(args.wait_slot))
		proc_exit(0);
	BackgroundWorkerInitializeConnectionByOid(args.dboid, args.roleoid, 0);
	rm_helpers_enable();		/* its reports' kept helpers (report_helper.c) */

	/*
	 * Every queued report, and those that come while it waits idle; then the
	 * slot goes back and the queue is read once more: a request that
	 * committed while every slot was busy started no worker, and this look is
	 * what takes it.
	 */
	do
	{
		(void) run_queued_reports();

		/* then idle, for the next requests of this database */
		while (wait_idle())
			(void) run_queued_reports();
		rm_slot_release();
	} while (reports_queued() && rm_slot_take());

	pgstat_report_activity(STATE_IDLE, NULL);
	proc_exit(0);
}
