/*-------------------------------------------------------------------------
 *
 * src/ingest.c
 *	  Ingestion of the three CSV sources (SPEC 1): status polls, business
 *	  hours and time zones.
 *
 * The file is read here, line by line, rather than through COPY: PostgreSQL
 * 15's COPY has no per-row error handling (one bad line aborts the load) and
 * its CSV parser lets one stray quote swallow the rest of the file, while
 * SPEC 1 wants every bad line kept with its number and reason and the rest
 * loaded.  Each value is still checked by PostgreSQL's own code: encoding
 * (pg_verifymbstr), timestamps (ParseDateTime/DecodeDateTime, exactly what
 * timestamptz_in runs, after a fast path for the usual form that only ever
 * agrees with them) and zone names (the server's time-zone database).
 * The same privilege as COPY FROM a file is required.
 *
 * Invariants:
 *	- a line is either staged (valid) or rejected, never both, never lost:
 *	  rows_read = rows_loaded + rows_duplicate + rows_rejected;
 *	- nothing of a file is applied unless the whole file was read: a missing
 *	  file or a header without a required column raises an error before any
 *	  change, and the caller's (sub)transaction covers the rest;
 *	- status rows accumulate (first of a store and instant wins); hours and
 *	  zones replace their snapshot inside the same transaction.
 *
 * Valid rows are never applied row by row through SQL: status polls are
 * sorted in memory and inserted in key order (apply_polls, observation.c);
 * hours and zones are staged in batches (arrays + unnest) and applied by
 * one statement per file.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/hash.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "restmon.h"

PG_FUNCTION_INFO_V1(restmon_ingest_status);
PG_FUNCTION_INFO_V1(restmon_ingest_hours);
PG_FUNCTION_INFO_V1(restmon_ingest_timezones);
PG_FUNCTION_INFO_V1(restmon_ingest);

#define RM_MAX_COLS		4
#define RM_BATCH_ROWS	50000
#define RM_READ_CHUNK	65536

typedef enum RmSource
{
	RM_SRC_STATUS,
	RM_SRC_HOURS,
	RM_SRC_TIMEZONES
} RmSource;

typedef struct RmColumn
{
	const char *names[4];		/* canonical name first, then aliases */
	Oid			type;			/* type of the staged value */
} RmColumn;

typedef struct RmSourceDef
{
	const char *name;			/* as in ingest_run.source */
	const char *file_names[3];	/* usual file names (SPEC 1) */
	int			ncols;
	RmColumn	cols[RM_MAX_COLS];
	const char *stage_sql;		/* creates the staging table */
	const char *insert_sql;		/* stages a batch: $1 line_no[], $2..
								 * values[] */
	const char *replace_sql;	/* run first: a lock, or for snapshots,
								 * emptying the table */
	const char *finish_sql;		/* applies the staged rows, returns
								 * (loaded, duplicates, conflicting
								 * line_no[]) */
} RmSourceDef;

/*
 * Hours and time zones (snapshots, small) are staged in a temporary table
 * without indexes, then applied by one set-based statement per file:
 * duplicates and conflicts are found with a window over the staged rows
 * (earlier line wins).  Status polls (large, accumulating) are gathered in
 * memory instead, sorted and applied in C (apply_polls).  Conflicting lines
 * come back as line numbers and byte offsets; their raw text is read again
 * from the file (they are rare, and no raw text is kept for the others).
 */
static const RmSourceDef rm_sources[] = {
	[RM_SRC_STATUS] = {
		"status",
		{"store_status.csv", "stores.csv", NULL},
		3,
		{
			{{"store_id", NULL}, TEXTOID},
			{{"timestamp_utc", NULL}, TIMESTAMPTZOID},
			{{"status", NULL}, BOOLOID},
		},
		/* polls are applied in C, see apply_polls() */
		NULL, NULL, NULL, NULL
	},
	[RM_SRC_HOURS] = {
		"hours",
		{"business_hours.csv", "menu_hours.csv", NULL},
		4,
		{
			{{"store_id", NULL}, TEXTOID},
			{{"day", "dayOfWeek", "day_of_week", NULL}, INT2OID},
			{{"start_time_local", NULL}, TIMEOID},
			{{"end_time_local", NULL}, TIMEOID},
		},
		"CREATE TEMP TABLE restmon_stage_hours (line_no int8,"
		" store_id text COLLATE \"C\", day_of_week int2, start_local time,"
		" end_local time) ON COMMIT DROP",
		"INSERT INTO pg_temp.restmon_stage_hours"
		" SELECT * FROM ROWS FROM (pg_catalog.unnest($1::int8[]),"
		"  pg_catalog.unnest($2::text[]), pg_catalog.unnest($3::int2[]),"
		"  pg_catalog.unnest($4::time[]), pg_catalog.unnest($5::time[]))",
		"DELETE FROM restmon.business_hours",
		"WITH ins AS ("
		"  INSERT INTO restmon.business_hours (store_id, day_of_week, start_local, end_local)"
		"  SELECT DISTINCT store_id, day_of_week, start_local, end_local"
		"  FROM pg_temp.restmon_stage_hours"
		"  ORDER BY 1, 2, 3, 4"
		"  RETURNING 1)"
		" SELECT (SELECT pg_catalog.count(*) FROM ins),"
		"  (SELECT pg_catalog.count(*) FROM pg_temp.restmon_stage_hours)"
		"    - (SELECT pg_catalog.count(*) FROM ins),"
		"  NULL::int8[]"
	},
	[RM_SRC_TIMEZONES] = {
		"timezones",
		{"timezones.csv", NULL, NULL},
		2,
		{
			{{"store_id", NULL}, TEXTOID},
			{{"timezone_str", "timezone", NULL}, TEXTOID},
		},
		"CREATE TEMP TABLE restmon_stage_timezones (line_no int8,"
		" store_id text COLLATE \"C\", timezone text) ON COMMIT DROP",
		"INSERT INTO pg_temp.restmon_stage_timezones"
		" SELECT * FROM ROWS FROM (pg_catalog.unnest($1::int8[]),"
		"  pg_catalog.unnest($2::text[]), pg_catalog.unnest($3::text[]))",
		"DELETE FROM restmon.store_timezone",
		"WITH ranked AS ("
		"  SELECT s.*, pg_catalog.first_value(s.timezone) OVER w AS first_tz,"
		"         pg_catalog.row_number() OVER w AS rn"
		"  FROM pg_temp.restmon_stage_timezones s"
		"  WINDOW w AS (PARTITION BY s.store_id ORDER BY s.line_no)),"
		" ins AS ("
		"  INSERT INTO restmon.store_timezone (store_id, timezone)"
		"  SELECT store_id, timezone FROM ranked WHERE rn = 1"
		"  RETURNING 1)"
		" SELECT (SELECT pg_catalog.count(*) FROM ins),"
		"  pg_catalog.count(*) FILTER (WHERE rn > 1 AND timezone = first_tz),"
		"  pg_catalog.array_agg(line_no ORDER BY line_no) FILTER (WHERE timezone <> first_tz)"
		" FROM ranked"
	},
};

