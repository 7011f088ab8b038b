/*-------------------------------------------------------------------------
 *
 * src/report_rows.c
 *	  Writing a report's rows into restmon.report_row the way COPY writes
 *	  a table (table_multi_insert, then each index), for report_queue.c
 *	  when it fills a report, and their CSV (report_csv.c's RmCsvWriter)
 *	  rendered as they are written, for the file stored at completion
 *	  (report_file.c).
 *
 * A full report of a node that computes its own figures is written as it
 * is computed: each store's figures, as rm_uptime_report() hands them
 * over (store_uptime.c, in byte order; by several processes,
 * report_parallel.c), become its row at once, with the values
 * restmon.report_rows() gives (the report's id, then the first seven
 * columns of restmon_store_uptime(as_of)).  The rows go out while the
 * parallel workers still compute: the leader writes between the ranges
 * it computes.  Any other report (a single store's, or a coordinator's,
 * gathered from its partitions) reads restmon.report_rows() through an
 * SPI cursor, a batch at a time.
 *
 * The table's one foreign key, to its report, is checked once for all the
 * rows, the way its trigger checks it for each: the report is there and
 * locked FOR KEY SHARE.  Its NOT NULL constraints are checked row by row
 * and its unique index checks as it does for an INSERT.  A table with any
 * other trigger, a CHECK constraint, a generated column or row-level
 * security is left to the plain INSERT (rm_report_write_rows returns -1).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"

#include "coordinator.h"
#include "report_csv.h"
#include "report_file.h"
#include "report_parallel.h"
#include "report_queue.h"
#include "restmon.h"

#define RM_ROW_BATCH	1000	/* rows fetched and inserted at once */
#define RM_ROW_COLS		8		/* restmon.report_row's columns */

/* a report's rows being written */
typedef struct RmRowWriter
{
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *rri;
	BulkInsertState bistate;
	TupleTableSlot *slots[RM_ROW_BATCH];
	int			nbuffered;
	int64		total;
	RmCsvWriter *csv;			/* NULL: no CSV wanted */
	bool		done;			/* every row flushed, the CSV ended */
	text	   *csv_text;		/* the CSV, once done (NULL: not in order) */
	char	   *etag;			/* and its ETag */
	const char *id;
	Datum		report_id;
	MemoryContext batchcxt;		/* computed rows' values, until flushed */
} RmRowWriter;

/*
 * Whether the rows can be written directly: the table is a plain one whose
 * only triggers are the check triggers of one foreign key to report.
 */
static bool
direct_ok(Relation rel, Oid report)
{
	TriggerDesc *td = rel->trigdesc;
	TupleConstr *constr = RelationGetDescr(rel)->constr;
	Oid			fk = InvalidOid;

	if (rel->rd_rel->relkind != RELKIND_RELATION ||
		check_enable_rls(RelationGetRelid(rel), InvalidOid, true) == RLS_ENABLED)
		return false;
	if (constr != NULL && (constr->num_check > 0 || constr->has_generated_stored))
		return false;
	for (int i = 0; td != NULL && i < td->numtriggers; i++)
	{
		Trigger    *t = &td->triggers[i];

		if (!t->tgisinternal || t->tgconstrrelid != report ||
			(t->tgfoid != F_RI_FKEY_CHECK_INS && t->tgfoid != F_RI_FKEY_CHECK_UPD) ||
			(OidIsValid(fk) && t->tgconstraint != fk))
			return false;
		fk = t->tgconstraint;
	}
	return true;
}

/* the rows fetched are of the table's type, column for column */
static bool
same_columns(TupleDesc a, TupleDesc b)
{
	if (a->natts != b->natts)
		return false;
	for (int i = 0; i < a->natts; i++)
		if (TupleDescAttr(a, i)->atttypid != TupleDescAttr(b, i)->atttypid ||
			TupleDescAttr(b, i)->attisdropped)
			return false;
	return true;
}

/* restmon.report_row is (report_id, store_id, six numeric figures) */
static bool
computed_columns_ok(TupleDesc desc)
{
	if (desc->natts != RM_ROW_COLS)
		return false;
	for (int i = 0; i < RM_ROW_COLS; i++)
		if (TupleDescAttr(desc, i)->atttypid != (i < 2 ? TEXTOID : NUMERICOID) ||
			TupleDescAttr(desc, i)->attisdropped)
			return false;
	return true;
}

