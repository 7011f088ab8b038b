/*-------------------------------------------------------------------------
 *
 * src/observation.h
 *	  A handle on restmon.observation read and written through its primary
 *	  key (store_id, observed_at) INCLUDE (active): observation.c.
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

typedef struct RmObsTable
{
	Relation	heap;
	Relation	index;
	MemoryContext cxt;			/* where the scan and the slots live */
	/* reads (rm_obs_read), straight from the primary key's leaf pages */
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
} RmObsTable;

extern void rm_obs_open(RmObsTable *o, LOCKMODE lockmode, AclMode required);
extern int	rm_obs_read(RmObsTable *o, Datum store_id, TimestampTz lo,
						TimestampTz hi, RmObs **polls, int *cap);
extern int	rm_obs_read_back(RmObsTable *o, Datum store_id, TimestampTz lo,
							 TimestampTz hi, TimestampTz floor, int nback,
							 bool *back_done, RmObs **polls, int *cap);
extern bool rm_obs_bulk_if_empty(RmObsTable *o);
extern void rm_obs_insert(RmObsTable *o, Datum store_id, TimestampTz t,
						  bool active);
extern void rm_obs_close(RmObsTable *o);

/* observation_write.c: the end of the inserts, for rm_obs_close() */
extern bool rm_obs_write_end(RmObsTable *o);
extern void rm_obs_rebuild_indexes(Oid relid);

#endif							/* RESTMON_OBSERVATION_H */
