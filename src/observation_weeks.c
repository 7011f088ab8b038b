/*-------------------------------------------------------------------------
 *
 * src/observation_weeks.c
 *	  The weeks of restmon.observation's key: which week a poll belongs to
 *	  (restmon.observation_week(), the key's first column), and a store's
 *	  polls read week by week, one reader per week (observation.c).
 *
 * The key is (week, store_id, observed_at): each week's polls lie together,
 * ordered by store and time.  A report reads every store's last 8 days, so
 * it reads the stores of 2 or 3 weeks, each week's in key order, whatever
 * the history kept before them (older weeks are never read, and pruning
 * deletes whole weeks' ranges); an hourly load adds to the newest week's
 * range only.  Each week read has its reader, which keeps where its last
 * read ended, so consecutive stores need no descent in any of them.
 *
 * A reader holds up to three pins between reads.  A read over many weeks
 * (a store's polls over years) releases the pins of readers of other weeks
 * once more than RM_PINNED_READERS hold some, and a handle keeps at most
 * RM_KEPT_READERS readers, any other week being read by one more.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/nbtree.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "observation_int.h"
#include "restmon.h"

PG_FUNCTION_INFO_V1(restmon_observation_week);

/* week 0 starts on Monday 2000-01-03 00:00 UTC, 2 days after the epoch */
#define RM_WEEK_ORIGIN	(2 * USECS_PER_DAY)
#define RM_USECS_PER_WEEK	(7 * USECS_PER_DAY)

/* readers of other weeks left pinned by a read */
#define RM_PINNED_READERS	8

/* the week of instant t (observation.h) */
int16
rm_obs_week(TimestampTz t)
{
	int64		d;
	int64		w;

	if (t < MIN_TIMESTAMP)
		return RM_WEEK_MIN;
	if (t >= END_TIMESTAMP)
		return RM_WEEK_MAX;
	d = t - RM_WEEK_ORIGIN;
	w = d / RM_USECS_PER_WEEK;
	if (d % RM_USECS_PER_WEEK < 0)
		w--;					/* rounded down */
	return (int16) Max(Min(w, RM_WEEK_MAX), RM_WEEK_MIN);
}

/* the first instant of week w (DT_NOBEGIN for the first week) */
static TimestampTz
week_start(int16 w)
{
	if (w == RM_WEEK_MIN)
		return DT_NOBEGIN;
	return RM_WEEK_ORIGIN + (int64) w * RM_USECS_PER_WEEK;
}

/* the first instant after week w (DT_NOEND after the last week) */
static TimestampTz
week_end(int16 w)
{
	return w == RM_WEEK_MAX ? DT_NOEND : week_start(w + 1);
}

/* restmon.observation_week(timestamptz) RETURNS smallint */
Datum
restmon_observation_week(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT16(rm_obs_week(PG_GETARG_TIMESTAMPTZ(0)));
}

/*
 * The week of the first (rightmost: last) item of the key, reached through
 * the leftmost (rightmost) leaf page and on through its siblings while they
 * hold no item; *found false when there is none.
 */
static int16
end_week(RmObsTable *o, bool rightmost, bool *found)
{
	Buffer		buf = _bt_get_endpoint(o->index, 0, rightmost,
									   GetActiveSnapshot());
	int16		week = rightmost ? RM_WEEK_MAX : RM_WEEK_MIN;
	const char *id;
	int			len;
	TimestampTz t;
	bool		active;

	*found = false;
	while (BufferIsValid(buf))
	{
		Page		page = BufferGetPage(buf);
		BTPageOpaque opaque = BTPageGetOpaque(page);
		OffsetNumber first = P_FIRSTDATAKEY(opaque);
		OffsetNumber last = PageGetMaxOffsetNumber(page);
		BlockNumber next = rightmost ? opaque->btpo_prev : opaque->btpo_next;

		if (!P_IGNORE(opaque) && first <= last)
		{
			rm_leaf_values(RelationGetDescr(o->index),
						   (IndexTuple) PageGetItem(page, PageGetItemId(page, rightmost ? last : first)),
						   &week, &id, &len, &t, &active);
			*found = true;
		}
		_bt_relbuf(o->index, buf);
		if (*found || next == P_NONE)
			break;
		CHECK_FOR_INTERRUPTS();
		buf = _bt_getbuf(o->index, next, BT_READ);
	}
	return week;
}

/* the key's first and last weeks, as of the first read's snapshot */
static void
find_bounds(RmObsTable *o)
{
	bool		found;

	o->bounds_known = true;
	o->first_week = end_week(o, false, &found);
	o->empty = !found;
	if (found)
		o->last_week = end_week(o, true, &found);
}

/* reader p moved to week w: no pin, nothing kept, as a new one */
static void
reader_move(RmWeekReader *p, int16 w)
{
	rm_week_unpin(p);
	p->week = w;
	p->lo = week_start(w);
	p->hi = week_end(w);
}

