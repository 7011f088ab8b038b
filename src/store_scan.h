/*-------------------------------------------------------------------------
 *
 * src/store_scan.h
 *	  The report's one ordered pass over the stores (store_uptime.c), shared
 *	  by everything that runs the core store by store: the report itself,
 *	  the timeline and the incidents (timeline.c).
 *
 * Usage, inside SPI (as the timeline and the alerts call it): rm_scan_open(), then while s.stores.tuple != NULL:
 * switch to s.storecxt, rm_scan_inputs() and run the core on them, switch
 * back, rm_scan_next(); rm_scan_close().  Stores come in byte order of
 * store_id (semantics §6.2); a store's memory lives in storecxt, reset by
 * rm_scan_next().
 *
 *-------------------------------------------------------------------------
 */
#ifndef RESTMON_STORE_SCAN_H
#define RESTMON_STORE_SCAN_H

#include "executor/spi.h"
#include "fmgr.h"

#include "core.h"
#include "observation.h"
#include "schedule.h"

/*
 * A table of restmon read in store_id byte order, straight through its
 * btree index on store_id (an index scan, as the executor runs it, without
 * a plan or a copy per row): its columns by name, in cols[].
 */
#define RM_READER_COLS	4

typedef struct RmReader
{
	Relation	heap;
	Relation	index;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	MemoryContext cxt;			/* the scan's own allocations */
	AttrNumber	att[RM_READER_COLS];	/* column i + 1 of the reader */
	AttrNumber	until_att;		/* a row shows if this column <= until */
	TimestampTz until;
	HeapTuple	tuple;			/* current row, NULL at the end */
	const char *key;			/* its store_id bytes */
	int			keylen;
} RmReader;

/* one pass over the stores of a report as of T */
typedef struct RmUptimeScan
{
	TimestampTz T;
	RmReader	stores;			/* store_id (seen at or before T) */
	RmReader	zones;			/* store_id, timezone */
	RmReader	hours;			/* store_id, day_of_week, start, end */
	RmObsTable	obs;
	MemoryContext storecxt;		/* reset for every store */
	/* time zones met so far, looked up once per scan (scan_zone) */
	int			nzones;
	struct RmScanZone *zones_seen;	/* RM_SCAN_ZONES of them */
} RmUptimeScan;

/* what the core takes for one store (semantics §3 and §5) */
typedef struct RmStoreInputs
{
	RmInterval *business;		/* merged, over the horizon */
	int			nbusiness;
	RmObs	   *polls;			/* of the horizon, in order */
	int			npolls;
	RmObs	   *scratch;		/* room for npolls */
} RmStoreInputs;

/* store_reader.c */
extern Relation rm_keyed_table(const char *table);
extern Relation rm_keyed_index(Relation heap, AttrNumber att);
extern void rm_keyed_open(RmReader *r, const char *table,
						  const char *const *cols, int ncols, text *only,
						  text *lo, text *hi, const TimestampTz *until);
extern void rm_keyed_next(RmReader *r);
extern void rm_keyed_close(RmReader *r);
extern Datum rm_keyed_col(RmReader *r, int col, bool *isnull);
extern bool rm_keyed_seek(RmReader *r, const char *key, int len);
extern int	rm_read_hours(RmReader *r, const char *key, int len,
						  RmHoursRow **rows);

extern bool rm_resolve_as_of(FunctionCallInfo fcinfo, int argno, text *only,
							 TimestampTz *T);
extern void rm_scan_open(RmUptimeScan *s, text *only);
extern void rm_scan_open_range(RmUptimeScan *s, text *lo, text *hi);
extern void rm_scan_inputs(RmUptimeScan *s, RmStoreInputs *in);
extern void rm_scan_next(RmUptimeScan *s);
extern void rm_scan_close(RmUptimeScan *s);
extern void rm_check_core_status(RmStatus status, const char *key, int len);

#endif							/* RESTMON_STORE_SCAN_H */
