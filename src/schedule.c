/*-------------------------------------------------------------------------
 *
 * src/schedule.c
 *	  Schedule expansion (semantics §2-3): a store's weekly local business
 *	  hours and its time zone -> the merged UTC intervals of its business
 *	  time within a UTC range.
 *
 * Local instants become UTC through PostgreSQL's own time-zone code
 * (DetermineTimeZoneOffset, or the offset it would give, when a zone has
 * no transition near a date: cached per zone and date), which resolves
 * them exactly as
 * "(date + time) AT TIME ZONE tz" does: a local time in a spring-forward
 * gap takes the offset before the change, a repeated local time at a
 * fall-back the later instant.
 *
 * Invariant: the result is sorted, merged (no two intervals overlap or
 * touch) and clipped to [lo, hi).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/datetime.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "schedule.h"

/* semantics §3: an end of 23:59 or later means midnight */
#define RM_MIDNIGHT_FROM	(INT64CONST(23 * 60 + 59) * USECS_PER_MINUTE)

typedef struct RmZoneCacheEntry
{
	char		name[TZ_STRLEN_MAX + 1];
	pg_tz	   *tz;
} RmZoneCacheEntry;

static HTAB *zone_cache = NULL;

/*
 * The pg_tz of a zone name, looked up once per zone per backend.  NULL or
 * unknown names (possible only if the server's time-zone database changed
 * since ingestion) get the default zone (semantics §2).
 */