/* state of one file's ingestion */
typedef struct RmIngest
{
	const RmSourceDef *def;
	RmSource	source;
	const char *path;
	int64		run_id;
	int			nfields;		/* fields in the header */
	int			colpos[RM_MAX_COLS];	/* header position of each column */

	MemoryContext batchcxt;		/* reset after each flush */
	int			nrows;			/* staged valid rows */
	int64	   *line_no;
	Datum	   *values[RM_MAX_COLS];
	int			nrej;			/* staged rejected rows */
	int64	   *rej_line_no;
	Datum	   *rej_raw;
	Datum	   *rej_reason;

	SPIPlanPtr	insert_plan;
	SPIPlanPtr	reject_plan;
	HTAB	   *zones;			/* timezones: known zone names */

	/* status: polls gathered in memory, applied in sorted chunks */
	MemoryContext pollcxt;
	HTAB	   *stores;			/* store_id -> index in store_text */
	text	  **store_text;
	int			nstores;
	int			store_cap;
	struct RmPollRow *polls;
	int			npolls;
	int			poll_cap;		/* allocated, grown up to max_polls */
	int			max_polls;		/* a chunk: maintenance_work_mem */

	int64		rows_read;
	int64		rows_loaded;
	int64		rows_duplicate;
	int64		rows_rejected;
} RmIngest;

/* ---------------------------------------------------------------------
 * Value parsers (SPEC 1).  Each returns false on a bad value.
 * ---------------------------------------------------------------------
 */

static pg_tz *utc_tz = NULL;

/*
 * The usual form of timestamp_utc, read directly: "YYYY-MM-DD HH:MM:SS"
 * (or 'T' between date and time), up to 6 fraction digits, then " UTC",
 * "Z", "+00", "+00:00" or nothing.  Returns false for anything else,
 * including out-of-range fields, and the caller then runs the general
 * parser, which decides; so this only ever agrees with it, faster.
 */
static bool
parse_timestamp_fast(const char *s, TimestampTz *result)
{
#define DIG(i) (s[i] >= '0' && s[i] <= '9')
#define NUM2(i) ((s[i] - '0') * 10 + (s[(i) + 1] - '0'))
	int			year,
				mon,
				mday,
				hour,
				min,
				sec;
	int64		frac = 0;
	int			ndig = 0;
	const char *p;

	if (!(DIG(0) && DIG(1) && DIG(2) && DIG(3) && s[4] == '-' &&
		  DIG(5) && DIG(6) && s[7] == '-' && DIG(8) && DIG(9) &&
		  (s[10] == ' ' || s[10] == 'T') &&
		  DIG(11) && DIG(12) && s[13] == ':' && DIG(14) && DIG(15) &&
		  s[16] == ':' && DIG(17) && DIG(18)))
		return false;
	year = NUM2(0) * 100 + NUM2(2);
	mon = NUM2(5);
	mday = NUM2(8);
	hour = NUM2(11);
	min = NUM2(14);
	sec = NUM2(17);
	p = s + 19;
	if (*p == '.')
	{
		for (p++; *p >= '0' && *p <= '9'; p++)
		{
			if (++ndig > 6)
				return false;	/* rounding: left to the general parser */
			frac = frac * 10 + (*p - '0');
		}
		if (ndig == 0)
			return false;
		for (int i = ndig; i < 6; i++)
			frac *= 10;
	}
	if (!(strcmp(p, " UTC") == 0 || strcmp(p, "Z") == 0 ||
		  strcmp(p, "+00") == 0 || strcmp(p, "+00:00") == 0 || *p == '\0'))
		return false;
	if (year < 1 || mon < 1 || mon > MONTHS_PER_YEAR ||
		mday < 1 || mday > day_tab[isleap(year)][mon - 1] ||
		hour > 23 || min > 59 || sec > 59)
		return false;
	*result = ((int64) (date2j(year, mon, mday) - POSTGRES_EPOCH_JDATE) * SECS_PER_DAY +
			   hour * SECS_PER_HOUR + min * SECS_PER_MINUTE + sec) * USECS_PER_SEC + frac;
	return IS_VALID_TIMESTAMP(*result);
#undef DIG
#undef NUM2
}

/*
 * A timestamp as timestamptz_in reads it, except that a value without a
 * zone means UTC (SPEC 1), whatever the session's TimeZone.
 */
static bool
parse_timestamp_utc(const char *s, TimestampTz *result)
{
	char		workbuf[MAXDATELEN + MAXDATEFIELDS];
	char	   *field[MAXDATEFIELDS];
	int			ftype[MAXDATEFIELDS];
	int			nf;
	int			dtype = 0;
	int			tz = 0;
	int			rc;
	struct pg_tm tm;
	fsec_t		fsec = 0;
	pg_tz	   *saved = session_timezone;

	if (parse_timestamp_fast(s, result))
		return true;
	if (strlen(s) > MAXDATELEN)
		return false;
	if (ParseDateTime(s, workbuf, sizeof(workbuf), field, ftype,
					  MAXDATEFIELDS, &nf) != 0)
		return false;

	/*
	 * DecodeDateTime raises an error, instead of returning one, for a zone
	 * name it cannot find (a date-like field starting with a letter, such as
	 * "America/New_York"): look such names up first.
	 */
	for (int i = 0; i < nf; i++)
		if (ftype[i] == DTK_DATE && isalpha((unsigned char) field[i][0]) &&
			pg_tzset(field[i]) == NULL)
			return false;

	/*
	 * SPEC 1's forms all start with the date; this also refuses the special
	 * words timestamptz_in knows ('now', 'today', 'epoch', 'infinity', ...),
	 * wherever they stand.
	 */
	if (nf == 0 || !isdigit((unsigned char) field[0][0]))
		return false;
	for (int i = 0; i < nf; i++)
	{
		static const char *const special[] = {"now", "today", "tomorrow",
		"yesterday", "epoch", "infinity", "-infinity", "allballs"};

		for (int k = 0; k < (int) lengthof(special); k++)
			if (strcmp(field[i], special[k]) == 0)
				return false;
	}

	if (utc_tz == NULL)
		utc_tz = pg_tzset("UTC");
	PG_TRY();
	{
		session_timezone = utc_tz;
		rc = DecodeDateTime(field, ftype, nf, &dtype, &tm, &fsec, &tz);
	}
	PG_FINALLY();
	{
		session_timezone = saved;
	}
	PG_END_TRY();

	if (rc != 0 || dtype != DTK_DATE)
		return false;			/* also refuses 'now', 'epoch', 'infinity' */
	if (tm2timestamp(&tm, fsec, &tz, result) != 0)
		return false;
	return IS_VALID_TIMESTAMP(*result);
}

