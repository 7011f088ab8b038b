/*
 * test/unit/unit.h
 *	  What the core's unit test files share: TAP counters and checks, the
 *	  random generator, time units (test_core.c defines them).
 */
#ifndef RESTMON_UNIT_H
#define RESTMON_UNIT_H

#include <stdint.h>

#define MIN		INT64_C(60000000)
#define H		INT64_C(3600000000)

extern int	ntests;
extern int	nfailed;

extern void check_i64(const char *what, int64_t got, int64_t want);
extern uint64_t next_rand(void);

/* test_timeline.c */
extern void test_timeline(void);

/* test_alert.c */
extern void test_alert(void);

#endif							/* RESTMON_UNIT_H */
