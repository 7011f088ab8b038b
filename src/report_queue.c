/*-------------------------------------------------------------------------
 *
 * src/report_queue.c
 *	  The report queue: every statement on restmon.report and
 *	  restmon.report_row, as pg_cron's job_metadata.c owns cron.job.
 *	  Request, claim, fill and complete, fail, release, status lookup,
 *	  prune, and the rows of a complete report.
 *
 * Invariants:
 *	- a report is Running, Complete or Failed (RmReportStatus; the names
 *	  live only in report_status_names[] and the table's CHECK); its rows
 *	  appear together with Complete, in one transaction;
 *	- a worker works on a report only after claiming it (worker_pid set
 *	  from NULL); releasing a stopped worker's claim re-queues the report
 *	  or, after RM_MAX_ATTEMPTS, fails it;
 *	- every statement is fixed text, schema-qualified and parameterized;
 *	  the rows come from restmon.report_rows(), which the install script
 *	  binds to the extension's schema.
 *
 * Every function here runs inside SPI, with a snapshot.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/base64.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "report_queue.h"
#include "restmon.h"

#define RM_ID_TIME_DIGITS	11	/* hex digits of the request's Unix ms */
#define RM_ID_RANDOM_BYTES	9	/* 72 random bits, 66 of them kept */

static const char *const report_status_names[] = {
	[RM_REPORT_RUNNING] = "Running",
	[RM_REPORT_COMPLETE] = "Complete",
	[RM_REPORT_FAILED] = "Failed",
};

const char *
rm_report_status_name(RmReportStatus status)
{
	if ((int) status < 0 || status >= lengthof(report_status_names))
		elog(ERROR, "invalid report status %d", (int) status);
	return report_status_names[status];
}

RmReportStatus
rm_report_status_from_name(const char *name)
{
	for (int i = 0; i < (int) lengthof(report_status_names); i++)
		if (strcmp(name, report_status_names[i]) == 0)
			return (RmReportStatus) i;
	elog(ERROR, "unknown report status \"%s\"", name);
	return RM_REPORT_FAILED;	/* keep the compiler quiet */
}

static Datum
status_datum(RmReportStatus status)
{
	return CStringGetTextDatum(rm_report_status_name(status));
}

/*
 * Run one of the queue's statements, not read-only (it sees what this
 * command wrote before it).  A result other than expected cannot happen:
 * "could not <what>".
 */
static void
queue_exec(const char *sql, int nargs, Oid *types, Datum *args,
		   const char *nulls, int expected, const char *what)
{
	int			ret;

	ret = SPI_execute_with_args(sql, nargs, types, args, nulls, false, 0);
	if (ret != expected)
		elog(ERROR, "could not %s", what);
}

/* ---------------------------------------------------------------------
 * Requests
 * ---------------------------------------------------------------------
 */

/*
 * A new report id: the request's time as 11 lowercase hex digits of Unix
 * milliseconds, then 11 base64url characters (66 bits) of
 * pg_strong_random().  Ids therefore sort by request time in any collation
 * (hex digits do), so a report's rows are appended at the right edge of
 * restmon.report_row's primary key, the cheap end of a btree, rather than
 * descending into its middle and splitting pages there.  The random part
 * alone keeps ids unique and unguessable; a clock that goes back only
 * costs that speed.
 */
