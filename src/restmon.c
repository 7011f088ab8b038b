/*-------------------------------------------------------------------------
 *
 * src/restmon.c
 *	  Module entry point and settings of restmon.
 *
 * _PG_init only defines the GUCs; every other part initialises lazily.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "restmon.h"

PG_MODULE_MAGIC;

char	   *restmon_data_dir = NULL;

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomStringVariable("restmon.data_dir",
							   "Directory restmon_ingest() reads by default.",
							   "It must be readable by the server's operating-system user.",
							   &restmon_data_dir,
							   "",
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);

	MarkGUCPrefixReserved("restmon");
}
