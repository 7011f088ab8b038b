/*-------------------------------------------------------------------------
 *
 * src/record_polls.c
 *	  Polls as they arrive: restmon_record_polls(jsonb) and
 *	  restmon_record_poll(), which pollers call instead of writing a status
 *	  file, and restmon_record_polls_csv(), a status file's text in a value
 *	  (the HTTP gateway's text/csv bodies).
 *
 * There is one pipeline for polls.  An element of the array is checked as
 * a line of a status file is checked, by the same functions (its store id
 * by rm_store_field_reason, its timestamp and status by rm_poll_values),
 * then gathered, sorted and applied by polls.c exactly as a file's lines
 * are (semantics §1.3, §1.6): the first poll of a store and instant not
 * stored yet is inserted, a later one with the same status is a duplicate,
 * one with the other status a conflicting duplicate (rejected).  Within a
 * batch the earlier element wins, as the earlier line of a file does.
 *
 * Invariants:
 *	- received = loaded + duplicate + rejected;
 *	- a batch is applied inside the caller's transaction: all of it or
 *	  none; a bad element is rejected and never stops the batch;
 *	- a rejected element is kept in restmon.rejected_row with its index in
 *	  the array (from 0) as line_no, the element's JSON text as raw_line
 *	  and a reason, under a run of source 'api' in restmon.ingest_run; the
 *	  run is logged only for a batch with a rejected element;
 *	- only a batch that is not an array at all is an error (22023, or
 *	  22004 for NULL): nothing is recorded then.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "coordinator.h"
#include "ingest_int.h"

PG_FUNCTION_INFO_V1(restmon_record_polls);
PG_FUNCTION_INFO_V1(restmon_record_poll);
PG_FUNCTION_INFO_V1(restmon_record_polls_csv);

#define RM_POLLS_HINT \
	"Pass a JSON array of objects such as {\"store_id\": \"8419537941919820732\", \"status\": \"active\", \"timestamp_utc\": \"2024-10-03T22:00:00Z\"}."

/* ---------------------------------------------------------------------
 * Elements
 * ---------------------------------------------------------------------
 */

/* the JSON text of element i of the array (for raw_line) */
static char *
element_raw(JsonbContainer *root, int64 i, int *len)
{
	JsonbValue *v = getIthJsonbValueFromContainer(root, (uint32) i);
	char	   *s;

	if (v->type == jbvBinary)
		s = JsonbToCString(NULL, v->val.binary.data, v->val.binary.len);
	else
	{
		Jsonb	   *j = JsonbValueToJsonb(v);

		s = JsonbToCString(NULL, &j->root, VARSIZE(j));
	}
	*len = strlen(s);
	return s;
}

/*
 * A member of an element, by the column's name or one of its other names
 * (sources.c): NULL and *out, its value trimmed as a file's field is
 * (semantics §1.2), or the reason to reject the element.
 */
static const char *
element_field(JsonbContainer *obj, const RmColumn *col, char **out)
{
	JsonbValue	vbuf;
	JsonbValue *v = NULL;

	for (int n = 0; n < 4 && col->names[n] != NULL && v == NULL; n++)
		v = getKeyJsonValueFromContainer(obj, col->names[n],
										 strlen(col->names[n]), &vbuf);
	if (v == NULL)
		return psprintf("missing %s", col->names[0]);
	if (v->type == jbvNull)
		return psprintf("%s is null", col->names[0]);
	if (v->type != jbvString)
		return psprintf("%s is not a JSON string", col->names[0]);
	*out = rm_trim(pnstrdup(v->val.string.val, v->val.string.len));
	return NULL;
}

/* element i of the array: gathered (polls.c), or rejected */
static void
record_element(RmIngest *st, JsonbContainer *root, int64 i)
{
	JsonbValue *v = getIthJsonbValueFromContainer(root, (uint32) i);
	const char *reason = NULL;
	char	   *f[3];
	TimestampTz ts = 0;
	bool		active = false;

	if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
		reason = "element is not an object";
	for (int c = 0; c < 3 && reason == NULL; c++)
		reason = element_field(v->val.binary.data, &st->def->cols[c], &f[c]);
	if (reason == NULL)
		reason = rm_store_field_reason(f[0], strlen(f[0]));
	if (reason == NULL)
		reason = rm_poll_values(f[1], f[2], &ts, &active);
	if (reason == NULL)
		rm_polls_add(st, f[0], strlen(f[0]), ts, active, i);
	else
	{
		int			len;
		char	   *raw = element_raw(root, i, &len);

		rm_reject_line(st, i, raw, len, reason);
	}
}

