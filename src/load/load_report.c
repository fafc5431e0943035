#include "load/load_report.h"

#include <string.h>

void load_report__progress(FILE *f, const struct load_second *s)
{
	char left[32] = "";

	if (s->remaining_s >= 0)
		snprintf(left, sizeof(left), "  %5.0fs left", s->remaining_s);
	fprintf(f, "\r%6.0fs  %10.0f req/s  p99 %9.3f ms  errors %-8llu%s   ", s->elapsed_s, s->rps,
		s->latency.p99_ms, (unsigned long long)s->total_errors, left);
	fflush(f);
}

static void latency_row(FILE *f, const char *name, uint64_t n, uint64_t errors,
			const struct load_latency *l)
{
	fprintf(f, "  %-24.24s %10llu %8llu %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f\n", name,
		(unsigned long long)n, (unsigned long long)errors, l->mean_ms, l->p50_ms, l->p90_ms,
		l->p99_ms, l->p999_ms, l->p9999_ms, l->max_ms);
}

void load_report__table(FILE *f, const struct load_config *cfg, const struct load_result *res)
{
	char name[64];

	fprintf(f, "%s loop, %u threads, %u connections%s, %.2f s\n",
		cfg->rate > 0 ? "open" : "closed", cfg->threads, cfg->connections,
		cfg->keepalive ? "" : " (no keep-alive)", res->duration_s);
	fprintf(f, "  requests %llu  (%.1f/s)   errors %llu   unfinished %llu   read %.1f MiB\n",
		(unsigned long long)res->requests, res->rps, (unsigned long long)res->errors,
		(unsigned long long)res->unfinished, (double)res->bytes_read / 1048576.0);
	if (res->errors) {
		fprintf(f, "  errors:");
		for (int k = 0; k < LOAD_ERR__COUNT; k++)
			if (res->errors_by_kind[k])
				fprintf(f, " %s %llu", load_err_name(k),
					(unsigned long long)res->errors_by_kind[k]);
		fprintf(f, "\n");
	}
	fprintf(f, "\n  %-24s %10s %8s %9s %9s %9s %9s %9s %9s %9s\n", "latency (ms)", "requests",
		"errors", "mean", "p50", "p90", "p99", "p99.9", "p99.99", "max");
	latency_row(f, "all", res->requests, res->errors, &res->latency);
	for (size_t i = 0; res->nuris > 1 && i < res->nuris; i++) {
		const struct load_uri_result *u = &res->per_uri[i];

		snprintf(name, sizeof(name), "%s %s", u->uri->method, u->uri->path);
		latency_row(f, name, u->requests, u->errors, &u->latency);
	}
}
