/*-------------------------------------------------------------------------
 *
 * src/report.c
 *	  The SQL entry points of asynchronous reports: restmon_trigger_report()
 *	  records a request, and a background worker started when its
 *	  transaction commits fills it from restmon_store_uptime() (the one
 *	  implementation of semantics §3-6);
 *	  restmon_report_status() and restmon_report_csv() read it (and
 *	  restmon_report_csv_page() a page of the CSV at a time, both from
 *	  the file stored when the report completed, report_file.c;
 *	  restmon_report_csv_etag() its HTTP entity tag);
 *	  restmon_upkeep() re-runs reports whose worker died (on a coordinator,
 *	  also those a partition failed: coordinator.c; and prunes a
 *	  batch of old polls, prune.c) and
 *	  restmon_prune_reports() deletes old ones.
 *
 * The queue's statements are in report_queue.c, the workers in
 * report_worker.c, the CSV in report_csv.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "coordinator.h"
#include "report_csv.h"
#include "report_file.h"
#include "report_queue.h"
#include "report_worker.h"
#include "restmon.h"

PG_FUNCTION_INFO_V1(restmon_trigger_report);
PG_FUNCTION_INFO_V1(restmon_upkeep);
PG_FUNCTION_INFO_V1(restmon_report_csv);
PG_FUNCTION_INFO_V1(restmon_prune_reports);
PG_FUNCTION_INFO_V1(restmon_report_status);
PG_FUNCTION_INFO_V1(restmon_report_csv_page);
PG_FUNCTION_INFO_V1(restmon_report_csv_etag);

/*
 * restmon_trigger_report(as_of timestamptz, store_id text, wait boolean)
 *
 * Resolves semantics §4's default T now, records the request and returns
 * its id.  With wait => true the report is computed here, before
 * returning.
 */
Datum
restmon_trigger_report(PG_FUNCTION_ARGS)
{
	char		id[RM_ID_LEN + 1];
	bool		wait = !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
	text	   *store = PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1);
	TimestampTz T;
	bool		has_T = true;

	/* operations: a standby cannot record a report; say so at once */
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot trigger a report on a standby server"),
				 errhint("Trigger reports on the primary; restmon_get_report() and restmon_report_csv() read them here once replicated.")));

	if (store != NULL)
		rm_check_store_id(store);	/* semantics §1.3 */
	SPI_connect();

	/* semantics §6: an unknown store is an error now, not a Failed report */
	if (store != NULL && !rm_store_known(store))
		rm_error_unknown_store(store);

	/*
	 * semantics §4: the default T is resolved now and kept with the report;
	 * an instant no report can have (infinity, year 100000) is refused now
	 * with 22008, not left to fail in the worker
	 */
	if (!PG_ARGISNULL(0))
		T = PG_GETARG_TIMESTAMPTZ(0);
	else
		has_T = rm_default_as_of(&T);	/* no polls: an empty report */
	if (has_T)
		rm_check_instant(T, "as_of");

	rm_report_insert(id, has_T ? &T : NULL, store);
	SPI_finish();

	/*
	 * A worker starts at commit, if a restmon.max_report_workers slot is
	 * free; else a running worker takes the report after its own.
	 */
	if (wait)
		rm_run_report(id);
	else
		(void) rm_report_launch_at_commit(1);

	PG_RETURN_TEXT_P(cstring_to_text(id));
}

/*
 * restmon_upkeep(): release reports whose worker is gone (crash, kill,
 * restart), fail those that used up their attempts, and ask for a worker
 * per queued report, within the free restmon.max_report_workers slots, to
 * start when this transaction commits.  Returns how many that is.
 */
Datum
restmon_upkeep(PG_FUNCTION_ARGS)
{
	int64		queued;

	SPI_connect();
	rm_report_release_stopped();
	/* a coordinator: reports a partition failed, once they all answer */
	(void) rm_coordinator_retry_reports();
	queued = rm_report_count_queued();
	SPI_finish();

	/* one bounded batch of observation retention (prune.c) */
	(void) rm_prune_observations(RM_UPKEEP_PRUNE_ROWS, RM_UPKEEP_PRUNE_MS,
								 NULL);

	/* each worker takes queued reports until none is left */
	PG_RETURN_INT32(rm_report_launch_at_commit((int) Min(queued, INT_MAX)));
}

/*
 * restmon_prune_reports(): delete finished reports older than
 * restmon.report_retention.  Returns how many.
 */
