#include "sensor/tls_libs.h"

#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "sensor/capture.h"

#define LIBS_MAX     256  /* library files attached at most */
#define PIDS_CHECKED 4096 /* processes whose maps were read (a hash set, cleared when full) */

struct tls_lib {
	dev_t dev;
	ino_t ino;
	struct bpf_link *links[CAPTURE_TLS_LINKS];
};

struct tls_libs {
	struct capture *cap;
	struct tls_lib libs[LIBS_MAX];
	unsigned nlibs;
	uint32_t checked[PIDS_CHECKED]; /* open addressing, 0 = empty */
	unsigned nchecked;
};

/* Where distributions keep their shared libraries. */
static const char *const lib_dirs[] = {
    "/usr/lib/x86_64-linux-gnu",
    "/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/lib64",
    "/usr/lib",
    "/lib",
    "/usr/local/lib",
};

struct tls_libs *tls_libs__new(struct capture *cap)
{
	struct tls_libs *t = calloc(1, sizeof(*t));

	if (t)
		t->cap = cap;
	return t;
}

void tls_libs__free(struct tls_libs *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i < t->nlibs; i++)
		for (int j = 0; j < CAPTURE_TLS_LINKS; j++)
			bpf_link__destroy(t->libs[i].links[j]);
	free(t);
}

unsigned tls_libs__count(const struct tls_libs *t)
{
	return t ? t->nlibs : 0;
}

/* Attaches the library at path once per file (device and inode). */
static void attach(struct tls_libs *t, const char *path)
{
	struct tls_lib *l;
	struct stat st;
	int err;

	if (stat(path, &st) || !S_ISREG(st.st_mode))
		return;
	for (unsigned i = 0; i < t->nlibs; i++)
		if (t->libs[i].dev == st.st_dev && t->libs[i].ino == st.st_ino)
			return;
	if (t->nlibs == LIBS_MAX) {
		log_warn_ratelimited("sensor: %u TLS libraries attached already: %s is not",
				     LIBS_MAX, path);
		return;
	}
	l = &t->libs[t->nlibs];
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	err = capture__attach_tls(t->cap, path, l->links);
	if (err) {
		log_warn("sensor: cannot read TLS plaintext from %s: %s", path, strerror(-err));
		memset(l->links, 0, sizeof(l->links));
	}
	t->nlibs++; /* remembered either way: not tried again */
	if (!err)
		log_info("sensor: reading TLS plaintext from %s", path);
}

static bool is_libssl(const char *name)
{
	return !strncmp(name, "libssl.so", 9);
}

static void scan_dirs(struct tls_libs *t)
{
	for (size_t i = 0; i < sizeof(lib_dirs) / sizeof(lib_dirs[0]); i++) {
		DIR *d = opendir(lib_dirs[i]);
		struct dirent *de;

		while (d && (de = readdir(d))) {
			char path[512];

			if (!is_libssl(de->d_name) || !strchr(de->d_name + 9, '.'))
				continue; /* libssl.so itself is the development link */
			snprintf(path, sizeof(path), "%s/%s", lib_dirs[i], de->d_name);
			attach(t, path);
		}
		if (d)
			closedir(d);
	}
}

/* The libssl files pid maps, reached through its root (a container's own
 * files). Returns whether it maps any. */
static bool scan_maps(struct tls_libs *t, uint32_t pid)
{
	char path[64], line[1024];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	if (!(f = fopen(path, "re")))
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *file = strchr(line, '/'), *base, full[1100];

		if (!file)
			continue;
		file[strcspn(file, "\n")] = '\0';
		base = strrchr(file, '/') + 1;
		if (!is_libssl(base))
			continue;
		found = true;
		snprintf(full, sizeof(full), "/proc/%u/root%s", pid, file);
		attach(t, full);
	}
	fclose(f);
	return found;
}

void tls_libs__scan(struct tls_libs *t)
{
	DIR *d;
	struct dirent *de;

	if (!t)
		return;
	scan_dirs(t);
	if (!(d = opendir("/proc")))
		return;
	while ((de = readdir(d))) {
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);

		if (!*end && pid)
			scan_maps(t, (uint32_t)pid);
	}
	closedir(d);
}

/* Whether pid was looked at already; marks it. */
static bool checked(struct tls_libs *t, uint32_t pid)
{
	uint32_t i = (pid * 2654435761u) % PIDS_CHECKED;

	if (t->nchecked > PIDS_CHECKED / 2) { /* pids are reused: start again */
		memset(t->checked, 0, sizeof(t->checked));
		t->nchecked = 0;
	}
	while (t->checked[i]) {
		if (t->checked[i] == pid)
			return true;
		i = (i + 1) % PIDS_CHECKED;
	}
	t->checked[i] = pid;
	t->nchecked++;
	return false;
}

/* A TLS handshake's first message: a ClientHello or a ServerHello record. */
static bool handshake_hello(const struct weft_event *e)
{
	const uint8_t *p = e->payload;

	return e->payload_len >= 6 && p[0] == 22 && p[1] == 3 && p[2] <= 4 &&
	       (p[5] == 1 || p[5] == 2);
}

void tls_libs__event(struct tls_libs *t, const struct weft_event *e)
{
	if (!t || (e->type != WEFT_EV_SEND && e->type != WEFT_EV_RECV) || !handshake_hello(e) ||
	    checked(t, e->pid))
		return;
	if (!scan_maps(t, e->pid))
		log_info("sensor: pid %u (%.16s) speaks TLS through no libssl (Go's crypto/tls, a "
			 "statically linked library): its TLS requests are matched, not named",
			 e->pid, e->comm);
}
