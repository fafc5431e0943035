/* What the query commands (map, traces, trace) share: the API address
 * option and one GET that returns a JSON document. */
#ifndef WEFT_CLI_H
#define WEFT_CLI_H

#include <stdint.h>

#include <json-c/json.h>

#define CLI_API_DEFAULT "127.0.0.1:7070"
#define CLI_OPT_API	256 /* --api, long only */

/* Checks an --api value ("host:port"); 0 or -EINVAL after printing why. */
int cli_check_api(const char *cmd, const char *api);
/* GETs http://api + path and parses the answer. 0 with *doc (caller puts
 * it) on 200; otherwise prints the server's or the transport's error to
 * stderr, prefixed with cmd, and returns -EIO. */
int cli_get(const char *cmd, const char *api, const char *path, json_object **doc);
/* The same with a POST of body. */
int cli_post(const char *cmd, const char *api, const char *path, const char *body,
	     json_object **doc);

/* Accessors that tolerate missing members (NULL, 0, "" or false). */
json_object *cli_member(json_object *o, const char *key);
const char *cli_str(json_object *o, const char *key);
int64_t cli_int(json_object *o, const char *key);
double cli_num(json_object *o, const char *key);
int cli_bool(json_object *o, const char *key);
/* "2026-01-02 15:04:05.123" in local time. */
void cli_format_time(uint64_t ns, char *buf, size_t cap);

#endif
