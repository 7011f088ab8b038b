/*-------------------------------------------------------------------------
 *
 * src/report_csv.h
 *	  A complete report as semantics §6's CSV (report_csv.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef RESTMON_REPORT_CSV_H
#define RESTMON_REPORT_CSV_H

#include "access/tupdesc.h"
#include "utils/palloc.h"

/* inside SPI */
typedef struct RmCsvWriter RmCsvWriter;

extern RmCsvWriter *rm_csv_begin(TupleDesc tupdesc, MemoryContext resultcxt);
extern void rm_csv_add(RmCsvWriter *w, Datum *values, bool *isnull);
extern text *rm_csv_end(RmCsvWriter *w);

extern text *rm_report_csv(const char *id, MemoryContext resultcxt);

#endif							/* RESTMON_REPORT_CSV_H */
