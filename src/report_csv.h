/*-------------------------------------------------------------------------
 *
 * src/report_csv.h
 *	  A complete report as semantics §6's CSV (report_csv.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef RESTMON_REPORT_CSV_H
#define RESTMON_REPORT_CSV_H

#include "utils/palloc.h"

/* inside SPI */
extern text *rm_report_csv(const char *id, MemoryContext resultcxt);

#endif							/* RESTMON_REPORT_CSV_H */
