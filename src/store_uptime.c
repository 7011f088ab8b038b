/*-------------------------------------------------------------------------
 *
 * src/store_uptime.c
 *	  The synchronous report: restmon_store_uptime() (semantics §4-6), the
 *	  one implementation of the figures, which asynchronous reports
 *	  (report_*.c) call too; restmon_business_intervals() and
 *	  restmon_default_as_of(); the range of a report instant
 *	  (rm_check_instant, semantics §4); and the store lookups of restmon.h.
 *
 * restmon_store_uptime reads everything in one ordered pass (store_scan.h,
 * shared with the timeline and the incidents of timeline.c): the stores seen
 * at or before T, their zones and the business hours, each read through its
 * store_id index in byte order (store_reader.c), merged store by store; and
 * for each store the
 * observations of its evidence horizon (T - 192h, T], read straight from the
 * key of restmon.observation, one index range per week (observation_weeks.c).
 * Per store it expands the schedule (schedule.c), runs the core (core.c)
 * and emits one row; all per-store memory lives in a context reset for
 * every store, so memory does not grow with the number of stores, and cost
 * depends on the rows of the horizon, not on the history kept.  A full
 * report may instead be cut into ranges of stores computed by several
 * processes (report_parallel.c), each with rm_uptime_range(), this same
 * pass bounded to its range.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/nbtree.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "coordinator.h"
#include "observation.h"
#include "report_parallel.h"
#include "restmon.h"
#include "schedule.h"
#include "store_scan.h"

PG_FUNCTION_INFO_V1(restmon_store_uptime);
PG_FUNCTION_INFO_V1(restmon_business_intervals);
PG_FUNCTION_INFO_V1(restmon_default_as_of);

/* a time zone a scan met: its name (none: NULL, the default) */
#define RM_SCAN_ZONES	32

typedef struct RmScanZone
{
	bool		isnull;
	int			len;
	char		name[TZ_STRLEN_MAX + 1];
	pg_tz	   *tz;
} RmScanZone;

/* the columns of restmon.business_hours that rm_read_hours() takes */
static const char *const hours_cols[] = {"store_id", "day_of_week",
"start_local", "end_local"};

void
rm_check_core_status(RmStatus status, const char *key, int len)
{
	if (status != RM_OK)
		elog(ERROR, "extrapolation core failed with status %d for store \"%.*s\"",
			 (int) status, len, key);
}

/*
 * semantics §4: the latest poll stored; false when there is none.  Inside
 * SPI.
 */
