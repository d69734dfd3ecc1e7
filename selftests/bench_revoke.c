// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf_bench, measure (c): revoke latency with M buffers, each imported
 * N times (M x N attachments of the initiator, every one mapped).
 *
 * For each repetition the caller's wall clock spans the trigger (REVOKE,
 * a close), which returns only when no importer maps the buffers any more.
 * The importer's p2pbuf_imp_invalidate tracepoint (docs/tracing.rst) then
 * tells, for every attachment, when its invalidate_mappings callback was
 * entered and how long it ran: "last_cb"
 * is the latest entry relative to the trigger's start, "cb_sum" the time
 * spent in the callbacks altogether. What remains of the wall time is the
 * exporter's and the dma-buf core's (locking, fences, waiting for unmaps).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define P2PBUF_NO_HARNESS
#include "importer_lib.h"
#include "bench.h"

struct bench_revoke_set {
	unsigned int m, n;
	int *bufs;		/* M dma-buf fds */
	__u32 *handles;		/* M x N imports */
	unsigned int mapped;	/* imports whose last MAP succeeded */
	int map_err;		/* the first MAP error, 0 if none */
};

static void bench_set_release(struct bench_ctx *c, struct bench_revoke_set *s)
{
	unsigned int i;

	for (i = 0; i < s->m * s->n; i++)
		if (s->handles[i])
			imp_handle_op(c->imp, P2PBUF_IMP_RELEASE, s->handles[i]);
	for (i = 0; i < s->m; i++)
		if (s->bufs[i] >= 0)
			close(s->bufs[i]);
	memset(s->handles, 0, s->m * s->n * sizeof(*s->handles));
	for (i = 0; i < s->m; i++)
		s->bufs[i] = -1;
	imp_drain_events(c->imp);
}

static void bench_set_map(struct bench_ctx *c, struct bench_revoke_set *s)
{
	struct p2pbuf_imp_map m;
	unsigned int i;
	int ret;

	s->mapped = 0;
	for (i = 0; i < s->m * s->n; i++) {
		ret = imp_map(c->imp, s->handles[i], &m, NULL, 0);
		if (!ret)
			s->mapped++;
		else if (!s->map_err)
			s->map_err = ret;
	}
}

/* Create M buffers, import each N times, map everything. */
static int bench_set_make(struct bench_ctx *c, struct bench_revoke_set *s,
			  const struct bench_revoke_src *src)
{
	unsigned int i, j;
	int ret;

	ret = src->reset ? src->reset(c, src->priv) : 0;
	if (ret)
		return ret;
	for (i = 0; i < s->m; i++) {
		s->bufs[i] = src->make(c, src->priv, i);
		if (s->bufs[i] < 0)
			return s->bufs[i];
		for (j = 0; j < s->n; j++) {
			ret = imp_import(c->imp, s->bufs[i], 0,
					 &s->handles[i * s->n + j], NULL);
			if (ret)
				return ret;
		}
	}
	bench_set_map(c, s);
	return 0;
}

/* One trigger; the wall time and the importer's view of it, in ns. */
static int bench_trigger(struct bench_ctx *c, struct bench_revoke_set *s,
			 const struct bench_revoke_src *src, double *wall,
			 double *last_cb, double *cb_sum, unsigned int *seen)
{
	unsigned long long t0, t1, start, ns;
	char line[1024], dev[80], *p;
	FILE *f;
	int ret;

	imp_drain_events(c->imp);
	/* The event stays on for the whole run: bench_trace_start(). */
	ret = imp_trace_clear();
	if (ret)
		return ret;
	t0 = bench_now_ns();
	ret = src->trigger(c, src->priv);
	t1 = bench_now_ns();
	if (ret)
		return ret;
	*wall = t1 - t0;
	*last_cb = 0;
	*cb_sum = 0;
	*seen = 0;
	/* One pass over the trace: this device's callbacks since t0. */
	f = fopen(IMP_TRACEFS "/trace", "re");
	if (!f)
		return -errno;
	snprintf(dev, sizeof(dev), " dev=%s ", c->imp_bdf);
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, " p2pbuf_imp_invalidate: ") ||
		    !strstr(line, dev))
			continue;
		p = strstr(line, " start_ns=");
		if (!p || sscanf(p, " start_ns=%llu ns=%llu", &start, &ns) != 2 ||
		    start < t0)
			continue;
		(*seen)++;
		*cb_sum += ns;
		if (start - t0 > *last_cb)
			*last_cb = start - t0;
	}
	fclose(f);
	return 0;
}

/* tracefs options the run switches off, and what they were. */
static const char * const bench_trace_opts[] = {
	IMP_TRACEFS "/options/record-cmd",
	IMP_TRACEFS "/options/record-tgid",
};

static char bench_trace_old[BENCH_NR(bench_trace_opts)][4];

/*
 * The importer's invalidate event, on from here to bench_trace_stop().
 * Switching a trace event on or off patches its static key, and while comm
 * recording is on (tracefs' default; tgid recording, off by default, does
 * the same) the first event on and the last one off also patch the
 * scheduler's sched_switch and sched_wakeup sites, which every CPU runs
 * all the time. Done per trigger, that re-patched them hundreds of times
 * a run, and one run of Debian's 7.2.13 under QEMU/TCG with 2 vCPUs died
 * of it ("Oops: int3" in ttwu_do_activate(): a vCPU still ran a
 * breakpoint that the patch had already removed). So both recordings are
 * off for the run and the event is switched once.
 */
