/*-------------------------------------------------------------------------
 *
 * src/observation.c
 *	  Direct access to restmon.observation through its key
 *	  (week, store_id, observed_at) INCLUDE (active): a store's range in one
 *	  week read, for reports and ingestion (observation_weeks.c reads a
 *	  store's weeks one after the other).
 *
 * A report reads each store's evidence horizon, in each week, as one range
 * of the key's leaf pages, a page at a time, as nbtree's own scan reads them, and
 * takes the values from the index items, as an index-only scan does (the
 * heap visited only for pages not all-visible): no scan key evaluated per
 * item, no plan, slot or tuple copy per row, and the next page prefetched
 * when the range goes on.  Where each range starts is observation_find.c's
 * (mostly with no descent from the root); ingestion's inserts through the
 * handle are observation_write.c's.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/nbtree.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "access/tupmacs.h"
#include "access/visibilitymap.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/pg_collation.h"
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
#include "utils/snapmgr.h"

#include "observation_int.h"
#include "restmon.h"

/* an index item of a leaf page, kept while the page is read */
typedef struct RmLeafItem
{
	TimestampTz t;
	bool		active;
	ItemPointerData tid;
} RmLeafItem;

/* lines of a page */
#define RM_PAGE_LINES	(BLCKSZ / 64)

/*
 * Look up the right sibling, next, whose items are read next; returns the
 * buffer that held it, or InvalidBuffer.
 */
static Buffer
leaf_prefetch(RmWeekReader *o, BlockNumber next)
{
	PrefetchBufferResult r = {InvalidBuffer, false};

	if (next != P_NONE)
		r = PrefetchBuffer(o->index, MAIN_FORKNUM, next);
	if (!BufferIsValid(r.recent_buffer) || BufferIsLocal(r.recent_buffer))
		return InvalidBuffer;
	return r.recent_buffer;
}

/*
 * Line k of a page (0 .. RM_PAGE_LINES - 1) in the order a read takes
 * them: the line pointers first, then from its end down, where the first
 * items are on a page built by sorting
 */
static inline char *
page_line(char *page, int k)
{
	return page + 64 * (k < 8 ? k : RM_PAGE_LINES + 7 - k);
}

/* whether a leaf item of the given week and store id is in o's week, of id */
static inline bool
item_of(const RmWeekReader *o, int16 week, const char *iid_id, int iid_len,
		const char *id, int len)
{
	return week == o->week && iid_len == len && memcmp(iid_id, id, len) == 0;
}

/* the next page to the right not being deleted (recent: leaf_prefetch's) */
static Buffer
leaf_right(RmWeekReader *o, BlockNumber next, Buffer recent)
{
	for (;;)
	{
		Buffer		buf;
		BTPageOpaque opaque;

		if (next == P_NONE)
			return InvalidBuffer;
		CHECK_FOR_INTERRUPTS();
		buf = rm_obs_getbuf(o, next, recent);
		recent = InvalidBuffer;
		TestForOldSnapshot(o->snapshot, o->index, BufferGetPage(buf));
		opaque = BTPageGetOpaque(BufferGetPage(buf));
		if (!P_IGNORE(opaque))
			return buf;
		next = opaque->btpo_next;
		_bt_relbuf(o->index, buf);
	}
}

/*
 * The items of one store with lo < observed_at <= hi on a locked leaf
 * page, from offset off, into o->items from n on; returns the new count;
 * *done when its range ends on this page.
 */
static int
leaf_collect(RmWeekReader *o, Page page, OffsetNumber off, const char *id,
			 int len, TimestampTz hi, bool *done, Buffer *recent, int n)
{
	TupleDesc	desc = RelationGetDescr(o->index);
	OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
	bool		all_in = false;
	int16		week;
	const char *iid_id;
	int			iid_len;
	TimestampTz t;
	bool		active;
	char	   *right;
	int			line = 0;

	/*
	 * items are in key order, dead ones too: when the page's last is in
	 * range, so is every item from off on, and none needs comparing
	 */
	if (off <= maxoff)
	{
		rm_leaf_values(desc, (IndexTuple) PageGetItem(page, PageGetItemId(page, maxoff)),
					   &week, &iid_id, &iid_len, &t, &active);
		all_in = item_of(o, week, iid_id, iid_len, id, len) && t <= hi;
	}

	/*
	 * the range goes on to the right: that page is read next, pulled into the
	 * CPU's cache a line an item read here (leaf pages are in shared buffers,
	 * so memory is what waits; spread, the prefetches never queue)
	 */
	*recent = all_in ? leaf_prefetch(o, BTPageGetOpaque(page)->btpo_next) :
		InvalidBuffer;
	right = BufferIsValid(*recent) ? (char *) BufferGetBlock(*recent) : NULL;
	*done = false;
	for (; off <= maxoff; off++)
	{
		ItemId		iid = PageGetItemId(page, off);
		IndexTuple	itup;

		if (right != NULL && line < RM_PAGE_LINES)
			rm_prefetch_mem(page_line(right, line++));

		if (o->skip_killed && ItemIdIsDead(iid))
			continue;			/* dead to every snapshot */
		itup = (IndexTuple) PageGetItem(page, iid);
		rm_leaf_values(desc, itup, &week, &iid_id, &iid_len, &t, &active);
		if (!all_in && (!item_of(o, week, iid_id, iid_len, id, len) || t > hi))
		{
			*done = true;
			o->end_off = off;
			break;
		}
		o->items[n].t = t;
		o->items[n].active = active;
		o->items[n].tid = itup->t_tid;
		n++;
	}
	return n;
}