static void
new_report_id(char *id)
{
	uint8		raw[RM_ID_RANDOM_BYTES];
	char		b64[16];
	int			len;
	TimestampTz now = GetCurrentTimestamp();
	uint64		ms;

	ms = (uint64) (now / 1000 + (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) *
				   SECS_PER_DAY * 1000);
	if (!pg_strong_random(raw, sizeof(raw)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random report id")));
	len = pg_b64_encode((const char *) raw, sizeof(raw), b64, sizeof(b64));
	if (len < RM_ID_LEN - RM_ID_TIME_DIGITS)
		elog(ERROR, "could not encode a report id");
	snprintf(id, RM_ID_TIME_DIGITS + 1, "%011llx",
			 (unsigned long long) (ms & UINT64CONST(0xfffffffffff)));
	for (int i = RM_ID_TIME_DIGITS; i < RM_ID_LEN; i++)
	{
		char		c = b64[i - RM_ID_TIME_DIGITS];

		id[i] = c == '+' ? '-' : c == '/' ? '_' : c;
	}
	id[RM_ID_LEN] = '\0';
}

/*
 * Record a request under a new id, written to id (RM_ID_LEN + 1 bytes).
 * as_of NULL: an empty report (no polls); store NULL: every store.
 */
void
rm_report_insert(char *id, const TimestampTz *as_of, text *store)
{
	Datum		args[3];
	Oid			types[3] = {TEXTOID, TIMESTAMPTZOID, TEXTOID};
	char		nulls[3] = "   ";

	new_report_id(id);
	args[0] = CStringGetTextDatum(id);
	if (as_of != NULL)
		args[1] = TimestampTzGetDatum(*as_of);
	else
		nulls[1] = 'n';
	if (store != NULL)
		args[2] = PointerGetDatum(store);
	else
		nulls[2] = 'n';

	queue_exec("INSERT INTO restmon.report (report_id, as_of, store_filter)"
			   " VALUES ($1, $2, $3)",
			   3, types, args, nulls, SPI_OK_INSERT,
			   "record the report request");
}

/* ---------------------------------------------------------------------
 * Claims
 * ---------------------------------------------------------------------
 */

/*
 * Claim for this backend the given report, or (id empty) the oldest queued
 * one, writing its id to id.  False if there is none to claim.  A request
 * of this transaction can be claimed too: the synchronous path does.
 */
bool
rm_report_claim(char *id)
{
	Datum		args[3] = {CStringGetTextDatum(id), Int32GetDatum(MyProcPid),
	status_datum(RM_REPORT_RUNNING)};
	Oid			types[3] = {TEXTOID, INT4OID, TEXTOID};

	queue_exec("UPDATE restmon.report SET worker_pid = $2,"
			   " started_at = pg_catalog.clock_timestamp(), attempts = attempts + 1"
			   " WHERE report_id = (SELECT report_id FROM restmon.report"
			   "   WHERE status = $3 AND worker_pid IS NULL"
			   "     AND ($1 = '' OR report_id = $1)"
			   "   ORDER BY requested_at LIMIT 1 FOR UPDATE SKIP LOCKED)"
			   " RETURNING report_id",
			   3, types, args, NULL, SPI_OK_UPDATE_RETURNING, "claim a report");
	if (SPI_processed != 1)
		return false;
	strlcpy(id, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1),
			RM_ID_LEN + 1);
	return true;
}

/*
 * Release the claims of workers that are gone (crash, kill, restart): the
 * report is queued again, or Failed once it has used up its attempts.
 */
void
rm_report_release_stopped(void)
{
	Datum		args[3] = {Int32GetDatum(RM_MAX_ATTEMPTS),
	status_datum(RM_REPORT_RUNNING), status_datum(RM_REPORT_FAILED)};
	Oid			types[3] = {INT4OID, TEXTOID, TEXTOID};

	queue_exec("UPDATE restmon.report r SET"
			   " worker_pid = NULL,"
			   " status = CASE WHEN r.attempts >= $1 THEN $3 ELSE $2 END,"
			   " finished_at = CASE WHEN r.attempts >= $1"
			   "   THEN pg_catalog.clock_timestamp() END,"
			   " error_sqlstate = CASE WHEN r.attempts >= $1 THEN '57P01' END,"
			   " error_message = CASE WHEN r.attempts >= $1 THEN"
			   "   pg_catalog.format('the report worker stopped before finishing, %s times',"
			   "   r.attempts) END"
			   " WHERE r.status = $2 AND r.worker_pid IS NOT NULL"
			   "   AND NOT EXISTS (SELECT FROM pg_catalog.pg_stat_activity a"
			   "                   WHERE a.pid = r.worker_pid)",
			   3, types, args, NULL, SPI_OK_UPDATE,
			   "release reports of stopped workers");
}

/* how many reports wait for a worker */
int64
rm_report_count_queued(void)
{
	Datum		arg = status_datum(RM_REPORT_RUNNING);
	Oid			type = TEXTOID;
	bool		isnull;
	int64		queued;

	/* sees an UPDATE of this command, such as a release */
	queue_exec("SELECT pg_catalog.count(*) FROM restmon.report"
			   " WHERE status = $1 AND worker_pid IS NULL",
			   1, &type, &arg, NULL, SPI_OK_SELECT, "count queued reports");
	queued = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
										 SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return queued;
}

/* ---------------------------------------------------------------------
 * Outcomes
 * ---------------------------------------------------------------------
 */

/* a filled report is Complete, now */
void
rm_report_complete(const char *id, int64 rows)
{
	Datum		args[3] = {CStringGetTextDatum(id), Int64GetDatum(rows),
	status_datum(RM_REPORT_COMPLETE)};
	Oid			types[3] = {TEXTOID, INT8OID, TEXTOID};

	queue_exec("UPDATE restmon.report SET status = $3,"
			   " finished_at = pg_catalog.clock_timestamp(), row_count = $2"
			   " WHERE report_id = $1",
			   3, types, args, NULL, SPI_OK_UPDATE,
			   psprintf("complete report %s", id));
}

/*
 * Fill a claimed report with its rows (restmon.report_rows(), the figures
 * of restmon_store_uptime() for the request's as_of and store), in the
 * current transaction; returns how many.  With csv not NULL, *csv is set
 * to their CSV (allocated in csvcxt) if it was rendered as they were
 * written, and *etag to its ETag, else both to NULL (report_rows.c).  rm_report_complete() then
 * marks it Complete.
 */
int64
rm_report_fill(const char *id, text **csv, char **etag, MemoryContext csvcxt)
{
	Datum		arg = CStringGetTextDatum(id);
	Oid			type = TEXTOID;
	int64		nrows;

	queue_exec("DELETE FROM restmon.report_row WHERE report_id = $1",
			   1, &type, &arg, NULL, SPI_OK_DELETE,
			   psprintf("clear the rows of report %s", id));
	/* as COPY writes a table (report_rows.c), else by INSERT */
	if (csv != NULL)
	{
		*csv = NULL;
		*etag = NULL;
	}
	nrows = rm_report_write_rows(id, csv, etag, csvcxt);
	if (nrows < 0)
	{
		queue_exec("INSERT INTO restmon.report_row"
				   " SELECT * FROM restmon.report_rows($1)",
				   1, &type, &arg, NULL, SPI_OK_INSERT,
				   psprintf("write the rows of report %s", id));
		nrows = (int64) SPI_processed;
	}
	return nrows;
}

void
rm_report_fail(const char *id, const char *sqlstate, const char *message)
{
	Datum		args[4] = {CStringGetTextDatum(id), CStringGetTextDatum(sqlstate),
	CStringGetTextDatum(message), status_datum(RM_REPORT_FAILED)};
	Oid			types[4] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};

	queue_exec("UPDATE restmon.report SET status = $4,"
			   " finished_at = pg_catalog.clock_timestamp(),"
			   " error_sqlstate = $2, error_message = $3"
			   " WHERE report_id = $1",
			   4, types, args, NULL, SPI_OK_UPDATE,
			   psprintf("mark report %s failed", id));
}

