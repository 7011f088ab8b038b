/*-------------------------------------------------------------------------
 *
 * src/coordinator.c
 *	  The hooks that let a restmon database act as the coordinator of a
 *	  sharded cluster (doc/scale-out.md): when the extension
 *	  restmon_coordinator is installed in the database, the store data
 *	  lives on the partitions, and the entry points below hand their work
 *	  to its SQL functions (schema restmon_coordinator), which route it
 *	  with PL/Proxy.
 *
 * Invariants:
 *	- without restmon_coordinator nothing here changes anything: every
 *	  hook is a no-op and the single-node code runs as before;
 *	- the coordinator's own restmon tables hold no store data after a
 *	  statement: a file is loaded into them with the single-node code (one
 *	  reader, one set of checks, rejected lines kept here with their line
 *	  numbers), then restmon_coordinator.distribute() sends the rows to the
 *	  partitions that own their stores and empties them;
 *	- the figures are computed on the partitions by the single-node code:
 *	  no rule of semantics §3-§5 is repeated here or in SQL;
 *	- a call that fails because a partition did not answer (PL/Proxy's
 *	  own libpq failure, or the partition's server ending the session)
 *	  raises 08006 (connection_failure) with PL/Proxy's message, which
 *	  names the partition's database; every other error is left as it is.
 *	  A report that fails so is re-run by restmon_upkeep() once every
 *	  partition answers (rm_coordinator_retry_reports());
 *	- every statement is fixed text, schema-qualified; must run inside SPI.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "executor/tstoreReceiver.h"
#include "fmgr.h"
#include "funcapi.h"
#include "nodes/params.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "ingest_int.h"
#include "coordinator.h"
#include "report_queue.h"

/*
 * PL/Proxy's messages for a partition that did not answer: its libpq calls
 * ("<function>(<nargs>): [<database>] PQconnectPoll: <libpq's message>")
 * and its connect timeout; PL/Proxy raises them as XX000.
 */
static const char *const unreachable_marks[] = {
	"] PQconnectStart: ", "] PQconnectPoll: ", "] PQsendQueryParams: ",
	"] PQflush: ", "] PQconsumeInput: ", "connect timeout to: ",
};

/*
 * Did this error come from a partition that did not answer?  PL/Proxy's
 * libpq failures, a remote class 08 error, or the partition's server
 * ending the session (57P01-57P03, relayed as "[<database>] REMOTE ...").
 * A query timeout, a remote error of restmon or any other error is not.
 */
static bool
partition_unreachable(const ErrorData *e)
{
	const char *m = e->message;

	if (m == NULL ||
		(strstr(m, "PL/Proxy") == NULL && strstr(m, "] REMOTE ") == NULL))
		return false;
	if (ERRCODE_TO_CATEGORY(e->sqlerrcode) == ERRCODE_CONNECTION_EXCEPTION)
		return true;
	if (e->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN ||
		e->sqlerrcode == ERRCODE_CRASH_SHUTDOWN ||
		e->sqlerrcode == ERRCODE_CANNOT_CONNECT_NOW)
		return true;
	if (e->sqlerrcode != ERRCODE_INTERNAL_ERROR)
		return false;
	for (int i = 0; i < (int) lengthof(unreachable_marks); i++)
		if (strstr(m, unreachable_marks[i]) != NULL)
			return true;
	return false;
}

/*
 * SPI_execute_plan_extended() of a statement that calls the partitions
 * (fixed text): a partition that did not answer is 08006 (the message,
 * naming it, kept).  With dest, the rows go there as they come.  Also
 * used by the gathers of gather.c.
 */
int
rm_coordinator_execute(const char *sql, int nargs, Oid *types, Datum *args,
					   const char *nulls, bool read_only, long count,
					   DestReceiver *dest)
{
	MemoryContext cxt = CurrentMemoryContext;
	SPIExecuteOptions opts;
	SPIPlanPtr	plan;
	int			ret = 0;

	memset(&opts, 0, sizeof(opts));
	opts.params = makeParamList(nargs);
	for (int i = 0; i < nargs; i++)
	{
		ParamExternData *p = &opts.params->params[i];

		p->value = args[i];
		p->isnull = nulls != NULL && nulls[i] == 'n';
		p->pflags = PARAM_FLAG_CONST;
		p->ptype = types[i];
	}
	opts.read_only = read_only;
	opts.tcount = count;
	opts.dest = dest;
	plan = SPI_prepare(sql, nargs, types);
	if (plan == NULL)
		elog(ERROR, "could not prepare a call to the partitions: %s", sql);

	PG_TRY();
	{
		ret = SPI_execute_plan_extended(plan, &opts);
	}
	PG_CATCH();
	{
		ErrorData  *e;

		MemoryContextSwitchTo(cxt);
		e = CopyErrorData();
		if (!partition_unreachable(e))
			PG_RE_THROW();
		FlushErrorState();
		if (e->detail == NULL)
			e->detail = psprintf("A partition did not answer (SQLSTATE %s).",
								 unpack_sql_state(e->sqlerrcode));
		if (e->hint == NULL)
			e->hint = pstrdup("A report that failed so is run again by restmon_upkeep() once every partition answers.");
		e->sqlerrcode = ERRCODE_CONNECTION_FAILURE;
		ReThrowError(e);
	}
	PG_END_TRY();
	SPI_freeplan(plan);
	return ret;
}