/*
 * Up to nback items of the store just before offset off of a locked leaf
 * page, with floor < observed_at, into o->items[0..) in time order;
 * returns their number.  *done when nothing of the store is left before
 * them above floor (another store's item, floor, or the index's start).
 */
static int
leaf_back(RmWeekReader *o, Page page, OffsetNumber off, const char *id,
		  int len, TimestampTz floor, int nback, bool *done)
{
	TupleDesc	desc = RelationGetDescr(o->index);
	OffsetNumber first = P_FIRSTDATAKEY(BTPageGetOpaque(page));
	int			n = 0;

	*done = P_LEFTMOST(BTPageGetOpaque(page));
	for (OffsetNumber k = off; k > first && n < nback; k--)
	{
		ItemId		iid = PageGetItemId(page, k - 1);
		IndexTuple	itup;
		int16		week;
		const char *iid_id;
		int			iid_len;
		TimestampTz t;
		bool		active;

		if (o->skip_killed && ItemIdIsDead(iid))
			continue;			/* dead to every snapshot */
		itup = (IndexTuple) PageGetItem(page, iid);
		rm_leaf_values(desc, itup, &week, &iid_id, &iid_len, &t, &active);
		if (!item_of(o, week, iid_id, iid_len, id, len) || t <= floor)
		{
			*done = true;
			break;
		}
		o->items[n].t = t;
		o->items[n].active = active;
		o->items[n].tid = itup->t_tid;
		n++;
	}
	if (n == nback)
		*done = false;			/* more may be there */
	for (int a = 0, b = n - 1; a < b; a++, b--)
	{
		RmLeafItem	tmp = o->items[a];

		o->items[a] = o->items[b];
		o->items[b] = tmp;
	}
	return n;
}

/*
 * Append the visible items of o->items[0..n) to *polls, as an index-only
 * scan does: a heap page not all-visible is visited, which the visibility
 * map tells once per run of items on one heap page (read after the items).
 */
static int
leaf_emit(RmWeekReader *o, int n, RmObs **polls, int *cap, int np)
{
	BlockNumber vm_block = InvalidBlockNumber;
	bool		all_visible = false;

	for (int i = 0; i < n; i++)
	{
		BlockNumber block = ItemPointerGetBlockNumber(&o->items[i].tid);

		if (block != vm_block)
		{
			vm_block = block;
			all_visible = VM_ALL_VISIBLE(o->heap, block, &o->vmbuffer);
			if (all_visible)
				PredicateLockPage(o->heap, block, o->snapshot);
		}
		if (!all_visible)
		{
			bool		call_again = false;
			bool		all_dead = false;
			bool		found;

			found = table_index_fetch_tuple(o->fetch, &o->items[i].tid,
											o->snapshot, o->slot,
											&call_again, &all_dead);
			ExecClearTuple(o->slot);
			if (call_again)
				elog(ERROR, "non-MVCC snapshots are not supported");
			if (!found)
				continue;		/* not visible to this snapshot */
		}
		if (np == *cap)
		{
			*cap *= 2;
			*polls = repalloc(*polls, sizeof(RmObs) * *cap);
		}
		(*polls)[np].t = o->items[i].t;
		(*polls)[np].active = o->items[i].active;
		Assert(np == 0 || (*polls)[np - 1].t < (*polls)[np].t);
		np++;
	}
	return np;
}

/* the first read: the insertion scan key, room for a page, the heap fetch */
static void
read_begin(RmWeekReader *o)
{
	o->snapshot = GetActiveSnapshot();
	o->key = _bt_mkscankey(o->index, NULL);
	_bt_metaversion(o->index, &o->key->heapkeyspace, &o->key->allequalimage);
	o->key->anynullkeys = false;
	o->key->keysz = 3;
	for (int i = 0; i < 3; i++)
		o->key->scankeys[i].sk_flags &= ~SK_ISNULL;
	o->key->nextkey = true;		/* the first item > (week, store_id, lo) */
	o->skip_killed = !TransactionStartedDuringRecovery();
	o->byte_order = o->index->rd_indcollation[1] == C_COLLATION_OID;
	o->items = palloc(sizeof(RmLeafItem) * MaxIndexTuplesPerPage);
	o->last_id = palloc(RM_STORE_ID_MAX_BYTES + 1);
	o->fetch = table_index_fetch_begin(o->heap);
	o->slot = table_slot_create(o->heap, NULL);
}

