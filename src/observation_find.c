/*-------------------------------------------------------------------------
 *
 * src/observation_find.c
 *	  Where a store's range in one week of restmon.observation_key starts:
 *	  the leaf page and the offset on it (observation.c reads from there).
 *
 * A week's reader reads its stores in the index's order, so each is found
 * from where its last read left off, cheapest first:
 * - the leaf page the last store's range ended on, when this one starts
 *   there too (nothing of the week lies between two stores' ranges);
 * - the leaf found for it at the end of the last read (rm_obs_predict):
 *   the item after a range is the next store's oldest poll of the week, so
 *   with older polls of the week before its horizon (the horizon's first
 *   week) the next store is known, and its leaf
 *   is looked up, and its memory pulled into the CPU's cache, while the
 *   caller computes the store just read;
 * - the level-1 page of the last descent, kept pinned, or one of the
 *   next few to its right (reached through their right links, as
 *   _bt_moveright moves: a store's later neighbours are there when its
 *   older polls fill many leaves, and a descent from the root would cost
 *   two more pages);
 * - the root.
 * Pivot and leaf items are compared in place, store ids in byte order,
 * rather than through _bt_compare's calls per attribute.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/nbtree.h"
#include "storage/bufmgr.h"
#include "storage/predicate.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "observation_int.h"
#include "restmon.h"

/* the first offset of the leaf page whose item is > key (maxoff + 1: none) */
static OffsetNumber
leaf_first_after(Relation index, BTScanInsert key, Page page)
{
	BTPageOpaque opaque = BTPageGetOpaque(page);
	OffsetNumber lo = P_FIRSTDATAKEY(opaque);
	OffsetNumber hi = PageGetMaxOffsetNumber(page) + 1;

	while (lo < hi)
	{
		OffsetNumber mid = lo + (hi - lo) / 2;

		if (_bt_compare(index, key, page, mid) >= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * The offset of the leaf page where the store's range after lo starts: the
 * first item > (id, lo) (maxoff + 1: none), found by _bt_compare, or, for
 * store ids in byte order, by comparing the items' values in place.
 */
OffsetNumber
rm_obs_find_start(RmWeekReader *o, Page page, const char *id, int len,
				  TimestampTz lo)
{
	TupleDesc	desc = RelationGetDescr(o->index);
	OffsetNumber low = P_FIRSTDATAKEY(BTPageGetOpaque(page));
	OffsetNumber high = PageGetMaxOffsetNumber(page) + 1;

	if (!o->byte_order)
		return leaf_first_after(o->index, o->key, page);
	while (low < high)
	{
		OffsetNumber mid = low + (high - low) / 2;
		int16		week;
		const char *iid_id;
		int			iid_len;
		TimestampTz t;
		bool		active;
		int			c;

		rm_leaf_values(desc, (IndexTuple) PageGetItem(page, PageGetItemId(page, mid)),
					   &week, &iid_id, &iid_len, &t, &active);
		c = week != o->week ? (week < o->week ? -1 : 1) :
			rm_key_cmp(iid_id, iid_len, id, len);
		if (c < 0 || (c == 0 && t <= lo))
			low = mid + 1;
		else
			high = mid;
	}
	return low;
}

/*
 * Whether the pivot item at off (a high key, or an item of a level-1 page)
 * is <= (id, lo), store ids in byte order: attributes truncated away
 * compare as minus infinity, and the first item of an inner page has none.
 * As _bt_compare with no heap TID in the key: equal is <=.
 */
static bool
pivot_le(RmWeekReader *o, Page page, OffsetNumber off, const char *id,
		 int len, TimestampTz lo)
{
	IndexTuple	itup = (IndexTuple) PageGetItem(page, PageGetItemId(page, off));
	int			natts = BTreeTupleGetNAtts(itup, o->index);
	int16		week;
	const char *pid;
	int			plen;
	TimestampTz t;
	int			c;

	if (natts == 0)
		return true;
	if (IndexTupleHasNulls(itup))
		elog(ERROR, "a pivot of restmon.observation_key holds a null");
	rm_item_key(RelationGetDescr(o->index),
				(char *) itup + IndexInfoFindDataOffset(itup->t_info), natts,
				&week, &pid, &plen, &t);
	if (week != o->week || natts < 2)
		return week <= o->week;
	c = rm_key_cmp(pid, plen, id, len);
	if (c != 0 || natts < 3)
		return c <= 0;
	return t <= lo;
}

/* level-1 pages a read steps right before it descends from the root */
#define RM_PARENT_STEPS	4

/* the child of a locked level-1 page for (id, lo), under it */
static BlockNumber
page_child(RmWeekReader *o, Page page, const char *id, int len, TimestampTz lo)
{
	/* the last pivot <= (id, lo); the first is minus infinity */
	OffsetNumber low = P_FIRSTDATAKEY(BTPageGetOpaque(page)) + 1;
	OffsetNumber high = PageGetMaxOffsetNumber(page) + 1;

	while (low < high)
	{
		OffsetNumber mid = low + (high - low) / 2;

		if (pivot_le(o, page, mid, id, len, lo))
			low = mid + 1;
		else
			high = mid;
	}
	return BTreeTupleGetDownLink((IndexTuple)
								 PageGetItem(page, PageGetItemId(page, low - 1)));
}

/*
 * The child whose key range holds (id, lo), found under the level-1 page
 * o->parent or, while (id, lo) is past a page's high key (or the page is
 * being deleted), under the next one through its right link, as
 * _bt_moveright moves, at most RM_PARENT_STEPS pages on (o->parent is left
 * on the last one read): in a read in byte order the next stores are
 * there, and a descent from the root would cost two more pages.  P_NONE
 * when (id, lo) is further on still.  (id, lo) is past the last key
 * searched, so past the first page's low bound (kept, as a leaf's, until
 * it is deleted), and each next page's low bound is the high key passed;
 * only high keys are checked.
 */
static BlockNumber
parent_child(RmWeekReader *o, const char *id, int len, TimestampTz lo)
{
	for (int step = 0;; step++)
	{
		Page		page;
		BTPageOpaque opaque;
		BlockNumber next = P_NONE;
		BlockNumber child = P_NONE;

		_bt_lockbuf(o->index, o->parent, BT_READ);
		page = BufferGetPage(o->parent);
		opaque = BTPageGetOpaque(page);
		if (!P_ISLEAF(opaque) && opaque->btpo_level == 1)
		{
			if (!P_IGNORE(opaque) &&
				(P_RIGHTMOST(opaque) || !pivot_le(o, page, P_HIKEY, id, len, lo)))
				child = page_child(o, page, id, len, lo);
			else if (step < RM_PARENT_STEPS)
				next = opaque->btpo_next;
		}
		_bt_unlockbuf(o->index, o->parent);
		if (next == P_NONE)
			return child;
		ReleaseBuffer(o->parent);
		o->parent = ReadBuffer(o->index, next);
	}
}

/*
 * Page blkno of the index, read-locked: through recent, the buffer that
 * held it (PrefetchBuffer's), when it still does, with no lookup in the
 * buffer table; else as _bt_getbuf reads it.
 */
Buffer
rm_obs_getbuf(RmWeekReader *o, BlockNumber blkno, Buffer recent)
{
	if (BufferIsValid(recent) && !BufferIsLocal(recent) &&
		ReadRecentBuffer(o->index->rd_node, MAIN_FORKNUM, blkno, recent))
	{
		_bt_lockbuf(o->index, recent, BT_READ);
		_bt_checkpage(o->index, recent);
		return recent;
	}
	return _bt_getbuf(o->index, blkno, BT_READ);
}

/* a child's page, read-locked, and on to the right past splits since */
static Buffer
child_leaf(RmWeekReader *o, BlockNumber child, Buffer recent)
{
	/* as _bt_search does */
	return _bt_moveright(o->index, o->key, rm_obs_getbuf(o, child, recent),
						 false, NULL, BT_READ, o->snapshot);
}

/*
 * After a store's range ended at o->end_off of a locked leaf page: when
 * the item there is another store's at or before lo, so that store's range
 * starts further on, its id is kept, and true if rm_obs_predict should
 * look its leaf up: when the last store kept was the one read next (a
 * report reads every store; a batch of polls only some, whose next store
 * is seldom the one after in the index).
 */
bool
rm_obs_next_store(RmWeekReader *o, Page page, const char *id, int len,
				  TimestampTz lo)
{
	int16		week;
	const char *nid;
	int			nlen;
	TimestampTz t;
	bool		active;

	if (!o->byte_order || !BufferIsValid(o->parent) ||
		o->end_off > PageGetMaxOffsetNumber(page))
		return false;
	rm_leaf_values(RelationGetDescr(o->index),
				   (IndexTuple) PageGetItem(page, PageGetItemId(page, o->end_off)),
				   &week, &nid, &nlen, &t, &active);
	if (week != o->week || (nlen == len && memcmp(nid, id, len) == 0) ||
		t > lo)
		return false;
	if (o->next_id == NULL)
		o->next_id = MemoryContextAlloc(o->cxt, RM_STORE_ID_MAX_BYTES);
	memcpy(o->next_id, nid, nlen);
	o->next_len = nlen;
	o->next_lo = lo;
	/* worth looking its leaf up only while the reads go store after store */
	return o->next_hit;
}

/*
 * The leaf where the range of the store kept by rm_obs_next_store after lo
 * starts, looked up under o->parent, and its page pulled into the CPU's
 * cache (it is in shared buffers: memory is what waits), for the next read.
 */
void
rm_obs_predict(RmWeekReader *o, TimestampTz lo)
{
	PrefetchBufferResult r;

	o->next_block = parent_child(o, o->next_id, o->next_len, lo);
	if (o->next_block == P_NONE)
	{
		o->next_block = InvalidBlockNumber;
		return;
	}
	r = PrefetchBuffer(o->index, MAIN_FORKNUM, o->next_block);
	o->next_recent = r.recent_buffer;
	if (BufferIsValid(r.recent_buffer) && !BufferIsLocal(r.recent_buffer))
		for (int i = 0; i < BLCKSZ; i += 64)
			rm_prefetch_mem((char *) BufferGetBlock(r.recent_buffer) + i);
}

/*
 * rm_obs_predict's leaf, read-locked, when it was for this store: a leaf at
 * or before the one where its range after lo starts (with lo at or after
 * the one predicted for), from which _bt_moveright finds that one.
 */
static Buffer
predicted_leaf(RmWeekReader *o, const char *id, int len, TimestampTz lo)
{
	BlockNumber block = o->next_block;

	o->next_block = InvalidBlockNumber;
	o->next_hit = o->next_len < 0 ||
		(lo >= o->next_lo && len == o->next_len &&
		 memcmp(o->next_id, id, len) == 0);
	o->next_len = -1;
	if (block == InvalidBlockNumber || !o->next_hit)
		return InvalidBuffer;
	return child_leaf(o, block, o->next_recent);
}

/*
 * The leaf page, read-locked, where the first item > (id, lo) is (or, at
 * its end, its right sibling's first): see the head of this file.  The
 * last read ended on its first item past its range, and every item before
 * that one is before (id, lo) when the store is a later one (in byte
 * order, the index's): items only ever move right, and a page keeps its
 * low bound until it is deleted, which its pin and this snapshot's xmin
 * keep from being recycled.  o->key is (id, lo).
 */
Buffer
rm_obs_find_leaf(RmWeekReader *o, const char *id, int len, TimestampTz lo)
{
	Buffer		buf = o->leaf;
	Buffer		next = predicted_leaf(o, id, len, lo);
	BTStack		stack;

	o->leaf = InvalidBuffer;
	if (BufferIsValid(next))
	{
		if (BufferIsValid(buf))
			ReleaseBuffer(buf);
		return next;
	}
	if (BufferIsValid(buf))
	{
		Page		page;
		BTPageOpaque opaque;

		if (o->byte_order && rm_key_cmp(id, len, o->last_id, o->last_len) > 0)
		{
			_bt_lockbuf(o->index, buf, BT_READ);
			page = BufferGetPage(buf);
			opaque = BTPageGetOpaque(page);
			if (P_ISLEAF(opaque) && !P_IGNORE(opaque) &&
				(P_RIGHTMOST(opaque) ||
				 !pivot_le(o, page, P_HIKEY, id, len, lo)))
				return buf;
			_bt_relbuf(o->index, buf);
		}
		else
			ReleaseBuffer(buf);
	}
	if (BufferIsValid(o->parent) && o->byte_order &&
		rm_key_cmp(id, len, o->last_id, o->last_len) > 0)
	{
		BlockNumber child = parent_child(o, id, len, lo);

		if (child != P_NONE)
			return child_leaf(o, child, InvalidBuffer);
	}
	if (BufferIsValid(o->parent))
		ReleaseBuffer(o->parent);
	stack = _bt_search(o->index, o->key, &buf, BT_READ, o->snapshot);
	/* the leaf's parent (level 1), kept pinned for the next stores */
	o->parent = stack != NULL && BufferIsValid(buf) ?
		ReadBuffer(o->index, stack->bts_blkno) : InvalidBuffer;
	_bt_freestack(stack);
	if (!BufferIsValid(buf))
		PredicateLockRelation(o->index, o->snapshot);	/* an empty index */
	return buf;
}