/* a new reader of week w */
static RmWeekReader *
reader_new(RmObsTable *o, int16 w)
{
	RmWeekReader *p = MemoryContextAllocZero(o->cxt, sizeof(RmWeekReader));

	p->heap = o->heap;
	p->index = o->index;
	p->cxt = o->cxt;
	reader_move(p, w);
	return p;
}

/*
 * The reader of week w: the one kept for it, or a new one while fewer than
 * RM_KEPT_READERS are kept (a report's 2 or 3 weeks, a load's few), else the
 * scratch reader, moved to week w (a read over years of polls: its weeks
 * share one reader, and one reader's memory).
 */
static RmWeekReader *
reader_get(RmObsTable *o, int16 w)
{
	for (int i = 0; i < o->nreaders; i++)
		if (o->readers[i]->week == w)
			return o->readers[i];
	if (o->nreaders < RM_KEPT_READERS)
		return o->readers[o->nreaders++] = reader_new(o, w);
	if (o->scratch == NULL)
		o->scratch = reader_new(o, w);
	else if (o->scratch->week != w)
		reader_move(o->scratch, w);
	return o->scratch;
}

/* the readers of weeks outside [w0, w1] unpinned, when too many are */
static void
unpin_others(RmObsTable *o, int16 w0, int16 w1)
{
	if (o->npinned <= RM_PINNED_READERS)
		return;
	o->npinned = 0;
	for (int i = 0; i < o->nreaders; i++)
	{
		RmWeekReader *p = o->readers[i];

		if (p->week < w0 || p->week > w1)
			rm_week_unpin(p);
		else
			o->npinned++;
	}
}

/*
 * The polls of a store with lo < observed_at <= hi, week by week; with
 * nback > 0, first up to nback of its polls with floor < observed_at <= lo
 * from the week holding lo, and *back_done when nothing of the store in
 * (floor, lo] is left out: every such poll of that week is among them, and
 * no earlier week holds an instant above floor.
 */
static int
obs_read(RmObsTable *o, Datum store_id, TimestampTz lo, TimestampTz hi,
		 TimestampTz floor, int nback, bool *back_done, RmObs **polls,
		 int *cap)
{
	int16		w0;
	int16		w1;
	int			n = 0;
	bool		none_before;

	if (!o->bounds_known)
		find_bounds(o);
	if (back_done != NULL)
		*back_done = true;
	if (o->empty)
		return 0;
	w0 = Max(rm_obs_week(lo == DT_NOEND ? lo : lo + 1), o->first_week);
	w1 = Min(rm_obs_week(hi), o->last_week);
	none_before = w0 <= o->first_week || week_end(w0 - 1) - 1 <= floor;
	if (back_done != NULL)
		*back_done = none_before;
	if (w0 > w1)
		return 0;
	unpin_others(o, w0, w1);
	for (int w = w0; w <= w1; w++)
	{
		RmWeekReader *p = reader_get(o, (int16) w);

		if (!BufferIsValid(p->leaf) && !BufferIsValid(p->parent))
			o->npinned++;
		if (nback > 0 && p->lo <= lo)
		{
			bool		done;

			n = rm_week_read(p, store_id, lo, hi, floor, nback, &done,
							 polls, cap, n);
			*back_done = done && (p->lo == DT_NOBEGIN || p->lo - 1 <= floor ||
								  none_before);
		}
		else
			n = rm_week_read(p, store_id, lo, hi, 0, 0, NULL, polls, cap, n);
		nback = 0;
	}
	return n;
}

/*
 * Append the polls of one store with lo < observed_at <= hi, in time order,
 * to *polls (capacity *cap, grown with repalloc); returns their number.
 * Every read of a handle uses the snapshot active at its first read: open
 * one per snapshot.
 */
int
rm_obs_read(RmObsTable *o, Datum store_id, TimestampTz lo, TimestampTz hi,
			RmObs **polls, int *cap)
{
	return obs_read(o, store_id, lo, hi, 0, 0, NULL, polls, cap);
}

/*
 * rm_obs_read, and before its range up to nback of the store's polls with
 * floor < observed_at from the leaf page where the range starts (the
 * visible ones: first in *polls, in time order).  *back_done when every
 * poll of the store in (floor, lo] is among those returned.
 */
int
rm_obs_read_back(RmObsTable *o, Datum store_id, TimestampTz lo,
				 TimestampTz hi, TimestampTz floor, int nback,
				 bool *back_done, RmObs **polls, int *cap)
{
	Assert(nback > 0 && nback <= MaxIndexTuplesPerPage / 2);
	return obs_read(o, store_id, lo, hi, floor, nback, back_done, polls,
					cap);
}

/* every reader's pins and heap fetch released */
void
rm_obs_close_readers(RmObsTable *o)
{
	for (int i = 0; i < o->nreaders; i++)
		rm_week_close(o->readers[i]);
	if (o->scratch != NULL)
		rm_week_close(o->scratch);
}
