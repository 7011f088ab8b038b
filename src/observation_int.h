/*-------------------------------------------------------------------------
 *
 * src/observation_int.h
 *	  What the two halves of the key's reader share: an item's
 *	  values read in place (observation.c reads a store's range,
 *	  observation_find.c finds where it starts).
 *
 *-------------------------------------------------------------------------
 */
#ifndef RESTMON_OBSERVATION_INT_H
#define RESTMON_OBSERVATION_INT_H

#include "access/itup.h"
#include "access/tupmacs.h"
#include "storage/bufpage.h"

#include "observation.h"

#ifdef __GNUC__
#define rm_prefetch_mem(a)	__builtin_prefetch(a)
#else
#define rm_prefetch_mem(a)	((void) 0)
#endif

/*
 * The key of an item of restmon.observation_key, read in place at tp, its
 * data (the layout index_form_tuple gives not-null columns): the week and,
 * as natts (the key attributes the item has: a pivot's may be fewer)
 * allows, store_id's bytes and observed_at.  Returns the offset past
 * observed_at (0 when natts < 3).
 */
static inline uint32
rm_item_key(TupleDesc desc, char *tp, int natts, int16 *week,
			const char **id, int *len, TimestampTz *t)
{
	Form_pg_attribute a2 = TupleDescAttr(desc, 2);
	uint32		off = sizeof(int16);
	struct varlena *v;

	*week = *(int16 *) tp;		/* attribute 0, at the data's start */
	if (natts < 2)
		return 0;
	off = att_align_pointer(off, TupleDescAttr(desc, 1)->attalign, -1, tp + off);
	v = (struct varlena *) (tp + off);
	if (VARATT_IS_EXTENDED(v) && !VARATT_IS_SHORT(v))
		v = pg_detoast_datum_packed(v); /* not for ids of <= 255 bytes */
	*id = VARDATA_ANY(v);
	*len = VARSIZE_ANY_EXHDR(v);
	if (natts < 3)
		return 0;
	off = att_addlength_pointer(off, -1, tp + off);
	off = att_align_nominal(off, a2->attalign);
	*t = DatumGetTimestampTz(fetchatt(a2, tp + off));
	return att_addlength_pointer(off, a2->attlen, tp + off);
}

/*
 * The values of a leaf item of restmon.observation_key: the week, store_id's
 * bytes, observed_at and active, read in place.
 */
static inline void
rm_leaf_values(TupleDesc desc, IndexTuple itup, int16 *week, const char **id,
			   int *len, TimestampTz *t, bool *active)
{
	char	   *tp = (char *) itup + IndexInfoFindDataOffset(itup->t_info);
	char	   *sp = tp + sizeof(int16);
	Form_pg_attribute a2 = TupleDescAttr(desc, 2);
	Form_pg_attribute a3 = TupleDescAttr(desc, 3);
	uint32		off;

	if (IndexTupleHasNulls(itup))
		elog(ERROR, "an item of restmon.observation_key holds a null");

	/*
	 * the common case: the week, a store id with a 1-byte header (under 127
	 * bytes) unaligned right after it, then observed_at aligned on a double,
	 * then active
	 */
	if (VARATT_IS_1B(sp) && !VARATT_IS_1B_E(sp) &&
		a2->attlen == sizeof(TimestampTz) && a2->attalign == TYPALIGN_DOUBLE &&
		a3->attlen == sizeof(bool) && a3->attalign == TYPALIGN_CHAR)
	{
		off = att_align_nominal(sizeof(int16) + VARSIZE_1B(sp), TYPALIGN_DOUBLE);
		*week = *(int16 *) tp;
		*id = VARDATA_1B(sp);
		*len = VARSIZE_1B(sp) - VARHDRSZ_SHORT;
		*t = *(TimestampTz *) (tp + off);
		*active = *(bool *) (tp + off + sizeof(TimestampTz));
		return;
	}
	off = rm_item_key(desc, tp, 3, week, id, len, t);
	off = att_align_nominal(off, a3->attalign);
	*active = DatumGetBool(fetchatt(a3, tp + off));
}

/* observation_find.c */
extern Buffer rm_obs_find_leaf(RmWeekReader *o, const char *id, int len,
							   TimestampTz lo);
extern OffsetNumber rm_obs_find_start(RmWeekReader *o, Page page,
									  const char *id, int len,
									  TimestampTz lo);
extern bool rm_obs_next_store(RmWeekReader *o, Page page, const char *id,
							  int len, TimestampTz lo);
extern void rm_obs_predict(RmWeekReader *o, TimestampTz lo);
extern Buffer rm_obs_getbuf(RmWeekReader *o, BlockNumber blkno, Buffer recent);

#endif							/* RESTMON_OBSERVATION_INT_H */
