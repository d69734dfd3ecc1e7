// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf_bench, measure (i): where a map+unmap cycle spends its time, from
 * the function_graph tracer (the stock kernel has no function profiler),
 * started at the exporters' map_dma_buf and unmap_dma_buf callbacks
 * (set_graph_function), PROF_DEPTH calls deep (max_graph_depth).
 * P2PBUF_BENCH_PROFILE_CYCLES (PROF_CYCLES) cycles of one buffer through
 * the importer's debugfs map_cycles, for p2pbuf_exporter, then vfio-pci on
 * the same BAR (rebound as (f) does), aggregated per call path: calls per
 * cycle, mean and median duration, share of the parent's time. The tracer
 * adds its cost to every traced call: read shares and counts, not times.
 * p2pbuf_exporter's path for several ranges is profiled too: one buffer of
 * PROF_RANGES ranges against one range of the same size.
 *
 * The run's last phase: while function_graph is on, every function of the
 * kernel goes through ftrace. It is switched on once and off once per run
 * (each switch patches the kernel's text, see bench_trace_start()), and
 * every tracefs setting changed is restored.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define P2PBUF_NO_HARNESS
#include "importer_lib.h"
#include "bench.h"
#include "bench_graph.h"

#define PROF_CYCLES	300U
/*
 * Depth 0 is the callback: three levels of children below vfio-pci's.
 * p2pbuf's reach the same helpers one call deeper (p2pbuf_exp_sgt_map(),
 * p2pbuf_exp_sgt_unmap()) and get one level more, so that both helpers'
 * subtrees, and the tracer's cost in them, are the same.
 */
#define PROF_DEPTH	4
#define PROF_BUF_KB	"8192"
/* The multi-range buffer of (g) that the profile follows. */
#define PROF_RANGES	16U
/* Paths called in fewer than 1 of PROF_RARE cycles are counted only. */
#define PROF_RARE	10

/* The exporters' map_dma_buf and unmap_dma_buf: p2pbuf's, vfio-pci's. */
static const char * const prof_fns[2][2] = {
	{ "p2pbuf_exp_map", "p2pbuf_exp_unmap" },
	{ "vfio_pci_dma_buf_map", "vfio_pci_dma_buf_unmap" },
};

/* A tracefs file this phase sets, and what it held before. */
struct prof_setting {
	const char *file;	/* under IMP_TRACEFS */
	const char *val;
	bool required;
	char old[64];
	bool saved;
};

static struct prof_setting prof_settings[] = {
	{ .file = "options/record-cmd", .val = "0" },
	{ .file = "options/record-tgid", .val = "0" },
	{ .file = "options/funcgraph-overhead", .val = "0" },
	{ .file = "options/funcgraph-irqs", .val = "0" },
	{ .file = "options/funcgraph-proc", .val = "0" },
	{ .file = "options/funcgraph-abstime", .val = "0" },
	{ .file = "options/funcgraph-retval", .val = "0" },
	{ .file = "options/funcgraph-args", .val = "0" },
	{ .file = "options/funcgraph-duration", .val = "1", .required = true },
	{ .file = "options/funcgraph-tail", .val = "1" },
	{ .file = "max_graph_depth", .val = "4", .required = true },
	{ .file = "buffer_size_kb", .val = PROF_BUF_KB, .required = true },
	{ .file = "tracing_on", .val = "1", .required = true },
};

/* Open tracefs @file; an fd or -errno. */
static int prof_open(const char *file, int flags)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), IMP_TRACEFS "/%s", file);
	fd = open(path, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* tracefs @file into @buf, only its first line if @line; 0 or -errno. */
static int prof_read(const char *file, char *buf, size_t len, bool line)
{
	int fd = prof_open(file, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return fd;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (line)
		buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/*
 * Write @val to tracefs @file opened with @flags: O_APPEND adds a function
 * to set_graph_function, O_TRUNC empties it. 0 or -errno (-EINVAL: not a
 * traceable function).
 */
static int prof_write(const char *file, const char *val, int flags)
{
	int fd = prof_open(file, O_WRONLY | flags), ret = 0;

	if (fd < 0)
		return fd;
	if (*val && write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

#define PROF_GRAPH	"set_graph_function"

/*
 * Save and set every setting; 0, or -errno of a required one.
 * buffer_size_kb may read "N (expanded: M)": M is what to write back.
 */
static int prof_settings_apply(const char **failed)
{
	struct prof_setting *s;
	unsigned int i;
	char *p;
	int ret;

	for (i = 0; i < BENCH_NR(prof_settings); i++) {
		s = &prof_settings[i];
		s->saved = !prof_read(s->file, s->old, sizeof(s->old), true);
		p = strstr(s->old, "expanded: ");
		if (p)
			memmove(s->old, p + 10, strlen(p + 10) + 1);
		if (p || !strcmp(s->file, "buffer_size_kb"))
			s->old[strspn(s->old, "0123456789")] = '\0';
		/* Options a kernel lacks are not required. */
		ret = s->saved ? prof_write(s->file, s->val, 0) : -ENOENT;
		if (ret && s->required) {
			*failed = s->file;
			return ret;
		}
	}
	return 0;
}

static void prof_settings_restore(void)
{
	unsigned int i = BENCH_NR(prof_settings);

	while (i--) {
		if (prof_settings[i].saved && prof_settings[i].old[0])
			prof_write(prof_settings[i].file, prof_settings[i].old,
				   0);
		prof_settings[i].saved = false;
	}
}

/* set_graph_function as it was: "####..." reads when it was empty. */
static void prof_graph_restore(const char *old)
{
	char *copy = strdup(old), *fn, *save;

	prof_write(PROF_GRAPH, "", O_TRUNC);
	if (!copy)
		return;
	for (fn = strtok_r(copy, "\n", &save); fn;
	     fn = strtok_r(NULL, "\n", &save)) {
		fn[strcspn(fn, " ")] = '\0';	/* " [module]" */
		if (fn[0] && fn[0] != '#')
			prof_write(PROF_GRAPH, fn, O_APPEND);
	}
	free(copy);
}

/* Events CPU @cpu's buffer lost since the last clear (its stats). */
static void prof_lost_events(int cpu, long long *overrun, long long *dropped)
{
	char path[PATH_MAX], line[128];
	long long v;
	FILE *f;

	snprintf(path, sizeof(path), IMP_TRACEFS "/per_cpu/cpu%d/stats", cpu);
	f = fopen(path, "re");
	*overrun = f ? 0 : -1;
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "overrun: %lld", &v) == 1 ||
		    sscanf(line, "commit overrun: %lld", &v) == 1)
			*overrun += v;
		else if (sscanf(line, "dropped events: %lld", &v) == 1)
			*dropped += v;
	}
	if (f)
		fclose(f);
}

/* The paths seen in at least 1 of PROF_RARE cycles, in trace order. */
static void prof_json_rows(struct bench_ctx *c, struct prof_agg *a,
			   unsigned int cycles)
{
	unsigned int i, rare = 0;
	double total = 0, parent;
	struct prof_row *r, *q;
	struct bench_stats st;
	char up[PROF_PATH];

	for (i = 0; i < a->nr_rows; i++)
		if (!a->rows[i].depth)
			total += a->rows[i].sum;
	json_open(c, "rows", '[');
	for (i = 0; i < a->nr_rows; i++) {
		r = &a->rows[i];
		if (r->n * PROF_RARE < cycles) {
			rare++;
			continue;
		}
		/* A root's share is of the cycle: every root's time. */
		snprintf(up, sizeof(up), "%.*s",
			 (int)(bench_graph_fn(r->path) - r->path - !!r->depth),
			 r->path);
		q = r->depth ? bench_graph_row(a, up, 0, false) : NULL;
		parent = r->depth ? (q ? q->sum : 0) : total;
		json_open(c, NULL, '{');
		json_str(c, "path", r->path);
		json_str(c, "function", bench_graph_fn(r->path));
		json_int(c, "depth", r->depth);
		if (r->depth)
			json_str(c, "parent", bench_graph_fn(up));
		json_num(c, "calls_per_cycle", (double)r->n / cycles);
		json_num(c, "ns_per_cycle", r->sum / cycles);
		bench_stats(&st, r->ns, r->n);
		json_num(c, "mean_ns", st.mean);
		json_num(c, "p50_ns", st.p50);
		json_num(c, "share", parent > 0 ? r->sum / parent : 0);
		json_close(c, '}');
	}
	json_close(c, ']');
	json_int(c, "rare_paths", rare);
}

/*
 * @n traced cycles of @buf, @depth calls deep, from CPU @cpu's trace, into
 * the open JSON object; @root is the map callback. 0 or -errno (reported).
 */
static int prof_cycles(struct bench_ctx *c, int buf, unsigned int n,
		       int cpu, const char *root, unsigned int depth)
{
	char val[16];
	unsigned long long *m, *u;
	unsigned int i, type = 0, traced = 0;
	long long overrun = 0, dropped = 0;
	struct prof_agg *a;
	struct bench_stats st;
	double *v;
	int ret;

	m = calloc(n, sizeof(*m));
	u = calloc(n, sizeof(*u));
	v = calloc(n, sizeof(*v));
	a = calloc(1, sizeof(*a));
	snprintf(val, sizeof(val), "%u", depth);
	ret = m && u && v && a ? 0 : -ENOMEM;
	if (!ret)
		ret = prof_write("max_graph_depth", val, 0);
	if (!ret)
		ret = imp_map_cycles(c->imp_bdf, buf, 8, NULL, NULL, NULL,
				     NULL);	/* warm-up, untraced */
	if (!ret)
		ret = imp_trace_clear();
	if (!ret)
		ret = imp_map_cycles(c->imp_bdf, buf, n, m, u, &type, NULL);
	if (!ret) {
		prof_lost_events(cpu, &overrun, &dropped);
		ret = bench_graph_parse(a, cpu);
	}
	if (ret) {
		json_error(c, strerror(-ret));
		goto out;
	}
	for (i = 0; i < n; i++)
		v[i] = m[i] + u[i];
	bench_stats(&st, v, n);
	traced = bench_graph_row(a, root, 0, false) ?
		 bench_graph_row(a, root, 0, false)->n : 0;
	json_str(c, "map_type", imp_map_type_name(type));
	json_int(c, "cycles", n);
	json_int(c, "traced_cycles", traced);
	json_int(c, "max_graph_depth", depth);
	json_stats(c, "cycle_ns_traced", &st);
	json_int(c, "overrun", overrun);
	json_int(c, "dropped_events", dropped);
	json_int(c, "lost_lines", a->lost + a->full);
	if (overrun < 0)
		json_str(c, "warning",
			 "per-CPU trace stats unreadable: whether events were lost is unknown");
	else if (overrun || dropped)
		json_str(c, "warning",
			 "the trace buffer overflowed: events were lost, the rows count too few calls");
	if (!traced) {
		ret = -ENODATA;
		json_error(c, "the trace holds no call of the map callback");
	} else {
		prof_json_rows(c, a, n);
	}
out:
	free(m);
	free(u);
	free(v);
	for (i = 0; a && i < a->nr_rows; i++)
		free(a->rows[i].ns);
	free(a);
	return ret;
}

/* @buf (or the -errno of making it) profiled into object @key, then closed. */
static void prof_buf(struct bench_ctx *c, const char *key, int buf,
		     unsigned int n, int cpu, const char *root,
		     unsigned int depth)
{
	json_open(c, key, '{');
	if (buf < 0) {
		json_error(c, strerror(-buf));
	} else {
		prof_cycles(c, buf, n, cpu, root, depth);
		close(buf);
	}
	json_close(c, '}');
}

/*
 * p2pbuf_exporter's cycle of (a); then the path of (g): one buffer of
 * PROF_RANGES ranges (gaps between them, as (g) lays them out) against one
 * range of the same size, with fewer cycles, as every range adds its calls
 * to the trace.
 */
static void prof_p2pbuf(struct bench_ctx *c, unsigned int n, int cpu)
{
	unsigned long long len = c->cfg.ranges_size / PROF_RANGES;
	struct bench_range r[PROF_RANGES];
	unsigned int i, few = n / 4 ?: 1;
	int exp;

	fprintf(stderr, "bench: profile: p2pbuf_exporter, %u cycles\n", n);
	exp = bench_exp_open(c->provider_bdf);
	prof_buf(c, "p2pbuf", exp < 0 ? exp : bench_exp_export(exp, 0, c->cfg.buf_size),
		 n, cpu, prof_fns[0][0], PROF_DEPTH + 1);
	if (exp < 0)
		return;
	for (i = 0; i < PROF_RANGES; i++) {
		r[i].offset = 2 * i * len;
		r[i].length = len;
	}
	fprintf(stderr, "bench: profile: p2pbuf_exporter, %u ranges and one, %u cycles\n",
		PROF_RANGES, few);
	json_int(c, "ranges", PROF_RANGES);
	json_int(c, "ranges_size", c->cfg.ranges_size);
	prof_buf(c, "p2pbuf_one_range",
		 bench_exp_export(exp, 0, c->cfg.ranges_size), few, cpu,
		 prof_fns[0][0], PROF_DEPTH + 1);
	prof_buf(c, "p2pbuf_ranges", bench_exp_export_ranges(exp, r, PROF_RANGES),
		 few, cpu, prof_fns[0][0], PROF_DEPTH + 1);
	close(exp);
}

/* vfio-pci takes the device and gives it back, as bench_rounds.c does. */
static void prof_vfio(struct bench_ctx *c, unsigned int n, int cpu)
{
	struct imp_vfio v;
	char why[128];

	fprintf(stderr, "bench: profile: vfio-pci, %u cycles\n", n);
	if (imp_vfio_open(&v, c->provider_bdf, why, sizeof(why))) {
		json_open(c, "vfio", '{');
		json_error(c, why);
		json_close(c, '}');
	} else {
		prof_buf(c, "vfio", imp_vfio_dmabuf(&v, BENCH_BAR, 0, c->cfg.buf_size),
			 n, cpu, prof_fns[1][0], PROF_DEPTH);
		imp_vfio_release(&v);
	}
	if (p2pbuf_pci_bind(c->provider_bdf, "p2pbuf_exporter")) {
		json_open(c, "rebind", '{');
		json_error(c, "cannot bind the provider to p2pbuf_exporter again");
		json_close(c, '}');
	}
}

/*
 * Every callback into set_graph_function, into @list those that went in
 * (an exporter whose callbacks did not has no call in its trace: an error).
 */
static void prof_graph_set(char *list, size_t len)
{
	unsigned int i;

	for (i = 0; i < 4; i++)
		if (!prof_write(PROF_GRAPH, prof_fns[i / 2][i % 2], O_APPEND))
			snprintf(list + strlen(list), len - strlen(list),
				 "%s%s", list[0] ? " " : "",
				 prof_fns[i / 2][i % 2]);
}

/* Measure (i); the run's last phase. 0 or -EIO if it recorded an error. */
int bench_phase_profile(struct bench_ctx *c)
{
	const char *env = p2pbuf_env("P2PBUF_BENCH_PROFILE_CYCLES");
	char buf[256], tracer[64], list[256] = "", graph[4096];
	unsigned int n, errors = c->errors;
	const char *failed = NULL;
	cpu_set_t cpus, one;
	int cpu, ret;

	n = env ? strtoul(env, NULL, 0) : PROF_CYCLES;
	fprintf(stderr, "bench: profile: function_graph, %u cycles per exporter\n",
		n);
	json_open(c, "profile", '{');
	json_str(c, "tracer", "function_graph");
	env = p2pbuf_env("P2PBUF_BENCH_PROFILE_OFF");
	if (env && *env) {
		/* Said, and shown by the report: not a silent pass. */
		json_str(c, "not_measured", env);
		goto out;
	}
	if (!n || n > 65536) {
		json_error(c, "P2PBUF_BENCH_PROFILE_CYCLES: 1 to 65536");
		goto out;
	}
	if (imp_tracefs_mount() ||
	    prof_read("available_tracers", buf, sizeof(buf), true) ||
	    !strstr(buf, "function_graph")) {
		json_error(c, "no function_graph tracer in tracefs");
		goto out;
	}
	if (prof_read("current_tracer", tracer, sizeof(tracer), true) ||
	    prof_read(PROF_GRAPH, graph, sizeof(graph), false) ||
	    strcmp(tracer, "nop") || strlen(graph) >= sizeof(graph) - 1) {
		/* A graph list that fills @graph may be cut: not restorable. */
		json_error(c, "current_tracer not nop, or set_graph_function too long");
		goto out;
	}
	ret = prof_settings_apply(&failed);
	if (ret) {
		snprintf(buf, sizeof(buf), "cannot set tracefs %s: %s",
			 failed, strerror(-ret));
		json_error(c, buf);
		goto restore;
	}
	/* An empty list would graph every function: never switch on then. */
	prof_write(PROF_GRAPH, "", O_TRUNC);
	prof_graph_set(list, sizeof(list));
	json_str(c, "set_graph_function", list);
	if (!list[0]) {
		json_error(c, "set_graph_function refused every callback");
		goto restore;
	}
	/* One CPU, whose buffer then holds every traced call. */
	cpu = sched_getcpu();
	CPU_ZERO(&one);
	CPU_SET(cpu < 0 ? 0 : cpu, &one);
	if (cpu < 0 || sched_getaffinity(0, sizeof(cpus), &cpus) ||
	    sched_setaffinity(0, sizeof(one), &one)) {
		json_error(c, "cannot stay on one CPU");
		goto restore;
	}
	json_int(c, "cpu", cpu);
	json_int(c, "cycles", n);

	/* On once, for both exporters ... */
	ret = prof_write("current_tracer", "function_graph", 0);
	if (ret) {
		snprintf(buf, sizeof(buf), "cannot switch function_graph on: %s",
			 strerror(-ret));
		json_error(c, buf);
	} else {
		prof_p2pbuf(c, n, cpu);
		prof_vfio(c, n, cpu);
		/* ... and off once. */
		if (prof_write("current_tracer", tracer, 0))
			json_error(c, "cannot switch function_graph off");
		imp_trace_clear();
	}
	sched_setaffinity(0, sizeof(cpus), &cpus);
restore:
	prof_graph_restore(graph);
	prof_settings_restore();
out:
	json_close(c, '}');
	return c->errors != errors ? -EIO : 0;
}
