#include "sensor/go_procs.h"

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

#define EXE_CACHE 64 /* executables already looked at, by device and inode */

struct exe_seen {
	dev_t dev;
	ino_t ino;
	bool go;
};

struct go_procs {
	struct capture *cap;
	struct exe_seen seen[EXE_CACHE];
	unsigned next;
	unsigned registered;
};

struct go_procs *go_procs__new(struct capture *cap)
{
	struct go_procs *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->cap = cap;
	if (elf_version(EV_CURRENT) == EV_NONE) {
		free(g);
		errno = ENOTSUP;
		return NULL;
	}
	return g;
}

void go_procs__free(struct go_procs *g)
{
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

/* Whether pid runs a Go program; each executable is read once. */
static bool pid_is_go(struct go_procs *g, uint32_t pid)
{
	char path[32];
	struct stat st;
	bool go;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (fstat(fd, &st)) {
		close(fd);
		return false;
	}
	for (unsigned i = 0; i < EXE_CACHE; i++) {
		if (g->seen[i].ino == st.st_ino && g->seen[i].dev == st.st_dev && st.st_ino) {
			close(fd);
			return g->seen[i].go;
		}
	}
	go = elf_is_go(fd);
	close(fd);
	g->seen[g->next % EXE_CACHE] = (struct exe_seen){st.st_dev, st.st_ino, go};
	g->next++;
	return go;
}

void go_procs__note(struct go_procs *g, uint32_t pid)
{
	int err;

	if (!g || !pid_is_go(g, pid))
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
