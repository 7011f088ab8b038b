/*-------------------------------------------------------------------------
 *
 * src/observation.h
 *	  A handle on restmon.observation read and written through its primary
 *	  key (store_id, observed_at) INCLUDE (active), or through each of its
 *	  partitions' (observation_parts.c).
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
 * One relation holding polls: the table itself, or one of its partitions,
 * with the range of observed_at it holds, lo <= observed_at < hi
 * (observation.c reads it, observation_write.c writes it).
 */
typedef struct RmObsPart
{
	Oid			relid;
	TimestampTz lo;
	TimestampTz hi;
	Relation	heap;			/* NULL until first used */
	Relation	index;
	MemoryContext cxt;			/* where the scan and the slots live */
	/* reads (rm_part_read), straight from the primary key's leaf pages */
	struct BTScanInsertData *key;	/* (store_id, observed_at) > (id, lo) */
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
	TupleTableSlot **slots;		/* inserts, buffered */
	TupleDesc	slot_desc;		/* theirs: the heap's, copied */
	bool		bulk;			/* heap only; indexes rebuilt at close */
	int			nbuffered;
	BulkInsertState bistate;
	EState	   *estate;			/* for index insertion */
	ResultRelInfo *resultrel;
}			RmObsPart;

/*
 * restmon.observation: a table, or a table partitioned by ranges of
 * observed_at, whose partitions are opened as they are first read or
 * written (observation_parts.c).
 */
typedef struct RmObsTable
{
	Relation	rel;
	LOCKMODE	lockmode;
	MemoryContext cxt;
	int			nparts;
	RmObsPart  *parts;			/* in time order */
	int			last;			/* the part last written */
	bool		bulk;			/* rm_obs_bulk_if_empty: each part checked */
	bool		checked;		/* the table's triggers, at the first insert */
} RmObsTable;

/* observation_parts.c: the handle */
extern void rm_obs_open(RmObsTable *o, LOCKMODE lockmode, AclMode required);
extern int	rm_obs_read(RmObsTable *o, Datum store_id, TimestampTz lo,
						TimestampTz hi, RmObs **polls, int *cap);
extern int	rm_obs_read_back(RmObsTable *o, Datum store_id, TimestampTz lo,
							 TimestampTz hi, TimestampTz floor, int nback,
							 bool *back_done, RmObs **polls, int *cap);
extern void rm_obs_bulk_if_empty(RmObsTable *o);
extern void rm_obs_insert(RmObsTable *o, Datum store_id, TimestampTz t,
						  bool active);
extern void rm_obs_close(RmObsTable *o);

/* observation.c: one part's reads */
extern int	rm_part_read(RmObsPart * p, Datum store_id, TimestampTz lo,
						 TimestampTz hi, TimestampTz floor, int nback,
						 bool *back_done, RmObs **polls, int *cap);

/* observation_write.c: one part's opening, inserts and closing */
extern void rm_part_open(RmObsPart * p, Relation heap, LOCKMODE lockmode);
extern void rm_obs_check_triggers(Relation heap);
extern bool rm_part_bulk_if_empty(RmObsPart * p);
extern void rm_part_insert(RmObsPart * p, Datum store_id, TimestampTz t,
						   bool active);
extern void rm_part_close(RmObsPart * p);

#endif							/* RESTMON_OBSERVATION_H */
