/*
 * test/unit/test_alert.c
 *	  Unit tests of the core's state alerts (rm_state_alert,
 *	  rm_newest_evidence, rm_in_business in src/core.c; semantics §5.6),
 *	  run by test_core.c's main.  Hand-computed cases, then the property
 *	  src/alerts.c relies on: the alert of a batch computed from the whole
 *	  horizon equals the one computed from the polls alerts.c reads (from
 *	  the batch's first new instant f on, plus the newest evidence poll
 *	  before f, or else the newest poll before f), on random stores.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "unit.h"

#define DAY (24 * H)

/* the alert of obs[0..n) with nbefore polls before the batch, as of t + 1 */
static bool
alert(const RmInterval *b, int nb, const RmObs *o, int n, int nbefore,
	  RmSegment *now)
{
	RmObs	   *scratch = malloc(sizeof(RmObs) * (n > 0 ? n : 1));
	RmSegment  *seg = malloc(sizeof(RmSegment) * RM_TIMELINE_MAX(nb, n));
	bool		raise = false;
	RmStatus	st = rm_state_alert(b, nb, o, n, nbefore, o[n - 1].t + 1,
									scratch, seg, &raise, now);

	free(scratch);
	free(seg);
	if (st != RM_OK)
	{
		nfailed++;
		printf("not ok %d - rm_state_alert returned %d\n", ++ntests, (int) st);
	}
	return raise;
}

/*
 * test/alerts.sh's store al1 (semantics §5.6): open 09:00-17:00 every day
 * (day 0 starts at 00:00), times in hours from day 0's midnight.
 */
static void
test_alert_cases(void)
{
	RmInterval	b[10];
	RmSegment	now;
	RmObs		o[4];

	for (int d = 0; d < 10; d++)
	{
		b[d].start = d * DAY + 9 * H;
		b[d].end = d * DAY + 17 * H;
	}

	/* 10:00 and 11:00 active, then 12:00 inactive: down since 11:30 */
	o[0] = (RmObs)
	{
		10		   *H,
					true
	};
	o[1] = (RmObs)
	{
		11		   *H,
					true
	};
	o[2] = (RmObs)
	{
		12		   *H,
					false
	};
	check_i64("up by 11:00, 12:00 inactive: an alert", alert(b, 10, o, 3, 2,
															 &now), 1);
	check_i64("... down", now.state, RM_DOWN);
	check_i64("... since 11:30, halfway (§5.2)", now.start, 11 * H + 30 * MIN);
	check_i64("... decided by 12:00", now.decided_by, 12 * H);
	check_i64("... up to T", now.end, 12 * H + 1);
	check_i64("11:00 active after 10:00 active: nothing",
			  alert(b, 10, o, 2, 1, &now), 0);
	check_i64("12:00 inactive with no poll before: nothing",
			  alert(b, 10, o + 2, 1, 0, &now), 0);

	/* down at 20:00 (closed), then active at 09:30 the next day */
	o[2] = (RmObs)
	{
		12		   *H,
					false
	};
	o[3] = (RmObs)
	{
		DAY + 9 * H + 30 * MIN, true
	};
	check_i64("down by 12:00, next day 09:30 active: an alert",
			  alert(b, 10, o, 4, 3, &now), 1);
	check_i64("... up since the 09:00 opening", now.start, DAY + 9 * H);
	check_i64("... decided by 09:30", now.decided_by, DAY + 9 * H + 30 * MIN);
	o[3] = (RmObs)
	{
		20		   *H,
					true
	};
	check_i64("a poll in closed time: nothing", alert(b, 10, o, 4, 3, &now), 0);

	check_i64("rm_in_business at an opening", rm_in_business(b, 10, 9 * H), 1);
	check_i64("rm_in_business at a closing", rm_in_business(b, 10, 17 * H), 0);
	o[3] = (RmObs)
	{
		20		   *H,
					false
	};
	check_i64("rm_newest_evidence skips a poll in closed time",
			  rm_newest_evidence(b, 10, o, 4, DAY), 2);
	check_i64("rm_newest_evidence: none in the horizon (T - 192h, T]",
			  rm_newest_evidence(b, 10, o, 4, 12 * H + 192 * H), -1);
}

