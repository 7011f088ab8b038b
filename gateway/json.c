/*-------------------------------------------------------------------------
 *
 * gateway/json.c
 *	  restmon-http's json-c helpers: building objects, the error body,
 *	  strict parsing of a request body.
 *
 * Nothing here knows HTTP or the database: the layers above turn a NULL or
 * false from here into their 400.  Parsing is strict JSON in valid UTF-8,
 * and the whole text must be one object.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "gateway.h"

void
js_set_string(json_object *obj, const char *key, const char *value)
{
	json_object_object_add(obj, key, json_object_new_string(value));
}

void
js_set_int(json_object *obj, const char *key, int value)
{
	json_object_object_add(obj, key, json_object_new_int(value));
}

/* the body of every error response: error_code, message, sqlstate */
json_object *
js_error_body(unsigned int status, const char *message, const char *sqlstate)
{
	json_object *obj = json_object_new_object();

	js_set_int(obj, "error_code", (int) status);
	js_set_string(obj, "message", message);
	js_set_string(obj, "sqlstate", sqlstate != NULL ? sqlstate : "XX000");
	return obj;
}

/* text as one JSON object (the caller puts it), or NULL if it is not one */
json_object *
js_parse_object(const char *text, size_t len)
{
	json_tokener *tok = json_tokener_new();
	json_object *obj;

	json_tokener_set_flags(tok,
						   JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, text, (int) len);
	if (obj == NULL || json_tokener_get_error(tok) != json_tokener_success ||
		json_tokener_get_parse_end(tok) != len ||
		!json_object_is_type(obj, json_type_object))
	{
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

/*
 * A string member of obj in *out, or NULL if absent or null (JS_STRING);
 * JS_NOT_STRING if it is there but no string, JS_HAS_NUL if it holds a NUL
 * (\u0000), which no C string can carry.  *out points into obj.
 */
JsMember
js_string_member(json_object *obj, const char *key, const char **out)
{
	json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(obj, key, &v) ||
		json_object_is_type(v, json_type_null))
		return JS_STRING;
	if (!json_object_is_type(v, json_type_string))
		return JS_NOT_STRING;
	if (strlen(json_object_get_string(v)) !=
		(size_t) json_object_get_string_len(v))
		return JS_HAS_NUL;
	*out = json_object_get_string(v);
	return JS_STRING;
}
