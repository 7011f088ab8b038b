/*-------------------------------------------------------------------------
 *
 * gateway/http.c
 *	  restmon-http's request/response helpers: reading a request's JSON
 *	  body, queueing its response.
 *
 * Every response goes through send_response, which records its status in
 * the Request for the access log.  Error responses are JSON objects with
 * error_code, message and sqlstate (the database's, or the one the gateway
 * gives its own errors: see doc/http.md), with an
 * Allow header on a 405.  The send_* functions take ownership of what they
 * are given (the response, the JSON object).
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "gateway.h"

/* queue resp with status and drop our reference to it */
enum MHD_Result
send_response(struct MHD_Connection *c, Request *r, unsigned int status,
			  struct MHD_Response *resp)
{
	enum MHD_Result ret;

	r->status = status;
	if (r->in_worker)
	{
		/* a deferred call (server.c): queued once the connection resumes */
		if (r->resp != NULL)
			MHD_destroy_response(r->resp);
		r->resp = resp;
		return MHD_YES;
	}
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* a JSON object response; takes ownership of obj */
enum MHD_Result
send_json(struct MHD_Connection *c, Request *r, unsigned int status,
		  json_object *obj, const char *allow)
{
	const char *text;
	struct MHD_Response *resp;

	text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);

	resp = MHD_create_response_from_buffer(strlen(text), (void *) text,
										   MHD_RESPMEM_MUST_COPY);
	json_object_put(obj);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	if (allow != NULL)
		MHD_add_response_header(resp, "Allow", allow);
	return send_response(c, r, status, resp);
}

enum MHD_Result
send_error(struct MHD_Connection *c, Request *r, unsigned int status,
		   const char *message, const char *sqlstate, const char *allow)
{
	return send_json(c, r, status, js_error_body(status, message, sqlstate),
					 allow);
}

/*
 * The request body as a JSON object (the caller puts it); NULL with a 400
 * sent (in *sent) if it is not one.  An empty body is an empty object.
 */
json_object *
request_json_body(struct MHD_Connection *c, Request *r, enum MHD_Result *sent)
{
	json_object *obj;

	if (r->body_len == 0)
		return json_object_new_object();
	obj = js_parse_object(r->body, r->body_len);
	if (obj == NULL)
		*sent = send_error(c, r, 400, "the body must be a JSON object",
						   "22P02", NULL);
	return obj;
}

/*
 * A string member, or NULL if absent; false (400 sent) if not a string, or
 * a string with \u0000 in it (which a C string would silently cut short;
 * 22P05 as PostgreSQL's jsonb says of it).
 */
bool
request_string_member(struct MHD_Connection *c, Request *r, json_object *obj,
					  const char *key, const char **out, enum MHD_Result *sent)
{
	char		msg[96];

	switch (js_string_member(obj, key, out))
	{
		case JS_STRING:
			return true;
		case JS_NOT_STRING:
			snprintf(msg, sizeof(msg), "\"%s\" must be a string", key);
			*sent = send_error(c, r, 400, msg, "22023", NULL);
			break;
		case JS_HAS_NUL:
			snprintf(msg, sizeof(msg), "\"%s\" must not contain \\u0000",
					 key);
			*sent = send_error(c, r, 400, msg, "22P05", NULL);
			break;
	}
	return false;
}