/* what alerts.c gives the core: the reduction its banner argues */
static bool
reduced_alert(const RmInterval *b, int nb, const RmObs *o, int n,
			  int nbefore, RmSegment *now)
{
	RmObs	   *r = malloc(sizeof(RmObs) * (n + 1));
	int			nr = 0;
	int			p;
	bool		raise;

	if (!rm_in_business(b, nb, o[n - 1].t))
	{
		free(r);
		return false;			/* alerts.c reads nothing more */
	}
	p = rm_newest_evidence(b, nb, o, nbefore, o[n - 1].t + 1);
	if (p < 0)
		p = nbefore - 1;
	if (p >= 0)
		r[nr++] = o[p];
	memcpy(r + nr, o + nbefore, sizeof(RmObs) * (n - nbefore));
	raise = alert(b, nb, r, nr + n - nbefore, nr, now);
	free(r);
	return raise;
}

/*
 * Property: on random stores (some open around the clock, some with short
 * hours and long closed nights full of polls, some with evidence older
 * than the week), the reduced alert is the whole horizon's: the same
 * decision, and the same state, since and decided_by.
 */
static void
test_alert_random(void)
{
	int			bad = 0;
	int			raised = 0;

	for (int iter = 0; iter < 2000; iter++)
	{
		RmInterval	b[64];
		RmObs		o[200];
		RmObs		h[200];
		int			nb = (int) (next_rand() % 20);
		int			no = 1 + (int) (next_rand() % 120);
		int64_t		jitter = next_rand() % 2 ? 1 : MIN;
		int64_t		t = 0;
		int			nh = 0;
		int			nbefore;
		int64_t		f;
		RmSegment	full;
		RmSegment	red;
		bool		a1;
		bool		a2;

		if (next_rand() % 4 == 0)
		{
			b[0].start = -400 * H;	/* around the clock */
			b[0].end = 400 * H;
			nb = 1;
		}
		else
			for (int i = 0; i < nb; i++)
			{
				int64_t		s = (int64_t) (next_rand() % (10 * 24)) * H;

				b[i].start = s + (int64_t) (next_rand() % 60) * jitter;
				b[i].end = b[i].start + (int64_t) (1 + next_rand() % 600) * MIN;
			}
		nb = rm_merge_intervals(b, nb);
		for (int i = 0; i < no; i++)
		{
			t += (int64_t) (1 + next_rand() % (i % 7 ? 120 : 3000)) * MIN +
				(int64_t) (next_rand() % 3) * jitter;
			o[i].t = t;
			o[i].active = next_rand() % 3 != 0;
		}
		/* the horizon as of T = t + 1, as the report's scan reads it */
		for (int i = 0; i < no; i++)
			if (o[i].t > t + 1 - RM_HORIZON)
				h[nh++] = o[i];
		/* the batch: from a random poll of the horizon on */
		f = h[(int) (next_rand() % nh)].t;
		for (nbefore = 0; h[nbefore].t < f; nbefore++)
			;
		a1 = alert(b, nb, h, nh, nbefore, &full);
		a2 = reduced_alert(b, nb, h, nh, nbefore, &red);
		raised += a1;
		if (a1 != a2 ||
			(a1 && (full.state != red.state || full.start != red.start ||
					full.end != red.end || full.decided != red.decided ||
					full.decided_by != red.decided_by)))
		{
			if (bad++ < 3)
				printf("# iteration %d: alert %d/%d state %d/%d since %"
					   PRId64 "/%" PRId64 "\n", iter, a1, a2, full.state,
					   red.state, full.start, red.start);
		}
	}
	check_i64("2000 random batches: the reduced polls give the whole "
			  "horizon's alert", bad, 0);
	printf("# %d of them raised an alert\n", raised);
	check_i64("and some raised one", raised > 100, 1);
}

void
test_alert(void)
{
	test_alert_cases();
	test_alert_random();
}
