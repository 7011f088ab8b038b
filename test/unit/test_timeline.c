/*
 * test/unit/test_timeline.c
 *	  Unit tests of the core's timeline and incidents (rm_timeline,
 *	  rm_timeline_usecs, rm_incidents in src/core.c; semantics §5.5), run by
 *	  test_core.c's main.  Hand-computed cases, then the property that on
 *	  random stores the segments add up to rm_compute's figures and to the
 *	  brute force's (brute_core.c), exactly.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brute_core.h"
#include "core.h"
#include "unit.h"

/* the timeline of a store, checked segment by segment */
typedef struct WantSeg
{
	int64_t		start;
	int64_t		end;
	RmState		state;
	int64_t		decided_by;		/* -1: none */
} WantSeg;

static int
timeline(const RmInterval *b, int nb, const RmObs *o, int no, int64_t T,
		 RmSegment *seg)
{
	RmObs	   *scratch = malloc(sizeof(RmObs) * (no > 0 ? no : 1));
	int			n = -1;
	RmStatus	st = rm_timeline(b, nb, o, no, T, scratch, seg, &n);

	free(scratch);
	if (st != RM_OK)
	{
		nfailed++;
		printf("not ok %d - rm_timeline returned %d\n", ++ntests, (int) st);
	}
	return n;
}

static void
check_segments(const char *what, const RmSegment *seg, int n,
			   const WantSeg *want, int nwant)
{
	char		buf[256];
	int			bad = n != nwant;

	for (int i = 0; i < n && !bad; i++)
		bad = seg[i].start != want[i].start || seg[i].end != want[i].end ||
			seg[i].state != want[i].state ||
			seg[i].decided != (want[i].decided_by >= 0) ||
			(seg[i].decided && seg[i].decided_by != want[i].decided_by);
	snprintf(buf, sizeof(buf), "%s: %d segments as computed by hand", what,
			 nwant);
	check_i64(buf, bad, 0);
	if (bad)
		for (int i = 0; i < n; i++)
			printf("# [%" PRId64 ", %" PRId64 ") state %d decided %d by %"
				   PRId64 "\n", seg[i].start, seg[i].end, (int) seg[i].state,
				   (int) seg[i].decided, seg[i].decided_by);
}

/*
 * semantics §5.5 on the worked example of §7 (UTC, T = 17:30): closed
 * until 14:00, down (the 15:14 poll) until the switch at 15:44:30, up (the
 * 16:15 poll) until 17:00, closed until T.  Doubled instants, then shown.
 * One incident, 14:00-15:44:30, not open at T.
 */
static void
test_timeline_worked_example(void)
{
	RmInterval	b[] = {{14 * H, 17 * H}};
	int64_t		t1 = 15 * H + 14 * MIN;
	int64_t		t2 = 16 * H + 15 * MIN;
	RmObs		o[] = {{t1, false}, {t2, true}};
	int64_t		T = 17 * H + 30 * MIN;
	int64_t		sw = 15 * H + 44 * MIN + 30 * INT64_C(1000000);
	RmSegment	seg[RM_TIMELINE_MAX(1, 2)];
	RmIncident	inc[RM_TIMELINE_MAX(1, 2)];
	int			n = timeline(b, 1, o, 2, T, seg);
	WantSeg		want2[] = {
		{2 * (T - 168 * H), 2 * 14 * H, RM_CLOSED, -1},
		{2 * 14 * H, 2 * sw, RM_DOWN, t1},
		{2 * sw, 2 * 17 * H, RM_UP, t2},
	{2 * 17 * H, 2 * T, RM_CLOSED, -1}};
	WantSeg		want[] = {
		{T - 168 * H, 14 * H, RM_CLOSED, -1},
		{14 * H, sw, RM_DOWN, t1},
		{sw, 17 * H, RM_UP, t2},
	{17 * H, T, RM_CLOSED, -1}};

	check_segments("timeline of semantics §7, doubled", seg, n, want2, 4);
	n = rm_timeline_usecs(seg, n);
	check_segments("timeline of semantics §7, shown", seg, n, want, 4);
	n = rm_incidents(seg, n, inc);
	check_i64("§7: one incident", n, 1);
	check_i64("§7: it starts at the opening", inc[0].start, 14 * H);
	check_i64("§7: it ends at the switch", inc[0].end, sw);
	check_i64("§7: 1 h 44 min 30 s of business time down",
			  inc[0].business, sw - 14 * H);
	check_i64("§7: not open at T", inc[0].open_at_end, 0);
}

