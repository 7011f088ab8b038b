/*-------------------------------------------------------------------------
 *
 * src/csv.c
 *	  The CSV files of semantics §1: who may read them, where they are,
 *	  their lines and the fields of a line.
 *
 * A file is read here, line by line, rather than through COPY: PostgreSQL
 * 15's COPY has no per-row error handling (one bad line aborts the load)
 * and its CSV parser lets one stray quote swallow the rest of the file,
 * while semantics §1 wants every bad line kept with its number and reason
 * and the rest loaded.  The same privilege as COPY FROM a file is required.
 *
 * Invariants: lines are numbered from 1 (the header) and every line of the
 * file is returned once, in order: an empty line too, the last one even
 * without its newline; a line's CR before its LF and a UTF-8 byte-order
 * mark before the header are not part of the line.  A line ends at LF
 * only: a lone CR is part of its line (ingest.c refuses a header holding
 * one: the file uses CR line ends).  At most RM_MAX_LINE + 1 bytes of a
 * line are ever buffered, whatever its length.  Only a regular file is
 * read, and it is opened once: what is read again (the raw text of
 * conflicting lines, load_log.c) comes from the same open file.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/pg_authid.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/acl.h"

#include "ingest_int.h"

/* the privilege of COPY FROM a file */
void
rm_check_read_privilege(void)
{
	if (!has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to ingest files"),
				 errhint("Only superusers and members of pg_read_server_files can read server files, as for COPY FROM a file.")));
}

/* a relative path is under restmon.data_dir */
char *
rm_resolve_path(const char *path)
{
	if (is_absolute_path(path))
		return pstrdup(path);
	if (restmon_data_dir == NULL || restmon_data_dir[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("relative path \"%s\" needs restmon.data_dir", path),
				 errhint("Give an absolute path, or set restmon.data_dir.")));
	return psprintf("%s/%s", restmon_data_dir, path);
}

/* only a regular file is read: a FIFO or a device could block for good */
static void
check_regular_file(const char *path, const struct stat *st, int fd)
{
	if (S_ISREG(st->st_mode))
		return;
	if (fd >= 0)
		CloseTransientFile(fd);
	if (S_ISDIR(st->st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is a directory", path)));
	ereport(ERROR,
			(errcode(ERRCODE_WRONG_OBJECT_TYPE),
			 errmsg("\"%s\" is not a regular file", path),
			 errdetail("It is a %s.",
					   S_ISFIFO(st->st_mode) ? "FIFO (named pipe)" :
					   S_ISSOCK(st->st_mode) ? "socket" :
					   (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) ?
					   "device" : "special file"),
			 errhint("restmon reads regular files only; write the data to a file first.")));
}

/*
 * Open a source file for reading; *st is the file as opened.  Anything but
 * a regular file is refused before it is opened, and again after (the path
 * may have changed in between): the open itself does not block, as it is
 * made with O_NONBLOCK, which is then cleared.
 */
int
rm_open_source_file(const char *path, struct stat *st)
{
	int			fd;
	int			flags;

	if (stat(path, st) == 0)
		check_regular_file(path, st, -1);
	fd = OpenTransientFile(path, O_RDONLY | PG_BINARY | O_NONBLOCK);
	if (fd < 0)
	{
		int			save_errno = errno;

		errno = save_errno;
		ereport(ERROR,
				(save_errno == ENOENT ? errcode(ERRCODE_UNDEFINED_FILE) :
				 errcode_for_file_access(),
				 errmsg("could not open file \"%s\" for reading: %m", path),
				 errhint("The file is read by the database server's operating-system user.")));
	}
	if (fstat(fd, st) != 0)
	{
		int			save_errno = errno;

		CloseTransientFile(fd);
		errno = save_errno;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat file \"%s\": %m", path)));
	}
	check_regular_file(path, st, fd);
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
	{
		int			save_errno = errno;

		CloseTransientFile(fd);
		errno = save_errno;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not set the mode of file \"%s\": %m", path)));
	}
	return fd;
}

/* ---------------------------------------------------------------------
 * Lines
 * ---------------------------------------------------------------------
 */

static void
reader_init(RmLineReader *r, int fd, const char *path, off_t pos)
{
	r->fd = fd;
	r->path = path;
	r->chunk = palloc(RM_READ_CHUNK);
	r->p = r->end = r->chunk;
	r->pos = pos;
	r->eof = false;
	initStringInfo(&r->line);
	r->line_no = 0;
	r->line_len = 0;
	r->too_long = false;
	r->marks = NULL;
	r->nmarks = r->marks_cap = 0;
	r->mem = NULL;
	r->mem_len = 0;
}

void
rm_reader_open(RmLineReader *r, const char *path)
{
	struct stat st;
	int			fd = rm_open_source_file(path, &st);

	reader_init(r, fd, path, 0);
	r->owns_fd = true;
	r->opened = st;
	r->marks_cap = 64;
	r->marks = palloc(sizeof(off_t) * r->marks_cap);
}

/*
 * A reader of len bytes in memory (a status file's text handed to
 * restmon_record_polls_csv), named name in messages: lines as a file's.
 */
void
rm_reader_open_mem(RmLineReader *r, const char *data, int len,
				   const char *name)
{
	reader_init(r, -1, name, len);
	pfree(r->chunk);
	r->mem = data;
	r->mem_len = len;
	r->chunk = r->p = (char *) data;
	r->end = r->chunk + len;
	r->eof = true;				/* all of it is in the chunk */
	r->owns_fd = false;
	r->marks_cap = 64;
	r->marks = palloc(sizeof(off_t) * r->marks_cap);
}

