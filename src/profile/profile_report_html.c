/* report.html: one self-contained page (inline CSS, charts as inline SVG,
 * no script, nothing fetched) drawn from the report's JSON document. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/jsonv.h"
#include "profile/profile.h"

#define W  640 /* chart size in px */
#define H  240
#define ML 56 /* margins */
#define MR 16
#define MT 24
#define MB 36

static const char *palette[] = {"#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b7791f", "#c53030"};

struct line {
	const double *x, *y;
	size_t n;
	const char *color;
	const char *label;
	bool dots;   /* points only, as measured values */
	bool dashed; /* a bound or a prediction */
};

static void esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

/* A round step for about 5 ticks over [0, max]. */
static double nice_step(double max)
{
	double raw = max / 5, mag = pow(10, floor(log10(raw)));
	double r = raw / mag;

	return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
}

/* A line chart with axes from 0; vx marks a vertical line (NaN: none) and
 * [shade0, shade1] a shaded x range (equal: none). */
static void chart(FILE *f, const char *title, const char *xl, const char *yl,
		  const struct line *lines, size_t nl, double vx, const char *vlabel, double shade0,
		  double shade1)
{
	double xmax = 0, ymax = 0, sx, sy, step;

	for (size_t i = 0; i < nl; i++)
		for (size_t j = 0; j < lines[i].n; j++) {
			if (lines[i].x[j] > xmax)
				xmax = lines[i].x[j];
			if (isfinite(lines[i].y[j]) && lines[i].y[j] > ymax)
				ymax = lines[i].y[j];
		}
	xmax = xmax > 0 ? xmax : 1;
	ymax = ymax > 0 ? ymax * 1.1 : 1;
	sx = (W - ML - MR) / xmax;
	sy = (H - MT - MB) / ymax;
	fprintf(f, "<figure><figcaption>");
	esc(f, title);
	fprintf(f,
		"</figcaption><svg viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
		"role=\"img\">\n",
		W, H, W, H);
	if (shade1 > shade0)
		fprintf(
		    f,
		    "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#edf2f7\"/>\n",
		    ML + shade0 * sx, MT, (shade1 - shade0) * sx, H - MT - MB);
	step = nice_step(ymax);
	for (double v = 0; v <= ymax + 1e-9; v += step)
		fprintf(f,
			"<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e2e8f0\"/>"
			"<text x=\"%d\" y=\"%.1f\" class=\"t\" text-anchor=\"end\">%g</text>\n",
			ML, W - MR, H - MB - v * sy, H - MB - v * sy, ML - 4, H - MB - v * sy + 4,
			v);
	step = nice_step(xmax);
	for (double v = 0; v <= xmax + 1e-9; v += step)
		fprintf(f,
			"<text x=\"%.1f\" y=\"%d\" class=\"t\" text-anchor=\"middle\">%g</text>\n",
			ML + v * sx, H - MB + 14, v);
	fprintf(f,
		"<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#4a5568\"/>"
		"<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#4a5568\"/>\n",
		ML, W - MR, H - MB, H - MB, ML, ML, MT, H - MB);
	fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"t\" text-anchor=\"middle\">", (W + ML) / 2,
		H - 4);
	esc(f, xl);
	fprintf(f,
		"</text><text x=\"12\" y=\"%d\" class=\"t\" transform=\"rotate(-90 12 %d)\" "
		"text-anchor=\"middle\">",
		(H - MB + MT) / 2, (H - MB + MT) / 2);
	esc(f, yl);
	fprintf(f, "</text>\n");
	for (size_t i = 0; i < nl; i++) {
		const struct line *l = &lines[i];

		if (l->dots) {
			for (size_t j = 0; j < l->n; j++)
				fprintf(f,
					"<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>\n",
					ML + l->x[j] * sx, H - MB - l->y[j] * sy, l->color);
		} else if (l->n) {
			fprintf(
			    f,
			    "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"",
			    l->color, l->dashed ? " stroke-dasharray=\"6 4\"" : "");
			for (size_t j = 0; j < l->n; j++)
				if (isfinite(l->y[j]))
					fprintf(f, "%.1f,%.1f ", ML + l->x[j] * sx,
						H - MB - (l->y[j] < ymax ? l->y[j] : ymax) * sy);
			fprintf(f, "\"/>\n");
		}
		fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"t\" fill=\"%s\">",
			ML + 8 + (int)i * 150, MT - 8, l->color);
		esc(f, l->label);
		fprintf(f, "</text>\n");
	}
	if (isfinite(vx)) {
		fprintf(f,
			"<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#c53030\" "
			"stroke-dasharray=\"4 3\"/><text x=\"%.1f\" y=\"%d\" class=\"t\" "
			"fill=\"#c53030\">",
			ML + vx * sx, ML + vx * sx, MT, H - MB, ML + vx * sx + 4, MT + 12);
		esc(f, vlabel);
		fprintf(f, "</text>\n");
	}
	fprintf(f, "</svg></figure>\n");
}

