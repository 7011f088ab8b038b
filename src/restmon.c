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

#include <limits.h>

#include "fmgr.h"
#include "postmaster/bgworker_internals.h"
#include "postmaster/postmaster.h"
#include "utils/guc.h"

#include "restmon.h"
#include "ingest_int.h"

PG_MODULE_MAGIC;

char	   *restmon_data_dir = NULL;
int			restmon_report_retention = 7 * 24 * 60;
int			restmon_max_future = 24 * 60;
int			restmon_reject_retention = 7 * 24 * 60;
int			restmon_max_report_workers = -1;
bool		restmon_state_alerts = true;
int			restmon_report_workers = -1;
int			restmon_report_worker_idle = RM_REPORT_WORKER_IDLE_DEFAULT;
int			restmon_observation_retention = RM_OBSERVATION_RETENTION_DEFAULT;
int			restmon_gather_chunk = RM_GATHER_CHUNK_DEFAULT;
bool		restmon_report_helpers = true;
bool		restmon_debug_report_helper_error = false;

void		_PG_init(void);

/* prune.c: -1 (keep every poll) or at least the evidence horizon, 192 h */
static bool
check_observation_retention(int *newval, void **extra pg_attribute_unused(),
							GucSource source pg_attribute_unused())
{
	if (*newval == -1 || *newval >= 192 * 60)
		return true;
	GUC_check_errdetail("It is -1 (keep every poll) or at least 192 hours, the evidence horizon of a report.");
	return false;
}

/* loading files and polls (ingest.c, polls.c, alerts.c), rejected lines, how
 * long polls are kept (prune.c) */
static void
define_load_gucs(void)
{
	DefineCustomStringVariable("restmon.data_dir",
							   "Directory restmon_ingest() reads by default.",
							   "It must be readable by the server's operating-system user.",
							   &restmon_data_dir,
							   "",
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomBoolVariable("restmon.state_alerts",
							 "Whether polls recorded through the API send NOTIFY restmon_store_state when a store's state changes.",
							 "Off saves the per-store timeline the check computes for every batch.",
							 &restmon_state_alerts,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	/* semantics §4: how far past the server clock a poll may lie */
	DefineCustomIntVariable("restmon.max_future",
							"How far a status poll may lie after the server clock; later polls are rejected.",
							"A poll dated in the future would become the default report instant of every report; -1 means no limit.",
							&restmon_max_future,
							24 * 60,
							-1,
							INT_MAX,
							PGC_SUSET,
							GUC_UNIT_MIN,
							NULL, NULL, NULL);

	DefineCustomIntVariable("restmon.reject_retention",
							"How long the rejected lines of an ingestion run are kept before restmon_prune_rejects() deletes them.",
							NULL,
							&restmon_reject_retention,
							7 * 24 * 60,
							1,
							INT_MAX,
							PGC_SUSET,
							GUC_UNIT_MIN,
							NULL, NULL, NULL);

	/*
	 * prune.c and polls.c: polls older than this are pruned by the upkeep
	 * job, and not loaded again.  PGC_SIGHUP: postgresql.conf or ALTER SYSTEM
	 * only, so no session (not even a superuser's, nor ALTER ROLE or DATABASE
	 * ... SET) changes what a load keeps: every loader, the pruning and the
	 * reports agree on one edge.
	 */
	DefineCustomIntVariable("restmon.observation_retention",
							"How long status polls are kept, counted back from the latest poll stored; -1 keeps every poll.",
							"restmon_upkeep() deletes older polls in bounded batches, and ingestion does not load them again (it counts them as expired); at least 192 hours, so a report at the default instant never changes.",
							&restmon_observation_retention,
							RM_OBSERVATION_RETENTION_DEFAULT,
							-1,
							INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_MIN,
							check_observation_retention, NULL, NULL);
}

/* reports (report_*.c), how long they are kept, a partition's gather */
static void
define_report_gucs(void)
{
	DefineCustomIntVariable("restmon.report_retention",
							"How long finished reports are kept before restmon_prune_reports() deletes them.",
							NULL,
							&restmon_report_retention,
							7 * 24 * 60,
							1,
							INT_MAX,
							PGC_SUSET,
							GUC_UNIT_MIN,
							NULL, NULL, NULL);

	/* report_worker.c: the slots of report workers, cluster-wide */
	DefineCustomIntVariable("restmon.max_report_workers",
							"Most background workers computing reports at once; -1 is a quarter of max_worker_processes.",
							"Further reports wait in the queue; the others' workers (parallel query, pg_cron) keep the rest of max_worker_processes.",
							&restmon_max_report_workers,
							-1,
							-1,
							MAX_BACKENDS,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	/*
	 * report_worker.c: how long a report worker with nothing left waits for
	 * the next request of its database.  Below the 5 s that DROP DATABASE and
	 * CREATE DATABASE ... TEMPLATE wait for other sessions to leave.
	 */
	DefineCustomIntVariable("restmon.report_worker_idle",
							"How long a report worker with no report left waits for the next request of its database before it exits; 0 exits at once.",
							"The next report then needs no process start.  An idle worker keeps its restmon.max_report_workers slot.",
							&restmon_report_worker_idle,
							RM_REPORT_WORKER_IDLE_DEFAULT,
							0,
							INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	/* report_parallel.c: the processes computing one full report */
	DefineCustomIntVariable("restmon.report_workers",
							"Most processes computing one full report, each on a range of stores; -1 is max_parallel_workers_per_gather.",
							"The backend (or report worker) computing the report is one of them; 1 computes it alone.  Parallel workers come from max_parallel_workers.",
							&restmon_report_workers,
							-1,
							-1,
							MAX_PARALLEL_WORKER_LIMIT + 1,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	/*
	 * gather.c: on a partition, about how many bytes of a full report's part
	 * go in one value sent to the coordinator (doc/scale-out.md)
	 */
	DefineCustomIntVariable("restmon.gather_chunk",
							"About how many bytes of its stores' figures a partition of a sharded cluster sends to the coordinator in one value.",
							"Each value holds whole stores; the coordinator merges them all in store-id byte order.",
							&restmon_gather_chunk,
							RM_GATHER_CHUNK_DEFAULT,
							1,
							64 * 1024 * 1024,
							PGC_USERSET,
							GUC_UNIT_BYTE,
							NULL, NULL, NULL);
}

/* report_helper.c: kept helpers, and a test's way to make one fail */
static void
define_helper_gucs(void)
{
	DefineCustomBoolVariable("restmon.report_helpers",
							 "Report workers keep the other processes of their parallel reports alive, waiting for the next report.",
							 "Off: a report worker starts parallel workers for each report, as restmon_store_uptime() does.",
							 &restmon_report_helpers,
							 true,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable("restmon.debug_report_helper_error",
							 "Makes every kept report helper fail each report it takes part in (for tests).",
							 "A report worker then also waits, at the end of each report, for its helpers to have taken part.",
							 &restmon_debug_report_helper_error,
							 false,
							 PGC_SUSET,
							 GUC_NOT_IN_SAMPLE,
							 NULL, NULL, NULL);
}

void
_PG_init(void)
{
	define_load_gucs();
	define_report_gucs();
	define_helper_gucs();
	MarkGUCPrefixReserved("restmon");
}