Datum
restmon_prune_reports(PG_FUNCTION_ARGS)
{
	int64		n;

	SPI_connect();
	n = rm_report_prune(restmon_report_retention);
	SPI_finish();
	PG_RETURN_INT64(n);
}

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
	/* an error for a bad or unknown id */
	(void) rm_report_lookup(id, values, nulls);
	/* SPI_returntuple copies the row out of SPI's memory */
	result = SPI_returntuple(heap_form_tuple(tupdesc, values, nulls), tupdesc);
	SPI_finish();
	PG_RETURN_DATUM(PointerGetDatum(result));
}

/*
 * restmon_report_csv(report_id): the report as semantics §6's CSV text, or
 * NULL while it is still Running.  A Failed report is an error.
 */
Datum
restmon_report_csv(PG_FUNCTION_ARGS)
{
	char	   *id = text_to_cstring(PG_GETARG_TEXT_PP(0));
	MemoryContext callcxt = CurrentMemoryContext;
	text	   *result;

	SPI_connect();
	switch (rm_report_lookup(id, NULL, NULL))
	{
		case RM_REPORT_RUNNING:
			SPI_finish();
			PG_RETURN_NULL();
		case RM_REPORT_FAILED:
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("report \"%s\" failed", id),
					 errhint("restmon_report_status() shows its error.")));
			break;
		case RM_REPORT_COMPLETE:
			break;
	}
	/* the stored file; a report completed before 0.4.0 may have none */
	result = rm_report_file_csv(id, callcxt);
	if (result == NULL)
		result = rm_report_csv(id, callcxt);
	SPI_finish();
	PG_RETURN_TEXT_P(result);
}

/*
 * restmon_report_csv_page(report_id, after_store_id, max_bytes,
 *						   OUT csv, OUT resume_after)
 *
 * A page of restmon_report_csv(report_id): the header when after_store_id
 * is NULL, then the lines of the stores after it until the page holds
 * max_bytes (a line is never split); resume_after is the after_store_id of
 * the next page, NULL when this page ends the CSV.  Both NULL while the
 * report is Running; a Failed report is an error, as in
 * restmon_report_csv().
 */
Datum
restmon_report_csv_page(PG_FUNCTION_ARGS)
{
	char	   *id;
	char	   *after;
	int32		max_bytes;
	MemoryContext callcxt = CurrentMemoryContext;
	TupleDesc	tupdesc;
	Datum		values[2] = {0};
	bool		nulls[2] = {true, true};
	char	   *resume = NULL;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(2))
		PG_RETURN_NULL();
	id = text_to_cstring(PG_GETARG_TEXT_PP(0));
	after = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	max_bytes = PG_GETARG_INT32(2);
	if (max_bytes < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_bytes must be positive")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);

	SPI_connect();
	switch (rm_report_lookup(id, NULL, NULL))
	{
		case RM_REPORT_RUNNING:
			break;
		case RM_REPORT_FAILED:
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("report \"%s\" failed", id),
					 errhint("restmon_report_status() shows its error.")));
			break;
		case RM_REPORT_COMPLETE:
			values[0] = PointerGetDatum(rm_report_file_page(id, after,
															max_bytes,
															&resume, callcxt));
			nulls[0] = false;
			break;
	}
	SPI_finish();
	if (resume != NULL)
	{
		values[1] = CStringGetTextDatum(resume);
		nulls[1] = false;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values,
													  nulls)));
}

/*
 * restmon_report_csv_etag(report_id, OUT status, OUT error, OUT etag,
 *						   OUT bytes)
 *
 * restmon_report_status()'s status and error, and for a Complete report
 * the strong HTTP entity tag and size of its CSV (NULL otherwise): what
 * the HTTP gateway checks on every request for a CSV, so that a pruned
 * report is a 404 and a client holding the ETag gets a 304.  A report
 * completed before 0.4.0 gets its file stored here (report_file.c).
 */
Datum
restmon_report_csv_etag(PG_FUNCTION_ARGS)
{
	char	   *id = text_to_cstring(PG_GETARG_TEXT_PP(0));
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {false, false, true, true};
	Datum		found[3];
	bool		found_nulls[3];
	HeapTupleHeader result;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);

	SPI_connect();
	/* an error for a bad or unknown id */
	if (rm_report_lookup(id, found, found_nulls) == RM_REPORT_COMPLETE)
	{
		int64		bytes;

		values[2] = CStringGetTextDatum(rm_report_file_etag(id, &bytes));
		values[3] = Int64GetDatum(bytes);
		nulls[2] = nulls[3] = false;
	}
	values[0] = found[0];
	values[1] = found[1];
	nulls[1] = found_nulls[1];
	result = SPI_returntuple(heap_form_tuple(tupdesc, values, nulls), tupdesc);
	SPI_finish();
	PG_RETURN_DATUM(PointerGetDatum(result));
}