/* Horizontal bars: one per label. */
static void bars(FILE *f, const char *title, const char *unit, char **labels, const double *v,
		 size_t n)
{
	double max = 0;
	int bh = 22, h = MT + (int)n * bh + 8;

	for (size_t i = 0; i < n; i++)
		if (v[i] > max)
			max = v[i];
	max = max > 0 ? max : 1;
	fprintf(f, "<figure><figcaption>");
	esc(f, title);
	fprintf(
	    f, "</figcaption><svg viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\">\n",
	    W, h, W, h);
	for (size_t i = 0; i < n; i++) {
		double w = v[i] / max * (W - 260 - 90);

		fprintf(f, "<text x=\"250\" y=\"%d\" class=\"t\" text-anchor=\"end\">",
			MT + (int)i * bh + 14);
		esc(f, labels[i]);
		fprintf(f,
			"</text><rect x=\"260\" y=\"%d\" width=\"%.1f\" height=\"16\" fill=\"%s\"/>"
			"<text x=\"%.1f\" y=\"%d\" class=\"t\">%.3g %s</text>\n",
			MT + (int)i * bh + 2, w, palette[i % 6], 264 + w, MT + (int)i * bh + 14,
			v[i], unit);
	}
	fprintf(f, "</svg></figure>\n");
}

/* Time series of the headline point: throughput and response time, the
 * steady-state point marked and the measurement window shaded. */
static void series_charts(FILE *f, json_object *pt)
{
	json_object *s = jv_member(pt, "series");
	size_t n = s ? json_object_array_length(s) : 0;
	double *t = calloc(n + 1, sizeof(*t)), *x = calloc(n + 1, sizeof(*x));
	double *r = calloc(n + 1, sizeof(*r)), *p99 = calloc(n + 1, sizeof(*p99));
	json_object *ss = jv_member(pt, "steady_state");
	double at = jv_member(ss, "at_s") ? jv_num(ss, "at_s") : NAN;

	if (t && x && r && p99) {
		for (size_t i = 0; i < n; i++) {
			json_object *e = json_object_array_get_idx(s, i);

			t[i] = jv_num(e, "t_s");
			x[i] = jv_num(e, "rps");
			r[i] = jv_num(e, "mean_ms");
			p99[i] = jv_num(e, "p99_ms");
		}
		struct line lx = {t, x, n, palette[0], "requests/s", false, false};
		struct line lr[2] = {{t, r, n, palette[1], "mean ms", false, false},
				     {t, p99, n, palette[3], "p99 ms", false, true}};

		chart(f, "Throughput over time (shaded: measurement window)", "seconds",
		      "requests/s", &lx, 1, at, "steady", jv_num(pt, "measure_from_s"),
		      jv_num(pt, "measure_to_s"));
		chart(f, "Response time over time", "seconds", "ms", lr, 2, at, "steady",
		      jv_num(pt, "measure_from_s"), jv_num(pt, "measure_to_s"));
	}
	free(t);
	free(x);
	free(r);
	free(p99);
}

