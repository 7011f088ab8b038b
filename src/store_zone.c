/*-------------------------------------------------------------------------
 *
 * src/store_zone.c
 *	  restmon_store_timezone(): the time zone a store's business hours are
 *	  read in (semantics §2-3), for showing them in the store's local time
 *	  (the web page, issue 16).
 *
 * The zone is the one restmon_store_uptime() uses: the store's row of
 * restmon.store_timezone resolved by schedule.c's rm_lookup_zone(), which
 * owns the default (semantics §2: no row, or a name the server no longer
 * knows, is RM_DEFAULT_TIMEZONE).  No second copy of that rule.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "restmon.h"
#include "schedule.h"

PG_FUNCTION_INFO_V1(restmon_store_timezone);

/*
 * The zone a store's business hours are read in: its row of
 * restmon.store_timezone resolved by rm_lookup_zone() (the default when it
 * has none).  Inside SPI.
 */
pg_tz *
rm_store_zone(text *store)
{
	Datum		args[1] = {PointerGetDatum(store)};
	Oid			types[1] = {TEXTOID};
	char	   *zone = NULL;
	pg_tz	   *tz;

	if (SPI_execute_with_args("SELECT timezone FROM restmon.store_timezone"
							  " WHERE store_id = $1",
							  1, types, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the time zone of a store");
	if (SPI_processed > 0)
		zone = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	tz = rm_lookup_zone(zone);
	if (zone != NULL)
		pfree(zone);
	return tz;
}

/* restmon_store_timezone(store_id): the zone name; P0002 for a stranger */
Datum
restmon_store_timezone(PG_FUNCTION_ARGS)
{
	text	   *store = PG_GETARG_TEXT_PP(0);
	const char *name;

	rm_check_store_id(store);	/* semantics §1.8 */
	SPI_connect();
	if (!rm_store_known(store))
		rm_error_unknown_store(store);
	name = pg_get_timezone_name(rm_store_zone(store));
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(name));
}
