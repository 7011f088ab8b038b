/*-------------------------------------------------------------------------
 *
 * src/csvsplit.h
 *	  The fields of one CSV line (semantics §1), in plain C.
 *
 * No postgres.h, no allocation, no errors raised: the caller passes the
 * buffers and gets a field count or a status code.  src/csv.c calls it for
 * the server; test/fuzz/fuzz_csv.c fuzzes it outside the server.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RESTMON_CSVSPLIT_H
#define RESTMON_CSVSPLIT_H

#include <stddef.h>

/* what rm_csv_split returns for a line it refuses (always < 0) */
typedef enum RmCsvStatus
{
	RM_CSV_TOO_MANY_FIELDS = -1,	/* more than maxfields fields */
	RM_CSV_UNBALANCED_QUOTE = -2	/* a quote not where RFC 4180 has one */
} RmCsvStatus;

/*
 * rm_csv_split: split line[0..len) (no line end; it may hold any byte) into
 * fields, RFC 4180 style within the line: a field may be quoted, with ""
 * for a quote inside; a quote inside an unquoted field, or anything but a
 * comma after a closing quote, is an unbalanced quote.
 *
 * buf: len + 1 bytes; the fields are written there one after the other,
 *	 each NUL-terminated.
 * fields: room for maxfields pointers into buf.
 * lens: NULL, or room for maxfields lengths (bytes before each field's NUL;
 *	 a field may itself hold a NUL byte when the line does).
 *
 * Returns the number of fields (1 or more: an empty line is one empty
 * field), or an RmCsvStatus.
 */
extern int	rm_csv_split(const char *line, size_t len, char *buf,
						 char **fields, size_t *lens, int maxfields);

/* the reason for a status, as the rejected line reports it */
extern const char *rm_csv_status_text(int status);

/* trim surrounding blanks (space, tab) of a NUL-terminated string in place */
extern char *rm_trim(char *s);

#endif							/* RESTMON_CSVSPLIT_H */
