/*-------------------------------------------------------------------------
 *
 * src/polls.c
 *	  Status polls (semantics §1): gathered in memory up to
 *	  maintenance_work_mem, then sorted by (store_id, instant, line) and
 *	  applied store by store against what is stored, read through the
 *	  key, restmon.observation_key (observation.c).
 *
 * Invariants:
 *	- the first line of a (store, instant) not stored yet is inserted;
 *	- a later line, or one whose (store, instant) is stored, is a duplicate
 *	  when its status agrees with the one that won, a conflicting duplicate
 *	  (rejected) otherwise;
 *	- new rows are inserted in key order, as COPY does, and restmon.store is
 *	  updated once per chunk;
 *	- a chunk sees the rows of the chunks before it, so a file applied in
 *	  several chunks gives the same result as in one;
 *	- one writer of a store's polls at a time: a load that may take
 *	  several chunks (a file) holds ShareRowExclusiveLock on
 *	  restmon.observation; a load known to fit one chunk (an API batch,
 *	  store_locks) holds RowExclusiveLock and locks its stores' rows of
 *	  restmon.store, in store order, before it reads their polls
 *	  (store_track.c), so batches of other stores run meanwhile and no two
 *	  one-batch transactions wait for each other in a cycle;
 *	- a poll older than the retention edge (prune.c) is neither gathered
 *	  nor rejected but counted as expired: the edge is looked up once per
 *	  load, at its first poll, under its table lock (which pruning's
 *	  conflicts with), so it comes from the data (the latest poll stored),
 *	  is the same for every chunk, and no load brings back what pruning
 *	  deleted.  What is
 *	  looked up first is a bound above it (restmon.poll_bound); the edge
 *	  itself is computed, in the snapshot of that first poll, only for a
 *	  poll older than the bound.
 *
 * This is the hot path of ingestion: a line costs one hash lookup of its
 * store_id and one 16-byte row; nothing else is allocated per line.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/mman.h>

#include "common/hashfn.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "alerts.h"
#include "coordinator.h"
#include "ingest_int.h"
#include "observation.h"

static void apply_chunk(RmIngest *st);


typedef struct RmKeyRef
{
	const char *p;
	int			len;
} RmKeyRef;

/* the interned store ids: simplehash, inlined (one lookup per line) */
typedef struct RmStoreEntry
{
	RmKeyRef	key;
	int32		idx;
	uint32		hash;
	char		status;
} RmStoreEntry;

#define SH_PREFIX rmstore
#define SH_ELEMENT_TYPE RmStoreEntry
#define SH_KEY_TYPE RmKeyRef
#define SH_KEY key
#define SH_HASH_KEY(tb, k) hash_bytes((const unsigned char *) (k).p, (k).len)
#define SH_EQUAL(tb, a, b) ((a).len == (b).len && memcmp((a).p, (b).p, (a).len) == 0)
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a) ((a)->hash)
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/* ---------------------------------------------------------------------
 * Gathering
 * ---------------------------------------------------------------------
 */

/*
 * Room for the polls of a whole file at once (its lines are longer than
 * 16 bytes): allocated, not touched, so a chunk is never copied to grow;
 * text in memory (an API batch) starts small.
 */
static int
initial_cap(const RmLineReader *r)
{
	if (r == NULL || r->mem != NULL)
		return 65536;
	return (int) Min((int64) r->opened.st_size / 16 + 1024, (int64) INT_MAX);
}

/*
 * Ask for the polls' array to be backed by transparent huge pages where
 * the kernel gives them on request (Linux, THP mode "madvise" or
 * "always"): a file's polls fill tens of MB of fresh memory, and one page
 * fault per 4 kB page was a visible part of a load (touching 64 MB took
 * about 0.3 s on a virtual machine, against a few ms in 2 MB pages).  Only
 * the array's 2 MB-aligned interior is advised; nothing else changes, and
 * where the call is not supported nothing is asked.
 */
static void
advise_huge_pages(void *p, Size len)
{
#ifdef MADV_HUGEPAGE
	uintptr_t	huge = 2 * 1024 * 1024;
	uintptr_t	start = TYPEALIGN(huge, (uintptr_t) p);
	uintptr_t	end = TYPEALIGN_DOWN(huge, (uintptr_t) p + len);

	if (end > start)
		(void) madvise((void *) start, end - start, MADV_HUGEPAGE);
#endif
}

