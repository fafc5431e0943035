#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "load/load_report.h"

static void put(struct json_object *o, const char *k, struct json_object *v)
{
	json_object_object_add(o, k, v);
}

static struct json_object *latency_json(const struct load_latency *l)
{
	struct json_object *o = json_object_new_object();

	put(o, "mean", json_object_new_double(l->mean_ms));
	put(o, "min", json_object_new_double(l->min_ms));
	put(o, "p50", json_object_new_double(l->p50_ms));
	put(o, "p90", json_object_new_double(l->p90_ms));
	put(o, "p99", json_object_new_double(l->p99_ms));
	put(o, "p999", json_object_new_double(l->p999_ms));
	put(o, "p9999", json_object_new_double(l->p9999_ms));
	put(o, "max", json_object_new_double(l->max_ms));
	return o;
}

static struct json_object *errors_json(const uint64_t *by_kind, uint64_t total)
{
	struct json_object *o = json_object_new_object();

	for (int k = 0; k < LOAD_ERR__COUNT; k++)
		put(o, load_err_name(k), json_object_new_int64((int64_t)by_kind[k]));
	put(o, "total", json_object_new_int64((int64_t)total));
	return o;
}

static struct json_object *uri_json(const struct load_uri_result *u, double duration_s)
{
	struct json_object *o = json_object_new_object();

	put(o, "method", json_object_new_string(u->uri->method));
	put(o, "path", json_object_new_string(u->uri->path));
	put(o, "weight", json_object_new_int64(u->uri->weight));
	if (u->uri->line)
		put(o, "line", json_object_new_int64(u->uri->line));
	put(o, "requests", json_object_new_int64((int64_t)u->requests));
	put(o, "rps", json_object_new_double(duration_s > 0 ? u->requests / duration_s : 0));
	put(o, "errors", errors_json(u->errors_by_kind, u->errors));
	put(o, "latency_ms", latency_json(&u->latency));
	return o;
}

static struct json_object *second_json(const struct load_second *s)
{
	struct json_object *o = json_object_new_object();

	put(o, "second", json_object_new_int64(s->second));
	put(o, "elapsed_s", json_object_new_double(s->elapsed_s));
	put(o, "span_s", json_object_new_double(s->span_s));
	put(o, "requests", json_object_new_int64((int64_t)s->requests));
	put(o, "rps", json_object_new_double(s->rps));
	put(o, "errors", errors_json(s->errors_by_kind, s->errors));
	put(o, "latency_ms", latency_json(&s->latency));
	return o;
}

static struct json_object *config_json(const struct load_config *cfg)
{
	struct json_object *o = json_object_new_object();

	put(o, "model", json_object_new_string(cfg->rate > 0 ? "open" : "closed"));
	put(o, "host", json_object_new_string(cfg->host));
	put(o, "port", json_object_new_string(cfg->port));
	put(o, "threads", json_object_new_int64(cfg->threads));
	put(o, "connections", json_object_new_int64(cfg->connections));
	put(o, "rate", json_object_new_double(cfg->rate));
	put(o, "think_ms", json_object_new_double((double)cfg->think_ns / 1e6));
	put(o, "think_dist",
	    json_object_new_string(cfg->think == LOAD_THINK_EXP ? "exponential" : "fixed"));
	put(o, "ramp_s", json_object_new_double((double)cfg->ramp_ns / 1e9));
	put(o, "keepalive", json_object_new_boolean(cfg->keepalive));
	return o;
}

struct json_object *load_report__json(const struct load_config *cfg, const struct load_result *res)
{
	struct json_object *o = json_object_new_object(), *a;

	if (!o)
		return NULL;
	put(o, "config", config_json(cfg));
	put(o, "requests", json_object_new_int64((int64_t)res->requests));
	put(o, "errors", errors_json(res->errors_by_kind, res->errors));
	put(o, "unfinished", json_object_new_int64((int64_t)res->unfinished));
	put(o, "bytes_read", json_object_new_int64((int64_t)res->bytes_read));
	put(o, "duration_s", json_object_new_double(res->duration_s));
	put(o, "rps", json_object_new_double(res->rps));
	put(o, "stopped_early", json_object_new_boolean(res->stopped));
	put(o, "latency_ms", latency_json(&res->latency));
	a = json_object_new_array();
	for (size_t i = 0; i < res->nuris; i++)
		json_object_array_add(a, uri_json(&res->per_uri[i], res->duration_s));
	put(o, "per_uri", a);
	a = json_object_new_array();
	for (size_t i = 0; i < res->nseries; i++)
		json_object_array_add(a, second_json(&res->series[i]));
	put(o, "series", a);
	return o;
}

int load_report__write_json(const char *path, const struct load_config *cfg,
			    const struct load_result *res, char *err, size_t errlen)
{
	struct json_object *o = load_report__json(cfg, res);
	int ret = 0;

	if (!o) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (!strcmp(path, "-")) {
		if (json_object_to_fd(1, o, JSON_C_TO_STRING_PRETTY) < 0)
			ret = -EIO;
	} else if (json_object_to_file_ext(path, o, JSON_C_TO_STRING_PRETTY) < 0) {
		ret = errno ? -errno : -EIO;
	}
	if (ret)
		snprintf(err, errlen, "%s: cannot write: %s", path, json_util_get_last_err());
	json_object_put(o);
	return ret;
}
