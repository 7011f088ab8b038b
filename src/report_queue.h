/*-------------------------------------------------------------------------
 *
 * src/report_queue.h
 *	  The report queue (report_queue.c): every statement on restmon.report
 *	  and restmon.report_row, and what a report id and status are.
 *
 * Every function here runs inside SPI, with a snapshot.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RESTMON_REPORT_QUEUE_H
#define RESTMON_REPORT_QUEUE_H

#include "datatype/timestamp.h"
#include "utils/portal.h"

#define RM_ID_LEN		22		/* time (11 hex digits) + 66 random bits */
#define RM_MAX_ATTEMPTS	3		/* workers that may die on one report */

/* restmon.report.status */
typedef enum RmReportStatus
{
	RM_REPORT_RUNNING,
	RM_REPORT_COMPLETE,
	RM_REPORT_FAILED
} RmReportStatus;

extern const char *rm_report_status_name(RmReportStatus status);
extern RmReportStatus rm_report_status_from_name(const char *name);

extern void rm_report_insert(char *id, const TimestampTz *as_of,
							 text *store);
extern bool rm_report_claim(char *id);
extern int64 rm_report_fill(const char *id, text **csv, char **etag,
							MemoryContext csvcxt);
extern void rm_report_complete(const char *id, int64 rows);
extern int64 rm_report_write_rows(const char *id, text **csv,
								  char **etag,
								  MemoryContext csvcxt);	/* report_rows.c */
extern void rm_report_fail(const char *id, const char *sqlstate,
						   const char *message);
extern void rm_report_release_stopped(void);
extern int64 rm_report_count_queued(void);
extern RmReportStatus rm_report_lookup(const char *id, Datum *values,
									   bool *nulls);
extern int64 rm_report_prune(int retention_mins);
extern Portal rm_report_open_rows(const char *id);

#endif							/* RESTMON_REPORT_QUEUE_H */
