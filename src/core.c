/*-------------------------------------------------------------------------
 *
 * src/core.c
 *	  The extrapolation core (semantics §4-6): business intervals + polls + T ->
 *	  uptime and downtime of the last hour, day and week; the same picture
 *	  as a timeline of segments, and its incidents (semantics §5.5).
 *
 * Pure C: no postgres.h, no allocation (the caller passes scratch space),
 * no errors raised.  All arithmetic is
 * on int64 microseconds, doubled where a boundary halfway between two polls
 * may fall on a half microsecond; no floating point touches a measure.
 *
 * Invariants: for every window, up2 + down2 == 2 * |W intersect B|; the
 * figures and the timeline come from one walk (walk_next), so the up
 * segments of the timeline inside a window measure its up2, the down ones
 * its down2.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "core.h"

const int64_t rm_window_len[RM_NWINDOWS] = {
	RM_USECS_PER_HOUR,
	24 * RM_USECS_PER_HOUR,
	168 * RM_USECS_PER_HOUR
};

/* keep doubled instants far from overflow: |t| < 2^61 */
#define RM_TIME_LIMIT	(INT64_C(1) << 61)

static int
interval_cmp(const void *a, const void *b)
{
	const RmInterval *x = a;
	const RmInterval *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return 0;
}

int
rm_merge_intervals(RmInterval *iv, int n)
{
	int			out = 0;

	if (n <= 0)
		return 0;
	qsort(iv, n, sizeof(RmInterval), interval_cmp);
	for (int i = 0; i < n; i++)
	{
		if (iv[i].end <= iv[i].start)
			continue;			/* empty */
		if (out > 0 && iv[i].start <= iv[out - 1].end)
		{
			/* overlapping or touching: extend */
			if (iv[i].end > iv[out - 1].end)
				iv[out - 1].end = iv[i].end;
			continue;
		}
		iv[out++] = iv[i];
	}
	return out;
}

/* is t inside one of the sorted intervals?  *cursor only moves forward */
static bool
in_business(const RmInterval *b, int nb, int *cursor, int64_t t)
{
	while (*cursor < nb && b[*cursor].end <= t)
		(*cursor)++;
	return *cursor < nb && b[*cursor].start <= t;
}

int64_t
rm_round_hundredths(int64_t measure2, int64_t unit_usecs)
{
	/* value = measure2 / (2 * unit); hundredths = measure2 * 100 / (2 * unit) */
	int64_t		d = unit_usecs / 50;	/* 2 * unit / 100, exact for our units */

	return (measure2 + d / 2) / d;
}

/*
 * Evidence index e owns, per semantics §5 (nearest poll), the doubled instants
 * from bound(e-1) to bound(e), where bound(e) = t[e] + t[e+1] is twice the
 * midpoint of two neighbouring polls.  A tie (an instant exactly at a
 * midpoint) belongs to the earlier poll; a single instant has measure zero,
 * so the half-open regions below measure the same.
 */
static int64_t
upper_bound2(const RmObs *ev, int nev, int e)
{
	if (e >= nev - 1)
		return INT64_MAX;
	return ev[e].t + ev[e + 1].t;
}

/* the inputs are in range and ordered as core.h requires */
static RmStatus
check_inputs(const RmInterval *business, int nbusiness,
			 const RmObs *obs, int nobs, int64_t T)
{
	if (T <= -RM_TIME_LIMIT + RM_HORIZON || T >= RM_TIME_LIMIT)
		return RM_ERR_RANGE;
	for (int i = 0; i < nbusiness; i++)
	{
		if (business[i].start <= -RM_TIME_LIMIT ||
			business[i].end >= RM_TIME_LIMIT)
			return RM_ERR_RANGE;
		if (business[i].end <= business[i].start ||
			(i > 0 && business[i].start <= business[i - 1].end))
			return RM_ERR_UNSORTED_INTERVALS;
	}
	for (int i = 1; i < nobs; i++)
		if (obs[i].t <= obs[i - 1].t)
			return RM_ERR_UNSORTED_OBS;
	return RM_OK;
}

/*
 * semantics §5: the evidence is the observations with T - 192h < t <= T
 * that lie in business time; copied to ev, returns their number
 */
static int
gather_evidence(const RmInterval *business, int nbusiness,
				const RmObs *obs, int nobs, int64_t T, RmObs *ev)
{
	int			nev = 0;
	int			cursor = 0;

	for (int i = 0; i < nobs; i++)
	{
		if (obs[i].t <= T - RM_HORIZON || obs[i].t > T)
			continue;
		if (in_business(business, nbusiness, &cursor, obs[i].t))
			ev[nev++] = obs[i];
	}
	return nev;
}

/*
 * The one walk behind both the figures and the timeline (semantics §5):
 * the business time within [lo2, hi2) (doubled instants), cut into pieces
 * that each lie in one business interval and one evidence region of
 * upper_bound2(), in order.  rm_compute sums the pieces, rm_timeline lists
 * them, so the two agree by construction.
 */
