/* Static files for the dashboard, from hooks->web_root: "/" is index.html,
 * any other path a file below the root, never outside it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api_int.h"

static const char *content_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{".html", "text/html; charset=utf-8"},
		{".js", "text/javascript; charset=utf-8"},
		{".mjs", "text/javascript; charset=utf-8"},
		{".css", "text/css; charset=utf-8"},
		{".json", "application/json"},
		{".map", "application/json"},
		{".svg", "image/svg+xml"},
		{".png", "image/png"},
		{".ico", "image/x-icon"},
		{".woff2", "font/woff2"},
		{".txt", "text/plain; charset=utf-8"},
	};
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

/* No "..", no empty or hidden segments, nothing but the path. */
static bool path_safe(const char *url)
{
	if (url[0] != '/' || strchr(url, '\\'))
		return false;
	for (const char *p = url; *p; p++)
		if (p[0] == '/' && (p[1] == '.' || p[1] == '/'))
			return false;
	return true;
}

/* Opens root + url after resolving both: the file must lie under the root.
 * The descriptor, or -1 with errno. */
static int open_under(const char *root, const char *url, struct stat *st)
{
	char want[PATH_MAX], real_root[PATH_MAX], real[PATH_MAX];
	size_t n;
	int fd;

	if (!realpath(root, real_root) ||
	    snprintf(want, sizeof(want), "%s%s", real_root, url) >= (int)sizeof(want) ||
	    !realpath(want, real))
		return -1;
	n = strlen(real_root);
	if (strncmp(real, real_root, n) || (real[n] != '/' && real[n] != '\0')) {
		errno = EACCES;
		return -1;
	}
	fd = open(real, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, st) || !S_ISREG(st->st_mode)) {
		close(fd);
		errno = EISDIR;
		return -1;
	}
	return fd;
}

void api_route_static(struct api_call *c)
{
	const char *root = api_hooks(c)->web_root;
	const char *url = strcmp(c->url, "/") ? c->url : "/index.html";
	struct stat st;
	int fd;

	if (!root || !path_safe(url)) {
		api_error(c, MHD_HTTP_NOT_FOUND, "no such path: %s", c->url);
		return;
	}
	fd = open_under(root, url, &st);
	if (fd < 0) {
		api_error(c, MHD_HTTP_NOT_FOUND, "no such file: %s", c->url);
		return;
	}
	c->raw = MHD_create_response_from_fd((uint64_t)st.st_size, fd); /* owns fd */
	if (!c->raw) {
		close(fd);
		api_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot serve %s", c->url);
		return;
	}
	MHD_add_response_header(c->raw, MHD_HTTP_HEADER_CONTENT_TYPE, content_type(url));
	c->status = MHD_HTTP_OK;
}
