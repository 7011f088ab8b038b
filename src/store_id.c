/*-------------------------------------------------------------------------
 *
 * src/store_id.c
 *	  What a store id is (semantics §1.8): the one rule, applied to every
 *	  line of the three sources and to every id that arrives over SQL (and
 *	  so over HTTP).
 *
 * A store id is 1 to RM_STORE_ID_MAX_BYTES bytes of UTF-8 text with no
 * control character, no white space and no invisible format character
 * (byte-order mark, no-break space, zero-width characters, direction
 * marks, ...), and it does not start with "=", "+", "-" or "@" (a
 * spreadsheet would read such a cell as a formula).
 *
 * Invariants: rm_store_id_valid is pure (no allocation, no error, no
 * database access) and costs one pass over the bytes, with a fast test
 * for printable ASCII; a reason or an error never quotes more than
 * RM_STORE_ID_EXCERPT bytes of an id.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/builtins.h"

#include "restmon.h"

#define RM_STORE_ID_EXCERPT	32

/* invisible or space-like code points above U+007F (Zs, Zl, Zp, Cf, C1) */
static const struct
{
	uint32		lo;
	uint32		hi;
}			invisible[] = {
	{0x0080, 0x00A0},			/* C1 controls, no-break space */
	{0x00AD, 0x00AD},			/* soft hyphen */
	{0x034F, 0x034F},			/* combining grapheme joiner */
	{0x061C, 0x061C},			/* Arabic letter mark */
	{0x115F, 0x1160},			/* Hangul fillers */
	{0x1680, 0x1680},			/* ogham space mark */
	{0x17B4, 0x17B5},			/* Khmer inherent vowels */
	{0x180B, 0x180F},			/* Mongolian selectors and separator */
	{0x2000, 0x200F},			/* spaces, zero-width, direction marks */
	{0x2028, 0x202F},			/* line/paragraph separators, embeddings */
	{0x205F, 0x206F},			/* math space, word joiner, isolates */
	{0x3000, 0x3000},			/* ideographic space */
	{0x3164, 0x3164},			/* Hangul filler */
	{0xFE00, 0xFE0F},			/* variation selectors */
	{0xFEFF, 0xFEFF},			/* byte-order mark */
	{0xFFA0, 0xFFA0},			/* halfwidth Hangul filler */
	{0xFFF0, 0xFFFB},			/* interlinear annotation */
	{0xFFFE, 0xFFFF},			/* noncharacters */
	{0x1BCA0, 0x1BCA3},			/* shorthand format controls */
	{0x1D173, 0x1D17A},			/* musical format controls */
	{0xE0000, 0xE0FFF},			/* tags, variation selectors supplement */
};

