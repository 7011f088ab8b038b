/*-------------------------------------------------------------------------
 *
 * src/ingest.c
 *	  Ingestion of the three CSV sources (semantics §1): status polls,
 *	  business hours and time zones.  This file checks
 *	  each data line and hands it to its source's pipeline (polls.c or
 *	  snapshot.c), drives one file from start to end, and holds the
 *	  SQL-callable functions.  The other ingestion files are described in
 *	  ingest_int.h.
 *
 * Each value is checked by PostgreSQL's own code: encoding
 * (pg_verifymbstr), timestamps and zone names (parse.c).
 *
 * Invariants:
 *	- a line is either staged (valid), rejected or, for a poll older than
 *	  the retention edge (polls.c), expired; never two, never lost:
 *	  rows_read = rows_loaded + rows_duplicate + rows_rejected + rows_expired;
 *	- nothing of a file is applied unless the whole file was read: a missing
 *	  file or a header without a required column raises an error before any
 *	  change, and the caller's (sub)transaction covers the rest;
 *	- status rows accumulate (first of a store and instant wins); hours and
 *	  zones replace their snapshot inside the same transaction.
 *
 * Valid rows are never applied row by row through SQL: status polls are
 * sorted in memory and inserted in key order (polls.c, observation_write.c);
 * hours and zones are staged in batches (arrays + unnest) and applied by
 * one statement per file (snapshot.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "coordinator.h"
#include "ingest_int.h"

PG_FUNCTION_INFO_V1(restmon_ingest_status);
PG_FUNCTION_INFO_V1(restmon_ingest_hours);
PG_FUNCTION_INFO_V1(restmon_ingest_timezones);
PG_FUNCTION_INFO_V1(restmon_ingest);

/* ---------------------------------------------------------------------
 * Header and data lines
 * ---------------------------------------------------------------------
 */

/*
 * Check one data line and split it into the source's columns (f, in the
 * source's order, trimmed); NULL if it is valid, or the reason to reject
 * it (perhaps written into rbuf).  buf and fields have room for the line
 * and one field too many.
 */
static const char *
split_line(RmIngest *st, char *line, int len, char *buf, char **fields,
		   char **f, char rbuf[256])
{
	const char *reason = NULL;
	bool		blank = true;
	int			nf;

	for (int i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t')
			blank = false;
	if (blank)
		return "blank line";
	if (!pg_verifymbstr(line, len, true))
		return psprintf("invalid byte sequence for encoding \"%s\"",
						GetDatabaseEncodingName());
	nf = rm_split_csv_line(line, len, buf, fields, st->nfields + 1, &reason);
	if (nf < 0 && strcmp(reason, "too many fields") != 0)
		return reason;
	if (nf != st->nfields)
	{
		snprintf(rbuf, 256, "expected %d fields, found %s",
				 st->nfields, nf < 0 ? "more" : psprintf("%d", nf));
		return rbuf;
	}
	for (int c = 0; c < st->def->ncols; c++)
		f[c] = rm_trim(fields[st->colpos[c]]);
	return rm_store_field_reason(f[0], strlen(f[0]));	/* semantics §1.3 */
}

/* validate one data line; hand it to its source's pipeline or reject it */
static void
ingest_line(RmIngest *st, int64 line_no, char *line, int len,
			char *buf, char **fields)
{
	char	   *f[RM_MAX_COLS];
	char		rbuf[256];
	const char *reason = split_line(st, line, len, buf, fields, f, rbuf);

	if (reason != NULL)
		rm_reject_line(st, line_no, line, len, reason);
	else if (st->source == RM_SRC_STATUS)
		rm_polls_line(st, line_no, line, len, f);
	else
	{
		rm_snapshot_line(st, line_no, line, len, f);
		st->batch_bytes += len; /* a staged row is at most its line */
		if (st->batch_bytes >= RM_BATCH_BYTES)
			rm_flush_batch(st);
	}
}

/* ---------------------------------------------------------------------
 * One file
 * ---------------------------------------------------------------------
 */

static void
begin_file(RmIngest *st, RmSource source, const char *path,
		   RmLineReader *reader)
{
	memset(st, 0, sizeof(*st));
	st->source = source;
	st->def = &rm_sources[source];
	st->path = path;
	st->reader = reader;

	rm_check_read_privilege();
	rm_reader_open(reader, path);
	if (source == RM_SRC_TIMEZONES)
		st->zones = rm_load_zone_names();
	st->run_id = rm_insert_run(st->def->name, path);
	rm_batch_init(st);
}

/* the header line: where each column is; then the pipeline starts */
static void
read_header(RmIngest *st, RmLineReader *reader)
{
	char	   *line;
	int			len;

	CHECK_FOR_INTERRUPTS();
	if (!rm_reader_next(reader, &line, &len))
		ereport(ERROR,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("file \"%s\" is empty", st->path),
				 errdetail("A header line naming the columns is required.")));
	if (memchr(line, '\r', len) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("file \"%s\" uses CR line ends", st->path),
				 errdetail("Its header line holds a carriage return (CR) that is not followed by a line feed (LF)."),
				 errhint("Lines must end with LF or CRLF: convert the file, for example with tr '\\r' '\\n'.")));
	if (reader->too_long)
		ereport(ERROR,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("header line of file \"%s\" is longer than %d bytes",
						st->path, RM_MAX_LINE)));
	if (!pg_verifymbstr(line, len, true))
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("header line of file \"%s\" is not valid %s",
						st->path, GetDatabaseEncodingName())));
	rm_parse_header(st, line, len);
	if (st->source == RM_SRC_STATUS)
		rm_polls_init(st);
	else
		rm_stage_create(st);
}

