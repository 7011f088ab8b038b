/*-------------------------------------------------------------------------
 *
 * src/observation_parts.c
 *	  The handle on restmon.observation (RmObsTable): a table, or a table
 *	  partitioned by ranges of observed_at, each partition with the same
 *	  primary key (store_id, observed_at) INCLUDE (active).  Reads and
 *	  inserts go to the parts whose ranges hold their instants; each part
 *	  is read (observation.c) and written (observation_write.c) on its own.
 *
 * A partition is opened, with the handle's lock, when it is first read or
 * written, as the executor locks only the partitions it scans: a report
 * over the last week opens the partitions of that week and no older one.
 * Privileges and row-level security are checked on the table itself, as
 * for SQL that names it.  A default partition is refused: its rows could
 * lie anywhere in time, and the parts' ranges must be disjoint and ordered
 * for a store's polls to come out in time order.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "partitioning/partbounds.h"
#include "partitioning/partdesc.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/partcache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/timestamp.h"

#include "observation.h"

/* datum i of a range partitioning's bounds as an instant (i < 0: lowest) */
static TimestampTz
bound_at(PartitionBoundInfo b, int i)
{
	if (i < 0 || b->kind[i][0] == PARTITION_RANGE_DATUM_MINVALUE)
		return DT_NOBEGIN;
	if (b->kind[i][0] == PARTITION_RANGE_DATUM_MAXVALUE)
		return DT_NOEND;
	return DatumGetTimestampTz(b->datums[i][0]);
}

/*
 * The parts of a table partitioned by range of observed_at, in time order:
 * partition indexes[i] holds [datums[i - 1], datums[i]) (partbounds.h).
 */
static void
list_partitions(RmObsTable *o)
{
	PartitionKey key = RelationGetPartitionKey(o->rel);
	PartitionDesc desc = RelationGetPartitionDesc(o->rel, true);
	PartitionBoundInfo b = desc->boundinfo;

	if (key->strategy != PARTITION_STRATEGY_RANGE || key->partnatts != 1 ||
		key->partattrs[0] != 2 || key->parttypid[0] != TIMESTAMPTZOID)
		elog(ERROR, "restmon.observation is partitioned other than by range of observed_at");
	o->parts = MemoryContextAllocZero(o->cxt, sizeof(RmObsPart) *
									  Max(desc->nparts, 1));
	if (b == NULL)
		return;					/* no partition yet */
	if (partition_bound_has_default(b))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a default partition of restmon.observation is not supported"),
				 errdetail("restmon reads each store's polls in time order, partition by partition.")));
	for (int i = 0; i < b->nindexes; i++)
	{
		int			k = b->indexes[i];
		RmObsPart  *p;

		if (k < 0)
			continue;			/* a gap */
		if (!desc->is_leaf[k])
			elog(ERROR, "a partition of restmon.observation is partitioned itself");
		p = &o->parts[o->nparts++];
		p->relid = desc->oids[k];
		p->lo = bound_at(b, i - 1);
		p->hi = bound_at(b, i);
	}
}

/*
 * Open restmon.observation with the given lock, after checking the
 * privilege the equivalent SQL would need.
 */
void
rm_obs_open(RmObsTable *o, LOCKMODE lockmode, AclMode required)
{
	Oid			relid = get_relname_relid("observation",
										  get_namespace_oid("restmon", false));
	AclResult	aclresult;

	memset(o, 0, sizeof(*o));
	if (!OidIsValid(relid))
		elog(ERROR, "table restmon.observation is missing");
	aclresult = pg_class_aclcheck(relid, GetUserId(), required);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_TABLE, "observation");

	if (check_enable_rls(relid, InvalidOid, false) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("row-level security on restmon.observation is not supported"),
				 errdetail("restmon reads and writes the table through its primary key, past row-level security.")));

	o->cxt = CurrentMemoryContext;
	o->lockmode = lockmode;
	o->rel = table_open(relid, lockmode);
	if (o->rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE)
		list_partitions(o);
	else
	{
		o->nparts = 1;
		o->parts = palloc0(sizeof(RmObsPart));
		o->parts[0].relid = relid;
		o->parts[0].lo = DT_NOBEGIN;
		o->parts[0].hi = DT_NOEND;
		o->parts[0].cxt = o->cxt;
		rm_part_open(&o->parts[0], o->rel, lockmode);
	}
}

/* part i, opened now if it was not */
static RmObsPart *
part_get(RmObsTable *o, int i)
{
	RmObsPart  *p = &o->parts[i];

	if (p->heap == NULL)
	{
		p->cxt = o->cxt;
		rm_part_open(p, table_open(p->relid, o->lockmode), o->lockmode);
		if (o->bulk)
			(void) rm_part_bulk_if_empty(p);
	}
	return p;
}

