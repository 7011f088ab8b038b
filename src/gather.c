/*-------------------------------------------------------------------------
 *
 * src/gather.c
 *	  A pass over every store on a sharded cluster (doc/scale-out.md): each
 *	  partition computes its stores (restmon.partition_gather(), the
 *	  single-node pass) and sends them as a few text values in a compact
 *	  binary layout, and the coordinator merges them in store-id byte order
 *	  (rm_coordinator_gather()) and hands each store's result on as the
 *	  single-node pass would: the full report (restmon_store_uptime() of
 *	  every store, the report worker's rows) and the incidents of every
 *	  store.  One value a partition, or a few, instead of one text row a
 *	  store: PL/Proxy moves rows as text, and parsing 14,000 rows of ten
 *	  numerics one by one was most of what the coordinator added.
 *
 * The layout (the one copy of it: the writer and the reader are below): a
 * chunk is RM_GATHER_MAGIC (4 bytes) and the kind (1 byte), then records,
 * each a store in byte order after the one before it:
 *		keylen, key bytes, datalen, data
 * where the lengths, and every integer of data, are variable-length
 * integers (7 bits a byte, least significant first; signed ones zigzag
 * encoded, so small measures take few bytes whatever their sign); data is
 * a kind's result: the report's RmResult as up2[3], down2[3], evidence[3];
 * the incidents' RmIncident[] as start, end - start, business and
 * open_at_end (1 byte) each.  A chunk holds whole stores, about
 * restmon.gather_chunk bytes (64 kB: libpq handles such a row with no
 * buffer growth to speak of), and travels as base64 text: PL/Proxy moves
 * results as text, where a bytea would double in hex.
 *
 * Invariants:
 *	- the figures are the partitions' single-node figures, moved as the
 *	  core's integers: the coordinator makes the same numerics from them
 *	  with the same code (rm_uptime_values()), so every digit is equal;
 *	- every chunk is a sorted run; the merge of all runs (a binary heap,
 *	  whichever partition each came from) gives store-id byte order, the
 *	  order of semantics §6.2, as COLLATE "C" sorts;
 *	- a chunk not of this layout (another restmon on a partition) is an
 *	  error, never a misread figure.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/base64.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/binaryheap.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "coordinator.h"
#include "report_parallel.h"
#include "restmon.h"

PG_FUNCTION_INFO_V1(restmon_partition_gather);

#define RM_GATHER_MAGIC		"RMG2"
#define RM_GATHER_HEADER	5
#define RM_VARINT_MAX		10	/* bytes of a 64-bit variable integer */

/* ---------------- the partition's side: writing ---------------- */

typedef struct RmGatherOut
{
	ReturnSetInfo *rsinfo;
	RmParallelKind kind;
	StringInfoData buf;			/* the chunk being filled */
	StringInfoData data;		/* the record's data being encoded */
} RmGatherOut;

static void
put_uvar(StringInfo buf, uint64 v)
{
	char		b[RM_VARINT_MAX];
	int			n = 0;

	while (v >= 0x80)
	{
		b[n++] = (char) ((v & 0x7F) | 0x80);
		v >>= 7;
	}
	b[n++] = (char) v;
	appendBinaryStringInfo(buf, b, n);
}

/* zigzag: 0, -1, 1, -2 ... as 0, 1, 2, 3 ... */
static void
put_var(StringInfo buf, int64 v)
{
	put_uvar(buf, ((uint64) v << 1) ^ (uint64) (v >> 63));
}

static void
chunk_start(RmGatherOut *out)
{
	resetStringInfo(&out->buf);
	appendBinaryStringInfo(&out->buf, RM_GATHER_MAGIC, 4);
	appendStringInfoChar(&out->buf, (char) out->kind);
}

/* the chunk, if it holds a store, as one base64 text row of the result */
static void
chunk_flush(RmGatherOut *out)
{
	int			len = pg_b64_enc_len(out->buf.len);
	text	   *t;
	int			n;
	Datum		value;
	bool		isnull = false;

	if (out->buf.len == RM_GATHER_HEADER)
		return;
	t = palloc(VARHDRSZ + len);
	n = pg_b64_encode(out->buf.data, out->buf.len, VARDATA(t), len);
	if (n < 0)
		elog(ERROR, "could not encode the figures of a partition");
	SET_VARSIZE(t, VARHDRSZ + n);
	value = PointerGetDatum(t);
	tuplestore_putvalues(out->rsinfo->setResult, out->rsinfo->setDesc,
						 &value, &isnull);
	pfree(t);
	chunk_start(out);
}

