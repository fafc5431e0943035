/* weft server: sensors in on the ingest port, the correlator in the middle,
 * the store below, the HTTP API (and dashboard) on top. */
#ifndef WEFT_SERVER_H
#define WEFT_SERVER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "export/exporter.h"

struct server_config {
	char ingest_addr[128];
	uint16_t ingest_port;
	char http_addr[128];
	uint16_t http_port;
	const char *db_path;
	const char *web_root; /* dashboard files; NULL: the installed ones if present */
	bool keep_events;
	bool sync_full;
	uint64_t retention_ns;	/* derived data older than this is deleted */
	uint64_t settle_ns;	/* a trajectory is written once quiet this long */
	uint64_t keep_ns;	/* in-memory horizon of the correlator */
	uint64_t max_exchanges; /* the correlator's bound (corr_opts), 0: its default */
	const char *otlp_url;	/* export trajectories to this OTLP/HTTP traces endpoint */
	const char *otlp_headers[EXPORTER_HEADERS_MAX]; /* "Name: value" for each request */
	int notlp_headers;
	uint64_t otlp_queue_spans; /* the export queue's bound, in OTLP spans */
};

void server_config_defaults(struct server_config *cfg);
/* Parses one server option (shared by `weft server` and `weft up`);
 * returns 0, 1 if the key is not a server option, or -EINVAL. */
int server_config_opt(struct server_config *cfg, int key, const char *arg);

/* Runs until *stop becomes nonzero. Returns the exit status. */
int server_run(const struct server_config *cfg, const volatile sig_atomic_t *stop);

#endif