static bool
parse_digits(const char **p, int mindigits, int maxdigits, int *value)
{
	int			n = 0;

	*value = 0;
	while (n < maxdigits && **p >= '0' && **p <= '9')
	{
		*value = *value * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	return n >= mindigits;
}

/*
 * SPEC 1: local times are H:MM or HH:MM[:SS[.ffffff]].  24:00[:00] is
 * accepted, as PostgreSQL's time type accepts it.
 */
bool
rm_parse_local_time(const char *s, int64 *usecs)
{
	const char *p = s;
	int			h,
				m,
				sec = 0,
				frac = 0;

	if (!parse_digits(&p, 1, 2, &h) || *p++ != ':' ||
		!parse_digits(&p, 2, 2, &m))
		return false;
	if (*p == ':')
	{
		p++;
		if (!parse_digits(&p, 2, 2, &sec))
			return false;
		if (*p == '.')
		{
			int			ndigits;
			const char *start = ++p;

			if (!parse_digits(&p, 1, 6, &frac))
				return false;
			for (ndigits = p - start; ndigits < 6; ndigits++)
				frac *= 10;
		}
	}
	if (*p != '\0' || m > 59 || sec > 59)
		return false;
	if (h > 24 || (h == 24 && (m != 0 || sec != 0 || frac != 0)))
		return false;
	*usecs = ((int64) (h * 60 + m) * 60 + sec) * USECS_PER_SEC + frac;
	return true;
}

/* ---------------------------------------------------------------------
 * Time-zone names: those of the server's time-zone database (SPEC 1)
 * ---------------------------------------------------------------------
 */

typedef struct RmZoneEntry
{
	char		name[TZ_STRLEN_MAX + 1];	/* lower case */
} RmZoneEntry;

static HTAB *
load_zone_names(void)
{
	HASHCTL		ctl;
	HTAB	   *h;

	ctl.keysize = TZ_STRLEN_MAX + 1;
	ctl.entrysize = sizeof(RmZoneEntry);
	ctl.hcxt = CurrentMemoryContext;
	h = hash_create("restmon zone names", 1024, &ctl,
					HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);

	if (SPI_execute("SELECT pg_catalog.lower(name) FROM pg_catalog.pg_timezone_names",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not list time-zone names");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *name = SPI_getvalue(SPI_tuptable->vals[i],
										SPI_tuptable->tupdesc, 1);

		if (name != NULL && strlen(name) <= TZ_STRLEN_MAX)
			hash_search(h, name, HASH_ENTER, NULL);
	}
	SPI_freetuptable(SPI_tuptable);
	return h;
}

static bool
zone_known(HTAB *zones, const char *name)
{
	char		key[TZ_STRLEN_MAX + 1];
	int			i;

	if (strlen(name) > TZ_STRLEN_MAX || name[0] == '\0')
		return false;
	for (i = 0; name[i] != '\0'; i++)
		key[i] = pg_ascii_tolower((unsigned char) name[i]);
	key[i] = '\0';
	return hash_search(zones, key, HASH_FIND, NULL) != NULL &&
		pg_tzset(name) != NULL;
}

/* ---------------------------------------------------------------------
 * CSV lines
 * ---------------------------------------------------------------------
 */

/*
 * Split one line (no line end) into fields, RFC 4180 style within the line:
 * a field may be quoted, with "" for a quote inside.  Fields are written
 * into buf (len + 1 bytes), pointers into fields[].  Returns the number of
 * fields, or -1 with *reason set.
 */
static int
split_csv_line(const char *line, int len, char *buf, char **fields,
			   int maxfields, const char **reason)
{
	int			nf = 0;
	const char *p = line;
	const char *end = line + len;
	char	   *o = buf;

	for (;;)
	{
		if (nf >= maxfields)
		{
			*reason = "too many fields";
			return -1;
		}
		fields[nf++] = o;
		if (p < end && *p == '"')
		{
			p++;
			for (;;)
			{
				if (p >= end)
				{
					*reason = "unbalanced quote";
					return -1;
				}
				if (*p == '"')
				{
					if (p + 1 < end && p[1] == '"')
					{
						*o++ = '"';
						p += 2;
						continue;
					}
					p++;
					break;
				}
				*o++ = *p++;
			}
			if (p < end && *p != ',')
			{
				*reason = "unbalanced quote";
				return -1;
			}
		}
		else
		{
			while (p < end && *p != ',')
			{
				if (*p == '"')
				{
					*reason = "unbalanced quote";
					return -1;
				}
				*o++ = *p++;
			}
		}
		*o++ = '\0';
		if (p >= end)
			break;
		p++;					/* the comma */
	}
	return nf;
}

/* trim surrounding blanks in place */
static char *
trim(char *s)
{
	char	   *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/* ---------------------------------------------------------------------
 * Batches
 * ---------------------------------------------------------------------
 */

static Datum
make_array(Datum *elems, int n, Oid type)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;

	get_typlenbyvalalign(type, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_array(elems, n, type,
										   typlen, typbyval, typalign));
}

static void
alloc_batch(RmIngest *st)
{
	MemoryContext old = MemoryContextSwitchTo(st->batchcxt);

	st->line_no = palloc(sizeof(int64) * RM_BATCH_ROWS);
	/* status polls are not staged (apply_polls), only their rejects */
	if (st->def->insert_sql != NULL)
		for (int c = 0; c < st->def->ncols; c++)
			st->values[c] = palloc(sizeof(Datum) * RM_BATCH_ROWS);
	st->rej_line_no = palloc(sizeof(int64) * RM_BATCH_ROWS);
	st->rej_raw = palloc(sizeof(Datum) * RM_BATCH_ROWS);
	st->rej_reason = palloc(sizeof(Datum) * RM_BATCH_ROWS);
	st->nrows = 0;
	st->nrej = 0;
	MemoryContextSwitchTo(old);
}

static Datum *
int64_datums(int64 *v, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * (n > 0 ? n : 1));

	for (int i = 0; i < n; i++)
		d[i] = Int64GetDatum(v[i]);
	return d;
}

