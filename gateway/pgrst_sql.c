/*-------------------------------------------------------------------------
 *
 * gateway/pgrst_sql.c
 *	  restmon-http's PostgREST dialect: a checked plan as one SQL statement,
 *	  and PostgREST's mapping of a SQLSTATE to an HTTP status.
 *
 * The statement answers one row of three columns: the exact count of the
 * filtered rows (NULL unless Prefer: count=exact), the rows of the page,
 * and the body (PostgreSQL's json_agg for JSON; for CSV, PostgREST's own
 * layout: the header, then each row as its record text).  It names only
 * the whitelist's identifiers (pgrst_api.c) and binds every value from the
 * request as a parameter; limit and offset are integers.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "postgrest.h"

typedef struct Buf
{
	char	   *s;
	size_t		len;
	size_t		cap;
} Buf;

static void
put(Buf *b, const char *fmt,...)
{
	va_list		ap;
	int			n;

	if (b->s == NULL)
		return;					/* out of memory earlier */
	for (;;)
	{
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t) n < b->cap - b->len)
			break;
		b->cap = b->cap * 2 + (size_t) n;
		if ((b->s = realloc(b->s, b->cap)) == NULL)
			return;
	}
	b->len += (size_t) n;
}

/* fn("a" => $1::type, ...): the arguments given */
static void
put_call(Buf *b, const PgrstPlan *p)
{
	const char *sep = "";

	put(b, "%s.\"%s\"(", PGRST_SCHEMA, p->obj->name);
	for (int i = 0; p->obj->args[i].name != NULL; i++)
	{
		if (p->arg_param[i] < 0)
			continue;
		put(b, "%s\"%s\" => $%d::%s", sep, p->obj->args[i].name,
			p->arg_param[i] + 1, p->obj->args[i].type);
		sep = ", ";
	}
	put(b, ")");
}

static void
put_filters(Buf *b, const PgrstPlan *p)
{
	static const char *const op_sql[] = {"=", "<>", "<", "<=", ">", ">=", "IN"};

	for (int i = 0; i < p->nfilters; i++)
	{
		const PgrstFilter *f = &p->filters[i];
		const PgrstColumn *col = &p->obj->cols[f->col];

		put(b, "%s\"%s\" %s ", i == 0 ? " WHERE " : " AND ", col->name,
			op_sql[f->op]);
		if (f->op == OP_IN)
		{
			put(b, "(");
			for (int v = 0; v < f->nvalues; v++)
				put(b, "%s$%d::%s", v ? ", " : "", f->param + v + 1,
					col->type);
			put(b, ")");
		}
		else
			put(b, "$%d::%s", f->param + 1, col->type);
	}
}

/* the selected columns, as a list (sep ", ") or the CSV header (sep ",") */
static void
put_columns(Buf *b, const PgrstPlan *p, bool header)
{
	int			n = p->nselect;

	if (n == 0)
		while (p->obj->cols[n].name != NULL)
			n++;
	for (int i = 0; i < n; i++)
	{
		int			c = p->nselect ? p->select[i] : i;

		put(b, header ? "%s%s" : "%s\"%s\"", i ? (header ? "," : ", ") : "",
			p->obj->cols[c].name);
	}
}

static void
put_page(Buf *b, const PgrstPlan *p)
{
	put(b, ", p AS (SELECT ");
	put_columns(b, p, false);
	put(b, " FROM r");
	for (int i = 0; i < p->norders; i++)
	{
		const PgrstOrder *o = &p->orders[i];

		put(b, "%s\"%s\"%s%s", i ? ", " : " ORDER BY ",
			p->obj->cols[o->col].name, o->desc ? " DESC" : "",
			o->nulls == 1 ? " NULLS FIRST" : o->nulls == 2 ? " NULLS LAST" : "");
	}
	if (p->limit >= 0)
		put(b, " LIMIT %ld", p->limit);
	if (p->offset > 0)
		put(b, " OFFSET %ld", p->offset);
	put(b, ")");
}

/* the statement of a plan (malloc'd; NULL if out of memory) */
char *
pgrst_build_sql(const PgrstPlan *p)
{
	Buf			b = {malloc(1024), 0, 1024};

	if (p->obj->kind == PGRST_SCALAR_FUNCTION)
	{
		put(&b, "SELECT NULL::int8, 1, ");
		if (p->format == FMT_CSV)
		{
			put_call(&b, p);
			put(&b, "::text");
		}
		else
		{
			put(&b, "pg_catalog.to_json(");
			put_call(&b, p);
			put(&b, ")::text");
		}
		return b.s;
	}
	put(&b, "WITH r AS (SELECT * FROM ");
	if (p->obj->kind == PGRST_VIEW)
		put(&b, "%s.\"%s\"", PGRST_SCHEMA, p->obj->name);
	else
		put_call(&b, p);
	put(&b, " r");
	put_filters(&b, p);
	put(&b, ")");
	put_page(&b, p);
	put(&b, " SELECT %s, (SELECT pg_catalog.count(*) FROM p), ",
		p->count_exact ? "(SELECT pg_catalog.count(*) FROM r)" : "NULL::int8");
	if (p->format == FMT_CSV)
	{
		put(&b, "'");
		put_columns(&b, p, true);
		put(&b, "' || E'\\n' || (SELECT coalesce(pg_catalog.string_agg("
			"pg_catalog.substr(p::text, 2, pg_catalog.length(p::text) - 2), "
			"E'\\n'), '') FROM p)");
	}
	else
		put(&b, "(SELECT coalesce(pg_catalog.json_agg(p), '[]') "
			"FROM p)::text");
	return b.s;
}

/* HTTP status of a SQLSTATE, as PostgREST maps it (PTnnn: nnn) */
unsigned int
pgrst_http_status(const char *s)
{
	static const struct
	{
		const char *prefix;
		unsigned int status;
	}			map[] = {
		{"08", 503}, {"09", 500}, {"0L", 403}, {"0P", 403}, {"23503", 409},
		{"23505", 409}, {"25006", 405}, {"25", 500}, {"28", 403}, {"2D", 500},
		{"38", 500}, {"39", 500}, {"3B", 500}, {"40", 500}, {"53400", 500},
		{"53", 503}, {"54", 500}, {"55", 500}, {"57", 500}, {"58", 500},
		{"F0", 500}, {"HV", 500}, {"P0001", 400}, {"P0", 500}, {"XX", 500},
		{"42883", 404}, {"42P01", 404}, {"42P17", 500}, {"42501", 403},
	};

	if (s == NULL)
		return 503;
	if (s[0] == 'P' && s[1] == 'T' && strspn(s + 2, "0123456789") == 3)
		return (unsigned int) atoi(s + 2);
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strncmp(s, map[i].prefix, strlen(map[i].prefix)) == 0)
			return map[i].status;
	return 400;
}
