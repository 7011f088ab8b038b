/*-------------------------------------------------------------------------
 *
 * gateway/postgrest.c
 *	  restmon-http's PostgREST dialect, first half: a request's query
 *	  string, headers and JSON body become a checked plan, and the plan one
 *	  parameterized SQL statement (doc/postgrest.md).
 *
 * Accepted, on the objects of the whitelist (pgrst_api.c) only:
 *	select=c1,c2		result columns
 *	col=op.value		op: eq neq lt lte gt gte in.(v1,"v,2")
 *	order=c.asc|c.desc[.nullsfirst|.nullslast],...
 *	limit=N, offset=N, Range: from-[to], Prefer: count=exact
 *	Accept: application/json, text/csv, application/vnd.pgrst.object+json
 *	arg=value			a function's argument (GET /rpc/...)
 * Anything else is an error before any SQL: an unknown column, operator or
 * parameter, a syntax PostgREST has and restmon does not (embedding, casts,
 * or=(...), not.), more than PGRST_MAX_FILTERS filters, a control
 * character or an invalid percent-encoding (see pgrst_unescape).
 *
 * The SQL names only the whitelist's identifiers; every value is a
 * parameter, cast to its column's or argument's type by the database.
 * limit and offset are integers parsed here.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "postgrest.h"

#define BAD_ESCAPE	'\x1a'		/* what an invalid %-escape decodes to */

static const char *const op_names[] = {
	[OP_EQ] = "eq",[OP_NEQ] = "neq",[OP_LT] = "lt",[OP_LTE] = "lte",
	[OP_GT] = "gt",[OP_GTE] = "gte",[OP_IN] = "in"
};

/*
 * libmicrohttpd's unescaper for the path and every query key and value:
 * %XX decoded as usual, but an invalid escape becomes a control character
 * that the dialect refuses (400) instead of passing as literal text.
 */
size_t
pgrst_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	char	   *w = s;

	(void) cls;
	(void) c;
	for (char *p = s; *p != '\0'; p++)
	{
		if (*p != '%')
			*w++ = *p;
		else if (isxdigit((unsigned char) p[1]) &&
				 isxdigit((unsigned char) p[2]))
		{
			char		hex[3] = {p[1], p[2], '\0'};

			*w = (char) strtol(hex, NULL, 16);
			if (*w++ == '\0')
				w[-1] = BAD_ESCAPE; /* %00 would cut the value short */
			p += 2;
		}
		else
			*w++ = BAD_ESCAPE;
	}
	*w = '\0';
	return (size_t) (w - s);
}

bool
pgrst_fail(PgrstPlan *p, unsigned int status, const char *code,
		   const char *hint, const char *fmt,...)
{
	va_list		ap;

	if (p->err_status != 0)
		return false;			/* keep the first problem */
	p->err_status = status;
	p->err_code = code;
	p->err_hint = hint;
	va_start(ap, fmt);
	vsnprintf(p->err_message, sizeof(p->err_message), fmt, ap);
	va_end(ap);
	return false;
}

void
pgrst_plan_init(PgrstPlan *p, const PgrstObject *obj)
{
	memset(p, 0, sizeof(*p));
	p->obj = obj;
	p->limit = -1;
	for (int i = 0; i < PGRST_MAX_ARGS; i++)
		p->arg_param[i] = -1;
}

void
pgrst_plan_free(PgrstPlan *p)
{
	free(p->arena);
	p->arena = NULL;
}

/* a copy of len bytes of s in the plan's arena (values split from a list) */
static const char *
arena_copy(PgrstPlan *p, const char *s, size_t len)
{
	char	   *d;

	if (p->arena == NULL)
	{
		/* room for a whole body, or a whole URL (libmicrohttpd's 32 KiB) */
		p->arena_size = 2 * MAX_BODY + 32 * 1024;
		if ((p->arena = malloc(p->arena_size)) == NULL)
			return NULL;
	}
	if (p->arena_used + len + 1 > p->arena_size)
		return NULL;
	d = p->arena + p->arena_used;
	memcpy(d, s, len);
	d[len] = '\0';
	p->arena_used += len + 1;
	return d;
}

