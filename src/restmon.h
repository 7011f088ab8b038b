/*-------------------------------------------------------------------------
 *
 * src/restmon.h
 *	  Declarations shared by restmon's server-side files.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RESTMON_H
#define RESTMON_H

#include "access/genam.h"
#include "access/heapam.h"
#include "datatype/timestamp.h"
#include "nodes/execnodes.h"
#include "pgtime.h"
#include "storage/lockdefs.h"
#include "utils/acl.h"

#include "core.h"

/* restmon.c: settings */
extern char *restmon_data_dir;
extern int	restmon_report_retention;	/* minutes */

/* schedule.c: SPEC 2-3, weekly local hours -> UTC business intervals */

/* one business-hours row, times as microseconds after local midnight */
typedef struct RmHoursRow
{
	int			day;			/* 0 = Monday ... 6 = Sunday */
	int64		start;
	int64		end;
} RmHoursRow;

/* the zone of a store without one (SPEC 2) */
#define RM_DEFAULT_TIMEZONE "America/Chicago"

extern pg_tz *rm_lookup_zone(const char *name);
extern int	rm_expand_schedule(const RmHoursRow *rows, int nrows, pg_tz *tz,
							   TimestampTz lo, TimestampTz hi,
							   RmInterval **out);

/* parse.c: semantics §1 helpers shared with other files */
extern bool rm_parse_local_time(const char *s, int64 *usecs);

/* observation.c: restmon.observation through its primary key */
typedef struct RmObsTable
{
	Relation	heap;
	Relation	index;
	MemoryContext cxt;			/* where the scan and the slots live */
	ScanKeyData keys[3];
	IndexScanDesc scan;			/* reads */
	Snapshot	snapshot;		/* the scan's */
	TupleTableSlot *slot;		/* visibility checks on the heap */
	Buffer		vmbuffer;
	TupleTableSlot **slots;		/* inserts, buffered */
	int			nbuffered;
	BulkInsertState bistate;
	EState	   *estate;			/* for index insertion */
	ResultRelInfo *resultrel;
} RmObsTable;

extern void rm_obs_open(RmObsTable *o, LOCKMODE lockmode, AclMode required);
extern int	rm_obs_read(RmObsTable *o, Datum store_id, TimestampTz lo,
						TimestampTz hi, RmObs **polls, int *cap);
extern void rm_obs_insert(RmObsTable *o, Datum store_id, TimestampTz t,
						  bool active);
extern void rm_obs_close(RmObsTable *o);

/* uptime.c (inside SPI) */
extern bool rm_default_as_of(TimestampTz *T);
extern bool rm_store_known(text *store);

/* report.c */
extern void rm_run_report(const char *id);
extern char *rm_report_status(const char *id);

#endif							/* RESTMON_H */
