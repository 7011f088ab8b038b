/*-------------------------------------------------------------------------
 *
 * src/alerts.c
 *	  State alerts (semantics §5.6): when polls recorded through the API
 *	  (record_polls.c) change a store's state at its newest poll -- down
 *	  where it was up, or up where it was down, inside business time --
 *	  NOTIFY restmon_store_state with a JSON payload
 *	    {"store_id", "state", "since", "decided_by"}
 *	  delivered when the recording transaction commits.
 *
 * The decision is the core's (rm_state_alert, core.c); this file gathers
 * its inputs while polls.c applies a chunk, store by store, from the one
 * read of the key that polls.c makes anyway to find duplicates
 * (the rows of the chunk not yet inserted; polls.c holds the lock that
 * keeps every other writer of the store out, so what it read and what it
 * inserts are all the store has when the chunk is applied):
 *
 *	1. before the chunk: its stores' zones and business hours
 *	   (alert_hours.c, cached across batches);
 *	2. its polls read (rm_alerts_read), in one pass of the key:
 *	   its business time over the horizon as of T = t + 1 us (schedule.c)
 *	   is computed first, t its newest poll in the chunk.  A store whose t
 *	   is outside business time is closed before and after: its read is
 *	   the duplicate check's.  For the others it goes on to the end of the
 *	   store (the store raises nothing when a later poll is stored: a late
 *	   poll changes the past, not the present), and takes the few polls
 *	   just before the chunk's on the same leaf page (rm_obs_read_back);
 *	3. its polls applied (rm_alerts_store): the polls from the first new
 *	   instant f to t, stored or just inserted, and before f the newest
 *	   evidence poll p (semantics §5.1), read further back only when none
 *	   is among those (then the rest of the horizon).
 *
 * Why these polls give the same alert as the whole horizon (the same
 * before, after, since and decided_by): every evidence poll older than p
 * is farther than p from every instant >= p, so leaving them out changes
 * no segment from p's own on (the nearest poll decides, semantics §5.2; a
 * tie goes to the earlier poll, which then is p or later), and the polls
 * between p and f are no evidence at all.  The state before is p's (the
 * newest evidence decides the end of the timeline); when the state after
 * differs from it, the run of that state reaching t cannot reach back
 * over the microsecond at p, which p decides, so it lies in what did not
 * change; and when p is older than the week (T - 168h) the whole timeline
 * is unchanged.  Without such a p the evidence is the polls from f on,
 * all read; the newest poll before f, not evidence, is kept so that "had
 * a poll in the horizon before" stays true.  test/unit/test_alert.c
 * checks this reduction against the whole horizon on random stores, and
 * test/alerts_window.sh the edges: p behind a night of closed-time polls,
 * p older than the week, and no evidence before f.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/async.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "alerts.h"
#include "restmon.h"
#include "store_scan.h"

#define RM_ALERT_CHANNEL	"restmon_store_state"

/* polls just before the chunk's read as well (before the fallback) */
#define RM_ALERT_BACK		4

static const char *const alert_state_names[] = {"closed", "up", "down"};

/* what a chunk's alerts keep: its stores' hours, and the store at hand */
struct RmAlerts
{
	text	  **ids;			/* the chunk's store ids, by rank */
	const RmStoreHours **hours; /* their zones and hours, by rank */
	MemoryContext storecxt;		/* the store at hand's, reset for the next */
	int			store;			/* the store at hand (-1: none) */
	bool		candidate;		/* its newest poll is in business time */
	TimestampTz last;			/* its newest poll in the chunk */
	TimestampTz lo;				/* its polls read: those after lo, */
	bool		back_done;		/* and all of its horizon before lo */
	RmInterval *business;		/* its business time as of last + 1 us */
	int			nbusiness;
};

/* append a timestamptz to buf as a JSON string, in UTC */
static void
append_instant(StringInfo buf, TimestampTz t)
{
	char		iso[MAXDATELEN + 1];
	int			utc = 0;

	appendStringInfo(buf, "\"%s\"",
					 JsonEncodeDateTime(iso, TimestampTzGetDatum(t),
										TIMESTAMPTZOID, &utc));
}

static void
notify_state(text *id, const RmSegment *now)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"store_id\": ");
	escape_json(&buf, text_to_cstring(id));
	appendStringInfo(&buf, ", \"state\": \"%s\", \"since\": ",
					 alert_state_names[now->state]);
	append_instant(&buf, now->start);
	appendStringInfoString(&buf, ", \"decided_by\": ");
	if (now->decided)
		append_instant(&buf, now->decided_by);
	else
		appendStringInfoString(&buf, "null");
	appendStringInfoChar(&buf, '}');
	Async_Notify(RM_ALERT_CHANNEL, buf.data);
}

/*
 * The chunk's stores ids[0..n), by rank, before their polls are applied
 * (inside SPI, the apply's snapshot active): their zones and hours.  NULL
 * when restmon.state_alerts is off.
 */
RmAlerts *
rm_alerts_begin(text **ids, int n)
{
	RmAlerts   *al;

	if (!restmon_state_alerts || n == 0)
		return NULL;
	al = palloc0(sizeof(RmAlerts));
	al->ids = ids;
	al->hours = palloc(sizeof(RmStoreHours *) * n);
	rm_alert_hours(ids, n, al->hours);
	al->storecxt = AllocSetContextCreate(CurrentMemoryContext,
										 "restmon alert store",
										 ALLOCSET_DEFAULT_SIZES);
	al->store = -1;
	return al;
}

