/*-------------------------------------------------------------------------
 *
 * src/report.c
 *	  Asynchronous reports: restmon_trigger_report() records a request and
 *	  starts a dynamic background worker that fills it from
 *	  restmon_store_uptime() (the one implementation of SPEC 3-6);
 *	  restmon_upkeep() re-runs reports whose worker died;
 *	  restmon_report_csv() renders a report as SPEC 6's CSV.
 *
 * Invariants:
 *	- a report is Running, Complete or Failed; its rows appear together with
 *	  Complete, in one transaction;
 *	- a worker works on a report only after claiming it (worker_pid set from
 *	  NULL, in a committed transaction); upkeep releases the claim of a
 *	  worker that is gone and, after RM_MAX_ATTEMPTS, fails the report;
 *	- a worker started from inside the requesting transaction waits for it
 *	  to end (XactLockTableWait) and finds no report if it rolled back;
 *	- when no worker slot is free the report stays queued (worker_pid NULL):
 *	  the next worker to finish, or upkeep, takes it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "common/base64.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "restmon.h"

PG_FUNCTION_INFO_V1(restmon_trigger_report);
PG_FUNCTION_INFO_V1(restmon_upkeep);
PG_FUNCTION_INFO_V1(restmon_report_csv);
PG_FUNCTION_INFO_V1(restmon_prune_reports);
PG_FUNCTION_INFO_V1(restmon_report_status);

PGDLLEXPORT void restmon_report_worker_main(Datum main_arg);

#define RM_ID_BYTES		16		/* 128 random bits */
#define RM_ID_LEN		22		/* their base64url form, unpadded */
#define RM_MAX_ATTEMPTS	3

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


/* ---------------------------------------------------------------------
 * Report ids
 * ---------------------------------------------------------------------
 */

static void
new_report_id(char *id)
{
	uint8		raw[RM_ID_BYTES];
	char		b64[32];
	int			len;

	if (!pg_strong_random(raw, sizeof(raw)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random report id")));
	len = pg_b64_encode((const char *) raw, sizeof(raw), b64, sizeof(b64));
	if (len < RM_ID_LEN)
		elog(ERROR, "could not encode a report id");
	for (int i = 0; i < RM_ID_LEN; i++)
		id[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
	id[RM_ID_LEN] = '\0';
}

/* ---------------------------------------------------------------------
 * Starting workers
 * ---------------------------------------------------------------------
 */

/*
 * Start a worker for a report (or for whatever report is queued, if
 * report_id is NULL).  Returns false when no worker slot is free.
 */
static bool
launch_worker(const char *report_id, TransactionId wait_xid)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	RmWorkerArgs args;

	memset(&worker, 0, sizeof(worker));
	memset(&args, 0, sizeof(args));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
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
	if (report_id != NULL)
		strlcpy(args.report_id, report_id, sizeof(args.report_id));
	memcpy(worker.bgw_extra, &args, sizeof(args));

	return RegisterDynamicBackgroundWorker(&worker, &handle);
}

/*
 * restmon_trigger_report(as_of timestamptz, store_id text, wait boolean)
 *
 * Resolves SPEC 4's default T now, records the request and returns its id.
 * With wait => true the report is computed here, before returning.
 */
Datum
restmon_trigger_report(PG_FUNCTION_ARGS)
{
	char		id[RM_ID_LEN + 1];
	bool		wait = !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
	Datum		args[3];
	Oid			types[3] = {TEXTOID, TIMESTAMPTZOID, TEXTOID};
	char		nulls[3] = "   ";
	int			ret;

	new_report_id(id);

	SPI_connect();

	/* SPEC 6: a store no source knows is an error now, not a Failed report */
	if (!PG_ARGISNULL(1) && !rm_store_known(PG_GETARG_TEXT_PP(1)))
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("store \"%s\" is unknown", text_to_cstring(PG_GETARG_TEXT_PP(1))),
				 errdetail("No status poll, business hours or time zone names it.")));

	/* SPEC 4: the default T is resolved now and kept with the report */
	args[0] = CStringGetTextDatum(id);
	if (!PG_ARGISNULL(0))
		args[1] = PG_GETARG_DATUM(0);
	else
	{
		TimestampTz T;

		if (rm_default_as_of(&T))
			args[1] = TimestampTzGetDatum(T);
		else
			nulls[1] = 'n';		/* no polls: an empty report */
	}
	if (PG_ARGISNULL(1))
		nulls[2] = 'n';
	else
		args[2] = PG_GETARG_DATUM(1);

	ret = SPI_execute_with_args("INSERT INTO restmon.report (report_id, as_of, store_filter)"
								" VALUES ($1, $2, $3)",
								3, types, args, nulls, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "could not record the report request");
	SPI_finish();

	if (wait)
		rm_run_report(id);
	else if (!launch_worker(id, GetTopTransactionId()))
		ereport(NOTICE,
				(errmsg("report %s is queued: no background worker slot is free", id),
				 errhint("It starts when a running report finishes or restmon_upkeep() runs; raise max_worker_processes to run more reports at once.")));

	PG_RETURN_TEXT_P(cstring_to_text(id));
}