/*
 * Append the polls of one store with lo < observed_at <= hi, in time order,
 * to (*polls)[0..n) (capacity *cap, grown with repalloc); returns the new
 * count.  With nback > 0, first up to nback of the store's polls with floor <
 * observed_at <= lo from the leaf page where the range starts (the visible
 * ones, in time order), *back_done when every poll of the store in
 * (floor, lo] of this week is among them.
 * Every read of a reader uses the snapshot active at its first read:
 * open one per snapshot.
 *
 * The key's leaf pages are read directly, a page at a time, as
 * nbtree's own scan reads them (the page locked while its items are
 * copied, then right links): the items' values are read in place, with
 * no scan key evaluated per item, and a store that starts on the page the
 * previous one ended on (the common case, stores in order) needs no
 * descent from the root.
 */
int
rm_week_read(RmWeekReader *o, Datum store_id, TimestampTz lo, TimestampTz hi,
			 TimestampTz floor, int nback, bool *back_done, RmObs **polls,
			 int *cap, int n)
{
	text	   *sid = DatumGetTextPP(store_id);
	const char *id = VARDATA_ANY(sid);
	int			len = VARSIZE_ANY_EXHDR(sid);
	Buffer		buf;
	MemoryContext oldcxt = MemoryContextSwitchTo(o->cxt);

	if (back_done != NULL)
		*back_done = true;		/* an empty index: nothing before */

	if (o->key == NULL)
		read_begin(o);
	if (len > RM_STORE_ID_MAX_BYTES)
		elog(ERROR, "store id of %d bytes", len);
	o->key->scankeys[0].sk_argument = Int16GetDatum(o->week);
	o->key->scankeys[1].sk_argument = PointerGetDatum(sid);
	o->key->scankeys[2].sk_argument = TimestampTzGetDatum(lo);

	buf = rm_obs_find_leaf(o, id, len, lo);
	if (BufferIsValid(buf))
	{
		Page		page = BufferGetPage(buf);
		OffsetNumber off = rm_obs_find_start(o, page, id, len, lo);
		int			nback_read = 0;
		bool		predict = false;

		if (nback > 0)
			nback_read = leaf_back(o, page, off, id, len, floor, nback,
								   back_done);

		for (;;)
		{
			BTPageOpaque opaque = BTPageGetOpaque(page);
			BlockNumber next = opaque->btpo_next;
			bool		done;
			int			nitems;
			Buffer		recent;

			PredicateLockPage(o->index, BufferGetBlockNumber(buf), o->snapshot);
			nitems = leaf_collect(o, page, off, id, len, hi, &done, &recent,
								  nback_read);
			nback_read = 0;
			if (done)
				predict = rm_obs_next_store(o, page, id, len, lo);
			_bt_unlockbuf(o->index, buf);
			if (done)
				o->leaf = buf;	/* kept pinned for the next store */
			else
				ReleaseBuffer(buf);
			n = leaf_emit(o, nitems, polls, cap, n);
			if (done || (buf = leaf_right(o, next, recent)) == InvalidBuffer)
				break;
			page = BufferGetPage(buf);
			off = P_FIRSTDATAKEY(BTPageGetOpaque(page));
		}
		if (predict)
			rm_obs_predict(o, lo);
	}
	memcpy(o->last_id, id, len);
	o->last_len = len;
	MemoryContextSwitchTo(oldcxt);
	return n;
}

/*
 * Release the pins a reader holds between reads (the leaf its last read
 * ended on, the level-1 page of its last descent): its next read starts
 * from a descent.
 */
void
rm_week_unpin(RmWeekReader *o)
{
	if (BufferIsValid(o->leaf))
		ReleaseBuffer(o->leaf);
	if (BufferIsValid(o->parent))
		ReleaseBuffer(o->parent);
	if (BufferIsValid(o->vmbuffer))
		ReleaseBuffer(o->vmbuffer);
	o->leaf = InvalidBuffer;
	o->parent = InvalidBuffer;
	o->vmbuffer = InvalidBuffer;
	o->next_block = InvalidBlockNumber;
	o->next_len = -1;
	o->next_hit = true;
	o->last_len = 0;
}

/* a reader's pins and heap fetch released (the relations are the handle's) */
void
rm_week_close(RmWeekReader *o)
{
	rm_week_unpin(o);
	if (o->slot != NULL)
		ExecDropSingleTupleTableSlot(o->slot);
	if (o->fetch != NULL)
		table_index_fetch_end(o->fetch);
	o->slot = NULL;
	o->fetch = NULL;
}