/* the first part that may hold an instant after lo (nparts: none) */
static int
first_after(RmObsTable *o, TimestampTz lo)
{
	int			low = 0;
	int			high = o->nparts;

	while (low < high)
	{
		int			mid = low + (high - low) / 2;

		if (o->parts[mid].hi - 1 <= lo)
			low = mid + 1;
		else
			high = mid;
	}
	return low;
}

/* whether the range of p reaches down to floor + 1 */
static bool
reaches_down(const RmObsPart * p, TimestampTz floor)
{
	return p->lo == DT_NOBEGIN || p->lo - 1 <= floor;
}

/*
 * The polls of a store with lo < observed_at <= hi, part by part in time
 * order; with nback > 0, first up to nback of its polls with floor <
 * observed_at <= lo from the part holding lo (observation.c), and
 * *back_done when nothing of the store in (floor, lo] is left out: every
 * such poll of that part is among them, and no part before it holds any
 * instant above floor.
 */
static int
obs_read(RmObsTable *o, Datum store_id, TimestampTz lo, TimestampTz hi,
		 TimestampTz floor, int nback, bool *back_done, RmObs **polls,
		 int *cap)
{
	int			i = first_after(o, lo);
	int			n = 0;
	bool		none_before = i == 0 || o->parts[i - 1].hi - 1 <= floor;

	if (back_done != NULL)
		*back_done = none_before;
	for (; i < o->nparts && o->parts[i].lo <= hi; i++)
	{
		RmObsPart  *p = part_get(o, i);

		if (nback > 0 && p->lo <= lo)
		{
			bool		done;

			n += rm_part_read(p, store_id, lo, hi, floor, nback, &done,
							  polls, cap);
			*back_done = done && (reaches_down(p, floor) || none_before);
		}
		else
			n += rm_part_read(p, store_id, lo, hi, 0, 0, NULL, polls, cap);
		nback = 0;
	}
	return n;
}

/*
 * Append the polls of one store with lo < observed_at <= hi, in time order,
 * to *polls (capacity *cap, grown with repalloc); returns their number.
 * Every read of a handle uses the snapshot active at its first read of
 * each part: open one per snapshot.
 */
int
rm_obs_read(RmObsTable *o, Datum store_id, TimestampTz lo, TimestampTz hi,
			RmObs **polls, int *cap)
{
	return obs_read(o, store_id, lo, hi, 0, 0, NULL, polls, cap);
}

/*
 * rm_obs_read, and before its range up to nback of the store's polls with
 * floor < observed_at from the leaf page where the range starts (the
 * visible ones: first in *polls, in time order).  *back_done when every
 * poll of the store in (floor, lo] is among those returned.
 */
int
rm_obs_read_back(RmObsTable *o, Datum store_id, TimestampTz lo,
				 TimestampTz hi, TimestampTz floor, int nback,
				 bool *back_done, RmObs **polls, int *cap)
{
	Assert(nback > 0 && nback <= MaxIndexTuplesPerPage / 2);
	return obs_read(o, store_id, lo, hi, floor, nback, back_done, polls,
					cap);
}

/*
 * Before the first insert: each part with no page at all is loaded heap
 * first and its indexes rebuilt at close, where rm_part_bulk_if_empty
 * allows it (observation_write.c), checked as each part is opened.
 */
void
rm_obs_bulk_if_empty(RmObsTable *o)
{
	o->bulk = true;
	for (int i = 0; i < o->nparts; i++)
		if (o->parts[i].heap != NULL && o->parts[i].slots == NULL)
			(void) rm_part_bulk_if_empty(&o->parts[i]);
}

/* queue one new row, into the part holding t; rows come in key order */
void
rm_obs_insert(RmObsTable *o, Datum store_id, TimestampTz t, bool active)
{
	int			i = o->last;

	if (!o->checked)
	{
		rm_obs_check_triggers(o->rel);
		o->checked = true;
	}
	if (i >= o->nparts || t < o->parts[i].lo || t >= o->parts[i].hi)
		i = first_after(o, t - 1);
	if (i >= o->nparts || t < o->parts[i].lo)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("no partition of restmon.observation holds polls at %s",
						timestamptz_to_str(t))));
	o->last = i;
	rm_part_insert(part_get(o, i), store_id, t, active);
}

/* close every part opened, and the table */
void
rm_obs_close(RmObsTable *o)
{
	bool		partitioned = o->rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE;

	for (int i = 0; i < o->nparts; i++)
		if (o->parts[i].heap != NULL)
			rm_part_close(&o->parts[i]);
	if (partitioned)
		table_close(o->rel, NoLock);
}
