/*
 * test/fuzz/fuzz_core.c
 *	  libFuzzer target: the extrapolation core (src/core.c) against the
 *	  brute-force reading of semantics §3-5 (test/unit/brute_core.c).
 *
 * The input is decoded into a report instant T, business intervals (raw:
 * unsorted, overlapping, touching, empty) and strictly increasing polls,
 * all placed near the instants where the rules turn (T, T - 1h / 24h /
 * 168h / 192h) on a grid the input chooses, from one microsecond to an
 * hour, so that ties and edges are common; T may lie anywhere, up to the
 * int64 limits.  Checked, aborting on the first failure:
 *	- rm_merge_intervals: sorted, non-empty, non-touching, the same union;
 *	- rm_compute: the status the range rules predict; when RM_OK, the same
 *	  up, down and evidence counts as the brute force, up + down = business
 *	  time in every window, evidence counts <= polls and nested;
 *	- rm_round_hundredths: half up, exactly, on each figure;
 *	- rm_timeline: contiguous over the week, its segments summing to the
 *	  figures in every window, still contiguous once shown in
 *	  microseconds; rm_incidents summing to the week's downtime;
 *	- and, through the sanitizers, no memory error and no undefined
 *	  behaviour (signed overflow included).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brute_core.h"
#include "core.h"

#define H		INT64_C(3600000000)
#define LIMIT	(INT64_C(1) << 61)	/* what rm_compute accepts */
#define MAX_IV	16
#define MAX_OBS	48

typedef struct Input
{
	const uint8_t *p;
	size_t		n;
} Input;

/* the next k bytes, little-endian; zeros once the input is used up */
static uint64_t
take(Input *in, int k)
{
	uint64_t	v = 0;

	for (int i = 0; i < k; i++)
	{
		uint64_t	b = 0;

		if (in->n > 0)
		{
			b = *in->p++;
			in->n--;
		}
		v |= b << (8 * i);
	}
	return v;
}

/* a + b, saturated to the int64 range */
static int64_t
sat_add(int64_t a, int64_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	if (b < 0 && a < INT64_MIN - b)
		return INT64_MIN;
	return a + b;
}

static int64_t
sat_mul(int64_t a, int64_t b)
{
	__int128	r = (__int128) a * b;

	if (r > INT64_MAX)
		return INT64_MAX;
	if (r < INT64_MIN)
		return INT64_MIN;
	return (int64_t) r;
}

#define FAIL(...) \
	do { \
		fprintf(stderr, "fuzz_core: " __VA_ARGS__); \
		fputc('\n', stderr); \
		abort(); \
	} while (0)

static int64_t
decode_T(Input *in, int64_t unit)
{
	int64_t		k = (int16_t) take(in, 2);

	switch (take(in, 1) % 8)
	{
		case 0:
			return 0;
		case 1:
			return LIMIT - 1 - (int64_t) take(in, 4);	/* near the top */
		case 2:
			return -LIMIT + RM_HORIZON + (int64_t) take(in, 4); /* the bottom */
		case 3:
			return (int64_t) take(in, 8);	/* anything, out of range too */
		case 4:
			return sat_mul(k, 24 * H);
		default:
			return sat_add(1000 * H, sat_mul(k, unit));
	}
}

/* an instant near one of the edges of the rules, on the grid */
static int64_t
decode_instant(Input *in, int64_t T, int64_t unit)
{
	static const int64_t anchors[8] = {0, H, 24 * H, 168 * H, 192 * H,
	100 * H, -H, 200 * H};
	int64_t		a = anchors[take(in, 1) % 8];
	int64_t		k = (int16_t) take(in, 2);

	return sat_add(sat_add(T, -a), sat_mul(k, unit));
}

