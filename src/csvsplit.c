/*-------------------------------------------------------------------------
 *
 * src/csvsplit.c
 *	  The fields of one CSV line (semantics §1): the splitter and trim.
 *
 * Plain C, like src/core.c: no postgres.h, no allocation, no errors raised,
 * so it builds outside the server and is fuzzed there (test/fuzz).
 *
 * Invariants: nothing is read outside line[0..len) and nothing written
 * outside buf[0..len]; the fields lie in buf in order, each followed by its
 * NUL; a quoted field's "" becomes one quote, nothing else changes a byte.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "csvsplit.h"

int
rm_csv_split(const char *line, size_t len, char *buf, char **fields,
			 size_t *lens, int maxfields)
{
	int			nf = 0;
	const char *p = line;
	const char *end = line + len;
	char	   *o = buf;

	for (;;)
	{
		if (nf >= maxfields)
			return RM_CSV_TOO_MANY_FIELDS;
		fields[nf] = o;
		if (p < end && *p == '"')
		{
			p++;
			for (;;)
			{
				if (p >= end)
					return RM_CSV_UNBALANCED_QUOTE;
				if (*p == '"')
				{
					if (p + 1 < end && p[1] == '"')
					{
						*o++ = '"';
						p += 2;
						continue;
					}
					p++;
					break;
				}
				*o++ = *p++;
			}
			if (p < end && *p != ',')
				return RM_CSV_UNBALANCED_QUOTE;
		}
		else
		{
			while (p < end && *p != ',')
			{
				if (*p == '"')
					return RM_CSV_UNBALANCED_QUOTE;
				*o++ = *p++;
			}
		}
		if (lens != NULL)
			lens[nf] = (size_t) (o - fields[nf]);
		nf++;
		*o++ = '\0';
		if (p >= end)
			break;
		p++;					/* the comma */
	}
	return nf;
}

const char *
rm_csv_status_text(int status)
{
	switch (status)
	{
		case RM_CSV_TOO_MANY_FIELDS:
			return "too many fields";
		case RM_CSV_UNBALANCED_QUOTE:
			return "unbalanced quote";
	}
	return "invalid line";
}

char *
rm_trim(char *s)
{
	char	   *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}
