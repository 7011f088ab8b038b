/*-------------------------------------------------------------------------
 *
 * src/alert_hours.c
 *	  The zones and business hours state alerts need (alerts.c), kept in
 *	  backend memory across batches: a store's are read once, by one query
 *	  for all the stores of a chunk not known yet, and used again by later
 *	  batches as long as restmon.schedule_version says that neither table
 *	  changed.
 *
 * Invariants:
 *	- every write to restmon.business_hours or restmon.store_timezone
 *	  (INSERT, UPDATE, DELETE, TRUNCATE, COPY: ingestion and plain SQL
 *	  alike) sets that table's row of restmon.schedule_version to a number
 *	  never used before (a sequence), in the same transaction (statement
 *	  triggers, enabled ALWAYS);
 *	  (and a table made anew by CREATE EXTENSION is another table: the
 *	  cache is tied to its OID, as its numbers start again);
 *	- so a snapshot that reads the versions the cache was filled under sees
 *	  exactly the zones and hours the cache holds (the row lock makes the
 *	  writers of one table take their turns); the cache is used only then,
 *	  and emptied otherwise.  A write rolled back leaves a number nobody
 *	  reads again;
 *	- an entry holds what the query gives, as alerts.c read it before:
 *	  no zone row is the default zone, no hours rows open around the clock
 *	  (semantics §2);
 *	- at most RM_HOURS_CACHE_MAX stores are kept; the cache is emptied when
 *	  it would hold more, or when filling it failed half-way.
 *
 * Why not the relation cache's invalidations: rows written send none, and
 * one sent by a trigger reaches other sessions only after the writer's
 * commit is visible, so a batch could pair a snapshot that sees new hours
 * with the old ones.  The version rows are read in the batch's own
 * snapshot: nothing to race.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "alerts.h"
#include "ingest_int.h"

/* stores kept at most (about 250 bytes each) */
#define RM_HOURS_CACHE_MAX	65536

/* rows of the zones and hours query fetched at once */
#define RM_HOURS_FETCH		500

typedef struct RmHoursEntry
{
	RmIdKey		key;			/* first: the hash key */
	RmStoreHours h;
	int			hours_cap;
	char	   *zone;			/* while it is filled */
} RmHoursEntry;

static MemoryContext cache_cxt = NULL;
static HTAB *cache = NULL;
static int64 cache_versions[2];
static Oid	cache_relid = InvalidOid;	/* restmon.schedule_version's */
static SPIPlanPtr version_plan = NULL;
static SPIPlanPtr inputs_plan = NULL;

/*
 * The versions of restmon.business_hours and restmon.store_timezone in
 * the active snapshot: false when a row is missing (nothing is cached).
 */
static bool
read_versions(int64 *v)
{
	SPIPlanPtr	plan = rm_kept_plan(&version_plan,
									"SELECT v.version FROM restmon.schedule_version v"
									" WHERE v.source IN ('hours', 'timezones')"
									" ORDER BY v.source",
									0, NULL);
	bool		isnull;

	if (SPI_execute_plan(plan, NULL, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read restmon.schedule_version");
	if (SPI_processed != 2)
		return false;
	for (int i = 0; i < 2; i++)
	{
		v[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i],
										   SPI_tuptable->tupdesc, 1,
										   &isnull));
		if (isnull)
			return false;
	}
	SPI_freetuptable(SPI_tuptable);
	return true;
}

/* an empty cache */
static void
cache_reset(void)
{
	if (cache_cxt == NULL)
		cache_cxt = AllocSetContextCreate(TopMemoryContext,
										  "restmon alert hours",
										  ALLOCSET_DEFAULT_SIZES);
	else
		MemoryContextReset(cache_cxt);
	cache = rm_id_hash_create("restmon alert hours", 1024,
							  sizeof(RmHoursEntry), cache_cxt);
}

