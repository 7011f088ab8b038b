/*-------------------------------------------------------------------------
 *
 * src/poll_sort.c
 *	  A chunk of status polls (polls.c) sorted for its apply: by store_id in
 *	  byte order (the key's order within a week, rm_key_cmp), then instant, then
 *	  line, so that each store's rows are together, in time order, and the
 *	  first line of an instant comes first.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "ingest_int.h"
#include "restmon.h"

/* a pass of the sort by store has at most 2^RM_FLAG_BITS buckets */
#define RM_FLAG_BITS	16

/* indexes of store_text (arg), by their store_ids in byte order (rm_key_cmp) */
static int
store_idx_cmp(const void *a, const void *b, void *arg)
{
	text	  **store_text = arg;
	const text *x = store_text[*(const int32 *) a];
	const text *y = store_text[*(const int32 *) b];

	return rm_key_cmp(VARDATA(x), VARSIZE(x) - VARHDRSZ,
					  VARDATA(y), VARSIZE(y) - VARHDRSZ);
}

static inline int
poll_cmp(const RmPollRow *x, const RmPollRow *y)
{
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return (x->line_active > y->line_active) - (x->line_active < y->line_active);
}

/* poll_sort(): qsort's algorithm with poll_cmp inlined (a store's polls) */
#define ST_SORT poll_sort
#define ST_ELEMENT_TYPE RmPollRow
#define ST_COMPARE(a, b) poll_cmp(a, b)
#define ST_SCOPE static
#define ST_DECLARE
#define ST_DEFINE
#include "lib/sort_template.h"

/*
 * One pass of an American flag sort (in place, linear): rows[0..n) moved to
 * the buckets of their digit (store >> shift) & mask, in digit order;
 * start[d] .. start[d + 1] is then bucket d (next: room for as many).
 * With few buckets, every row is read and written through as many
 * sequential streams, which the caches keep.
 */
static void
flag_pass(RmPollRow *rows, int n, int shift, uint32 mask, int *start,
		  int *next)
{
	memset(next, 0, sizeof(int) * (mask + 2));
	for (int i = 0; i < n; i++)
		next[((rows[i].store >> shift) & mask) + 1]++;
	for (uint32 d = 1; d <= mask + 1; d++)
		next[d] += next[d - 1];
	memcpy(start, next, sizeof(int) * (mask + 2));
	for (uint32 d = 0; d <= mask; d++)
	{
		for (int i = next[d]; i < start[d + 1]; i = ++next[d])
		{
			uint32		b;

			while ((b = (rows[i].store >> shift) & mask) != d)
			{
				RmPollRow	tmp = rows[next[b]];

				rows[next[b]++] = rows[i];
				rows[i] = tmp;
			}
		}
	}
}

/*
 * Order the rows by (store rank, instant, line): the store field becomes
 * the rank; rows are moved to their store's place by an American flag sort
 * on the rank's high bits, then on its low bits within each bucket (two
 * cache-friendly passes rather than one with a bucket per store); then
 * each store's rows are sorted by time (usually already in order).
 */
static void
sort_polls(RmPollRow *rows, int n, const int32 *rank, int nstores)
{
	int			bits = 1;
	int			lo_bits;
	int		   *hi_start = palloc(sizeof(int) * ((1 << RM_FLAG_BITS) + 2));
	int		   *lo_start = palloc(sizeof(int) * ((1 << RM_FLAG_BITS) + 2));
	int		   *next = palloc(sizeof(int) * ((1 << RM_FLAG_BITS) + 2));

	for (int i = 0; i < n; i++)
		rows[i].store = rank[rows[i].store];
	while (bits < 31 && (1 << bits) < nstores)
		bits++;
	lo_bits = Min(bits / 2, RM_FLAG_BITS);
	Assert(bits - lo_bits <= RM_FLAG_BITS);
	flag_pass(rows, n, lo_bits, (1u << (bits - lo_bits)) - 1, hi_start,
			  next);
	for (int h = 0; h < (1 << (bits - lo_bits)); h++)
	{
		RmPollRow  *b = rows + hi_start[h];
		int			nb = hi_start[h + 1] - hi_start[h];

		flag_pass(b, nb, 0, (1u << lo_bits) - 1, lo_start, next);
		for (int l = 0; l < (1 << lo_bits); l++)
			if (lo_start[l + 1] - lo_start[l] > 1)
				poll_sort(b + lo_start[l], lo_start[l + 1] - lo_start[l]);
	}
	pfree(hi_start);
	pfree(lo_start);
	pfree(next);
}

/*
 * Sort the chunk's rows by (store_id in byte order, instant, line);
 * returns the store_id of each rank (the rows' store field).
 */
text	  **
rm_sort_chunk(RmIngest *st)
{
	text	  **by_rank = palloc(sizeof(text *) * st->nstores);
	int32	   *order = palloc(sizeof(int32) * st->nstores);
	int32	   *rank = palloc(sizeof(int32) * st->nstores);

	for (int i = 0; i < st->nstores; i++)
		order[i] = i;
	qsort_arg(order, st->nstores, sizeof(int32), store_idx_cmp,
			  st->store_text);
	for (int r = 0; r < st->nstores; r++)
	{
		by_rank[r] = st->store_text[order[r]];
		rank[order[r]] = r;
	}
	pfree(order);
	sort_polls(st->polls, st->npolls, rank, st->nstores);
	pfree(rank);
	return by_rank;
}
