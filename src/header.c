/*-------------------------------------------------------------------------
 *
 * src/header.c
 *	  The header line of a CSV source (semantics §1): which field holds
 *	  which column.
 *
 * Columns are found by name, never by position; a required column that is
 * missing, or named twice, fails the file before any line is loaded.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "ingest_int.h"

/* at most this much of a header line is quoted in a message */
#define RM_HEADER_EXCERPT 256

/* a header name without its surrounding spaces and quotes, in place */
static char *
header_name(char *name)
{
	char	   *e;

	while (*name == ' ' || *name == '\t' || *name == '"' || *name == '\'')
		name++;
	e = name + strlen(name);
	while (e > name && (e[-1] == ' ' || e[-1] == '\t' ||
						e[-1] == '"' || e[-1] == '\''))
		*--e = '\0';
	return name;
}

static void
report_missing_column(RmIngest *st, const RmColumn *col, const char *line,
					  int len)
{
	StringInfoData aliases;
	StringInfoData needed;
	char	   *header = rm_excerpt(line, len, RM_HEADER_EXCERPT);

	initStringInfo(&aliases);
	for (int a = 1; a < 4 && col->names[a] != NULL; a++)
		appendStringInfo(&aliases, "%s\"%s\"", a > 1 ? ", " : "",
						 col->names[a]);
	initStringInfo(&needed);
	for (int c = 0; c < st->def->ncols; c++)
		appendStringInfo(&needed, "%s%s", c > 0 ? ", " : "",
						 st->def->cols[c].names[0]);
	ereport(ERROR,
			(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
			 errmsg("file \"%s\" has no column \"%s\"",
					st->path, col->names[0]),
			 aliases.len > 0 ?
			 errdetail("The header line is \"%s\"; accepted names for the column are \"%s\", %s.",
					   header, col->names[0], aliases.data) :
			 errdetail("The header line is \"%s\".", header),
			 errhint("The %s file needs the columns %s, in any order.",
					 st->def->name, needed.data)));
}

/* two header fields (from 0) name one column: an error (semantics §1) */
static void
report_duplicate_column(RmIngest *st, const RmColumn *col, char **fields,
						int first, int second)
{
	ereport(ERROR,
			(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
			 errmsg("file \"%s\" has the column \"%s\" twice",
					st->path, col->names[0]),
			 errdetail("Header fields %d (\"%s\") and %d (\"%s\") both name the column \"%s\".",
					   first + 1,
					   rm_excerpt(fields[first], strlen(fields[first]),
								  RM_EXCERPT),
					   second + 1,
					   rm_excerpt(fields[second], strlen(fields[second]),
								  RM_EXCERPT),
					   col->names[0]),
			 errhint("Keep one of them, or rename the other.")));
}

/*
 * Find each column of the source in the header.  Header names are split at
 * every comma; matching is case-insensitive, the surrounding spaces and
 * quotes of each name are ignored; a column named twice (by one name or by
 * two of its aliases) is an error (semantics §1).
 */
void
rm_parse_header(RmIngest *st, const char *line, int len)
{
	char	   *buf = pnstrdup(line, len);
	char	   *fields[256];
	int			nf = 0;

	fields[nf++] = buf;
	for (char *p = buf; *p != '\0'; p++)
	{
		if (*p != ',')
			continue;
		if (nf == lengthof(fields))
			ereport(ERROR,
					(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
					 errmsg("header line of file \"%s\" has more than %d fields",
							st->path, (int) lengthof(fields))));
		*p = '\0';
		fields[nf++] = p + 1;
	}
	st->nfields = nf;
	for (int f = 0; f < nf; f++)
		fields[f] = header_name(fields[f]);

	for (int c = 0; c < st->def->ncols; c++)
	{
		const RmColumn *col = &st->def->cols[c];

		st->colpos[c] = -1;
		for (int f = 0; f < nf; f++)
			for (int a = 0; a < 4 && col->names[a] != NULL; a++)
			{
				if (pg_strcasecmp(fields[f], col->names[a]) != 0)
					continue;
				if (st->colpos[c] >= 0)
					report_duplicate_column(st, col, fields,
											st->colpos[c], f);
				st->colpos[c] = f;
				break;
			}
		if (st->colpos[c] < 0)
			report_missing_column(st, col, line, len);
	}
}
