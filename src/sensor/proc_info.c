#include "sensor/proc_info.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpf/sensor_event.h"

#define PROC_CACHE_SLOTS 4096 /* direct-mapped by pid: collisions only cost a readlink */

struct proc_slot {
	uint32_t pid;
	bool announced; /* handed to a caller as fresh since it last changed */
	char comm[WEFT_COMM_LEN];
	char exe[256];
};

struct proc_cache {
	struct proc_slot slots[PROC_CACHE_SLOTS];
};

struct proc_cache *proc_cache__new(void)
{
	return calloc(1, sizeof(struct proc_cache));
}

const char *proc_cache__exe(struct proc_cache *pc, uint32_t pid, const char *comm, bool *fresh)
{
	struct proc_slot *s = &pc->slots[pid % PROC_CACHE_SLOTS];
	char path[32];
	ssize_t n;

	if (s->pid == pid && pid && !strncmp(s->comm, comm, WEFT_COMM_LEN)) {
		if (fresh)
			*fresh = !s->announced;
		s->announced = true;
		return s->exe;
	}
	if (fresh)
		*fresh = true;
	s->announced = true;
	s->pid = pid;
	strncpy(s->comm, comm, WEFT_COMM_LEN - 1);
	s->comm[WEFT_COMM_LEN - 1] = '\0';
	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	n = readlink(path, s->exe, sizeof(s->exe) - 1);
	s->exe[n > 0 ? n : 0] = '\0';
	return s->exe;
}

void proc_cache__exec(struct proc_cache *pc, uint32_t pid, const char *comm, const char *path)
{
	struct proc_slot *s = &pc->slots[pid % PROC_CACHE_SLOTS];

	s->pid = pid;
	s->announced = false;
	snprintf(s->comm, sizeof(s->comm), "%s", comm);
	snprintf(s->exe, sizeof(s->exe), "%s", path);
}

void proc_cache__free(struct proc_cache *pc)
{
	free(pc);
}
