#include "sensor/go_procs.h"

#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "sensor/capture.h"

#define EXE_SEEN_MAX 4096 /* executables remembered; past it, new ones are read again */

/* An executable already looked at, by device and inode. */
struct exe_seen {
	dev_t dev;
	ino_t ino;
	bool go;
	struct bpf_link *probes[2]; /* Go: the uprobes on its goroutines' hand-offs and ends */
};

struct go_procs {
	struct capture *cap;
	uint32_t netns; /* nonzero: only processes of this network namespace */
	struct exe_seen *seen;
	size_t nseen, cap_seen;
	unsigned registered;
};

struct go_procs *go_procs__new(struct capture *cap, uint32_t netns)
{
	struct go_procs *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->cap = cap;
	g->netns = netns;
	if (elf_version(EV_CURRENT) == EV_NONE) {
		free(g);
		errno = ENOTSUP;
		return NULL;
	}
	return g;
}

void go_procs__free(struct go_procs *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->nseen; i++) {
		bpf_link__destroy(g->seen[i].probes[0]);
		bpf_link__destroy(g->seen[i].probes[1]);
	}
	free(g->seen);
	free(g);
}

/* A Go executable has the section its toolchain writes the build
 * information to (Go 1.13 and later) or its build id note. */
static bool elf_is_go(int fd)
{
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	bool go = false;

	if (!e)
		return false;
	if (elf_kind(e) == ELF_K_ELF && !elf_getshdrstrndx(e, &shstrndx)) {
		while (!go && (scn = elf_nextscn(e, scn))) {
			GElf_Shdr sh;
			const char *name;

			if (!gelf_getshdr(scn, &sh))
				break;
			name = elf_strptr(e, shstrndx, sh.sh_name);
			go = name &&
			     (!strcmp(name, ".go.buildinfo") || !strcmp(name, ".note.go.buildid"));
		}
	}
	elf_end(e);
	return go;
}

/* The inode of pid's network namespace, 0 when it cannot be read. */
static uint32_t netns_of(uint32_t pid)
{
	char path[40];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%u/ns/net", pid);
	return stat(path, &st) ? 0 : (uint32_t)st.st_ino;
}

/* What is known of pid's executable, read once per executable; NULL when it
 * cannot be read (gone, a kernel thread). */
static struct exe_seen *exe_of(struct go_procs *g, uint32_t pid)
{
	struct exe_seen *e = NULL;
	char path[32];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st))
		goto out;
	for (size_t i = 0; i < g->nseen; i++)
		if (g->seen[i].ino == st.st_ino && g->seen[i].dev == st.st_dev) {
			e = &g->seen[i];
			goto out;
		}
	if (g->nseen == g->cap_seen) {
		size_t cap = g->cap_seen ? g->cap_seen * 2 : 64;
		struct exe_seen *n =
		    cap <= EXE_SEEN_MAX ? realloc(g->seen, cap * sizeof(*n)) : NULL;

		if (!n)
			goto out;
		g->seen = n;
		g->cap_seen = cap;
	}
	e = &g->seen[g->nseen++];
	*e = (struct exe_seen){.dev = st.st_dev, .ino = st.st_ino, .go = elf_is_go(fd)};
	if (e->go) {
		/* Attached to the file: every process running it, now or later. */
		int err = capture__attach_go(g->cap, path, e->probes);

		if (err)
			log_warn("sensor: cannot follow goroutine hand-offs in %s (pid %u): %s; "
				 "its goroutines are followed by their own messages only",
				 path, pid, strerror(-err));
	}
out:
	close(fd);
	return e;
}

void go_procs__note(struct go_procs *g, uint32_t pid)
{
	int err;

	struct exe_seen *e;

	if (!g || (g->netns && netns_of(pid) != g->netns) || !(e = exe_of(g, pid)) || !e->go)
		return;
	err = capture__add_coroutine_pid(g->cap, pid);
	if (err)
		log_warn_ratelimited("sensor: cannot follow the goroutines of pid %u: %s", pid,
				     strerror(-err));
	else if (!g->registered++)
		log_info("sensor: following goroutines in Go programs (pid %u first)", pid);
}

void go_procs__scan(struct go_procs *g)
{
	DIR *d = opendir("/proc");
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);

		if (!*end && pid)
			go_procs__note(g, (uint32_t)pid);
	}
	closedir(d);
}
