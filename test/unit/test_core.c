/*
 * test/unit/test_core.c
 *	  Unit tests of the extrapolation core (src/core.c), outside the server.
 *	  Prints TAP.  Built and run by "make unittest" under AddressSanitizer
 *	  and UndefinedBehaviorSanitizer.
 *
 * Expected values are computed by hand from doc/semantics.md (cited per
 * test), plus a randomized comparison with an independent brute-force
 * statement of semantics §5 (brute_core.c, shared with test/fuzz).  The
 * timeline and incidents are tested in test_timeline.c, run from main.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brute_core.h"
#include "core.h"
#include "unit.h"

int			ntests = 0;
int			nfailed = 0;

void
check_i64(const char *what, int64_t got, int64_t want)
{
	ntests++;
	if (got == want)
		printf("ok %d - %s\n", ntests, what);
	else
	{
		nfailed++;
		printf("not ok %d - %s\n# expected %" PRId64 " got %" PRId64 "\n",
			   ntests, what, want, got);
	}
}

/* hundredths of the six figures, hour in minutes, day and week in hours */
static void
check_figures(const char *what, const RmResult *r, const int64_t want[6])
{
	char		buf[256];
	static const char *const names[6] = {"up hour", "up day", "up week",
	"down hour", "down day", "down week"};

	for (int i = 0; i < 6; i++)
	{
		int			w = i % 3;
		int64_t		m2 = i < 3 ? r->up2[w] : r->down2[w];

		snprintf(buf, sizeof(buf), "%s: %s", what, names[i]);
		check_i64(buf, rm_round_hundredths(m2, w == RM_HOUR ? MIN : H), want[i]);
	}
}

static RmResult
run(const RmInterval *b, int nb, const RmObs *o, int no, int64_t T)
{
	RmResult	r;
	RmObs	   *scratch = malloc(sizeof(RmObs) * (no > 0 ? no : 1));
	RmStatus	st = rm_compute(b, nb, o, no, T, scratch, &r);

	free(scratch);
	if (st != RM_OK)
	{
		nfailed++;
		printf("not ok %d - rm_compute returned %d\n", ++ntests, (int) st);
	}
	return r;
}

/* semantics §7: the worked example, in UTC (New York is UTC-5 in January) */
static void
test_worked_example(void)
{
	int64_t		day = 0;		/* Monday 00:00 UTC */
	RmInterval	b[] = {{day + 14 * H, day + 17 * H}};
	RmObs		o[] = {{day + 15 * H + 14 * MIN, false}, {day + 16 * H + 15 * MIN, true}};
	int64_t		T = day + 17 * H + 30 * MIN;
	RmResult	r = run(b, 1, o, 2, T);

	/* day: up 12:00 - 10:44:30 = 1.2583 H, down 1.7417 H; hour: 30 min up */
	int64_t		want[6] = {3000, 126, 126, 0, 174, 174};

	check_figures("semantics §7 worked example", &r, want);
	check_i64("semantics §7: exact up_day in half-microseconds",
			  r.up2[RM_DAY], 2 * (75 * MIN + 30 * INT64_C(1000000)));
	check_i64("semantics §7: evidence in hour", r.evidence[RM_HOUR], 0);
	check_i64("semantics §7: evidence in day", r.evidence[RM_DAY], 2);
}

/* semantics §5: no evidence = all downtime; no business time = zeros */
static void
test_empty(void)
{
	int64_t		T = 1000 * H;
	RmInterval	b[] = {{T - 200 * H, T + 1}};
	RmObs		o[] = {{T - 500 * H, true}};	/* outside the horizon */
	RmResult	r = run(b, 1, o, 1, T);
	int64_t		want[6] = {0, 0, 0, 6000, 2400, 16800};
	int64_t		zero[6] = {0, 0, 0, 0, 0, 0};

	check_figures("no evidence", &r, want);
	r = run(NULL, 0, o, 1, T);
	check_figures("no business time", &r, zero);
}

