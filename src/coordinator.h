/*-------------------------------------------------------------------------
 *
 * src/coordinator.h
 *	  The coordinator hooks (src/coordinator.c): no-ops unless the
 *	  extension restmon_coordinator is installed in the database.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RESTMON_COORDINATOR_H
#define RESTMON_COORDINATOR_H

#include "fmgr.h"
#include "tcop/dest.h"
#include "utils/timestamp.h"

struct RmIngest;

extern bool rm_coordinator_active(void);
extern int	rm_coordinator_execute(const char *sql, int nargs, Oid *types,
								   Datum *args, const char *nulls,
								   bool read_only, long count,
								   DestReceiver *dest);
extern void rm_coordinator_srf(FunctionCallInfo fcinfo, const char *sql,
							   int nargs, Oid *types, Datum *args,
							   const char *nulls);
extern bool rm_coordinator_default_as_of(TimestampTz *T);
extern bool rm_coordinator_store_known(text *store);
extern void rm_coordinator_distribute(struct RmIngest *st);
extern int64 rm_coordinator_retry_reports(void);

#endif							/* RESTMON_COORDINATOR_H */
