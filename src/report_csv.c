/*-------------------------------------------------------------------------
 *
 * src/report_csv.c
 *	  A complete report as semantics §6's CSV: a header line, then one line
 *	  per store in byte order of store_id.
 *
 * csv_columns[] is the one list of the CSV's columns: the header is
 * written from it and each line takes the same columns, by name, from the
 * rows of restmon.report_row (report_queue.c).  A field is quoted only when
 * it holds a comma, a quote or a line break.
 *
 * This is the one renderer: a complete report's stored file
 * (report_file.c) is its output, and pages of the CSV are cut from that
 * output, never rendered on their own.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "report_csv.h"
#include "report_queue.h"

#define RM_CSV_FETCH	10000

/* semantics §6: the columns of the CSV, in order */
static const char *const csv_columns[] = {
	"store_id",
	"uptime_last_hour",
	"uptime_last_day",
	"uptime_last_week",
	"downtime_last_hour",
	"downtime_last_day",
	"downtime_last_week",
};

#define RM_CSV_NCOLS	((int) lengthof(csv_columns))

static void
append_csv_field(StringInfo buf, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL)
	{
		appendStringInfoString(buf, s);
		return;
	}
	appendStringInfoChar(buf, '"');
	for (; *s; s++)
	{
		if (*s == '"')
			appendStringInfoChar(buf, '"');
		appendStringInfoChar(buf, *s);
	}
	appendStringInfoChar(buf, '"');
}

static void
append_csv_header(StringInfo buf)
{
	for (int c = 0; c < RM_CSV_NCOLS; c++)
	{
		if (c > 0)
			appendStringInfoChar(buf, ',');
		appendStringInfoString(buf, csv_columns[c]);
	}
	appendStringInfoChar(buf, '\n');
}

/* where each CSV column is in the rows, and its output function */
typedef struct CsvColumns
{
	int			attnums[RM_CSV_NCOLS];
	FmgrInfo	out[RM_CSV_NCOLS];
} CsvColumns;

/* looked up once per CSV, not per value as SPI_getvalue() does */
static void
find_csv_columns(TupleDesc tupdesc, CsvColumns *cols)
{
	for (int c = 0; c < RM_CSV_NCOLS; c++)
	{
		Oid			outfn;
		bool		varlena;

		cols->attnums[c] = SPI_fnumber(tupdesc, csv_columns[c]);
		if (cols->attnums[c] <= 0)
			elog(ERROR, "restmon.report_row has no column \"%s\"",
				 csv_columns[c]);
		getTypeOutputInfo(TupleDescAttr(tupdesc, cols->attnums[c] - 1)->atttypid,
						  &outfn, &varlena);
		fmgr_info(outfn, &cols->out[c]);
	}
}

/* the text of a row's column c, or NULL */
static char *
csv_value(HeapTuple tup, TupleDesc tupdesc, CsvColumns *cols, int c)
{
	bool		isnull;
	Datum		d = heap_getattr(tup, cols->attnums[c], tupdesc, &isnull);

	return isnull ? NULL : OutputFunctionCall(&cols->out[c], d);
}

/* the line of one row */
static void
append_csv_line(StringInfo buf, HeapTuple tup, TupleDesc tupdesc,
				CsvColumns *cols)
{
	for (int c = 0; c < RM_CSV_NCOLS; c++)
	{
		char	   *v = csv_value(tup, tupdesc, cols, c);

		if (c > 0)
			appendStringInfoChar(buf, ',');
		if (v != NULL)
			append_csv_field(buf, v);
	}
	appendStringInfoChar(buf, '\n');
}

/* the lines of one batch of rows */
static void
append_csv_lines(StringInfo buf, SPITupleTable *tuptable, uint64 n,
				 CsvColumns *cols)
{
	for (uint64 i = 0; i < n; i++)
		append_csv_line(buf, tuptable->vals[i], tuptable->tupdesc, cols);
}

/* buf as text in resultcxt; buf is freed */
static text *
text_in(StringInfo buf, MemoryContext resultcxt)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(resultcxt);
	text	   *result = cstring_to_text_with_len(buf->data, buf->len);

	MemoryContextSwitchTo(oldcxt);
	pfree(buf->data);
	return result;
}

/*
 * The CSV of a complete report, as text allocated in resultcxt.  Inside
 * SPI; the caller has checked the report's status.
 */
text *
rm_report_csv(const char *id, MemoryContext resultcxt)
{
	StringInfoData buf;
	Portal		portal;
	CsvColumns	cols;
	MemoryContext batchcxt;
	MemoryContext oldcxt;

	/* buf grows in resultcxt; the text of each batch lives in batchcxt */
	oldcxt = MemoryContextSwitchTo(resultcxt);
	initStringInfo(&buf);
	MemoryContextSwitchTo(oldcxt);
	append_csv_header(&buf);

	portal = rm_report_open_rows(id);
	find_csv_columns(portal->tupDesc, &cols);
	batchcxt = AllocSetContextCreate(CurrentMemoryContext, "restmon csv batch",
									 ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, RM_CSV_FETCH);
		if (SPI_processed == 0)
			break;
		oldcxt = MemoryContextSwitchTo(batchcxt);
		append_csv_lines(&buf, SPI_tuptable, SPI_processed, &cols);
		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(batchcxt);
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	MemoryContextDelete(batchcxt);

	return text_in(&buf, resultcxt);
}