static void
flush_batch(RmIngest *st)
{
	MemoryContext old = MemoryContextSwitchTo(st->batchcxt);

	if (st->nrej > 0)
	{
		Datum		args[5];
		Oid			types[5] = {INT8OID, TEXTOID, INT8ARRAYOID, BYTEAARRAYOID,
		TEXTARRAYOID};

		if (st->reject_plan == NULL)
		{
			st->reject_plan = SPI_prepare(
										  "INSERT INTO restmon.rejected_row (run_id, file, line_no, raw_line, reason)"
										  " SELECT $1, $2, u.* FROM ROWS FROM (pg_catalog.unnest($3),"
										  "   pg_catalog.unnest($4), pg_catalog.unnest($5)) AS u",
										  5, types);
			if (st->reject_plan == NULL)
				elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
			SPI_keepplan(st->reject_plan);
		}
		args[0] = Int64GetDatum(st->run_id);
		args[1] = CStringGetTextDatum(st->path);
		args[2] = make_array(int64_datums(st->rej_line_no, st->nrej), st->nrej, INT8OID);
		args[3] = make_array(st->rej_raw, st->nrej, BYTEAOID);
		args[4] = make_array(st->rej_reason, st->nrej, TEXTOID);
		if (SPI_execute_plan(st->reject_plan, args, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not store rejected rows");
		st->rows_rejected += st->nrej;
	}

	if (st->nrows > 0)
	{
		int			nargs = st->def->ncols + 1;
		Datum		args[RM_MAX_COLS + 1];
		Oid			types[RM_MAX_COLS + 1];

		types[0] = INT8ARRAYOID;
		for (int c = 0; c < st->def->ncols; c++)
			types[1 + c] = get_array_type(st->def->cols[c].type);

		if (st->insert_plan == NULL)
		{
			st->insert_plan = SPI_prepare(st->def->insert_sql, nargs, types);
			if (st->insert_plan == NULL)
				elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
			SPI_keepplan(st->insert_plan);
		}

		args[0] = make_array(int64_datums(st->line_no, st->nrows), st->nrows, INT8OID);
		for (int c = 0; c < st->def->ncols; c++)
			args[1 + c] = make_array(st->values[c], st->nrows, st->def->cols[c].type);

		if (SPI_execute_plan(st->insert_plan, args, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not stage a batch of %s rows", st->def->name);
	}

	MemoryContextSwitchTo(old);
	MemoryContextReset(st->batchcxt);
	alloc_batch(st);
}

static Datum
raw_datum(const char *line, int len)
{
	bytea	   *b = palloc(VARHDRSZ + len);

	SET_VARSIZE(b, VARHDRSZ + len);
	memcpy(VARDATA(b), line, len);
	return PointerGetDatum(b);
}

static void
reject_line(RmIngest *st, int64 line_no, const char *line, int len,
			const char *reason)
{
	MemoryContext old = MemoryContextSwitchTo(st->batchcxt);

	st->rej_line_no[st->nrej] = line_no;
	st->rej_raw[st->nrej] = raw_datum(line, len);
	st->rej_reason[st->nrej] = CStringGetTextDatum(reason);
	st->nrej++;
	MemoryContextSwitchTo(old);
	if (st->nrej >= RM_BATCH_ROWS)
		flush_batch(st);
}

/* ---------------------------------------------------------------------
 * Status polls (SPEC 1): gathered in memory up to maintenance_work_mem,
 * then sorted by (store_id, instant, line) and applied store by store
 * against what is stored, read through the primary key (observation.c):
 *	- the first line of a (store, instant) not stored yet is inserted;
 *	- a later line, or one whose (store, instant) is stored, is a duplicate
 *	  when its status agrees with the one that won, a conflicting duplicate
 *	  (rejected) otherwise.
 * New rows are inserted in key order, as COPY does, and restmon.store is
 * updated once per chunk.  A chunk sees the rows of the chunks before it,
 * so a file applied in several chunks gives the same result as in one.
 * ---------------------------------------------------------------------
 */

static FILE *open_source_file(const char *path);

typedef struct RmPollRow
{
	TimestampTz t;
	int64		line_no;
	int32		store;			/* index in store_text; rank while sorting */
	bool		active;
} RmPollRow;

typedef struct RmKeyRef
{
	const char *p;
	int			len;
} RmKeyRef;

typedef struct RmStoreEntry
{
	RmKeyRef	key;
	int32		idx;
} RmStoreEntry;

static uint32
keyref_hash(const void *key, Size keysize)
{
	const RmKeyRef *k = key;

	return DatumGetUInt32(hash_any((const unsigned char *) k->p, k->len));
}

static int
keyref_match(const void *a, const void *b, Size keysize)
{
	const RmKeyRef *x = a;
	const RmKeyRef *y = b;

	return (x->len == y->len && memcmp(x->p, y->p, x->len) == 0) ? 0 : 1;
}

static void
polls_init(RmIngest *st)
{
	HASHCTL		ctl;

	st->pollcxt = AllocSetContextCreate(CurrentMemoryContext,
										"restmon ingest polls",
										ALLOCSET_DEFAULT_SIZES);
	ctl.keysize = sizeof(RmKeyRef);
	ctl.entrysize = sizeof(RmStoreEntry);
	ctl.hash = keyref_hash;
	ctl.match = keyref_match;
	ctl.hcxt = st->pollcxt;
	st->stores = hash_create("restmon ingest stores", 1024, &ctl,
							 HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
	st->store_cap = 1024;
	st->store_text = MemoryContextAlloc(st->pollcxt, sizeof(text *) * st->store_cap);
	st->max_polls = (int) Min((int64) maintenance_work_mem * 1024 / (int64) sizeof(RmPollRow),
							  (int64) (MaxAllocHugeSize / sizeof(RmPollRow)));
	st->max_polls = Max(st->max_polls, 1024);
	st->poll_cap = Min(st->max_polls, 65536);
	st->polls = MemoryContextAllocHuge(st->pollcxt,
									   sizeof(RmPollRow) * (Size) st->poll_cap);
}

static int32
intern_store(RmIngest *st, const char *id, int len)
{
	RmKeyRef	key = {id, len};
	bool		found;
	RmStoreEntry *e = hash_search(st->stores, &key, HASH_ENTER, &found);

	if (!found)
	{
		text	   *t = MemoryContextAlloc(st->pollcxt, VARHDRSZ + len);

		SET_VARSIZE(t, VARHDRSZ + len);
		memcpy(VARDATA(t), id, len);
		e->key.p = VARDATA(t);	/* the key must outlive the line */
		if (st->nstores == st->store_cap)
		{
			st->store_cap *= 2;
			st->store_text = repalloc(st->store_text, sizeof(text *) * st->store_cap);
		}
		e->idx = st->nstores;
		st->store_text[st->nstores++] = t;
	}
	return e->idx;
}

static int
text_ptr_cmp(const void *a, const void *b)
{
	const text *x = *(text *const *) a;
	const text *y = *(text *const *) b;
	int			xl = VARSIZE(x) - VARHDRSZ;
	int			yl = VARSIZE(y) - VARHDRSZ;
	int			c = memcmp(VARDATA(x), VARDATA(y), Min(xl, yl));

	return c != 0 ? c : (xl > yl) - (xl < yl);
}

static int
poll_cmp(const void *a, const void *b)
{
	const RmPollRow *x = a;
	const RmPollRow *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return (x->line_no > y->line_no) - (x->line_no < y->line_no);
}

/*
 * Order the rows by (store rank, instant, line): the store field becomes
 * the rank, rows are moved to their store's bucket in place (American flag
 * sort, linear), then each bucket, one store's rows, is sorted by time.
 */
static void
sort_polls(RmPollRow *rows, int n, const int32 *rank, int nstores)
{
	int		   *next = palloc0(sizeof(int) * (nstores + 1));
	int		   *end = palloc(sizeof(int) * nstores);
	int			start = 0;

	for (int i = 0; i < n; i++)
	{
		rows[i].store = rank[rows[i].store];
		next[rows[i].store]++;
	}
	for (int r = 0; r < nstores; r++)
	{
		int			count = next[r];

		next[r] = start;
		start += count;
		end[r] = start;
	}
	for (int r = 0; r < nstores; r++)
	{
		for (int i = next[r]; i < end[r]; i = ++next[r])
		{
			int32		b;

			while ((b = rows[i].store) != r)
			{
				RmPollRow	tmp = rows[next[b]];

				rows[next[b]++] = rows[i];
				rows[i] = tmp;
			}
		}
	}
	start = 0;
	for (int r = 0; r < nstores; r++)
	{
		if (end[r] - start > 1)
			qsort(rows + start, end[r] - start, sizeof(RmPollRow), poll_cmp);
		start = end[r];
	}
	pfree(next);
	pfree(end);
}

static int
int64_cmp(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/*
 * Reject these lines as conflicting duplicates, with their raw text read
 * again from the file (they are rare: no raw text is kept for the others).
 * Lines are counted as ingest_file counts them.
 */
static void
reject_conflicts(RmIngest *st, int64 *line_nos, int n)
{
	FILE	   *fp;
	StringInfoData line;
	int64		line_no = 0;
	int			next = 0;
	int			c;

	if (n == 0)
		return;
	qsort(line_nos, n, sizeof(int64), int64_cmp);
	fp = open_source_file(st->path);
	initStringInfo(&line);
	while (next < n)
	{
		resetStringInfo(&line);
		while ((c = getc(fp)) != EOF && c != '\n')
			if (line_no + 1 == line_nos[next])
				appendStringInfoChar(&line, (char) c);
		if (c == EOF && line.len == 0 && line_no + 1 < line_nos[next])
			elog(ERROR, "file \"%s\" changed while it was read", st->path);
		line_no++;
		if (line_no < line_nos[next])
			continue;
		if (line.len > 0 && line.data[line.len - 1] == '\r')
			line.data[--line.len] = '\0';
		reject_line(st, line_no, line.data, line.len, "conflicting duplicate");
		next++;
	}
	FreeFile(fp);
	pfree(line.data);
}

static void
apply_polls(RmIngest *st)
{
	RmObsTable	obs;
	text	  **by_rank;
	int32	   *rank;
	RmObs	   *stored;
	int			stored_cap = 256;
	int64	   *conflict_no = NULL;
	int			nconflicts = 0;
	int			conflict_cap = 0;
	Datum	   *track_id;
	Datum	   *track_lo;
	Datum	   *track_hi;
	int			ntrack = 0;
	MemoryContext applycxt;
	MemoryContext oldcxt;

	if (st->npolls == 0)
		return;
	applycxt = AllocSetContextCreate(CurrentMemoryContext,
									 "restmon ingest apply",
									 ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(applycxt);

	/* sort by (store_id in byte order, instant, line) */
	by_rank = palloc(sizeof(text *) * st->nstores);
	memcpy(by_rank, st->store_text, sizeof(text *) * st->nstores);
	qsort(by_rank, st->nstores, sizeof(text *), text_ptr_cmp);
	rank = palloc(sizeof(int32) * st->nstores);
	for (int r = 0; r < st->nstores; r++)
	{
		RmKeyRef	key = {VARDATA(by_rank[r]), VARSIZE(by_rank[r]) - VARHDRSZ};
		RmStoreEntry *e = hash_search(st->stores, &key, HASH_FIND, NULL);

		rank[e->idx] = r;
	}
	sort_polls(st->polls, st->npolls, rank, st->nstores);

	/*
	 * One status ingestion at a time, so what it found absent stays absent
	 * until it inserts it; then a snapshot taken after the lock (in READ
	 * COMMITTED) that also sees the chunks applied before this one.
	 */
	rm_obs_open(&obs, ShareRowExclusiveLock, ACL_SELECT | ACL_INSERT);
	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	UpdateActiveSnapshotCommandId();

	stored = palloc(sizeof(RmObs) * stored_cap);
	track_id = palloc(sizeof(Datum) * st->nstores);
	track_lo = palloc(sizeof(Datum) * st->nstores);
	track_hi = palloc(sizeof(Datum) * st->nstores);

	for (int i = 0, j; i < st->npolls; i = j)
	{
		Datum		id = PointerGetDatum(by_rank[st->polls[i].store]);
		int			nstored;
		int			k = 0;
		TimestampTz lo = 0;
		TimestampTz hi = 0;
		bool		inserted = false;

		CHECK_FOR_INTERRUPTS();
		for (j = i + 1; j < st->npolls && st->polls[j].store == st->polls[i].store; j++)
			;
		nstored = rm_obs_read(&obs, id, st->polls[i].t - 1, st->polls[j - 1].t,
							  &stored, &stored_cap);

		for (int g = i, h; g < j; g = h)
		{
			TimestampTz t = st->polls[g].t;
			bool		winner;
			int			from;

			for (h = g + 1; h < j && st->polls[h].t == t; h++)
				;
			while (k < nstored && stored[k].t < t)
				k++;
			if (k < nstored && stored[k].t == t)
			{
				winner = stored[k].active;
				from = g;
			}
			else
			{
				winner = st->polls[g].active;
				rm_obs_insert(&obs, id, t, winner);
				st->rows_loaded++;
				if (!inserted)
					lo = t;
				hi = t;
				inserted = true;
				from = g + 1;
			}
			for (int r = from; r < h; r++)
			{
				if (st->polls[r].active == winner)
				{
					st->rows_duplicate++;
					continue;
				}
				if (nconflicts == conflict_cap)
				{
					conflict_cap = Max(64, conflict_cap * 2);
					conflict_no = conflict_no ? repalloc(conflict_no, sizeof(int64) * conflict_cap)
						: palloc(sizeof(int64) * conflict_cap);
				}
				conflict_no[nconflicts] = st->polls[r].line_no;
				nconflicts++;
			}
		}
		if (inserted)
		{
			track_id[ntrack] = id;
			track_lo[ntrack] = TimestampTzGetDatum(lo);
			track_hi[ntrack] = TimestampTzGetDatum(hi);
			ntrack++;
		}
	}
	rm_obs_close(&obs);
	PopActiveSnapshot();

	/* restmon.store, as the statement trigger keeps it for other writers */
	if (ntrack > 0)
	{
		Datum		args[3];
		Oid			types[3] = {TEXTARRAYOID, TIMESTAMPTZARRAYOID, TIMESTAMPTZARRAYOID};

		args[0] = make_array(track_id, ntrack, TEXTOID);
		args[1] = make_array(track_lo, ntrack, TIMESTAMPTZOID);
		args[2] = make_array(track_hi, ntrack, TIMESTAMPTZOID);
		if (SPI_execute_with_args("SELECT restmon.track_stores($1, $2, $3)",
								  3, types, args, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not update restmon.store");
	}

	reject_conflicts(st, conflict_no, nconflicts);
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(applycxt);
	st->npolls = 0;
}

static void
add_poll(RmIngest *st, const char *id, TimestampTz t, bool active,
		 int64 line_no)
{
	RmPollRow  *row;

	if (st->npolls == st->poll_cap && st->poll_cap < st->max_polls)
	{
		st->poll_cap = (int) Min((int64) st->poll_cap * 2, (int64) st->max_polls);
		st->polls = repalloc_huge(st->polls, sizeof(RmPollRow) * (Size) st->poll_cap);
	}
	if (st->npolls == st->max_polls)
		apply_polls(st);
	row = &st->polls[st->npolls++];
	row->t = t;
	row->line_no = line_no;
	row->store = intern_store(st, id, strlen(id));
	row->active = active;
}

/* ---------------------------------------------------------------------
 * Header and data lines
 * ---------------------------------------------------------------------
 */

static void
parse_header(RmIngest *st, char *line, int len)
{
	char	   *buf = pnstrdup(line, len);
	char	   *fields[256];
	int			nf = 0;

	/*
	 * Header names are split at every comma; the surrounding spaces and
	 * quotes of each name are ignored (SPEC 1).
	 */
	fields[nf++] = buf;
	for (char *p = buf; *p != '\0'; p++)
	{
		if (*p != ',')
			continue;
		if (nf == lengthof(fields))
			ereport(ERROR,
					(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
					 errmsg("header line of file \"%s\" has more than %d fields",
							st->path, (int) lengthof(fields))));
		*p = '\0';
		fields[nf++] = p + 1;
	}
	st->nfields = nf;

	for (int c = 0; c < st->def->ncols; c++)
	{
		const RmColumn *col = &st->def->cols[c];

		st->colpos[c] = -1;
		for (int f = 0; f < nf && st->colpos[c] < 0; f++)
		{
			/* SPEC 1: case-insensitive, surrounding spaces and quotes ignored */
			char	   *name = fields[f];
			char	   *e;

			while (*name == ' ' || *name == '\t' || *name == '"' || *name == '\'')
				name++;
			e = name + strlen(name);
			while (e > name && (e[-1] == ' ' || e[-1] == '\t' ||
								e[-1] == '"' || e[-1] == '\''))
				*--e = '\0';
			for (int a = 0; a < 4 && col->names[a] != NULL; a++)
				if (pg_strcasecmp(name, col->names[a]) == 0)
					st->colpos[c] = f;
		}
		if (st->colpos[c] < 0)
		{
			StringInfoData aliases;

			initStringInfo(&aliases);
			for (int a = 1; a < 4 && col->names[a] != NULL; a++)
				appendStringInfo(&aliases, "%s\"%s\"", a > 1 ? ", " : "", col->names[a]);
			ereport(ERROR,
					(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
					 errmsg("file \"%s\" has no column \"%s\"",
							st->path, col->names[0]),
					 aliases.len > 0 ?
					 errdetail("The header line is \"%.*s\"; accepted names for the column are \"%s\", %s.",
							   len, line, col->names[0], aliases.data) :
					 errdetail("The header line is \"%.*s\".", len, line),
					 errhint("The %s file needs the columns named in SPEC section 1, in any order.",
							 st->def->name)));
		}
	}
}

/* validate one data line; stage it or reject it */
static void
ingest_line(RmIngest *st, int64 line_no, char *line, int len,
			char *buf, char **fields)
{
	const char *reason = NULL;
	char		rbuf[256];
	Datum		v[RM_MAX_COLS];
	char	   *f[RM_MAX_COLS];
	int			nf;
	MemoryContext old;
	bool		blank = true;

	for (int i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t')
			blank = false;
	if (blank)
	{
		reject_line(st, line_no, line, len, "blank line");
		return;
	}
	if (!pg_verifymbstr(line, len, true))
	{
		reject_line(st, line_no, line, len,
					psprintf("invalid byte sequence for encoding \"%s\"",
							 GetDatabaseEncodingName()));
		return;
	}
	nf = split_csv_line(line, len, buf, fields, st->nfields + 1, &reason);
	if (nf < 0 && strcmp(reason, "too many fields") != 0)
	{
		reject_line(st, line_no, line, len, reason);
		return;
	}
	if (nf != st->nfields)
	{
		snprintf(rbuf, sizeof(rbuf), "expected %d fields, found %s",
				 st->nfields, nf < 0 ? "more" : psprintf("%d", nf));
		reject_line(st, line_no, line, len, rbuf);
		return;
	}
	for (int c = 0; c < st->def->ncols; c++)
		f[c] = trim(fields[st->colpos[c]]);

	if (f[0][0] == '\0')
	{
		reject_line(st, line_no, line, len, "empty store_id");
		return;
	}

	if (st->source == RM_SRC_STATUS)
	{
		TimestampTz ts;
		bool		active = false;

		old = MemoryContextSwitchTo(st->batchcxt);
		if (!parse_timestamp_utc(f[1], &ts))
			reason = psprintf("bad timestamp_utc \"%s\"", f[1]);
		else if (pg_strcasecmp(f[2], "active") == 0)
			active = true;
		else if (pg_strcasecmp(f[2], "inactive") == 0)
			active = false;
		else
			reason = psprintf("unknown status \"%s\" (expected active or inactive)", f[2]);
		MemoryContextSwitchTo(old);
		if (reason != NULL)
			reject_line(st, line_no, line, len, reason);
		else
			add_poll(st, f[0], ts, active, line_no);
		return;
	}

	old = MemoryContextSwitchTo(st->batchcxt);
	v[0] = CStringGetTextDatum(f[0]);
	switch (st->source)
	{
		case RM_SRC_STATUS:
			Assert(false);
			break;
		case RM_SRC_HOURS:
			{
				int64		start,
							end;

				if (!(f[1][0] >= '0' && f[1][0] <= '6' && f[1][1] == '\0'))
					reason = psprintf("bad day \"%s\" (expected 0 = Monday ... 6 = Sunday)", f[1]);
				else if (!rm_parse_local_time(f[2], &start))
					reason = psprintf("bad start_time_local \"%s\" (expected HH:MM[:SS[.ffffff]])", f[2]);
				else if (!rm_parse_local_time(f[3], &end))
					reason = psprintf("bad end_time_local \"%s\" (expected HH:MM[:SS[.ffffff]])", f[3]);
				else
				{
					v[1] = Int16GetDatum(f[1][0] - '0');
					v[2] = TimeADTGetDatum(start);
					v[3] = TimeADTGetDatum(end);
				}
				break;
			}
		case RM_SRC_TIMEZONES:
			if (!zone_known(st->zones, f[1]))
				reason = psprintf("unknown time zone \"%s\"", f[1]);
			else
				v[1] = CStringGetTextDatum(f[1]);
			break;
	}
	MemoryContextSwitchTo(old);

	if (reason != NULL)
	{
		reject_line(st, line_no, line, len, reason);
		return;
	}

	old = MemoryContextSwitchTo(st->batchcxt);
	st->line_no[st->nrows] = line_no;
	for (int c = 0; c < st->def->ncols; c++)
		st->values[c][st->nrows] = v[c];
	st->nrows++;
	MemoryContextSwitchTo(old);
	if (st->nrows >= RM_BATCH_ROWS)
		flush_batch(st);
}

/* ---------------------------------------------------------------------
 * One file
 * ---------------------------------------------------------------------
 */

static char *
resolve_path(const char *path)
{
	if (is_absolute_path(path))
		return pstrdup(path);
	if (restmon_data_dir == NULL || restmon_data_dir[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("relative path \"%s\" needs restmon.data_dir", path),
				 errhint("Give an absolute path, or set restmon.data_dir.")));
	return psprintf("%s/%s", restmon_data_dir, path);
}

static void
check_read_privilege(void)
{
	if (!has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to ingest files"),
				 errhint("Only superusers and members of pg_read_server_files can read server files, as for COPY FROM a file.")));
}

static FILE *
open_source_file(const char *path)
{
	FILE	   *fp = AllocateFile(path, PG_BINARY_R);
	struct stat stbuf;

	if (fp == NULL)
	{
		int			save_errno = errno;

		errno = save_errno;
		ereport(ERROR,
				(save_errno == ENOENT ? errcode(ERRCODE_UNDEFINED_FILE) :
				 errcode_for_file_access(),
				 errmsg("could not open file \"%s\" for reading: %m", path),
				 errhint("The file is read by the database server's operating-system user.")));
	}
	if (fstat(fileno(fp), &stbuf) == 0 && S_ISDIR(stbuf.st_mode))
	{
		FreeFile(fp);
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is a directory", path)));
	}
	return fp;
}

static int64
insert_run(const char *source, const char *path)
{
	Datum		args[2] = {CStringGetTextDatum(source), CStringGetTextDatum(path)};
	Oid			types[2] = {TEXTOID, TEXTOID};
	bool		isnull;
	int64		run_id;

	if (SPI_execute_with_args("INSERT INTO restmon.ingest_run (source, file)"
							  " VALUES ($1, $2) RETURNING run_id",
							  2, types, args, NULL, false, 1) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "could not log the ingest run");
	run_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
										 SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return run_id;
}

static void
finish_run(int64 run_id, int64 counts[4], const char *outcome, const char *error)
{
	Datum		args[7];
	Oid			types[7] = {INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, TEXTOID, TEXTOID};
	char		nulls[7] = "      ";

	args[0] = Int64GetDatum(run_id);
	for (int i = 0; i < 4; i++)
		args[1 + i] = Int64GetDatum(counts[i]);
	args[5] = CStringGetTextDatum(outcome);
	if (error)
		args[6] = CStringGetTextDatum(error);
	else
	{
		args[6] = (Datum) 0;
		nulls[6] = 'n';
	}
	if (SPI_execute_with_args("UPDATE restmon.ingest_run SET finished_at = pg_catalog.clock_timestamp(),"
							  " rows_read = $2, rows_loaded = $3, rows_duplicate = $4,"
							  " rows_rejected = $5, outcome = $6, error = $7 WHERE run_id = $1",
							  7, types, args, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not log the ingest run");
}

/* an empty staging table for this source, dropped at commit */
static void
create_stage(RmIngest *st)
{
	char	   *sql = psprintf("SELECT pg_catalog.to_regclass('pg_temp.restmon_stage_%s') IS NOT NULL",
							   st->def->name);
	bool		isnull;
	bool		exists;

	if (SPI_execute(sql, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look for the staging table");
	exists = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
										SPI_tuptable->tupdesc, 1, &isnull));
	if (exists)
		sql = psprintf("TRUNCATE pg_temp.restmon_stage_%s", st->def->name);
	else
		sql = (char *) st->def->stage_sql;
	if (SPI_execute(sql, false, 0) < 0)
		elog(ERROR, "could not prepare the staging table");
}

/*
 * Apply the staged rows (SPEC 1): snapshots are replaced, polls added;
 * conflicting duplicates are rejected with their raw line.
 */
static void
apply_stage(RmIngest *st)
{
	bool		isnull;
	Datum		d;
	char	   *sql = psprintf("ANALYZE pg_temp.restmon_stage_%s", st->def->name);

	if (SPI_execute(sql, false, 0) < 0)
		elog(ERROR, "could not analyze the staging table");
	if (st->def->replace_sql != NULL &&
		SPI_execute(st->def->replace_sql, false, 0) < 0)
		elog(ERROR, "could not prepare to apply the %s rows", st->def->name);
	if (SPI_execute(st->def->finish_sql, false, 0) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not apply the %s rows", st->def->name);

	st->rows_loaded += DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
												   SPI_tuptable->tupdesc, 1, &isnull));
	st->rows_duplicate += DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
													  SPI_tuptable->tupdesc, 2, &isnull));
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull);
	if (!isnull)
	{
		ArrayType  *nos = DatumGetArrayTypePCopy(d);
		Datum	   *no_d;
		int			n;
		int64	   *line_nos;

		deconstruct_array(nos, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
						  &no_d, NULL, &n);
		line_nos = palloc(sizeof(int64) * n);
		for (int i = 0; i < n; i++)
			line_nos[i] = DatumGetInt64(no_d[i]);
		reject_conflicts(st, line_nos, n);
		flush_batch(st);
	}
	SPI_freetuptable(SPI_tuptable);
}

/*
 * Ingest one file of one source.  Raises an error (and changes nothing, as
 * the caller's transaction aborts) for a missing file or a bad header; bad
 * lines are rejected and kept.  Must be called inside SPI.
 */
static void
ingest_file(RmSource source, const char *path, RmIngest *st)
{
	FILE	   *fp;
	char	   *chunk;
	StringInfoData line;
	int64		line_no = 0;
	bool		header_done = false;
	char	   *buf = NULL;
	char	  **fields = NULL;
	int			bufsize = 0;
	size_t		n;
	int64		counts[4];

	memset(st, 0, sizeof(*st));
	st->source = source;
	st->def = &rm_sources[source];
	st->path = path;
	st->batchcxt = AllocSetContextCreate(CurrentMemoryContext,
										 "restmon ingest batch",
										 ALLOCSET_DEFAULT_SIZES);

	check_read_privilege();
	fp = open_source_file(path);

	if (source == RM_SRC_TIMEZONES)
		st->zones = load_zone_names();
	st->run_id = insert_run(st->def->name, path);
	alloc_batch(st);

	chunk = palloc(RM_READ_CHUNK);
	initStringInfo(&line);

	/* read whole lines; the last one may lack its newline (SPEC 1) */
	for (;;)
	{
		char	   *p,
				   *end,
				   *nl;
		bool		eof;

		n = fread(chunk, 1, RM_READ_CHUNK, fp);
		if (n == 0 && ferror(fp))
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read file \"%s\": %m", path)));
		eof = (n == 0);
		p = chunk;
		end = chunk + n;
		while (p < end || (eof && line.len > 0))
		{
			int			len;

			if (!eof)
			{
				nl = memchr(p, '\n', end - p);
				if (nl == NULL)
				{
					appendBinaryStringInfo(&line, p, end - p);
					break;
				}
				appendBinaryStringInfo(&line, p, nl - p);
				p = nl + 1;
			}

			CHECK_FOR_INTERRUPTS();
			line_no++;
			len = line.len;
			if (len > 0 && line.data[len - 1] == '\r')
				line.data[--len] = '\0';	/* CRLF */

			if (!header_done)
			{
				char	   *h = line.data;

				/* a UTF-8 byte-order mark before the header */
				if (len >= 3 && memcmp(h, "\xEF\xBB\xBF", 3) == 0)
				{
					h += 3;
					len -= 3;
				}
				if (!pg_verifymbstr(h, len, true))
					ereport(ERROR,
							(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
							 errmsg("header line of file \"%s\" is not valid %s",
									path, GetDatabaseEncodingName())));
				parse_header(st, h, len);
				if (source == RM_SRC_STATUS)
					polls_init(st);
				else
					create_stage(st);
				header_done = true;
			}
			else
			{
				if (len + 1 > bufsize)
				{
					bufsize = Max(len + 1, 1024) * 2;
					buf = buf ? repalloc(buf, bufsize) : palloc(bufsize);
				}
				if (fields == NULL)
					fields = palloc(sizeof(char *) * (st->nfields + 1));
				st->rows_read++;
				ingest_line(st, line_no, line.data, len, buf, fields);
			}
			resetStringInfo(&line);
			if (eof)
				break;
		}
		if (eof)
			break;
	}
	FreeFile(fp);

	if (!header_done)
		ereport(ERROR,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("file \"%s\" is empty", path),
				 errdetail("A header line naming the columns is required.")));

	if (source == RM_SRC_STATUS)
	{
		apply_polls(st);
		flush_batch(st);		/* the last rejected lines */
	}
	else
	{
		flush_batch(st);
		apply_stage(st);
	}

	counts[0] = st->rows_read;
	counts[1] = st->rows_loaded;
	counts[2] = st->rows_duplicate;
	counts[3] = st->rows_rejected;
	finish_run(st->run_id, counts, "loaded", NULL);
	if (st->insert_plan)
		SPI_freeplan(st->insert_plan);
	if (st->reject_plan)
		SPI_freeplan(st->reject_plan);
	MemoryContextDelete(st->batchcxt);
	if (st->pollcxt)
		MemoryContextDelete(st->pollcxt);
}

/* ---------------------------------------------------------------------
 * SQL-callable functions
 * ---------------------------------------------------------------------
 */

#define RM_SUMMARY_COLS 7

/* the first six columns of a summary row: file, the counts, outcome */
static void
summary_values(Datum *values, const char *path, const RmIngest *st,
			   const char *outcome)
{
	values[0] = CStringGetTextDatum(path);
	values[1] = Int64GetDatum(st->rows_read);
	values[2] = Int64GetDatum(st->rows_loaded);
	values[3] = Int64GetDatum(st->rows_duplicate);
	values[4] = Int64GetDatum(st->rows_rejected);
	values[5] = CStringGetTextDatum(outcome);
}

static Datum
ingest_one_source(FunctionCallInfo fcinfo, RmSource source)
{
	char	   *path = resolve_path(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	RmIngest	st;
	TupleDesc	tupdesc;
	Datum		values[RM_SUMMARY_COLS];
	bool		nulls[RM_SUMMARY_COLS] = {0};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	SPI_connect();
	ingest_file(source, path, &st);
	SPI_finish();

	summary_values(values, path, &st, "loaded");
	values[6] = Int64GetDatum(st.run_id);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}

Datum
restmon_ingest_status(PG_FUNCTION_ARGS)
{
	return ingest_one_source(fcinfo, RM_SRC_STATUS);
}

Datum
restmon_ingest_hours(PG_FUNCTION_ARGS)
{
	return ingest_one_source(fcinfo, RM_SRC_HOURS);
}

Datum
restmon_ingest_timezones(PG_FUNCTION_ARGS)
{
	return ingest_one_source(fcinfo, RM_SRC_TIMEZONES);
}

/*
 * restmon_ingest(dir): each source found in dir, each in its own
 * subtransaction: a file that fails is rolled back alone, logged as failed,
 * and reported in its summary row with a warning; the others still load.
 */
Datum
restmon_ingest(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *dir;
	volatile int nfound = 0;
	struct stat stbuf;
	/* time zones and hours first: they are small and a report needs them */
	static const RmSource order[] = {RM_SRC_TIMEZONES, RM_SRC_HOURS, RM_SRC_STATUS};

	if (PG_ARGISNULL(0))
	{
		if (restmon_data_dir == NULL || restmon_data_dir[0] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("no directory given and restmon.data_dir is not set"),
					 errhint("Call restmon_ingest('/path/to/dir') or set restmon.data_dir.")));
		dir = pstrdup(restmon_data_dir);
	}
	else
		dir = resolve_path(text_to_cstring(PG_GETARG_TEXT_PP(0)));

	check_read_privilege();
	if (stat(dir, &stbuf) != 0 || !S_ISDIR(stbuf.st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("directory \"%s\" does not exist", dir),
				 errhint("The directory is read by the database server's operating-system user.")));

	InitMaterializedSRF(fcinfo, 0);

	for (int i = 0; i < (int) lengthof(order); i++)
	{
		const RmSourceDef *def = &rm_sources[order[i]];
		char	   *path = NULL;
		Datum		values[RM_SUMMARY_COLS];
		bool		nulls[RM_SUMMARY_COLS] = {0};
		RmIngest	st;
		MemoryContext oldcxt = CurrentMemoryContext;
		ResourceOwner oldowner = CurrentResourceOwner;
		char	   *volatile error = NULL;

		for (int f = 0; f < 3 && def->file_names[f] != NULL; f++)
		{
			char	   *candidate = psprintf("%s/%s", dir, def->file_names[f]);

			if (stat(candidate, &stbuf) == 0)
			{
				path = candidate;
				break;
			}
		}
		if (path == NULL)
			continue;
		nfound++;

		memset(&st, 0, sizeof(st));
		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(oldcxt);
		PG_TRY();
		{
			SPI_connect();
			ingest_file(order[i], path, &st);
			SPI_finish();
			ReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(oldcxt);
			CurrentResourceOwner = oldowner;
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(oldcxt);
			edata = CopyErrorData();
			FlushErrorState();
			RollbackAndReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(oldcxt);
			CurrentResourceOwner = oldowner;
			error = edata->message;
			st.rows_read = st.rows_loaded = st.rows_duplicate = st.rows_rejected = 0;
			ereport(WARNING,
					(errcode(edata->sqlerrcode),
					 errmsg("%s file not loaded: %s", def->name, edata->message),
					 edata->detail ? errdetail_internal("%s", edata->detail) : 0));
		}
		PG_END_TRY();

		if (error != NULL)
		{
			int64		counts[4] = {0, 0, 0, 0};

			SPI_connect();
			st.run_id = insert_run(def->name, path);
			finish_run(st.run_id, counts, "failed", error);
			SPI_finish();
		}

		summary_values(values, path, &st, error ? "failed" : "loaded");
		if (error)
			values[6] = CStringGetTextDatum(error);
		else
			nulls[6] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	if (nfound == 0)
		ereport(WARNING,
				(errmsg("no source file found in \"%s\"", dir),
				 errhint("Expected store_status.csv or stores.csv, business_hours.csv or menu_hours.csv, timezones.csv.")));
	return (Datum) 0;
}
