/*-------------------------------------------------------------------------
 *
 * gateway/postgrest.h
 *	  restmon-http's PostgREST dialect: the whitelist of what it exposes,
 *	  and the checked plan a request becomes (doc/postgrest.md).
 *
 *	pgrst_api.c			the whitelist: restmon_api's functions and views,
 *						their arguments and result columns
 *	postgrest.c			query string, headers and body -> a checked plan ->
 *						one parameterized SQL statement
 *	api_postgrest.c		the routes: running the plan through db.c, the
 *						responses (JSON, CSV, Content-Range, errors)
 *
 * Invariant: every identifier in the SQL comes from the whitelist, never
 * from the request; every value from the request is a parameter ($n).
 *
 *-------------------------------------------------------------------------
 */
#ifndef RESTMON_POSTGREST_H
#define RESTMON_POSTGREST_H

#include "gateway.h"

#define PGRST_SCHEMA		"restmon_api"
#define PGRST_MAX_COLS		16
#define PGRST_MAX_ARGS		4
#define PGRST_MAX_FILTERS	32	/* more: 400 */
#define PGRST_MAX_ORDER		8
#define PGRST_MAX_IN		100 /* values of one in.(...) */
#define PGRST_MAX_PARAMS	(PGRST_MAX_ARGS + PGRST_MAX_FILTERS + 2 + \
							 PGRST_MAX_IN)

/* a named, typed argument or result column (SQL type for the cast) */
typedef struct PgrstColumn
{
	const char *name;
	const char *type;
	bool		required;		/* an argument without a default */
} PgrstColumn;

typedef enum PgrstKind
{
	PGRST_VIEW,					/* GET /name */
	PGRST_SET_FUNCTION,			/* /rpc/name: a JSON array of objects */
	PGRST_SCALAR_FUNCTION		/* /rpc/name: a JSON scalar */
} PgrstKind;

/* one exposed object of restmon_api */
typedef struct PgrstObject
{
	const char *name;
	PgrstKind	kind;
	bool		is_volatile;	/* POST only */
	bool		csv_raw;		/* scalar returning "text/csv": the body */
	bool		limited;		/* a trigger: rate-limited per client */
	PgrstColumn args[PGRST_MAX_ARGS + 1];	/* up to {NULL} */
	PgrstColumn cols[PGRST_MAX_COLS + 1];	/* up to {NULL} */
} PgrstObject;

extern const PgrstObject *pgrst_lookup(PgrstKind kind, const char *name);
extern const PgrstObject pgrst_objects[];

typedef enum PgrstOp
{
	OP_EQ, OP_NEQ, OP_LT, OP_LTE, OP_GT, OP_GTE, OP_IN
} PgrstOp;

typedef enum PgrstFormat
{
	FMT_JSON, FMT_CSV, FMT_OBJECT	/* vnd.pgrst.object+json: one row */
} PgrstFormat;

typedef struct PgrstFilter
{
	int			col;
	PgrstOp		op;
	int			param;			/* its first value's parameter index */
	int			nvalues;
} PgrstFilter;

typedef struct PgrstOrder
{
	int			col;
	bool		desc;
	int			nulls;			/* 0: default, 1: first, 2: last */
} PgrstOrder;

/* a request, checked: what the SQL will do */
typedef struct PgrstPlan
{
	const PgrstObject *obj;
	PgrstFormat format;
	int			arg_param[PGRST_MAX_ARGS];	/* parameter index, or -1 */
	int			nselect;		/* 0: every column */
	int			select[PGRST_MAX_COLS];
	int			nfilters;
	PgrstFilter filters[PGRST_MAX_FILTERS];
	int			norders;
	PgrstOrder	orders[PGRST_MAX_ORDER];
	long		offset;
	long		limit;			/* -1: none */
	bool		count_exact;
	bool		ranged;			/* a Range header or limit/offset given */
	int			nparams;
	const char *params[PGRST_MAX_PARAMS];
	char	   *arena;			/* copies of split values (freed by caller) */
	size_t		arena_used;
	size_t		arena_size;
	/* the first problem: an HTTP status and PostgREST's error fields */
	unsigned int err_status;
	const char *err_code;
	char		err_message[200];
	char		err_details[200];
	const char *err_hint;
} PgrstPlan;

extern void pgrst_plan_init(PgrstPlan *p, const PgrstObject *obj);
extern void pgrst_plan_free(PgrstPlan *p);
extern bool pgrst_parse_query(PgrstPlan *p, struct MHD_Connection *c);
extern bool pgrst_parse_headers(PgrstPlan *p, struct MHD_Connection *c);
extern bool pgrst_parse_body(PgrstPlan *p, const char *body, size_t len);
extern bool pgrst_check_args(PgrstPlan *p);
extern char *pgrst_build_sql(const PgrstPlan *p);
extern bool pgrst_fail(PgrstPlan *p, unsigned int status, const char *code,
					   const char *hint, const char *fmt,...)
			__attribute__((format(printf, 5, 6)));
extern unsigned int pgrst_http_status(const char *sqlstate);

#endif							/* RESTMON_POSTGREST_H */