/* the union is the same: membership agrees on both sides of every edge */
static void
check_merge(const RmInterval *raw, int n, const RmInterval *m, int nm)
{
	if (nm < 0 || nm > n)
		FAIL("merge: %d intervals from %d", nm, n);
	for (int i = 0; i < nm; i++)
	{
		if (m[i].start >= m[i].end)
			FAIL("merge: interval %d empty", i);
		if (i > 0 && m[i].start <= m[i - 1].end)
			FAIL("merge: intervals %d and %d overlap or touch", i - 1, i);
	}
	for (int side = 0; side < 2; side++)
	{
		const RmInterval *iv = side == 0 ? raw : m;
		int			niv = side == 0 ? n : nm;

		for (int i = 0; i < niv; i++)
		{
			int64_t		edge[4] = {iv[i].start, sat_add(iv[i].start, -1),
			iv[i].end, sat_add(iv[i].end, -1)};

			for (int e = 0; e < 4; e++)
				if (brute_in_union(raw, n, edge[e]) !=
					brute_in_union(m, nm, edge[e]))
					FAIL("merge: union differs at %" PRId64, edge[e]);
		}
	}
}

/* semantics §6: hundredths, half up: (2h - 1) u <= 100 m2 < (2h + 1) u */
static void
check_round(int64_t m2, int64_t unit)
{
	int64_t		h = rm_round_hundredths(m2, unit);
	__int128	v = (__int128) m2 * 100;
	__int128	lo = (__int128) (2 * h - 1) * unit;
	__int128	hi = (__int128) (2 * h + 1) * unit;

	if (!(lo <= v && v < hi))
		FAIL("round: %" PRId64 " in units of %" PRId64 " gave %" PRId64,
			 m2, unit, h);
}

/* the status rm_compute must give (the polls are sorted here) */
static RmStatus
expected_status(const RmInterval *raw, int n, int64_t T)
{
	if (T <= -LIMIT + RM_HORIZON || T >= LIMIT)
		return RM_ERR_RANGE;
	for (int i = 0; i < n; i++)
		if (raw[i].start < raw[i].end &&
			(raw[i].start <= -LIMIT || raw[i].end >= LIMIT))
			return RM_ERR_RANGE;
	return RM_OK;
}

/*
 * semantics §5.5: the timeline covers [T - 168h, T) contiguously, and its
 * up and down segments inside each window measure the figures; shown in
 * microseconds it still covers the week; the incidents' business time is
 * the week's downtime.
 */
