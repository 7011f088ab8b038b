/*-------------------------------------------------------------------------
 *
 * src/observation_write.c
 *	  The handle on restmon.observation (RmObsTable): its opening and
 *	  closing, and its ordered bulk inserts; its reads are
 *	  observation_weeks.c's.
 *
 * Ingestion inserts new polls the way COPY does (table_multi_insert, then
 * one index insertion per row), in key order.
 * Into a table without a page at all, it inserts the heap rows only, then
 * rebuilds every index by sort, as CREATE INDEX does (rm_obs_bulk_if_empty):
 * about 30% less than the insertions for the demo's week.  The rebuild
 * needs AccessExclusiveLock on the indexes until commit, so it is done
 *  - when the table was created or truncated in the same transaction (no
 *    other session can read its new files before commit anyway), or
 *  - for a load that is a statement of its own (not in a transaction
 *    block, so the lock ends with the load), when no other session holds
 *    any lock on the indexes: they are locked before the first row, so the
 *    load never waits for a reader.  A report that starts during such a
 *    load waits for its end, and finds no poll it would not have found
 *    without waiting: the table was empty when its snapshot was taken.
 * The rebuild is transactional (new files, swapped at commit: crash-safe)
 * and checks the key's uniqueness again.  Anywhere else a report
 * never waits for an ingestion, and rows go through the indexes one by
 * one.
 *
 * Rows inserted here fire no trigger (a table with a trigger other than
 * restmon's own is refused): the caller keeps restmon.store up to date
 * itself (store_track.c, restmon.track_stores), as the statement trigger
 * does for other writers.  Every index of the table is maintained.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "access/genam.h"
#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/rls.h"
#include "utils/timestamp.h"

#include "observation.h"

/*
 * The key of restmon.observation, checked to be what restmon reads in place
 * (observation.h): (restmon.observation_week(observed_at), store_id,
 * observed_at) INCLUDE (active), unique, B-tree.
 */
static Relation
open_key(Relation heap, Oid nsp, LOCKMODE lockmode)
{
	Oid			indexid = get_relname_relid("observation_key", nsp);
	Relation	index;
	List	   *exprs;
	FuncExpr   *f;

	if (!OidIsValid(indexid))
		elog(ERROR, "index restmon.observation_key is missing");
	index = index_open(indexid, lockmode);
	if (index->rd_index->indrelid != RelationGetRelid(heap) ||
		index->rd_rel->relam != BTREE_AM_OID ||
		!index->rd_index->indisunique ||
		IndexRelationGetNumberOfAttributes(index) != 4 ||
		IndexRelationGetNumberOfKeyAttributes(index) != 3 ||
		RelationGetDescr(heap)->natts != 3 ||
		index->rd_index->indkey.values[0] != 0 ||
		index->rd_index->indkey.values[1] != 1 ||
		index->rd_index->indkey.values[2] != 2 ||
		index->rd_index->indkey.values[3] != 3 ||
		list_length(exprs = RelationGetIndexExpressions(index)) != 1 ||
		!IsA(linitial(exprs), FuncExpr) ||
		(f = linitial(exprs))->funcresulttype != INT2OID ||
		get_func_namespace(f->funcid) != nsp ||
		strcmp(get_func_name(f->funcid), "observation_week") != 0)
		elog(ERROR, "restmon.observation_key is not (restmon.observation_week(observed_at), store_id, observed_at) INCLUDE (active) on restmon.observation (store_id, observed_at, active)");
	return index;
}

/*
 * Open restmon.observation and its key with the given lock, after checking
 * the privilege the equivalent SQL would need.
 */
void
rm_obs_open(RmObsTable *o, LOCKMODE lockmode, AclMode required)
{
	Oid			nsp = get_namespace_oid("restmon", false);
	Oid			relid = get_relname_relid("observation", nsp);
	AclResult	aclresult;

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
				 errdetail("restmon reads and writes the table through its key, past row-level security.")));

	o->heap = table_open(relid, lockmode);
	o->index = open_key(o->heap, nsp, lockmode);
	o->cxt = CurrentMemoryContext;
}

/* rows handed to table_multi_insert at once, as COPY does */
#define RM_INSERT_BATCH 1000

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