/* before the first line: an empty chunk */
void
rm_polls_init(RmIngest *st)
{
	st->pollcxt = AllocSetContextCreate(CurrentMemoryContext,
										"restmon ingest polls",
										ALLOCSET_DEFAULT_SIZES);
	st->stores = rmstore_create(st->pollcxt, 1024, NULL);
	st->store_cap = 1024;
	st->store_text = MemoryContextAlloc(st->pollcxt,
										sizeof(text *) * st->store_cap);
	st->max_polls = (int) Min((int64) maintenance_work_mem * 1024 /
							  (int64) sizeof(RmPollRow),
							  (int64) (MaxAllocHugeSize / sizeof(RmPollRow)));
	st->max_polls = Max(st->max_polls, 1024);
	st->store_locks = st->max_items > 0 && st->max_items <= st->max_polls &&
		!rm_coordinator_active();
	st->poll_cap = Min(st->max_polls, initial_cap(st->reader));
	st->polls = MemoryContextAllocHuge(st->pollcxt,
									   sizeof(RmPollRow) * (Size) st->poll_cap);
	advise_huge_pages(st->polls, sizeof(RmPollRow) * (Size) st->poll_cap);
}

static int32
intern_store(RmIngest *st, const char *id, int len)
{
	RmKeyRef	key = {id, len};
	bool		found;
	RmStoreEntry *e = rmstore_insert(st->stores, key, &found);

	if (!found)
	{
		text	   *t = MemoryContextAlloc(st->pollcxt, VARHDRSZ + len);

		SET_VARSIZE(t, VARHDRSZ + len);
		memcpy(VARDATA(t), id, len);
		e->key.p = VARDATA(t);	/* the key must outlive the line */
		if (st->nstores == st->store_cap)
		{
			st->store_cap *= 2;
			st->store_text = repalloc(st->store_text,
									  sizeof(text *) * st->store_cap);
		}
		e->idx = st->nstores;
		st->store_text[st->nstores++] = t;
	}
	return e->idx;
}

/*
 * Gather one valid poll (its store id checked, len bytes; item_no: its line
 * of a file, or its element of an API batch, which orders polls of one
 * instant: the earliest wins).  Both the CSV lines and the API's elements
 * come through here.
 */
void
rm_polls_add(RmIngest *st, const char *id, int len, TimestampTz t,
			 bool active, int64 item_no)
{
	RmPollRow  *row;

	if ((!st->edge_known || (st->has_edge && t < st->edge)) &&
		rm_poll_expired(st, t))
	{
		st->rows_expired++;		/* a poll exactly at the edge is kept */
		return;
	}
	if (st->npolls == st->poll_cap && st->poll_cap < st->max_polls)
	{
		st->poll_cap = (int) Min((int64) st->poll_cap * 2,
								 (int64) st->max_polls);
		st->polls = repalloc_huge(st->polls,
								  sizeof(RmPollRow) * (Size) st->poll_cap);
		advise_huge_pages(st->polls, sizeof(RmPollRow) * (Size) st->poll_cap);
	}
	if (st->npolls == st->max_polls ||
		(st->npolls > 0 && item_no - st->line_base > RM_POLL_LINES_MAX))
		apply_chunk(st);
	if (st->npolls == 0)
		st->line_base = item_no;
	Assert(item_no >= st->line_base);	/* items come in order */
	row = &st->polls[st->npolls++];
	row->t = t;
	row->line_active = (uint32) (item_no - st->line_base) << 1 | (active ? 1 : 0);
	row->store = intern_store(st, id, len);
}

/*
 * The values of one poll besides its store id (semantics §1.3), trimmed and
 * NUL-terminated: NULL and *ts, *active set, or the reason to reject it
 * (allocated in the current memory context).  The one check of a poll's
 * values, for files and the API alike.
 */
const char *
rm_poll_values(const char *ts_text, const char *status, TimestampTz *ts,
			   bool *active)
{
	if (!rm_parse_timestamp_utc(ts_text, ts))
		return psprintf("bad timestamp_utc \"%s\"",
						rm_excerpt(ts_text, strlen(ts_text), RM_EXCERPT));
	if (restmon_max_future >= 0 &&
		*ts > GetCurrentStatementStartTimestamp() +
		(int64) restmon_max_future * USECS_PER_MINUTE)
		/* semantics §4: one future poll must not become every default T */
		return psprintf("timestamp_utc \"%s\" is later than the server clock plus restmon.max_future",
						rm_excerpt(ts_text, strlen(ts_text), RM_EXCERPT));
	if (pg_strcasecmp(status, "active") == 0)
		*active = true;
	else if (pg_strcasecmp(status, "inactive") == 0)
		*active = false;
	else
		return psprintf("unknown status \"%s\" (expected active or inactive)",
						rm_excerpt(status, strlen(status), RM_EXCERPT));
	return NULL;
}

