/*-------------------------------------------------------------------------
 *
 * src/store_bounds.c
 *	  Where a parallel pass over the stores (report_parallel.c,
 *	  report_helper.c) cuts them into ranges.
 *
 * Any store ids bound ranges [bound i, bound i+1): each process reads the
 * stores of its ranges through restmon.store's index with those keys, so
 * the ranges need only be about the same size for the processes to share
 * the work.  With many stores they are cut at the keys that separate the
 * leaf pages of restmon.store's index on store_id, read from its level-1
 * pages (one page for up to some 20,000 stores), about the same number of
 * stores a leaf: reading every store to count them cost more than a tenth
 * of a 14,000-store report.  With few stores, or an index of one leaf,
 * they are cut from the stores of the report themselves, counted.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/nbtree.h"
#include "access/table.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "report_parallel.h"
#include "restmon.h"
#include "store_scan.h"

/* stores a leaf of restmon.store's index holds at least, about */
#define RM_LEAF_STORES	64

/*
 * The first store of each of up to nranges ranges of about the same
 * number of stores, at least min_stores each, counted: every store of a
 * full report as of T (semantics §6.1) read, in byte order.
 */
static int
counted_bounds(TimestampTz T, int nranges, int min_stores, text ***firsts,
			   int *nstores)
{
	static const char *const store_cols[] = {"store_id", "first_observed_at"};
	RmReader	r;
	int			n = 0;
	int			cap = 1024;
	text	  **ids = palloc(sizeof(text *) * cap);
	int			nr;

	rm_keyed_open(&r, "store", store_cols, 2, NULL, NULL, NULL, &T);
	for (; r.tuple != NULL; rm_keyed_next(&r))
	{
		if (n == cap)
		{
			cap *= 2;
			ids = repalloc(ids, sizeof(text *) * cap);
		}
		ids[n++] = cstring_to_text_with_len(r.key, r.keylen);
	}
	rm_keyed_close(&r);
	nr = Max(Min(nranges, n / Max(min_stores, 1)), Min(n, 1));
	*firsts = palloc(sizeof(text *) * Max(nr, 1));
	for (int i = 0; i < nr; i++)
		(*firsts)[i] = ids[(int64) i * n / nr];
	*nstores = n;
	return nr;
}

/*
 * The leftmost page of the index's level 1, read-locked, or InvalidBuffer
 * when the root is a leaf
 */
static Buffer
level1_leftmost(Relation index)
{
	Buffer		buf = _bt_getroot(index, BT_READ);

	while (BufferIsValid(buf))
	{
		Page		page = BufferGetPage(buf);
		BTPageOpaque opaque = BTPageGetOpaque(page);

		if (P_IGNORE(opaque))
		{
			/* a page being deleted: on to the right, as _bt_get_endpoint */
			if (P_RIGHTMOST(opaque))
				break;
			buf = _bt_relandgetbuf(index, buf, opaque->btpo_next, BT_READ);
			continue;
		}
		if (P_ISLEAF(opaque))
			break;
		if (opaque->btpo_level == 1)
			return buf;
		buf = _bt_relandgetbuf(index, buf,
							   BTreeTupleGetDownLink((IndexTuple)
													 PageGetItem(page, PageGetItemId(page, P_FIRSTDATAKEY(opaque)))),
							   BT_READ);
	}
	if (BufferIsValid(buf))
		_bt_relbuf(index, buf);
	return InvalidBuffer;
}

/*
 * The store id of the pivot at off (a copy) appended to seps (n of them,
 * room for *cap), unless minus infinity or not past the last one (one
 * store's versions on two leaves)
 */
