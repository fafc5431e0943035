/* Component-level times of a Java node: the JVM agents' DUMP over the
 * measurement window (the agents were reset when it began) per method,
 * summed over the JVMs of the process, and per transaction. */
#include <stdio.h>
#include <string.h>

#include "common/jsonv.h"
#include "profile/profile.h"

/* The entry for class.method in list, made when absent. */
static json_object *entry(json_object *list, const char *cls, const char *method)
{
	json_object *o;

	for (size_t i = 0; i < json_object_array_length(list); i++) {
		o = json_object_array_get_idx(list, i);
		if (!strcmp(jv_str(o, "class"), cls) && !strcmp(jv_str(o, "method"), method))
			return o;
	}
	o = json_object_new_object();
	json_object_object_add(o, "class", json_object_new_string(cls));
	json_object_object_add(o, "method", json_object_new_string(method));
	json_object_array_add(list, o);
	return o;
}

static void add(json_object *o, const char *key, double v)
{
	json_object_object_add(o, key, json_object_new_double(jv_num(o, key) + v));
}

json_object *profile_components(json_object *dump, double transactions)
{
	json_object *jvms = jv_member(dump, "jvms"), *list = json_object_new_array();
	json_object *gc = json_object_new_object();

	for (size_t j = 0; jvms && j < json_object_array_length(jvms); j++) {
		json_object *r = jv_member(json_object_array_get_idx(jvms, j), "reply");
		json_object *methods = jv_member(r, "methods"), *g = jv_member(r, "gc");

		for (size_t i = 0; methods && i < json_object_array_length(methods); i++) {
			json_object *m = json_object_array_get_idx(methods, i);
			json_object *o = entry(list, jv_str(m, "class"), jv_str(m, "method"));
			double max_ms = jv_num(m, "max_ns") / 1e6;

			add(o, "calls", jv_num(m, "calls"));
			add(o, "exceptions", jv_num(m, "exceptions"));
			add(o, "total_ms", jv_num(m, "total_ns") / 1e6);
			if (max_ms > jv_num(o, "max_ms"))
				json_object_object_add(o, "max_ms", json_object_new_double(max_ms));
		}
		add(gc, "count", jv_num(g, "count"));
		add(gc, "total_ms", jv_num(g, "total_ns") / 1e6);
	}
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *o = json_object_array_get_idx(list, i);
		double calls = jv_num(o, "calls"), total = jv_num(o, "total_ms");

		json_object_object_add(o, "mean_ms",
				       json_object_new_double(calls ? total / calls : 0));
		json_object_object_add(
		    o, "calls_per_transaction",
		    json_object_new_double(transactions > 0 ? calls / transactions : 0));
		/* time inside the method per transaction: the component's share of
		 * the response time, nested calls included */
		json_object_object_add(
		    o, "demand_ms",
		    json_object_new_double(transactions > 0 ? total / transactions : 0));
	}
	json_object_object_add(
	    gc, "per_transaction_ms",
	    json_object_new_double(transactions > 0 ? jv_num(gc, "total_ms") / transactions : 0));
	dump = json_object_new_object();
	json_object_object_add(dump, "methods", list);
	json_object_object_add(dump, "gc", gc);
	return dump;
}
