/*-------------------------------------------------------------------------
 *
 * src/report_slots.c
 *	  The slots of report workers and their marks, session-level locks on
 *	  advisory tags of class RM_SLOT_CLASS ("rmon") that no SQL advisory
 *	  lock can take (report_worker.c says what each is for):
 *	  - a slot: database 0, objid the slot, field 4 = 2; at most
 *	    restmon.max_report_workers, cluster-wide;
 *	  - an idle mark: the worker's database, objid its slot, field 4 = 3,
 *	    held while it waits idle for the next request of its database;
 *	  - a want mark: database 0, objid the pid, field 4 = 4, held by a new
 *	    worker waiting for a slot that idle workers of other databases hold.
 *	  The marks are found in the lock table as pg_locks finds them
 *	  (GetLockStatusData()).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "report_slots.h"
#include "report_worker.h"
#include "restmon.h"

#define RM_SLOT_CLASS	0x726D6F6E	/* "rmon": the slots' advisory class */
#define RM_SLOT_FIELD4	2		/* a slot: database 0, this field 2 */
#define RM_SLOT_WAIT_MS	1000	/* a new worker waits this long for a slot
								 * idle workers hold */
#define RM_WANT_FIELD4	4		/* a new worker waiting for a slot: database
								 * 0, its pid, this field 4 */
#define RM_IDLE_FIELD4	3		/* an idle mark: its database, this field 3,
								 * which no SQL advisory lock uses */

/* the slot this worker holds, or -1 */
static int	held_slot = -1;

/* restmon.max_report_workers, -1 resolved: a quarter of the worker slots */
int
rm_max_report_workers(void)
{
	if (restmon_max_report_workers >= 0)
		return restmon_max_report_workers;
	return Max(1, max_worker_processes / 4);
}

static void
slot_tag(LOCKTAG *tag, int slot)
{
	SET_LOCKTAG_ADVISORY(*tag, InvalidOid, RM_SLOT_CLASS, (uint32) slot,
						 RM_SLOT_FIELD4);
}

/* the idle mark of a slot's worker, in its database */
static void
idle_tag(LOCKTAG *tag, int slot)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, RM_SLOT_CLASS, (uint32) slot,
						 RM_IDLE_FIELD4);
}

/* take a slot without waiting; false if none is free (never an error) */
bool
rm_slot_take(void)
{
	LOCKTAG		tag;

	Assert(held_slot < 0);
	for (int slot = 0; slot < rm_max_report_workers(); slot++)
	{
		slot_tag(&tag, slot);
		if (LockAcquireExtended(&tag, ExclusiveLock, true, true, false,
								NULL) != LOCKACQUIRE_NOT_AVAIL)
		{
			held_slot = slot;
			return true;
		}
	}
	return false;
}

void
rm_slot_release(void)
{
	LOCKTAG		tag;

	if (held_slot < 0)
		return;
	slot_tag(&tag, held_slot);
	/* at exit, the session's locks may be gone already (ShutdownPostgres) */
	if (LockHeldByMe(&tag, ExclusiveLock))
		LockRelease(&tag, ExclusiveLock, true);
	held_slot = -1;
}

/* at exit, whether or not the connection was made */
void
rm_slot_release_at_exit(int code pg_attribute_unused(),
						Datum arg pg_attribute_unused())
{
	rm_slot_release();
}

/* how many slots are free now (a snapshot: they may be taken next) */
int
rm_slots_free(void)
{
	int			n = 0;

	for (int slot = 0; slot < rm_max_report_workers(); slot++)
	{
		LOCKTAG		tag;

		slot_tag(&tag, slot);
		if (LockAcquireExtended(&tag, ExclusiveLock, true, true, false,
								NULL) == LOCKACQUIRE_NOT_AVAIL)
			continue;
		LockRelease(&tag, ExclusiveLock, true);
		n++;
	}
	return n;
}

/* the slot this worker holds, or -1 */
int
rm_slot_held(void)
{
	return held_slot;
}

/* take (or drop) the idle mark of the slot this worker holds */
void
rm_idle_mark(bool take)
{
	LOCKTAG		tag;

	Assert(held_slot >= 0);
	idle_tag(&tag, held_slot);
	if (take)
		(void) LockAcquire(&tag, ExclusiveLock, true, true);
	else
		LockRelease(&tag, ExclusiveLock, true);
}

/*
 * The idle workers of this database (others: of the other databases),
 * those holding an idle mark of a slot within restmon.max_report_workers,
 * up to n of them; with wake, their latches are set.  Returns how many.
 * The lock table is read as pg_locks reads it.
 */
int
rm_idle_workers(int n, bool others, bool wake)
{
	LockData   *locks;
	int			found = 0;

	if (n <= 0)
		return 0;
	locks = GetLockStatusData();
	for (int i = 0; i < locks->nelements && found < n; i++)
	{
		LockInstanceData *l = &locks->locks[i];
		PGPROC	   *proc;

		if (l->locktag.locktag_type != LOCKTAG_ADVISORY ||
			(l->locktag.locktag_field1 == MyDatabaseId) == others ||
			l->locktag.locktag_field2 != RM_SLOT_CLASS ||
			l->locktag.locktag_field4 != RM_IDLE_FIELD4 ||
			l->holdMask == 0 ||
			l->locktag.locktag_field3 >= (uint32) rm_max_report_workers())
			continue;
		proc = BackendPidGetProc(l->pid);
		if (proc == NULL)
			continue;
		if (wake)
			SetLatch(&proc->procLatch);
		found++;
	}
	pfree(locks->locks);
	pfree(locks);
	return found;
}

/* does a new worker wait for a slot (its want mark)? */
bool
rm_want_marks(void)
{
	LockData   *locks = GetLockStatusData();
	bool		found = false;

	for (int i = 0; i < locks->nelements && !found; i++)
	{
		LockInstanceData *l = &locks->locks[i];

		found = l->locktag.locktag_type == LOCKTAG_ADVISORY &&
			l->locktag.locktag_field1 == InvalidOid &&
			l->locktag.locktag_field2 == RM_SLOT_CLASS &&
			l->locktag.locktag_field4 == RM_WANT_FIELD4 &&
			l->holdMask != 0;
	}
	pfree(locks->locks);
	pfree(locks);
	return found;
}

/*
 * A slot; with wait (idle workers of other databases hold some), up to
 * RM_SLOT_WAIT_MS under a want mark, having woken the idle workers so that
 * those with nothing queued leave.  Before connecting.
 */
bool
rm_slot_take_waiting(bool wait)
{
	TimestampTz start = GetCurrentTimestamp();
	LOCKTAG		want;
	bool		got;

	if (rm_slot_take() || !wait)
		return held_slot >= 0;
	SET_LOCKTAG_ADVISORY(want, InvalidOid, RM_SLOT_CLASS, (uint32) MyProcPid,
						 RM_WANT_FIELD4);
	(void) LockAcquire(&want, ExclusiveLock, true, true);
	(void) rm_idle_workers(INT_MAX, true, true);
	while (!(got = rm_slot_take()) &&
		   !TimestampDifferenceExceeds(start, GetCurrentTimestamp(),
									   RM_SLOT_WAIT_MS))
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 10, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	LockRelease(&want, ExclusiveLock, true);
	return got;
}