static void
check_timeline(const RmInterval *m, int nm, const RmObs *o, int no,
			   int64_t T, const RmResult *r)
{
	RmObs		scratch[MAX_OBS + 1];
	RmSegment	seg[RM_TIMELINE_MAX(MAX_IV, MAX_OBS)];
	RmIncident	inc[RM_TIMELINE_MAX(MAX_IV, MAX_OBS)];
	int			n;
	int			ninc;
	int64_t		up2[RM_NWINDOWS] = {0};
	int64_t		down2[RM_NWINDOWS] = {0};
	int64_t		inc_down = 0;

	if (rm_timeline(m, nm, o, no, T, scratch, seg, &n) != RM_OK)
		FAIL("timeline: failed where rm_compute did not");
	if (n < 1 || n > RM_TIMELINE_MAX(nm, no))
		FAIL("timeline: %d segments", n);
	for (int i = 0; i < n; i++)
	{
		if (seg[i].start != (i == 0 ? 2 * (T - 168 * H) : seg[i - 1].end) ||
			seg[i].end <= seg[i].start)
			FAIL("timeline: segment %d not contiguous", i);
		for (int w = 0; w < RM_NWINDOWS; w++)
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
	if (seg[n - 1].end != 2 * T)
		FAIL("timeline: ends before T");
	for (int w = 0; w < RM_NWINDOWS; w++)
		if (up2[w] != r->up2[w] || down2[w] != r->down2[w])
			FAIL("timeline: window %d: segments up2 %" PRId64 " down2 %"
				 PRId64 ", figures %" PRId64 " %" PRId64, w, up2[w],
				 down2[w], r->up2[w], r->down2[w]);
	ninc = rm_incidents(seg, n, inc);
	for (int i = 0; i < ninc; i++)
		inc_down += inc[i].business;
	if (inc_down != r->down2[RM_WEEK])
		FAIL("timeline: incidents do not sum to the week's downtime");
	n = rm_timeline_usecs(seg, n);
	if (n < 1 || seg[0].start != T - 168 * H || seg[n - 1].end != T)
		FAIL("timeline: shown, it does not cover the week");
	for (int i = 1; i < n; i++)
		if (seg[i].start != seg[i - 1].end || seg[i].end <= seg[i].start)
			FAIL("timeline: shown, segment %d not contiguous", i);
}

static void
check_compute(const RmInterval *raw, int n, const RmInterval *m, int nm,
			  const RmObs *o, int no, int64_t T)
{
	RmObs		scratch[MAX_OBS + 1];
	RmResult	r;
	BruteResult want;
	RmStatus	st = rm_compute(m, nm, o, no, T, scratch, &r);
	RmStatus	est = expected_status(raw, n, T);

	if (st != est)
		FAIL("compute: status %d, expected %d (T %" PRId64 ")", st, est, T);
	if (st != RM_OK)
		return;
	brute_compute(raw, n, o, no, T, &want);
	for (int w = 0; w < RM_NWINDOWS; w++)
	{
		if (r.up2[w] != want.up2[w] || r.down2[w] != want.down2[w] ||
			r.evidence[w] != want.evidence[w])
			FAIL("compute: window %d: core up2 %" PRId64 " down2 %" PRId64
				 " evidence %d, brute force up2 %" PRId64 " down2 %" PRId64
				 " evidence %d", w, r.up2[w], r.down2[w], (int) r.evidence[w],
				 want.up2[w], want.down2[w], (int) want.evidence[w]);
		if (r.up2[w] < 0 || r.down2[w] < 0 ||
			r.up2[w] + r.down2[w] != want.busy2[w])
			FAIL("compute: window %d: up + down is not the business time", w);
		if (r.evidence[w] < 0 || r.evidence[w] > no ||
			(w > 0 && r.evidence[w] < r.evidence[w - 1]))
			FAIL("compute: window %d: evidence count %d of %d polls", w,
				 (int) r.evidence[w], no);
		if (w > 0 && (r.up2[w] < r.up2[w - 1] || r.down2[w] < r.down2[w - 1]))
			FAIL("compute: window %d: less than the shorter window", w);
		check_round(r.up2[w], w == RM_HOUR ? 60000000 : H);
		check_round(r.down2[w], w == RM_HOUR ? 60000000 : H);
	}
	check_timeline(m, nm, o, no, T, &r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t units[8] = {1, 2, 7, 1000000, 60000000,
	900000000, 1800000000, H};
	Input		in = {data, size};
	int64_t		unit = units[take(&in, 1) % 8];
	int64_t		T = decode_T(&in, unit);
	int			n = (int) (take(&in, 1) % (MAX_IV + 1));
	int			no;
	int			nm;
	RmInterval	raw[MAX_IV];
	RmInterval	m[MAX_IV];
	RmObs		o[MAX_OBS];
	int64_t		prev = INT64_MIN;

	for (int i = 0; i < n; i++)
	{
		uint64_t	len = take(&in, 2);

		raw[i].start = decode_instant(&in, T, unit);
		/* one in 16 is empty or reversed */
		raw[i].end = sat_add(raw[i].start,
							 sat_mul((len & 15) == 0 ? -(int64_t) (len >> 4) :
									 (int64_t) (len >> 4) * 4, unit));
	}
	no = (int) (take(&in, 1) % (MAX_OBS + 1));
	for (int i = 0; i < no; i++)
	{
		uint64_t	b = take(&in, 1);
		int64_t		t;

		if (i == 0 || (b & 6) == 0)
			t = decode_instant(&in, T, unit);	/* jump near an edge */
		else
			t = sat_add(prev, sat_mul((int64_t) take(&in, 1), unit));
		if (t <= prev)
			t = sat_add(prev, 1);
		if (t == prev)
		{
			no = i;				/* INT64_MAX reached */
			break;
		}
		o[i].t = prev = t;
		o[i].active = (b & 1) != 0;
	}

	/* the merge, on a copy */
	memcpy(m, raw, sizeof(RmInterval) * n);
	nm = rm_merge_intervals(m, n);
	check_merge(raw, n, m, nm);
	check_compute(raw, n, m, nm, o, no, T);

	/* the rounding alone, on any measure the core can produce */
	check_round((int64_t) (take(&in, 8) & ((UINT64_C(1) << 50) - 1)), H);
	return 0;
}
