/*-------------------------------------------------------------------------
 *
 * src/schedule.h
 *	  Weekly local business hours -> merged UTC business intervals
 *	  (semantics §2-3): schedule.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RESTMON_SCHEDULE_H
#define RESTMON_SCHEDULE_H

#include "datatype/timestamp.h"
#include "pgtime.h"

#include "core.h"

/* one business-hours row, times as microseconds after local midnight */
typedef struct RmHoursRow
{
	int			day;			/* 0 = Monday ... 6 = Sunday */
	int64		start;
	int64		end;
} RmHoursRow;

/* the zone of a store without one (semantics §2) */
#define RM_DEFAULT_TIMEZONE "America/Chicago"

extern pg_tz *rm_lookup_zone(const char *name);
extern int	rm_expand_schedule(const RmHoursRow *rows, int nrows, pg_tz *tz,
							   TimestampTz lo, TimestampTz hi,
							   RmInterval **out);

#endif							/* RESTMON_SCHEDULE_H */