bool
rm_default_as_of(TimestampTz *T)
{
	bool		isnull;
	Datum		d;

	if (rm_coordinator_active())
		return rm_coordinator_default_as_of(T);
	if (SPI_execute("SELECT pg_catalog.max(last_observed_at) FROM restmon.store",
					true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the latest observation");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
		*T = DatumGetTimestampTz(d);
	SPI_freetuptable(SPI_tuptable);
	return !isnull;
}

bool
rm_store_known(text *store)
{
	Datum		args[1] = {PointerGetDatum(store)};
	Oid			types[1] = {TEXTOID};
	bool		isnull;
	bool		known;

	if (rm_coordinator_active())
		return rm_coordinator_store_known(store);
	if (SPI_execute_with_args("SELECT EXISTS (SELECT FROM restmon.store WHERE store_id = $1)"
							  " OR EXISTS (SELECT FROM restmon.business_hours WHERE store_id = $1)"
							  " OR EXISTS (SELECT FROM restmon.store_timezone WHERE store_id = $1)",
							  1, types, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up a store");
	known = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
									   SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return known;
}

/* the error for a store no source knows (semantics §6) */
void
rm_error_unknown_store(text *store)
{
	ereport(ERROR,
			(errcode(ERRCODE_NO_DATA_FOUND),
			 errmsg("store \"%s\" is unknown", text_to_cstring(store)),
			 errdetail("No status poll, business hours or time zone names it.")));
}

static Datum
hundredths_numeric(int64 measure2, int64 unit_usecs)
{
	int64		hundredths = rm_round_hundredths(measure2, unit_usecs);

	return NumericGetDatum(int64_div_fast_to_numeric(hundredths, 2));
}

/*
 * semantics §4: a report instant must be a finite instant of the years
 * 1 to 9999 (UTC).  Anything else (infinity, year 100000, 294276-12-31) is
 * a clean 22008 here, at the SQL boundary, and never reaches the core's
 * own range check.  what names the parameter in the message.
 */
void
rm_check_instant(TimestampTz t, const char *what)
{
	TimestampTz lo = (TimestampTz) (date2j(1, 1, 1) -
									POSTGRES_EPOCH_JDATE) * USECS_PER_DAY;
	TimestampTz hi = (TimestampTz) (date2j(10000, 1, 1) -
									POSTGRES_EPOCH_JDATE) * USECS_PER_DAY;

	if (TIMESTAMP_NOT_FINITE(t) || t < lo || t >= hi)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("%s is out of range", what),
				 errdetail("A report instant lies in the years 1 to 9999 (UTC).")));
}

/*
 * The report instant T (semantics §4): as_of (argument argno), or the
 * latest poll stored.  False for a full report when no poll is stored: the
 * report is empty.
 */
bool
rm_resolve_as_of(FunctionCallInfo fcinfo, int argno, text *only,
				 TimestampTz *T)
{
	if (!PG_ARGISNULL(argno))
		*T = PG_GETARG_TIMESTAMPTZ(argno);
	else if (!rm_default_as_of(T))
	{
		if (only != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("no status polls are stored, so there is no default report instant"),
					 errhint("Pass as_of, or ingest status polls first.")));
		return false;
	}
	rm_check_instant(*T, "as_of");
	return true;
}

/*
 * open the two ordered readers and the observation table, as of s->T; lo
 * and hi, when not NULL, bound the stores to [lo, hi) in byte order (a
 * range of a parallel report, report_parallel.c)
 */
static void
open_scan(RmUptimeScan *s, text *only, text *lo, text *hi)
{
	static const char *const store_cols[] = {"store_id", "first_observed_at"};
	static const char *const zone_cols[] = {"store_id", "timezone"};

	/*
	 * the stores of semantics §6.1: those with a poll at or before T; a
	 * single-store report is that store's row of the full report, so none
	 * when its first poll is after T
	 */
	rm_keyed_open(&s->stores, "store", store_cols, 2, only, lo, hi, &s->T);
	rm_keyed_open(&s->zones, "store_timezone", zone_cols, 2, only, lo, hi, NULL);
	rm_keyed_open(&s->hours, "business_hours", hours_cols, 4, only, lo, hi,
				  NULL);
	s->nzones = 0;
	s->zones_seen = palloc(sizeof(RmScanZone) * RM_SCAN_ZONES);
	rm_obs_open(&s->obs, AccessShareLock, ACL_SELECT);

	s->storecxt = AllocSetContextCreate(CurrentMemoryContext,
										"restmon per-store",
										ALLOCSET_DEFAULT_SIZES);
}

/* open the two ordered readers and the observation table, as of s->T */
void
rm_scan_open(RmUptimeScan *s, text *only)
{
	open_scan(s, only, NULL, NULL);
}

/* the same for the stores of [lo, hi) (NULL: unbounded), in byte order */
void
rm_scan_open_range(RmUptimeScan *s, text *lo, text *hi)
{
	open_scan(s, NULL, lo, hi);
}

/*
 * The time zone of the store the stores reader is at (semantics §2: none,
 * the default): a zone the scan met already is not looked up again.
 */
static pg_tz *
scan_zone(RmUptimeScan *s)
{
	bool		isnull = !rm_keyed_seek(&s->zones, s->stores.key,
										s->stores.keylen);
	text	   *name = NULL;
	int			len = 0;
	pg_tz	   *tz;

	if (!isnull)
	{
		name = DatumGetTextPP(rm_keyed_col(&s->zones, 2, &isnull));
		len = VARSIZE_ANY_EXHDR(name);
	}
	for (int i = 0; i < s->nzones; i++)
	{
		RmScanZone *z = &s->zones_seen[i];

		if (z->isnull == isnull && z->len == len &&
			(isnull || memcmp(VARDATA_ANY(name), z->name, len) == 0))
			return z->tz;
	}
	tz = rm_lookup_zone(isnull ? NULL : text_to_cstring(name));
	if (s->nzones < RM_SCAN_ZONES && len <= TZ_STRLEN_MAX)
	{
		RmScanZone *z = &s->zones_seen[s->nzones++];

		z->isnull = isnull;
		z->len = len;
		if (!isnull)
			memcpy(z->name, VARDATA_ANY(name), len);
		z->tz = tz;
	}
	return tz;
}

/*
 * The core's inputs for the store the stores reader is at: its business
 * time over the horizon, its polls of the horizon.  Allocates in the
 * current (per-store) context.
 */
void
rm_scan_inputs(RmUptimeScan *s, RmStoreInputs *in)
{
	TimestampTz T = s->T;
	bool		isnull;
	RmHoursRow *rows;
	int			nrows;
	int			cap = 64;

	nrows = rm_read_hours(&s->hours, s->stores.key, s->stores.keylen, &rows);
	in->nbusiness = rm_expand_schedule(rows, nrows, scan_zone(s),
									   T - RM_HORIZON, T + 1, &in->business);

	in->polls = palloc(sizeof(RmObs) * cap);
	in->npolls = rm_obs_read(&s->obs, rm_keyed_col(&s->stores, 1, &isnull),
							 T - RM_HORIZON, T, &in->polls, &cap);
	in->scratch = palloc(sizeof(RmObs) * Max(in->npolls, 1));
}

/* on to the next store; its predecessor's memory is freed */
void
rm_scan_next(RmUptimeScan *s)
{
	MemoryContextReset(s->storecxt);
	rm_keyed_next(&s->stores);
}

void
rm_scan_close(RmUptimeScan *s)
{
	MemoryContextDelete(s->storecxt);
	rm_obs_close(&s->obs);

	rm_keyed_close(&s->stores);
	rm_keyed_close(&s->zones);
	rm_keyed_close(&s->hours);
}

/*
 * The values of one output row (RM_UPTIME_COLS, none null): store_id, then
 * uptime, downtime and evidence per window
 */
void
rm_uptime_values(const char *key, int keylen, const RmResult *res,
				 Datum *values)
{
	values[0] = PointerGetDatum(cstring_to_text_with_len(key, keylen));
	values[1] = hundredths_numeric(res->up2[RM_HOUR], USECS_PER_MINUTE);
	values[2] = hundredths_numeric(res->up2[RM_DAY], USECS_PER_HOUR);
	values[3] = hundredths_numeric(res->up2[RM_WEEK], USECS_PER_HOUR);
	values[4] = hundredths_numeric(res->down2[RM_HOUR], USECS_PER_MINUTE);
	values[5] = hundredths_numeric(res->down2[RM_DAY], USECS_PER_HOUR);
	values[6] = hundredths_numeric(res->down2[RM_WEEK], USECS_PER_HOUR);
	values[7] = Int32GetDatum(res->evidence[RM_HOUR]);
	values[8] = Int32GetDatum(res->evidence[RM_DAY]);
	values[9] = Int32GetDatum(res->evidence[RM_WEEK]);
}

/* one output row of restmon_store_uptime() */
void
rm_uptime_put_row(ReturnSetInfo *rsinfo, const char *key, int keylen,
				  const RmResult *res)
{
	Datum		values[RM_UPTIME_COLS];
	bool		nulls[RM_UPTIME_COLS] = {0};

	rm_uptime_values(key, keylen, res, values);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* every store of the scan, in byte order, handed to emit; then closes it */
static void
scan_stores(RmUptimeScan *s, RmStoreEmit emit, void *arg)
{
	while (s->stores.tuple != NULL)
	{
		RmStoreInputs in;
		RmResult	res;
		MemoryContext oldcxt;

		CHECK_FOR_INTERRUPTS();
		oldcxt = MemoryContextSwitchTo(s->storecxt);
		rm_scan_inputs(s, &in);
		rm_check_core_status(rm_compute(in.business, in.nbusiness,
										in.polls, in.npolls, s->T,
										in.scratch, &res),
							 s->stores.key, s->stores.keylen);
		emit(arg, s->stores.key, s->stores.keylen, &res);
		MemoryContextSwitchTo(oldcxt);
		rm_scan_next(s);
	}
	rm_scan_close(s);
}

/*
 * The figures of the stores of [lo, hi) (NULL: unbounded) as of T, in
 * byte order, handed to emit: one range of a full report, computed by a
 * process of a parallel report (report_parallel.c).  Inside SPI.
 */
void
rm_uptime_range(TimestampTz T, text *lo, text *hi, RmStoreEmit emit,
				void *arg)
{
	RmUptimeScan s;

	s.T = T;
	open_scan(&s, NULL, lo, hi);
	scan_stores(&s, emit, arg);
}

/*
 * The full report as of T (a valid instant, rm_check_instant()), each
 * store's figures handed to emit in byte order: computed by several
 * processes (restmon.report_workers, report_parallel.c) or by this one.
 * Then done (if not NULL) is called with arg: by a parallel report while
 * its workers exit, so what it does costs no time then.  Inside SPI.
 */
void
rm_uptime_report(TimestampTz T, RmStoreEmit emit, RmPassDone done, void *arg)
{
	RmUptimeScan s;

	if (rm_coordinator_active())
	{
		/* every partition's, for this one instant (semantics §4) */
		rm_coordinator_uptime(T, emit, arg);
		if (done != NULL)
			done(arg);
		return;
	}
	if (rm_report_parallel(T, emit, done, arg))
		return;
	s.T = T;
	open_scan(&s, NULL, NULL, NULL);
	scan_stores(&s, emit, arg);
	if (done != NULL)
		done(arg);
}

static void
emit_row(void *arg, const char *key, int keylen, const RmResult *res)
{
	rm_uptime_put_row((ReturnSetInfo *) arg, key, keylen, res);
}

/*
 * restmon_store_uptime(as_of timestamptz DEFAULT NULL,
 *						store_id text DEFAULT NULL)
 *
 * A full report may be computed by several processes
 * (restmon.report_workers, report_parallel.c), with the same rows.
 */
Datum
restmon_store_uptime(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	text	   *only = PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1);
	RmUptimeScan s;

	if (only != NULL)
		rm_check_store_id(only);	/* semantics §1.3 */
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
		/* the partition that owns the store computes it */
		Datum		args[2] = {TimestampTzGetDatum(s.T), PointerGetDatum(only)};
		Oid			types[2] = {TIMESTAMPTZOID, TEXTOID};

		rm_coordinator_srf(fcinfo,
						   "SELECT * FROM restmon_coordinator.part_store_uptime($1, $2)",
						   2, types, args, NULL);
		SPI_finish();
		return (Datum) 0;
	}
	if (only == NULL)
		rm_uptime_report(s.T, emit_row, NULL, rsinfo);
	else
	{
		open_scan(&s, only, NULL, NULL);
		scan_stores(&s, emit_row, rsinfo);
	}
	SPI_finish();
	return (Datum) 0;
}