/*
 * A store's result (len bytes of the kind's struct, not aligned): one
 * record
 */
static void
gather_put(void *arg, const char *key, int keylen, const void *data, int len)
{
	RmGatherOut *out = (RmGatherOut *) arg;
	StringInfo	d = &out->data;

	resetStringInfo(d);
	if (out->kind == RM_PASS_REPORT)
	{
		RmResult	r;

		memcpy(&r, data, sizeof(r));
		for (int w = 0; w < RM_NWINDOWS; w++)
			put_var(d, r.up2[w]);
		for (int w = 0; w < RM_NWINDOWS; w++)
			put_var(d, r.down2[w]);
		for (int w = 0; w < RM_NWINDOWS; w++)
			put_var(d, r.evidence[w]);
	}
	else
	{
		for (int i = 0; i < len / (int) sizeof(RmIncident); i++)
		{
			RmIncident	inc;

			memcpy(&inc, (const char *) data + (Size) i * sizeof(inc),
				   sizeof(inc));
			put_var(d, inc.start);
			put_var(d, inc.end - inc.start);
			put_var(d, inc.business);
			appendStringInfoChar(d, inc.open_at_end ? 1 : 0);
		}
	}
	put_uvar(&out->buf, (uint64) keylen);
	appendBinaryStringInfo(&out->buf, key, keylen);
	put_uvar(&out->buf, (uint64) d->len);
	appendBinaryStringInfo(&out->buf, d->data, d->len);
	if (out->buf.len >= restmon_gather_chunk)
		chunk_flush(out);
}

static void
gather_put_result(void *arg, const char *key, int keylen, const RmResult *res)
{
	gather_put(arg, key, keylen, res, (int) sizeof(RmResult));
}

static RmParallelKind
kind_arg(text *kind)
{
	char	   *k = text_to_cstring(kind);

	if (strcmp(k, "report") == 0)
		return RM_PASS_REPORT;
	if (strcmp(k, "incidents") == 0)
		return RM_PASS_INCIDENTS;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown pass \"%s\"", k),
			 errhint("The passes are \"report\" and \"incidents\".")));
	return RM_PASS_REPORT;		/* not reached */
}

/*
 * restmon.partition_gather(kind text, as_of timestamptz,
 *							min_duration interval): on a partition, the
 * pass of every store of this database as of as_of (the full report, or
 * the incidents of at least min_duration), as this node computes it alone
 * (restmon.report_workers processes), in the layout above.
 */
Datum
restmon_partition_gather(PG_FUNCTION_ARGS)
{
	RmGatherOut out;
	TimestampTz T = PG_GETARG_TIMESTAMPTZ(1);

	out.kind = kind_arg(PG_GETARG_TEXT_PP(0));
	rm_check_instant(T, "as_of");
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	out.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	initStringInfo(&out.buf);
	initStringInfo(&out.data);
	chunk_start(&out);

	SPI_connect();
	if (out.kind == RM_PASS_REPORT)
		rm_uptime_report(T, gather_put_result, NULL, &out);
	else
		rm_incidents_all(T, PG_GETARG_INTERVAL_P(2), gather_put, &out);
	SPI_finish();
	chunk_flush(&out);
	return (Datum) 0;
}

/* ---------------- the coordinator's side: reading, merging ---------------- */

typedef struct RmRun
{
	const char *p;				/* the next record */
	const char *end;
	const char *key;			/* the current record's */
	uint32		keylen;
	const char *data;
	uint32		datalen;
} RmRun;

static void bad_chunk(void) pg_attribute_noreturn();

static void
bad_chunk(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("a partition sent figures restmon cannot read"),
			 errhint("Every partition and the coordinator must run the same version of restmon.")));
}

/* a variable-length integer at *p (before end), *p moved past it */
static uint64
get_uvar(const char **p, const char *end)
{
	uint64		v = 0;

	for (int shift = 0; shift < 7 * RM_VARINT_MAX; shift += 7)
	{
		uint8		b;

		if (*p >= end)
			bad_chunk();
		b = (uint8) *(*p)++;
		v |= (uint64) (b & 0x7F) << shift;
		if (b < 0x80)
			return v;
	}
	bad_chunk();
}