pg_tz *
rm_lookup_zone(const char *name)
{
	RmZoneCacheEntry *entry;
	bool		found;

	if (name == NULL || name[0] == '\0' || strlen(name) > TZ_STRLEN_MAX)
		name = RM_DEFAULT_TIMEZONE;

	if (zone_cache == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = TZ_STRLEN_MAX + 1;
		ctl.entrysize = sizeof(RmZoneCacheEntry);
		ctl.hcxt = TopMemoryContext;
		zone_cache = hash_create("restmon zones", 64, &ctl,
								 HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	}
	entry = hash_search(zone_cache, name, HASH_ENTER, &found);
	if (!found)
	{
		entry->tz = pg_tzset(name);
		if (entry->tz == NULL)
			entry->tz = pg_tzset(RM_DEFAULT_TIMEZONE);
		if (entry->tz == NULL)
			elog(ERROR, "time zone \"%s\" is missing from the server's time-zone database",
				 RM_DEFAULT_TIMEZONE);
	}
	return entry->tz;
}

/* local_to_utc, each instant resolved by DetermineTimeZoneOffset */
static TimestampTz
local_to_utc_exact(int date, int64 usecs, pg_tz *tz)
{
	struct pg_tm tm;
	int64		tod;
	int			offset;

	date += (int) (usecs / USECS_PER_DAY);
	tod = usecs % USECS_PER_DAY;

	j2date(date + POSTGRES_EPOCH_JDATE, &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
	tm.tm_hour = (int) (tod / USECS_PER_HOUR);
	tm.tm_min = (int) ((tod / USECS_PER_MINUTE) % MINS_PER_HOUR);
	tm.tm_sec = (int) ((tod / USECS_PER_SEC) % SECS_PER_MINUTE);
	tm.tm_isdst = -1;
	offset = DetermineTimeZoneOffset(&tm, tz);	/* seconds west of UTC */

	return (TimestampTz) date * USECS_PER_DAY + tod + (int64) offset * USECS_PER_SEC;
}

/*
 * The offsets of a zone over the dates of an expansion: west[i] is the
 * offset DetermineTimeZoneOffset gives every local time of the two days
 * from date first + i on, when the zone has no transition near them
 * (constant[i]); else each local time is resolved on its own.  A backend
 * keeps the last RM_OFFSET_CACHE of them: a report expands every store
 * over the same dates, with a few zones.
 */
#define RM_OFFSET_CACHE		64
#define RM_OFFSET_DATES		16

typedef struct RmZoneOffsets
{
	pg_tz	   *tz;				/* NULL: unused */
	int			first;
	int			ndates;
	bool		constant[RM_OFFSET_DATES];
	int			west[RM_OFFSET_DATES];
} RmZoneOffsets;

static RmZoneOffsets offset_cache[RM_OFFSET_CACHE];
static int	offset_next;

/*
 * Whether tz has one offset for every local time of [date, date + 2 days),
 * and which: as DetermineTimeZoneOffset finds it, from the first
 * transition after the local time less a day, taken as UTC (offsets are
 * under a day), so none within the next days (five, a margin over three)
 * means the offset before it for all of them.
 */
static bool
constant_offset(int date, pg_tz *tz, int *west)
{
	pg_time_t	t = ((pg_time_t) date + POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) *
	SECS_PER_DAY - SECS_PER_DAY;
	pg_time_t	boundary;
	long int	before_gmtoff,
				after_gmtoff;
	int			before_isdst,
				after_isdst;
	int			res;

	/* DetermineTimeZoneOffset takes dates out of its range as UTC */
	if (date + POSTGRES_EPOCH_JDATE < 0 ||
		date + POSTGRES_EPOCH_JDATE > date2j(100000, 1, 1))
		return false;
	res = pg_next_dst_boundary(&t, &before_gmtoff, &before_isdst, &boundary,
							   &after_gmtoff, &after_isdst, tz);
	if (res < 0 || (res > 0 && boundary < t + 5 * SECS_PER_DAY))
		return false;
	*west = -(int) before_gmtoff;
	return true;
}

/* the offsets of tz for dates [first, first + ndates), from the cache */
static const RmZoneOffsets *
zone_offsets(pg_tz *tz, int first, int ndates)
{
	RmZoneOffsets *z;

	ndates = Min(ndates, RM_OFFSET_DATES);
	for (int i = 0; i < RM_OFFSET_CACHE; i++)
		if (offset_cache[i].tz == tz && offset_cache[i].first == first &&
			offset_cache[i].ndates == ndates)
			return &offset_cache[i];
	z = &offset_cache[offset_next];
	offset_next = (offset_next + 1) % RM_OFFSET_CACHE;
	z->tz = tz;
	z->first = first;
	z->ndates = ndates;
	for (int i = 0; i < z->ndates; i++)
		z->constant[i] = constant_offset(first + i, tz, &z->west[i]);
	return z;
}

/*
 * UTC instant of local wall-clock time (date, usecs after its midnight;
 * usecs may exceed a day, up to two), as "(date + time) AT TIME ZONE tz";
 * through the zone's offsets when they say the date's are constant.
 */
static TimestampTz
local_to_utc(int date, int64 usecs, pg_tz *tz, const RmZoneOffsets *z)
{
	int			i = date - z->first;

	if (i >= 0 && i < z->ndates && z->constant[i])
		return (TimestampTz) date * USECS_PER_DAY + usecs +
			(int64) z->west[i] * USECS_PER_SEC;
	return local_to_utc_exact(date, usecs, tz);
}

/*
 * Expand rows over [lo, hi).  Returns the number of intervals, *out
 * palloc'd in the current memory context.
 */
int
rm_expand_schedule(const RmHoursRow *rows, int nrows, pg_tz *tz,
				   TimestampTz lo, TimestampTz hi, RmInterval **out)
{
	int			first_date,
				last_date;
	int			n = 0;
	int			cap;
	RmInterval *iv;
	const RmZoneOffsets *z;

	if (hi <= lo)
	{
		*out = palloc(sizeof(RmInterval));
		return 0;
	}

	/* semantics §2: no rows at all = open 24x7 */
	if (nrows == 0)
	{
		iv = palloc(sizeof(RmInterval));
		iv[0].start = lo;
		iv[0].end = hi;
		*out = iv;
		return 1;
	}

	/*
	 * Local dates whose intervals can reach [lo, hi): zone offsets are under
	 * a day and an interval ends at most a day after its date starts, so two
	 * days of margin before lo and one after hi cover every case.
	 */
	first_date = (int) (lo / USECS_PER_DAY) - 2;
	if (lo < 0 && lo % USECS_PER_DAY != 0)
		first_date--;
	last_date = (int) (hi / USECS_PER_DAY) + 1;

	z = zone_offsets(tz, first_date, last_date - first_date + 1);
	cap = (last_date - first_date + 1) * nrows;
	iv = palloc(sizeof(RmInterval) * Max(cap, 1));

	for (int date = first_date; date <= last_date; date++)
	{
		/* j2day: 0 = Sunday; semantics §1: 0 = Monday */
		int			weekday = (j2day(date + POSTGRES_EPOCH_JDATE) + 6) % 7;

		for (int r = 0; r < nrows; r++)
		{
			int64		start = rows[r].start;
			int64		end = rows[r].end;
			TimestampTz s,
						e;

			if (rows[r].day != weekday)
				continue;
			if (end >= RM_MIDNIGHT_FROM)
				end = USECS_PER_DAY;	/* until midnight */
			else if (end <= start)
				end += USECS_PER_DAY;	/* past midnight; equal = 24 h */

			s = local_to_utc(date, start, tz, z);
			e = local_to_utc(date, end, tz, z);
			if (e <= lo || s >= hi || e <= s)
				continue;
			iv[n].start = Max(s, lo);
			iv[n].end = Min(e, hi);
			n++;
		}
	}

	n = rm_merge_intervals(iv, n);
	*out = iv;
	return n;
}
