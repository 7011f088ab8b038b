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
 * output, never rendered on their own.  The report's writer
 * (report_rows.c) renders the CSV as it writes the rows (RmCsvWriter), with
 * the same functions, so the file stored at completion needs no second
 * read of them.
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
#include "restmon.h"

#define RM_CSV_FETCH	10000
#define RM_CSV_FIRST_SIZE	(1024 * 1024)	/* a writer's first buffer: a full
											 * report's CSV is about 50 bytes
											 * a store, and the pages never
											 * written are never touched */

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

/*
 * A CSV is written into a buffer that starts with room for a text's
 * header, so that the text is the buffer itself, not a copy of it
 */
static void
csv_buf_init(StringInfo buf, int size)
{
	buf->maxlen = Max(size, VARHDRSZ + 1);
	buf->data = palloc(buf->maxlen);
	buf->len = VARHDRSZ;
	buf->data[VARHDRSZ] = '\0';
	buf->cursor = 0;
}

/* buf (from csv_buf_init) as a text, in buf's memory: no copy */
static text *
text_in(StringInfo buf)
{
	text	   *result = (text *) buf->data;

	SET_VARSIZE(result, buf->len);
	return result;
}

/* ---------------------------------------------------------------------
 * A CSV written as its rows are: the report's writer (report_rows.c)
 * adds each row as it writes it, so the CSV needs no second read
 * ---------------------------------------------------------------------
 */

struct RmCsvWriter
{
	StringInfoData buf;			/* in resultcxt */
	MemoryContext resultcxt;
	CsvColumns	cols;
	MemoryContext linecxt;		/* the text of a line's values */
	char	   *last;			/* the last line's store id (its bytes) */
	int			lastlen;		/* -1: no line yet */
	bool		ordered;		/* every line after the one before */
};

/*
 * A CSV of rows of the given descriptor (restmon.report_row's columns),
 * its header written; its text is allocated in resultcxt.
 */
RmCsvWriter *
rm_csv_begin(TupleDesc tupdesc, MemoryContext resultcxt)
{
	RmCsvWriter *w = palloc0(sizeof(RmCsvWriter));
	MemoryContext oldcxt = MemoryContextSwitchTo(resultcxt);

	csv_buf_init(&w->buf, RM_CSV_FIRST_SIZE);
	MemoryContextSwitchTo(oldcxt);
	w->resultcxt = resultcxt;
	append_csv_header(&w->buf);
	find_csv_columns(tupdesc, &w->cols);
	w->linecxt = AllocSetContextCreate(CurrentMemoryContext, "restmon csv line",
									   ALLOCSET_SMALL_SIZES);
	w->last = palloc(RM_STORE_ID_MAX_BYTES + 1);
	w->lastlen = -1;
	w->ordered = true;
	return w;
}

/*
 * The line of one row.  A row whose store id is not after the last one's
 * in byte order (the CSV's order, semantics §6.2) marks the CSV unordered:
 * rm_csv_end() then gives NULL and the caller renders it from the table.
 */
void
rm_csv_add(RmCsvWriter *w, Datum *values, bool *isnull)
{
	int			k = w->cols.attnums[0] - 1;
	MemoryContext oldcxt;
	text	   *sid;
	int			len;

	if (!w->ordered)
		return;
	if (isnull[k])
		elog(ERROR, "a report row without a store id");
	sid = DatumGetTextPP(values[k]);
	len = VARSIZE_ANY_EXHDR(sid);
	if (len > RM_STORE_ID_MAX_BYTES ||
		(w->lastlen >= 0 &&
		 rm_key_cmp(VARDATA_ANY(sid), len, w->last, w->lastlen) <= 0))
	{
		w->ordered = false;
		return;
	}
	memcpy(w->last, VARDATA_ANY(sid), len);
	w->lastlen = len;

	oldcxt = MemoryContextSwitchTo(w->linecxt);
	for (int c = 0; c < RM_CSV_NCOLS; c++)
	{
		int			a = w->cols.attnums[c] - 1;

		if (c > 0)
			appendStringInfoChar(&w->buf, ',');
		if (!isnull[a])
			append_csv_field(&w->buf, OutputFunctionCall(&w->cols.out[c],
														 values[a]));
	}
	appendStringInfoChar(&w->buf, '\n');
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(w->linecxt);
}

/*
 * The CSV, in the result context given to rm_csv_begin(), or NULL if its
 * rows were not in order; the writer is freed.
 */
text *
rm_csv_end(RmCsvWriter *w)
{
	text	   *result = NULL;

	if (w->ordered)
		result = text_in(&w->buf);
	else
		pfree(w->buf.data);
	MemoryContextDelete(w->linecxt);
	pfree(w->last);
	pfree(w);
	return result;
}

/*
 * The CSV of a complete report, as text allocated in resultcxt, from its
 * rows in restmon.report_row.  Inside SPI; the caller has checked the
 * report's status.
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
	csv_buf_init(&buf, 1024);
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

	return text_in(&buf);
}
