/*-------------------------------------------------------------------------
 *
 * src/observation.c
 *	  Direct access to restmon.observation through its primary key
 *	  (store_id, observed_at) INCLUDE (active): per-store range reads for
 *	  reports and ingestion, and ordered bulk inserts for ingestion.
 *
 * A report reads each store's evidence horizon as one index range, the way
 * the executor's index-only scan does (values from the index tuple, the
 * heap visited only for pages not all-visible), without a plan, a slot or a
 * tuple copy per row.  Ingestion inserts new polls the way COPY does
 * (table_multi_insert, then one index insertion per row), in key order.
 * Into a table created or truncated in the same transaction and still
 * without a page, it inserts the heap rows only, then rebuilds every index
 * by sort, as CREATE INDEX does (rm_obs_bulk_if_empty).  No other session
 * can read the table's new files before commit (TRUNCATE holds
 * AccessExclusiveLock until then), so the rebuild's AccessExclusiveLock on
 * the indexes blocks no report that was not blocked already; the rebuild
 * is transactional (new files, swapped at commit: crash-safe) and checks
 * the primary key's uniqueness again.  Anywhere else a report never waits
 * for an ingestion, and rows go through the indexes one by one.
 *
 * Rows inserted here fire no trigger (a table with a trigger other than
 * restmon's own is refused): the caller keeps restmon.store up to date
 * itself (restmon.track_stores), as the statement trigger does for other
 * writers.  Every index of the table is maintained.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/visibilitymap.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/predicate.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"

#include "observation.h"

/* rows handed to table_multi_insert at once, as COPY does */
#define RM_INSERT_BATCH 1000

/*
 * Open restmon.observation and its primary key with the given lock, after
 * checking the privilege the equivalent SQL would need.
 */
void
rm_obs_open(RmObsTable *o, LOCKMODE lockmode, AclMode required)
{
	Oid			relid = get_relname_relid("observation",
										  get_namespace_oid("restmon", false));
	AclResult	aclresult;
	Oid			indexid;

	memset(o, 0, sizeof(*o));
	if (!OidIsValid(relid))
		elog(ERROR, "table restmon.observation is missing");
	aclresult = pg_class_aclcheck(relid, GetUserId(), required);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_TABLE, "observation");

	if (check_enable_rls(relid, InvalidOid, false) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("row-level security on restmon.observation is not supported"),
				 errdetail("restmon reads and writes the table through its primary key, past row-level security.")));

	o->heap = table_open(relid, lockmode);
	indexid = RelationGetPrimaryKeyIndex(o->heap);
	if (!OidIsValid(indexid))
		elog(ERROR, "table restmon.observation has no primary key");
	o->index = index_open(indexid, lockmode);
	if (o->index->rd_rel->relam != BTREE_AM_OID ||
		IndexRelationGetNumberOfAttributes(o->index) != 3 ||
		IndexRelationGetNumberOfKeyAttributes(o->index) != 2 ||
		RelationGetDescr(o->heap)->natts != 3 ||
		o->index->rd_index->indkey.values[0] != 1 ||
		o->index->rd_index->indkey.values[1] != 2 ||
		o->index->rd_index->indkey.values[2] != 3)
		elog(ERROR, "restmon.observation is not (store_id, observed_at, active) with primary key (store_id, observed_at) INCLUDE (active)");

	/* store_id = $, observed_at > $, observed_at <= $: set per range */
	ScanKeyInit(&o->keys[0], 1, BTEqualStrategyNumber, F_TEXTEQ, (Datum) 0);
	ScanKeyInit(&o->keys[1], 2, BTGreaterStrategyNumber, F_TIMESTAMPTZ_GT, (Datum) 0);
	ScanKeyInit(&o->keys[2], 2, BTLessEqualStrategyNumber, F_TIMESTAMPTZ_LE, (Datum) 0);
	o->vmbuffer = InvalidBuffer;
	o->cxt = CurrentMemoryContext;
}

