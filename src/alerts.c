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
 * The states come from the core's timeline (rm_timeline), never from a
 * rule of this file: for each store that got polls, with t its newest new
 * poll, the report's scan (store_scan.h) gives the store's inputs as of
 * t + 1 us; the timeline of those inputs ends with the state at t "after",
 * and the timeline of the same inputs without the polls at or after the
 * batch's first new instant ends with the state at t "before".  The
 * alert's since is where the run of segments in the new state that reaches
 * t begins, decided_by the poll that decided its first segment.  A store
 * raises nothing when t is not its newest poll (a late poll does not
 * change the present), when t is outside business time (closed before and
 * after), or when it had no poll in the week before (no earlier state to
 * leave).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "ingest_int.h"
#include "store_scan.h"

#define RM_ALERT_CHANNEL	"restmon_store_state"

static const char *const alert_state_names[] = {"closed", "up", "down"};

/*
 * The state at the end of the timeline of the first npolls of in, as
 * shown: the run of segments in that state reaching T, from its first
 * segment's start, with the poll that decided that first segment.
 */
static RmSegment
state_at_end(const RmStoreInputs *in, int npolls, TimestampTz T,
			 const char *key, int keylen)
{
	RmSegment  *seg = palloc(sizeof(RmSegment) *
							 RM_TIMELINE_MAX(in->nbusiness, npolls));
	RmSegment	run;
	int			n;
	int			first;

	rm_check_core_status(rm_timeline(in->business, in->nbusiness, in->polls,
									 npolls, T, in->scratch, seg, &n),
						 key, keylen);
	n = rm_timeline_usecs(seg, n);
	Assert(n > 0);
	first = n - 1;
	while (first > 0 && seg[first - 1].state == seg[n - 1].state)
		first--;
	run = seg[first];
	run.end = seg[n - 1].end;
	return run;
}

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
notify_state(const char *key, int keylen, const RmSegment *now)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"store_id\": ");
	escape_json(&buf, pnstrdup(key, keylen));
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

/* whether newest is the store's newest poll (restmon.store, just tracked) */
static bool
is_newest(text *store, TimestampTz newest)
{
	Oid			types[2] = {TEXTOID, TIMESTAMPTZOID};
	Datum		args[2] = {PointerGetDatum(store), TimestampTzGetDatum(newest)};
	bool		found;

	if (SPI_execute_with_args("SELECT FROM restmon.store"
							  " WHERE store_id = $1 AND last_observed_at = $2",
							  2, types, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "restmon: could not read restmon.store");
	found = SPI_processed == 1;
	SPI_freetuptable(SPI_tuptable); /* it lives in the alerts' context */
	return found;
}

/* compare one store's state at its newest poll before and after */
static void
store_alert(text *store, TimestampTz first, TimestampTz newest)
{
	RmUptimeScan s;

	if (!is_newest(store, newest))
		return;
	s.T = newest + 1;
	rm_scan_open(&s, store);
	if (s.stores.tuple != NULL)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(s.storecxt);
		RmStoreInputs in;
		int			nbefore = 0;

		rm_scan_inputs(&s, &in);
		while (nbefore < in.npolls && in.polls[nbefore].t < first)
			nbefore++;
		if (nbefore > 0 && nbefore < in.npolls)
		{
			RmSegment	before = state_at_end(&in, nbefore, s.T,
											  s.stores.key, s.stores.keylen);
			RmSegment	after = state_at_end(&in, in.npolls, s.T,
											 s.stores.key, s.stores.keylen);

			if (after.state != RM_CLOSED && after.state != before.state)
				notify_state(s.stores.key, s.stores.keylen, &after);
		}
		MemoryContextSwitchTo(oldcxt);
	}
	rm_scan_close(&s);
}

/*
 * RmIngest.applied_hook of API batches: store_ids[i] got new polls from
 * firsts[i] to lasts[i] (inside SPI, the chunk just applied).
 */
void
rm_state_alerts(RmIngest *st, Datum *store_ids, Datum *firsts,
				Datum *lasts, int n)
{
	MemoryContext cxt;
	MemoryContext oldcxt;

	if (!restmon_state_alerts)
		return;
	cxt = AllocSetContextCreate(CurrentMemoryContext, "restmon alerts",
								ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(cxt);

	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	for (int i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		store_alert(DatumGetTextPP(store_ids[i]),
					DatumGetTimestampTz(firsts[i]),
					DatumGetTimestampTz(lasts[i]));
	}
	PopActiveSnapshot();
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(cxt);
}