static void node_charts(FILE *f, json_object *pt)
{
	json_object *nodes = jv_member(pt, "nodes");
	size_t n = nodes ? json_object_array_length(nodes) : 0;
	char **labels = calloc(n + 1, sizeof(*labels));
	double *u = calloc(n + 1, sizeof(*u)), *d = calloc(n + 1, sizeof(*d));

	if (labels && u && d && n) {
		for (size_t i = 0; i < n; i++) {
			json_object *e = json_object_array_get_idx(nodes, i);

			if (asprintf(&labels[i], "%s: %s", jv_str(e, "node"),
				     jv_str(e, "process")) < 0)
				labels[i] = NULL;
			u[i] = jv_num(e, "utilization") * 100;
			d[i] = jv_num(e, "demand_ms");
		}
		bars(f, "Utilization per node and process (% of one CPU)", "%", labels, u, n);
		bars(f, "Service demand D = U / X (CPU ms per transaction)", "ms", labels, d, n);
	}
	for (size_t i = 0; labels && i < n; i++)
		free(labels[i]);
	free(labels);
	free(u);
	free(d);
}

/* The JVM agents' per-method figures of every Java process. */
static void component_tables(FILE *f, json_object *pt)
{
	json_object *nodes = jv_member(pt, "nodes");

	for (size_t i = 0; nodes && i < json_object_array_length(nodes); i++) {
		json_object *n = json_object_array_get_idx(nodes, i);
		json_object *c = jv_member(n, "components"), *m = jv_member(c, "methods");

		if (!m)
			continue;
		fprintf(f, "<figure><figcaption>Components of ");
		esc(f, jv_str(n, "node"));
		fprintf(f, ": ");
		esc(f, jv_str(n, "process"));
		fprintf(f,
			" (JVM agent)</figcaption><table><tr><th>method</th><th>calls per "
			"transaction</th><th>mean ms</th><th>ms per transaction</th><th>max ms</th>"
			"<th>calls</th></tr>\n");
		for (size_t k = 0; k < json_object_array_length(m); k++) {
			json_object *e = json_object_array_get_idx(m, k);

			fprintf(f, "<tr><td>");
			esc(f, jv_str(e, "class"));
			fprintf(f, ".");
			esc(f, jv_str(e, "method"));
			fprintf(f,
				"</td><td>%.2f</td><td>%.3f</td><td>%.3f</td><td>%.3f</"
				"td><td>%.0f</td></tr>\n",
				jv_num(e, "calls_per_transaction"), jv_num(e, "mean_ms"),
				jv_num(e, "demand_ms"), jv_num(e, "max_ms"), jv_num(e, "calls"));
		}
		fprintf(f,
			"</table><p>Garbage collection in the window: %.0f pauses, %.2f ms in all, "
			"%.3f ms per transaction.</p></figure>\n",
			jv_num(jv_member(c, "gc"), "count"), jv_num(jv_member(c, "gc"), "total_ms"),
			jv_num(jv_member(c, "gc"), "per_transaction_ms"));
	}
}

static void breakdown(FILE *f, json_object *b)
{
	json_object *tiers = jv_member(b, "tiers"), *flows = jv_member(b, "flows");
	size_t n = tiers ? json_object_array_length(tiers) : 0;
	char **labels = calloc(n + 1, sizeof(*labels));
	double *v = calloc(n + 1, sizeof(*v));

	if (!b) {
		fprintf(f,
			"<p class=\"note\">No per-tier breakdown: it comes from weft's "
			"trajectories, so it needs a server (<code>--server</code>) whose sensors "
			"see the tiers.</p>\n");
		goto cleanup;
	}
	if (labels && v && n) {
		for (size_t i = 0; i < n; i++) {
			json_object *e = json_object_array_get_idx(tiers, i);

			labels[i] = (char *)jv_str(e, "tier");
			v[i] = jv_num(e, "self_ms");
		}
		bars(f, "Per-tier time per transaction (own time, calls downstream excluded)", "ms",
		     labels, v, n);
	}
	fprintf(f, "<table><tr><th>from</th><th>to</th><th>calls per transaction</th>"
		   "<th>mean ms</th></tr>\n");
	for (size_t i = 0; flows && i < json_object_array_length(flows); i++) {
		json_object *e = json_object_array_get_idx(flows, i);

		fprintf(f, "<tr><td>");
		esc(f, jv_str(e, "from"));
		fprintf(f, "</td><td>");
		esc(f, jv_str(e, "to"));
		fprintf(f, "</td><td>%.2f</td><td>%.2f</td></tr>\n", jv_num(e, "per_transaction"),
			jv_num(e, "mean_ms"));
	}
	fprintf(f,
		"</table><p class=\"note\">From %d trajectories of the measurement window.</p>\n",
		(int)jv_num(b, "trajectories"));
cleanup:
	free(labels);
	free(v);
}

