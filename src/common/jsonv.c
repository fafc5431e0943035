#include "common/jsonv.h"

json_object *jv_member(json_object *o, const char *key)
{
	json_object *v = NULL;

	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

const char *jv_str(json_object *o, const char *key)
{
	json_object *v = jv_member(o, key);

	return v && !json_object_is_type(v, json_type_null) ? json_object_get_string(v) : "";
}

int64_t jv_int(json_object *o, const char *key)
{
	return json_object_get_int64(jv_member(o, key));
}

double jv_num(json_object *o, const char *key)
{
	return json_object_get_double(jv_member(o, key));
}

int jv_bool(json_object *o, const char *key)
{
	return json_object_get_boolean(jv_member(o, key));
}