/* semantics §5: the horizon (T-192h, T], polls after T, a poll at T */
static void
test_horizon(void)
{
	int64_t		T = 1000 * H;
	RmInterval	b[] = {{T - 200 * H, T + 1}};
	RmObs		at_edge[] = {{T - 192 * H, true}};
	RmObs		past_edge[] = {{T - 192 * H + 1, true}};
	RmObs		after[] = {{T - 30 * MIN, false}, {T + 10 * MIN, true}};
	RmObs		atT[] = {{T - 2 * H, true}, {T, false}};
	RmResult	r;
	int64_t		down_all[6] = {0, 0, 0, 6000, 2400, 16800};
	int64_t		up_all[6] = {6000, 2400, 16800, 0, 0, 0};
	int64_t		want_atT[6] = {0, 2300, 16700, 6000, 100, 100};

	r = run(b, 1, at_edge, 1, T);
	check_figures("a poll at exactly T-192h is not evidence", &r, down_all);
	r = run(b, 1, past_edge, 1, T);
	check_figures("a poll at T-192h+1us is evidence", &r, up_all);
	check_i64("... but in no window's evidence count", r.evidence[RM_WEEK], 0);
	r = run(b, 1, after, 2, T);
	check_figures("polls after T are ignored", &r, down_all);
	r = run(b, 1, atT, 2, T);
	check_figures("a poll at T is evidence", &r, want_atT);
	check_i64("a poll at T counts in the hour", r.evidence[RM_HOUR], 1);
}

/* semantics §5: polls outside business time are ignored */
static void
test_outside_hours(void)
{
	int64_t		T = 20 * H;
	RmInterval	b[] = {{9 * H, 17 * H}};
	RmObs		o[] = {{8 * H + 50 * MIN, false}, {9 * H + 30 * MIN, true},
	{16 * H + 30 * MIN, true}, {17 * H + 10 * MIN, false}};
	RmResult	r = run(b, 1, o, 4, T);
	int64_t		want[6] = {0, 800, 800, 0, 0, 0};

	check_figures("polls outside business time are ignored", &r, want);
	check_i64("... and not counted as evidence", r.evidence[RM_DAY], 2);
	/* a poll exactly at a closing instant is outside [open, close) */
	{
		RmObs		o2[] = {{9 * H + 30 * MIN, true}, {17 * H, false}};

		r = run(b, 1, o2, 2, T);
		check_i64("a poll at the closing instant is outside", r.evidence[RM_DAY], 1);
	}
}

/* evidence from before the windows fills them */
static void
test_fill_from_before(void)
{
	int64_t		T = 1000 * H;
	RmInterval	b[] = {{T - 200 * H, T + 1}};
	RmObs		o[] = {{T - 30 * H, true}};
	RmResult	r = run(b, 1, o, 1, T);
	int64_t		want[6] = {6000, 2400, 16800, 0, 0, 0};

	check_figures("evidence before the windows fills them", &r, want);
}

/* midpoints on half microseconds stay exact in doubled units */
static void
test_half_microsecond(void)
{
	int64_t		T = 200 * H;
	RmInterval	b[] = {{T - 10, T}};
	RmObs		o[] = {{T - 10, true}, {T - 7, false}}; /* midpoint T-8.5 */
	RmResult	r = run(b, 1, o, 2, T);

	check_i64("half-microsecond midpoint: up", r.up2[RM_HOUR], 3);	/* 1.5 us */
	check_i64("half-microsecond midpoint: down", r.down2[RM_HOUR], 17); /* 8.5 us */
}

/* semantics §4: windows are half-open [T-len, T) */
static void
test_window_edges(void)
{
	int64_t		T = 200 * H;
	RmInterval	b[] = {{T - H - 10 * MIN, T + 10 * MIN}};
	RmObs		o[] = {{T - 70 * MIN, true}, {T - 50 * MIN, false}};	/* midpoint T-1h */
	RmResult	r = run(b, 1, o, 2, T);

	check_i64("hour window holds exactly 60 min of business",
			  r.up2[RM_HOUR] + r.down2[RM_HOUR], 2 * H);
	check_i64("midpoint on the window edge: no uptime in the hour", r.up2[RM_HOUR], 0);
	check_i64("evidence in the hour window", r.evidence[RM_HOUR], 1);
}

/* semantics §3: union of intervals */
static void
test_merge(void)
{
	RmInterval	iv[] = {{10, 20}, {0, 5}, {5, 9}, {12, 15}, {30, 30}, {18, 25}, {40, 39}};
	int			n = rm_merge_intervals(iv, 7);

	check_i64("merge: count", n, 2);
	check_i64("merge: touching [0,5)+[5,9) -> [0,9)", iv[0].end, 9);
	check_i64("merge: overlapping and contained -> [10,25)", iv[1].start * 100 + iv[1].end, 1025);
	check_i64("merge: nothing", rm_merge_intervals(iv, 0), 0);
}