/*
 * One data line of the status file, its fields already split (f: store_id,
 * timestamp_utc, status; store_id checked): gathered, or rejected.
 */
void
rm_polls_line(RmIngest *st, int64 line_no, const char *line, int len,
			  char **f)
{
	const char *reason;
	TimestampTz ts = 0;
	bool		active = false;
	MemoryContext old = MemoryContextSwitchTo(st->batchcxt);

	reason = rm_poll_values(f[1], f[2], &ts, &active);
	MemoryContextSwitchTo(old);
	if (reason != NULL)
		rm_reject_line(st, line_no, line, len, reason);
	else
		rm_polls_add(st, f[0], strlen(f[0]), ts, active, line_no);
}

/* ---------------------------------------------------------------------
 * Applying a chunk
 * ---------------------------------------------------------------------
 */

/* what applying one chunk gathers, store after store */
typedef struct RmApply
{
	RmObsTable	obs;
	text	  **by_rank;		/* store_id of each rank */
	RmObs	   *stored;			/* a store's stored polls in the chunk's range */
	int			stored_cap;
	int64	   *conflict_no;	/* lines of conflicting duplicates */
	int			nconflicts;
	int			conflict_cap;
	Datum	   *track_id;		/* stores with new polls, and their range;
								 * with store locks, the chunk's stores */
	Datum	   *track_lo;
	Datum	   *track_hi;
	int			ntrack;
	RmAlerts   *alerts;			/* API batches: state alerts (alerts.c) */
	RmObs	   *added;			/* for them, a store's polls inserted */
	int			added_cap;
} RmApply;

static void
add_conflict(RmApply *ap, int64 line_no)
{
	if (ap->nconflicts == ap->conflict_cap)
	{
		ap->conflict_cap = Max(64, ap->conflict_cap * 2);
		ap->conflict_no = ap->conflict_no ?
			repalloc(ap->conflict_no, sizeof(int64) * ap->conflict_cap) :
			palloc(sizeof(int64) * ap->conflict_cap);
	}
	ap->conflict_no[ap->nconflicts++] = line_no;
}

/*
 * Apply rows i .. j-1 of the chunk, one store's, sorted by instant: the
 * first of each instant not stored yet is inserted, the others counted as
 * duplicates or kept as conflicts.
 */
static void
apply_store(RmIngest *st, RmApply *ap, int i, int j)
{
	RmPollRow  *polls = st->polls;
	Datum		id = PointerGetDatum(ap->by_rank[polls[i].store]);
	int			nstored;
	int			k = 0;
	int			nadded = 0;

	if (ap->alerts != NULL)		/* what the alert needs is read too */
		nstored = rm_alerts_read(ap->alerts, &ap->obs, polls[i].store,
								 polls[i].t, polls[j - 1].t, &ap->stored,
								 &ap->stored_cap);
	else
		nstored = rm_obs_read(&ap->obs, id, polls[i].t - 1, polls[j - 1].t,
							  &ap->stored, &ap->stored_cap);
	for (int g = i, h; g < j; g = h)
	{
		TimestampTz t = polls[g].t;
		bool		winner;
		int			from;

		for (h = g + 1; h < j && polls[h].t == t; h++)
			;
		while (k < nstored && ap->stored[k].t < t)
			k++;
		if (k < nstored && ap->stored[k].t == t)
		{
			winner = ap->stored[k].active;
			from = g;
		}
		else
		{
			winner = rm_poll_active(&polls[g]);
			rm_obs_insert(&ap->obs, id, t, winner);
			st->rows_loaded++;
			if (nadded == ap->added_cap)
			{
				ap->added_cap *= 2;
				ap->added = repalloc(ap->added, sizeof(RmObs) * ap->added_cap);
			}
			ap->added[nadded].t = t;
			ap->added[nadded++].active = winner;
			from = g + 1;
		}
		for (int r = from; r < h; r++)
		{
			if (rm_poll_active(&polls[r]) == winner)
				st->rows_duplicate++;
			else
				add_conflict(ap, rm_poll_line(st, &polls[r]));
		}
	}
	if (nadded > 0 && !st->store_locks) /* else tracked before */
	{
		ap->track_id[ap->ntrack] = id;
		ap->track_lo[ap->ntrack] = TimestampTzGetDatum(ap->added[0].t);
		ap->track_hi[ap->ntrack] = TimestampTzGetDatum(ap->added[nadded - 1].t);
		ap->ntrack++;
	}
	if (ap->alerts != NULL)
		rm_alerts_store(ap->alerts, &ap->obs, polls[i].store, ap->stored,
						nstored, ap->added, nadded);
}

