/*
 * test/fuzz/fuzz_csv.c
 *	  libFuzzer target: the CSV field splitter and trim (src/csvsplit.c).
 *
 * The input is one line (any bytes, as a file's line reaches the splitter
 * without its line end).  Checked, aborting on the first failure:
 *	- nothing read or written out of bounds: the line and buf are heap
 *	  blocks of exactly the documented sizes (AddressSanitizer);
 *	- the fields lie inside buf, in order, each followed by its NUL, their
 *	  lengths adding up to at most the line's;
 *	- the same fields or refusal as a reference state machine written here
 *	  from the rule (RFC 4180 within one line);
 *	- a limit on the fields changes nothing but "too many fields";
 *	- a line without quotes: the fields are the text between the commas;
 *	- round trip: the fields quoted again (always, and only where needed)
 *	  and joined with commas split into the same fields;
 *	- rm_trim: the trimmed value lies inside the field, with no blank at
 *	  either end, and only blanks were cut.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvsplit.h"

#define FAIL(...) \
	do { \
		fprintf(stderr, "fuzz_csv: " __VA_ARGS__); \
		fputc('\n', stderr); \
		abort(); \
	} while (0)

typedef struct Split
{
	int			nf;				/* fields, or an RmCsvStatus */
	char	   *buf;			/* len + 1 bytes */
	char	  **fields;
	size_t	   *lens;
} Split;

/* split line[0..len) with room for exactly maxfields fields */
static Split
split(const char *line, size_t len, int maxfields)
{
	Split		s;

	s.buf = malloc(len + 1);
	s.fields = malloc(sizeof(char *) * (maxfields > 0 ? maxfields : 1));
	s.lens = malloc(sizeof(size_t) * (maxfields > 0 ? maxfields : 1));
	s.nf = rm_csv_split(line, len, s.buf, s.fields, s.lens, maxfields);
	if (s.nf == 0 || s.nf > maxfields ||
		(s.nf < 0 && s.nf != RM_CSV_TOO_MANY_FIELDS &&
		 s.nf != RM_CSV_UNBALANCED_QUOTE))
		FAIL("split returned %d (maxfields %d)", s.nf, maxfields);
	return s;
}

static void
split_free(Split *s)
{
	free(s->buf);
	free(s->fields);
	free(s->lens);
}

static void
check_layout(const Split *s, size_t len)
{
	const char *next = s->buf;
	size_t		total = 0;

	for (int i = 0; i < s->nf; i++)
	{
		if (s->fields[i] != next)
			FAIL("field %d does not follow the previous one", i);
		if (s->lens[i] > len - total)
			FAIL("field %d too long", i);
		total += s->lens[i];
		if (s->fields[i][s->lens[i]] != '\0')
			FAIL("field %d has no NUL after it", i);
		next = s->fields[i] + s->lens[i] + 1;
	}
	if (s->nf > 0 && next > s->buf + len + 1)
		FAIL("fields beyond buf");
}

static int
same_fields(const Split *a, const Split *b)
{
	if (a->nf != b->nf)
		return 0;
	for (int i = 0; i < a->nf; i++)
		if (a->lens[i] != b->lens[i] ||
			memcmp(a->fields[i], b->fields[i], a->lens[i]) != 0)
			return 0;
	return 1;
}

/* the fields joined again; quote: 1 always, 0 where needed */
static char *
requote(const Split *s, int always, size_t *outlen)
{
	size_t		cap = 1;
	char	   *out;
	char	   *o;

	for (int i = 0; i < s->nf; i++)
		cap += 2 * s->lens[i] + 3;
	out = o = malloc(cap);
	for (int i = 0; i < s->nf; i++)
	{
		int			q = always ||
		memchr(s->fields[i], ',', s->lens[i]) != NULL ||
		memchr(s->fields[i], '"', s->lens[i]) != NULL;

		if (i > 0)
			*o++ = ',';
		if (q)
			*o++ = '"';
		for (size_t k = 0; k < s->lens[i]; k++)
		{
			if (s->fields[i][k] == '"')
				*o++ = '"';
			*o++ = s->fields[i][k];
		}
		if (q)
			*o++ = '"';
	}
	*outlen = (size_t) (o - out);
	return out;
}

static void
check_round_trip(const Split *s, int always)
{
	size_t		len2;
	char	   *line2 = requote(s, always, &len2);
	Split		s2 = split(line2, len2, s->nf);

	if (!same_fields(s, &s2))
		FAIL("round trip (%s quoting) changed the fields",
			 always ? "full" : "minimal");
	split_free(&s2);
	free(line2);
}