/* every data line, up to the end of the file */
static void
read_data(RmIngest *st, RmLineReader *reader)
{
	char	   *line;
	int			len;
	char	   *buf = NULL;
	int			bufsize = 0;
	char	  **fields = palloc(sizeof(char *) * (st->nfields + 1));

	while (rm_reader_next(reader, &line, &len))
	{
		CHECK_FOR_INTERRUPTS();
		if (len + 1 > bufsize)
		{
			bufsize = Max(len + 1, 1024) * 2;
			buf = buf ? repalloc(buf, bufsize) : palloc(bufsize);
		}
		st->rows_read++;
		if (reader->too_long)
			rm_reject_long_line(st, reader, line);
		else
			ingest_line(st, reader->line_no, line, len, buf, fields);
	}
	if (buf)
		pfree(buf);
	pfree(fields);
}

/* apply what the file gave, log the run, free the file's resources */
static void
end_file(RmIngest *st)
{
	int64		counts[5];

	if (st->source == RM_SRC_STATUS)
	{
		rm_polls_finish(st);
		rm_flush_batch(st);		/* the last rejected lines */
	}
	else
	{
		rm_flush_batch(st);
		rm_stage_apply(st);
	}

	rm_coordinator_distribute(st);	/* a coordinator: to the partitions */
	counts[0] = st->rows_read;
	counts[1] = st->rows_loaded;
	counts[2] = st->rows_duplicate;
	counts[3] = st->rows_rejected;
	counts[4] = st->rows_expired;
	rm_finish_run(st->run_id, counts, "loaded", NULL);
	rm_batch_end(st);
}

/*
 * Ingest one file of one source.  Raises an error (and changes nothing, as
 * the caller's transaction aborts) for a missing file or a bad header; bad
 * lines are rejected and kept.  Must be called inside SPI.
 */
static void
ingest_file(RmSource source, const char *path, RmIngest *st)
{
	RmLineReader reader;

	begin_file(st, source, path, &reader);
	read_header(st, &reader);
	read_data(st, &reader);
	end_file(st);				/* conflicting lines are read again */
	rm_reader_close(&reader);
}

