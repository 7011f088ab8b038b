/*-------------------------------------------------------------------------
 *
 * src/core.c
 *	  The extrapolation core (semantics §4-6): business intervals + polls + T ->
 *	  uptime and downtime of the last hour, day and week.
 *
 * Pure C: no postgres.h, no allocation (the caller passes scratch space),
 * no errors raised.  All arithmetic is
 * on int64 microseconds, doubled where a boundary halfway between two polls
 * may fall on a half microsecond; no floating point touches a measure.
 *
 * Invariants: for every window, up2 + down2 == 2 * |W intersect B|.
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
 * Doubled business time and doubled uptime of the window [lo2, hi2)
 * (doubled instants): each business interval's part in the window is
 * walked across the evidence regions of upper_bound2(); with no evidence
 * it is all downtime.
 */
static void
measure_window(const RmInterval *business, int nbusiness,
			   const RmObs *ev, int nev, int64_t lo2, int64_t hi2,
			   int64_t *busy2, int64_t *up2)
{
	int			e = 0;

	*busy2 = 0;
	*up2 = 0;
	for (int i = 0; i < nbusiness; i++)
	{
		int64_t		s = 2 * business[i].start;
		int64_t		end = 2 * business[i].end;
		int64_t		x;

		if (end <= lo2)
			continue;
		if (s >= hi2)
			break;
		if (s < lo2)
			s = lo2;
		if (end > hi2)
			end = hi2;
		*busy2 += end - s;
		if (nev == 0)
			continue;			/* no evidence: all downtime */

		/* walk the evidence regions across [s, end) */
		for (x = s; x < end;)
		{
			int64_t		ub;
			int64_t		seg;

			while ((ub = upper_bound2(ev, nev, e)) <= x)
				e++;
			seg = ub < end ? ub : end;
			if (ev[e].active)
				*up2 += seg - x;
			x = seg;
		}
	}
}

RmStatus
rm_compute(const RmInterval *business, int nbusiness,
		   const RmObs *obs, int nobs,
		   int64_t T, RmObs *ev, RmResult *out)
{
	RmStatus	st;
	int			nev;

	memset(out, 0, sizeof(*out));
	st = check_inputs(business, nbusiness, obs, nobs, T);
	if (st != RM_OK)
		return st;
	nev = gather_evidence(business, nbusiness, obs, nobs, T, ev);

	for (int w = 0; w < RM_NWINDOWS; w++)
	{
		int64_t		busy2;
		int64_t		up2;

		measure_window(business, nbusiness, ev, nev,
					   2 * (T - rm_window_len[w]), 2 * T, &busy2, &up2);
		out->up2[w] = up2;
		out->down2[w] = busy2 - up2;
		for (int i = 0; i < nev; i++)
			if (ev[i].t >= T - rm_window_len[w])
				out->evidence[w]++;
	}
	return RM_OK;
}