static bool
add_param(PgrstPlan *p, const char *value)
{
	if (p->nparams >= PGRST_MAX_PARAMS)
		return pgrst_fail(p, 400, "PGRST100", NULL, "too many values");
	p->params[p->nparams++] = value;
	return true;
}

static int
column_index(const PgrstObject *o, const char *name, size_t len)
{
	for (int i = 0; o->cols[i].name != NULL; i++)
		if (strlen(o->cols[i].name) == len &&
			strncmp(o->cols[i].name, name, len) == 0)
			return i;
	return -1;
}

static int
arg_index(const PgrstObject *o, const char *name)
{
	for (int i = 0; o->args[i].name != NULL; i++)
		if (strcmp(o->args[i].name, name) == 0)
			return i;
	return -1;
}

/* an unknown column: 42703, as PostgreSQL (and so PostgREST) says it */
static bool
unknown_column(PgrstPlan *p, const char *name, size_t len)
{
	if (len > 63 || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") < len)
		return pgrst_fail(p, 400, "42703", NULL,
						  "column of %s does not exist", p->obj->name);
	return pgrst_fail(p, 400, "42703", NULL, "column %s.%.*s does not exist",
					  p->obj->name, (int) len, name);
}

/* select=c1,c2 (or *) */
static bool
parse_select(PgrstPlan *p, const char *v)
{
	while (*v != '\0')
	{
		size_t		len = strcspn(v, ",");
		int			col;

		if (len == 1 && *v == '*')
			p->nselect = 0;
		else if (strcspn(v, "(:)!-.>") < len)
			return pgrst_fail(p, 400, "PGRST100",
							  "restmon's dialect selects plain columns: no embedding, alias, cast or JSON path.",
							  "failed to parse select parameter (%.60s)", v);
		else if ((col = column_index(p->obj, v, len)) < 0)
			return unknown_column(p, v, len);
		else if (p->nselect < PGRST_MAX_COLS)
			p->select[p->nselect++] = col;
		v += len;
		if (*v == ',')
			v++;
	}
	return true;
}

/* order=c[.asc|.desc][.nullsfirst|.nullslast],... */
static bool
parse_order(PgrstPlan *p, const char *v)
{
	while (*v != '\0')
	{
		size_t		len = strcspn(v, ",");
		size_t		name_len = strcspn(v, ".,");
		const char *mod = v + name_len;
		PgrstOrder *o = &p->orders[p->norders];

		if (p->norders >= PGRST_MAX_ORDER)
			return pgrst_fail(p, 400, "PGRST100", NULL,
							  "more than %d order terms", PGRST_MAX_ORDER);
		if ((o->col = column_index(p->obj, v, name_len)) < 0)
			return unknown_column(p, v, name_len);
		o->desc = false;
		o->nulls = 0;
		while (mod < v + len)
		{
			size_t		mlen = strcspn(mod + 1, ".,");

			if (mlen == 3 && strncmp(mod + 1, "asc", 3) == 0)
				o->desc = false;
			else if (mlen == 4 && strncmp(mod + 1, "desc", 4) == 0)
				o->desc = true;
			else if (mlen == 10 && strncmp(mod + 1, "nullsfirst", 10) == 0)
				o->nulls = 1;
			else if (mlen == 9 && strncmp(mod + 1, "nullslast", 9) == 0)
				o->nulls = 2;
			else
				return pgrst_fail(p, 400, "PGRST100", NULL,
								  "failed to parse order (%.60s)", v);
			mod += mlen + 1;
		}
		p->norders++;
		v += len;
		if (*v == ',')
			v++;
	}
	return true;
}

/* a non-negative integer below 10^9 */
static bool
parse_count(PgrstPlan *p, const char *key, const char *v, long *out)
{
	size_t		len = strlen(v);

	if (len == 0 || len > 9 || strspn(v, "0123456789") != len)
		return pgrst_fail(p, 400, "PGRST100", NULL,
						  "%s must be a non-negative integer", key);
	*out = strtol(v, NULL, 10);
	return true;
}

/* the values of in.(v1,"v,2",...): double quotes, backslash escapes */
static bool
parse_in_list(PgrstPlan *p, PgrstFilter *f, const char *v)
{
	size_t		len = strlen(v);
	char		buf[1024];

	if (len < 2 || v[0] != '(' || v[len - 1] != ')')
		return pgrst_fail(p, 400, "PGRST100", NULL,
						  "in. takes a list: in.(value,...)");
	v++;
	len -= 2;
	for (size_t i = 0; i <= len;)
	{
		size_t		n = 0;
		const char *copy;

		if (i < len && v[i] == '"')
		{
			for (i++; i < len && v[i] != '"'; i++)
			{
				if (v[i] == '\\' && i + 1 < len)
					i++;
				if (n < sizeof(buf))
					buf[n++] = v[i];
			}
			if (i >= len || (i + 1 < len && v[i + 1] != ','))
				return pgrst_fail(p, 400, "PGRST100", NULL,
								  "unterminated quoted value in in.(...)");
			i++;
		}
		else
			for (; i < len && v[i] != ','; i++)
				if (n < sizeof(buf))
					buf[n++] = v[i];
		if (n >= sizeof(buf) || f->nvalues >= PGRST_MAX_IN)
			return pgrst_fail(p, 400, "PGRST100", NULL,
							  "in.(...) is too long");
		if ((copy = arena_copy(p, buf, n)) == NULL || !add_param(p, copy))
			return pgrst_fail(p, 400, "PGRST100", NULL, "too many values");
		f->nvalues++;
		i++;					/* the comma */
	}
	return true;
}

/* col=op.value */
static bool
parse_filter(PgrstPlan *p, int col, const char *v)
{
	PgrstFilter *f = &p->filters[p->nfilters];
	size_t		oplen = strcspn(v, ".");
	int			op;

	if (p->nfilters >= PGRST_MAX_FILTERS)
		return pgrst_fail(p, 400, "PGRST100", NULL,
						  "more than %d filters", PGRST_MAX_FILTERS);
	for (op = OP_EQ; op <= OP_IN; op++)
		if (strlen(op_names[op]) == oplen &&
			strncmp(op_names[op], v, oplen) == 0)
			break;
	if (v[oplen] != '.' || op > OP_IN)
		return pgrst_fail(p, 400, "PGRST100",
						  "restmon's dialect has eq, neq, lt, lte, gt, gte and in.",
						  "unknown or unsupported operator in filter on %s",
						  p->obj->cols[col].name);
	f->col = col;
	f->op = (PgrstOp) op;
	f->param = p->nparams;
	f->nvalues = 0;
	v += oplen + 1;
	if (op == OP_IN)
	{
		if (!parse_in_list(p, f, v))
			return false;
	}
	else
	{
		if (!add_param(p, v))
			return false;
		f->nvalues = 1;
	}
	if (strcmp(p->obj->cols[col].type, "timestamptz") == 0)
		for (int i = 0; i < f->nvalues; i++)
			if (!iso8601_with_offset(p->params[f->param + i]))
				return pgrst_fail(p, 400, "22007", NULL,
								  "%s must be an ISO 8601 timestamp with an explicit offset",
								  p->obj->cols[col].name);
	p->nfilters++;
	return true;
}

/* no control character: what an invalid %-escape became, or sent as %01 */
static bool
clean(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char) *s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static enum MHD_Result
query_param(void *cls, enum MHD_ValueKind kind, const char *key,
			const char *value)
{
	PgrstPlan  *p = cls;
	const PgrstObject *o = p->obj;
	int			i;
	bool		ok;

	(void) kind;
	if (!clean(key) || (value != NULL && !clean(value)))
		ok = pgrst_fail(p, 400, "PGRST100", NULL,
						"invalid percent-encoding or control character in the query string");
	else if (value == NULL)
		ok = pgrst_fail(p, 400, "PGRST100", NULL,
						"query parameter without a value");
	else if (strcmp(key, "select") == 0)
		ok = parse_select(p, value);
	else if (strcmp(key, "order") == 0)
		ok = parse_order(p, value);
	else if (strcmp(key, "limit") == 0)
		ok = parse_count(p, key, value, &p->limit) && (p->ranged = true);
	else if (strcmp(key, "offset") == 0)
		ok = parse_count(p, key, value, &p->offset) && (p->ranged = true);
	else if (o->kind != PGRST_VIEW && (i = arg_index(o, key)) >= 0 &&
			 p->arg_param[i] == -2)
	{
		p->arg_param[i] = p->nparams;	/* an argument by GET */
		ok = add_param(p, value);
	}
	else if ((i = column_index(o, key, strlen(key))) >= 0 &&
			 o->kind != PGRST_SCALAR_FUNCTION)
		ok = parse_filter(p, i, value);
	else if (strcmp(key, "or") == 0 || strcmp(key, "and") == 0 ||
			 strcmp(key, "not") == 0 || strcmp(key, "columns") == 0 ||
			 strcmp(key, "on_conflict") == 0)
		ok = pgrst_fail(p, 400, "PGRST100", NULL,
						"\"%s\" is not supported by restmon's dialect", key);
	else if (o->kind != PGRST_VIEW)
		ok = pgrst_fail(p, 404, "PGRST202",
						"restmon_api's functions and their arguments are listed at GET /.",
						"Could not find the function %s.%s with the given arguments",
						PGRST_SCHEMA, o->name);
	else
		ok = unknown_column(p, key, strlen(key));
	return ok ? MHD_YES : MHD_NO;
}

/*
 * The query string into the plan.  With GET on a function, its arguments
 * come from here: the caller marks them with arg_param[i] = -2 first.
 */
bool
pgrst_parse_query(PgrstPlan *p, struct MHD_Connection *c)
{
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, query_param, p);
	if (p->err_status != 0)
		return false;
	for (int i = 0; i < PGRST_MAX_ARGS; i++)
		if (p->arg_param[i] == -2)
			p->arg_param[i] = -1;
	if (p->obj->kind == PGRST_SCALAR_FUNCTION &&
		(p->nselect > 0 || p->norders > 0 || p->ranged))
		return pgrst_fail(p, 400, "PGRST100", NULL,
						  "%s returns a scalar: no select, order, limit or offset",
						  p->obj->name);
	return true;
}