/*
 * restmon_business_intervals(store_id, range_start, range_end): the merged
 * UTC business intervals of one store within [range_start, range_end).
 */
Datum
restmon_business_intervals(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	text	   *store = PG_GETARG_TEXT_PP(0);
	TimestampTz lo = PG_GETARG_TIMESTAMPTZ(1);
	TimestampTz hi = PG_GETARG_TIMESTAMPTZ(2);
	RmReader	hours;
	RmHoursRow *rows;
	int			nrows;
	RmInterval *business;
	int			n;

	rm_check_store_id(store);	/* semantics §1.3 */
	rm_check_instant(lo, "range_start");
	rm_check_instant(hi, "range_end");

	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();

	if (rm_coordinator_active())
	{
		/* the partition that owns the store has its hours and zone */
		Datum		cargs[3] = {PointerGetDatum(store), TimestampTzGetDatum(lo),
		TimestampTzGetDatum(hi)};
		Oid			ctypes[3] = {TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID};

		rm_coordinator_srf(fcinfo,
						   "SELECT * FROM restmon_coordinator.business_intervals($1, $2, $3)",
						   3, ctypes, cargs, NULL);
		SPI_finish();
		return (Datum) 0;
	}
	rm_keyed_open(&hours, "business_hours", hours_cols, 4, store, NULL, NULL,
				  NULL);
	nrows = rm_read_hours(&hours, VARDATA_ANY(store), VARSIZE_ANY_EXHDR(store),
						  &rows);
	rm_keyed_close(&hours);
	n = rm_expand_schedule(rows, nrows, rm_store_zone(store), lo, hi,
						   &business);

	for (int i = 0; i < n; i++)
	{
		Datum		values[2] = {TimestampTzGetDatum(business[i].start),
		TimestampTzGetDatum(business[i].end)};
		bool		nulls[2] = {false, false};

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

/* restmon_default_as_of(): semantics §4's default report instant */
Datum
restmon_default_as_of(PG_FUNCTION_ARGS)
{
	TimestampTz T;
	bool		found;

	SPI_connect();
	found = rm_default_as_of(&T);
	SPI_finish();
	if (!found)
		PG_RETURN_NULL();
	PG_RETURN_TIMESTAMPTZ(T);
}