/*
 * A second reader of the file from's reads, on the same descriptor, before
 * line line_no: its next line is line_no.  The file must not have been
 * written since it was opened (it may have been renamed or replaced: the
 * descriptor still reads the file that was opened).
 */
void
rm_reader_seek(RmLineReader *r, const RmLineReader *from, int64 line_no)
{
	struct stat st;
	int			mark = (int) Min((line_no - 1) / RM_MARK_LINES,
								 (int64) from->nmarks - 1);

	Assert(line_no >= 1 && from->nmarks > 0);
	if (from->mem != NULL)
	{
		reader_init(r, -1, from->path, from->mem_len);
		pfree(r->chunk);
		r->mem = from->mem;
		r->mem_len = from->mem_len;
		r->chunk = (char *) r->mem;
		r->p = r->chunk + from->marks[mark];
		r->end = r->chunk + r->mem_len;
		r->eof = true;
		r->owns_fd = false;
		r->line_no = (int64) mark * RM_MARK_LINES;
		return;
	}
	if (fstat(from->fd, &st) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat file \"%s\": %m", from->path)));
	if (st.st_size < from->opened.st_size ||
		st.st_mtim.tv_sec != from->opened.st_mtim.tv_sec ||
		st.st_mtim.tv_nsec != from->opened.st_mtim.tv_nsec)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("file \"%s\" was written to while it was loaded",
						from->path),
				 errhint("Write a new file and rename it over the old one, rather than writing into a file that may be loading.")));
	reader_init(r, from->fd, from->path, from->marks[mark]);
	r->owns_fd = false;
	r->line_no = (int64) mark * RM_MARK_LINES;
}

/* the next chunk of the file; false at its end */
static bool
read_chunk(RmLineReader *r)
{
	ssize_t		n;

	CHECK_FOR_INTERRUPTS();
	do
		n = pread(r->fd, r->chunk, RM_READ_CHUNK, r->pos);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read file \"%s\": %m", r->path)));
	r->pos += n;
	r->p = r->chunk;
	r->end = r->chunk + n;
	r->eof = (n == 0);
	return n > 0;
}

/* n more bytes of the current line: kept up to RM_MAX_LINE + 1 bytes */
static inline void
take_bytes(RmLineReader *r, const char *s, size_t n)
{
	if (r->line.len <= RM_MAX_LINE)
		appendBinaryStringInfo(&r->line, s,
							   Min(n, (size_t) (RM_MAX_LINE + 1 - r->line.len)));
	r->line_len += n;
}

/* the offset of the next line starts a mark every RM_MARK_LINES lines */
static void
mark_line(RmLineReader *r)
{
	if (r->marks == NULL || r->line_no % RM_MARK_LINES != 0)
		return;
	if (r->nmarks == r->marks_cap)
	{
		r->marks_cap *= 2;
		r->marks = repalloc_huge(r->marks, sizeof(off_t) * r->marks_cap);
	}
	r->marks[r->nmarks++] = r->pos - (r->end - r->p);
}

/*
 * The next line, without its line end, NUL-terminated, in the reader's
 * buffer (valid until the next call); false at the end of the file.  A line
 * longer than RM_MAX_LINE comes with too_long set, its length in line_len
 * and only its first RM_MAX_LINE bytes in *line; the rest is skipped.
 */
bool
rm_reader_next(RmLineReader *r, char **line, int *len)
{
	bool		cr = false;

	mark_line(r);
	resetStringInfo(&r->line);
	r->line_len = 0;
	for (;;)
	{
		if (r->p < r->end)
		{
			char	   *nl = memchr(r->p, '\n', r->end - r->p);

			if (nl != NULL)
			{
				if (nl > r->p)
					cr = (nl[-1] == '\r');
				take_bytes(r, r->p, nl - r->p);
				r->p = nl + 1;
				break;
			}
			cr = (r->end[-1] == '\r');
			take_bytes(r, r->p, r->end - r->p);
			r->p = r->end;
		}
		if (r->eof || !read_chunk(r))
		{
			if (r->line_len == 0)
				return false;
			break;				/* the last line, without its newline */
		}
	}

	r->line_no++;
	if (cr)
		r->line_len--;			/* CRLF */
	r->too_long = (r->line_len > RM_MAX_LINE);
	r->line.len = (int) Min(r->line_len, (int64) RM_MAX_LINE);
	r->line.data[r->line.len] = '\0';
	*line = r->line.data;
	*len = r->line.len;
	/* a UTF-8 byte-order mark before the header */
	if (r->line_no == 1 && *len >= 3 && memcmp(*line, "\xEF\xBB\xBF", 3) == 0)
	{
		*line += 3;
		*len -= 3;
	}
	return true;
}

void
rm_reader_close(RmLineReader *r)
{
	if (r->owns_fd)
		CloseTransientFile(r->fd);
	r->fd = -1;
	if (r->mem == NULL)
		pfree(r->chunk);
	pfree(r->line.data);
	if (r->marks)
		pfree(r->marks);
}

/* ---------------------------------------------------------------------
 * Fields
 * ---------------------------------------------------------------------
 */

/*
 * Split one line (no line end) into fields: src/csvsplit.c, into buf (len
 * + 1 bytes) and fields[].  Returns the number of fields, or -1 with
 * *reason set.
 */
int
rm_split_csv_line(const char *line, int len, char *buf, char **fields,
				  int maxfields, const char **reason)
{
	int			nf = rm_csv_split(line, len, buf, fields, NULL, maxfields);

	if (nf < 0)
	{
		*reason = rm_csv_status_text(nf);
		return -1;
	}
	return nf;
}