static int
coord_execute(const char *sql, int nargs, Oid *types, Datum *args,
			  const char *nulls, bool read_only, long count)
{
	return rm_coordinator_execute(sql, nargs, types, args, nulls, read_only,
								  count, NULL);
}

/* is this database a coordinator (restmon_coordinator installed)? */
bool
rm_coordinator_active(void)
{
	return OidIsValid(get_extension_oid("restmon_coordinator", true));
}

/*
 * Run "SELECT * FROM restmon_coordinator.<fn>(...)" (sql, fixed text) and
 * append its rows to the materialized SRF of fcinfo; the rows have the
 * calling function's result type.  They go straight into the SRF's
 * tuplestore, as PL/Proxy hands them over: no copy in between.
 */
void
rm_coordinator_srf(FunctionCallInfo fcinfo, const char *sql, int nargs,
				   Oid *types, Datum *args, const char *nulls)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	DestReceiver *dest = CreateTuplestoreDestReceiver();

	SetTuplestoreDestReceiverParams(dest, rsinfo->setResult,
									rsinfo->econtext->ecxt_per_query_memory,
									false, rsinfo->setDesc,
									"the partitions' rows do not match the function's result type");
	if (rm_coordinator_execute(sql, nargs, types, args, nulls, true, 0, dest)
		!= SPI_OK_SELECT)
		elog(ERROR, "could not read from the partitions: %s", sql);
	dest->rDestroy(dest);
}

/* semantics §4 on a coordinator: the latest poll of all partitions */
bool
rm_coordinator_default_as_of(TimestampTz *T)
{
	bool		isnull;
	Datum		d;

	if (coord_execute("SELECT restmon_coordinator.default_as_of()",
					  0, NULL, NULL, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the latest poll of the partitions");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
					  &isnull);
	if (!isnull)
		*T = DatumGetTimestampTz(d);
	SPI_freetuptable(SPI_tuptable);
	return !isnull;
}

/* semantics §6 on a coordinator: asks the partition that owns the store */
bool
rm_coordinator_store_known(text *store)
{
	Datum		args[1] = {PointerGetDatum(store)};
	Oid			types[1] = {TEXTOID};
	bool		isnull;
	bool		known;

	if (coord_execute("SELECT restmon_coordinator.store_known($1)",
					  1, types, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up a store on its partition");
	known = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
									   SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return !isnull && known;
}

/*
 * After a file (or a status text) was applied to the coordinator's own
 * tables: send its rows to the partitions and empty those tables.  The
 * partitions' answer replaces the counts of what was new (a poll a
 * partition already stored is a duplicate there, as on one node).
 */
void
rm_coordinator_distribute(RmIngest *st)
{
	Datum		args[1];
	Oid			types[1] = {TEXTOID};
	bool		isnull;
	TupleDesc	desc;
	HeapTuple	tup;

	if (!rm_coordinator_active())
		return;
	args[0] = CStringGetTextDatum(st->def->name);
	if (coord_execute("SELECT loaded, duplicate, rejected"
					  " FROM restmon_coordinator.distribute($1)",
					  1, types, args, NULL, false, 1)
		!= SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not send the rows to the partitions");
	desc = SPI_tuptable->tupdesc;
	tup = SPI_tuptable->vals[0];
	st->rows_loaded = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
	st->rows_duplicate += DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
	st->rows_rejected += DatumGetInt64(SPI_getbinval(tup, desc, 3, &isnull));
	SPI_freetuptable(SPI_tuptable);
}

/*
 * restmon_upkeep() on a coordinator: reports that failed because a
 * partition did not answer (08006 above) are queued again, under the same
 * id and as_of, once every partition answers; at most
 * restmon_coordinator.max_report_retries() times each, backing off
 * (restmon_coordinator.retry_reports()).  Returns how many; 0 elsewhere.
 * Inside SPI.
 */
int64
rm_coordinator_retry_reports(void)
{
	Datum		args[2] = {
		CStringGetTextDatum(rm_report_status_name(RM_REPORT_FAILED)),
	CStringGetTextDatum(rm_report_status_name(RM_REPORT_RUNNING))};
	Oid			types[2] = {TEXTOID, TEXTOID};
	bool		isnull;
	int64		n;

	if (!rm_coordinator_active())
		return 0;
	if (SPI_execute_with_args("SELECT restmon_coordinator.retry_reports($1, $2)",
							  2, types, args, NULL, false, 1) != SPI_OK_SELECT
		|| SPI_processed != 1)
		elog(ERROR, "could not queue again the reports of a partition that did not answer");
	n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
									SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return isnull ? 0 : n;
}
