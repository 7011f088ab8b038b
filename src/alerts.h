/*-------------------------------------------------------------------------
 *
 * src/alerts.h
 *	  State alerts of API batches (semantics §5.6), decided store by store
 *	  while polls.c applies a chunk: alerts.c, with the zones and business
 *	  hours of alert_hours.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RESTMON_ALERTS_H
#define RESTMON_ALERTS_H

#include "pgtime.h"

#include "observation.h"
#include "schedule.h"

/* a store's zone and weekly hours, as restmon's tables hold them */
typedef struct RmStoreHours
{
	pg_tz	   *tz;				/* its zone, or the default one (§2) */
	RmHoursRow *hours;			/* none: open around the clock (§2) */
	int			nhours;
} RmStoreHours;

/* alert_hours.c: out[i] for the store ids[i] (inside SPI, a snapshot set) */
extern void rm_alert_hours(text **ids, int n, const RmStoreHours **out);

/* alerts.c: what polls.c calls while it applies a chunk */
typedef struct RmAlerts RmAlerts;

extern RmAlerts *rm_alerts_begin(text **ids, int n);
extern int	rm_alerts_read(RmAlerts *al, RmObsTable *obs, int store,
						   TimestampTz first, TimestampTz last,
						   RmObs **polls, int *cap);
extern void rm_alerts_store(RmAlerts *al, RmObsTable *obs, int store,
							const RmObs *stored, int nstored,
							const RmObs *added, int nadded);

#endif							/* RESTMON_ALERTS_H */
