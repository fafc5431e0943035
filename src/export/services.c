/* The services table behind exports: uthash by service id. */
#include "export/services.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

struct svc_node {
	struct svc_entry e;
	UT_hash_handle hh;
};

struct svc_table {
	struct svc_node *by_id;
};

struct svc_table *svc_table__new(void)
{
	struct svc_table *t = calloc(1, sizeof(*t));

	if (!t)
		errno = ENOMEM;
	return t;
}

void svc_table__free(struct svc_table *t)
{
	struct svc_node *n, *tmp;

	if (!t)
		return;
	HASH_ITER(hh, t->by_id, n, tmp)
	{
		HASH_DEL(t->by_id, n);
		free(n);
	}
	free(t);
}

void svc_short_name(const struct weft_service *svc, char *buf, size_t cap)
{
	const char *base;

	if (svc->external) {
		snprintf(buf, cap, "%s", svc->addr);
		return;
	}
	base = strrchr(svc->exe, '/');
	snprintf(buf, cap, "%s", base ? base + 1 : svc->exe[0] ? svc->exe : svc->comm);
}

int svc_table__put(struct svc_table *t, const struct weft_service *svc)
{
	struct svc_node *n;

	HASH_FIND(hh, t->by_id, &svc->id, sizeof(svc->id), n);
	if (!n) {
		n = calloc(1, sizeof(*n));
		if (!n)
			return -ENOMEM;
		n->e.svc.id = svc->id;
		HASH_ADD(hh, t->by_id, e.svc.id, sizeof(n->e.svc.id), n);
	}
	n->e.svc = *svc;
	svc_short_name(svc, n->e.name, sizeof(n->e.name));
	return 0;
}

const struct svc_entry *svc_table__get(const struct svc_table *t, uint64_t id)
{
	struct svc_node *n;

	HASH_FIND(hh, t->by_id, &id, sizeof(id), n);
	return n ? &n->e : NULL;
}