/* semantics §6: half away from zero */
static void
test_rounding(void)
{
	check_i64("0.125 min -> 0.13", rm_round_hundredths(2 * 7500000, MIN), 13);
	check_i64("0.124999 min -> 0.12", rm_round_hundredths(2 * 7499940, MIN), 12);
	check_i64("1.005 h -> 1.01", rm_round_hundredths(2 * 3618 * INT64_C(1000000), H), 101);
	check_i64("a half microsecond over 0.005 h still rounds up",
			  rm_round_hundredths(2 * 18 * INT64_C(1000000) + 1, H), 1);
	check_i64("a half microsecond under 0.005 h rounds down",
			  rm_round_hundredths(2 * 18 * INT64_C(1000000) - 1, H), 0);
}

static void
test_errors(void)
{
	RmInterval	overlap[] = {{0, 10}, {5, 20}};
	RmInterval	ok[] = {{0, 10}};
	RmObs		unsorted[] = {{5, true}, {3, false}};
	RmObs		scratch[2];
	RmResult	r;

	check_i64("overlapping intervals are refused",
			  rm_compute(overlap, 2, NULL, 0, 100, scratch, &r), RM_ERR_UNSORTED_INTERVALS);
	check_i64("unsorted observations are refused",
			  rm_compute(ok, 1, unsorted, 2, 100, scratch, &r), RM_ERR_UNSORTED_OBS);
	check_i64("an instant near the int64 limit is refused",
			  rm_compute(ok, 1, NULL, 0, INT64_MAX - 5, scratch, &r), RM_ERR_RANGE);
}

/*
 * Randomized: everything on a one-minute grid within the last 9 days, the
 * intervals overlapping at random (the brute force gets them unmerged).
 */
static uint64_t rng = 88172645463325252ULL;

uint64_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
test_random(void)
{
	int			cases = 300;
	int			bad = 0;

	for (int n = 0; n < cases && bad == 0; n++)
	{
		int64_t		T = (int64_t) (next_rand() % 100000) * MIN + 400 * H;
		RmInterval	b[40];
		RmInterval	raw[40];
		RmObs		o[60];
		RmObs		scratch[60];
		int			nb = (int) (next_rand() % 40);
		int			no = (int) (next_rand() % 60);
		int			nraw;
		int64_t		t;
		BruteResult want;
		RmResult	r;

		for (int i = 0; i < nb; i++)
		{
			int64_t		s = T - (int64_t) (next_rand() % (9 * 24 * 60)) * MIN;

			b[i].start = s;
			b[i].end = s + (int64_t) (1 + next_rand() % 600) * MIN;
			raw[i] = b[i];
		}
		nraw = nb;
		nb = rm_merge_intervals(b, nb);
		/* strictly increasing poll instants, some past T */
		t = T - 200 * H;
		for (int i = 0; i < no; i++)
		{
			t += (int64_t) (1 + next_rand() % 400) * MIN;
			o[i].t = t;
			o[i].active = next_rand() % 3 != 0;
		}
		if (rm_compute(b, nb, o, no, T, scratch, &r) != RM_OK)
		{
			bad++;
			printf("# case %d: rm_compute failed\n", n);
			break;
		}
		brute_compute(raw, nraw, o, no, T, &want);
		for (int w = 0; w < 3; w++)
			if (r.up2[w] != want.up2[w] || r.down2[w] != want.down2[w] ||
				r.evidence[w] != want.evidence[w])
			{
				bad++;
				printf("# case %d window %d: core up2 %" PRId64
					   " down2 %" PRId64 " evidence %d, brute force up2 %"
					   PRId64 " down2 %" PRId64 " evidence %d\n",
					   n, w, r.up2[w], r.down2[w],
					   (int) r.evidence[w], want.up2[w], want.down2[w],
					   (int) want.evidence[w]);
			}
	}
	check_i64("300 random stores agree with a brute-force semantics §5", bad, 0);
}

int
main(void)
{
	test_worked_example();
	test_empty();
	test_horizon();
	test_outside_hours();
	test_fill_from_before();
	test_half_microsecond();
	test_window_edges();
	test_merge();
	test_rounding();
	test_errors();
	test_random();
	test_timeline();			/* test_timeline.c */
	test_alert();				/* test_alert.c */
	printf("1..%d\n", ntests);
	return nfailed == 0 ? 0 : 1;
}
