#include "profile/spec_xml.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/valid.h>
#include <libxml/xmlerror.h>

#include "profile_services_dtd.h"

#define SPEC_MAX_BYTES (16u << 20) /* a specification is a few kilobytes */
#define XML_MSG_MAX    256

/* libxml2 2.12 made the structured handler's error argument const. */
#if LIBXML_VERSION >= 21200
typedef const xmlError *xml_error_arg;
#else
typedef xmlError *xml_error_arg;
#endif

/* The first two errors libxml2 raised (warnings are ignored). */
struct xml_errs {
	int n;			  /* errors seen, all of them */
	int code[2];		  /* xmlParserErrors of the first two */
	int line[2];		  /* their lines, 0 when unknown */
	char msg[2][XML_MSG_MAX]; /* their messages, trimmed */
};

static void on_error(void *ctx, xml_error_arg e)
{
	struct xml_errs *x = ctx;
	size_t len;
	char *m;

	if (e->level < XML_ERR_ERROR)
		return;
	if (x->n < 2) {
		m = x->msg[x->n];
		snprintf(m, XML_MSG_MAX, "%s", e->message ? e->message : "error");
		len = strlen(m);
		while (len && (m[len - 1] == '\n' || m[len - 1] == ' '))
			m[--len] = '\0';
		x->code[x->n] = e->code;
		x->line[x->n] = e->line;
	}
	x->n++;
}

/* Swallows what libxml2 would print through its generic channels. */
static void silent(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static bool is_content_error(int code)
{
	return code == XML_DTD_CONTENT_MODEL || code == XML_DTD_NOT_PCDATA ||
	       code == XML_DTD_CONTENT_ERROR || code == XML_DTD_NOT_EMPTY;
}

/* Fills err from the collected errors. An element's content-model error is
 * followed by the error on the undeclared element inside it: that one names
 * the culprit at its own line, so it is the one reported. */
static int report(const struct xml_errs *x, const char *path, const char *fallback, char *err,
		  size_t errcap)
{
	int i = 0;

	if (x->n == 0) {
		snprintf(err, errcap, "%s: %s", path, fallback);
		return -EINVAL;
	}
	if (x->n > 1 && is_content_error(x->code[0]) && x->code[1] == XML_DTD_UNKNOWN_ELEM &&
	    x->line[1] >= x->line[0])
		i = 1;
	if (x->line[i] > 0)
		snprintf(err, errcap, "%s:%d: %s", path, x->line[i], x->msg[i]);
	else
		snprintf(err, errcap, "%s: %s", path, x->msg[i]);
	return x->code[i] == XML_ERR_NO_MEMORY ? -ENOMEM : -EINVAL;
}

/* The whole file into a malloc'd buffer; -errno when it cannot be read. */
static int read_file(const char *path, char **out, size_t *outlen)
{
	size_t len = 0, cap = 0;
	char *buf = NULL, *nb;
	struct stat st;
	ssize_t r;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		rc = -errno;
		goto cleanup;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = -EISDIR;
		goto cleanup;
	}
	for (;;) {
		if (len == cap) {
			if (cap > SPEC_MAX_BYTES) {
				rc = -EFBIG;
				goto cleanup;
			}
			cap = cap ? 2 * cap : 8192;
			nb = realloc(buf, cap);
			if (!nb) {
				rc = -ENOMEM;
				goto cleanup;
			}
			buf = nb;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			goto cleanup;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	*out = buf;
	*outlen = len;
	buf = NULL;
cleanup:
	free(buf);
	close(fd);
	return rc;
}

/* Validates doc against the built-in DTD; errors land in x. */
static int validate(xmlDoc *doc, struct xml_errs *x, const char *path, char *err, size_t errcap)
{
	xmlParserInputBuffer *in;
	xmlValidCtxt *vctx = NULL;
	xmlDtd *dtd = NULL;
	int rc = 0;

	in = xmlParserInputBufferCreateMem((const char *)profile_services_dtd,
					   (int)sizeof(profile_services_dtd),
					   XML_CHAR_ENCODING_NONE);
	if (!in) {
		snprintf(err, errcap, "%s: out of memory", path);
		return -ENOMEM;
	}
	dtd = xmlIOParseDTD(NULL, in, XML_CHAR_ENCODING_NONE); /* frees in */
	if (!dtd) {
		/* the DTD is tested: only memory can fail here */
		snprintf(err, errcap, "%s: cannot load the built-in DTD", path);
		return -ENOMEM;
	}
	vctx = xmlNewValidCtxt();
	if (!vctx) {
		snprintf(err, errcap, "%s: out of memory", path);
		rc = -ENOMEM;
		goto cleanup;
	}
	vctx->error = silent;
	vctx->warning = silent;
	memset(x, 0, sizeof(*x));
	/* xmlValidateDtd ignores the document's own DOCTYPE and subsets */
	if (xmlValidateDtd(vctx, doc, dtd) != 1)
		rc = report(x, path, "does not follow the DTD", err, errcap);
cleanup:
	if (vctx)
		xmlFreeValidCtxt(vctx);
	xmlFreeDtd(dtd);
	return rc;
}

/* The root must be <services>: xmlValidateDtd does not check it when it
 * validates against a DTD other than the document's. */
static int check_root(xmlDoc *doc, const char *path, char *err, size_t errcap)
{
	xmlNode *root = xmlDocGetRootElement(doc);

	if (!root) {
		snprintf(err, errcap, "%s: no root element", path);
		return -EINVAL;
	}
	if (strcmp((const char *)root->name, "services")) {
		snprintf(err, errcap, "%s:%ld: the root element is <%s>, not <services>", path,
			 xmlGetLineNo(root), (const char *)root->name);
		return -EINVAL;
	}
	return 0;
}

int profile_spec_xml_read(const char *path, xmlDoc **out, char *err, size_t errcap)
{
	xmlStructuredErrorFunc old_serror = xmlStructuredError;
	void *old_sctx = xmlStructuredErrorContext;
	xmlGenericErrorFunc old_gerror = xmlGenericError;
	void *old_gctx = xmlGenericErrorContext;
	struct xml_errs x = {0};
	xmlDoc *doc = NULL;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	rc = read_file(path, &buf, &len);
	if (rc) {
		snprintf(err, errcap, "%s: %s", path, strerror(-rc));
		return rc;
	}
	if (len == 0 || len > SPEC_MAX_BYTES) {
		snprintf(err, errcap, "%s: %s", path, len ? strerror(EFBIG) : "empty file");
		free(buf);
		return len ? -EFBIG : -EINVAL;
	}
	/* These handlers are per thread in libxml2; the old ones come back below. */
	xmlSetStructuredErrorFunc(&x, on_error);
	xmlSetGenericErrorFunc(NULL, silent);
	/* No XML_PARSE_DTDLOAD, NOENT or DTDVALID: the DOCTYPE's SYSTEM file is
	 * never opened and entities are never expanded. */
	doc = xmlReadMemory(buf, (int)len, path, NULL,
			    XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_BIG_LINES);
	if (!doc) {
		rc = report(&x, path, "not a well-formed XML document", err, errcap);
		goto cleanup;
	}
	rc = check_root(doc, path, err, errcap);
	if (!rc)
		rc = validate(doc, &x, path, err, errcap);
cleanup:
	xmlSetStructuredErrorFunc(old_sctx, old_serror);
	xmlSetGenericErrorFunc(old_gctx, old_gerror);
	free(buf);
	if (rc) {
		xmlFreeDoc(doc);
		return rc;
	}
	*out = doc;
	return 0;
}