/* ---------------------------------------------------------------------
 * Computing a report (in a worker, or in the caller with wait => true)
 * ---------------------------------------------------------------------
 */

static char *
api_schema(void)
{
	Oid			extoid = get_extension_oid("restmon", false);
	Datum		arg = ObjectIdGetDatum(extoid);
	Oid			type = OIDOID;
	char	   *schema;

	if (SPI_execute_with_args("SELECT n.nspname FROM pg_catalog.pg_extension e"
							  " JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace"
							  " WHERE e.oid = $1",
							  1, &type, &arg, NULL, true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not find the schema of extension restmon");
	schema = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	return schema;
}

/*
 * Fill a claimed report: its rows and Complete, in the current transaction.
 * Must be called inside SPI.
 */
static void
fill_report(const char *id)
{
	Datum		arg = CStringGetTextDatum(id);
	Oid			type = TEXTOID;
	StringInfoData sql;
	uint64		rows;

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "INSERT INTO restmon.report_row"
					 " SELECT r.report_id, u.store_id, u.uptime_last_hour, u.uptime_last_day,"
					 "  u.uptime_last_week, u.downtime_last_hour, u.downtime_last_day,"
					 "  u.downtime_last_week"
					 " FROM restmon.report r,"
					 "  %s.restmon_store_uptime(r.as_of, r.store_filter) u"
					 " WHERE r.report_id = $1",
					 quote_identifier(api_schema()));

	if (SPI_execute_with_args("DELETE FROM restmon.report_row WHERE report_id = $1",
							  1, &type, &arg, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not clear the rows of report %s", id);
	if (SPI_execute_with_args(sql.data, 1, &type, &arg, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not write the rows of report %s", id);
	rows = SPI_processed;
	{
		Datum		args2[2] = {arg, Int64GetDatum((int64) rows)};
		Oid			types2[2] = {TEXTOID, INT8OID};

		if (SPI_execute_with_args("UPDATE restmon.report SET status = 'Complete',"
								  " finished_at = pg_catalog.clock_timestamp(), row_count = $2"
								  " WHERE report_id = $1",
								  2, types2, args2, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "could not complete report %s", id);
	}
}

/*
 * Synchronous path (wait => true): same rows, same statement, in the
 * caller's transaction; an error is the caller's error.
 */
void
rm_run_report(const char *id)
{
	Datum		args[2] = {CStringGetTextDatum(id), Int32GetDatum(MyProcPid)};
	Oid			types[2] = {TEXTOID, INT4OID};

	SPI_connect();
	if (SPI_execute_with_args("UPDATE restmon.report SET worker_pid = $2,"
							  " started_at = pg_catalog.clock_timestamp(), attempts = attempts + 1"
							  " WHERE report_id = $1",
							  2, types, args, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not start report %s", id);
	fill_report(id);
	SPI_finish();
}

/* ---------------------------------------------------------------------
 * The worker
 * ---------------------------------------------------------------------
 */

/*
 * Claim a report in its own transaction: the given one, or (id empty) the
 * oldest queued one.  Returns false if there is none to claim.
 */
static bool
claim_report(char *id)
{
	Datum		args[2] = {CStringGetTextDatum(id), Int32GetDatum(MyProcPid)};
	Oid			types[2] = {TEXTOID, INT4OID};
	bool		claimed;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "claiming a restmon report");

	if (SPI_execute_with_args("UPDATE restmon.report SET worker_pid = $2,"
							  " started_at = pg_catalog.clock_timestamp(), attempts = attempts + 1"
							  " WHERE report_id = (SELECT report_id FROM restmon.report"
							  "   WHERE status = 'Running' AND worker_pid IS NULL"
							  "     AND ($1 = '' OR report_id = $1)"
							  "   ORDER BY requested_at LIMIT 1 FOR UPDATE SKIP LOCKED)"
							  " RETURNING report_id",
							  2, types, args, NULL, false, 1) != SPI_OK_UPDATE_RETURNING)
		elog(ERROR, "could not claim a report");
	claimed = SPI_processed == 1;
	if (claimed)
		strlcpy(id, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1),
				RM_ID_LEN + 1);

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	return claimed;
}

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
		fill_report(id);
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
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
		Datum		args[3] = {CStringGetTextDatum(id),
			CStringGetTextDatum(unpack_sql_state(edata->sqlerrcode)),
		CStringGetTextDatum(edata->message)};
		Oid			types[3] = {TEXTOID, TEXTOID, TEXTOID};

		ereport(LOG,
				(errmsg("restmon report %s failed: %s", id, edata->message)));
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		if (SPI_execute_with_args("UPDATE restmon.report SET status = 'Failed',"
								  " finished_at = pg_catalog.clock_timestamp(),"
								  " error_sqlstate = $2, error_message = $3"
								  " WHERE report_id = $1",
								  3, types, args, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "could not mark report %s failed", id);
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
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

/* ---------------------------------------------------------------------
 * Upkeep
 * ---------------------------------------------------------------------
 */

/*
 * restmon_upkeep(): release reports whose worker is gone (crash, kill,
 * restart), fail those that used up their attempts, and start a worker for
 * each queued report while slots are free.  Returns the number of workers
 * started.
 */
Datum
restmon_upkeep(PG_FUNCTION_ARGS)
{
	int64		queued;
	int32		started = 0;
	bool		isnull;
	Datum		arg = Int32GetDatum(RM_MAX_ATTEMPTS);
	Oid			type = INT4OID;

	SPI_connect();
	if (SPI_execute_with_args("UPDATE restmon.report r SET"
							  " worker_pid = NULL,"
							  " status = CASE WHEN r.attempts >= $1 THEN 'Failed' ELSE 'Running' END,"
							  " finished_at = CASE WHEN r.attempts >= $1 THEN pg_catalog.clock_timestamp() END,"
							  " error_sqlstate = CASE WHEN r.attempts >= $1 THEN '57P01' END,"
							  " error_message = CASE WHEN r.attempts >= $1 THEN"
							  "   pg_catalog.format('the report worker stopped before finishing, %s times', r.attempts) END"
							  " WHERE r.status = 'Running' AND r.worker_pid IS NOT NULL"
							  "   AND NOT EXISTS (SELECT FROM pg_catalog.pg_stat_activity a"
							  "                   WHERE a.pid = r.worker_pid)",
							  1, &type, &arg, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not release reports of stopped workers");

	if (SPI_execute("SELECT pg_catalog.count(*) FROM restmon.report"
					" WHERE status = 'Running' AND worker_pid IS NULL",
					false, 1) != SPI_OK_SELECT)	/* sees the UPDATE above */
		elog(ERROR, "could not count queued reports");
	queued = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
										 SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();

	/* each worker takes queued reports until none is left */
	for (int64 i = 0; i < queued; i++)
	{
		if (!launch_worker(NULL, GetTopTransactionIdIfAny()))
			break;
		started++;
	}
	PG_RETURN_INT32(started);
}

/*
 * restmon_prune_reports(): delete finished reports older than
 * restmon.report_retention.  Returns how many.
 */
Datum
restmon_prune_reports(PG_FUNCTION_ARGS)
{
	Datum		arg = Int32GetDatum(restmon_report_retention);
	Oid			type = INT4OID;
	int64		n;

	SPI_connect();
	if (SPI_execute_with_args("DELETE FROM restmon.report WHERE status <> 'Running'"
							  " AND finished_at < pg_catalog.now() - pg_catalog.make_interval(mins => $1)",
							  1, &type, &arg, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not prune reports");
	n = SPI_processed;
	SPI_finish();
	PG_RETURN_INT64(n);
}

/* ---------------------------------------------------------------------
 * CSV (SPEC 6)
 * ---------------------------------------------------------------------
 */

static void
append_csv_field(StringInfo buf, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL)
	{
		appendStringInfoString(buf, s);
		return;
	}
	appendStringInfoChar(buf, '"');
	for (; *s; s++)
	{
		if (*s == '"')
			appendStringInfoChar(buf, '"');
		appendStringInfoChar(buf, *s);
	}
	appendStringInfoChar(buf, '"');
}

/*
 * Report status, or an error for a malformed or unknown id.  Leaves the
 * report's (status, error, row_count) in SPI_tuptable.  The plan is kept
 * for the backend's life: status polls are the hottest call of the API.
 */
char *
rm_report_status(const char *id)
{
	static SPIPlanPtr plan = NULL;
	Datum		arg;

	if (strlen(id) != RM_ID_LEN || strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != RM_ID_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid report id"),
				 errdetail("A report id is %d characters of A-Z, a-z, 0-9, \"-\" and \"_\".", RM_ID_LEN)));
	if (plan == NULL)
	{
		Oid			type = TEXTOID;
		SPIPlanPtr	p = SPI_prepare("SELECT status, error_sqlstate || ': ' || error_message, row_count"
									" FROM restmon.report WHERE report_id = $1",
									1, &type);

		if (p == NULL || SPI_keepplan(p) != 0)
			elog(ERROR, "could not prepare the report status query");
		plan = p;
	}
	arg = CStringGetTextDatum(id);
	if (SPI_execute_plan(plan, &arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read a report");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("report \"%s\" does not exist", id),
				 errhint("Reports are kept for restmon.report_retention after they finish.")));
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

/*
 * restmon_report_csv(report_id): the report as SPEC 6's CSV text, or NULL
 * while it is still Running.  A Failed report is an error.
 */
/*
 * restmon_report_status(report_id, OUT status, OUT error, OUT rows)
 */
Datum
restmon_report_status(PG_FUNCTION_ARGS)
{
	char	   *id = text_to_cstring(PG_GETARG_TEXT_PP(0));
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3];
	HeapTupleHeader result;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);

	SPI_connect();
	(void) rm_report_status(id);	/* errors for a bad or unknown id */
	for (int i = 0; i < 3; i++)
		values[i] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
								  i + 1, &nulls[i]);
	/* SPI_returntuple copies the row out of SPI's memory */
	result = SPI_returntuple(heap_form_tuple(tupdesc, values, nulls), tupdesc);
	SPI_finish();
	PG_RETURN_DATUM(PointerGetDatum(result));
}

Datum
restmon_report_csv(PG_FUNCTION_ARGS)
{
	char	   *id = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *status;
	StringInfoData buf;
	Datum		arg = CStringGetTextDatum(id);
	Oid			type = TEXTOID;
	Portal		portal;
	text	   *result;
	MemoryContext callcxt = CurrentMemoryContext;
	MemoryContext batchcxt;

	SPI_connect();
	status = rm_report_status(id);
	if (strcmp(status, "Running") == 0)
	{
		SPI_finish();
		PG_RETURN_NULL();
	}
	if (strcmp(status, "Failed") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("report \"%s\" failed", id),
				 errhint("restmon_report_status() shows its error.")));

	{
		MemoryContext spicxt = MemoryContextSwitchTo(callcxt);

		initStringInfo(&buf);
		MemoryContextSwitchTo(spicxt);
	}
	appendStringInfoString(&buf,
						   "store_id,uptime_last_hour,uptime_last_day,uptime_last_week,"
						   "downtime_last_hour,downtime_last_day,downtime_last_week\n");

	portal = SPI_cursor_open_with_args(NULL,
									   "SELECT store_id, uptime_last_hour, uptime_last_day,"
									   " uptime_last_week, downtime_last_hour, downtime_last_day,"
									   " downtime_last_week FROM restmon.report_row"
									   " WHERE report_id = $1 ORDER BY store_id",
									   1, &type, &arg, NULL, true, CURSOR_OPT_NO_SCROLL);
	/* the text of each batch lives in batchcxt; buf grows in callcxt */
	batchcxt = AllocSetContextCreate(CurrentMemoryContext, "restmon csv batch",
									 ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		MemoryContext spicxt;

		SPI_cursor_fetch(portal, true, 10000);
		if (SPI_processed == 0)
			break;
		spicxt = MemoryContextSwitchTo(batchcxt);
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];

			for (int c = 1; c <= 7; c++)
			{
				char	   *v = SPI_getvalue(tup, SPI_tuptable->tupdesc, c);

				if (c > 1)
					appendStringInfoChar(&buf, ',');
				if (v != NULL)
					append_csv_field(&buf, v);
			}
			appendStringInfoChar(&buf, '\n');
		}
		MemoryContextSwitchTo(spicxt);
		MemoryContextReset(batchcxt);
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	SPI_finish();

	result = cstring_to_text_with_len(buf.data, buf.len);
	PG_RETURN_TEXT_P(result);
}
