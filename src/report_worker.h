/*-------------------------------------------------------------------------
 *
 * src/report_worker.h
 *	  Computing reports (report_worker.c): starting background workers at
 *	  commit, within restmon.max_report_workers, and the synchronous path.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RESTMON_REPORT_WORKER_H
#define RESTMON_REPORT_WORKER_H

extern int	rm_max_report_workers(void);
extern int	rm_report_launch_at_commit(int n);
extern void rm_run_report(const char *id);

struct BackgroundWorker;
extern void rm_bgworker_init(struct BackgroundWorker *worker,
							 const char *function, const char *type);

#endif							/* RESTMON_REPORT_WORKER_H */
