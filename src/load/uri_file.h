/* The requests a run sends: one URL, or a URI file with one request a line.
 *
 * URI file format (blank lines and lines starting with '#' are skipped):
 *   [METHOD] PATH|URL [header="Name: value"]... [body=TEXT] [weight=N]
 * METHOD is GET, POST, PUT, DELETE, PATCH or OPTIONS, GET when the line
 * starts with the path or URL. PATH starts with '/';
 * a full http:// URL sets the target, and every URL in a file must name the
 * same host and port. Fields are separated by blanks; a value may be quoted
 * with "..." (backslash escapes \" \\ \n \r \t) or '...' (taken literally).
 * weight (default 1) sets how often the line is picked in the mix. */
#ifndef WEFT_LOAD_URI_FILE_H
#define WEFT_LOAD_URI_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOAD_HOST_MAX 256

struct load_uri {
	char *method;	 /* "GET", ...; owned */
	char *path;	 /* origin-form target "/x?y"; owned */
	char *headers;	 /* extra header lines, each ending in CRLF, or "" (NULL: none); owned */
	char *body;	 /* request body, NULL when none; owned */
	size_t body_len; /* its length */
	uint32_t weight; /* relative frequency in the mix, >= 1 */
	unsigned line;	 /* line in the URI file, 0 for a URL operand */
};

struct uri_set {
	struct load_uri *v;	  /* the requests; owned */
	size_t n;		  /* how many */
	size_t cap;		  /* allocated */
	char host[LOAD_HOST_MAX]; /* target host ("" until a URL names one) */
	char port[8];		  /* target port, "80" by default */
};

/* Splits "http://host[:port][/path]" (host may be "[v6]"). On success
 * writes host and port and points *path into url (the path, or "/" when
 * absent; a static string then). Returns 0, or -EINVAL with a reason in err. */
int load_url_parse(const char *url, char host[LOAD_HOST_MAX], char port[8], const char **path,
		   char *err, size_t errlen);
/* Adds one GET for a URL operand, which also sets the target. */
int uri_set__add_url(struct uri_set *s, const char *url, char *err, size_t errlen);
/* Parses URI file text; `name` prefixes errors ("uris.txt:3: unknown method
 * 'FETCH'"). Returns 0 or -EINVAL (err says why; s keeps what came before
 * the bad line, and uri_set__free releases it). */
int uri_set__parse(struct uri_set *s, const char *text, size_t len, const char *name, char *err,
		   size_t errlen);
/* Reads and parses a URI file; -errno with err filled when it cannot. */
int uri_set__load(struct uri_set *s, const char *path, char *err, size_t errlen);
/* Frees every request; s is empty afterwards and may be reused. */
void uri_set__free(struct uri_set *s);

/* Renders the wire form of u for `host_header`, with "Connection: close"
 * when !keepalive. Returns a malloc'd buffer (caller frees) and its length
 * in *len, or NULL with errno set. */
char *load_uri__render(const struct load_uri *u, const char *host_header, bool keepalive,
		       size_t *len);

#endif
