/*-------------------------------------------------------------------------
 *
 * src/ingest_int.h
 *	  Private declarations of the ingestion files (semantics §1): the three
 *	  sources, the state of one file's load, and what the files share.
 *
 * The ingestion files form layers; each calls only the ones below it:
 *
 *	ingest.c	header, line dispatch, the per-file driver, SQL entry points
 *	polls.c, snapshot.c
 *				the two pipelines: status polls (in memory, sorted, applied
 *				through observation.c); hours and zones (staged, applied by
 *				one statement per file)
 *	load_log.c	rejected lines, the staging batches and the run log
 *	csv.c, parse.c, sources.c
 *				file access and lines; value parsers; the sources' definitions
 *
 *-------------------------------------------------------------------------
 */
#ifndef INGEST_INT_H
#define INGEST_INT_H

#include <sys/stat.h>

#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/hsearch.h"

#include "csvsplit.h"
#include "restmon.h"

#define RM_MAX_COLS		4
#define RM_BATCH_ROWS	50000
#define RM_READ_CHUNK	65536

/*
 * Bounds of one line (semantics §1): a line longer than RM_MAX_LINE bytes
 * (without its line end) is rejected with its length and skipped without
 * being buffered; a rejected line keeps at most RM_RAW_MAX bytes of its raw
 * text; a reason quotes at most RM_EXCERPT bytes of a value (rm_excerpt)
 * and is at most RM_REASON_MAX bytes in all.  A batch is flushed when it
 * holds RM_BATCH_ROWS lines of a kind or RM_BATCH_BYTES bytes (rejected
 * lines' raw text and reasons, staged lines), so no array of a batch comes
 * near PostgreSQL's 1 GB limit.
 */
#define RM_MAX_LINE		65536
#define RM_RAW_MAX		1024
#define RM_EXCERPT		32
#define RM_REASON_MAX	256
#define RM_BATCH_BYTES	(64 * 1024 * 1024)

/* a reader remembers where every RM_MARK_LINES-th line starts */
#define RM_MARK_LINES	1024

typedef enum RmSource
{
	RM_SRC_STATUS,
	RM_SRC_HOURS,
	RM_SRC_TIMEZONES
} RmSource;

#define RM_NUM_SOURCES	3

typedef struct RmColumn
{
	const char *names[4];		/* canonical name first, then aliases */
	Oid			type;			/* type of the staged value */
} RmColumn;

/*
 * One source.  Every statement is fixed text: the staging table of a
 * source has a fixed name, so nothing is built at run time.
 */
typedef struct RmSourceDef
{
	const char *name;			/* as in ingest_run.source */
	const char *file_names[3];	/* usual file names (semantics §1) */
	int			ncols;
	RmColumn	cols[RM_MAX_COLS];
	const char *stage_table;	/* the staging table, schema-qualified */
	const char *stage_sql;		/* creates the staging table */
	const char *truncate_sql;	/* empties it, when it exists already */
	const char *analyze_sql;	/* analyzes it, before it is applied */
	const char *insert_sql;		/* stages a batch: $1 line_no[], $2.. values[] */
	const char *replace_sql;	/* run first: a lock, or for snapshots,
								 * emptying the table */
	const char *finish_sql;		/* applies the staged rows, returns (loaded,
								 * duplicates, conflicting line_no[]) */
} RmSourceDef;

/* sources.c: indexed by RmSource */
extern const RmSourceDef rm_sources[RM_NUM_SOURCES];

struct rmstore_hash;			/* polls.c: interned store ids */
struct RmLineReader;			/* csv.c */

/*
 * A status poll gathered (polls.c), 16 bytes: its instant; its line (its
 * item number counted from the chunk's first, RmIngest.line_base, below
 * 2^31) shifted left by one, the status in the low bit, so that two rows
 * compare in line order; and its store.
 */