/*
 * semantics §5.3: no evidence, open 24x7: one down segment over the whole
 * week, decided by no poll, an incident open at T
 */
static void
test_timeline_no_evidence(void)
{
	int64_t		T = 1000 * H;
	RmInterval	b[] = {{T - 200 * H, T + 1}};
	RmObs		o[] = {{T - 500 * H, true}};
	RmSegment	seg[RM_TIMELINE_MAX(1, 1)];
	RmIncident	inc[RM_TIMELINE_MAX(1, 1)];
	WantSeg		want[] = {{T - 168 * H, T, RM_DOWN, -1}};
	int			n = rm_timeline_usecs(seg, timeline(b, 1, o, 1, T, seg));

	check_segments("no evidence: the week is down", seg, n, want, 1);
	n = rm_incidents(seg, n, inc);
	check_i64("no evidence: one incident", n, 1);
	check_i64("no evidence: 168 h of business time",
			  inc[0].business, 168 * H);
	check_i64("no evidence: open at T", inc[0].open_at_end, 1);
}

/*
 * An incident across closing time (semantics §5.5).  UTC, open 22:00-02:00
 * every night (day d = d * 24 h).  Polls: d5 23:00 active, d6 01:00
 * inactive (switch at d6 00:00), d6 23:00 inactive, d7 01:00 active
 * (switch d7 00:00).  T = d7 12:00.  From d6 00:00 to d7 00:00 it is down,
 * with closed time d6 02:00-22:00 in between: one incident of 24 h, 4 h
 * of them in business time.  Earlier nights are up (the d5 23:00 poll
 * decides everything before d6 00:00); the rest of night d6 is up.
 */
static void
test_incident_across_closing(void)
{
	int64_t		D = 24 * H;
	int64_t		T = 7 * D + 12 * H;
	RmInterval	b[10];
	RmObs		o[] = {{5 * D + 23 * H, true}, {6 * D + H, false},
	{6 * D + 23 * H, false}, {7 * D + H, true}};
	RmSegment	seg[RM_TIMELINE_MAX(10, 4)];
	RmIncident	inc[RM_TIMELINE_MAX(10, 4)];
	int			n;
	int			ninc;
	int64_t		up = 0;

	for (int d = 0; d < 10; d++)
	{
		b[d].start = (d - 1) * D + 22 * H;
		b[d].end = d * D + 2 * H;
	}
	n = rm_timeline_usecs(seg, timeline(b, 10, o, 4, T, seg));
	ninc = rm_incidents(seg, n, inc);
	check_i64("across closing: one incident", ninc, 1);
	check_i64("across closing: from d6 00:00", inc[0].start, 6 * D);
	check_i64("across closing: to d7 00:00", inc[0].end, 7 * D);
	check_i64("across closing: 4 h of it in business time",
			  inc[0].business, 4 * H);
	check_i64("across closing: not open at T", inc[0].open_at_end, 0);
	for (int i = 0; i < n; i++)
		if (seg[i].state == RM_UP)
			up += seg[i].end - seg[i].start;

	/*
	 * the week from d0 12:00 meets the nights from d0 22:00 to d7 02:00 (7 x
	 * 4 h = 28 h): up are the five nights ending d1 to d5 (20 h), d5 22:00 -
	 * d6 00:00 (2 h) and d7 00:00 - 02:00 (2 h)
	 */
	check_i64("across closing: 24 h up in the week", up, 24 * H);
}