int bench_trace_start(struct bench_ctx *c)
{
	unsigned int i;
	ssize_t n;
	int fd, ret;

	if (imp_tracefs_mount())
		return -ENOENT;
	for (i = 0; i < BENCH_NR(bench_trace_opts); i++) {
		bench_trace_old[i][0] = '\0';
		fd = open(bench_trace_opts[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, bench_trace_old[i], sizeof(bench_trace_old[i]) - 1);
		close(fd);
		if (n > 0)
			bench_trace_old[i][n] = '\0';
		p2pbuf_sysfs_write(bench_trace_opts[i], "0");
	}
	ret = imp_trace_event("p2pbuf_imp_invalidate", 1);
	if (ret)
		fprintf(stderr, "bench: error: cannot enable p2pbuf_imp_invalidate: %s\n",
			strerror(-ret));
	return ret;
}

/* The event off, the recording options as they were. */
void bench_trace_stop(struct bench_ctx *c)
{
	unsigned int i;

	imp_trace_event("p2pbuf_imp_invalidate", 0);
	for (i = 0; i < BENCH_NR(bench_trace_opts); i++)
		if (bench_trace_old[i][0])
			p2pbuf_sysfs_write(bench_trace_opts[i], bench_trace_old[i]);
}

/*
 * One M x N point of (c): @reps triggers after a warm-up, into an object
 * named @key (NULL inside an array). Also run by the interleaved rounds.
 */
void bench_revoke_point(struct bench_ctx *c, const char *key, unsigned int m,
			unsigned int n, unsigned int reps,
			const struct bench_revoke_src *src)
{
	unsigned int seen = 0, mapped = 0;
	struct bench_revoke_set s = { .m = m, .n = n };
	double *wall, *last, *sum;
	struct bench_stats st;
	int ret = -ENOMEM, r;

	s.bufs = malloc(m * sizeof(*s.bufs));
	s.handles = calloc(m * n, sizeof(*s.handles));
	wall = calloc(reps, sizeof(double));
	last = calloc(reps, sizeof(double));
	sum = calloc(reps, sizeof(double));
	json_open(c, key, '{');
	json_int(c, "m", m);
	json_int(c, "n", n);
	if (!m || !n || !reps) {
		ret = -EINVAL;
		goto out;
	}
	if (!s.bufs || !s.handles || !wall || !last || !sum)
		goto out;
	for (r = 0; r < (int)m; r++)
		s.bufs[r] = -1;

	/*
	 * Repetition -1 is a warm-up whose times are dropped: under TCG the
	 * first run of a code path pays for translating it.
	 */
	ret = bench_set_make(c, &s, src);
	for (r = -1; !ret && r < (int)reps; r++) {
		mapped = s.mapped;
		ret = bench_trigger(c, &s, src, &wall[r < 0 ? 0 : r],
				    &last[r < 0 ? 0 : r], &sum[r < 0 ? 0 : r],
				    &seen);
		if (ret || r == (int)reps - 1)
			break;
		if (src->keeps_imports) {
			ret = src->restore(c, src->priv);
			if (!ret)
				bench_set_map(c, &s);
		} else {
			bench_set_release(c, &s);
			ret = bench_set_make(c, &s, src);
		}
	}
	/* Leave the source as it was: decode on, buffers not revoked. */
	if (src->keeps_imports) {
		r = src->restore(c, src->priv);
		ret = ret ?: r;
	}
	bench_set_release(c, &s);
out:
	if (ret) {
		json_error(c, strerror(-ret));
	} else {
		json_int(c, "attachments", m * n);
		json_int(c, "mapped", mapped);
		/* Every attachment mapped, or the times compare unlike sets. */
		if (mapped != m * n)
			json_error(c, s.map_err ? strerror(-s.map_err) :
				   "not every attachment was mapped");
		json_int(c, "invalidated", seen);
		bench_stats(&st, wall, reps);
		json_stats(c, "wall_ns", &st);
		bench_stats(&st, last, reps);
		json_stats(c, "last_cb_ns", &st);
		bench_stats(&st, sum, reps);
		json_stats(c, "cb_sum_ns", &st);
	}
	json_close(c, '}');
	fprintf(stderr, "bench: revoke %s %ux%u: %s\n", src->name, m, n,
		ret ? strerror(-ret) :
		mapped != m * n ? "not every attachment mapped" : "done");
	free(s.bufs);
	free(s.handles);
	free(wall);
	free(last);
	free(sum);
}

/* Every M x N of the configured values, for one source and trigger. */
void bench_revoke(struct bench_ctx *c, const char *key,
		  const struct bench_revoke_src *src)
{
	unsigned int i, j;

	json_open(c, key, '[');
	for (i = 0; i < c->cfg.nr_mn; i++)
		for (j = 0; j < c->cfg.nr_mn; j++)
			bench_revoke_point(c, NULL, c->cfg.mn[i], c->cfg.mn[j],
					   c->cfg.revoke_reps, src);
	json_close(c, ']');
}
