/*
 * test/unit/brute_core.h
 *	  An independent brute-force reading of semantics §3-5, against which
 *	  the core (src/core.c) is checked by its unit tests (test_core.c) and
 *	  by its fuzzer (test/fuzz/fuzz_core.c).
 *
 * It shares nothing with the core but the RmInterval and RmObs types: its
 * own window lengths, business time as the plain union of the intervals
 * as given (unsorted, overlapping or empty ones allowed: the core's merge
 * is checked against it too), the nearest evidence poll found by scanning.
 */
#ifndef RESTMON_BRUTE_CORE_H
#define RESTMON_BRUTE_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "core.h"

typedef struct BruteResult
{
	/* doubled microseconds, as in RmResult; busy2 = 2 * |W intersect B| */
	int64_t		up2[3];
	int64_t		down2[3];
	int64_t		busy2[3];
	int32_t		evidence[3];
} BruteResult;

/* is t in the union of iv[0..n)?  (half-open intervals, any order) */
extern bool brute_in_union(const RmInterval *iv, int n, int64_t t);

/*
 * Semantics §5 for one store, by brute force.  iv: the business intervals
 * as given, any order; o: the polls, any order, distinct instants.  Every
 * non-empty interval and T must lie within +-2^61 microseconds (what the
 * core accepts).
 */
extern void brute_compute(const RmInterval *iv, int niv,
						  const RmObs *o, int no, int64_t T,
						  BruteResult *r);

#endif							/* RESTMON_BRUTE_CORE_H */