static int64
get_var(const char **p, const char *end)
{
	uint64		u = get_uvar(p, end);

	return (int64) (u >> 1) ^ -(int64) (u & 1);
}

/* a field of the run's next record: its length, then its bytes */
static const char *
run_field(RmRun *r, uint32 *len)
{
	const char *field;
	uint64		n = get_uvar(&r->p, r->end);

	if (n > (uint64) (r->end - r->p))
		bad_chunk();
	field = r->p;
	*len = (uint32) n;
	r->p += n;
	return field;
}

/* reads the run's next record; false at its end */
static bool
run_next(RmRun *r)
{
	if (r->p == r->end)
		return false;
	r->key = run_field(r, &r->keylen);
	r->data = run_field(r, &r->datalen);
	return true;
}

/* the binary heap's order: the smallest key on top (byte order) */
static int
run_cmp(Datum a, Datum b, void *arg)
{
	const RmRun *x = &((RmRun *) arg)[DatumGetInt32(a)];
	const RmRun *y = &((RmRun *) arg)[DatumGetInt32(b)];
	int			c = memcmp(x->key, y->key, Min(x->keylen, y->keylen));

	if (c == 0)
		c = (x->keylen > y->keylen) - (x->keylen < y->keylen);
	return -c;
}

/* one record's data, decoded, handed to put */
static void
run_put(const RmRun *r, RmParallelKind kind, RmRangeEmit put, void *arg,
		RmIncident **incbuf, int *inccap)
{
	const char *d = r->data;
	const char *end = r->data + r->datalen;

	if (kind == RM_PASS_REPORT)
	{
		RmResult	res;

		for (int w = 0; w < RM_NWINDOWS; w++)
			res.up2[w] = get_var(&d, end);
		for (int w = 0; w < RM_NWINDOWS; w++)
			res.down2[w] = get_var(&d, end);
		for (int w = 0; w < RM_NWINDOWS; w++)
			res.evidence[w] = (int32) get_var(&d, end);
		if (d != end)
			bad_chunk();
		put(arg, r->key, (int) r->keylen, &res, (int) sizeof(res));
	}
	else
	{
		int			n = 0;

		while (d < end)
		{
			RmIncident *inc;

			if (n == *inccap)
			{
				*inccap *= 2;
				*incbuf = repalloc(*incbuf, sizeof(RmIncident) * *inccap);
			}
			inc = &(*incbuf)[n++];
			inc->start = get_var(&d, end);
			inc->end = inc->start + get_var(&d, end);
			inc->business = get_var(&d, end);
			if (d >= end)
				bad_chunk();
			inc->open_at_end = *d++ != 0;
		}
		put(arg, r->key, (int) r->keylen, *incbuf,
			n * (int) sizeof(RmIncident));
	}
}

/*
 * The values of all_gather() as PL/Proxy hands them over: each decoded
 * straight from the executor's slot into a run (no copy of the text in
 * between, as SPI's result table would make)
 */
typedef struct RmRunsReceiver
{
	DestReceiver pub;
	RmParallelKind kind;
	MemoryContext cxt;			/* where the runs live */
	RmRun	   *runs;
	int			nruns;
	int			cap;
} RmRunsReceiver;

static bool
runs_receive(TupleTableSlot *slot, DestReceiver *self)
{
	RmRunsReceiver *rr = (RmRunsReceiver *) self;
	bool		isnull;
	Datum		d = slot_getattr(slot, 1, &isnull);
	MemoryContext oldcxt;
	text	   *t;
	int			len;
	char	   *p;
	RmRun	   *r;

	if (isnull)
		return true;
	oldcxt = MemoryContextSwitchTo(rr->cxt);
	t = DatumGetTextPP(d);
	len = pg_b64_dec_len(VARSIZE_ANY_EXHDR(t));
	p = palloc(len);
	len = pg_b64_decode(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), p, len);
	if (len < RM_GATHER_HEADER ||
		memcmp(p, RM_GATHER_MAGIC, 4) != 0 || p[4] != (char) rr->kind)
		bad_chunk();
	if (rr->nruns == rr->cap)
	{
		rr->cap *= 2;
		rr->runs = repalloc(rr->runs, sizeof(RmRun) * rr->cap);
	}
	r = &rr->runs[rr->nruns++];
	memset(r, 0, sizeof(*r));
	r->p = p + RM_GATHER_HEADER;
	r->end = p + len;
	MemoryContextSwitchTo(oldcxt);
	return true;
}