/* the first media type of Accept that the dialect serves */
static bool
parse_accept(PgrstPlan *p, const char *accept)
{
	const char *v = accept;

	p->format = FMT_JSON;
	if (accept == NULL)
		return true;
	while (*v != '\0')
	{
		size_t		len;

		v += strspn(v, " \t,");
		len = strcspn(v, ";,");
		while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
			len--;
#define IS(s) (len == strlen(s) && strncasecmp(v, s, len) == 0)
		if (IS("application/json") || IS("*/*") || IS("application/*"))
			return true;
		if (IS("text/csv") || IS("text/*"))
		{
			p->format = FMT_CSV;
			return true;
		}
		if (IS("application/vnd.pgrst.object+json") ||
			IS("application/vnd.pgrst.object"))
		{
			p->format = FMT_OBJECT;
			return true;
		}
#undef IS
		v += strcspn(v, ",");
	}
	return pgrst_fail(p, 406, "PGRST107", NULL,
					  "None of these media types are available: %.100s",
					  accept);
}

/* Range: from-[to] (items): intersected with limit and offset */
static bool
parse_range(PgrstPlan *p, const char *range)
{
	long		from,
				to = -1;
	char	   *end;

	if (range == NULL)
		return true;
	if (strncmp(range, "items=", 6) == 0)
		range += 6;
	if (!isdigit((unsigned char) range[0]))
		return true;			/* not a range: ignored, as HTTP says */
	from = strtol(range, &end, 10);
	if (*end++ != '-')
		return true;
	if (isdigit((unsigned char) *end))
		to = strtol(end, &end, 10);
	if (*end != '\0' || from > 999999999 || to > 999999999)
		return true;
	if (to >= 0 && to < from)
		return pgrst_fail(p, 416, "PGRST103", NULL,
						  "Requested range not satisfiable");
	if (p->offset < from)
	{
		if (p->limit >= 0)
			p->limit = p->limit > from - p->offset ?
				p->limit - (from - p->offset) : 0;
		p->offset = from;
	}
	if (to >= 0 && (p->limit < 0 || p->offset + p->limit - 1 > to))
		p->limit = to >= p->offset ? to - p->offset + 1 : 0;
	p->ranged = true;
	return true;
}

