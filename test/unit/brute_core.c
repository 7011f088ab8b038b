/*
 * test/unit/brute_core.c
 *	  The brute-force reading of semantics §3-5 (see brute_core.h).
 *
 * The line is cut at every instant where the answer may change: the edges
 * of the windows and of the business intervals, and the midpoint of every
 * pair of evidence polls (semantics §5: a point belongs to its nearest
 * poll).  Inside each piece nothing changes, so its middle decides for the
 * whole piece: in business time or not (any interval holding it), up or
 * down (the nearest evidence poll, found by scanning every poll).  Points
 * are in doubled microseconds, middles in quadrupled ones, in 128 bits.
 */
#include <stdlib.h>
#include <string.h>

#include "brute_core.h"

#define BH		INT64_C(3600000000)

static const int64_t brute_window[3] = {BH, 24 * BH, 168 * BH};

typedef __int128 wide;

bool
brute_in_union(const RmInterval *iv, int n, int64_t t)
{
	for (int i = 0; i < n; i++)
		if (iv[i].start <= t && t < iv[i].end)
			return true;
	return false;
}

/* semantics §5: a poll in (T - 192h, T] and in business time */
static bool
is_evidence(const RmInterval *iv, int niv, const RmObs *o, int64_t T)
{
	return o->t > T - 192 * BH && o->t <= T && brute_in_union(iv, niv, o->t);
}

static int
wide_cmp(const void *a, const void *b)
{
	wide		x = *(const wide *) a;
	wide		y = *(const wide *) b;

	return x < y ? -1 : x > y;
}

/* up (1), down (0) at the quadrupled instant m4: the nearest evidence */
static bool
up_at(const RmObs *o, const bool *ev, int no, wide m4)
{
	int			best = -1;
	wide		bestd = 0;

	for (int i = 0; i < no; i++)
	{
		wide		d = m4 - 4 * (wide) o[i].t;

		if (!ev[i])
			continue;
		if (d < 0)
			d = -d;
		/* a tie goes to the earlier poll */
		if (best < 0 || d < bestd || (d == bestd && o[i].t < o[best].t))
		{
			best = i;
			bestd = d;
		}
	}
	return best >= 0 && o[best].active;
}

void
brute_compute(const RmInterval *iv, int niv, const RmObs *o, int no,
			  int64_t T, BruteResult *r)
{
	wide		lo = 2 * ((wide) T - brute_window[2]);
	wide		hi = 2 * (wide) T;
	int			cap = 4 + 2 * niv + no * no;
	wide	   *cut = malloc(sizeof(wide) * cap);
	bool	   *ev = malloc(sizeof(bool) * (no > 0 ? no : 1));
	int			nc = 0;

	memset(r, 0, sizeof(*r));
	for (int i = 0; i < no; i++)
		ev[i] = is_evidence(iv, niv, &o[i], T);
	for (int w = 0; w < 3; w++)
		cut[nc++] = 2 * ((wide) T - brute_window[w]);
	cut[nc++] = hi;
	for (int i = 0; i < niv; i++)
	{
		cut[nc++] = 2 * (wide) iv[i].start;
		cut[nc++] = 2 * (wide) iv[i].end;
	}
	for (int i = 0; i < no; i++)
		for (int j = 0; j < no; j++)
			if (i < j && ev[i] && ev[j])
				cut[nc++] = (wide) o[i].t + o[j].t;
	qsort(cut, nc, sizeof(wide), wide_cmp);

	for (int k = 0; k + 1 < nc; k++)
	{
		wide		a = cut[k] < lo ? lo : cut[k];
		wide		b = cut[k + 1] > hi ? hi : cut[k + 1];
		wide		m4 = a + b;
		bool		inb = false;
		bool		up;

		if (a >= b)
			continue;
		for (int i = 0; i < niv && !inb; i++)
			inb = 4 * (wide) iv[i].start <= m4 && m4 < 4 * (wide) iv[i].end;
		if (!inb)
			continue;
		up = up_at(o, ev, no, m4);
		for (int w = 0; w < 3; w++)
		{
			if (m4 < 4 * ((wide) T - brute_window[w]))
				continue;
			r->busy2[w] += (int64_t) (b - a);
			if (up)
				r->up2[w] += (int64_t) (b - a);
			else
				r->down2[w] += (int64_t) (b - a);
		}
	}
	for (int i = 0; i < no; i++)
		for (int w = 0; w < 3; w++)
			if (ev[i] && o[i].t >= T - brute_window[w])
				r->evidence[w]++;
	free(cut);
	free(ev);
}
