/*-------------------------------------------------------------------------
 *
 * src/parse.c
 *	  The values of the CSV sources (semantics §1): UTC timestamps, local
 *	  times of day and time-zone names.  Each parser returns false on a bad
 *	  value and never raises an error for one.
 *
 * Timestamps are read by PostgreSQL's own code (ParseDateTime and
 * DecodeDateTime, exactly what timestamptz_in runs) after a fast path for
 * the usual form that only ever agrees with them; zone names are those of
 * the server's time-zone database.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "executor/spi.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "utils/datetime.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"

#include "ingest_int.h"

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
	*result = ((int64) (date2j(year, mon, mday) - POSTGRES_EPOCH_JDATE) *
			   SECS_PER_DAY + hour * SECS_PER_HOUR + min * SECS_PER_MINUTE +
			   sec) * USECS_PER_SEC + frac;
	return IS_VALID_TIMESTAMP(*result);
#undef DIG
#undef NUM2
}

/*
 * The words of a timestamp (ParseDateTime's fields, lower case) that do not
 * depend on the session (semantics §1.3): "utc", "gmt", "ut", "z" and
 * "zulu" become the offset +00; a word the session's
 * timezone_abbreviations knows ("ist", "est", "cet", ...) is refused, as
 * its meaning depends on that setting; so is any word that is not one of
 * PostgreSQL's fixed date words (month and day names, am/pm, "t", ...),
 * such as a zone name without a "/" ("japan", "posixrules", "localtime").
 * Returns false to refuse the value.
 */
static bool
pin_zone_words(char **field, int *ftype, int nf)
{
	static char utc_offset[] = "+00";

	for (int i = 0; i < nf; i++)
	{
		int			val;
		pg_tz	   *valtz;

		if (ftype[i] != DTK_STRING && ftype[i] != DTK_SPECIAL)
			continue;
		if (strcmp(field[i], "utc") == 0 || strcmp(field[i], "gmt") == 0 ||
			strcmp(field[i], "ut") == 0 || strcmp(field[i], "z") == 0 ||
			strcmp(field[i], "zulu") == 0)
		{
			field[i] = utc_offset;
			ftype[i] = DTK_TZ;
			continue;
		}
		if (DecodeTimezoneAbbrev(i, field[i], &val, &valtz) != UNKNOWN_FIELD)
			return false;
		if (DecodeSpecial(i, field[i], &val) == UNKNOWN_FIELD)
			return false;
	}
	return true;
}

/*
 * A timestamp as timestamptz_in reads it, except that a value without a
 * zone means UTC (semantics §1), whatever the session's TimeZone.
 */
bool
rm_parse_timestamp_utc(const char *s, TimestampTz *result)
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
	int			saved_order = DateOrder;

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
	 * The forms of semantics §1 all start with the date; this also refuses
	 * the special words timestamptz_in knows ('now', 'today', 'epoch',
	 * 'infinity', ...), wherever they stand.
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

	if (!pin_zone_words(field, ftype, nf))
		return false;

	/*
	 * Semantics §1.3: the session's settings play no part.  No zone means
	 * UTC, whatever TimeZone says; numeric dates are read year first, as
	 * under DateStyle YMD, whatever DateStyle says (so "1/2/2023" is refused:
	 * there is no day 2023).
	 */
	if (utc_tz == NULL)
		utc_tz = pg_tzset("UTC");
	PG_TRY();
	{
		session_timezone = utc_tz;
		DateOrder = DATEORDER_YMD;
		rc = DecodeDateTime(field, ftype, nf, &dtype, &tm, &fsec, &tz);
	}
	PG_FINALLY();
	{
		session_timezone = saved;
		DateOrder = saved_order;
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
 * Semantics §1: local times are H:MM or HH:MM[:SS[.ffffff]].  24:00[:00] is
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
 * Time-zone names: those of the server's time-zone database (semantics §1)
 * ---------------------------------------------------------------------
 */

typedef struct RmZoneEntry
{
	char		name[TZ_STRLEN_MAX + 1];	/* lower case: the key */
	char		canonical[TZ_STRLEN_MAX + 1];	/* as pg_timezone_names */
} RmZoneEntry;

HTAB *
rm_load_zone_names(void)
{
	HASHCTL		ctl;
	HTAB	   *h;

	ctl.keysize = TZ_STRLEN_MAX + 1;
	ctl.entrysize = sizeof(RmZoneEntry);
	ctl.hcxt = CurrentMemoryContext;
	h = hash_create("restmon zone names", 1024, &ctl,
					HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);

	if (SPI_execute("SELECT name FROM pg_catalog.pg_timezone_names"
					" ORDER BY name COLLATE \"C\"",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not list time-zone names");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *name = SPI_getvalue(SPI_tuptable->vals[i],
										SPI_tuptable->tupdesc, 1);
		char		key[TZ_STRLEN_MAX + 1];
		RmZoneEntry *e;
		bool		found;
		int			k;

		if (name == NULL || strlen(name) > TZ_STRLEN_MAX)
			continue;
		for (k = 0; name[k] != '\0'; k++)
			key[k] = pg_ascii_tolower((unsigned char) name[k]);
		key[k] = '\0';
		e = hash_search(h, key, HASH_ENTER, &found);
		if (!found)				/* the first spelling in byte order */
			strlcpy(e->canonical, name, sizeof(e->canonical));
	}
	SPI_freetuptable(SPI_tuptable);
	return h;
}

/*
 * The spelling pg_timezone_names gives a zone name, found without regard
 * to case (semantics §1.3); NULL, and in *reason why, if it is not a zone
 * restmon accepts: unknown to the server, or one whose meaning depends on
 * the machine ("localtime" and "posixrules" are the server's own settings,
 * "Factory" means "not set").
 */
const char *
rm_zone_canonical(HTAB *zones, const char *name, const char **reason)
{
	char		key[TZ_STRLEN_MAX + 1];
	RmZoneEntry *e;
	int			i;

	*reason = "unknown time zone";
	if (strlen(name) > TZ_STRLEN_MAX || name[0] == '\0')
		return NULL;
	for (i = 0; name[i] != '\0'; i++)
		key[i] = pg_ascii_tolower((unsigned char) name[i]);
	key[i] = '\0';
	if (strcmp(key, "localtime") == 0 || strcmp(key, "posixrules") == 0 ||
		strcmp(key, "factory") == 0)
	{
		*reason = "machine-dependent time zone";
		return NULL;
	}
	e = hash_search(zones, key, HASH_FIND, NULL);
	if (e == NULL || pg_tzset(e->canonical) == NULL)
		return NULL;
	return e->canonical;
}
