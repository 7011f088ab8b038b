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
 * its inputs, for all the stores of an applied chunk at once where it can:
 *
 *	1. one query, the chunk's store ids as an array parameter, reads their
 *	   zones and business hours: each store's business time over the
 *	   horizon as of T = t + 1 us (schedule.c), t its newest new poll.  A
 *	   store whose t is outside business time is closed before and after:
 *	   nothing more is read for it;
 *	2. for the others, the primary key of restmon.observation is read
 *	   backwards from the store's newest poll (no plan, no executor: as
 *	   observation.c reads it): the store raises nothing if that is not t
 *	   (a late poll changes the past, not the present); then the polls
 *	   from the batch's first new instant f to t; then, before f, back to
 *	   the newest evidence poll p (semantics §5.1), or the horizon's end.
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

#include "access/genam.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/tableam.h"
#include "access/visibilitymap.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "storage/bufmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "ingest_int.h"
#include "observation.h"
#include "restmon.h"
#include "schedule.h"
#include "store_scan.h"

#define RM_ALERT_CHANNEL	"restmon_store_state"

/* rows of the zones and hours query fetched at once */
#define RM_ALERT_FETCH		500

static const char *const alert_state_names[] = {"closed", "up", "down"};

/* one store of the chunk */
typedef struct RmAlertStore
{
	text	   *id;
	TimestampTz first;			/* its first new instant */
	TimestampTz t;				/* its newest new poll */
	char	   *zone;
	RmHoursRow *hours;
	int			nhours;
	int			hours_cap;
	RmInterval *business;
	int			nbusiness;
	RmObs		before;			/* the poll before first it needs */
	bool		has_before;
	RmObs	   *batch;			/* polls from first to t, newest first */
	int			nbatch;
	int			batch_cap;
} RmAlertStore;

static SPIPlanPtr inputs_plan = NULL;

static SPIPlanPtr
kept_plan(SPIPlanPtr *plan, const char *sql, int nargs, Oid *types)
{
	if (*plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare_cursor(sql, nargs, types,
										   CURSOR_OPT_GENERIC_PLAN);

		if (p == NULL || SPI_keepplan(p) != 0)
			elog(ERROR, "SPI_prepare failed: %s",
				 SPI_result_code_string(SPI_result));
		*plan = p;
	}
	return *plan;
}

static void
push_obs(RmObs **arr, int *n, int *cap, TimestampTz t, bool active)
{
	if (*n == *cap)
	{
		*cap = Max(8, *cap * 2);
		*arr = *arr ? repalloc(*arr, sizeof(RmObs) * *cap) :
			palloc(sizeof(RmObs) * *cap);
	}
	(*arr)[*n].t = t;
	(*arr)[*n].active = active;
	(*n)++;
}

/* the row's 1-based ordinality (column 1) as an index of s[0..n) */
static int
row_store(HeapTuple tup, TupleDesc desc, int n)
{
	bool		isnull;
	int64		i = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));

	if (isnull || i < 1 || i > n)
		elog(ERROR, "restmon: bad store ordinality in the alert check");
	return (int) (i - 1);
}

/* a row of read_inputs: a store's zone, and one of its hours rows */
static void
add_hours_row(RmAlertStore *s, int n, HeapTuple tup, TupleDesc desc)
{
	RmAlertStore *a = &s[row_store(tup, desc, n)];
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, 2, &isnull);

	if (!isnull && a->zone == NULL)
		a->zone = TextDatumGetCString(d);
	d = SPI_getbinval(tup, desc, 3, &isnull);
	if (isnull)
		return;					/* no hours: open around the clock */
	if (a->nhours == a->hours_cap)
	{
		a->hours_cap = Max(8, a->hours_cap * 2);
		a->hours = a->hours ?
			repalloc(a->hours, sizeof(RmHoursRow) * a->hours_cap) :
			palloc(sizeof(RmHoursRow) * a->hours_cap);
	}
	a->hours[a->nhours].day = DatumGetInt16(d);
	a->hours[a->nhours].start =
		DatumGetTimeADT(SPI_getbinval(tup, desc, 4, &isnull));
	a->hours[a->nhours].end =
		DatumGetTimeADT(SPI_getbinval(tup, desc, 5, &isnull));
	a->nhours++;
}