/*
 * Before a chunk that is the whole load is applied: each of its stores'
 * rows in restmon.store widened to the chunk's polls of it and locked to
 * the end of the transaction, in store order (store_track.c).  What the
 * chunk adds is inside that range: a poll it inserts, and a duplicate,
 * which is stored already.
 */
static void
lock_chunk_stores(RmIngest *st, RmApply *ap)
{
	for (int i = 0, j; i < st->npolls; i = j)
	{
		for (j = i + 1; j < st->npolls && st->polls[j].store == st->polls[i].store; j++)
			;
		ap->track_id[ap->ntrack] = PointerGetDatum(ap->by_rank[st->polls[i].store]);
		ap->track_lo[ap->ntrack] = TimestampTzGetDatum(st->polls[i].t);
		ap->track_hi[ap->ntrack++] = TimestampTzGetDatum(st->polls[j - 1].t);
	}
	rm_lock_stores(ap->track_id, ap->track_lo, ap->track_hi, ap->ntrack);
}

/* apply the chunk gathered so far, then start an empty one */
static void
apply_chunk(RmIngest *st)
{
	RmApply		ap = {0};
	MemoryContext applycxt;
	MemoryContext oldcxt;

	if (st->npolls == 0)
		return;
	applycxt = AllocSetContextCreate(CurrentMemoryContext,
									 "restmon ingest apply",
									 ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(applycxt);
	ap.by_rank = rm_sort_chunk(st);
	ap.track_id = palloc(sizeof(Datum) * st->nstores);
	ap.track_lo = palloc(sizeof(Datum) * st->nstores);
	ap.track_hi = palloc(sizeof(Datum) * st->nstores);

	/*
	 * One writer of a store's polls at a time, so what it found absent stays
	 * absent until it inserts it: a file's load holds the table, a load that
	 * fits one chunk its stores' rows (the banner); then a snapshot taken
	 * after the locks (in READ COMMITTED) that also sees the chunks applied
	 * before this one.
	 */
	if (st->store_locks)
	{
		rm_obs_open(&ap.obs, RowExclusiveLock, ACL_SELECT | ACL_INSERT);
		lock_chunk_stores(st, &ap);
	}
	else
	{
		rm_obs_open(&ap.obs, ShareRowExclusiveLock, ACL_SELECT | ACL_INSERT);
		rm_obs_bulk_if_empty(&ap.obs);	/* empty: indexes by sort */
	}
	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	UpdateActiveSnapshotCommandId();

	ap.stored_cap = 256;
	ap.stored = palloc(sizeof(RmObs) * ap.stored_cap);
	ap.added_cap = 256;
	ap.added = palloc(sizeof(RmObs) * ap.added_cap);
	if (st->state_alerts)
		ap.alerts = rm_alerts_begin(ap.by_rank, st->nstores);

	for (int i = 0, j; i < st->npolls; i = j)
	{
		int32		store = st->polls[i].store;

		CHECK_FOR_INTERRUPTS();
		for (j = i + 1; j < st->npolls && st->polls[j].store == store; j++)
			;
		apply_store(st, &ap, i, j);
	}
	rm_obs_close(&ap.obs);
	PopActiveSnapshot();

	/* restmon.store, as the statement trigger keeps it for other writers */
	if (!st->store_locks)
		rm_track_stores(ap.track_id, ap.track_lo, ap.track_hi, ap.ntrack);
	if (st->reject_conflicts != NULL)
		st->reject_conflicts(st, ap.conflict_no, ap.nconflicts);
	else
		rm_reject_conflicts(st, ap.conflict_no, ap.nconflicts);
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(applycxt);
	st->npolls = 0;
}

/* after the last line: apply the last chunk, free the polls' memory */
void
rm_polls_finish(RmIngest *st)
{
	apply_chunk(st);
	MemoryContextDelete(st->pollcxt);
	st->pollcxt = NULL;
	if (st->edge_snapshot != NULL)
		UnregisterSnapshot(st->edge_snapshot);
	st->edge_snapshot = NULL;
}
