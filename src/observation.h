/*-------------------------------------------------------------------------
 *
 * src/observation.h
 *	  A handle on restmon.observation read and written through its key
 *	  (week, store_id, observed_at) INCLUDE (active).
 *
 * One handle per snapshot: every read uses the snapshot active at its
 * first read.  Rows inserted through it fire no trigger; the caller keeps
 * restmon.store up to date (restmon.track_stores).
 *
 *-------------------------------------------------------------------------
 */
#ifndef RESTMON_OBSERVATION_H
#define RESTMON_OBSERVATION_H

#include "access/genam.h"
#include "access/heapam.h"
#include "datatype/timestamp.h"
#include "nodes/execnodes.h"
#include "storage/lockdefs.h"
#include "utils/acl.h"

#include "core.h"

/*
 * The key of restmon.observation is (restmon.observation_week(observed_at),
 * store_id, observed_at) INCLUDE (active): each week's polls are a range of
 * the key, ordered by store and time within it.  The weeks start on
 * Mondays at 00:00 UTC, numbered from 2000-01-03 (week 0); instants before
 * week -32768 or after week 32767 are counted in those.
 */
#define RM_WEEK_MIN		PG_INT16_MIN
#define RM_WEEK_MAX		PG_INT16_MAX
extern int16 rm_obs_week(TimestampTz t);

/*
 * A reader of one week's range of the key (observation.c; where a store's
 * range starts, observation_find.c), holding the range [lo, hi) of
 * observed_at the week covers.  It reads the handle's relations.
 */
typedef struct RmWeekReader
{
	int16		week;
	TimestampTz lo;
	TimestampTz hi;
	Relation	heap;
	Relation	index;
	MemoryContext cxt;			/* where the scan lives */
	struct BTScanInsertData *key;	/* (week, store_id, observed_at) > (w, id,
									 * lo) */
	Snapshot	snapshot;		/* the reads' */
	bool		skip_killed;	/* skip index items marked dead */
	bool		byte_order;		/* store_id sorts in byte order ("C") */
	Buffer		leaf;			/* pinned: the page the last read ended on */
	Buffer		parent;			/* pinned: the last descent's level-1 page */
	char	   *last_id;		/* the store id of the last read */
	int			last_len;
	/* the next store's range start, found at the end of the last read */
	BlockNumber next_block;		/* its leaf, or InvalidBlockNumber */
	Buffer		next_recent;	/* the buffer that held it, for the read */
	char	   *next_id;		/* the store id it is for */
	int			next_len;		/* -1: none kept */
	bool		next_hit;		/* the last one kept was the store read */
	TimestampTz next_lo;
	OffsetNumber end_off;		/* the last read's first item past it */
	struct RmLeafItem *items;	/* one leaf page's items in range */
	struct IndexFetchTableData *fetch;	/* visibility checks on the heap */
	TupleTableSlot *slot;
	Buffer		vmbuffer;
} RmWeekReader;

/* readers a handle keeps, each for its week; any other week shares one */
#define RM_KEPT_READERS	16

/*
 * A handle on restmon.observation: its key read a week at a time, by one
 * reader per week read (observation_weeks.c), and inserts buffered and
 * written as COPY writes them (observation_write.c).
 */
typedef struct RmObsTable
{
	Relation	heap;
	Relation	index;
	MemoryContext cxt;			/* where the readers and the slots live */
	/* the weeks of the key's first and last items, at the first read */
	bool		bounds_known;
	bool		empty;			/* no item at all */
	int16		first_week;
	int16		last_week;
	int			nreaders;		/* readers kept, one per week read */
	RmWeekReader *readers[RM_KEPT_READERS];
	RmWeekReader *scratch;		/* the reader of any other week */
	int			npinned;		/* readers that may hold pins */
	/* inserts */
	bool		checked;		/* the table's triggers, at the first */
	void	   *bulk_rows;		/* a bulk load's, kept (observation_write.c) */
	int64		nbulk;
	int64		bulk_cap;
	int16		bulk_lo;		/* their first and last weeks */
	int16		bulk_hi;
	TupleTableSlot **slots;		/* buffered */
	TupleDesc	slot_desc;		/* theirs: the heap's, copied */
	bool		bulk;			/* heap only; indexes rebuilt at close */
	int			nbuffered;
	BulkInsertState bistate;
	EState	   *estate;			/* for index insertion */
	ResultRelInfo *resultrel;
} RmObsTable;

/* observation_write.c: the handle */
extern void rm_obs_open(RmObsTable *o, LOCKMODE lockmode, AclMode required);
extern bool rm_obs_bulk_if_empty(RmObsTable *o);
extern void rm_obs_insert(RmObsTable *o, Datum store_id, TimestampTz t,
						  bool active);
extern void rm_obs_close(RmObsTable *o);

/* observation_weeks.c: a store's polls, week by week */
extern int	rm_obs_read(RmObsTable *o, Datum store_id, TimestampTz lo,
						TimestampTz hi, RmObs **polls, int *cap);
extern int	rm_obs_read_back(RmObsTable *o, Datum store_id, TimestampTz lo,
							 TimestampTz hi, TimestampTz floor, int nback,
							 bool *back_done, RmObs **polls, int *cap);
extern void rm_obs_close_readers(RmObsTable *o);

/* observation.c: one week's reads */
extern int	rm_week_read(RmWeekReader *p, Datum store_id, TimestampTz lo,
						 TimestampTz hi, TimestampTz floor, int nback,
						 bool *back_done, RmObs **polls, int *cap, int n);
extern void rm_week_unpin(RmWeekReader *p);
extern void rm_week_close(RmWeekReader *p);

#endif							/* RESTMON_OBSERVATION_H */
