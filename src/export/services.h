/* The services the correlator has named, by id, with the short name that
 * exports show for each: what OTLP resources and Prometheus labels are made
 * of. Filled from the correlator's service callback, read when trajectories
 * are counted or queued for export.
 *
 * Threading: one owner (the server's ingest thread). Memory: one entry per
 * service ever named, like the correlator's own table of them. */
#ifndef WEFT_EXPORT_SERVICES_H
#define WEFT_EXPORT_SERVICES_H

#include <stddef.h>
#include <stdint.h>

#include "analysis/trajectory.h"

struct svc_table;

struct svc_entry {
	struct weft_service svc;
	char name[WEFT_EXE_LEN]; /* the executable's basename, or an external
				    service's address */
};

/* NULL with errno set. */
struct svc_table *svc_table__new(void);
void svc_table__free(struct svc_table *t);
/* Adds or replaces the service with svc->id. 0 or -ENOMEM. */
int svc_table__put(struct svc_table *t, const struct weft_service *svc);
/* The entry of id, NULL when unknown; valid until the next put or free. */
const struct svc_entry *svc_table__get(const struct svc_table *t, uint64_t id);

/* The name exports use for a service: the basename of its executable, or
 * its address when it is external; "" when it has neither. */
void svc_short_name(const struct weft_service *svc, char *buf, size_t cap);

#endif