/* write the buffered rows: heap, then every index */
static void
flush_rows(RmRowWriter *w)
{
	if (w->nbuffered == 0)
		return;
	table_multi_insert(w->rel, w->slots, w->nbuffered,
					   GetCurrentCommandId(true), 0, w->bistate);
	for (int i = 0; i < w->nbuffered; i++)
	{
		list_free(ExecInsertIndexTuples(w->rri, w->slots[i], w->estate,
										false, false, NULL, NIL));
		ResetPerTupleExprContext(w->estate);
	}
	w->total += w->nbuffered;
	w->nbuffered = 0;
	MemoryContextReset(w->batchcxt);
}

/*
 * Buffer one row whose values are in slots[nbuffered] (valid until the
 * flush): NOT NULL checked, its CSV line written, the batch written
 * when full
 */
static void
add_row(RmRowWriter *w)
{
	TupleTableSlot *slot = w->slots[w->nbuffered];
	TupleDesc	desc = RelationGetDescr(w->rel);

	for (int a = 0; a < desc->natts; a++)
		if (slot->tts_isnull[a] && TupleDescAttr(desc, a)->attnotnull)
			ereport(ERROR,
					(errcode(ERRCODE_NOT_NULL_VIOLATION),
					 errmsg("null value in column \"%s\" of relation \"%s\" violates not-null constraint",
							NameStr(TupleDescAttr(desc, a)->attname),
							RelationGetRelationName(w->rel))));
	ExecStoreVirtualTuple(slot);
	if (w->csv != NULL)
		rm_csv_add(w->csv, slot->tts_values, slot->tts_isnull);
	if (++w->nbuffered == RM_ROW_BATCH)
		flush_rows(w);
}

/* the rows of a fetched batch, which stays until the flush */
static void
add_fetched(RmRowWriter *w, SPITupleTable *tt, int n)
{
	for (int i = 0; i < n; i++)
	{
		TupleTableSlot *slot = w->slots[w->nbuffered];

		ExecClearTuple(slot);
		heap_deform_tuple(tt->vals[i], tt->tupdesc, slot->tts_values,
						  slot->tts_isnull);
		add_row(w);
	}
	flush_rows(w);
}

/*
 * rm_uptime_report()'s emit: the row of one store, the values
 * restmon.report_rows() gives
 */
static void
add_computed(void *arg, const char *key, int keylen, const RmResult *res)
{
	RmRowWriter *w = (RmRowWriter *) arg;
	TupleTableSlot *slot = w->slots[w->nbuffered];
	Datum		values[RM_UPTIME_COLS];
	MemoryContext oldcxt = MemoryContextSwitchTo(w->batchcxt);

	rm_uptime_values(key, keylen, res, values);
	MemoryContextSwitchTo(oldcxt);
	ExecClearTuple(slot);
	slot->tts_values[0] = w->report_id;
	memcpy(&slot->tts_values[1], values, sizeof(Datum) * (RM_ROW_COLS - 1));
	memset(slot->tts_isnull, 0, sizeof(bool) * RM_ROW_COLS);
	add_row(w);
}

/*
 * open restmon.report_row for writing, the CSV rendered into csvcxt (NULL:
 * none); false if not directly
 */
static bool
writer_open(RmRowWriter *w, const char *id, MemoryContext csvcxt)
{
	Oid			nsp = get_namespace_oid("restmon", false);
	Oid			relid = get_relname_relid("report_row", nsp);
	AclResult	aclresult;

	memset(w, 0, sizeof(*w));
	if (!OidIsValid(relid))
		elog(ERROR, "table restmon.report_row is missing");
	aclresult = pg_class_aclcheck(relid, GetUserId(), ACL_INSERT);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_TABLE, "report_row");
	w->rel = table_open(relid, RowExclusiveLock);
	if (!direct_ok(w->rel, get_relname_relid("report", nsp)))
	{
		table_close(w->rel, NoLock);
		return false;
	}
	w->estate = CreateExecutorState();
	w->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(w->rri, w->rel, 1, NULL, 0);
	ExecOpenIndices(w->rri, false);
	w->bistate = GetBulkInsertState();
	for (int i = 0; i < RM_ROW_BATCH; i++)
		w->slots[i] = table_slot_create(w->rel, NULL);
	if (csvcxt != NULL)
		w->csv = rm_csv_begin(RelationGetDescr(w->rel), csvcxt);
	w->id = id;
	w->report_id = CStringGetTextDatum(id);
	w->batchcxt = AllocSetContextCreate(CurrentMemoryContext,
										"restmon report rows",
										ALLOCSET_DEFAULT_SIZES);
	return true;
}