/*
 * A switch on a half microsecond (semantics §5.4): open [T-10, T) us,
 * polls T-10 active and T-7 inactive, switch at T-8.5.  Doubled: up
 * [T-10, T-8.5), down [T-8.5, T).  Shown, rounded up: up [T-10, T-8),
 * down [T-8, T): microsecond T-9 is nearer T-10, T-8 nearer T-7.
 */
static void
test_timeline_half_microsecond(void)
{
	int64_t		T = 200 * H;
	RmInterval	b[] = {{T - 10, T}};
	RmObs		o[] = {{T - 10, true}, {T - 7, false}};
	RmSegment	seg[RM_TIMELINE_MAX(1, 2)];
	int			n = timeline(b, 1, o, 2, T, seg);
	WantSeg		want2[] = {
		{2 * (T - 168 * H), 2 * T - 20, RM_CLOSED, -1},
		{2 * T - 20, 2 * T - 17, RM_UP, T - 10},
	{2 * T - 17, 2 * T, RM_DOWN, T - 7}};
	WantSeg		want[] = {
		{T - 168 * H, T - 10, RM_CLOSED, -1},
		{T - 10, T - 8, RM_UP, T - 10},
	{T - 8, T, RM_DOWN, T - 7}};

	check_segments("half microsecond, doubled", seg, n, want2, 3);
	n = rm_timeline_usecs(seg, n);
	check_segments("half microsecond, shown rounded up", seg, n, want, 3);

	/*
	 * polls T-1 active and T inactive, open [T-10, T+1): the poll at T
	 * decides only [T-0.5, T), which is empty once shown
	 */
	{
		RmInterval	b2[] = {{T - 10, T + 1}};
		RmObs		o2[] = {{T - 1, true}, {T, false}};
		WantSeg		want3[] = {
			{T - 168 * H, T - 10, RM_CLOSED, -1},
		{T - 10, T, RM_UP, T - 1}};

		n = rm_timeline_usecs(seg, timeline(b2, 1, o2, 2, T, seg));
		check_segments("half a microsecond before T: dropped when shown",
					   seg, n, want3, 2);
	}
}

/*
 * Property (semantics §5.5): on random stores, the timeline covers the week
 * contiguously; closed segments are exactly the time outside business
 * hours; each decided segment's state is its poll's; and the up and down
 * segments inside each window sum to the figures of rm_compute and of the
 * brute force, exactly (doubled units).  Instants on a one-minute grid
 * plus, in odd cases, random microseconds, so switches fall on half
 * microseconds too.  The incidents' business time sums to the week's
 * downtime.
 */