static void model_charts(FILE *f, json_object *m)
{
	json_object *curve = jv_member(m, "curve"), *meas = jv_member(m, "measured");
	size_t n = curve ? json_object_array_length(curve) : 0;
	size_t k = meas ? json_object_array_length(meas) : 0;
	double *cn = calloc(n + 1, sizeof(*cn)), *cx = calloc(n + 1, sizeof(*cx));
	double *cr = calloc(n + 1, sizeof(*cr)), *mn = calloc(k + 1, sizeof(*mn));
	double *mx = calloc(k + 1, sizeof(*mx)), *mr = calloc(k + 1, sizeof(*mr));
	double bx[2], by[2];

	if (!curve) {
		fprintf(f, "<p class=\"note\">");
		esc(f, jv_str(m, "note"));
		fprintf(f, "</p>\n");
		goto cleanup;
	}
	if (!cn || !cx || !cr || !mn || !mx || !mr)
		goto cleanup;
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(curve, i);

		cn[i] = jv_num(e, "users");
		cx[i] = jv_num(e, "throughput");
		cr[i] = jv_num(e, "response_ms");
	}
	for (size_t i = 0; i < k; i++) {
		json_object *e = json_object_array_get_idx(meas, i);

		mn[i] = jv_num(e, "users");
		mx[i] = jv_num(e, "measured_throughput");
		mr[i] = jv_num(e, "measured_response_ms");
	}
	bx[0] = 0;
	bx[1] = n ? cn[n - 1] : 1;
	by[0] = by[1] = jv_num(m, "x_max");
	{
		struct line lx[3] = {{cn, cx, n, palette[0], "predicted (MVA)", false, false},
				     {bx, by, 2, palette[5], "bound 1/Dmax", false, true},
				     {mn, mx, k, palette[1], "measured", true, false}};
		struct line lr[2] = {{cn, cr, n, palette[0], "predicted (MVA)", false, false},
				     {mn, mr, k, palette[1], "measured", true, false}};

		chart(f, "Capacity: throughput against users", "users", "transactions/s", lx, 3,
		      jv_num(m, "n_star"), "N*", 0, 0);
		chart(f, "Capacity: response time against users", "users", "ms", lr, 2,
		      jv_num(m, "n_star"), "N*", 0, 0);
	}
	fprintf(f, "<p>Bottleneck: <b>");
	esc(f, jv_str(m, "bottleneck"));
	fprintf(f,
		"</b>; throughput bound %.1f/s; knee N* = %.1f users; total demand %.2f ms; "
		"delay outside the profiled CPUs %.2f ms (calibrated at the smallest population); "
		"think time %.0f ms. ",
		jv_num(m, "x_max"), jv_num(m, "n_star"), jv_num(m, "d_total_ms"),
		jv_num(m, "delay_ms"), jv_num(m, "think_s") * 1e3);
	esc(f, jv_str(m, "method"));
	fprintf(f, ".</p>\n<table><tr><th>users</th><th>measured X/s</th><th>predicted X/s</th>"
		   "<th>error</th><th>measured R ms</th><th>predicted R ms</th></tr>\n");
	for (size_t i = 0; i < k; i++) {
		json_object *e = json_object_array_get_idx(meas, i);

		fprintf(f,
			"<tr><td>%d</td><td>%.2f</td><td>%.2f</td><td>%+.1f%%</td><td>%.2f</td>"
			"<td>%.2f</td></tr>\n",
			(int)jv_num(e, "users"), jv_num(e, "measured_throughput"),
			jv_num(e, "predicted_throughput"), jv_num(e, "error_pct"),
			jv_num(e, "measured_response_ms"), jv_num(e, "predicted_response_ms"));
	}
	fprintf(f, "</table>\n");
