/*-------------------------------------------------------------------------
 *
 * src/report_worker.h
 *	  Computing reports (report_worker.c): starting a background worker,
 *	  and the synchronous path.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RESTMON_REPORT_WORKER_H
#define RESTMON_REPORT_WORKER_H

extern bool rm_report_launch(const char *id, TransactionId wait_xid);
extern void rm_run_report(const char *id);

#endif							/* RESTMON_REPORT_WORKER_H */