typedef struct RmWalk
{
	const RmInterval *business;
	int			nbusiness;
	const RmObs *ev;
	int			nev;
	int64_t		hi2;
	int			i;				/* the business interval being walked */
	int			e;				/* the evidence region reached */
	int64_t		ub;				/* its end, upper_bound2(ev, nev, e) */
	int64_t		x;				/* where the next piece starts */
	int64_t		xend;			/* the end of interval i within the window */
} RmWalk;

/* position the walk at the start of business interval i, if any */
static inline bool
walk_enter(RmWalk *w, int64_t lo2)
{
	int64_t		s;

	if (w->i >= w->nbusiness)
		return false;
	s = 2 * w->business[w->i].start;
	w->x = s > lo2 ? s : lo2;
	if (w->x >= w->hi2)
		return false;
	w->xend = 2 * w->business[w->i].end;
	if (w->xend > w->hi2)
		w->xend = w->hi2;
	return true;
}

static inline void
walk_init(RmWalk *w, const RmInterval *business, int nbusiness,
		  const RmObs *ev, int nev, int64_t lo2, int64_t hi2)
{
	w->business = business;
	w->nbusiness = nbusiness;
	w->ev = ev;
	w->nev = nev;
	w->hi2 = hi2;
	w->i = 0;
	w->e = 0;
	w->ub = nev > 0 ? upper_bound2(ev, nev, 0) : INT64_MAX;
	while (w->i < nbusiness && 2 * business[w->i].end <= lo2)
		w->i++;
	if (!walk_enter(w, lo2))
		w->i = nbusiness;		/* nothing in the window */
}

/*
 * The next piece, [*s2, *e2), and the evidence index that decides it (*k,
 * -1 when there is no evidence: all downtime, semantics §5.3).  False when
 * the window is done.
 */
static inline bool
walk_next(RmWalk *w, int64_t *s2, int64_t *e2, int *k)
{
	int64_t		end = w->xend;

	if (w->i >= w->nbusiness)
		return false;
	*k = -1;
	if (w->nev > 0)
	{
		while (w->ub <= w->x)
			w->ub = upper_bound2(w->ev, w->nev, ++w->e);
		*k = w->e;
		if (w->ub < end)
			end = w->ub;
	}
	*s2 = w->x;
	*e2 = end;
	w->x = end;
	if (end == w->xend)
	{
		w->i++;
		if (!walk_enter(w, end))
			w->i = w->nbusiness;
	}
	return true;
}