typedef struct RmPollRow
{
	TimestampTz t;
	uint32		line_active;	/* (item_no - line_base) << 1 | active */
	int32		store;			/* index in store_text; rank while sorting */
} RmPollRow;

#define RM_POLL_LINES_MAX	PG_INT32_MAX	/* a chunk's span of items */
#define rm_poll_active(r)	(((r)->line_active & 1) != 0)
#define rm_poll_line(st, r)	((st)->line_base + (int64) ((r)->line_active >> 1))

/* state of one file's ingestion, or of one API batch */
typedef struct RmIngest
{
	const RmSourceDef *def;
	RmSource	source;
	const char *path;
	struct RmLineReader *reader;	/* the file, open until the end */
	int64		run_id;
	int			nfields;		/* fields in the header */
	int			colpos[RM_MAX_COLS];	/* header position of each column */

	MemoryContext batchcxt;		/* reset after each flush */
	int			nrows;			/* staged valid rows */
	int64	   *line_no;
	Datum	   *values[RM_MAX_COLS];
	int			nrej;			/* staged rejected rows */
	int64	   *rej_line_no;
	Datum	   *rej_raw;
	Datum	   *rej_reason;
	Size		batch_bytes;	/* the batch's raw text, reasons and staged
								 * lines */

	SPIPlanPtr	insert_plan;
	SPIPlanPtr	reject_plan;
	HTAB	   *zones;			/* timezones: known zone names */

	/* status: polls gathered in memory, applied in sorted chunks */
	MemoryContext pollcxt;
	struct rmstore_hash *stores;	/* store_id -> index in store_text */
	text	  **store_text;
	int			nstores;
	int			store_cap;
	struct RmPollRow *polls;
	int64		line_base;		/* the item number of the chunk's first */
	int			npolls;
	int			poll_cap;		/* allocated, grown up to max_polls */
	int			max_polls;		/* a chunk: maintenance_work_mem */

	/*
	 * API batches (record_polls.c): the raw text of conflicting duplicates
	 * comes from here instead of the file (NULL for a file), and state alerts
	 * are sent (alerts.c, semantics §5.6).
	 */
	void		(*reject_conflicts) (struct RmIngest *st, int64 *item_nos,
									 int n);
	bool		state_alerts;
	void	   *api;			/* the API batch being recorded */

	/*
	 * A load of at most max_items polls (0: not known, a file) that fits one
	 * chunk locks its stores' rows instead of the table (polls.c)
	 */
	int64		max_items;
	bool		store_locks;

	/* retention (prune.c): polls older than edge are not loaded */
	bool		edge_known;		/* edge looked up, at the first poll */
	bool		has_edge;		/* retention on and polls stored */
	TimestampTz edge;
	bool		edge_exact;		/* edge, or a bound above it (prune.c) */
	struct SnapshotData *edge_snapshot; /* where the edge is read, if not */

	int64		rows_read;
	int64		rows_loaded;
	int64		rows_duplicate;
	int64		rows_rejected;
	int64		rows_expired;	/* polls older than the retention edge */
} RmIngest;

/*
 * csv.c: files and lines.  A reader reads its file through one descriptor,
 * opened once: a line read again (rm_reader_seek) comes from the same file
 * even when the path was replaced meanwhile.
 */
typedef struct RmLineReader
{
	int			fd;
	bool		owns_fd;		/* false for a reader made by rm_reader_seek */
	const char *path;
	struct stat opened;			/* the file as it was opened */
	char	   *chunk;			/* RM_READ_CHUNK bytes read ahead */
	char	   *p;				/* next unread byte of chunk */
	char	   *end;
	off_t		pos;			/* file offset of the end of chunk */
	bool		eof;
	StringInfoData line;		/* the current line, at most RM_MAX_LINE bytes
								 * of it */
	int64		line_no;		/* of the current line, from 1 */
	int64		line_len;		/* its whole length, without its line end */
	bool		too_long;		/* line_len > RM_MAX_LINE: line holds only its
								 * first RM_MAX_LINE bytes */
	off_t	   *marks;			/* offset of line 1 + k * RM_MARK_LINES */
	int			nmarks;
	int			marks_cap;
	const char *mem;			/* a reader of text in memory: the text (fd
								 * -1), or NULL */
	off_t		mem_len;
} RmLineReader;

