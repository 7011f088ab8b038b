/*-------------------------------------------------------------------------
 *
 * src/prune.c
 *	  Observation retention: restmon_prune_observations() deletes the status
 *	  polls older than restmon.observation_retention, in bounded batches;
 *	  restmon_upkeep() runs one batch every time it runs.  Off by default
 *	  (-1): an hourly ingestion of a cumulative status file would load the
 *	  pruned polls again, until ingestion skips polls beyond the edge.
 *
 * Invariants:
 *	- the edge is the latest poll stored (semantics §4's default report
 *	  instant) minus the retention, never the server clock: data dated in
 *	  the past is not emptied; a poll exactly at the edge is kept, one
 *	  microsecond older is deleted;
 *	- the retention is at least the evidence horizon of 192 hours
 *	  (semantics §5), so a report at the default instant is unchanged by
 *	  pruning;
 *	- restmon.store, business hours and zones are left as they are: a store
 *	  whose polls are all gone keeps its row, hours and zone, and stays in
 *	  the reports it was in;
 *	- a batch never waits for an ingestion: it takes its lock on
 *	  restmon.observation only if no ingestion holds one (else it deletes
 *	  nothing, and the next upkeep tries again), and deletes per store
 *	  through the primary key until about max_rows rows are gone, so an
 *	  ingestion that starts meanwhile waits at most for one batch.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "restmon.h"

PG_FUNCTION_INFO_V1(restmon_prune_observations);

#define RM_PRUNE_FETCH	1000

/* delete the polls of the stores under the cursor older than edge */
static int64
prune_stores(Portal portal, TimestampTz edge, int64 max_rows)
{
	Oid			types[2] = {TEXTOID, TIMESTAMPTZOID};
	SPIPlanPtr	plan;
	int64		n = 0;

	plan = SPI_prepare("DELETE FROM restmon.observation"
					   " WHERE store_id = $1 AND observed_at < $2",
					   2, types);
	if (plan == NULL)
		elog(ERROR, "could not prepare the pruning of polls");
	while (n < max_rows)
	{
		SPITupleTable *stores;
		uint64		nstores;

		SPI_cursor_fetch(portal, true, RM_PRUNE_FETCH);
		stores = SPI_tuptable;
		nstores = SPI_processed;
		if (nstores == 0)
			break;
		for (uint64 i = 0; i < nstores && n < max_rows; i++)
		{
			bool		isnull;
			Datum		args[2];

			args[0] = SPI_getbinval(stores->vals[i], stores->tupdesc, 1,
									&isnull);
			args[1] = TimestampTzGetDatum(edge);
			if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_DELETE)
				elog(ERROR, "could not prune polls");
			n += (int64) SPI_processed;
		}
		SPI_freetuptable(stores);
	}
	SPI_freeplan(plan);
	return n;
}

/*
 * Delete about max_rows polls older than the retention at most; returns
 * how many.  0 when the retention is off, nothing is stored, or an
 * ingestion holds the table.
 */
int64
rm_prune_observations(int64 max_rows)
{
	Oid			relid;
	TimestampTz latest;
	TimestampTz edge;
	Portal		portal;
	Datum		arg;
	Oid			type = TIMESTAMPTZOID;
	int64		n;

	if (restmon_observation_retention < 0)
		return 0;
	relid = get_relname_relid("observation", get_namespace_oid("restmon", false));
	if (!OidIsValid(relid))
		elog(ERROR, "table restmon.observation is missing");
	/* an ingestion holds ShareRowExclusiveLock: never wait for it */
	if (!ConditionalLockRelationOid(relid, RowExclusiveLock))
		return 0;

	SPI_connect();
	if (!rm_default_as_of(&latest))
	{
		SPI_finish();
		return 0;
	}
	edge = latest - (TimestampTz) restmon_observation_retention * USECS_PER_MINUTE;
	arg = TimestampTzGetDatum(edge);
	portal = SPI_cursor_open_with_args(NULL,
									   "SELECT s.store_id FROM restmon.store s"
									   " WHERE s.first_observed_at < $1"
									   " ORDER BY s.store_id",
									   1, &type, &arg, NULL, false,
									   CURSOR_OPT_NO_SCROLL);
	n = prune_stores(portal, edge, max_rows);
	SPI_cursor_close(portal);
	SPI_finish();
	return n;
}

/* restmon_prune_observations(max_rows bigint DEFAULT 100000) */
Datum
restmon_prune_observations(PG_FUNCTION_ARGS)
{
	int64		max_rows = PG_GETARG_INT64(0);

	if (max_rows < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_rows must be at least 1")));
	PG_RETURN_INT64(rm_prune_observations(max_rows));
}