/*
 * Every row flushed, and the CSV ended and hashed for its ETag
 * (report_file.c): an RmPassDone, which a parallel report calls while its
 * workers exit
 */
static void
writer_done(void *arg)
{
	RmRowWriter *w = (RmRowWriter *) arg;

	if (w->done)
		return;
	flush_rows(w);
	if (w->csv != NULL)
	{
		w->csv_text = rm_csv_end(w->csv);
		if (w->csv_text != NULL)
			w->etag = rm_report_file_etag_of(w->id, w->csv_text);
	}
	w->done = true;
}

/*
 * the rows written; *csv and *etag set if asked for (NULL: not in the
 * CSV's order)
 */
static int64
writer_close(RmRowWriter *w, text **csv, char **etag)
{
	writer_done(w);
	if (csv != NULL)
	{
		*csv = w->csv_text;
		*etag = w->etag;
	}
	for (int i = 0; i < RM_ROW_BATCH; i++)
		ExecDropSingleTupleTableSlot(w->slots[i]);
	FreeBulkInsertState(w->bistate);
	ExecCloseIndices(w->rri);
	FreeExecutorState(w->estate);
	MemoryContextDelete(w->batchcxt);
	table_close(w->rel, NoLock);
	return w->total;
}

/* the rows of restmon.report_rows(id), a batch at a time */
static void
write_fetched(RmRowWriter *w, Datum arg)
{
	Oid			type = TEXTOID;
	Portal		portal;

	portal = SPI_cursor_open_with_args(NULL,
									   "SELECT * FROM restmon.report_rows($1)",
									   1, &type, &arg, NULL, false,
									   CURSOR_OPT_NO_SCROLL);
	for (;;)
	{
		SPITupleTable *tt;
		int			n;

		SPI_cursor_fetch(portal, true, RM_ROW_BATCH);
		tt = SPI_tuptable;
		n = (int) SPI_processed;
		if (n > 0 && !same_columns(tt->tupdesc, RelationGetDescr(w->rel)))
			elog(ERROR, "restmon.report_rows() does not give rows of restmon.report_row");
		if (n > 0)
			add_fetched(w, tt, n);
		SPI_freetuptable(tt);
		if (n == 0)
			break;
	}
	SPI_cursor_close(portal);
}

/*
 * Write the rows of report id (restmon.report_rows(id)) into
 * restmon.report_row; returns how many, or -1, having written none, when
 * the table is not one this writes directly.  With csv not NULL, *csv is
 * set to their CSV (report_csv.c, allocated in csvcxt) as they are
 * written, and *etag to its ETag (report_file.c), or both to NULL if
 * they did not come in its order.  Inside SPI.
 */
int64
rm_report_write_rows(const char *id, text **csv, char **etag,
					 MemoryContext csvcxt)
{
	RmRowWriter w;
	Datum		arg = CStringGetTextDatum(id);
	Oid			type = TEXTOID;
	bool		no_as_of;
	bool		one_store;
	TimestampTz T;

	if (!writer_open(&w, id, csv != NULL ? csvcxt : NULL))
		return -1;

	/* the foreign key, once: the report is there, and stays */
	if (SPI_execute_with_args("SELECT as_of, store_filter FROM restmon.report"
							  " WHERE report_id = $1 FOR KEY SHARE",
							  1, &type, &arg, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not lock report %s", id);
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("report %s is missing", id)));
	T = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0],
										  SPI_tuptable->tupdesc, 1, &no_as_of));
	(void) SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2,
						 &one_store);
	one_store = !one_store;

	/* a full report computed here: written as it is computed */
	if (!no_as_of && !one_store && computed_columns_ok(RelationGetDescr(w.rel)))
	{
		rm_check_instant(T, "as_of");
		/* its xid before the parallel workers share the transaction */
		(void) GetCurrentTransactionId();
		rm_uptime_report(T, add_computed, writer_done, &w);
	}
	else
		write_fetched(&w, arg);
	return writer_close(&w, csv, etag);
}
