/*-------------------------------------------------------------------------
 *
 * src/timeline.c
 *	  What happened to a store (semantics §5.5): restmon_store_timeline(),
 *	  the week [T - 168h, T) as closed, up and down segments, and
 *	  restmon_incidents(), the down runs of the week across stores.
 *
 * Both take their inputs from the report's own ordered pass over the
 * stores (store_scan.h: the same stores, business time and evidence
 * horizon as restmon_store_uptime) and their segments from the core's
 * rm_timeline, which walks the pieces rm_compute sums: the rule lives in
 * core.c only.  Here are only the SQL boundary (defaults, lookups, errors)
 * and the shaping of rows: instants shown in microseconds
 * (rm_timeline_usecs), incidents filtered and ordered by business time
 * lost.  The incidents of every store are computed range by range
 * (rm_incidents_range), by several processes as a full report is
 * (report_parallel.c); the ranges reach incidents_put in store-id byte
 * order, whatever the number of processes, so the final sort, whose ties
 * go by store and start, gives the same rows in the same order.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "coordinator.h"
#include "report_parallel.h"
#include "restmon.h"
#include "store_scan.h"

PG_FUNCTION_INFO_V1(restmon_store_timeline);
PG_FUNCTION_INFO_V1(restmon_incidents);

#define RM_TIMELINE_COLS	4
#define RM_INCIDENT_COLS	6

static const char *const state_names[] = {"closed", "up", "down"};

/*
 * The timeline of the store the scan is at, shown in microseconds.
 * Allocates in the current (per-store) context.
 */
static int
store_segments(RmUptimeScan *s, RmSegment **seg)
{
	RmStoreInputs in;
	int			n;

	rm_scan_inputs(s, &in);
	*seg = palloc(sizeof(RmSegment) *
				  RM_TIMELINE_MAX(in.nbusiness, in.npolls));
	rm_check_core_status(rm_timeline(in.business, in.nbusiness, in.polls,
									 in.npolls, s->T, in.scratch, *seg, &n),
						 s->stores.key, s->stores.keylen);
	return rm_timeline_usecs(*seg, n);
}

/* the store_id argument: not NULL, a store id (semantics §1.8) */
static text *
store_id_arg(FunctionCallInfo fcinfo, int argno)
{
	text	   *store;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("store_id must not be null")));
	store = PG_GETARG_TEXT_PP(argno);
	rm_check_store_id(store);
	return store;
}

/*
 * restmon_store_timeline(store_id text, as_of timestamptz DEFAULT NULL):
 * rows exactly when the report as of T has a row for the store (semantics
 * §6.1); a store no source names is P0002.
 */
Datum
restmon_store_timeline(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	text	   *store = store_id_arg(fcinfo, 0);
	RmUptimeScan s;

	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	if (!rm_store_known(store))
		rm_error_unknown_store(store);
	(void) rm_resolve_as_of(fcinfo, 1, store, &s.T);
	if (rm_coordinator_active())
	{
		/* the partition that owns the store computes it */
		Datum		args[2] = {PointerGetDatum(store), TimestampTzGetDatum(s.T)};
		Oid			types[2] = {TEXTOID, TIMESTAMPTZOID};

		rm_coordinator_srf(fcinfo,
						   "SELECT * FROM restmon_coordinator.store_timeline($1, $2)",
						   2, types, args, NULL);
		SPI_finish();
		return (Datum) 0;
	}
	rm_scan_open(&s, store);

	if (s.stores.tuple != NULL)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(s.storecxt);
		RmSegment  *seg;
		int			n = store_segments(&s, &seg);

		for (int i = 0; i < n; i++)
		{
			Datum		values[RM_TIMELINE_COLS];
			bool		nulls[RM_TIMELINE_COLS] = {0};

			values[0] = TimestampTzGetDatum(seg[i].start);
			values[1] = TimestampTzGetDatum(seg[i].end);
			values[2] = CStringGetTextDatum(state_names[seg[i].state]);
			values[3] = TimestampTzGetDatum(seg[i].decided_by);
			nulls[3] = !seg[i].decided;
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
								 values, nulls);
		}
		MemoryContextSwitchTo(oldcxt);
	}
	rm_scan_close(&s);
	SPI_finish();
	return (Datum) 0;
}