/* a row of the query: a store's zone, and one of its hours rows */
static void
add_row(RmHoursEntry **e, int n, HeapTuple tup, TupleDesc desc)
{
	bool		isnull;
	int64		i = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
	RmHoursEntry *a;
	Datum		d;

	if (isnull || i < 1 || i > n)
		elog(ERROR, "restmon: bad store ordinality in the alert check");
	a = e[i - 1];
	d = SPI_getbinval(tup, desc, 2, &isnull);
	if (!isnull && a->zone == NULL)
		a->zone = MemoryContextStrdup(cache_cxt, TextDatumGetCString(d));
	d = SPI_getbinval(tup, desc, 3, &isnull);
	if (isnull)
		return;					/* no hours: open around the clock */
	if (a->h.nhours == a->hours_cap)
	{
		a->hours_cap = Max(8, a->hours_cap * 2);
		a->h.hours = a->h.hours ?
			repalloc(a->h.hours, sizeof(RmHoursRow) * a->hours_cap) :
			MemoryContextAlloc(cache_cxt, sizeof(RmHoursRow) * a->hours_cap);
	}
	a->h.hours[a->h.nhours].day = DatumGetInt16(d);
	a->h.hours[a->h.nhours].start =
		DatumGetTimeADT(SPI_getbinval(tup, desc, 4, &isnull));
	a->h.hours[a->h.nhours].end =
		DatumGetTimeADT(SPI_getbinval(tup, desc, 5, &isnull));
	a->h.nhours++;
}

/* the zones and hours of the new entries e[0..n), in one query */
static void
fill(RmHoursEntry **e, int n)
{
	Datum	   *ids = palloc(sizeof(Datum) * n);
	Datum		args[1];
	Oid			types[1] = {TEXTARRAYOID};
	Portal		portal;

	for (int i = 0; i < n; i++)
		ids[i] = PointerGetDatum(cstring_to_text_with_len(e[i]->key.id,
														  e[i]->key.len));
	args[0] = rm_make_array(ids, n, TEXTOID);
	portal = SPI_cursor_open(NULL,
							 rm_kept_plan(&inputs_plan,
										  "SELECT u.i, z.timezone, h.day_of_week,"
										  "  h.start_local, h.end_local"
										  " FROM pg_catalog.unnest($1)"
										  "  WITH ORDINALITY u(store_id, i)"
										  " LEFT JOIN restmon.store_timezone z"
										  "  ON z.store_id = u.store_id"
										  " LEFT JOIN restmon.business_hours h"
										  "  ON h.store_id = u.store_id",
										  1, types),
							 args, NULL, true);
	do
	{
		/* a few rows at a time: the same memory serves every fetch */
		SPI_cursor_fetch(portal, true, RM_HOURS_FETCH);
		for (uint64 r = 0; r < SPI_processed; r++)
			add_row(e, n, SPI_tuptable->vals[r], SPI_tuptable->tupdesc);
		SPI_freetuptable(SPI_tuptable);
	} while (SPI_processed > 0);
	SPI_cursor_close(portal);
	for (int i = 0; i < n; i++)
		e[i]->h.tz = rm_lookup_zone(e[i]->zone);
}

/*
 * out[i]: the zone and hours of the store ids[i], as the active snapshot
 * sees them (inside SPI); valid until the next call.
 */
void
rm_alert_hours(text **ids, int n, const RmStoreHours **out)
{
	int64		v[2];
	bool		versioned = read_versions(v);
	RmHoursEntry **missing = palloc(sizeof(RmHoursEntry *) * n);
	int			nmissing = 0;

	/* the table is the extension's of now: one made anew starts again */
	Oid			relid = get_relname_relid("schedule_version",
										  get_namespace_oid("restmon", false));

	if (cache == NULL || !versioned || relid != cache_relid ||
		v[0] != cache_versions[0] || v[1] != cache_versions[1] ||
		hash_get_num_entries(cache) + n > RM_HOURS_CACHE_MAX)
		cache_reset();
	/* until it is filled, the cache stands for no version */
	cache_versions[0] = cache_versions[1] = 0;
	for (int i = 0; i < n; i++)
	{
		bool		found;
		RmHoursEntry *e = rm_id_hash_enter(cache, cache_cxt, ids[i], &found);

		if (!found)
		{
			memset(&e->h, 0, sizeof(e->h));
			e->hours_cap = 0;
			e->zone = NULL;
			missing[nmissing++] = e;
		}
		out[i] = &e->h;
	}
	if (nmissing > 0)
		fill(missing, nmissing);
	if (versioned)
	{
		cache_versions[0] = v[0];
		cache_versions[1] = v[1];
		cache_relid = relid;
	}
	pfree(missing);
}
