/*-------------------------------------------------------------------------
 *
 * src/store_track.c
 *	  restmon.store follows the polls a status load inserted (polls.c):
 *	  each store's row gets first_observed_at lowered and last_observed_at
 *	  raised to its new polls' range, as restmon.track_stores() does for
 *	  every other writer (the statement trigger).
 *
 * A load's stores are mostly known already: their rows are found by a
 * probe of the primary key and updated in place (table_tuple_update,
 * index entries only when the update is not HOT), and a row the new polls
 * do not widen is left alone, without a plan or a query per load.  Every
 * other case goes to restmon.track_stores(), the one upsert in SQL: a
 * store with no row yet, a row another transaction changed meanwhile, or a
 * table with a trigger, whose trigger must fire (but restmon's own, which
 * raises restmon.poll_bound: that is done here, once per chunk).
 *
 * A store's row is looked for first where this backend last found or put
 * it (the TID the primary key points to, the root of the row's HOT chain,
 * kept across batches in backend memory), fetched as an index scan fetches
 * it (the page pruned when worth it, the HOT chain followed): the version
 * found is the store's row when it is visible to the snapshot and holds
 * the same store_id, as at most one version of a primary key's row is
 * visible to an MVCC snapshot.  This saves a descent of the primary key
 * per store and batch.  Anything else (a row updated by another
 * session, pruned, moved by VACUUM FULL, a rolled-back update) sends the
 * lookup to the primary key as before, which puts the TID right again.
 *
 * A load that fits one chunk (polls.c) calls rm_lock_stores before it
 * reads its stores' polls: the same widening, with the chunk's polls of
 * each store, and every row locked as UPDATE locks it, store after store
 * in the order given (store order), waiting for another load that holds
 * one.  A store that needs SQL there gets it at once, in its turn, so the
 * order holds; restmon.poll_bound is raised before the first row (the
 * one row every load may update, taken before any store's).
 *
 * Invariants:
 *	- afterwards every store given has a row whose range covers its new
 *	  polls, widened exactly as the SQL function widens it (LEAST of the
 *	  firsts, GREATEST of the lasts), in this transaction;
 *	- the privileges checked are those of the SQL upsert (SELECT, INSERT,
 *	  UPDATE on restmon.store), as the current user;
 *	- a row is read with a snapshot taken after the caller's own changes
 *	  (CommandCounterIncrement), so the chunks of one load and the loads of
 *	  one transaction see each other's rows.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "ingest_int.h"

/* what the SQL function is left to do */
typedef struct RmTrackRest
{
	Datum	   *ids;
	Datum	   *firsts;
	Datum	   *lasts;
	int			n;
} RmTrackRest;

/* restmon.store opened for updates in place */
typedef struct RmStoreRel
{
	Relation	heap;
	IndexScanDesc scan;
	ScanKeyData key;
	TupleTableSlot *slot;		/* the row found */
	TupleTableSlot *newslot;	/* its new version */
	EState	   *estate;
	ResultRelInfo *resultrel;
	BlockNumber nblocks;		/* the heap's size (no TID cached past it) */
	struct IndexFetchTableData *fetch;	/* fetches at a cached TID */
} RmStoreRel;

/*
 * Where this backend last found or put each store's row: a TID to try
 * first, checked every time (the banner), for one relfilenode of
 * restmon.store; emptied when it would hold more than RM_TID_CACHE_MAX.
 */
#define RM_TID_CACHE_MAX	262144

typedef struct RmTidEntry
{
	RmIdKey		key;			/* first: the hash key */
	ItemPointerData tid;
} RmTidEntry;

static MemoryContext tid_cxt = NULL;
static HTAB *tid_cache = NULL;
static RelFileNode tid_node;

/* the cache, empty, for the relfilenode of heap */
static void
tid_cache_reset(Relation heap)
{
	if (tid_cxt == NULL)
		tid_cxt = AllocSetContextCreate(TopMemoryContext,
										"restmon store tids",
										ALLOCSET_DEFAULT_SIZES);
	else
		MemoryContextReset(tid_cxt);
	tid_cache = rm_id_hash_create("restmon store tids", 16384,
								  sizeof(RmTidEntry), tid_cxt);
	tid_node = heap->rd_node;
}

