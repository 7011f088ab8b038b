/*-------------------------------------------------------------------------
 *
 * src/report_file.h
 *	  A complete report's CSV stored once, restmon.report_file
 *	  (report_file.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef RESTMON_REPORT_FILE_H
#define RESTMON_REPORT_FILE_H

#include "utils/palloc.h"

/* inside SPI */
extern bool rm_report_file_available(void);
extern char *rm_report_file_etag_of(const char *id, const text *csv);
extern char *rm_report_file_store(const char *id, text *csv, char *etag,
								  int64 *bytes);
extern char *rm_report_file_etag(const char *id, int64 *bytes);
extern text *rm_report_file_csv(const char *id, MemoryContext resultcxt);
extern text *rm_report_file_page(const char *id, const char *after,
								 int max_bytes, char **resume,
								 MemoryContext resultcxt);

#endif							/* RESTMON_REPORT_FILE_H */