/* the zone and business hours of the stores s[0..n), in one query */
static void
read_inputs(RmAlertStore *s, int n)
{
	Datum	   *ids = palloc(sizeof(Datum) * n);
	Datum		args[1];
	Oid			types[1] = {TEXTARRAYOID};
	SPIPlanPtr	plan;
	Portal		portal;

	for (int i = 0; i < n; i++)
		ids[i] = PointerGetDatum(s[i].id);
	args[0] = rm_make_array(ids, n, TEXTOID);
	plan = kept_plan(&inputs_plan,
					 "SELECT u.i, z.timezone, h.day_of_week, h.start_local,"
					 "  h.end_local"
					 " FROM pg_catalog.unnest($1) WITH ORDINALITY u(store_id, i)"
					 " LEFT JOIN restmon.store_timezone z"
					 "  ON z.store_id = u.store_id"
					 " LEFT JOIN restmon.business_hours h"
					 "  ON h.store_id = u.store_id",
					 1, types);
	portal = SPI_cursor_open(NULL, plan, args, NULL, true);
	do
	{
		/* a few rows at a time: the same memory serves every fetch */
		SPI_cursor_fetch(portal, true, RM_ALERT_FETCH);
		for (uint64 r = 0; r < SPI_processed; r++)
			add_hours_row(s, n, SPI_tuptable->vals[r], SPI_tuptable->tupdesc);
		SPI_freetuptable(SPI_tuptable);
	} while (SPI_processed > 0);
	SPI_cursor_close(portal);
}

/*
 * The polls a store's alert needs (the banner says why they suffice),
 * read backwards through the primary key from the store's newest poll:
 * false when that is not a->t.  Leaves in a->batch the polls from
 * a->first to a->t, newest first, and in a->before (a->has_before) the
 * newest evidence poll before a->first, or else the newest poll before
 * it, if any.  The visibility checks are rm_obs_read's (observation.c).
 */
/* a backward scan of the primary key of restmon.observation (o) */
typedef struct RmRecentScan
{
	RmObsTable *o;
	IndexScanDesc scan;			/* opened by the first read */
	ScanKeyData keys[3];		/* store_id = , observed_at > , <= */
	TupleTableSlot *slot;		/* visibility checks on the heap */
	Buffer		vmbuffer;
} RmRecentScan;

static void
recent_open(RmRecentScan *r, RmObsTable *o)
{
	memset(r, 0, sizeof(*r));
	r->o = o;
	r->vmbuffer = InvalidBuffer;
	ScanKeyInit(&r->keys[0], 1, BTEqualStrategyNumber, F_TEXTEQ, (Datum) 0);
	ScanKeyInit(&r->keys[1], 2, BTGreaterStrategyNumber, F_TIMESTAMPTZ_GT,
				(Datum) 0);
	ScanKeyInit(&r->keys[2], 2, BTLessEqualStrategyNumber, F_TIMESTAMPTZ_LE,
				(Datum) 0);
}

static void
recent_close(RmRecentScan *r)
{
	if (r->scan != NULL)
		index_endscan(r->scan);
	if (r->slot != NULL)
		ExecDropSingleTupleTableSlot(r->slot);
	if (BufferIsValid(r->vmbuffer))
		ReleaseBuffer(r->vmbuffer);
}