/*
 * Append the polls of one store with lo < observed_at <= hi, in time order,
 * to *polls (capacity *cap, grown with repalloc); returns their number.
 * Every read of an RmObsTable uses the snapshot active at its first read:
 * open one per snapshot.
 */
int
rm_obs_read(RmObsTable *o, Datum store_id, TimestampTz lo, TimestampTz hi,
			RmObs **polls, int *cap)
{
	ItemPointer tid;
	int			n = 0;

	/* btree allocates its buffers on the first rescan: keep them here */
	MemoryContext oldcxt = MemoryContextSwitchTo(o->cxt);

	if (o->scan == NULL)
	{
		o->snapshot = GetActiveSnapshot();
		o->scan = index_beginscan(o->heap, o->index, o->snapshot, 3, 0);
		o->scan->xs_want_itup = true;
		o->slot = table_slot_create(o->heap, NULL);
	}
	o->keys[0].sk_argument = store_id;
	o->keys[1].sk_argument = TimestampTzGetDatum(lo);
	o->keys[2].sk_argument = TimestampTzGetDatum(hi);
	index_rescan(o->scan, o->keys, 3, NULL, 0);

	while ((tid = index_getnext_tid(o->scan, ForwardScanDirection)) != NULL)
	{
		Datum		values[3];
		bool		nulls[3];
		bool		from_heap = false;

		if (!VM_ALL_VISIBLE(o->heap, ItemPointerGetBlockNumber(tid),
							&o->vmbuffer))
		{
			if (!index_fetch_heap(o->scan, o->slot))
				continue;		/* not visible to this snapshot */
			ExecClearTuple(o->slot);
			if (o->scan->xs_heap_continue)
				elog(ERROR, "non-MVCC snapshots are not supported");
			from_heap = true;
		}
		if (o->scan->xs_itup == NULL || o->scan->xs_recheck)
			elog(ERROR, "the primary key of restmon.observation cannot return its values");
		if (!from_heap)
			PredicateLockPage(o->heap, ItemPointerGetBlockNumber(tid), o->snapshot);

		if (n == *cap)
		{
			*cap *= 2;
			*polls = repalloc(*polls, sizeof(RmObs) * *cap);
		}
		index_deform_tuple(o->scan->xs_itup, o->scan->xs_itupdesc, values, nulls);
		(*polls)[n].t = DatumGetTimestampTz(values[1]);
		(*polls)[n].active = DatumGetBool(values[2]);
		Assert(n == 0 || (*polls)[n - 1].t < (*polls)[n].t);
		n++;
	}
	MemoryContextSwitchTo(oldcxt);
	return n;
}

/*
 * Write the buffered rows: heap first, then every index of the table, as
 * COPY does (an index a user added is kept up to date too).  A duplicate
 * key raises unique_violation; the caller's lock and its comparison with
 * what is stored rule that out.
 */
static void
obs_flush(RmObsTable *o)
{
	MemoryContext oldcxt;

	if (o->nbuffered == 0)
		return;
	oldcxt = MemoryContextSwitchTo(o->cxt);
	table_multi_insert(o->heap, o->slots, o->nbuffered,
					   GetCurrentCommandId(true), 0, o->bistate);
	for (int i = 0; i < o->nbuffered; i++)
	{
		TupleTableSlot *slot = o->slots[i];

		if (!o->bulk)
		{
			list_free(ExecInsertIndexTuples(o->resultrel, slot, o->estate,
											false, false, NULL, NIL));
			ResetPerTupleExprContext(o->estate);
		}
		ExecClearTuple(slot);
	}
	o->nbuffered = 0;
	MemoryContextSwitchTo(oldcxt);
}

/*
 * Rows written here fire no trigger: refuse a table with a trigger other
 * than restmon's own, rather than skip it silently.
 */
