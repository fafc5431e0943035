/* weft profile's transaction specification: from the validated XML tree
 * (spec_xml.c) to struct profile_spec, with the checks a DTD cannot make. */
#include "profile/spec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/parse.h"
#include "load/uri_file.h"
#include "profile/spec_xml.h"

struct loader {
	const char *path; /* the file, for messages and uriInfoFile */
	char *err;	  /* the caller's message buffer */
	size_t errcap;	  /* its size */
};

/* Writes "FILE:LINE: message" (just "FILE: message" without a node) and
 * returns rc. */
static int fail(struct loader *l, const xmlNode *at, int rc, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!l->errcap)
		return rc;
	if (at)
		n = snprintf(l->err, l->errcap, "%s:%ld: ", l->path, xmlGetLineNo(at));
	else
		n = snprintf(l->err, l->errcap, "%s: ", l->path);
	if (n >= 0 && (size_t)n < l->errcap) {
		va_start(ap, fmt);
		vsnprintf(l->err + n, l->errcap - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static int oom(struct loader *l)
{
	return fail(l, NULL, -ENOMEM, "out of memory");
}

static bool is(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

/* n or the first element after it; NULL when none. */
static xmlNode *elem(xmlNode *n)
{
	while (n && n->type != XML_ELEMENT_NODE)
		n = n->next;
	return n;
}

static size_t count_elems(xmlNode *parent)
{
	size_t n = 0;
	xmlNode *c;

	for (c = elem(parent->children); c; c = elem(c->next))
		n++;
	return n;
}

static bool xml_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* e's text with surrounding whitespace trimmed, malloc'd into *out; an empty
 * value is an error. Entity references are refused: they are never expanded
 * (predefined ones like &amp; and character references are plain text). */
static int text_of(struct loader *l, const xmlNode *e, char **out)
{
	size_t len = 0, at = 0;
	const xmlNode *c;
	char *s, *p;

	for (c = e->children; c; c = c->next) {
		if (c->type == XML_ENTITY_REF_NODE)
			return fail(l, e, -EINVAL, "<%s>: entity &%s; is not supported",
				    (const char *)e->name, (const char *)c->name);
		if (c->type == XML_TEXT_NODE && c->content)
			len += strlen((const char *)c->content);
	}
	s = malloc(len + 1);
	if (!s)
		return oom(l);
	for (c = e->children; c; c = c->next) {
		if (c->type != XML_TEXT_NODE || !c->content)
			continue;
		memcpy(s + at, c->content, strlen((const char *)c->content));
		at += strlen((const char *)c->content);
	}
	s[at] = '\0';
	while (at && xml_space(s[at - 1]))
		s[--at] = '\0';
	for (p = s; xml_space(*p); p++)
		;
	memmove(s, p, strlen(p) + 1);
	if (!*s) {
		free(s);
		return fail(l, e, -EINVAL, "empty <%s>", (const char *)e->name);
	}
	*out = s;
	return 0;
}

static int load_component(struct loader *l, xmlNode *e, struct profile_component *c)
{
	xmlNode *k;
	int rc = 0;

	c->line = (int)xmlGetLineNo(e);
	for (k = elem(e->children); k; k = elem(k->next)) {
		if (is(k, "Name"))
			rc = text_of(l, k, &c->name);
		else if (is(k, "Interface"))
			rc = text_of(l, k, &c->interface);
		if (rc)
			return rc;
	}
	return 0;
}

static int load_node(struct loader *l, xmlNode *e, struct profile_node *n)
{
	xmlNode *k, *c;
	size_t i = 0;
	int rc = 0;

	n->java = is(e, "javaNode");
	n->line = (int)xmlGetLineNo(e);
	for (k = elem(e->children); k; k = elem(k->next)) {
		if (is(k, "Node")) {
			rc = text_of(l, k, &n->node);
		} else if (is(k, "Process")) {
			rc = text_of(l, k, &n->process);
		} else if (is(k, "ComponentInfo")) {
			n->ncomponents = count_elems(k);
			n->components = calloc(n->ncomponents, sizeof(*n->components));
			if (!n->components) {
				n->ncomponents = 0;
				return oom(l);
			}
			for (c = elem(k->children); c; c = elem(c->next)) {
				rc = load_component(l, c, &n->components[i++]);
				if (rc)
					return rc;
			}
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* A bare url: a host name or address, "[v6]" unbracketed. "host:port" is
 * refused rather than guessed apart from an IPv6 address. */
static int bare_host(struct loader *l, xmlNode *at, const char *url, char **host)
{
	size_t len = strlen(url);
	const char *colon = strchr(url, ':');

	if (url[0] == '[' && url[len - 1] == ']' && len > 2) {
		*host = strndup(url + 1, len - 2);
		return *host ? 0 : oom(l);
	}
	if (strpbrk(url, "/[] \t\r\n?#@"))
		return fail(l, at, -EINVAL, "url '%s' is neither a host nor an http:// URL", url);
	if (colon && !strchr(colon + 1, ':'))
		return fail(l, at, -EINVAL,
			    "url '%s': give the port in <port> or write http://host:port/", url);
	*host = strdup(url);
	return *host ? 0 : oom(l);
}

/* url (and the port a full URL names, "80" when none) into t->host. */
static int load_url(struct loader *l, xmlNode *e, struct profile_trans *t, char url_port[8])
{
	char host[LOAD_HOST_MAX], msg[LOAD_HOST_MAX + 64];
	const char *path;
	char *url;
	int rc;

	strcpy(url_port, "80");
	rc = text_of(l, e, &url);
	if (rc)
		return rc;
	if (!strstr(url, "://")) {
		rc = bare_host(l, e, url, &t->host);
	} else if (load_url_parse(url, host, url_port, &path, msg, sizeof(msg))) {
		rc = fail(l, e, -EINVAL, "url %s", msg);
	} else {
		t->host = strdup(host);
		rc = t->host ? 0 : oom(l);
	}
	free(url);
	return rc;
}

static int load_port(struct loader *l, xmlNode *e, struct profile_trans *t)
{
	uint64_t p;
	char *s;
	int rc;

	rc = text_of(l, e, &s);
	if (rc)
		return rc;
	if (parse_u64(s, &p, 1, 65535)) {
		rc = fail(l, e, -EINVAL, "port '%s' is not a number in 1..65535", s);
		free(s);
		return rc;
	}
	free(s);
	if (asprintf(&t->port, "%u", (unsigned)p) < 0) {
		t->port = NULL;
		return oom(l);
	}
	return 0;
}

/* uriInfoFile relative to the specification's directory. */
static int load_uri_file(struct loader *l, xmlNode *e, struct profile_trans *t)
{
	const char *slash = strrchr(l->path, '/');
	char *file;
	int rc;

	rc = text_of(l, e, &file);
	if (rc)
		return rc;
	if (file[0] == '/' || !slash) {
		t->uri_file = file;
		return 0;
	}
	rc = asprintf(&t->uri_file, "%.*s/%s", (int)(slash - l->path), l->path, file);
	free(file);
	if (rc < 0) {
		t->uri_file = NULL;
		return oom(l);
	}
	return 0;
}

static int load_web(struct loader *l, xmlNode *e, struct profile_trans *t)
{
	char url_port[8];
	xmlNode *k;
	int rc = 0;

	for (k = elem(e->children); k; k = elem(k->next)) {
		if (is(k, "url"))
			rc = load_url(l, k, t, url_port);
		else if (is(k, "port"))
			rc = load_port(l, k, t);
		else if (is(k, "uriInfoFile"))
			rc = load_uri_file(l, k, t);
		if (rc)
			return rc;
	}
	if (!t->port && !(t->port = strdup(url_port)))
		return oom(l);
	return 0;
}

static int load_trans(struct loader *l, xmlNode *e, struct profile_trans *t)
{
	xmlNode *k, *n;
	size_t total = 0, i = 0;
	int rc = 0;

	t->line = (int)xmlGetLineNo(e);
	for (k = elem(e->children); k; k = elem(k->next))
		if (is(k, "NodesInfo"))
			total += count_elems(k);
	t->nodes = calloc(total, sizeof(*t->nodes));
	if (!t->nodes)
		return oom(l);
	t->nnodes = total;
	for (k = elem(e->children); k; k = elem(k->next)) {
		if (is(k, "Name")) {
			rc = text_of(l, k, &t->name);
		} else if (is(k, "WebInterface")) {
			rc = load_web(l, k, t);
		} else if (is(k, "NodesInfo")) {
			for (n = elem(k->children); n; n = elem(n->next)) {
				rc = load_node(l, n, &t->nodes[i++]);
				if (rc)
					return rc;
			}
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* Transactions are named in reports and on the command line: names are keys. */
static int check_unique(struct loader *l, const struct profile_spec *spec, size_t i, xmlNode *e)
{
	for (size_t j = 0; j < i; j++)
		if (!strcmp(spec->trans[j].name, spec->trans[i].name))
			return fail(l, elem(e->children), -EINVAL,
				    "duplicate transaction name '%s' (first at line %d)",
				    spec->trans[i].name, spec->trans[j].line);
	return 0;
}

int profile_spec__load(struct profile_spec *spec, const char *path, char *err, size_t errcap)
{
	struct loader l = {.path = path, .err = err, .errcap = errcap};
	xmlDoc *doc = NULL;
	xmlNode *root, *e;
	size_t i = 0, n;
	int rc;

	memset(spec, 0, sizeof(*spec));
	if (errcap)
		err[0] = '\0';
	rc = profile_spec_xml_read(path, &doc, err, errcap);
	if (rc)
		return rc;
	root = xmlDocGetRootElement(doc);
	n = count_elems(root);
	spec->path = strdup(path);
	spec->trans = calloc(n, sizeof(*spec->trans));
	if (!spec->path || !spec->trans) {
		rc = oom(&l);
		goto cleanup;
	}
	spec->ntrans = n;
	for (e = elem(root->children); e; e = elem(e->next)) {
		rc = load_trans(&l, e, &spec->trans[i]);
		if (!rc)
			rc = check_unique(&l, spec, i, e);
		if (rc)
			goto cleanup;
		i++;
	}
cleanup:
	xmlFreeDoc(doc);
	if (rc)
		profile_spec__free(spec);
	return rc;
}

static void node_free(struct profile_node *n)
{
	for (size_t i = 0; i < n->ncomponents; i++) {
		free(n->components[i].name);
		free(n->components[i].interface);
	}
	free(n->components);
	free(n->node);
	free(n->process);
}

void profile_spec__free(struct profile_spec *spec)
{
	for (size_t i = 0; i < spec->ntrans; i++) {
		struct profile_trans *t = &spec->trans[i];

		for (size_t j = 0; j < t->nnodes; j++)
			node_free(&t->nodes[j]);
		free(t->nodes);
		free(t->name);
		free(t->host);
		free(t->port);
		free(t->uri_file);
	}
	free(spec->trans);
	free(spec->path);
	memset(spec, 0, sizeof(*spec));
}
