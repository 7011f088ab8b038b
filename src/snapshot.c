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
 *	  rejected with its raw line; an agreeing one is counted;
 *	- one load of a snapshot table at a time: the table is locked (SHARE
 *	  ROW EXCLUSIVE, which conflicts with itself and with other writers,
 *	  not with readers) before its rows are deleted, so two overlapping
 *	  loads end with the second file's rows only (semantics §1.7).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "nodes/makefuncs.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/snapmgr.h"

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
	const char *zone;
	Datum		v[RM_MAX_COLS];
	MemoryContext old = MemoryContextSwitchTo(st->batchcxt);

	v[0] = CStringGetTextDatum(f[0]);
	if (st->source == RM_SRC_HOURS)
		reason = hours_values(f, v);
	else if ((zone = rm_zone_canonical(st->zones, f[1], &reason)) == NULL)
		reason = psprintf("%s \"%s\"", reason,
						  rm_value_excerpt(f[1], strlen(f[1])));
	else
	{
		reason = NULL;
		v[1] = CStringGetTextDatum(zone);	/* the canonical spelling */
	}
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
 * Wait for any other load of the snapshot table, and keep others out until
 * this transaction ends.  In READ COMMITTED the DELETE that follows takes
 * a new snapshot, so it sees (and removes) what a load before it
 * committed.  A transaction snapshot (REPEATABLE READ, SERIALIZABLE) cannot
 * see such rows: then, once its own rows are deleted, a row still visible
 * to the latest snapshot was committed by a concurrent load, and this load
 * fails with a serialization failure instead of keeping both.
 */
static void
lock_snapshot_table(RmIngest *st)
{
	(void) RangeVarGetRelid(makeRangeVar("restmon",
										 st->source == RM_SRC_HOURS ?
										 "business_hours" : "store_timezone",
										 -1),
							ShareRowExclusiveLock, false);
}

static void
check_concurrent_load(RmIngest *st)
{
	SPIPlanPtr	plan;
	bool		isnull;
	bool		found;

	if (!IsolationUsesXactSnapshot())
		return;
	plan = SPI_prepare(st->source == RM_SRC_HOURS ?
					   "SELECT EXISTS (SELECT FROM restmon.business_hours)" :
					   "SELECT EXISTS (SELECT FROM restmon.store_timezone)",
					   0, NULL);
	if (plan == NULL ||
		SPI_execute_snapshot(plan, NULL, NULL, GetLatestSnapshot(),
							 InvalidSnapshot, true, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not check the %s snapshot", st->def->name);
	found = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
									   SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	SPI_freeplan(plan);
	if (found)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to a concurrent %s load",
						st->def->name),
				 errhint("Retry the load.")));
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
	lock_snapshot_table(st);
	if (st->def->replace_sql != NULL &&
		SPI_execute(st->def->replace_sql, false, 0) < 0)
		elog(ERROR, "could not prepare to apply the %s rows", st->def->name);
	check_concurrent_load(st);
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
