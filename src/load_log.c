/*-------------------------------------------------------------------------
 *
 * src/load_log.c
 *	  What both ingestion pipelines share (semantics §1): the batches in
 *	  which rejected lines and staged rows go to SQL, the rejected lines
 *	  themselves (restmon.rejected_row, pruned by restmon_prune_rejects())
 *	  and the run log (restmon.ingest_run).
 *
 * Invariants:
 *	- a batch holds at most RM_BATCH_ROWS rejected lines, RM_BATCH_ROWS
 *	  staged rows and about RM_BATCH_BYTES of raw text, reasons and staged
 *	  lines (ingest.c counts the staged ones); it is flushed when full, and
 *	  by the caller at the end of a file;
 *	- a rejected line keeps at most RM_RAW_MAX bytes of its raw text and a
 *	  reason is at most RM_REASON_MAX bytes (ingest_int.h), so no batch
 *	  comes near the 1 GB limit of an array;
 *	- rows_rejected counts the lines stored in restmon.rejected_row;
 *	- everything here runs inside SPI, in the caller's (sub)transaction.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "storage/fd.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "ingest_int.h"

/* ---------------------------------------------------------------------
 * Arrays for SPI parameters
 * ---------------------------------------------------------------------
 */

/*
 * *plan, prepared from sql on first use and kept for the backend's life
 * (a statement a hot path runs again and again)
 */
SPIPlanPtr
rm_kept_plan(SPIPlanPtr *plan, const char *sql, int nargs, Oid *types)
{
	if (*plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare(sql, nargs, types);

		if (p == NULL || SPI_keepplan(p) != 0)
			elog(ERROR, "SPI_prepare failed: %s",
				 SPI_result_code_string(SPI_result));
		*plan = p;
	}
	return *plan;
}

Datum
rm_make_array(Datum *elems, int n, Oid type)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;

	get_typlenbyvalalign(type, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_array(elems, n, type,
										   typlen, typbyval, typalign));
}

static Datum *
int64_datums(int64 *v, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * (n > 0 ? n : 1));

	for (int i = 0; i < n; i++)
		d[i] = Int64GetDatum(v[i]);
	return d;
}

/* ---------------------------------------------------------------------
 * Batches
 * ---------------------------------------------------------------------
 */

static void
alloc_batch(RmIngest *st)
{
	MemoryContext old = MemoryContextSwitchTo(st->batchcxt);

	st->line_no = palloc(sizeof(int64) * RM_BATCH_ROWS);
	/* status polls are not staged (polls.c), only their rejects */
	if (st->def->insert_sql != NULL)
		for (int c = 0; c < st->def->ncols; c++)
			st->values[c] = palloc(sizeof(Datum) * RM_BATCH_ROWS);
	st->rej_line_no = palloc(sizeof(int64) * RM_BATCH_ROWS);
	st->rej_raw = palloc(sizeof(Datum) * RM_BATCH_ROWS);
	st->rej_reason = palloc(sizeof(Datum) * RM_BATCH_ROWS);
	st->nrows = 0;
	st->nrej = 0;
	st->batch_bytes = 0;
	MemoryContextSwitchTo(old);
}

/* the first batch of a file (st->def set) */
void
rm_batch_init(RmIngest *st)
{
	st->batchcxt = AllocSetContextCreate(CurrentMemoryContext,
										 "restmon ingest batch",
										 ALLOCSET_DEFAULT_SIZES);
	alloc_batch(st);
}

/* after the last flush: the plans and the batch memory go */
void
rm_batch_end(RmIngest *st)
{
	if (st->insert_plan)
		SPI_freeplan(st->insert_plan);
	if (st->reject_plan)
		SPI_freeplan(st->reject_plan);
	MemoryContextDelete(st->batchcxt);
}

static SPIPlanPtr
prepare_kept(const char *sql, int nargs, Oid *types)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, types);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s",
			 SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	return plan;
}

static void
flush_rejects(RmIngest *st)
{
	Datum		args[5];
	Oid			types[5] = {INT8OID, TEXTOID, INT8ARRAYOID, BYTEAARRAYOID,
	TEXTARRAYOID};

	/* an API batch logs a run only when something is rejected */
	if (st->run_id == 0)
		st->run_id = rm_insert_run("api", st->path);
	if (st->reject_plan == NULL)
		st->reject_plan =
			prepare_kept("INSERT INTO restmon.rejected_row"
						 " (run_id, file, line_no, raw_line, reason)"
						 " SELECT $1, $2, u.* FROM ROWS FROM"
						 " (pg_catalog.unnest($3), pg_catalog.unnest($4),"
						 "  pg_catalog.unnest($5)) AS u",
						 5, types);
	args[0] = Int64GetDatum(st->run_id);
	args[1] = CStringGetTextDatum(st->path);
	args[2] = rm_make_array(int64_datums(st->rej_line_no, st->nrej),
							st->nrej, INT8OID);
	args[3] = rm_make_array(st->rej_raw, st->nrej, BYTEAOID);
	args[4] = rm_make_array(st->rej_reason, st->nrej, TEXTOID);
	if (SPI_execute_plan(st->reject_plan, args, NULL, false, 0) !=
		SPI_OK_INSERT)
		elog(ERROR, "could not store rejected rows");
	st->rows_rejected += st->nrej;
}