/* remember where store id's row is now */
static void
tid_remember(RmStoreRel *s, Datum id, ItemPointer tid)
{
	RmTidEntry *e;
	bool		found;

	if (hash_get_num_entries(tid_cache) >= (long) RM_TID_CACHE_MAX)
		tid_cache_reset(s->heap);
	e = rm_id_hash_enter(tid_cache, tid_cxt, DatumGetTextPP(id), &found);
	e->tid = *tid;
}

/*
 * Store id's row, into s->slot, from the TID the cache holds: true when
 * the version there is visible to the snapshot and is that store's.
 */
static bool
tid_find(RmStoreRel *s, Datum id)
{
	RmTidEntry *e = rm_id_hash_find(tid_cache, DatumGetTextPP(id));
	text	   *found;
	bool		isnull;
	bool		call_again = false;
	bool		all_dead = false;
	ItemPointerData tid;

	if (e == NULL || ItemPointerGetBlockNumber(&e->tid) >= s->nblocks)
		return false;

	/*
	 * as an index scan fetches a row: the page pruned first when it is worth
	 * it (so that updates stay HOT), the HOT chain followed from the TID to
	 * the version the snapshot sees
	 */
	tid = e->tid;				/* moved to the version found */
	if (!table_index_fetch_tuple(s->fetch, &tid, GetActiveSnapshot(),
								 s->slot, &call_again, &all_dead))
		return false;			/* not there, or not visible */
	found = DatumGetTextPP(slot_getattr(s->slot, 1, &isnull));
	return !isnull && (int) VARSIZE_ANY_EXHDR(found) == e->key.len &&
		memcmp(VARDATA_ANY(found), e->key.id, e->key.len) == 0;
}

static void
rest_add(RmTrackRest *r, Datum id, Datum first, Datum last)
{
	r->ids[r->n] = id;
	r->firsts[r->n] = first;
	r->lasts[r->n] = last;
	r->n++;
}