extern void rm_check_read_privilege(void);
extern char *rm_resolve_path(const char *path);
extern int	rm_open_source_file(const char *path, struct stat *st);
extern void rm_reader_open(RmLineReader *r, const char *path);
extern void rm_reader_open_mem(RmLineReader *r, const char *data, int len,
							   const char *name);
extern bool rm_reader_next(RmLineReader *r, char **line, int *len);
extern void rm_reader_seek(RmLineReader *r, const RmLineReader *from,
						   int64 line_no);
extern void rm_reader_close(RmLineReader *r);
extern int	rm_split_csv_line(const char *line, int len, char *buf,
							  char **fields, int maxfields,
							  const char **reason);

/* header.c: the header line */
extern void rm_parse_header(RmIngest *st, const char *line, int len);

/* parse.c: values (rm_parse_local_time is in restmon.h) */
extern bool rm_parse_timestamp_utc(const char *s, TimestampTz *result);
extern HTAB *rm_load_zone_names(void);
extern const char *rm_zone_canonical(HTAB *zones, const char *name,
									 const char **reason);

/* restmon.c: how long rejected lines are kept, in minutes */
extern int	restmon_reject_retention;

/* load_log.c: batches, rejected lines and the run log (inside SPI) */
extern Datum rm_make_array(Datum *elems, int n, Oid type);
extern void rm_batch_init(RmIngest *st);
extern void rm_batch_end(RmIngest *st);
extern void rm_flush_batch(RmIngest *st);
extern void rm_reject_line(RmIngest *st, int64 line_no, const char *line,
						   int len, const char *reason);
extern void rm_reject_long_line(RmIngest *st, const RmLineReader *r,
								const char *prefix);
extern void rm_reject_conflicts(RmIngest *st, int64 *line_nos, int n);
extern char *rm_excerpt(const char *s, int len, int max);
extern int64 rm_insert_run(const char *source, const char *path);
extern void rm_finish_run(int64 run_id, int64 counts[5], const char *outcome,
						  const char *error);

/* ingest.c: checks every load makes first */
extern void rm_error_if_standby(void);
extern void rm_require_read_committed(void);
extern void rm_ingest_status_text(RmIngest *st, const char *name,
								  const char *data, int len);

/* polls.c: status polls */
extern void rm_polls_init(RmIngest *st);
extern void rm_polls_line(RmIngest *st, int64 line_no, const char *line,
						  int len, char **f);
extern const char *rm_poll_values(const char *ts_text, const char *status,
								  TimestampTz *ts, bool *active);
extern void rm_polls_add(RmIngest *st, const char *id, int len,
						 TimestampTz t, bool active, int64 item_no);
extern void rm_polls_finish(RmIngest *st);

/* store_track.c: restmon.store after a chunk of new polls (inside SPI) */
extern void rm_track_stores(Datum *ids, Datum *firsts, Datum *lasts, int n);
extern void rm_lock_stores(Datum *ids, Datum *firsts, Datum *lasts, int n);
extern text **rm_sort_chunk(RmIngest *st);	/* poll_sort.c */

/* snapshot.c: business hours and time zones */
extern void rm_stage_create(RmIngest *st);
extern void rm_snapshot_line(RmIngest *st, int64 line_no, const char *line,
							 int len, char **f);
extern void rm_stage_apply(RmIngest *st);

/* prune.c: the retention edge of a load */
extern bool rm_poll_expired(RmIngest *st, TimestampTz t);

#endif							/* INGEST_INT_H */