/* Prefer: count=exact (planned and estimated are counted exactly too) */
static void
parse_prefer(PgrstPlan *p, const char *prefer)
{
	if (prefer != NULL &&
		(strstr(prefer, "count=exact") != NULL ||
		 strstr(prefer, "count=planned") != NULL ||
		 strstr(prefer, "count=estimated") != NULL))
		p->count_exact = true;
}

/* Accept, Prefer, Range, the profile headers (after the query string) */
bool
pgrst_parse_headers(PgrstPlan *p, struct MHD_Connection *c)
{
	const char *profile;

#define HEADER(h) MHD_lookup_connection_value(c, MHD_HEADER_KIND, h)
	profile = HEADER("Accept-Profile");
	if (profile == NULL)
		profile = HEADER("Content-Profile");
	if (profile != NULL && strcmp(profile, PGRST_SCHEMA) != 0)
		return pgrst_fail(p, 406, "PGRST106", "Only restmon_api is exposed.",
						  "The schema must be one of the following: %s",
						  PGRST_SCHEMA);
	parse_prefer(p, HEADER("Prefer"));
	return parse_accept(p, HEADER("Accept")) &&
		parse_range(p, HEADER("Range"));
#undef HEADER
}

/* POST /rpc/...: the JSON object of named arguments */
bool
pgrst_parse_body(PgrstPlan *p, const char *body, size_t len)
{
	json_object *obj;
	bool		ok = true;

	if (len == 0)
		return true;
	if ((obj = js_parse_object(body, len)) == NULL)
		return pgrst_fail(p, 400, "PGRST102", NULL,
						  "the body must be a JSON object of named arguments");
	json_object_object_foreach(obj, key, val)
	{
		int			i = arg_index(p->obj, key);
		json_type	t = json_object_get_type(val);
		const char *text = NULL;

		if (i < 0 || p->arg_param[i] >= 0)
		{
			ok = pgrst_fail(p, 404, "PGRST202",
							"restmon_api's functions and their arguments are listed at GET /.",
							"Could not find the function %s.%s with the given arguments",
							PGRST_SCHEMA, p->obj->name);
			break;
		}
		if (t == json_type_object || t == json_type_array)
		{
			ok = pgrst_fail(p, 400, "PGRST102", NULL,
							"argument %s must be a string, number, boolean or null",
							p->obj->args[i].name);
			break;
		}
		if (t != json_type_null &&
			(text = arena_copy(p, json_object_get_string(val),
							   strlen(json_object_get_string(val)))) == NULL)
		{
			ok = pgrst_fail(p, 400, "PGRST102", NULL, "the body is too large");
			break;
		}
		p->arg_param[i] = p->nparams;
		if (!(ok = add_param(p, text)))
			break;
	}
	json_object_put(obj);
	return ok;
}

/* the arguments given: the required ones there, instants well-formed */
bool
pgrst_check_args(PgrstPlan *p)
{
	for (int i = 0; p->obj->args[i].name != NULL; i++)
	{
		const char *v = p->arg_param[i] >= 0 ? p->params[p->arg_param[i]] : NULL;

		if (p->obj->args[i].required && p->arg_param[i] < 0)
			return pgrst_fail(p, 404, "PGRST202",
							  "restmon_api's functions and their arguments are listed at GET /.",
							  "Could not find the function %s.%s without its argument %s",
							  PGRST_SCHEMA, p->obj->name,
							  p->obj->args[i].name);
		/* semantics §4: an instant with an explicit offset, never "now" */
		if (v != NULL && strcmp(p->obj->args[i].type, "timestamptz") == 0 &&
			!iso8601_with_offset(v))
			return pgrst_fail(p, 400, "22007", NULL,
							  "%s must be an ISO 8601 timestamp with an explicit offset, such as 2024-10-03T23:00:00Z",
							  p->obj->args[i].name);
	}
	return true;
}