static bool
read_recent(RmRecentScan *r, RmAlertStore *a)
{
	RmObsTable *o = r->o;
	TimestampTz T = a->t + 1;
	ItemPointer tid;
	bool		newest = true;
	MemoryContext oldcxt = MemoryContextSwitchTo(o->cxt);

	if (r->scan == NULL)
	{
		r->scan = index_beginscan(o->heap, o->index, GetActiveSnapshot(),
								  3, 0);
		r->scan->xs_want_itup = true;
		r->slot = table_slot_create(o->heap, NULL);
	}
	r->keys[0].sk_argument = PointerGetDatum(a->id);
	r->keys[1].sk_argument = TimestampTzGetDatum(T - RM_HORIZON);
	r->keys[2].sk_argument = TimestampTzGetDatum(DT_NOEND);
	index_rescan(r->scan, r->keys, 3, NULL, 0);
	MemoryContextSwitchTo(oldcxt);

	while ((tid = index_getnext_tid(r->scan, BackwardScanDirection)) != NULL)
	{
		Datum		values[3];
		bool		nulls[3];
		RmObs		poll;

		if (!VM_ALL_VISIBLE(o->heap, ItemPointerGetBlockNumber(tid),
							&r->vmbuffer))
		{
			if (!index_fetch_heap(r->scan, r->slot))
				continue;		/* not visible to this snapshot */
			ExecClearTuple(r->slot);
			if (r->scan->xs_heap_continue)
				elog(ERROR, "non-MVCC snapshots are not supported");
		}
		if (r->scan->xs_itup == NULL || r->scan->xs_recheck)
			elog(ERROR, "the primary key of restmon.observation cannot return its values");
		index_deform_tuple(r->scan->xs_itup, r->scan->xs_itupdesc, values,
						   nulls);
		poll.t = DatumGetTimestampTz(values[1]);
		poll.active = DatumGetBool(values[2]);
		if (a->nbatch == 0 && poll.t != a->t)
		{
			newest = false;		/* a later poll is stored */
			break;
		}
		if (poll.t >= a->first)
			push_obs(&a->batch, &a->nbatch, &a->batch_cap, poll.t,
					 poll.active);
		else
		{
			bool		evidence = rm_newest_evidence(a->business,
													  a->nbusiness,
													  &poll, 1, T) == 0;

			if (!a->has_before || evidence)
				a->before = poll;
			a->has_before = true;
			if (evidence)
				break;
		}
	}
	return newest && a->nbatch > 0;
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
 * One store whose newest poll t is in business time: its polls read, the
 * core decides on them, and the alert is sent.
 */
static void
store_alert(RmRecentScan *r, RmAlertStore *a)
{
	int			nobs = 0;
	RmObs	   *obs;
	RmSegment  *seg;
	RmSegment	now;
	bool		raise;

	if (!read_recent(r, a))
		return;					/* a late poll changes the past only */
	obs = palloc(sizeof(RmObs) * (a->nbatch + 1));
	if (a->has_before)
		obs[nobs++] = a->before;
	for (int k = a->nbatch - 1; k >= 0; k--)
		obs[nobs++] = a->batch[k];
	seg = palloc(sizeof(RmSegment) * RM_TIMELINE_MAX(a->nbusiness, nobs));
	rm_check_core_status(rm_state_alert(a->business, a->nbusiness, obs, nobs,
										a->has_before ? 1 : 0, a->t + 1,
										palloc(sizeof(RmObs) * nobs),
										seg, &raise, &now),
						 VARDATA_ANY(a->id), VARSIZE_ANY_EXHDR(a->id));
	if (raise)
		notify_state(a->id, &now);
}

/* the alerts of the stores s[0..n) of an applied chunk, in order */
static void
chunk_alerts(RmAlertStore *s, int n)
{
	RmObsTable	o;
	RmRecentScan r;
	MemoryContext storecxt;

	read_inputs(s, n);
	rm_obs_open(&o, AccessShareLock, ACL_SELECT);
	recent_open(&r, &o);
	/* a store's memory is reused by the next: no growth, no page faults */
	storecxt = AllocSetContextCreate(CurrentMemoryContext,
									 "restmon alert store",
									 ALLOCSET_DEFAULT_SIZES);
	for (int i = 0; i < n; i++)
	{
		RmAlertStore *a = &s[i];
		MemoryContext oldcxt = MemoryContextSwitchTo(storecxt);

		CHECK_FOR_INTERRUPTS();
		a->nbusiness = rm_expand_schedule(a->hours, a->nhours,
										  rm_lookup_zone(a->zone),
										  a->t + 1 - RM_HORIZON, a->t + 2,
										  &a->business);
		if (rm_in_business(a->business, a->nbusiness, a->t))
			store_alert(&r, a);
		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(storecxt);
	}
	recent_close(&r);
	rm_obs_close(&o);
}

/*
 * RmIngest.applied_hook of API batches: store_ids[i] got new polls from
 * firsts[i] to lasts[i] (inside SPI, the chunk just applied).  Alerts go
 * out in the order of store_ids.
 */
void
rm_state_alerts(RmIngest *st, Datum *store_ids, Datum *firsts,
				Datum *lasts, int n)
{
	MemoryContext cxt;
	MemoryContext oldcxt;
	RmAlertStore *s;

	if (!restmon_state_alerts || n == 0)
		return;
	cxt = AllocSetContextCreate(CurrentMemoryContext, "restmon alerts",
								ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(cxt);
	s = palloc0(sizeof(RmAlertStore) * n);
	for (int i = 0; i < n; i++)
	{
		s[i].id = DatumGetTextPP(store_ids[i]);
		s[i].first = DatumGetTimestampTz(firsts[i]);
		s[i].t = DatumGetTimestampTz(lasts[i]);
	}

	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	chunk_alerts(s, n);
	PopActiveSnapshot();
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(cxt);
}
