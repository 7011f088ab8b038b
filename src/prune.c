/*-------------------------------------------------------------------------
 *
 * src/prune.c
 *	  Observation retention: restmon_prune_observations() deletes the status
 *	  polls older than restmon.observation_retention, in bounded batches;
 *	  restmon_upkeep() runs one batch every time it runs.  On by default
 *	  (35 days): ingestion (polls.c) does not load a poll older than the
 *	  same edge again, so an hourly job re-reading a cumulative status
 *	  file does not bring the pruned polls back (it counts them as
 *	  expired).
 *
 * Invariants:
 *	- the edge (rm_retention_edge, the one definition, also ingestion's) is
 *	  the latest poll stored (semantics §4's default report instant) minus
 *	  the retention, never the server clock nor a session's setting (the
 *	  setting is PGC_SIGHUP): data dated in the past is not emptied; a poll
 *	  exactly at the edge is kept, one microsecond older is deleted (and
 *	  not loaded);
 *	- the edge never moves back while polls are only added and pruned: the
 *	  latest poll comes from restmon.store, which pruning leaves alone;
 *	- the retention is at least the evidence horizon of 192 hours
 *	  (semantics §5), so a report at the default instant is unchanged by
 *	  pruning;
 *	- restmon.store, business hours and zones are left as they are: a store
 *	  whose polls are all gone keeps its row, hours and zone, and stays in
 *	  the reports it was in;
 *	- a batch never waits for an ingestion: it takes its lock on
 *	  restmon.observation (ShareRowExclusiveLock, which every status load's
 *	  lock conflicts with, and so does VACUUM's) only if no other process
 *	  holds a conflicting one (else it deletes nothing, a NOTICE says so
 *	  when it is called by hand, and the next upkeep tries again), and
 *	  deletes through restmon.observation_key, from the first poll left
 *	  older than the edge, a week of 64 stores at a time, until about
 *	  max_rows rows
 *	  are gone or about max_ms milliseconds have passed, so an ingestion
 *	  that starts meanwhile waits at most for one batch; that lock never
 *	  blocks a report (AccessShareLock).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "storage/lmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "coordinator.h"
#include "ingest_int.h"
#include "observation.h"
#include "restmon.h"

PG_FUNCTION_INFO_V1(restmon_prune_observations);

/* stores one DELETE covers: about 10,000 polls a week of hourly polls */
#define RM_PRUNE_STORES 64

/* where a batch starts: the first poll older than the edge, in key order */
typedef struct RmPruneFrom
{
	int16		week;
	Datum		store_id;
} RmPruneFrom;