static void
flush_staged(RmIngest *st)
{
	int			nargs = st->def->ncols + 1;
	Datum		args[RM_MAX_COLS + 1];
	Oid			types[RM_MAX_COLS + 1];

	types[0] = INT8ARRAYOID;
	for (int c = 0; c < st->def->ncols; c++)
		types[1 + c] = get_array_type(st->def->cols[c].type);

	if (st->insert_plan == NULL)
		st->insert_plan = prepare_kept(st->def->insert_sql, nargs, types);

	args[0] = rm_make_array(int64_datums(st->line_no, st->nrows),
							st->nrows, INT8OID);
	for (int c = 0; c < st->def->ncols; c++)
		args[1 + c] = rm_make_array(st->values[c], st->nrows,
									st->def->cols[c].type);

	if (SPI_execute_plan(st->insert_plan, args, NULL, false, 0) !=
		SPI_OK_INSERT)
		elog(ERROR, "could not stage a batch of %s rows", st->def->name);
}

/* send the batch's rejected lines and staged rows to SQL; start anew */
void
rm_flush_batch(RmIngest *st)
{
	MemoryContext old = MemoryContextSwitchTo(st->batchcxt);

	if (st->nrej > 0)
		flush_rejects(st);
	if (st->nrows > 0)
		flush_staged(st);
	MemoryContextSwitchTo(old);
	MemoryContextReset(st->batchcxt);
	alloc_batch(st);
}

/* ---------------------------------------------------------------------
 * Rejected lines
 * ---------------------------------------------------------------------
 */

static Datum
raw_datum(const char *line, int len)
{
	bytea	   *b = palloc(VARHDRSZ + len);

	SET_VARSIZE(b, VARHDRSZ + len);
	memcpy(VARDATA(b), line, len);
	return PointerGetDatum(b);
}

/*
 * At most max bytes of s (len bytes, valid in the database encoding), cut
 * at a character boundary and followed by "..." when cut.
 * Reasons and messages quote a value through this only.
 */
char *
rm_excerpt(const char *s, int len, int max)
{
	int			cut;

	if (len <= max)
		return pnstrdup(s, len);
	cut = pg_mbcliplen(s, len, max);
	return psprintf("%.*s...", cut, s);
}

/* one rejected line: at most RM_RAW_MAX bytes of it, the reason bounded */
static void
store_reject(RmIngest *st, int64 line_no, const char *raw, int rawlen,
			 const char *reason)
{
	MemoryContext old = MemoryContextSwitchTo(st->batchcxt);
	int			rlen = strlen(reason);

	if (rlen > RM_REASON_MAX)
	{
		/* a safety net: reasons quote values through rm_excerpt */
		rlen = pg_mbcliplen(reason, rlen, RM_REASON_MAX);
		reason = psprintf("%.*s...", rlen, reason);
	}
	st->rej_line_no[st->nrej] = line_no;
	st->rej_raw[st->nrej] = raw_datum(raw, rawlen);
	st->rej_reason[st->nrej] = CStringGetTextDatum(reason);
	st->nrej++;
	st->batch_bytes += rawlen + rlen;
	MemoryContextSwitchTo(old);
	if (st->nrej >= RM_BATCH_ROWS || st->batch_bytes >= RM_BATCH_BYTES)
		rm_flush_batch(st);
}

/*
 * Reject a line (len bytes, at most RM_MAX_LINE): its raw text is kept up
 * to RM_RAW_MAX bytes; when it is cut, the reason says so.
 */
void
rm_reject_line(RmIngest *st, int64 line_no, const char *line, int len,
			   const char *reason)
{
	MemoryContext old = MemoryContextSwitchTo(st->batchcxt);

	if (len > RM_RAW_MAX)
		reason = psprintf("%s (raw_line keeps the first %d of %d bytes)",
						  reason, RM_RAW_MAX, len);
	MemoryContextSwitchTo(old);
	store_reject(st, line_no, line, Min(len, RM_RAW_MAX), reason);
}