/*
 * A status file's text handed over the API (restmon_record_polls_csv,
 * record_polls.c): read from memory exactly as a file is, its run logged
 * (source 'api') only when a line is rejected.  Must be called inside SPI.
 */
void
rm_ingest_status_text(RmIngest *st, const char *name, const char *data,
					  int len)
{
	RmLineReader reader;

	memset(st, 0, sizeof(*st));
	st->source = RM_SRC_STATUS;
	st->def = &rm_sources[RM_SRC_STATUS];
	st->path = name;
	st->reader = &reader;
	st->state_alerts = true;
	st->max_items = len / 16 + 1;	/* a poll's line is longer than 16 bytes */
	rm_reader_open_mem(&reader, data, len, name);
	rm_batch_init(st);
	read_header(st, &reader);
	read_data(st, &reader);
	end_file(st);
	rm_reader_close(&reader);
}

/* ---------------------------------------------------------------------
 * SQL-callable functions
 * ---------------------------------------------------------------------
 */

#define RM_SUMMARY_COLS 8

/*
 * The columns of a summary row but the seventh (run_id or error): file, the
 * counts, outcome, and rows_expired last (added in 0.4.0)
 */
static void
summary_values(Datum *values, const char *path, const RmIngest *st,
			   const char *outcome)
{
	values[0] = CStringGetTextDatum(path);
	values[1] = Int64GetDatum(st->rows_read);
	values[2] = Int64GetDatum(st->rows_loaded);
	values[3] = Int64GetDatum(st->rows_duplicate);
	values[4] = Int64GetDatum(st->rows_rejected);
	values[5] = CStringGetTextDatum(outcome);
	values[7] = Int64GetDatum(st->rows_expired);
}

/* operations: a standby cannot write; say so at once, naming the primary */
void
rm_error_if_standby(void)
{
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot ingest on a standby server"),
				 errhint("Ingest on the primary; its rows reach the standby by replication.")));
}

/*
 * Ingestion decides what is new from what its snapshot sees, so it needs a
 * fresh snapshot per statement: under REPEATABLE READ or SERIALIZABLE a
 * concurrent load would end in 23505 and lose the file.  Refused up front.
 */
void
rm_require_read_committed(void)
{
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("restmon ingestion cannot run under REPEATABLE READ or SERIALIZABLE"),
				 errhint("Run ingestion in READ COMMITTED.")));
}

static Datum
ingest_one_source(FunctionCallInfo fcinfo, RmSource source)
{
	char	   *path;
	RmIngest	st;
	TupleDesc	tupdesc;
	Datum		values[RM_SUMMARY_COLS];
	bool		nulls[RM_SUMMARY_COLS] = {0};

	rm_require_read_committed();
	path = rm_resolve_path(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	rm_error_if_standby();

	SPI_connect();
	ingest_file(source, path, &st);
	SPI_finish();

	summary_values(values, path, &st, "loaded");
	values[6] = Int64GetDatum(st.run_id);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}

Datum
restmon_ingest_status(PG_FUNCTION_ARGS)
{
	return ingest_one_source(fcinfo, RM_SRC_STATUS);
}

Datum
restmon_ingest_hours(PG_FUNCTION_ARGS)
{
	return ingest_one_source(fcinfo, RM_SRC_HOURS);
}

Datum
restmon_ingest_timezones(PG_FUNCTION_ARGS)
{
	return ingest_one_source(fcinfo, RM_SRC_TIMEZONES);
}

/* restmon_ingest's directory: its argument, or restmon.data_dir */
static char *
ingest_dir(FunctionCallInfo fcinfo)
{
	char	   *dir;
	struct stat stbuf;

	if (PG_ARGISNULL(0))
	{
		if (restmon_data_dir == NULL || restmon_data_dir[0] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("no directory given and restmon.data_dir is not set"),
					 errhint("Call restmon_ingest('/path/to/dir') or set restmon.data_dir.")));
		dir = pstrdup(restmon_data_dir);
	}
	else
		dir = rm_resolve_path(text_to_cstring(PG_GETARG_TEXT_PP(0)));

	rm_check_read_privilege();
	if (stat(dir, &stbuf) != 0 || !S_ISDIR(stbuf.st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("directory \"%s\" does not exist", dir),
				 errhint("The directory is read by the database server's operating-system user.")));
	return dir;
}

