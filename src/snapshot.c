/*-------------------------------------------------------------------------
 *
 * src/snapshot.c
 *	  Business hours and time zones (semantics §1): each file replaces its
 *	  snapshot.  Valid rows are staged in batches (arrays + unnest) in a
 *	  temporary table, then applied by one set-based statement per file
 *	  (the sources' statements are in sources.c).
 *
 * Invariants:
 *	- the staging table is empty when a file starts, and dropped at commit;
 *	- the snapshot is replaced inside the caller's transaction, so a file
 *	  that fails leaves the previous snapshot in place;
 *	- a conflicting duplicate (same key, other value, later line) is
 *	  rejected with its raw line; an agreeing one is counted.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"

#include "ingest_int.h"

/* an empty staging table for this source, dropped at commit */
void
rm_stage_create(RmIngest *st)
{
	Datum		arg = CStringGetTextDatum(st->def->stage_table);
	Oid			type = TEXTOID;
	bool		isnull;
	bool		exists;

	if (SPI_execute_with_args("SELECT pg_catalog.to_regclass($1) IS NOT NULL",
							  1, &type, &arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look for the staging table");
	exists = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
										SPI_tuptable->tupdesc, 1, &isnull));
	if (SPI_execute(exists ? st->def->truncate_sql : st->def->stage_sql,
					false, 0) < 0)
		elog(ERROR, "could not prepare the staging table");
}

static void
stage_row(RmIngest *st, int64 line_no, const Datum *v)
{
	st->line_no[st->nrows] = line_no;
	for (int c = 0; c < st->def->ncols; c++)
		st->values[c][st->nrows] = v[c];
	st->nrows++;
	if (st->nrows >= RM_BATCH_ROWS)
		rm_flush_batch(st);
}

/* the values of an hours line, or the reason it is rejected */
static const char *
hours_values(char **f, Datum *v)
{
	int64		start,
				end;

	if (!(f[1][0] >= '0' && f[1][0] <= '6' && f[1][1] == '\0'))
		return psprintf("bad day \"%s\" (expected 0 = Monday ... 6 = Sunday)", f[1]);
	if (!rm_parse_local_time(f[2], &start))
		return psprintf("bad start_time_local \"%s\" (expected HH:MM[:SS[.ffffff]])", f[2]);
	if (!rm_parse_local_time(f[3], &end))
		return psprintf("bad end_time_local \"%s\" (expected HH:MM[:SS[.ffffff]])", f[3]);
	v[1] = Int16GetDatum(f[1][0] - '0');
	v[2] = TimeADTGetDatum(start);
	v[3] = TimeADTGetDatum(end);
	return NULL;
}

/*
 * One data line of an hours or time-zones file, its fields already split
 * (f: the source's columns in order; store_id not empty): staged, or
 * rejected.
 */
void
rm_snapshot_line(RmIngest *st, int64 line_no, const char *line, int len,
				 char **f)
{
	const char *reason = NULL;
	Datum		v[RM_MAX_COLS];
	MemoryContext old = MemoryContextSwitchTo(st->batchcxt);

	v[0] = CStringGetTextDatum(f[0]);
	if (st->source == RM_SRC_HOURS)
		reason = hours_values(f, v);
	else if (!rm_zone_known(st->zones, f[1]))
		reason = psprintf("unknown time zone \"%s\"", f[1]);
	else
		v[1] = CStringGetTextDatum(f[1]);
	MemoryContextSwitchTo(old);

	if (reason != NULL)
		rm_reject_line(st, line_no, line, len, reason);
	else
		stage_row(st, line_no, v);
}

/* the lines of the applied result's third column, rejected as conflicts */
static void
reject_conflicting(RmIngest *st, Datum d)
{
	ArrayType  *nos = DatumGetArrayTypePCopy(d);
	Datum	   *no_d;
	int			n;
	int64	   *line_nos;

	deconstruct_array(nos, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &no_d, NULL, &n);
	line_nos = palloc(sizeof(int64) * n);
	for (int i = 0; i < n; i++)
		line_nos[i] = DatumGetInt64(no_d[i]);
	rm_reject_conflicts(st, line_nos, n);
	rm_flush_batch(st);
}

/*
 * Apply the staged rows (after the last batch is flushed): the snapshot is
 * replaced; conflicting duplicates are rejected with their raw line.
 */
void
rm_stage_apply(RmIngest *st)
{
	HeapTuple	row;
	TupleDesc	desc;
	bool		isnull;
	Datum		d;

	if (SPI_execute(st->def->analyze_sql, false, 0) < 0)
		elog(ERROR, "could not analyze the staging table");
	if (st->def->replace_sql != NULL &&
		SPI_execute(st->def->replace_sql, false, 0) < 0)
		elog(ERROR, "could not prepare to apply the %s rows", st->def->name);
	if (SPI_execute(st->def->finish_sql, false, 0) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not apply the %s rows", st->def->name);

	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	st->rows_loaded += DatumGetInt64(SPI_getbinval(row, desc, 1, &isnull));
	st->rows_duplicate += DatumGetInt64(SPI_getbinval(row, desc, 2, &isnull));
	d = SPI_getbinval(row, desc, 3, &isnull);
	if (!isnull)
		reject_conflicting(st, d);
	SPI_freetuptable(SPI_tuptable);
}