/* the SQL upsert, for what is left */
static void
track_in_sql(RmTrackRest *r)
{
	Datum		args[3];
	Oid			types[3] = {TEXTARRAYOID, TIMESTAMPTZARRAYOID,
	TIMESTAMPTZARRAYOID};

	if (r->n == 0)
		return;
	args[0] = rm_make_array(r->ids, r->n, TEXTOID);
	args[1] = rm_make_array(r->firsts, r->n, TIMESTAMPTZOID);
	args[2] = rm_make_array(r->lasts, r->n, TIMESTAMPTZOID);
	if (SPI_execute_with_args("SELECT restmon.track_stores($1, $2, $3)",
							  3, types, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not update restmon.store");
}

/*
 * restmon's own triggers on restmon.store: the poll bound's, which
 * rm_track_stores does itself for the rows it updates in place
 */
static bool
only_own_triggers(Relation heap)
{
	TriggerDesc *td = heap->trigdesc;

	for (int i = 0; td != NULL && i < td->numtriggers; i++)
		if (!td->triggers[i].tgisinternal &&
			strcmp(td->triggers[i].tgname, "store_poll_bound_insert") != 0 &&
			strcmp(td->triggers[i].tgname, "store_poll_bound_update") != 0)
			return false;
	return true;
}

/* restmon.poll_bound after rows updated in place (the trigger's work) */
static void
raise_poll_bound(TimestampTz latest)
{
	static SPIPlanPtr plan = NULL;
	Datum		arg = TimestampTzGetDatum(latest);
	Oid			type = TIMESTAMPTZOID;
	SPIPlanPtr	p = rm_kept_plan(&plan, "SELECT restmon.raise_poll_bound($1)",
								 1, &type);

	if (SPI_execute_plan(p, &arg, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not raise restmon.poll_bound");
}

/*
 * Open restmon.store for updates in place: false (nothing opened) when
 * they cannot be made here -- the table is not (store_id, first, last)
 * with a primary key on store_id, or has a trigger other than restmon's
 * own or row-level security.
 */
static bool
store_open(RmStoreRel *s)
{
	Oid			relid = get_relname_relid("store",
										  get_namespace_oid("restmon", false));
	AclResult	aclresult;
	Oid			indexid;
	Relation	index;
	TupleDesc	desc;

	memset(s, 0, sizeof(*s));
	if (!OidIsValid(relid))
		elog(ERROR, "table restmon.store is missing");
	aclresult = pg_class_aclcheck(relid, GetUserId(),
								  ACL_SELECT | ACL_INSERT | ACL_UPDATE);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_TABLE, "store");
	if (check_enable_rls(relid, InvalidOid, false) == RLS_ENABLED)
		return false;
	s->heap = table_open(relid, RowExclusiveLock);
	desc = RelationGetDescr(s->heap);
	indexid = RelationGetPrimaryKeyIndex(s->heap);
	if (!only_own_triggers(s->heap) || !OidIsValid(indexid) ||
		desc->natts != 3 ||
		TupleDescAttr(desc, 0)->atttypid != TEXTOID ||
		TupleDescAttr(desc, 1)->atttypid != TIMESTAMPTZOID ||
		TupleDescAttr(desc, 2)->atttypid != TIMESTAMPTZOID)
	{
		table_close(s->heap, NoLock);
		return false;
	}
	index = index_open(indexid, RowExclusiveLock);
	if (IndexRelationGetNumberOfAttributes(index) != 1 ||
		index->rd_index->indkey.values[0] != 1)
		elog(ERROR, "restmon.store's primary key is not (store_id)");
	ScanKeyInit(&s->key, 1, BTEqualStrategyNumber, F_TEXTEQ, (Datum) 0);
	s->scan = index_beginscan(s->heap, index, GetActiveSnapshot(), 1, 0);
	s->slot = table_slot_create(s->heap, NULL);
	s->newslot = table_slot_create(s->heap, NULL);
	s->estate = CreateExecutorState();
	s->resultrel = makeNode(ResultRelInfo);
	InitResultRelInfo(s->resultrel, s->heap, 1, NULL, 0);
	ExecOpenIndices(s->resultrel, false);
	index_close(index, NoLock);
	/* no VACUUM truncates the heap while this lock is held */
	s->nblocks = RelationGetNumberOfBlocks(s->heap);
	s->fetch = table_index_fetch_begin(s->heap);
	if (tid_cache == NULL || !RelFileNodeEquals(tid_node, s->heap->rd_node))
		tid_cache_reset(s->heap);
	return true;
}

static void
store_close(RmStoreRel *s)
{
	table_index_fetch_end(s->fetch);
	index_endscan(s->scan);
	ExecDropSingleTupleTableSlot(s->slot);
	ExecDropSingleTupleTableSlot(s->newslot);
	ExecCloseIndices(s->resultrel);
	FreeExecutorState(s->estate);
	table_close(s->heap, NoLock);
}

/*
 * Lock the row version in s->slot, or the newest one after it, as UPDATE
 * would (waiting for a writer that holds it): false when it is gone.
 */
static bool
lock_row(RmStoreRel *s)
{
	TM_FailureData tmfd;

	return table_tuple_lock(s->heap, &s->slot->tts_tid, GetActiveSnapshot(),
							s->newslot, GetCurrentCommandId(true),
							LockTupleNoKeyExclusive, LockWaitBlock,
							TUPLE_LOCK_FLAG_FIND_LAST_VERSION,
							&tmfd) == TM_Ok;
}

/*
 * One store: true when its row is there and now covers [first, last]
 * (widened in place if needed), and with lock is locked too; false when
 * SQL must do it.
 */
static bool
track_one(RmStoreRel *s, Datum id, TimestampTz first, TimestampTz last,
		  bool lock)
{
	bool		isnull;
	TimestampTz was_first;
	TimestampTz was_last;
	TM_FailureData tmfd;
	LockTupleMode lockmode;
	bool		update_indexes;
	TM_Result	result;

	if (!tid_find(s, id))
	{
		s->key.sk_argument = id;
		index_rescan(s->scan, &s->key, 1, NULL, 0);
		if (!index_getnext_slot(s->scan, ForwardScanDirection, s->slot))
			return false;		/* a new store */
		tid_remember(s, id, &s->scan->xs_heaptid);	/* its HOT chain's */
	}
	was_first = DatumGetTimestampTz(slot_getattr(s->slot, 2, &isnull));
	was_last = DatumGetTimestampTz(slot_getattr(s->slot, 3, &isnull));
	if (was_first <= first && was_last >= last)
		return !lock || lock_row(s);	/* nothing to widen */

	ExecClearTuple(s->newslot);
	s->newslot->tts_values[0] = slot_getattr(s->slot, 1, &isnull);
	s->newslot->tts_values[1] = TimestampTzGetDatum(Min(was_first, first));
	s->newslot->tts_values[2] = TimestampTzGetDatum(Max(was_last, last));
	memset(s->newslot->tts_isnull, 0, sizeof(bool) * 3);
	ExecStoreVirtualTuple(s->newslot);
	result = table_tuple_update(s->heap, &s->slot->tts_tid, s->newslot,
								GetCurrentCommandId(true), GetActiveSnapshot(),
								InvalidSnapshot, true, &tmfd, &lockmode,
								&update_indexes);
	if (result != TM_Ok)
		return false;			/* changed meanwhile: SQL decides */
	/* not HOT: new index entries (update = false: no range table here) */
	if (update_indexes)
	{
		tid_remember(s, id, &s->newslot->tts_tid);	/* a new HOT chain */
		list_free(ExecInsertIndexTuples(s->resultrel, s->newslot, s->estate,
										false, false, NULL, NIL));
	}
	ResetPerTupleExprContext(s->estate);
	return true;
}

/*
 * One store's row through SQL, now: the upsert, then a lock on the row
 * (which the upsert leaves unlocked when it has nothing to change)
 */
static void
lock_in_sql(Datum id, Datum first, Datum last)
{
	static SPIPlanPtr plan = NULL;
	RmTrackRest one = {&id, &first, &last, 1};
	Oid			type = TEXTOID;
	SPIPlanPtr	p = rm_kept_plan(&plan,
								 "SELECT FROM restmon.store s"
								 " WHERE s.store_id = $1 FOR NO KEY UPDATE",
								 1, &type);

	track_in_sql(&one);
	if (SPI_execute_plan(p, &id, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not lock a row of restmon.store");
}

/*
 * ids[0..n) widened to firsts[i] .. lasts[i]; with lock, each row locked
 * too, in the order given, and the poll bound raised before any of them.
 */
static void
track(Datum *ids, Datum *firsts, Datum *lasts, int n, bool lock)
{
	RmTrackRest rest = {0};
	RmStoreRel	s;
	bool		direct;
	TimestampTz latest = DT_NOBEGIN;

	if (n == 0)
		return;
	for (int i = 0; i < n; i++)
		latest = Max(latest, DatumGetTimestampTz(lasts[i]));
	if (lock)
		raise_poll_bound(latest);
	rest.ids = palloc(sizeof(Datum) * n);
	rest.firsts = palloc(sizeof(Datum) * n);
	rest.lasts = palloc(sizeof(Datum) * n);
	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	UpdateActiveSnapshotCommandId();
	direct = store_open(&s);
	for (int i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (direct && track_one(&s, ids[i], DatumGetTimestampTz(firsts[i]),
								DatumGetTimestampTz(lasts[i]), lock))
			continue;
		if (lock)
			lock_in_sql(ids[i], firsts[i], lasts[i]);
		else
			rest_add(&rest, ids[i], firsts[i], lasts[i]);
	}
	if (direct)
		store_close(&s);
	PopActiveSnapshot();
	if (direct && !lock)
		raise_poll_bound(latest);
	track_in_sql(&rest);
}

/*
 * restmon.store after a chunk of new polls: store ids[i] got new polls
 * from firsts[i] to lasts[i] (timestamptz).  Inside SPI.
 */
void
rm_track_stores(Datum *ids, Datum *firsts, Datum *lasts, int n)
{
	track(ids, firsts, lasts, n, false);
}

/*
 * Before a chunk that is a whole load is applied (polls.c): store ids[i]
 * will get polls from firsts[i] to lasts[i], ids in store order; each row
 * widened and locked, in that order.  Inside SPI.
 */
void
rm_lock_stores(Datum *ids, Datum *firsts, Datum *lasts, int n)
{
	track(ids, firsts, lasts, n, true);
}