/* one incident of the output, before ordering */
typedef struct RmStoreIncident
{
	RmIncident	inc;
	int			store;			/* index in the store ids kept */
} RmStoreIncident;

/* the incidents gathered over the scan */
typedef struct RmIncidentList
{
	MemoryContext cxt;			/* lives until the rows are emitted */
	RmStoreIncident *items;
	int			n;
	int			cap;
	text	  **stores;			/* ids of the stores with incidents, in byte
								 * order */
	int			nstores;
	int			capstores;
} RmIncidentList;

/*
 * an interval of usecs microseconds, as timestamptz - timestamptz gives,
 * in *iv (a row's values are copied out of it: no allocation per row)
 */
static Datum
usecs_interval(int64 usecs, Interval *iv)
{
	iv->month = 0;
	iv->day = (int32) (usecs / USECS_PER_DAY);
	iv->time = usecs % USECS_PER_DAY;
	return IntervalPGetDatum(iv);
}

/*
 * A store's incidents (len bytes of RmIncident, not aligned) into the
 * list: its id gets the next index, the order of the pass (byte order)
 */
static void
incidents_put(void *arg, const char *key, int keylen, const void *data,
			  int len)
{
	RmIncidentList *l = (RmIncidentList *) arg;
	int			ninc = len / (int) sizeof(RmIncident);
	MemoryContext oldcxt = MemoryContextSwitchTo(l->cxt);

	if (l->nstores == l->capstores)
	{
		l->capstores *= 2;
		l->stores = repalloc(l->stores, sizeof(text *) * l->capstores);
	}
	l->stores[l->nstores++] = cstring_to_text_with_len(key, keylen);
	for (int i = 0; i < ninc; i++)
	{
		if (l->n == l->cap)
		{
			l->cap *= 2;
			l->items = repalloc_huge(l->items,
									 sizeof(RmStoreIncident) * l->cap);
		}
		memcpy(&l->items[l->n].inc, (const char *) data +
			   (Size) i * sizeof(RmIncident), sizeof(RmIncident));
		l->items[l->n].store = l->nstores - 1;
		l->n++;
	}
	MemoryContextSwitchTo(oldcxt);
}

/*
 * Every store of the scan: its incidents of business time >= min_duration
 * handed to emit (stores without any skipped), in byte order; then closes
 * the scan
 */
static void
scan_incidents(RmUptimeScan *s, const Interval *min_duration,
			   RmRangeEmit emit, void *arg)
{
	while (s->stores.tuple != NULL)
	{
		MemoryContext oldcxt;
		RmSegment  *seg;
		RmIncident *inc;
		int			n;
		int			kept = 0;

		CHECK_FOR_INTERRUPTS();
		oldcxt = MemoryContextSwitchTo(s->storecxt);
		n = store_segments(s, &seg);
		inc = palloc(sizeof(RmIncident) * Max(n, 1));
		n = rm_incidents(seg, n, inc);
		for (int i = 0; i < n; i++)
		{
			Interval	iv;

			/* the comparison of SQL's interval >= */
			if (DatumGetBool(DirectFunctionCall2(interval_ge,
												 usecs_interval(inc[i].business, &iv),
												 IntervalPGetDatum(min_duration))))
				inc[kept++] = inc[i];
		}
		if (kept > 0)
			emit(arg, s->stores.key, s->stores.keylen, inc,
				 kept * (int) sizeof(RmIncident));
		MemoryContextSwitchTo(oldcxt);
		rm_scan_next(s);
	}
	rm_scan_close(s);
}

/*
 * The incidents of the stores of [lo, hi) (NULL: unbounded) as of T, in
 * byte order, handed to emit: one range of a parallel pass
 * (report_parallel.c), or the whole serial one.  Inside SPI.
 */
void
rm_incidents_range(TimestampTz T, text *lo, text *hi,
				   const Interval *min_duration, RmRangeEmit emit, void *arg)
{
	RmUptimeScan s;

	s.T = T;
	rm_scan_open_range(&s, lo, hi);
	scan_incidents(&s, min_duration, emit, arg);
}

/*
 * The incidents of every store as of T, in byte order, handed to emit: by
 * several processes (restmon.report_workers) or by this one.  Inside SPI.
 */
