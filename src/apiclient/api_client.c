#include "apiclient/api_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "common/parse.h"

struct reply_buf {
	char *data;
	size_t len;
};

static size_t collect(char *data, size_t size, size_t n, void *ctx)
{
	struct reply_buf *b = ctx;
	char *p = realloc(b->data, b->len + size * n + 1);

	if (!p)
		return 0;
	memcpy(p + b->len, data, size * n);
	b->len += size * n;
	p[b->len] = '\0';
	b->data = p;
	return size * n;
}

int api_client_check(const char *cmd, const char *api)
{
	char host[256];
	uint16_t port;

	if (parse_host_port(api, host, sizeof(host), &port)) {
		fprintf(stderr, "weft %s: --api: expected HOST:PORT, got '%s'\n", cmd, api);
		return -EINVAL;
	}
	return 0;
}

/* Prints why a request failed: the API's {"error"} or the status. */
static void report(const char *cmd, const char *url, long status, json_object *doc)
{
	json_object *e;

	if (doc && json_object_object_get_ex(doc, "error", &e))
		fprintf(stderr, "weft %s: %s\n", cmd, json_object_get_string(e));
	else
		fprintf(stderr, "weft %s: %s answered HTTP %ld\n", cmd, url, status);
}

/* One request: GET when body is NULL, else POST with body. */
static int request(const char *cmd, const char *api, const char *path, const char *body,
		   json_object **doc)
{
	struct reply_buf b = {0};
	char url[1024];
	long status = 0;
	CURLcode rc;
	CURL *h;
	int err = -EIO;

	*doc = NULL;
	snprintf(url, sizeof(url), "http://%s%s", api, path);
	h = curl_easy_init();
	if (!h)
		return -ENOMEM;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	if (body)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		fprintf(stderr, "weft %s: cannot reach the API at %s: %s\n", cmd, api,
			curl_easy_strerror(rc));
		goto cleanup;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	*doc = b.data ? json_tokener_parse(b.data) : NULL;
	if (status == 200 && *doc) {
		err = 0;
		goto cleanup;
	}
	report(cmd, url, status, *doc);
	json_object_put(*doc);
	*doc = NULL;
cleanup:
	curl_easy_cleanup(h);
	free(b.data);
	return err;
}

int api_client_get(const char *cmd, const char *api, const char *path, json_object **doc)
{
	return request(cmd, api, path, NULL, doc);
}

int api_client_post(const char *cmd, const char *api, const char *path, const char *body,
		    json_object **doc)
{
	return request(cmd, api, path, body, doc);
}