static int
check_timeline_store(int n, const RmInterval *b, int nb, const RmInterval *raw,
					 int nraw, const RmObs *o, int no, int64_t T)
{
	RmSegment	seg[RM_TIMELINE_MAX(40, 60)];
	RmIncident	inc[RM_TIMELINE_MAX(40, 60)];
	RmObs		scratch[60];
	int			nseg;
	int			ninc;
	RmResult	r;
	BruteResult want;
	int64_t		up2[3] = {0};
	int64_t		down2[3] = {0};
	int64_t		inc_down = 0;

	if (rm_timeline(b, nb, o, no, T, scratch, seg, &nseg) != RM_OK ||
		rm_compute(b, nb, o, no, T, scratch, &r) != RM_OK ||
		nseg > RM_TIMELINE_MAX(nb, no))
	{
		printf("# case %d: rm_timeline or rm_compute failed\n", n);
		return 1;
	}
	brute_compute(raw, nraw, o, no, T, &want);
	for (int i = 0; i < nseg; i++)
	{
		int64_t		mid4 = seg[i].start + seg[i].end;	/* quadrupled */
		bool		inb = false;

		if (seg[i].start != (i == 0 ? 2 * (T - 168 * H) : seg[i - 1].end) ||
			seg[i].end <= seg[i].start)
			return printf("# case %d: segment %d not contiguous\n", n, i), 1;
		for (int j = 0; j < nraw; j++)
			inb |= 4 * raw[j].start <= mid4 && mid4 < 4 * raw[j].end;
		if (inb != (seg[i].state != RM_CLOSED))
			return printf("# case %d: segment %d closed is wrong\n", n, i), 1;
		if (seg[i].decided)
		{
			int			j = 0;

			while (j < no && o[j].t != seg[i].decided_by)
				j++;
			if (j == no || (o[j].active != (seg[i].state == RM_UP)))
				return printf("# case %d: segment %d poll\n", n, i), 1;
		}
		for (int w = 0; w < 3; w++)
		{
			int64_t		lo = 2 * (T - rm_window_len[w]);
			int64_t		a = seg[i].start > lo ? seg[i].start : lo;

			if (a >= seg[i].end)
				continue;
			if (seg[i].state == RM_UP)
				up2[w] += seg[i].end - a;
			else if (seg[i].state == RM_DOWN)
				down2[w] += seg[i].end - a;
		}
	}
	if (seg[nseg - 1].end != 2 * T)
		return printf("# case %d: the timeline stops before T\n", n), 1;
	for (int w = 0; w < 3; w++)
		if (up2[w] != r.up2[w] || down2[w] != r.down2[w] ||
			up2[w] != want.up2[w] || down2[w] != want.down2[w])
			return printf("# case %d window %d: segments up2 %" PRId64
						  " down2 %" PRId64 ", core %" PRId64 " %" PRId64
						  ", brute force %" PRId64 " %" PRId64 "\n", n, w,
						  up2[w], down2[w], r.up2[w], r.down2[w],
						  want.up2[w], want.down2[w]), 1;
	ninc = rm_incidents(seg, nseg, inc);
	for (int i = 0; i < ninc; i++)
		inc_down += inc[i].business;
	if (inc_down != r.down2[RM_WEEK])
		return printf("# case %d: incidents sum to %" PRId64 "\n", n,
					  inc_down), 1;
	return 0;
}

static void
test_timeline_random(void)
{
	int			bad = 0;

	for (int n = 0; n < 300 && bad == 0; n++)
	{
		int64_t		T = (int64_t) (next_rand() % 100000) * MIN + 400 * H;
		RmInterval	b[40];
		RmInterval	raw[40];
		RmObs		o[60];
		int			nb = (int) (next_rand() % 40);
		int			no = (int) (next_rand() % 60);
		int			nraw;
		int64_t		jitter = n % 2 == 1 ? MIN : 1;
		int64_t		t;

		for (int i = 0; i < nb; i++)
		{
			int64_t		s = T - (int64_t) (next_rand() % (9 * 24 * 60)) * MIN;

			b[i].start = s - (int64_t) (next_rand() % jitter);
			b[i].end = s + (int64_t) (1 + next_rand() % 600) * MIN;
			raw[i] = b[i];
		}
		nraw = nb;
		nb = rm_merge_intervals(b, nb);
		t = T - 200 * H;
		for (int i = 0; i < no; i++)
		{
			t += (int64_t) (1 + next_rand() % 400) * MIN +
				(int64_t) (next_rand() % jitter);
			o[i].t = t;
			o[i].active = next_rand() % 3 != 0;
		}
		bad += check_timeline_store(n, b, nb, raw, nraw, o, no, T);
	}
	check_i64("300 random timelines: segment sums = rm_compute = brute force",
			  bad, 0);
}

void
test_timeline(void)
{
	test_timeline_worked_example();
	test_timeline_no_evidence();
	test_incident_across_closing();
	test_timeline_half_microsecond();
	test_timeline_random();
}
