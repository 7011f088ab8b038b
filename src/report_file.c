/*-------------------------------------------------------------------------
 *
 * src/report_file.c
 *	  A complete report's CSV stored once, in restmon.report_file: every
 *	  statement on that table, the file's HTTP entity tag, and pages of
 *	  the CSV cut from the file.
 *
 * The file is written when the report completes (report_worker.c: a
 * worker stores it in its own transaction right after the one that marks
 * the report Complete; wait => true in that same transaction), from
 * report_csv.c's rendering (the one renderer of semantics §6), done as the
 * rows were written (report_rows.c); restmon_report_csv() and
 * restmon_report_csv_page() then return its bytes without rendering again.
 * It goes with its report: its foreign key is ON DELETE CASCADE, so
 * pruning restmon.report deletes it.
 *
 * Invariants:
 *	- a file is rm_report_csv()'s output for its report, byte for byte; a
 *	  complete report's rows never change, so neither does its file;
 *	- its ETag is strong: the report id and the first 128 bits of the
 *	  SHA-256 of the bytes, "<id>-<32 hex digits>", quotes included;
 *	- a report completed before 0.4.0, or whose worker has not stored its
 *	  file yet (or failed to), has no file until
 *	  restmon_report_csv_etag() stores it (on a primary, outside a
 *	  read-only transaction); until then its CSV is rendered from its rows,
 *	  the same bytes, and its pages are cut from that rendering the same
 *	  way (one cutting routine, below);
 *	- without the table (the new module before ALTER EXTENSION UPDATE)
 *	  nothing is stored and the CSV is rendered as before;
 *	- a page is the file cut after a line end: no field of the CSV holds a
 *	  line break (a store id has no control character, semantics §1.8), so
 *	  the lines are the file's '\n'-ended runs, in store-id byte order.  A
 *	  page reads slices of the file (the column is stored uncompressed,
 *	  STORAGE EXTERNAL), never all of it.
 *
 * Every function here runs inside SPI, with a snapshot.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"

#include "report_csv.h"
#include "report_file.h"
#include "report_queue.h"
#include "restmon.h"

/* a line is at most a quoted 255-byte store id and 6 short numbers */
#define RM_FILE_LINE_MAX	1024

/* the file of a report, as read by file_open() */
typedef struct RmFile
{
	Datum		csv;			/* maybe a toast pointer, valid until
								 * SPI_finish */
	int64		bytes;
	char	   *etag;
} RmFile;

/* is restmon.report_file there? (no: the SQL is older than the module) */
bool
rm_report_file_available(void)
{
	Oid			nsp = get_namespace_oid("restmon", true);

	return OidIsValid(nsp) && OidIsValid(get_relname_relid("report_file", nsp));
}

/* may this transaction store a file? */
static bool
can_store(void)
{
	return !RecoveryInProgress() && !XactReadOnly &&
		rm_report_file_available();
}

/* the strong entity tag of a report's bytes, quotes included (palloc'd) */
static char *
file_etag(const char *id, const char *data, size_t len)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	char		hex[33];

	if (pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) data, len) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not hash the CSV of report %s: %s", id,
			 pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);
	hex[hex_encode((const char *) digest, 16, hex)] = '\0';
	return psprintf("\"%s-%s\"", id, hex);
}

/* the ETag of a report's CSV (palloc'd) */
char *
rm_report_file_etag_of(const char *id, const text *csv)
{
	return file_etag(id, VARDATA_ANY(csv), VARSIZE_ANY_EXHDR(csv));
}

/*
 * Store the CSV of a complete report with its ETag (nothing if a file is
 * there already): csv, the rows' CSV rendered as they were written
 * (report_rows.c), with etag its ETag if known (else NULL), or if csv is
 * NULL rendered now from the rows.  Returns the ETag and sets *bytes.  The rows are read as this transaction wrote them
 * so far: the worker stores the file right after writing them.
 */
