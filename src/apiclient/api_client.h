/* A client of weft's HTTP API (libcurl): one GET or POST that returns the
 * answer's JSON document, with the API's own error message when it refuses.
 * Used by the query commands and the Autoprofiler. */
#ifndef WEFT_API_CLIENT_H
#define WEFT_API_CLIENT_H

#include <json-c/json.h>

#define API_CLIENT_DEFAULT "127.0.0.1:7070"

/* Checks an API address ("host:port"); 0, or -EINVAL after printing why,
 * prefixed with "weft CMD: --api". */
int api_client_check(const char *cmd, const char *api);

/* GETs http://api + path and parses the answer. 0 with *doc (the caller
 * puts it) on 200; otherwise prints the server's or the transport's error
 * to stderr, prefixed with "weft CMD:", and returns -EIO. */
int api_client_get(const char *cmd, const char *api, const char *path, json_object **doc);
/* The same with a POST of body. */
int api_client_post(const char *cmd, const char *api, const char *path, const char *body,
		    json_object **doc);

#endif