/* reject the reader's current line, longer than RM_MAX_LINE (prefix) */
void
rm_reject_long_line(RmIngest *st, const RmLineReader *r, const char *prefix)
{
	MemoryContext old = MemoryContextSwitchTo(st->batchcxt);
	char	   *reason;

	reason = psprintf("line of " INT64_FORMAT " bytes is longer than the limit of %d bytes (raw_line keeps the first %d)",
					  r->line_len, RM_MAX_LINE, RM_RAW_MAX);
	MemoryContextSwitchTo(old);
	store_reject(st, r->line_no, prefix, RM_RAW_MAX, reason);
}

static int
int64_cmp(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/*
 * Reject these lines as conflicting duplicates, with their raw text read
 * again (they are rare: no raw text is kept for the others) from the file
 * that was read, through the descriptor it was read by (csv.c): the path
 * is never opened again, so a file renamed over it meanwhile does not
 * matter.  Lines are numbered as the first reading numbered them.
 */
void
rm_reject_conflicts(RmIngest *st, int64 *line_nos, int n)
{
	RmLineReader reader;
	char	   *line;
	int			len;

	if (n == 0)
		return;
	qsort(line_nos, n, sizeof(int64), int64_cmp);
	rm_reader_seek(&reader, st->reader, line_nos[0]);
	for (int next = 0; next < n; next++)
	{
		do
		{
			if (!rm_reader_next(&reader, &line, &len))
				elog(ERROR, "file \"%s\" changed while it was read", st->path);
		} while (reader.line_no < line_nos[next]);
		rm_reject_line(st, reader.line_no, line, len, "conflicting duplicate");
	}
	rm_reader_close(&reader);
}

/*
 * restmon_prune_rejects(): delete the rejected lines of the runs that
 * finished more than restmon.reject_retention ago; the runs themselves,
 * with their counts, stay.  Returns how many lines were deleted.
 */
PG_FUNCTION_INFO_V1(restmon_prune_rejects);

Datum
restmon_prune_rejects(PG_FUNCTION_ARGS)
{
	Datum		arg = Int32GetDatum(restmon_reject_retention);
	Oid			type = INT4OID;
	int64		n;

	SPI_connect();
	if (SPI_execute_with_args("DELETE FROM restmon.rejected_row r"
							  " USING restmon.ingest_run i"
							  " WHERE i.run_id = r.run_id"
							  "  AND i.finished_at < pg_catalog.clock_timestamp()"
							  "   - pg_catalog.make_interval(mins => $1)",
							  1, &type, &arg, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not prune rejected rows");
	n = (int64) SPI_processed;
	SPI_finish();
	PG_RETURN_INT64(n);
}

/* ---------------------------------------------------------------------
 * The run log
 * ---------------------------------------------------------------------
 */

int64
rm_insert_run(const char *source, const char *path)
{
	Datum		args[2] = {CStringGetTextDatum(source),
	CStringGetTextDatum(path)};
	Oid			types[2] = {TEXTOID, TEXTOID};
	bool		isnull;
	int64		run_id;

	if (SPI_execute_with_args("INSERT INTO restmon.ingest_run (source, file)"
							  " VALUES ($1, $2) RETURNING run_id",
							  2, types, args, NULL, false, 1) !=
		SPI_OK_INSERT_RETURNING)
		elog(ERROR, "could not log the ingest run");
	run_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
										 SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return run_id;
}

/* counts: read, loaded, duplicate, rejected, expired */
void
rm_finish_run(int64 run_id, int64 counts[5], const char *outcome,
			  const char *error)
{
	Datum		args[8];
	Oid			types[8] = {INT8OID, INT8OID, INT8OID, INT8OID, INT8OID,
	INT8OID, TEXTOID, TEXTOID};
	char		nulls[8] = "       ";

	args[0] = Int64GetDatum(run_id);
	for (int i = 0; i < 5; i++)
		args[1 + i] = Int64GetDatum(counts[i]);
	args[6] = CStringGetTextDatum(outcome);
	if (error)
		args[7] = CStringGetTextDatum(error);
	else
	{
		args[7] = (Datum) 0;
		nulls[7] = 'n';
	}
	if (SPI_execute_with_args("UPDATE restmon.ingest_run"
							  " SET finished_at = pg_catalog.clock_timestamp(),"
							  "  rows_read = $2, rows_loaded = $3,"
							  "  rows_duplicate = $4, rows_rejected = $5,"
							  "  rows_expired = $6, outcome = $7, error = $8"
							  " WHERE run_id = $1",
							  8, types, args, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not log the ingest run");
}