char *
rm_report_file_store(const char *id, text *csv, char *etag, int64 *bytes)
{
	Datum		args[4];
	Oid			types[4] = {TEXTOID, TEXTOID, INT8OID, TEXTOID};

	if (csv == NULL)
	{
		etag = NULL;
		CommandCounterIncrement();
		PushCopiedSnapshot(GetActiveSnapshot());
		UpdateActiveSnapshotCommandId();
		csv = rm_report_csv(id, CurrentMemoryContext);
		PopActiveSnapshot();
	}
	if (etag == NULL)
		etag = rm_report_file_etag_of(id, csv);
	*bytes = VARSIZE_ANY_EXHDR(csv);
	args[0] = CStringGetTextDatum(id);
	args[1] = CStringGetTextDatum(etag);
	args[2] = Int64GetDatum(*bytes);
	args[3] = PointerGetDatum(csv);
	if (SPI_execute_with_args("INSERT INTO restmon.report_file"
							  " (report_id, etag, bytes, csv)"
							  " VALUES ($1, $2, $3, $4)"
							  " ON CONFLICT (report_id) DO NOTHING",
							  4, types, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not store the CSV of report %s", id);
	pfree(csv);
	return etag;
}

/* the file of a report, if it has one (read with the current snapshot) */
static bool
file_open(const char *id, RmFile *f)
{
	static SPIPlanPtr plan = NULL;
	Datum		arg = CStringGetTextDatum(id);
	Oid			type = TEXTOID;
	bool		isnull;

	if (!rm_report_file_available())
		return false;
	rm_kept_plan(&plan, "SELECT etag, bytes, csv"
				 " FROM restmon.report_file"
				 " WHERE report_id = $1", 1, &type);
	if (SPI_execute_plan(plan, &arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the CSV of report %s", id);
	if (SPI_processed == 0)
		return false;
	f->etag = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	f->bytes = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
										   SPI_tuptable->tupdesc, 2, &isnull));
	f->csv = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3,
						   &isnull);
	return true;
}

/*
 * The ETag and size of a complete report's file; stored now if it has none
 * and this transaction may write, else computed from its rendering.
 */
char *
rm_report_file_etag(const char *id, int64 *bytes)
{
	RmFile		f;
	text	   *csv;
	char	   *etag;

	if (file_open(id, &f))
	{
		*bytes = f.bytes;
		return f.etag;
	}
	if (can_store())
		return rm_report_file_store(id, NULL, NULL, bytes);
	csv = rm_report_csv(id, CurrentMemoryContext);
	*bytes = VARSIZE_ANY_EXHDR(csv);
	etag = file_etag(id, VARDATA_ANY(csv), VARSIZE_ANY_EXHDR(csv));
	pfree(csv);
	return etag;
}

/* the stored CSV of a complete report, in resultcxt; NULL if none */
text *
rm_report_file_csv(const char *id, MemoryContext resultcxt)
{
	RmFile		f;
	MemoryContext oldcxt;
	text	   *result;

	if (!file_open(id, &f))
		return NULL;
	oldcxt = MemoryContextSwitchTo(resultcxt);
	result = DatumGetTextPCopy(f.csv);
	MemoryContextSwitchTo(oldcxt);
	return result;
}

/* ---------------------------------------------------------------------
 * Pages: the file cut after line ends
 * ---------------------------------------------------------------------
 */

/* bytes [off, off + len) of the file, or fewer at its end */
static text *
file_slice(const RmFile *f, int64 off, int64 len)
{
	if (off >= f->bytes)
		return cstring_to_text("");
	len = Min(len, f->bytes - off);
	return DatumGetTextPSlice(f->csv, (int32) off, (int32) len);
}

/* the first field (the store id) of the line at s, n bytes, unquoted */
static char *
line_store_id(const char *s, int n)
{
	StringInfoData buf;
	int			i = 0;

	initStringInfo(&buf);
	if (n > 0 && s[0] == '"')
	{
		for (i = 1; i < n; i++)
		{
			if (s[i] == '"' && !(i + 1 < n && s[i + 1] == '"'))
				break;
			if (s[i] == '"')
				i++;
			appendStringInfoChar(&buf, s[i]);
		}
		return buf.data;
	}
	while (i < n && s[i] != ',' && s[i] != '\n')
		appendStringInfoChar(&buf, s[i++]);
	return buf.data;
}

/*
 * Where the first line starting at or after byte x begins (f->bytes if
 * none), and (if that is a line) its store id in *id.
 */
static int64
line_at(const RmFile *f, int64 x, char **id)
{
	text	   *t = file_slice(f, x - 1, 2 * RM_FILE_LINE_MAX);
	const char *s = VARDATA_ANY(t);
	int			n = VARSIZE_ANY_EXHDR(t);
	const char *nl = memchr(s, '\n', n);
	int64		start;

	if (nl == NULL)
		elog(ERROR, "the stored CSV has a line over %d bytes",
			 RM_FILE_LINE_MAX);
	start = x + (nl - s);
	if (start < f->bytes)
		*id = line_store_id(nl + 1, n - (int) (nl + 1 - s));
	pfree(t);
	return start;
}

/* where the line at or after byte x begins, its store id freed */
static int64
line_start(const RmFile *f, int64 x)
{
	char	   *id = NULL;
	int64		start = line_at(f, x, &id);

	if (id != NULL)
		pfree(id);
	return start;
}

/*
 * Where the first line whose store id is greater than after begins (the
 * end of the file if none): a binary search over byte offsets x of "is the
 * line at or after x past after?", true from some x on since the lines
 * are in store-id byte order (the "C" order of restmon.report_row).
 */
static int64
first_line_after(const RmFile *f, int64 header_end, const char *after)
{
	int64		lo = header_end;
	int64		hi = f->bytes;

	while (lo < hi)
	{
		int64		mid = lo + (hi - lo) / 2;
		char	   *id = NULL;
		int64		start = line_at(f, mid, &id);

		if (start >= f->bytes || strcmp(id, after) > 0)
			hi = mid;
		else
			lo = start + 1;		/* every x up to start finds that line */
		if (id != NULL)
			pfree(id);
	}
	return line_start(f, lo);
}

/*
 * One page of a complete report's CSV: the header when after is NULL, then
 * the lines of the stores after it until the page holds max_bytes (at
 * least one line, never a line split); *resume is the store id of its last
 * line if more follow (in resultcxt).  Cut from the stored file, or from a
 * rendering of the report if it has none (see the banner): the pages,
 * concatenated, are rm_report_csv()'s output byte for byte.
 */
text *
rm_report_file_page(const char *id, const char *after, int max_bytes,
					char **resume, MemoryContext resultcxt)
{
	RmFile		f;
	int64		start;
	int64		pos;
	int64		last = -1;
	text	   *t;
	const char *s;
	int64		n;
	MemoryContext oldcxt;
	text	   *result;

	*resume = NULL;
	if (!file_open(id, &f))
	{
		text	   *csv = rm_report_csv(id, CurrentMemoryContext);

		f.csv = PointerGetDatum(csv);
		f.bytes = VARSIZE_ANY_EXHDR(csv);
	}
	/* the header is the file's first line */
	start = after == NULL ? 0 : first_line_after(&f, line_start(&f, 1), after);
	pos = after == NULL ? line_start(&f, 1) : 0;

	/*
	 * Lines until the page holds max_bytes, at least one: the last starts
	 * before max_bytes (or is the first), so it ends in this slice.
	 */
	t = file_slice(&f, start, (int64) max_bytes + RM_FILE_LINE_MAX);
	s = VARDATA_ANY(t);
	n = VARSIZE_ANY_EXHDR(t);
	while (pos < n && (last < 0 || pos < max_bytes))
	{
		const char *nl = memchr(s + pos, '\n', n - pos);

		if (nl == NULL)
			elog(ERROR, "the stored CSV of report %s does not end a line", id);
		last = pos;
		pos = nl - s + 1;
	}
	oldcxt = MemoryContextSwitchTo(resultcxt);
	if (last >= 0 && start + pos < f.bytes)
		*resume = line_store_id(s + last, (int) (pos - last));
	result = cstring_to_text_with_len(s, (int) pos);
	MemoryContextSwitchTo(oldcxt);
	pfree(t);
	return result;
}