cleanup:
	free(cn);
	free(cx);
	free(cr);
	free(mn);
	free(mx);
	free(mr);
}

static json_object *headline_point(json_object *tr)
{
	return profile_headline_point(jv_member(tr, "points"));
}

int profile_write_html(json_object *report, const char *path)
{
	json_object *list = jv_member(report, "transactions");
	FILE *f = fopen(path, "we");
	char when[64];
	time_t now = time(NULL);

	if (!f)
		return -1;
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", localtime(&now));
	fprintf(
	    f,
	    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<title>weft profile</title><style>"
	    "body{font:14px system-ui,sans-serif;margin:24px auto;max-width:980px;color:#1a202c}"
	    "table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #cbd5e0;"
	    "padding:3px 8px;text-align:right}th{background:#edf2f7}td:first-child{text-align:left}"
	    "figure{margin:12px 0}figcaption{font-weight:600;margin-bottom:4px}"
	    ".t{font-size:11px;fill:#4a5568}.note{color:#744210;background:#fffff0;padding:6px}"
	    "h2{border-bottom:2px solid #2b6cb0;padding-bottom:4px;margin-top:36px}"
	    "</style></head><body>\n<h1>weft profile</h1>\n<p>Specification <code>");
	esc(f, jv_str(report, "spec"));
	fprintf(f, "</code>, %s mode, think time %.0f ms; written %s.</p>\n",
		jv_str(report, "mode"), jv_num(report, "think_ms"), when);
	fprintf(f, "<table><tr><th>transaction</th><th>users</th><th>steady at</th>"
		   "<th>X /s</th><th>mean ms</th><th>p50</th><th>p90</th><th>p99</th></tr>\n");
	for (size_t i = 0; list && i < json_object_array_length(list); i++) {
		json_object *tr = json_object_array_get_idx(list, i), *pt = headline_point(tr);
		json_object *rt = jv_member(pt, "response_ms"), *ss = jv_member(pt, "steady_state");

		fprintf(f, "<tr><td>");
		esc(f, jv_str(tr, "name"));
		if (jv_member(ss, "at_s"))
			fprintf(f, "</td><td>%d</td><td>%.0f s</td>", (int)jv_num(pt, "users"),
				jv_num(ss, "at_s"));
		else
			fprintf(f, "</td><td>%d</td><td>never</td>", (int)jv_num(pt, "users"));
		fprintf(f,
			"<td>%.2f</td><td>%.2f</td><td>%.2f</td><td>%.2f</td><td>%.2f</td></tr>\n",
			jv_num(pt, "throughput"), jv_num(rt, "mean"), jv_num(rt, "p50"),
			jv_num(rt, "p90"), jv_num(rt, "p99"));
	}
	fprintf(f, "</table>\n");
	for (size_t i = 0; list && i < json_object_array_length(list); i++) {
		json_object *tr = json_object_array_get_idx(list, i), *pt = headline_point(tr);

		fprintf(f, "<h2>");
		esc(f, jv_str(tr, "name"));
		fprintf(f, "</h2>\n");
		if (*jv_str(pt, "note")) {
			fprintf(f, "<p class=\"note\">");
			esc(f, jv_str(pt, "note"));
			fprintf(f, "</p>\n");
		}
		series_charts(f, pt);
		node_charts(f, pt);
		component_tables(f, pt);
		breakdown(f, jv_member(pt, "breakdown"));
		model_charts(f, jv_member(tr, "model"));
	}
	fprintf(f, "</body></html>\n");
	return ferror(f) | fclose(f) ? -1 : 0;
}