/* the week of the oldest poll ever stored (restmon.store keeps it) */
static int16
oldest_week(void)
{
	bool		isnull = true;
	Datum		d = (Datum) 0;

	if (SPI_execute("SELECT pg_catalog.min(s.first_observed_at) FROM restmon.store s",
					true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read restmon.store");
	if (SPI_processed == 1)
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
						  &isnull);
	return isnull ? RM_WEEK_MAX : rm_obs_week(DatumGetTimestampTz(d));
}

/*
 * The first poll older than edge in the key's order (week, store), looked
 * for week by week from the oldest: the polls pruned by earlier batches
 * come before it, so a batch does not delete through them again (a week
 * all pruned is read once more, its index entries skipped as dead until
 * VACUUM removes them).  False when there is none, or when stop has
 * passed before it is found.
 */
static bool
prune_from(TimestampTz edge, TimestampTz stop, RmPruneFrom *from)
{
	Oid			types[2] = {INT2OID, TIMESTAMPTZOID};
	Datum		args[2];
	int16		last_week = rm_obs_week(edge - 1);
	bool		isnull;

	args[1] = TimestampTzGetDatum(edge);
	for (int w = oldest_week(); w <= last_week; w++)
	{
		if (GetCurrentTimestamp() >= stop)
			return false;
		args[0] = Int16GetDatum((int16) w);
		if (SPI_execute_with_args("SELECT o.store_id FROM restmon.observation o"
								  " WHERE restmon.observation_week(o.observed_at) = $1"
								  " AND o.observed_at < $2 ORDER BY o.store_id LIMIT 1",
								  2, types, args, NULL, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not read restmon.observation");
		if (SPI_processed == 1)
		{
			from->week = (int16) w;
			from->store_id = SPI_getbinval(SPI_tuptable->vals[0],
										   SPI_tuptable->tupdesc, 1, &isnull);
			return true;
		}
	}
	return false;
}

/* the stores with a poll older than edge, in store-id byte order */
static SPITupleTable *
prune_stores_list(TimestampTz edge)
{
	Oid			type = TIMESTAMPTZOID;
	Datum		arg = TimestampTzGetDatum(edge);

	if (SPI_execute_with_args("SELECT s.store_id FROM restmon.store s"
							  " WHERE s.first_observed_at < $1 ORDER BY s.store_id",
							  1, &type, &arg, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read restmon.store");
	return SPI_tuptable;
}

/* a store id against another, in byte order */
static int
store_cmp(Datum a, Datum b)
{
	text	   *x = DatumGetTextPP(a);
	text	   *y = DatumGetTextPP(b);

	return rm_key_cmp(VARDATA_ANY(x), VARSIZE_ANY_EXHDR(x),
					  VARDATA_ANY(y), VARSIZE_ANY_EXHDR(y));
}

/* the first of stores[0..n) at or after id, in byte order */
static uint64
store_index(SPITupleTable *stores, uint64 n, Datum id)
{
	uint64		lo = 0;
	uint64		hi = n;

	while (lo < hi)
	{
		uint64		mid = lo + (hi - lo) / 2;
		bool		isnull;

		if (store_cmp(SPI_getbinval(stores->vals[mid], stores->tupdesc, 1,
									&isnull), id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * The two DELETEs of a week's run of stores: from the run's first store id
 * to the next run's first (excluded), or to the week's end.  The runs of a
 * week leave no store id out between them, listed in restmon.store or not.
 */
static SPIPlanPtr
prune_plan(bool bounded)
{
	Oid			types[4] = {INT2OID, TIMESTAMPTZOID, TEXTOID, TEXTOID};
	SPIPlanPtr	plan;

	plan = SPI_prepare(bounded ?
					   "DELETE FROM restmon.observation"
					   " WHERE restmon.observation_week(observed_at) = $1"
					   " AND observed_at < $2 AND store_id >= $3 AND store_id < $4" :
					   "DELETE FROM restmon.observation"
					   " WHERE restmon.observation_week(observed_at) = $1"
					   " AND observed_at < $2 AND store_id >= $3",
					   bounded ? 4 : 3, types);
	if (plan == NULL)
		elog(ERROR, "could not prepare the pruning of polls");
	return plan;
}

/*
 * Delete the polls older than edge through restmon.observation_key, from
 * the first one left (prune_from): week by week, each week's range a run
 * of RM_PRUNE_STORES listed stores at a time (the last run to the week's
 * end), until about max_rows are gone or max_ms milliseconds have passed.
 */
static int64
prune_weeks(TimestampTz edge, int64 max_rows, int max_ms)
{
	TimestampTz stop = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
												   (int64) max_ms);
	int16		last_week = rm_obs_week(edge - 1);
	RmPruneFrom from;
	SPITupleTable *stores;
	uint64		nstores;
	uint64		first;
	SPIPlanPtr	plans[2];
	Datum		args[4];
	int64		n = 0;

	if (!prune_from(edge, stop, &from))
		return 0;
	stores = prune_stores_list(edge);
	nstores = SPI_processed;
	/* where the listed stores after from.store_id begin */
	first = store_index(stores, nstores, from.store_id);
	plans[0] = prune_plan(false);
	plans[1] = prune_plan(true);
	args[1] = TimestampTzGetDatum(edge);
	for (int w = from.week; w <= last_week; w++)
	{
		uint64		i = first;
		bool		isnull;

		args[0] = Int16GetDatum((int16) w);
		/* the first poll left, or the week's first store id */
		args[2] = w == from.week ? from.store_id : CStringGetTextDatum("");
		for (;;)
		{
			bool		bounded;

			if (n >= max_rows || GetCurrentTimestamp() >= stop)
				goto done;
			/* the next run's first listed store, past this run's start */
			while (i < nstores &&
				   store_cmp(SPI_getbinval(stores->vals[i], stores->tupdesc, 1,
										   &isnull), args[2]) <= 0)
				i++;
			i = Min(i + RM_PRUNE_STORES - 1, nstores);
			bounded = i < nstores;
			if (bounded)
				args[3] = SPI_getbinval(stores->vals[i], stores->tupdesc, 1,
										&isnull);
			if (SPI_execute_plan(plans[bounded], args, NULL, false, 0) !=
				SPI_OK_DELETE)
				elog(ERROR, "could not prune polls");
			n += (int64) SPI_processed;
			if (!bounded)
				break;
			args[2] = args[3];
		}
		first = 0;
	}
done:
	SPI_freeplan(plans[0]);
	SPI_freeplan(plans[1]);
	return n;
}

/*
 * The retention edge (semantics §4's default report instant, the latest
 * poll stored, minus restmon.observation_retention): polls older than it
 * are pruned and not loaded.  False when the retention is off or nothing
 * is stored.  Inside SPI; reads with the active snapshot.
 */
bool
rm_retention_edge(TimestampTz *edge)
{
	TimestampTz latest;

	if (restmon_observation_retention < 0 || !rm_default_as_of(&latest))
		return false;
	*edge = latest -
		(TimestampTz) restmon_observation_retention * USECS_PER_MINUTE;
	return true;
}

/*
 * The retention edge as a load first needs it: when restmon.poll_bound
 * holds a bound of the latest poll (and the current user may read it),
 * *edge is that bound minus the retention and *exact false: every poll at
 * or after it is kept, and only for one before it is the edge itself
 * (rm_retention_edge) needed.  Otherwise as rm_retention_edge, *exact
 * true.  Inside SPI; reads with the active snapshot.
 */
bool
rm_retention_edge_bound(TimestampTz *edge, bool *exact)
{
	Oid			relid;
	bool		isnull = true;
	Datum		d = (Datum) 0;

	*exact = true;
	if (restmon_observation_retention < 0)
		return false;
	relid = get_relname_relid("poll_bound",
							  get_namespace_oid("restmon", false));
	if (!rm_coordinator_active() && OidIsValid(relid) &&
		pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK)
	{
		if (SPI_execute("SELECT b.latest_at FROM restmon.poll_bound b",
						true, 2) != SPI_OK_SELECT)
			elog(ERROR, "could not read restmon.poll_bound");
		if (SPI_processed == 1)
			d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
							  1, &isnull);
		SPI_freetuptable(SPI_tuptable);
	}
	if (isnull)
		return rm_retention_edge(edge);
	*exact = false;
	*edge = DatumGetTimestampTz(d) -
		(TimestampTz) restmon_observation_retention * USECS_PER_MINUTE;
	return true;
}

/*
 * Delete about max_rows polls older than the retention edge, for about
 * max_ms milliseconds at most; returns how many.  0 when the retention is
 * off, nothing is stored, or the table is in use: a load, a VACUUM or
 * another prune holds a lock that conflicts with this one (*in_use set
 * then, if in_use is not NULL).
 */
int64
rm_prune_observations(int64 max_rows, int max_ms, bool *in_use)
{
	Oid			relid;
	TimestampTz edge;
	int64		n;

	if (in_use != NULL)
		*in_use = false;
	if (restmon_observation_retention < 0)
		return 0;
	relid = get_relname_relid("observation", get_namespace_oid("restmon", false));
	if (!OidIsValid(relid))
		elog(ERROR, "table restmon.observation is missing");

	/*
	 * Every status load holds the table (ShareRowExclusiveLock) or writes its
	 * rows (RowExclusiveLock): never wait for one, and hold both off (with
	 * other prunes) until this transaction ends, so that no load brings back
	 * what this deletes: a load's edge is then looked up after this commits.
	 */
	if (!ConditionalLockRelationOid(relid, ShareRowExclusiveLock))
	{
		if (in_use != NULL)
			*in_use = true;
		return 0;
	}

	SPI_connect();
	if (!rm_retention_edge(&edge))
	{
		SPI_finish();
		return 0;
	}
	n = prune_weeks(edge, max_rows, max_ms);
	SPI_finish();
	return n;
}

/* restmon_prune_observations(max_rows bigint DEFAULT 100000) */
Datum
restmon_prune_observations(PG_FUNCTION_ARGS)
{
	int64		max_rows = PG_GETARG_INT64(0);
	bool		in_use;
	int64		n;

	if (max_rows < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_rows must be at least 1")));
	n = rm_prune_observations(max_rows, INT_MAX, &in_use);
	if (in_use)
		ereport(NOTICE,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("nothing pruned: table restmon.observation is in use"),
				 errdetail("A status load, a VACUUM or another prune holds a lock that conflicts with pruning, and pruning never waits for one."),
				 errhint("Call restmon_prune_observations() again later; restmon_upkeep() tries again each time it runs.")));
	PG_RETURN_INT64(n);
}

/*
 * The retention edge of this load, looked up at its first poll: first the
 * lock apply_chunk will take (held to the end of the transaction; pruning
 * never waits for it, and no prune runs while it is held), then the latest
 * poll stored, in a snapshot taken after the lock (READ COMMITTED).
 */
static void
find_edge(RmIngest *st)
{
	RmObsTable	obs;

	st->edge_known = true;
	if (restmon_observation_retention < 0)
		return;
	rm_obs_open(&obs, st->store_locks ? RowExclusiveLock : ShareRowExclusiveLock,
				ACL_SELECT | ACL_INSERT);
	rm_obs_close(&obs);
	PushActiveSnapshot(GetTransactionSnapshot());
	st->has_edge = rm_retention_edge_bound(&st->edge, &st->edge_exact);
	if (!st->edge_exact)		/* the edge, if needed, from this snapshot */
		st->edge_snapshot = RegisterSnapshot(GetActiveSnapshot());
	PopActiveSnapshot();
}

/* a poll before the bound: the edge itself, as of the load's first poll */
static void
exact_edge(RmIngest *st)
{
	PushActiveSnapshot(st->edge_snapshot);
	st->has_edge = rm_retention_edge(&st->edge);
	PopActiveSnapshot();
	UnregisterSnapshot(st->edge_snapshot);
	st->edge_snapshot = NULL;
	st->edge_exact = true;
}

/*
 * Whether a poll at t of this load is older than the retention edge (a
 * poll exactly at the edge is kept); the edge is looked up at the load's
 * first poll (polls.c).
 */
bool
rm_poll_expired(RmIngest *st, TimestampTz t)
{
	if (!st->edge_known)
		find_edge(st);
	if (st->has_edge && t < st->edge && !st->edge_exact)
		exact_edge(st);
	return st->has_edge && t < st->edge;
}
