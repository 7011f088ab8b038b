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
 * mark before the header are not part of the line.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>

#include "catalog/pg_authid.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/acl.h"

#include "csvsplit.h"
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

FILE *
rm_open_source_file(const char *path)
{
	FILE	   *fp = AllocateFile(path, PG_BINARY_R);
	struct stat stbuf;

	if (fp == NULL)
	{
		int			save_errno = errno;

		errno = save_errno;
		ereport(ERROR,
				(save_errno == ENOENT ? errcode(ERRCODE_UNDEFINED_FILE) :
				 errcode_for_file_access(),
				 errmsg("could not open file \"%s\" for reading: %m", path),
				 errhint("The file is read by the database server's operating-system user.")));
	}
	if (fstat(fileno(fp), &stbuf) == 0 && S_ISDIR(stbuf.st_mode))
	{
		FreeFile(fp);
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is a directory", path)));
	}
	return fp;
}

/* ---------------------------------------------------------------------
 * Lines
 * ---------------------------------------------------------------------
 */

void
rm_reader_open(RmLineReader *r, const char *path)
{
	r->fp = rm_open_source_file(path);
	r->path = path;
	r->chunk = palloc(RM_READ_CHUNK);
	r->p = r->end = r->chunk;
	r->eof = false;
	initStringInfo(&r->line);
	r->line_no = 0;
}

/*
 * The next line, without its line end, NUL-terminated, in the reader's
 * buffer (valid until the next call); false at the end of the file.
 */
bool
rm_reader_next(RmLineReader *r, char **line, int *len)
{
	resetStringInfo(&r->line);
	for (;;)
	{
		size_t		n;

		if (r->p < r->end)
		{
			char	   *nl = memchr(r->p, '\n', r->end - r->p);

			if (nl != NULL)
			{
				appendBinaryStringInfo(&r->line, r->p, nl - r->p);
				r->p = nl + 1;
				break;
			}
			appendBinaryStringInfo(&r->line, r->p, r->end - r->p);
			r->p = r->end;
		}
		if (r->eof)
		{
			if (r->line.len == 0)
				return false;
			break;				/* the last line, without its newline */
		}
		n = fread(r->chunk, 1, RM_READ_CHUNK, r->fp);
		if (n == 0 && ferror(r->fp))
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read file \"%s\": %m", r->path)));
		r->eof = (n == 0);
		r->p = r->chunk;
		r->end = r->chunk + n;
	}

	r->line_no++;
	*line = r->line.data;
	*len = r->line.len;
	if (*len > 0 && (*line)[*len - 1] == '\r')
		(*line)[--(*len)] = '\0';	/* CRLF */
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
	FreeFile(r->fp);
	r->fp = NULL;
	pfree(r->chunk);
	pfree(r->line.data);
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