static void
check_triggers(Relation heap)
{
	TriggerDesc *td = heap->trigdesc;

	for (int i = 0; td != NULL && i < td->numtriggers; i++)
		if (!td->triggers[i].tgisinternal &&
			strcmp(td->triggers[i].tgname, "observation_track_stores") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("restmon.observation has a trigger restmon does not know: \"%s\"",
							td->triggers[i].tgname),
					 errdetail("Status ingestion writes the table directly, as COPY does, and fires no trigger."),
					 errhint("Drop the trigger, or read new polls from restmon.ingest_run and restmon.store.")));
}

/* queue one new row; rows should come in key order */
void
rm_obs_insert(RmObsTable *o, Datum store_id, TimestampTz t, bool active)
{
	TupleTableSlot *slot;

	if (o->slots == NULL)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(o->cxt);

		check_triggers(o->heap);
		o->slots = palloc0(sizeof(TupleTableSlot *) * RM_INSERT_BATCH);
		for (int i = 0; i < RM_INSERT_BATCH; i++)
			o->slots[i] = table_slot_create(o->heap, NULL);
		o->bistate = GetBulkInsertState();
		o->estate = CreateExecutorState();
		o->resultrel = makeNode(ResultRelInfo);
		InitResultRelInfo(o->resultrel, o->heap, 1, NULL, 0);
		ExecOpenIndices(o->resultrel, false);
		MemoryContextSwitchTo(oldcxt);
	}
	slot = o->slots[o->nbuffered];
	ExecClearTuple(slot);
	slot->tts_values[0] = store_id;
	slot->tts_values[1] = TimestampTzGetDatum(t);
	slot->tts_values[2] = BoolGetDatum(active);
	memset(slot->tts_isnull, 0, sizeof(bool) * 3);
	ExecStoreVirtualTuple(slot);
	/* the slot keeps its own copy: store_id may be freed after the call */
	ExecMaterializeSlot(slot);
	if (++o->nbuffered == RM_INSERT_BATCH)
		obs_flush(o);
}

/*
 * Before the first insert: when the table was created or truncated in this
 * transaction (as COPY FREEZE asks) and has no page at all, insert heap
 * rows only and rebuild the indexes at rm_obs_close.  The caller must hold
 * a lock that keeps every other writer out (ShareRowExclusiveLock), and
 * must not read rows it inserted through this handle (reads go through the
 * primary key).  Returns whether it does so.
 */
bool
rm_obs_bulk_if_empty(RmObsTable *o)
{
	Assert(o->slots == NULL);
	o->bulk = (o->heap->rd_createSubid != InvalidSubTransactionId ||
			   o->heap->rd_firstRelfilenodeSubid != InvalidSubTransactionId) &&
		RelationGetNumberOfBlocks(o->heap) == 0;
	return o->bulk;
}

void
rm_obs_close(RmObsTable *o)
{
	bool		rebuild = o->bulk && o->slots != NULL;
	Oid			relid = RelationGetRelid(o->heap);

	obs_flush(o);
	if (o->slots != NULL)
	{
		for (int i = 0; i < RM_INSERT_BATCH; i++)
			ExecDropSingleTupleTableSlot(o->slots[i]);
		FreeBulkInsertState(o->bistate);
		ExecCloseIndices(o->resultrel);
		FreeExecutorState(o->estate);
	}
	if (BufferIsValid(o->vmbuffer))
		ReleaseBuffer(o->vmbuffer);
	if (o->slot != NULL)
		ExecDropSingleTupleTableSlot(o->slot);
	if (o->scan != NULL)
		index_endscan(o->scan);
	index_close(o->index, NoLock);
	table_close(o->heap, NoLock);

	if (rebuild)
	{
		ReindexParams params = {0};

		/* every index, by sort; the primary key's uniqueness checked */
		CommandCounterIncrement();
		reindex_relation(relid, REINDEX_REL_CHECK_CONSTRAINTS, &params);
	}
}
