/*-------------------------------------------------------------------------
 *
 * src/core.h
 *	  The extrapolation core of restmon: pure interval arithmetic.
 *
 * Everything here is plain C99 on arrays of integer microseconds.  It does
 * not include postgres.h, touches no catalog and never raises an error, so
 * it builds and runs outside the server (test/unit) and can be fuzzed.
 *
 * Instants are int64 microseconds on any fixed UTC axis (the server passes
 * PostgreSQL TimestampTz values).  doc/semantics.md sections cited below.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RESTMON_CORE_H
#define RESTMON_CORE_H

#include <stdbool.h>
#include <stdint.h>

#define RM_USECS_PER_HOUR	INT64_C(3600000000)

/* semantics §4: the three windows, [T - len, T) */
#define RM_HOUR		0
#define RM_DAY		1
#define RM_WEEK		2
#define RM_NWINDOWS	3

/* semantics §5: evidence horizon (T - 192h, T] */
#define RM_HORIZON	(192 * RM_USECS_PER_HOUR)

extern const int64_t rm_window_len[RM_NWINDOWS];

/* a half-open interval [start, end) */
typedef struct RmInterval
{
	int64_t		start;
	int64_t		end;
} RmInterval;

/* one observation (poll) of a store */
typedef struct RmObs
{
	int64_t		t;
	bool		active;
} RmObs;

typedef struct RmResult
{
	/*
	 * Measures in half-microseconds (doubled units): a boundary halfway
	 * between two polls may fall on a half microsecond, and doubling keeps
	 * every measure an exact integer.
	 */
	int64_t		up2[RM_NWINDOWS];
	int64_t		down2[RM_NWINDOWS];
	/* evidence observations with T - len <= t <= T */
	int32_t		evidence[RM_NWINDOWS];
} RmResult;

typedef enum RmStatus
{
	RM_OK = 0,
	RM_ERR_UNSORTED_INTERVALS,	/* intervals overlap, touch out of order or
								 * are empty */
	RM_ERR_UNSORTED_OBS,		/* observations not strictly increasing in t */
	RM_ERR_RANGE				/* an instant too close to the int64 limits */
} RmStatus;

/*
 * rm_merge_intervals: sort iv[0..n) by start and merge overlapping or
 * touching intervals in place (semantics §3: B is their union); empty intervals
 * are dropped.  Returns the new count.
 */
extern int	rm_merge_intervals(RmInterval *iv, int n);

/*
 * rm_compute: semantics §5 for one store.
 *
 * business: B as merged, sorted, non-empty, non-touching intervals (as
 *	 rm_merge_intervals leaves them); must cover at least (T-192h, T].
 * obs: the store's observations, strictly increasing in t; any range (those
 *	 outside B or outside (T-192h, T] are ignored here, per semantics §5).
 * T: the report instant.
 * scratch: room for nobs RmObs (the evidence is gathered there).
 *
 * Fills *out and returns RM_OK, or an error status and leaves *out zeroed.
 */
extern RmStatus rm_compute(const RmInterval *business, int nbusiness,
						   const RmObs *obs, int nobs,
						   int64_t T, RmObs *scratch, RmResult *out);

/*
 * rm_round_hundredths: a doubled-microsecond measure expressed in units of
 * unit_usecs (60e6 for minutes, 3600e6 for hours), in hundredths, rounded
 * half away from zero (semantics §6).  measure2 >= 0.
 */
extern int64_t rm_round_hundredths(int64_t measure2, int64_t unit_usecs);

#endif							/* RESTMON_CORE_H */