/* polls.c's conflicting duplicates: their raw text from the array */
static void
reject_conflicts(RmIngest *st, int64 *item_nos, int n)
{
	for (int k = 0; k < n; k++)
	{
		int			len;
		char	   *raw = element_raw(st->api, item_nos[k], &len);

		rm_reject_line(st, item_nos[k], raw, len, "conflicting duplicate");
	}
}

/*
 * Record every element of the array polls (inside SPI): the same
 * pipeline as a status file's lines, element i in the place of line i.
 */
static void
record_batch(RmIngest *st, Jsonb *polls, const char *name)
{
	int64		n = JB_ROOT_COUNT(polls);
	MemoryContext elemcxt;
	MemoryContext old;
	int64		counts[5];

	memset(st, 0, sizeof(*st));
	st->source = RM_SRC_STATUS;
	st->def = &rm_sources[RM_SRC_STATUS];
	st->path = name;
	st->api = &polls->root;
	st->reject_conflicts = reject_conflicts;
	st->state_alerts = true;
	st->max_items = n;
	rm_batch_init(st);
	rm_polls_init(st);

	elemcxt = AllocSetContextCreate(CurrentMemoryContext,
									"restmon record element",
									ALLOCSET_SMALL_SIZES);
	for (int64 i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		st->rows_read++;
		old = MemoryContextSwitchTo(elemcxt);
		record_element(st, &polls->root, i);
		MemoryContextSwitchTo(old);
		MemoryContextReset(elemcxt);
	}
	MemoryContextDelete(elemcxt);

	rm_polls_finish(st);
	rm_flush_batch(st);			/* the last rejected elements */
	rm_coordinator_distribute(st);	/* a coordinator: to the partitions */
	counts[0] = st->rows_read;
	counts[1] = st->rows_loaded;
	counts[2] = st->rows_duplicate;
	counts[3] = st->rows_rejected;
	counts[4] = st->rows_expired;
	if (st->run_id != 0)
		rm_finish_run(st->run_id, counts, "loaded", NULL);
	rm_batch_end(st);
}

/* ---------------------------------------------------------------------
 * The summary
 * ---------------------------------------------------------------------
 */

/*
 * [{"index": i, "reason": "..."}, ...] of the run's rejects, in order (key:
 * "index" for an array's elements, "line" for a text's lines)
 */
