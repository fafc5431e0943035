/* Method registry (see registry.h): open addressing on an FNV-1a hash. */
#include "jvm/registry.h"

#include "jvm/classfile.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define REG_MAX	  (CF_MAX_ID + 1)
#define REG_SLOTS (2 * REG_MAX) /* methods hash: power of two, half full at most */
#define CLS_SLOTS 65536		/* classes hash */

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct method_entry entries[REG_MAX];
static int nentries;
static int slots[REG_SLOTS]; /* entry index + 1; 0 = empty */
static struct {
	char *name;	  /* NULL = empty */
	int instrumented; /* 1 while its bytecode carries probes */
} cls_slots[CLS_SLOTS];
static int ncls, ninstrumented;

static uint32_t fnv(uint32_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return (h ^ 0xff) * 16777619u;
}

int registry__id(const char *cls, const char *name, const char *desc)
{
	uint32_t h = fnv(fnv(fnv(2166136261u, cls), name), desc);
	int id = -1;
	pthread_mutex_lock(&reg_lock);
	for (uint32_t i = h & (REG_SLOTS - 1);; i = (i + 1) & (REG_SLOTS - 1)) {
		int s = slots[i];
		if (s) {
			struct method_entry *e = &entries[s - 1];
			if (!strcmp(e->cls, cls) && !strcmp(e->name, name) &&
			    !strcmp(e->desc, desc)) {
				id = s - 1;
				break;
			}
			continue;
		}
		if (nentries == REG_MAX)
			break;
		struct method_entry *e = &entries[nentries];
		e->cls = strdup(cls);
		e->name = strdup(name);
		e->desc = strdup(desc);
		if (!e->cls || !e->name || !e->desc) {
			free(e->cls);
			free(e->name);
			free(e->desc);
			*e = (struct method_entry){0};
			break;
		}
		id = nentries++;
		__atomic_thread_fence(__ATOMIC_RELEASE);
		slots[i] = id + 1;
		break;
	}
	pthread_mutex_unlock(&reg_lock);
	return id;
}

const struct method_entry *registry__get(int id)
{
	int n = registry__count();
	return id >= 0 && id < n ? &entries[id] : NULL;
}

int registry__count(void)
{
	pthread_mutex_lock(&reg_lock);
	int n = nentries;
	pthread_mutex_unlock(&reg_lock);
	return n;
}

/* Slot of class `cls`, or of the empty slot where it would go; -1 if full. */
static int cls_find(const char *cls)
{
	uint32_t h = fnv(2166136261u, cls);
	for (uint32_t k = 0; k < CLS_SLOTS; k++) {
		uint32_t i = (h + k) & (CLS_SLOTS - 1);
		if (!cls_slots[i].name || !strcmp(cls_slots[i].name, cls))
			return (int)i;
	}
	return -1;
}

void registry__set_class(const char *cls, int instrumented)
{
	pthread_mutex_lock(&reg_lock);
	int i = cls_find(cls);
	if (i >= 0 && !cls_slots[i].name && instrumented && ncls < CLS_SLOTS / 2 &&
	    (cls_slots[i].name = strdup(cls)))
		ncls++;
	if (i >= 0 && cls_slots[i].name && cls_slots[i].instrumented != !!instrumented) {
		cls_slots[i].instrumented = !!instrumented;
		ninstrumented += instrumented ? 1 : -1;
	}
	pthread_mutex_unlock(&reg_lock);
}

int registry__instrumented(const char *cls)
{
	pthread_mutex_lock(&reg_lock);
	int i = cls_find(cls);
	int r = i >= 0 && cls_slots[i].name && cls_slots[i].instrumented;
	pthread_mutex_unlock(&reg_lock);
	return r;
}

int registry__classes(void)
{
	pthread_mutex_lock(&reg_lock);
	int n = ninstrumented;
	pthread_mutex_unlock(&reg_lock);
	return n;
}