/*
 * The one of the source's usual file names found in dir, or NULL; an error
 * if two are there (which one holds the current data is not ours to guess).
 */
static char *
find_source_file(const char *dir, const RmSourceDef *def)
{
	struct stat stbuf;
	char	   *found = NULL;
	int			found_f = -1;

	for (int f = 0; f < 3 && def->file_names[f] != NULL; f++)
	{
		char	   *candidate = psprintf("%s/%s", dir, def->file_names[f]);

		if (stat(candidate, &stbuf) != 0)
			continue;
		if (found != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("both \"%s\" and \"%s\" are in \"%s\"",
							def->file_names[found_f], def->file_names[f], dir),
					 errhint("Keep one %s file in the directory: restmon_ingest() reads one file per source.",
							 def->name)));
		found = candidate;
		found_f = f;
	}
	return found;
}

/*
 * Ingest one file in its own subtransaction; NULL, or the message of the
 * error that rolled it back (reported as a warning, logged as a failed
 * run, its counts zero).
 */
static char *
ingest_in_subxact(RmSource source, const char *path, RmIngest *st)
{
	const RmSourceDef *def = &rm_sources[source];
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	char	   *volatile error = NULL;

	memset(st, 0, sizeof(*st));
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		SPI_connect();
		ingest_file(source, path, st);
		SPI_finish();
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		error = edata->message;
		st->rows_read = st->rows_loaded = 0;
		st->rows_duplicate = st->rows_rejected = st->rows_expired = 0;
		ereport(WARNING,
				(errcode(edata->sqlerrcode),
				 errmsg("%s file not loaded: %s", def->name, edata->message),
				 edata->detail ? errdetail_internal("%s", edata->detail) : 0));
	}
	PG_END_TRY();

	if (error != NULL)
	{
		int64		counts[5] = {0, 0, 0, 0, 0};

		SPI_connect();
		st->run_id = rm_insert_run(def->name, path);
		rm_finish_run(st->run_id, counts, "failed", error);
		SPI_finish();
	}
	return error;
}

/*
 * restmon_ingest(dir): each source found in dir, each in its own
 * subtransaction: a file that fails is rolled back alone, logged as failed,
 * and reported in its summary row with a warning; the others still load.
 */
Datum
restmon_ingest(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *dir;
	int			nfound = 0;

	/* time zones and hours first: they are small and a report needs them */
	static const RmSource order[] = {RM_SRC_TIMEZONES, RM_SRC_HOURS,
	RM_SRC_STATUS};

	rm_error_if_standby();
	rm_require_read_committed();
	dir = ingest_dir(fcinfo);
	InitMaterializedSRF(fcinfo, 0);

	for (int i = 0; i < (int) lengthof(order); i++)
	{
		char	   *path = find_source_file(dir, &rm_sources[order[i]]);
		Datum		values[RM_SUMMARY_COLS];
		bool		nulls[RM_SUMMARY_COLS] = {0};
		RmIngest	st;
		char	   *error;

		if (path == NULL)
			continue;
		nfound++;

		error = ingest_in_subxact(order[i], path, &st);
		summary_values(values, path, &st, error ? "failed" : "loaded");
		if (error)
			values[6] = CStringGetTextDatum(error);
		else
			nulls[6] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	if (nfound == 0)
		ereport(WARNING,
				(errmsg("no source file found in \"%s\"", dir),
				 errhint("Expected store_status.csv or stores.csv, business_hours.csv or menu_hours.csv, timezones.csv.")));
	return (Datum) 0;
}