static Datum
rejects_of_run(int64 run_id, const char *key)
{
	Datum		args[2] = {Int64GetDatum(run_id), CStringGetTextDatum(key)};
	Oid			types[2] = {INT8OID, TEXTOID};
	bool		isnull;
	Datum		value;

	if (SPI_execute_with_args("SELECT pg_catalog.jsonb_agg("
							  "  pg_catalog.jsonb_build_object($2, r.line_no,"
							  "   'reason', r.reason) ORDER BY r.line_no)"
							  " FROM restmon.rejected_row r WHERE r.run_id = $1",
							  2, types, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the rejected polls");
	value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
						  &isnull);
	if (isnull)
		elog(ERROR, "the rejected polls of run " INT64_FORMAT " are missing",
			 run_id);
	return SPI_datumTransfer(value, false, -1);
}

#define RM_RECORD_COLS 7

/*
 * Record a batch, an array (polls) or a status file's text (csv), and
 * return its summary: received, loaded, duplicate, rejected, rejects
 * (jsonb), run_id (NULL when nothing was rejected) and expired (polls older
 * than the retention edge, polls.c).
 */
static Datum
record_and_summarise(FunctionCallInfo fcinfo, Jsonb *polls, text *csv,
					 const char *name)
{
	RmIngest	st;
	TupleDesc	tupdesc;
	Datum		values[RM_RECORD_COLS];
	bool		nulls[RM_RECORD_COLS] = {0};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	rm_error_if_standby();
	rm_require_read_committed();

	SPI_connect();
	if (polls != NULL)
		record_batch(&st, polls, name);
	else
		rm_ingest_status_text(&st, name, VARDATA_ANY(csv),
							  VARSIZE_ANY_EXHDR(csv));
	/* a run only when something was rejected; its rejects outlive SPI */
	if (st.run_id != 0)
		values[4] = rejects_of_run(st.run_id, polls != NULL ? "index" : "line");
	SPI_finish();
	if (st.run_id == 0)
		values[4] = DirectFunctionCall1(jsonb_in, CStringGetDatum("[]"));

	values[0] = Int64GetDatum(st.rows_read);
	values[1] = Int64GetDatum(st.rows_loaded);
	values[2] = Int64GetDatum(st.rows_duplicate);
	values[3] = Int64GetDatum(st.rows_rejected);
	values[5] = Int64GetDatum(st.run_id);
	nulls[5] = (st.run_id == 0);
	values[6] = Int64GetDatum(st.rows_expired);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}

/* ---------------------------------------------------------------------
 * SQL-callable functions
 * ---------------------------------------------------------------------
 */

/* restmon_record_polls(polls jsonb): an array of polls */
Datum
restmon_record_polls(PG_FUNCTION_ARGS)
{
	Jsonb	   *polls;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("polls must not be NULL"),
				 errhint(RM_POLLS_HINT)));
	polls = PG_GETARG_JSONB_P(0);
	if (!JB_ROOT_IS_ARRAY(polls) || JB_ROOT_IS_SCALAR(polls))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("polls must be a JSON array, not %s",
						JB_ROOT_IS_OBJECT(polls) ? "an object" : "a scalar"),
				 errhint(RM_POLLS_HINT)));
	return record_and_summarise(fcinfo, polls, NULL, "restmon_record_polls");
}

/* a JSON string (escaped) or null */
static void
append_json_value(StringInfo buf, const char *s)
{
	if (s == NULL)
		appendStringInfoString(buf, "null");
	else
		escape_json(buf, s);
}

/* an instant as ISO 8601 in UTC, 2024-10-03T22:00:00.5Z, or "infinity" */
static char *
instant_text(TimestampTz t)
{
	char		buf[MAXDATELEN + 2];
	struct pg_tm tm;
	fsec_t		fsec;

	if (TIMESTAMP_NOT_FINITE(t))
		EncodeSpecialTimestamp(t, buf);
	else if (timestamp2tm(t, NULL, &tm, &fsec, NULL, NULL) != 0)
		return pstrdup("out of range");
	else
	{
		EncodeDateTime(&tm, fsec, false, 0, NULL, USE_XSD_DATES, buf);
		strcat(buf, "Z");
	}
	return pstrdup(buf);
}

/*
 * restmon_record_poll(store_id, status, timestamp_utc): one poll, recorded
 * as the one element of an array, so that it goes through the very same
 * checks; NULL arguments are JSON nulls, rejected with their reason.
 */
Datum
restmon_record_poll(PG_FUNCTION_ARGS)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "[{\"store_id\": ");
	append_json_value(&buf, PG_ARGISNULL(0) ? NULL :
					  text_to_cstring(PG_GETARG_TEXT_PP(0)));
	appendStringInfoString(&buf, ", \"status\": ");
	append_json_value(&buf, PG_ARGISNULL(1) ? NULL :
					  text_to_cstring(PG_GETARG_TEXT_PP(1)));
	appendStringInfoString(&buf, ", \"timestamp_utc\": ");
	append_json_value(&buf, PG_ARGISNULL(2) ? NULL :
					  instant_text(PG_GETARG_TIMESTAMPTZ(2)));
	appendStringInfoString(&buf, "}]");
	return record_and_summarise(fcinfo,
								DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
																   CStringGetDatum(buf.data))),
								NULL, "restmon_record_poll");
}

/*
 * restmon_record_polls_csv(csv text): a status file's text, header first,
 * read as restmon_ingest_status() reads a file (semantics §1.2-§1.6); a
 * rejected line is kept with its line number (the header is line 1).
 */
Datum
restmon_record_polls_csv(PG_FUNCTION_ARGS)
{
	return record_and_summarise(fcinfo, NULL, PG_GETARG_TEXT_PP(0),
								"restmon_record_polls_csv");
}