/*
 * Read store's polls as polls.c needs them, those in [first, last] (its
 * oldest and newest poll in the chunk), into *polls (as rm_obs_read), with
 * what its alert needs besides when last is in business time (the
 * banner).  Only then can the store raise an alert: its newest new poll t
 * must be last, or a stored poll is later than t (last itself).
 */
int
rm_alerts_read(RmAlerts *al, RmObsTable *obs, int store, TimestampTz first,
			   TimestampTz last, RmObs **polls, int *cap)
{
	const RmStoreHours *h = al->hours[store];
	TimestampTz T = last + 1;
	MemoryContext oldcxt;
	Datum		id = PointerGetDatum(al->ids[store]);

	MemoryContextReset(al->storecxt);
	oldcxt = MemoryContextSwitchTo(al->storecxt);
	al->store = store;
	al->last = last;
	al->nbusiness = rm_expand_schedule(h->hours, h->nhours, h->tz,
									   T - RM_HORIZON, T + 1, &al->business);
	MemoryContextSwitchTo(oldcxt);
	al->candidate = rm_in_business(al->business, al->nbusiness, last);
	if (!al->candidate)
		return rm_obs_read(obs, id, first - 1, last, polls, cap);
	al->lo = first - 1;
	return rm_obs_read_back(obs, id, al->lo, DT_NOEND, T - RM_HORIZON,
							RM_ALERT_BACK, &al->back_done, polls, cap);
}

/*
 * The poll before f the alert starts from (semantics §5.1): the newest
 * evidence poll in the horizon before f, or else the newest poll there;
 * in[0..n) is what rm_alerts_read read of the store before f, in time
 * order.  False when there is none.
 */
static bool
poll_before(RmAlerts *al, RmObsTable *obs, const RmObs *in, int n,
			TimestampTz T, RmObs *before)
{
	TimestampTz from = T - RM_HORIZON;
	int			k = 0;
	int			e;
	RmObs	   *older = NULL;
	int			nolder = 0;
	int			cap = 64;

	while (k < n && in[k].t <= from)
		k++;
	e = rm_newest_evidence(al->business, al->nbusiness, in + k, n - k, T);
	if (e >= 0)
	{
		*before = in[k + e];
		return true;
	}
	/* none in what was read: the rest of the horizon, read too */
	if (!al->back_done && al->lo > from)
	{
		older = palloc(sizeof(RmObs) * cap);
		nolder = rm_obs_read(obs, PointerGetDatum(al->ids[al->store]), from,
							 al->lo, &older, &cap);
		e = rm_newest_evidence(al->business, al->nbusiness, older, nolder, T);
		if (e >= 0)
		{
			*before = older[e];
			return true;
		}
	}
	if (n > k)
		*before = in[n - 1];
	else if (nolder > 0)
		*before = older[nolder - 1];
	return n > k || nolder > 0;
}

/*
 * After store's polls are applied: stored[0..nstored) what was read of it
 * (before the chunk's rows were inserted, by rm_alerts_read), added[0..n)
 * the polls inserted, both in time order.  The core decides on the
 * banner's polls; the alert, if any, is sent.
 */
void
rm_alerts_store(RmAlerts *al, RmObsTable *obs, int store,
				const RmObs *stored, int nstored, const RmObs *added,
				int nadded)
{
	TimestampTz t;
	TimestampTz f;
	int			k = 0;
	int			nobs = 0;
	RmObs	   *o;
	RmSegment  *seg;
	RmSegment	now;
	bool		has_before;
	bool		raise;
	MemoryContext oldcxt;

	if (al == NULL || al->store != store || !al->candidate || nadded == 0)
		return;
	t = added[nadded - 1].t;
	f = added[0].t;
	if (t != al->last || (nstored > 0 && stored[nstored - 1].t > t))
		return;					/* a late poll changes the past only */
	oldcxt = MemoryContextSwitchTo(al->storecxt);
	while (k < nstored && stored[k].t < f)
		k++;
	o = palloc(sizeof(RmObs) * (nstored - k + nadded + 1));
	has_before = poll_before(al, obs, stored, k, t + 1, &o[0]);
	nobs = has_before ? 1 : 0;
	/* the polls from f to t: those stored, and those just added */
	for (int a = 0; k < nstored || a < nadded;)
	{
		if (a == nadded || (k < nstored && stored[k].t < added[a].t))
			o[nobs++] = stored[k++];
		else
			o[nobs++] = added[a++];
	}
	seg = palloc(sizeof(RmSegment) * RM_TIMELINE_MAX(al->nbusiness, nobs));
	rm_check_core_status(rm_state_alert(al->business, al->nbusiness, o, nobs,
										has_before ? 1 : 0, t + 1,
										palloc(sizeof(RmObs) * nobs),
										seg, &raise, &now),
						 VARDATA_ANY(al->ids[store]),
						 VARSIZE_ANY_EXHDR(al->ids[store]));
	if (raise)
		notify_state(al->ids[store], &now);
	MemoryContextSwitchTo(oldcxt);
}
