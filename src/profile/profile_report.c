/* The profile's files: report.json (every figure), report.html (drawn from
 * the same document) and CSV files for spreadsheets and plotting tools. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/jsonv.h"
#include "profile/profile.h"

/* A file-name-safe form of a transaction's name: "Order Status" -> "order-status". */
static void slug(const char *name, char *out, size_t cap)
{
	size_t n = 0;

	for (; *name && n + 1 < cap; name++)
		out[n++] =
		    isalnum((unsigned char)*name) ? (char)tolower((unsigned char)*name) : '-';
	out[n] = '\0';
}

static FILE *open_in(const char *dir, const char *name, char *err, size_t errcap)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "we")))
		snprintf(err, errcap, "cannot write %s: %s", path, strerror(errno));
	return f;
}

static int close_checked(FILE *f, const char *what, char *err, size_t errcap)
{
	if (ferror(f) | fclose(f)) {
		snprintf(err, errcap, "cannot write %s: %s", what, strerror(errno));
		return -EIO;
	}
	return 0;
}

static int write_csvs(json_object *tr, const char *dir, char *err, size_t errcap)
{
	json_object *points = jv_member(tr, "points"),
		    *curve = jv_member(jv_member(tr, "model"), "curve");
	char base[128], name[256];
	FILE *f;

	slug(jv_str(tr, "name"), base, sizeof(base));
	for (size_t i = 0; points && i < json_object_array_length(points); i++) {
		json_object *pt = json_object_array_get_idx(points, i),
			    *series = jv_member(pt, "series");

		snprintf(name, sizeof(name), "%s-u%d-series.csv", base, (int)jv_num(pt, "users"));
		if (!(f = open_in(dir, name, err, errcap)))
			return -EIO;
		fprintf(f, "t_s,rps,mean_ms,p99_ms,errors,phase\n");
		for (size_t j = 0; series && j < json_object_array_length(series); j++) {
			json_object *s = json_object_array_get_idx(series, j);

			fprintf(f, "%.3f,%.3f,%.4f,%.4f,%d,%s\n", jv_num(s, "t_s"),
				jv_num(s, "rps"), jv_num(s, "mean_ms"), jv_num(s, "p99_ms"),
				(int)jv_num(s, "errors"), jv_str(s, "phase"));
		}
		if (close_checked(f, name, err, errcap))
			return -EIO;
	}
	snprintf(name, sizeof(name), "%s-nodes.csv", base);
	if (!(f = open_in(dir, name, err, errcap)))
		return -EIO;
	fprintf(f, "users,throughput,node,process,utilization,demand_ms,cpu_user_s,cpu_system_s,"
		   "rss_kb,read_bytes,write_bytes,net_rx_bytes,net_tx_bytes\n");
	for (size_t i = 0; points && i < json_object_array_length(points); i++) {
		json_object *pt = json_object_array_get_idx(points, i),
			    *nodes = jv_member(pt, "nodes");

		for (size_t j = 0; nodes && j < json_object_array_length(nodes); j++) {
			json_object *n = json_object_array_get_idx(nodes, j);

			fprintf(f, "%d,%.3f,%s,%s,%.5f,%.4f,%.3f,%.3f,%.0f,%.0f,%.0f,%.0f,%.0f\n",
				(int)jv_num(pt, "users"), jv_num(pt, "throughput"),
				jv_str(n, "node"), jv_str(n, "process"), jv_num(n, "utilization"),
				jv_num(n, "demand_ms"), jv_num(n, "cpu_user_s"),
				jv_num(n, "cpu_system_s"), jv_num(n, "rss_kb"),
				jv_num(n, "read_bytes"), jv_num(n, "write_bytes"),
				jv_num(n, "net_rx_bytes"), jv_num(n, "net_tx_bytes"));
		}
	}
	if (close_checked(f, name, err, errcap))
		return -EIO;
	snprintf(name, sizeof(name), "%s-model.csv", base);
	if (!(f = open_in(dir, name, err, errcap)))
		return -EIO;
	fprintf(f, "users,throughput,response_ms\n");
	for (size_t j = 0; curve && j < json_object_array_length(curve); j++) {
		json_object *c = json_object_array_get_idx(curve, j);

		fprintf(f, "%d,%.4f,%.4f\n", (int)jv_num(c, "users"), jv_num(c, "throughput"),
			jv_num(c, "response_ms"));
	}
	return close_checked(f, name, err, errcap);
}

int profile_write_reports(json_object *report, const char *dir, char *err, size_t errcap)
{
	json_object *list = jv_member(report, "transactions");
	char path[1024];
	int ret;

	if (mkdir(dir, 0755) && errno != EEXIST) {
		snprintf(err, errcap, "cannot create %s: %s", dir, strerror(errno));
		return -errno;
	}
	snprintf(path, sizeof(path), "%s/report.json", dir);
	if (json_object_to_file_ext(path, report,
				    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)) {
		snprintf(err, errcap, "cannot write %s: %s", path, json_util_get_last_err());
		return -EIO;
	}
	for (size_t i = 0; list && i < json_object_array_length(list); i++)
		if ((ret = write_csvs(json_object_array_get_idx(list, i), dir, err, errcap)))
			return ret;
	snprintf(path, sizeof(path), "%s/report.html", dir);
	if (profile_write_html(report, path)) {
		snprintf(err, errcap, "cannot write %s: %s", path, strerror(errno));
		return -EIO;
	}
	return 0;
}