/*
 * Delete finished reports (and their rows) that finished more than
 * retention_mins ago; returns how many.
 */
int64
rm_report_prune(int retention_mins)
{
	Datum		args[2] = {Int32GetDatum(retention_mins),
	status_datum(RM_REPORT_RUNNING)};
	Oid			types[2] = {INT4OID, TEXTOID};

	queue_exec("DELETE FROM restmon.report WHERE status <> $2"
			   " AND finished_at < pg_catalog.now()"
			   "   - pg_catalog.make_interval(mins => $1)",
			   2, types, args, NULL, SPI_OK_DELETE, "prune reports");
	return (int64) SPI_processed;
}

/* ---------------------------------------------------------------------
 * Reading reports
 * ---------------------------------------------------------------------
 */

static void
check_report_id(const char *id)
{
	if (strlen(id) != RM_ID_LEN ||
		strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != RM_ID_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid report id"),
				 errdetail("A report id is %d characters of A-Z, a-z, 0-9, \"-\" and \"_\".", RM_ID_LEN)));
}

/*
 * The status of a report, or an error for a malformed or unknown id.  With
 * values and nulls (3 each), also (status, error, row_count), valid until
 * SPI_finish.  The plan is kept for the backend's life: status polls are
 * the hottest call of the API.
 */
RmReportStatus
rm_report_lookup(const char *id, Datum *values, bool *nulls)
{
	static SPIPlanPtr plan = NULL;
	Oid			type = TEXTOID;
	Datum		arg;

	check_report_id(id);
	rm_kept_plan(&plan, "SELECT status, error_sqlstate || ': ' || error_message,"
				 " row_count FROM restmon.report WHERE report_id = $1",
				 1, &type);
	arg = CStringGetTextDatum(id);
	if (SPI_execute_plan(plan, &arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read a report");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("report \"%s\" does not exist", id),
				 errhint("Reports are kept for restmon.report_retention after they finish.")));
	if (values != NULL)
		for (int i = 0; i < 3; i++)
			values[i] = SPI_getbinval(SPI_tuptable->vals[0],
									  SPI_tuptable->tupdesc, i + 1, &nulls[i]);
	return rm_report_status_from_name(SPI_getvalue(SPI_tuptable->vals[0],
												   SPI_tuptable->tupdesc, 1));
}

/*
 * A read-only cursor over the rows of a report (every column of
 * restmon.report_row), in store_id order.
 */
Portal
rm_report_open_rows(const char *id)
{
	Datum		arg = CStringGetTextDatum(id);
	Oid			type = TEXTOID;

	return SPI_cursor_open_with_args(NULL,
									 "SELECT * FROM restmon.report_row"
									 " WHERE report_id = $1 ORDER BY store_id",
									 1, &type, &arg, NULL, true,
									 CURSOR_OPT_NO_SCROLL);
}
