/*-------------------------------------------------------------------------
 *
 * src/report.h
 *	  Asynchronous reports, shared by their four files: report.c (the SQL
 *	  entry points), report_queue.c (every statement on restmon.report and
 *	  restmon.report_row), report_worker.c (background workers) and
 *	  report_csv.c (semantics §6's CSV).
 *
 * Functions marked "inside SPI" need a connected SPI and a snapshot.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RESTMON_REPORT_H
#define RESTMON_REPORT_H

#include "datatype/timestamp.h"
#include "utils/palloc.h"
#include "utils/portal.h"

#define RM_ID_LEN		22		/* 128 random bits, base64url, unpadded */
#define RM_MAX_ATTEMPTS	3		/* workers that may die on one report */

/* restmon.report.status */
typedef enum RmReportStatus
{
	RM_REPORT_RUNNING,
	RM_REPORT_COMPLETE,
	RM_REPORT_FAILED
} RmReportStatus;

/* report_queue.c */
extern const char *rm_report_status_name(RmReportStatus status);
extern RmReportStatus rm_report_status_from_name(const char *name);

/* report_queue.c, inside SPI */
extern void rm_report_insert(char *id, const TimestampTz *as_of,
							 text *store);
extern bool rm_report_claim(char *id);
extern void rm_report_start(const char *id);
extern void rm_report_fill(const char *id);
extern void rm_report_fail(const char *id, const char *sqlstate,
						   const char *message);
extern void rm_report_release_stopped(void);
extern int64 rm_report_count_queued(void);
extern RmReportStatus rm_report_lookup(const char *id, Datum *values,
									   bool *nulls);
extern int64 rm_report_prune(int retention_mins);
extern Portal rm_report_open_rows(const char *id);

/* report_worker.c */
extern bool rm_report_launch(const char *id, TransactionId wait_xid);
extern void rm_run_report(const char *id);

/* report_csv.c, inside SPI */
extern text *rm_report_csv(const char *id, MemoryContext resultcxt);

#endif							/* RESTMON_REPORT_H */