/* queue one new row for the heap (and the indexes, unless bulk) */
static void
queue_row(RmObsTable *o, Datum store_id, TimestampTz t, bool active)
{
	TupleTableSlot *slot;

	if (o->slots == NULL)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(o->cxt);

		/*
		 * slots are made as they are first needed: a batch of a few rows
		 * makes a few
		 */
		o->slots = palloc0(sizeof(TupleTableSlot *) * RM_INSERT_BATCH);

		/*
		 * their descriptor: a copy, not reference-counted, so that a slot
		 * costs no pin of the relation's (one per row of a batch)
		 */
		o->slot_desc = CreateTupleDescCopy(RelationGetDescr(o->heap));
		o->bistate = GetBulkInsertState();
		o->estate = CreateExecutorState();
		o->resultrel = makeNode(ResultRelInfo);
		InitResultRelInfo(o->resultrel, o->heap, 1, NULL, 0);
		ExecOpenIndices(o->resultrel, false);
		MemoryContextSwitchTo(oldcxt);
	}
	if (o->slots[o->nbuffered] == NULL)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(o->cxt);

		o->slots[o->nbuffered] =
			MakeSingleTupleTableSlot(o->slot_desc,
									 table_slot_callbacks(o->heap));
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
 * A bulk load's row kept until rm_obs_close, so that the heap is written
 * in the key's order, (week, store_id, observed_at): each process of the
 * index build then reads its share of the heap already sorted, which its
 * sort checks first and stops at (PostgreSQL's quicksort), where rows
 * written by store would be sorted in full, without abbreviated keys
 * (the week comes first), at twice the cost.
 */
typedef struct RmBulkRow
{
	Datum		store_id;		/* a copy, shared by a store's rows */
	TimestampTz t;
	int16		week;
	bool		active;
} RmBulkRow;

/* keep a bulk load's row; rows come by store, then time */
static void
bulk_add(RmObsTable *o, Datum store_id, TimestampTz t, bool active)
{
	RmBulkRow  *r;

	if (o->nbulk == o->bulk_cap)
	{
		o->bulk_cap = Max(o->bulk_cap * 2, 1024);
		o->bulk_rows = o->bulk_rows == NULL ?
			MemoryContextAllocHuge(o->cxt, sizeof(RmBulkRow) * o->bulk_cap) :
			repalloc_huge(o->bulk_rows, sizeof(RmBulkRow) * o->bulk_cap);
	}
	if (o->nbulk == INT_MAX)
		elog(ERROR, "too many polls in one bulk load");
	r = &((RmBulkRow *) o->bulk_rows)[o->nbulk];
	if (o->nbulk > 0 && datumIsEqual(r[-1].store_id, store_id, false, -1))
		r->store_id = r[-1].store_id;
	else
	{
		Size		len = VARSIZE_ANY(DatumGetPointer(store_id));
		char	   *copy = MemoryContextAlloc(o->cxt, len);

		memcpy(copy, DatumGetPointer(store_id), len);
		r->store_id = PointerGetDatum(copy);
	}
	r->t = t;
	r->week = rm_obs_week(t);
	r->active = active;
	o->bulk_lo = o->nbulk == 0 ? r->week : Min(o->bulk_lo, r->week);
	o->bulk_hi = o->nbulk == 0 ? r->week : Max(o->bulk_hi, r->week);
	o->nbulk++;
}

/*
 * A bulk load's rows written week by week, each week's in the order they
 * came (by store, then time): a stable counting sort on the week.
 */
static void
bulk_write(RmObsTable *o)
{
	RmBulkRow  *rows = o->bulk_rows;
	int			nweeks = (int) o->bulk_hi - o->bulk_lo + 1;
	int		   *next = palloc0(sizeof(int) * (nweeks + 1));
	int		   *order;

	for (int64 i = 0; i < o->nbulk; i++)
		next[rows[i].week - o->bulk_lo + 1]++;
	for (int w = 1; w <= nweeks; w++)
		next[w] += next[w - 1]; /* where each week's rows start */
	order = MemoryContextAllocHuge(CurrentMemoryContext,
								   sizeof(int) * o->nbulk);
	for (int64 i = 0; i < o->nbulk; i++)
		order[next[rows[i].week - o->bulk_lo]++] = (int) i;
	for (int64 i = 0; i < o->nbulk; i++)
		queue_row(o, rows[order[i]].store_id, rows[order[i]].t,
				  rows[order[i]].active);
	pfree(order);
	pfree(next);
	o->nbulk = 0;
}

/* queue one new row; rows come by store, then time */
void
rm_obs_insert(RmObsTable *o, Datum store_id, TimestampTz t, bool active)
{
	if (!o->checked)
	{
		check_triggers(o->heap);
		o->checked = true;
	}
	if (o->bulk)
		bulk_add(o, store_id, t, active);
	else
		queue_row(o, store_id, t, active);
}

/*
 * Every index of the table locked AccessExclusive now, or none: the locks
 * taken are released again when one is held by another session.
 */
static bool
lock_indexes_now(Relation heap)
{
	List	   *indexes = RelationGetIndexList(heap);
	List	   *taken = NIL;
	ListCell   *lc;
	bool		all = true;

	foreach(lc, indexes)
	{
		Oid			indexid = lfirst_oid(lc);

		if (!ConditionalLockRelationOid(indexid, AccessExclusiveLock))
		{
			all = false;
			break;
		}
		taken = lappend_oid(taken, indexid);
	}
	if (!all)
		foreach(lc, taken)
			UnlockRelationOid(lfirst_oid(lc), AccessExclusiveLock);
	list_free(taken);
	list_free(indexes);
	return all;
}

/*
 * Before the first insert: when the table has no page at all, and was
 * created or truncated in this transaction or can have its indexes locked
 * for a load outside a transaction block (see the file's head), insert
 * heap rows only and rebuild the indexes at rm_obs_close.  The caller must
 * hold a lock that keeps every other writer out (ShareRowExclusiveLock),
 * and must not read rows it inserted through this handle (reads go through
 * the key).  Returns whether it does so.
 */
bool
rm_obs_bulk_if_empty(RmObsTable *o)
{
	Relation	heap = o->heap;

	Assert(o->slots == NULL);
	if (RelationGetNumberOfBlocks(heap) != 0)
		o->bulk = false;
	else if (heap->rd_createSubid != InvalidSubTransactionId ||
			 heap->rd_firstRelfilenodeSubid != InvalidSubTransactionId)
		o->bulk = true;
	else
		o->bulk = !IsTransactionBlock() && lock_indexes_now(heap);
	return o->bulk;
}

/*
 * The inserts' end: what is buffered is written and the insert state
 * freed.  Returns whether the indexes must be rebuilt (bulk mode, rows
 * inserted): rebuild_indexes() once the table is closed.
 */
static bool
write_end(RmObsTable *o)
{
	bool		rebuild;

	if (o->nbulk > 0)
		bulk_write(o);
	rebuild = o->bulk && o->slots != NULL;
	obs_flush(o);
	if (o->slots != NULL)
	{
		for (int i = 0; i < RM_INSERT_BATCH && o->slots[i] != NULL; i++)
			ExecDropSingleTupleTableSlot(o->slots[i]);
		FreeBulkInsertState(o->bistate);
		ExecCloseIndices(o->resultrel);
		FreeExecutorState(o->estate);
		o->slots = NULL;
	}
	return rebuild;
}

/* every index of the table, by sort; the key's uniqueness checked */
static void
rebuild_indexes(Oid relid)
{
	ReindexParams params = {0};

	CommandCounterIncrement();
	reindex_relation(relid, REINDEX_REL_CHECK_CONSTRAINTS, &params);
}

/*
 * Close the handle: the buffered inserts written (and the indexes rebuilt
 * after a bulk load), then its readers' pins (observation_weeks.c)
 * released.
 */
void
rm_obs_close(RmObsTable *o)
{
	bool		rebuild = write_end(o);
	Oid			relid = RelationGetRelid(o->heap);

	rm_obs_close_readers(o);
	index_close(o->index, NoLock);
	table_close(o->heap, NoLock);
	if (rebuild)
		rebuild_indexes(relid);
}
