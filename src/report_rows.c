/*-------------------------------------------------------------------------
 *
 * src/report_rows.c
 *	  Writing a report's rows into restmon.report_row the way COPY writes
 *	  a table (table_multi_insert, then each index), for report_queue.c
 *	  when it fills a report: the rows restmon.report_rows() gives, read
 *	  through an SPI cursor, written a batch at a time.
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
#include "utils/rel.h"
#include "utils/rls.h"

#include "report_queue.h"

#define RM_ROW_BATCH	1000	/* rows fetched and inserted at once */

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

/* insert one fetched batch: heap, then every index */
static void
insert_batch(Relation rel, ResultRelInfo *rri, EState *estate,
			 TupleTableSlot **slots, SPITupleTable *tt, int n)
{
	TupleDesc	desc = RelationGetDescr(rel);

	for (int i = 0; i < n; i++)
	{
		ExecClearTuple(slots[i]);
		heap_deform_tuple(tt->vals[i], tt->tupdesc, slots[i]->tts_values,
						  slots[i]->tts_isnull);
		for (int a = 0; a < desc->natts; a++)
			if (slots[i]->tts_isnull[a] && TupleDescAttr(desc, a)->attnotnull)
				ereport(ERROR,
						(errcode(ERRCODE_NOT_NULL_VIOLATION),
						 errmsg("null value in column \"%s\" of relation \"%s\" violates not-null constraint",
								NameStr(TupleDescAttr(desc, a)->attname),
								RelationGetRelationName(rel))));
		ExecStoreVirtualTuple(slots[i]);
	}
	table_multi_insert(rel, slots, n, GetCurrentCommandId(true), 0, NULL);
	for (int i = 0; i < n; i++)
	{
		list_free(ExecInsertIndexTuples(rri, slots[i], estate, false, false,
										NULL, NIL));
		ResetPerTupleExprContext(estate);
	}
}

/*
 * Write the rows of report id (restmon.report_rows(id)) into
 * restmon.report_row; returns how many, or -1, having written none, when
 * the table is not one this writes directly.  Inside SPI.
 */
int64
rm_report_write_rows(const char *id)
{
	Oid			nsp = get_namespace_oid("restmon", false);
	Oid			relid = get_relname_relid("report_row", nsp);
	Datum		arg = CStringGetTextDatum(id);
	Oid			type = TEXTOID;
	Relation	rel;
	AclResult	aclresult;
	TupleTableSlot *slots[RM_ROW_BATCH];
	EState	   *estate;
	ResultRelInfo *rri;
	Portal		portal;
	int64		total = 0;

	if (!OidIsValid(relid))
		elog(ERROR, "table restmon.report_row is missing");
	aclresult = pg_class_aclcheck(relid, GetUserId(), ACL_INSERT);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_TABLE, "report_row");
	rel = table_open(relid, RowExclusiveLock);
	if (!direct_ok(rel, get_relname_relid("report", nsp)))
	{
		table_close(rel, NoLock);
		return -1;
	}

	/* the foreign key, once: the report is there, and stays */
	if (SPI_execute_with_args("SELECT FROM restmon.report WHERE report_id = $1"
							  " FOR KEY SHARE",
							  1, &type, &arg, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not lock report %s", id);
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("report %s is missing", id)));

	estate = CreateExecutorState();
	rri = makeNode(ResultRelInfo);
	InitResultRelInfo(rri, rel, 1, NULL, 0);
	ExecOpenIndices(rri, false);
	for (int i = 0; i < RM_ROW_BATCH; i++)
		slots[i] = table_slot_create(rel, NULL);

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
		if (n > 0 && !same_columns(tt->tupdesc, RelationGetDescr(rel)))
			elog(ERROR, "restmon.report_rows() does not give rows of restmon.report_row");
		if (n > 0)
			insert_batch(rel, rri, estate, slots, tt, n);
		SPI_freetuptable(tt);
		total += n;
		if (n == 0)
			break;
	}
	SPI_cursor_close(portal);

	for (int i = 0; i < RM_ROW_BATCH; i++)
		ExecDropSingleTupleTableSlot(slots[i]);
	ExecCloseIndices(rri);
	FreeExecutorState(estate);
	table_close(rel, NoLock);
	return total;
}