static void
runs_startup(DestReceiver *self pg_attribute_unused(),
			 int operation pg_attribute_unused(),
			 TupleDesc typeinfo pg_attribute_unused())
{
}

static void
runs_noop(DestReceiver *self pg_attribute_unused())
{
}

/*
 * On a coordinator: the pass of every store of every partition as of T
 * (all partitions at once, PL/Proxy's RUN ON ALL), each store's result
 * handed to put in store-id byte order, as the single-node pass does.  A
 * partition that does not answer raises 08006 (coordinator.c).  Inside
 * SPI.
 */
void
rm_coordinator_gather(RmParallelKind kind, TimestampTz T,
					  const Interval *min_duration, RmRangeEmit put,
					  void *arg)
{
	Interval	zero = {0};
	Datum		args[3] = {
		CStringGetTextDatum(kind == RM_PASS_REPORT ? "report" : "incidents"),
		TimestampTzGetDatum(T),
	IntervalPGetDatum(min_duration != NULL ? min_duration : &zero)};
	Oid			types[3] = {TEXTOID, TIMESTAMPTZOID, INTERVALOID};
	RmRunsReceiver rr;
	binaryheap *heap;
	MemoryContext storecxt;
	int			inccap = 16;
	RmIncident *incbuf = palloc(sizeof(RmIncident) * inccap);

	memset(&rr, 0, sizeof(rr));
	rr.pub.receiveSlot = runs_receive;
	rr.pub.rStartup = runs_startup;
	rr.pub.rShutdown = runs_noop;
	rr.pub.rDestroy = runs_noop;
	rr.pub.mydest = DestTuplestore; /* not DestNone: SPI_OK_SELECT */
	rr.kind = kind;
	rr.cxt = CurrentMemoryContext;
	rr.cap = 16;
	rr.runs = palloc(sizeof(RmRun) * rr.cap);
	if (rm_coordinator_execute("SELECT restmon_coordinator.all_gather($1, $2, $3)",
							   3, types, args, NULL, true, 0,
							   (DestReceiver *) &rr) != SPI_OK_SELECT)
		elog(ERROR, "could not gather from the partitions");
	heap = binaryheap_allocate(Max(rr.nruns, 1), run_cmp, rr.runs);
	for (int i = 0; i < rr.nruns; i++)
		if (run_next(&rr.runs[i]))
			binaryheap_add_unordered(heap, Int32GetDatum(i));
	binaryheap_build(heap);
	/* what put allocates in the current context lives for one store */
	storecxt = AllocSetContextCreate(CurrentMemoryContext,
									 "restmon gathered store",
									 ALLOCSET_DEFAULT_SIZES);
	while (!binaryheap_empty(heap))
	{
		RmRun	   *r = &rr.runs[DatumGetInt32(binaryheap_first(heap))];
		MemoryContext oldcxt;

		CHECK_FOR_INTERRUPTS();
		oldcxt = MemoryContextSwitchTo(storecxt);
		run_put(r, kind, put, arg, &incbuf, &inccap);
		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(storecxt);
		if (run_next(r))
			binaryheap_replace_first(heap, binaryheap_first(heap));
		else
			(void) binaryheap_remove_first(heap);
	}
	MemoryContextDelete(storecxt);
}

/* rm_coordinator_gather()'s report: RmResult bytes to a RmStoreEmit */
typedef struct RmUptimeEmit
{
	RmStoreEmit emit;
	void	   *arg;
} RmUptimeEmit;

static void
uptime_put(void *arg, const char *key, int keylen, const void *data,
		   int len pg_attribute_unused())
{
	RmUptimeEmit *e = (RmUptimeEmit *) arg;

	e->emit(e->arg, key, keylen, (const RmResult *) data);
}

/* the full report as of T from every partition, in byte order */
void
rm_coordinator_uptime(TimestampTz T, RmStoreEmit emit, void *arg)
{
	RmUptimeEmit e = {emit, arg};

	rm_coordinator_gather(RM_PASS_REPORT, T, NULL, uptime_put, &e);
}