/* no quote: field i is the text between commas i - 1 and i */
static void
check_plain(const Split *s, const char *line, size_t len)
{
	const char *p = line;

	for (int i = 0; i < s->nf; i++)
	{
		size_t		rest = len - (size_t) (p - line);
		const char *c = memchr(p, ',', rest);
		size_t		n = c != NULL ? (size_t) (c - p) : rest;

		if (n != s->lens[i] || memcmp(p, s->fields[i], n) != 0)
			FAIL("unquoted field %d is not the text between commas", i);
		p += n + (c != NULL);
		if (c == NULL && i != s->nf - 1)
			FAIL("unquoted line: %d fields but fewer commas", s->nf);
	}
}

/*
 * The rule as a state machine, independently: the fields joined with NULs
 * into out (len + 1 bytes), or -1 for an unbalanced quote.
 */
static int
ref_split(const char *line, size_t len, char *out, size_t *outlen)
{
	enum
	{
		START, PLAIN, QUOTED, QUOTE_SEEN
	}			state = START;
	int			nf = 0;
	size_t		o = 0;

	for (size_t i = 0; i < len; i++)
	{
		char		c = line[i];

		if (state == QUOTED)
		{
			if (c == '"')
				state = QUOTE_SEEN;
			else
				out[o++] = c;
		}
		else if (c == ',')
		{
			out[o++] = '\0';
			nf++;
			state = START;
		}
		else if (c == '"')
		{
			if (state == PLAIN)
				return -1;
			if (state == QUOTE_SEEN)
				out[o++] = '"';
			state = QUOTED;
		}
		else
		{
			if (state == QUOTE_SEEN)
				return -1;
			out[o++] = c;
			state = PLAIN;
		}
	}
	if (state == QUOTED)
		return -1;
	out[o++] = '\0';
	*outlen = o;
	return nf + 1;
}

static void
check_reference(const Split *s, const char *line, size_t len)
{
	char	   *out = malloc(len + 1);
	size_t		outlen = 0;
	int			nf = ref_split(line, len, out, &outlen);

	if (nf < 0 ? s->nf != RM_CSV_UNBALANCED_QUOTE : s->nf != nf)
		FAIL("%d fields, the reference says %d", s->nf, nf);
	if (nf > 0)
	{
		size_t		used = (size_t) (s->fields[s->nf - 1] - s->buf) +
		s->lens[s->nf - 1] + 1;

		if (used != outlen || memcmp(out, s->buf, outlen) != 0)
			FAIL("the fields differ from the reference's");
	}
	free(out);
}

static void
check_trim(const Split *s)
{
	for (int i = 0; i < s->nf; i++)
	{
		char	   *f = s->fields[i];
		size_t		n = strlen(f);	/* up to a NUL inside the field */
		char	   *t = rm_trim(f);
		size_t		tn = strlen(t);

		if (t < f || t + tn > f + n)
			FAIL("trim: field %d outside itself", i);
		if (tn > 0 && (t[0] == ' ' || t[0] == '\t' ||
					   t[tn - 1] == ' ' || t[tn - 1] == '\t'))
			FAIL("trim: field %d keeps a blank at an end", i);
		for (char *c = f; c < t; c++)
			if (*c != ' ' && *c != '\t')
				FAIL("trim: field %d lost a non-blank", i);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *line = malloc(size > 0 ? size : 1);
	Split		big;

	memcpy(line, data, size);
	/* room for every field: a line of len bytes has at most len + 1 */
	big = split(line, size, (int) size + 1);
	if (big.nf == RM_CSV_TOO_MANY_FIELDS)
		FAIL("too many fields with room for %zu", size + 1);
	check_reference(&big, line, size);
	if (big.nf > 0)
	{
		check_layout(&big, size);
		if (memchr(line, '"', size) == NULL)
			check_plain(&big, line, size);
		check_round_trip(&big, 1);
		check_round_trip(&big, 0);
	}
	else if (memchr(line, '"', size) == NULL)
		FAIL("a line without quotes refused");

	/* the server's limit: one field more than the source has (<= 4) */
	for (int max = 1; max <= 5; max++)
	{
		Split		small = split(line, size, max);

		if (big.nf > 0 && big.nf <= max ? !same_fields(&big, &small) :
			big.nf > max ? small.nf != RM_CSV_TOO_MANY_FIELDS :
			small.nf >= 0)
			FAIL("maxfields %d: %d fields, %d without a limit", max,
				 small.nf, big.nf);
		split_free(&small);
	}
	if (big.nf > 0)
		check_trim(&big);		/* last: trims in place */
	split_free(&big);
	free(line);
	return 0;
}