static void
add_separator(Relation index, Page page, OffsetNumber off, text ***seps,
			  int *n, int *cap)
{
	IndexTuple	itup = (IndexTuple) PageGetItem(page, PageGetItemId(page, off));
	text	   *id;
	bool		isnull;
	Datum		d;

	if (BTreeTupleGetNAtts(itup, index) < 1)
		return;
	d = index_getattr(itup, 1, RelationGetDescr(index), &isnull);
	if (isnull)
		return;
	id = DatumGetTextPP(d);
	if (*n > 0 && rm_key_cmp(VARDATA_ANY(id), VARSIZE_ANY_EXHDR(id),
							 VARDATA_ANY((*seps)[*n - 1]),
							 VARSIZE_ANY_EXHDR((*seps)[*n - 1])) <= 0)
		return;
	if (*n == *cap)
	{
		*cap *= 2;
		*seps = repalloc(*seps, sizeof(text *) * *cap);
	}
	(*seps)[(*n)++] = DatumGetTextPCopy(d);
}

/*
 * The keys separating the leaves of the index, in order, from its level-1
 * pages: their pivots (the first, minus infinity, aside) and the high key
 * of each but the last (the next one's low bound); returns how many (0
 * when the root is a leaf).
 */
static int
leaf_separators(Relation index, text ***seps)
{
	Buffer		buf = level1_leftmost(index);
	int			n = 0;
	int			cap = 256;

	*seps = palloc(sizeof(text *) * cap);
	while (BufferIsValid(buf))
	{
		Page		page = BufferGetPage(buf);
		BTPageOpaque opaque = BTPageGetOpaque(page);

		CHECK_FOR_INTERRUPTS();
		if (!P_IGNORE(opaque))
		{
			for (OffsetNumber off = P_FIRSTDATAKEY(opaque) + 1;
				 off <= PageGetMaxOffsetNumber(page); off++)
				add_separator(index, page, off, seps, &n, &cap);
			if (!P_RIGHTMOST(opaque))
				add_separator(index, page, P_HIKEY, seps, &n, &cap);
		}
		if (P_RIGHTMOST(opaque))
		{
			_bt_relbuf(index, buf);
			break;
		}
		buf = _bt_relandgetbuf(index, buf, opaque->btpo_next, BT_READ);
	}
	return n;
}

/*
 * Ranges cut at nranges - 1 of the keys separating the leaves of
 * restmon.store's index, spread evenly (about the same number of leaves
 * each); 0 when it has fewer leaves than nranges.
 */
static int
leaf_bounds(int nranges, text ***firsts)
{
	Relation	heap = rm_keyed_table("store");
	Relation	index = rm_keyed_index(heap,
									   get_attnum(RelationGetRelid(heap), "store_id"));
	text	  **seps;
	int			nseps = leaf_separators(index, &seps);

	index_close(index, NoLock);
	table_close(heap, NoLock);
	if (nseps + 1 < nranges)
		return 0;
	*firsts = palloc0(sizeof(text *) * nranges);
	for (int i = 1; i < nranges; i++)
		(*firsts)[i] = seps[(int64) i * (nseps + 1) / nranges - 1];
	return nranges;
}

/*
 * The first store of each of up to nranges ranges of about the same number
 * of stores, at least min_stores each (one range if there are fewer), of
 * the stores of a full report as of T, in byte order: a parallel pass's
 * ranges (bound 0 unused: the first range is unbounded).  Returns how many
 * ranges, and in *nstores how many stores: estimate, restmon.store's row
 * estimate, when it is large enough to cut the ranges at the index's
 * leaves (see the head of this file).
 */
int
rm_uptime_bounds(TimestampTz T, int nranges, int min_stores, double estimate,
				 text ***firsts, int *nstores)
{
	if (estimate >= (double) nranges * Max(min_stores, RM_LEAF_STORES) &&
		estimate < INT_MAX && nranges >= 2)
	{
		int			nr = leaf_bounds(nranges, firsts);

		if (nr > 0)
		{
			elog(DEBUG1, "restmon: %d ranges cut at the leaves of restmon.store's index",
				 nr);
			*nstores = (int) estimate;
			return nr;
		}
	}
	return counted_bounds(T, nranges, min_stores, firsts, nstores);
}