void
rm_incidents_all(TimestampTz T, const Interval *min_duration,
				 RmRangeEmit emit, void *arg)
{
	RmParallelPass pass = {.kind = RM_PASS_INCIDENTS,.T = T,
	.min_duration = min_duration};

	if (!rm_parallel_pass(&pass, emit, arg))
		rm_incidents_range(T, NULL, NULL, min_duration, emit, arg);
}

/*
 * business time lost, most first; then store_id in byte order (the order
 * of the scan) and start
 */
static inline int
incident_cmp(const RmStoreIncident *x, const RmStoreIncident *y)
{
	if (x->inc.business != y->inc.business)
		return x->inc.business > y->inc.business ? -1 : 1;
	if (x->store != y->store)
		return x->store < y->store ? -1 : 1;
	if (x->inc.start != y->inc.start)
		return x->inc.start < y->inc.start ? -1 : 1;
	return 0;
}

/* incident_sort(): qsort's algorithm with incident_cmp inlined */
#define ST_SORT incident_sort
#define ST_ELEMENT_TYPE RmStoreIncident
#define ST_COMPARE(a, b) incident_cmp(a, b)
#define ST_SCOPE static
#define ST_DECLARE
#define ST_DEFINE
#include "lib/sort_template.h"

static void
put_incidents(ReturnSetInfo *rsinfo, RmIncidentList *l)
{
	incident_sort(l->items, l->n);
	for (int i = 0; i < l->n; i++)
	{
		const RmIncident *inc = &l->items[i].inc;
		Datum		values[RM_INCIDENT_COLS];
		bool		nulls[RM_INCIDENT_COLS] = {0};
		Interval	duration;
		Interval	business;

		values[0] = PointerGetDatum(l->stores[l->items[i].store]);
		values[1] = TimestampTzGetDatum(inc->start);
		values[2] = TimestampTzGetDatum(inc->end);
		values[3] = usecs_interval(inc->end - inc->start, &duration);
		values[4] = usecs_interval(inc->business, &business);
		values[5] = BoolGetDatum(inc->open_at_end);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
							 values, nulls);
	}
}

/*
 * restmon_incidents(as_of timestamptz DEFAULT NULL,
 *					 min_duration interval DEFAULT '0',
 *					 store_id text DEFAULT NULL)
 */
Datum
restmon_incidents(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	text	   *only = PG_ARGISNULL(2) ? NULL : store_id_arg(fcinfo, 2);
	Interval	zero;
	Datum		min_duration = PG_ARGISNULL(1) ?
	usecs_interval(0, &zero) : PG_GETARG_DATUM(1);
	RmUptimeScan s;
	RmIncidentList l = {0};
	const Interval *mind = DatumGetIntervalP(min_duration);

	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	if (only != NULL && !rm_store_known(only))
		rm_error_unknown_store(only);
	if (!rm_resolve_as_of(fcinfo, 0, only, &s.T))
	{
		SPI_finish();
		return (Datum) 0;
	}
	if (only != NULL && rm_coordinator_active())
	{
		/* the partition that owns the store computes them */
		Datum		args[3] = {TimestampTzGetDatum(s.T), min_duration,
		PointerGetDatum(only)};
		Oid			types[3] = {TIMESTAMPTZOID, INTERVALOID, TEXTOID};

		rm_coordinator_srf(fcinfo,
						   "SELECT * FROM restmon_coordinator.part_incidents($1, $2, $3)",
						   3, types, args, NULL);
		SPI_finish();
		return (Datum) 0;
	}
	l.cxt = AllocSetContextCreate(CurrentMemoryContext, "restmon incidents",
								  ALLOCSET_DEFAULT_SIZES);
	l.cap = l.capstores = 1024;
	l.items = MemoryContextAlloc(l.cxt, sizeof(RmStoreIncident) * l.cap);
	l.stores = MemoryContextAlloc(l.cxt, sizeof(text *) * l.capstores);
	if (only != NULL)
	{
		rm_scan_open(&s, only);
		scan_incidents(&s, mind, incidents_put, &l);
	}
	else if (rm_coordinator_active())	/* every partition's (gather.c) */
		rm_coordinator_gather(RM_PASS_INCIDENTS, s.T, mind,
							  incidents_put, &l);
	else
		rm_incidents_all(s.T, mind, incidents_put, &l);
	put_incidents(rsinfo, &l);

	MemoryContextDelete(l.cxt);
	SPI_finish();
	return (Datum) 0;
}
