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
 * The timeline (semantics §5.5): the week [T - 168h, T) cut into maximal
 * segments, each closed (outside business time), up or down (inside it),
 * with the instant of the evidence poll whose status fills it.  It comes
 * from the same walk as rm_compute's figures, so the up segments inside a
 * window measure exactly up2 of that window, and the down ones down2.
 */
typedef enum RmState
{
	RM_CLOSED = 0,
	RM_UP,
	RM_DOWN
} RmState;

typedef struct RmSegment
{
	int64_t		start;			/* [start, end): doubled instants from
								 * rm_timeline, microseconds after
								 * rm_timeline_usecs */
	int64_t		end;
	int64_t		decided_by;		/* the deciding poll's instant, if decided */
	bool		decided;		/* false when closed, or no evidence */
	RmState		state;
} RmSegment;

/* room rm_timeline needs for a store's segments */
#define RM_TIMELINE_MAX(nbusiness, nobs)	(2 * (nbusiness) + (nobs) + 1)

/*
 * rm_timeline: the segments of [T - 168h, T) in order, in doubled
 * instants (a switch halfway between two polls may fall on a half
 * microsecond).  Inputs as for rm_compute; seg has room for
 * RM_TIMELINE_MAX(nbusiness, nobs).  Returns RM_OK and their number in
 * *nseg, or an error status and *nseg = 0.
 */
extern RmStatus rm_timeline(const RmInterval *business, int nbusiness,
							const RmObs *obs, int nobs, int64_t T,
							RmObs *scratch, RmSegment *seg, int *nseg);

/*
 * rm_timeline_usecs: the segments as shown, in microseconds, in place:
 * every doubled instant rounded up (a switch at k + 0.5 us is shown at
 * k + 1, the first microsecond nearer the later poll), segments left empty
 * dropped.  Returns the new count.
 */
extern int	rm_timeline_usecs(RmSegment *seg, int nseg);

/*
 * An incident (semantics §5.5): a run of down segments with no up segment
 * between them (closed time does not end it), from the start of its first
 * down segment to the end of its last.  business is the length of its
 * down segments; open_at_end that its last one reaches the end of the
 * timeline (T).
 */
typedef struct RmIncident
{
	int64_t		start;
	int64_t		end;
	int64_t		business;
	bool		open_at_end;
} RmIncident;

/*
 * rm_incidents: the incidents of a timeline (any unit), in order; out has
 * room for nseg.  Returns their number.
 */
extern int	rm_incidents(const RmSegment *seg, int nseg, RmIncident *out);

/*
 * rm_round_hundredths: a doubled-microsecond measure expressed in units of
 * unit_usecs (60e6 for minutes, 3600e6 for hours), in hundredths, rounded
 * half away from zero (semantics §6).  measure2 >= 0.
 */
extern int64_t rm_round_hundredths(int64_t measure2, int64_t unit_usecs);

/*
 * State alerts (semantics §5.6).  A store's state at instant t is up or
 * down only inside business time: rm_in_business says whether t lies in
 * the merged intervals business (sorted as rm_compute takes them).
 */
extern bool rm_in_business(const RmInterval *business, int nbusiness,
						   int64_t t);

/*
 * rm_newest_evidence: of obs[0..nobs), strictly increasing in t, the index
 * of the newest that is evidence as of T (semantics §5.1: in the horizon
 * (T - 192h, T] and in business time), or -1 when none is.
 */
extern int	rm_newest_evidence(const RmInterval *business, int nbusiness,
							   const RmObs *obs, int nobs, int64_t T);

/*
 * rm_state_alert: whether a batch of polls changes the state of a store
 * at its newest poll t = obs[nobs - 1].t (semantics §5.6), with T = t + 1
 * us.  obs[0..nbefore) are the polls before the batch's first new instant,
 * obs[nbefore..nobs) the rest; business and obs as for rm_timeline, seg
 * with room for RM_TIMELINE_MAX(nbusiness, nobs), scratch for nobs.  Sets
 * *raise when the state after (the last state of the timeline as of T) is
 * up or down and differs from the state before (that of the timeline of
 * obs[0..nbefore) alone), never when nbefore is 0; *now is then the run of
 * segments in the new state that reaches T, from its first segment's start
 * (microseconds), decided by that segment's poll.
 */
extern RmStatus rm_state_alert(const RmInterval *business, int nbusiness,
							   const RmObs *obs, int nobs, int nbefore,
							   int64_t T, RmObs *scratch, RmSegment *seg,
							   bool *raise, RmSegment *now);

#endif							/* RESTMON_CORE_H */