/* the first index of the sorted ev[0..nev) with t >= t0 (nev if none) */
static int
first_at_or_after(const RmObs *ev, int nev, int64_t t0)
{
	int			lo = 0;
	int			hi = nev;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (ev[mid].t < t0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

RmStatus
rm_compute(const RmInterval *business, int nbusiness,
		   const RmObs *obs, int nobs,
		   int64_t T, RmObs *ev, RmResult *out)
{
	RmStatus	st;
	int			nev;
	int64_t		lo2[RM_NWINDOWS];
	int64_t		busy2[RM_NWINDOWS] = {0};
	RmWalk		walk;
	int64_t		s2;
	int64_t		e2;
	int			k;

	memset(out, 0, sizeof(*out));
	st = check_inputs(business, nbusiness, obs, nobs, T);
	if (st != RM_OK)
		return st;
	nev = gather_evidence(business, nbusiness, obs, nobs, T, ev);
	for (int w = 0; w < RM_NWINDOWS; w++)
		lo2[w] = 2 * (T - rm_window_len[w]);

	/* one walk of the week; each piece counts in every window it meets */
	walk_init(&walk, business, nbusiness, ev, nev, lo2[RM_WEEK], 2 * T);
	while (walk_next(&walk, &s2, &e2, &k))
	{
		bool		up = k >= 0 && ev[k].active;

		/* the windows are nested: a piece before one is before the next */
		for (int w = RM_WEEK; w >= 0; w--)
		{
			int64_t		a = s2 > lo2[w] ? s2 : lo2[w];

			if (a >= e2)
				break;
			busy2[w] += e2 - a;
			if (up)
				out->up2[w] += e2 - a;
		}
	}
	for (int w = 0; w < RM_NWINDOWS; w++)
	{
		out->down2[w] = busy2[w] - out->up2[w];
		out->evidence[w] = nev - first_at_or_after(ev, nev,
												   T - rm_window_len[w]);
	}
	return RM_OK;
}

/* append a segment to seg[0..n), merged into the last one when it continues
 * it */
static int
push_segment(RmSegment *seg, int n, int64_t start, int64_t end,
			 RmState state, bool decided, int64_t decided_by)
{
	if (end <= start)
		return n;
	if (n > 0 && seg[n - 1].end == start && seg[n - 1].state == state &&
		seg[n - 1].decided == decided &&
		(!decided || seg[n - 1].decided_by == decided_by))
	{
		seg[n - 1].end = end;
		return n;
	}
	seg[n].start = start;
	seg[n].end = end;
	seg[n].state = state;
	seg[n].decided = decided;
	seg[n].decided_by = decided ? decided_by : 0;
	return n + 1;
}

RmStatus
rm_timeline(const RmInterval *business, int nbusiness,
			const RmObs *obs, int nobs, int64_t T,
			RmObs *ev, RmSegment *seg, int *nseg)
{
	RmStatus	st;
	int			nev;
	int			n = 0;
	int64_t		pos = 2 * (T - rm_window_len[RM_WEEK]);
	RmWalk		walk;
	int64_t		s2;
	int64_t		e2;
	int			k;

	*nseg = 0;
	st = check_inputs(business, nbusiness, obs, nobs, T);
	if (st != RM_OK)
		return st;
	nev = gather_evidence(business, nbusiness, obs, nobs, T, ev);

	walk_init(&walk, business, nbusiness, ev, nev, pos, 2 * T);
	while (walk_next(&walk, &s2, &e2, &k))
	{
		n = push_segment(seg, n, pos, s2, RM_CLOSED, false, 0);
		n = push_segment(seg, n, s2, e2,
						 k >= 0 && ev[k].active ? RM_UP : RM_DOWN,
						 k >= 0, k >= 0 ? ev[k].t : 0);
		pos = e2;
	}
	n = push_segment(seg, n, pos, 2 * T, RM_CLOSED, false, 0);
	*nseg = n;
	return RM_OK;
}

/* a doubled instant shown in microseconds: rounded up */
static int64_t
usecs_of2(int64_t t2)
{
	return t2 / 2 + (t2 % 2 == 1 ? 1 : 0);
}

int
rm_timeline_usecs(RmSegment *seg, int nseg)
{
	int			n = 0;

	for (int i = 0; i < nseg; i++)
	{
		RmSegment	s = seg[i];

		n = push_segment(seg, n, usecs_of2(s.start), usecs_of2(s.end),
						 s.state, s.decided, s.decided_by);
	}
	return n;
}

int
rm_incidents(const RmSegment *seg, int nseg, RmIncident *out)
{
	int			n = 0;
	bool		open = false;

	for (int i = 0; i < nseg; i++)
	{
		if (seg[i].state == RM_UP)
			open = false;
		if (seg[i].state != RM_DOWN)
			continue;			/* closed time neither ends nor extends one */
		if (!open)
		{
			out[n].start = seg[i].start;
			out[n].business = 0;
			n++;
			open = true;
		}
		out[n - 1].end = seg[i].end;
		out[n - 1].business += seg[i].end - seg[i].start;
		out[n - 1].open_at_end = i == nseg - 1;
	}
	return n;
}

/* ---------------------------------------------------------------------
 * State alerts (semantics §5.6)
 * ---------------------------------------------------------------------
 */

bool
rm_in_business(const RmInterval *business, int nbusiness, int64_t t)
{
	int			lo = 0;
	int			hi = nbusiness;

	/* the first interval ending after t */
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (business[mid].end <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < nbusiness && business[lo].start <= t;
}

int
rm_newest_evidence(const RmInterval *business, int nbusiness,
				   const RmObs *obs, int nobs, int64_t T)
{
	for (int i = nobs - 1; i >= 0; i--)
	{
		if (obs[i].t > T)
			continue;
		if (obs[i].t <= T - RM_HORIZON)
			break;
		if (rm_in_business(business, nbusiness, obs[i].t))
			return i;
	}
	return -1;
}

/*
 * The last state of the timeline of obs[0..nobs) as of T, as shown: the
 * run of segments in that state reaching T, from its first segment's
 * start, decided by that segment's poll.
 */
static RmStatus
state_at_end(const RmInterval *business, int nbusiness, const RmObs *obs,
			 int nobs, int64_t T, RmObs *scratch, RmSegment *seg,
			 RmSegment *run)
{
	RmStatus	st;
	int			n;
	int			first;

	st = rm_timeline(business, nbusiness, obs, nobs, T, scratch, seg, &n);
	if (st != RM_OK)
		return st;
	n = rm_timeline_usecs(seg, n);	/* never empty: the week has length */
	first = n - 1;
	while (first > 0 && seg[first - 1].state == seg[n - 1].state)
		first--;
	*run = seg[first];
	run->end = seg[n - 1].end;
	return RM_OK;
}

RmStatus
rm_state_alert(const RmInterval *business, int nbusiness,
			   const RmObs *obs, int nobs, int nbefore, int64_t T,
			   RmObs *scratch, RmSegment *seg, bool *raise, RmSegment *now)
{
	RmSegment	before;
	RmStatus	st;

	*raise = false;
	memset(now, 0, sizeof(*now));
	if (nbefore <= 0 || nbefore >= nobs)
		return RM_OK;			/* no earlier state to leave, or no batch */
	st = state_at_end(business, nbusiness, obs, nbefore, T, scratch, seg,
					  &before);
	if (st == RM_OK)
		st = state_at_end(business, nbusiness, obs, nobs, T, scratch, seg,
						  now);
	if (st != RM_OK)
		return st;
	*raise = now->state != RM_CLOSED && now->state != before.state;
	return RM_OK;
}
