/*-------------------------------------------------------------------------
 *
 * src/store_reader.c
 *	  The ordered readers of the report's pass (store_scan.h): the rows of
 *	  restmon.store, restmon.store_timezone or restmon.business_hours read
 *	  through the table's btree index on store_id, in byte order, as of the
 *	  active snapshot, with the privilege checks the equivalent SELECT
 *	  would make.  store_uptime.c merges them store by store.
 *
 * Invariants: a reader shows one row at a time (tuple, key, keylen), valid
 * until rm_keyed_next(); btree's own allocations go to the reader's
 * context, never to a caller's per-store one.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/nbtree.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "observation.h"
#include "restmon.h"
#include "schedule.h"
#include "store_scan.h"

/* on to the reader's next row shown, or NULL at the end */
void
rm_keyed_next(RmReader *r)
{
	bool		isnull;
	text	   *t;

	/*
	 * btree allocates as it goes (the items it marks dead): in the reader's
	 * context, not a caller's per-store one
	 */
	MemoryContext oldcxt = MemoryContextSwitchTo(r->cxt);

	r->tuple = NULL;
	while (index_getnext_slot(r->scan, ForwardScanDirection, r->slot))
	{
		if (r->until_att != InvalidAttrNumber &&
			DatumGetTimestampTz(slot_getattr(r->slot, r->until_att,
											 &isnull)) > r->until)
			continue;
		r->tuple = ExecFetchSlotHeapTuple(r->slot, false, NULL);
		t = DatumGetTextPP(slot_getattr(r->slot, r->att[0], &isnull));
		r->key = VARDATA_ANY(t);
		r->keylen = VARSIZE_ANY_EXHDR(t);
		break;
	}
	MemoryContextSwitchTo(oldcxt);
}

/*
 * restmon.<table>, opened with AccessShareLock once the privilege the
 * equivalent SELECT would need is checked (and row-level security, which
 * an index read would pass, is found off)
 */
Relation
rm_keyed_table(const char *table)
{
	Oid			relid = get_relname_relid(table,
										  get_namespace_oid("restmon", false));
	AclResult	aclresult;

	if (!OidIsValid(relid))
		elog(ERROR, "table restmon.%s is missing", table);
	aclresult = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_TABLE, table);
	if (check_enable_rls(relid, InvalidOid, false) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("row-level security on restmon.%s is not supported", table),
				 errdetail("restmon reads the table through its index on store_id, past row-level security.")));
	return table_open(relid, AccessShareLock);
}

/* heap's valid btree index whose first column is att, in byte order */
Relation
rm_keyed_index(Relation heap, AttrNumber att)
{
	ListCell   *lc;

	foreach(lc, RelationGetIndexList(heap))
	{
		Relation	index = index_open(lfirst_oid(lc), AccessShareLock);

		if (index->rd_rel->relam == BTREE_AM_OID &&
			index->rd_index->indkey.values[0] == att &&
			index->rd_indcollation[0] == C_COLLATION_OID &&
			RelationGetIndexPredicate(index) == NIL &&
			index->rd_index->indisvalid)
			return index;
		index_close(index, AccessShareLock);
	}
	elog(ERROR, "table restmon.%s has no index on store_id",
		 RelationGetRelationName(heap));
	return NULL;				/* not reached */
}

/*
 * Open a reader on restmon.<table>, whose columns cols (store_id first)
 * become the reader's 1, 2, ...: its rows of store only, or of [lo, hi)
 * (NULL: unbounded), and, with until, only those whose last column (a
 * timestamptz) is <= *until, in store_id byte order, as of the active
 * snapshot,
 * through the table's btree index on store_id.  Checks the privilege the
 * equivalent SELECT would need.
 */
void
rm_keyed_open(RmReader *r, const char *table, const char *const *cols,
			  int ncols, text *only, text *lo, text *hi,
			  const TimestampTz *until)
{
	ScanKeyData keys[2];
	int			nkeys = 0;

	memset(r, 0, sizeof(*r));
	r->cxt = CurrentMemoryContext;
	r->heap = rm_keyed_table(table);
	for (int i = 0; i < ncols; i++)
		if ((r->att[i] = get_attnum(RelationGetRelid(r->heap), cols[i])) ==
			InvalidAttrNumber)
			elog(ERROR, "column %s of restmon.%s is missing", cols[i], table);
	if (until != NULL)
	{
		r->until_att = r->att[ncols - 1];
		r->until = *until;
	}
	r->index = rm_keyed_index(r->heap, r->att[0]);

	if (only != NULL)
		ScanKeyInit(&keys[nkeys++], 1, BTEqualStrategyNumber, F_TEXTEQ,
					PointerGetDatum(only));
	if (lo != NULL)
		ScanKeyInit(&keys[nkeys++], 1, BTGreaterEqualStrategyNumber,
					F_TEXT_GE, PointerGetDatum(lo));
	if (hi != NULL && nkeys < 2)
		ScanKeyInit(&keys[nkeys++], 1, BTLessStrategyNumber, F_TEXT_LT,
					PointerGetDatum(hi));
	Assert(only == NULL || (lo == NULL && hi == NULL));
	r->slot = table_slot_create(r->heap, NULL);
	r->scan = index_beginscan(r->heap, r->index, GetActiveSnapshot(), nkeys, 0);
	index_rescan(r->scan, keys, nkeys, NULL, 0);
	rm_keyed_next(r);
}

void
rm_keyed_close(RmReader *r)
{
	index_endscan(r->scan);
	ExecDropSingleTupleTableSlot(r->slot);
	index_close(r->index, NoLock);
	table_close(r->heap, NoLock);
}

Datum
rm_keyed_col(RmReader *r, int col, bool *isnull)
{
	return slot_getattr(r->slot, r->att[col - 1], isnull);
}

/* skip the reader past keys before (key, len); true if positioned at it */
bool
rm_keyed_seek(RmReader *r, const char *key, int len)
{
	while (r->tuple != NULL && rm_key_cmp(r->key, r->keylen, key, len) < 0)
		rm_keyed_next(r);
	return r->tuple != NULL && rm_key_cmp(r->key, r->keylen, key, len) == 0;
}

/* the business-hours rows of the store the reader is at (cols 2-4) */
int
rm_read_hours(RmReader *r, const char *key, int len, RmHoursRow **rows)
{
	int			n = 0;
	int			cap = 8;
	RmHoursRow *out = palloc(sizeof(RmHoursRow) * cap);

	while (rm_keyed_seek(r, key, len))
	{
		bool		isnull;

		if (n == cap)
		{
			cap *= 2;
			out = repalloc(out, sizeof(RmHoursRow) * cap);
		}
		out[n].day = DatumGetInt16(rm_keyed_col(r, 2, &isnull));
		out[n].start = DatumGetTimeADT(rm_keyed_col(r, 3, &isnull));
		out[n].end = DatumGetTimeADT(rm_keyed_col(r, 4, &isnull));
		n++;
		rm_keyed_next(r);
	}
	*rows = out;
	return n;
}