/* the code point of the UTF-8 sequence at s (n bytes left), or -1 */
static int32
utf8_decode(const unsigned char *s, int n, int *seqlen)
{
	uint32		c = s[0];
	int			len;
	uint32		min;

	if (c >= 0xC2 && c <= 0xDF)
		len = 2, c &= 0x1F, min = 0x80;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3, c &= 0x0F, min = 0x800;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4, c &= 0x07, min = 0x10000;
	else
		return -1;
	if (n < len)
		return -1;
	for (int i = 1; i < len; i++)
	{
		if ((s[i] & 0xC0) != 0x80)
			return -1;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return -1;
	*seqlen = len;
	return (int32) c;
}

static bool
is_invisible(uint32 c)
{
	for (int i = 0; i < (int) lengthof(invisible); i++)
		if (c >= invisible[i].lo && c <= invisible[i].hi)
			return true;
	return false;
}

/*
 * Is s (len bytes, not necessarily terminated) a store id?  If not, *why
 * says what is wrong (a constant string).
 */
bool
rm_store_id_valid(const char *s, int len, const char **why)
{
	const unsigned char *u = (const unsigned char *) s;

	if (len <= 0)
	{
		*why = "is empty";
		return false;
	}
	if (len > RM_STORE_ID_MAX_BYTES)
	{
		*why = "is longer than " CppAsString2(RM_STORE_ID_MAX_BYTES) " bytes";
		return false;
	}
	if (u[0] == '=' || u[0] == '+' || u[0] == '-' || u[0] == '@')
	{
		*why = "starts with \"=\", \"+\", \"-\" or \"@\"";
		return false;
	}
	for (int i = 0; i < len;)
	{
		int			n;
		int32		c;

		if (u[i] > 0x20 && u[i] < 0x7F)
		{
			i++;
			continue;
		}
		if (u[i] <= 0x20 || u[i] == 0x7F)
		{
			*why = u[i] == ' ' ? "contains a space" :
				"contains a control character";
			return false;
		}
		c = utf8_decode(u + i, len - i, &n);
		if (c < 0)
		{
			*why = "is not valid UTF-8";
			return false;
		}
		if (is_invisible((uint32) c))
		{
			*why = "contains an invisible or space character";
			return false;
		}
		i += n;
	}
	return true;
}

/*
 * A short quotable excerpt of a value: at most RM_STORE_ID_EXCERPT bytes
 * (cut on a character boundary), control characters and bytes of a
 * character outside printable ASCII written as \xNN when they are not
 * visible; "..." when cut.  For messages only.
 */
char *
rm_value_excerpt(const char *s, int len)
{
	const unsigned char *u = (const unsigned char *) s;
	StringInfoData buf;
	int			i = 0;

	initStringInfo(&buf);
	while (i < len && i < RM_STORE_ID_EXCERPT)
	{
		int			n = 1;
		int32		c = u[i];

		if (c >= 0x80)
			c = utf8_decode(u + i, len - i, &n);
		if (c >= 0x80 && !is_invisible((uint32) c))
		{
			if (i + n > RM_STORE_ID_EXCERPT)
				break;
			appendBinaryStringInfo(&buf, s + i, n);
		}
		else if (c > 0x20 && c < 0x7F && c != '"' && c != '\\')
			appendStringInfoChar(&buf, (char) c);
		else if (c == ' ')
			appendStringInfoChar(&buf, ' ');
		else
			for (int k = 0; k < n; k++)
				appendStringInfo(&buf, "\\x%02X", u[i + k]);
		i += n;
	}
	if (i < len)
		appendStringInfoString(&buf, "...");
	return buf.data;
}

/*
 * The reason a line's store id is rejected, or NULL if it is a store id:
 * 'bad store_id "<excerpt>" (<n> bytes): <why>'.
 */
char *
rm_store_id_reason(const char *s, int len)
{
	const char *why;

	if (rm_store_id_valid(s, len, &why))
		return NULL;
	return psprintf("bad store_id \"%s\" (%d bytes): %s",
					rm_value_excerpt(s, len), len, why);
}

/*
 * The store_id field of a poll, an hours or a zone row (from a file or the
 * API, trimmed): NULL if it is a store id, else the reason to reject it.
 */
char *
rm_store_field_reason(const char *s, int len)
{
	if (len == 0)
		return pstrdup("empty store_id");
	return rm_store_id_reason(s, len);
}

/*
 * A store id that arrives over SQL (and so over HTTP): an error unless it
 * is a store id.  Called at the entry points, before any lookup.
 */
void
rm_check_store_id(text *id)
{
	const char *s = VARDATA_ANY(id);
	int			len = VARSIZE_ANY_EXHDR(id);
	const char *why;

	if (!rm_store_id_valid(s, len, &why))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid store id \"%s\" (%d bytes): it %s",
						rm_value_excerpt(s, len), len, why),
				 errhint("A store id is 1 to %d bytes of UTF-8 with no space, control or invisible character, not starting with \"=\", \"+\", \"-\" or \"@\".",
						 RM_STORE_ID_MAX_BYTES)));
}
