/*-------------------------------------------------------------------------
 *
 * src/report_slots.h
 *	  The slots of report workers and their idle and want marks
 *	  (report_slots.c), for report_worker.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RESTMON_REPORT_SLOTS_H
#define RESTMON_REPORT_SLOTS_H

extern bool rm_slot_take(void);
extern bool rm_slot_take_waiting(bool wait);
extern void rm_slot_release(void);
extern void rm_slot_release_at_exit(int code, Datum arg);
extern int	rm_slot_held(void);
extern int	rm_slots_free(void);
extern void rm_idle_mark(bool take);
extern int	rm_idle_workers(int n, bool others, bool wake);
extern bool rm_want_marks(void);

#endif							/* RESTMON_REPORT_SLOTS_H */
