// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf_bench: map+unmap cycles of one attachment, timed in the kernel by
 * the importer's debugfs map_cycles: one size (measure a), the size sweep
 * (measure b)
 * and the slab growth per cycle (measure d). Any dma-buf fd will do, so the
 * same code measures every exporter.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define P2PBUF_NO_HARNESS
#include "importer_lib.h"
#include "bench.h"

/* Cycles run before any timing is kept. */
#define BENCH_WARMUP	8U

/* The debugfs benchmark takes at most this many cycles per write. */
#define BENCH_MAX_CYCLES	65536U

/*
 * Run @n cycles (any number) of @dmabuf through the importer's debugfs
 * map_cycles, in writes of at most BENCH_MAX_CYCLES; times into @map_ns and
 * @unmap_ns when not NULL.
 */
static int bench_run_cycles(struct bench_ctx *c, int dmabuf, unsigned int n,
			    unsigned long long *map_ns,
			    unsigned long long *unmap_ns, __u32 *map_type)
{
	unsigned int done = 0, chunk, type = 0;
	int ret;

	while (done < n) {
		chunk = n - done;
		if (chunk > BENCH_MAX_CYCLES)
			chunk = BENCH_MAX_CYCLES;
		ret = imp_map_cycles(c->imp_bdf, dmabuf, chunk,
				     map_ns ? map_ns + done : NULL,
				     unmap_ns ? unmap_ns + done : NULL,
				     &type, NULL);
		if (ret)
			return ret;
		if (!done && map_type)
			*map_type = type;
		done += chunk;
	}
	return 0;
}

/*
 * Warm up, run @n timed cycles of @dmabuf and summarise them. Any of the
 * outputs may be NULL. Returns 0 or -errno.
 */
int bench_cycles(struct bench_ctx *c, int dmabuf, unsigned int n,
		 struct bench_stats *map, struct bench_stats *unmap,
		 struct bench_stats *cycle, __u32 *map_type)
{
	unsigned long long *m, *u;
	double *v;
	unsigned int i;
	int ret;

	m = calloc(n, sizeof(*m));
	u = calloc(n, sizeof(*u));
	v = calloc(n, sizeof(*v));
	if (!m || !u || !v) {
		ret = -ENOMEM;
		goto out;
	}
	ret = bench_run_cycles(c, dmabuf, BENCH_WARMUP, NULL, NULL, NULL);
	if (!ret)
		ret = bench_run_cycles(c, dmabuf, n, m, u, map_type);
	if (ret)
		goto out;
	if (map) {
		for (i = 0; i < n; i++)
			v[i] = m[i];
		bench_stats(map, v, n);
	}
	if (unmap) {
		for (i = 0; i < n; i++)
			v[i] = u[i];
		bench_stats(unmap, v, n);
	}
	if (cycle) {
		for (i = 0; i < n; i++)
			v[i] = m[i] + u[i];
		bench_stats(cycle, v, n);
	}
out:
	free(m);
	free(u);
	free(v);
	return ret;
}

/* Measure (a): one exporter's map+unmap cycle of one buffer. */
void bench_map_one(struct bench_ctx *c, const char *key, int dmabuf)
{
	bench_map_n(c, key, dmabuf, c->cfg.cycles);
}

/* @cycles map+unmap cycles of one buffer, as (a) and (f) report them. */
void bench_map_n(struct bench_ctx *c, const char *key, int dmabuf,
		 unsigned int cycles)
{
	struct bench_stats map, unmap, cycle;
	unsigned long long t0, t1;
	__u32 type = 0;
	int ret;

	fprintf(stderr, "bench: %s: %u map+unmap cycles\n", key, cycles);
	json_open(c, key, '{');
	json_int(c, "size", c->cfg.buf_size);
	t0 = bench_now_ns();
	ret = bench_cycles(c, dmabuf, cycles, &map, &unmap, &cycle, &type);
	t1 = bench_now_ns();
	if (ret) {
		json_error(c, strerror(-ret));
	} else {
		json_str(c, "map_type", imp_map_type_name(type));
		json_stats(c, "map_ns", &map);
		json_stats(c, "unmap_ns", &unmap);
		json_stats(c, "cycle_ns", &cycle);
		/* Syscall and loop overhead included, for comparison. */
		json_num(c, "wall_ns_per_cycle",
			 (double)(t1 - t0) / (cycles + BENCH_WARMUP));
	}
	json_close(c, '}');
}

/*
 * How many cycles fit @ms for a buffer whose cycle takes about @ns: at
 * least 11 (a median and a spread), at most 2000.
 */
static unsigned int bench_budget(unsigned int ms, double ns)
{
	double n = ns > 0 ? ms * 1e6 / ns : 2000;

	if (n < 11)
		return 11;
	return n > 2000 ? 2000 : (unsigned int)n;
}

/* Measure (b): map cost against size, 4 KiB to max_size by powers of 4. */
void bench_sweep(struct bench_ctx *c, const char *key, bench_make_buf make,
		 void *priv)
{
	struct bench_stats map, unmap, cycle;
	unsigned long long size;
	unsigned int n;
	__u32 type = 0;
	int buf, ret;

	json_open(c, key, '[');
	for (size = 4096; size <= c->cfg.max_size; size *= 4) {
		json_open(c, NULL, '{');
		json_int(c, "size", size);
		buf = make(c, size, priv);
		if (buf < 0) {
			json_error(c, strerror(-buf));
			json_close(c, '}');
			continue;
		}
		/* A short probe sizes the run to the time budget. */
		ret = bench_cycles(c, buf, 3, NULL, NULL, &cycle, NULL);
		n = bench_budget(c->cfg.point_ms, cycle.p50);
		if (!ret)
			ret = bench_cycles(c, buf, n, &map, &unmap, &cycle,
					   &type);
		close(buf);
		if (ret) {
			json_error(c, strerror(-ret));
		} else {
			json_str(c, "map_type", imp_map_type_name(type));
			json_stats(c, "map_ns", &map);
			json_stats(c, "unmap_ns", &unmap);
			json_stats(c, "cycle_ns", &cycle);
		}
		json_close(c, '}');
		fprintf(stderr, "bench: %s %llu KiB: %s\n", key, size >> 10,
			ret ? strerror(-ret) : "done");
	}
	json_close(c, ']');
}

/*
 * Measure (d): kernel memory before and after slab_cycles map+unmap cycles
 * of one import, after a warm-up that fills the caches the cycle uses.
 */
void bench_slab_cycles(struct bench_ctx *c, const char *key, int dmabuf)
{
	struct bench_slab *a, *b;
	int ret;

	fprintf(stderr, "bench: %s: slab before/after %u cycles\n", key,
		c->cfg.slab_cycles);
	json_open(c, key, '{');
	a = calloc(1, sizeof(*a));
	b = calloc(1, sizeof(*b));
	ret = a && b ? 0 : -ENOMEM;
	if (!ret)
		ret = bench_run_cycles(c, dmabuf, 100, NULL, NULL, NULL);
	if (!ret)
		ret = bench_slab_read(a) ? -errno : 0;
	if (!ret)
		ret = bench_run_cycles(c, dmabuf, c->cfg.slab_cycles, NULL,
				       NULL, NULL);
	if (!ret)
		ret = bench_slab_read(b) ? -errno : 0;
	if (ret)
		json_error(c, strerror(-ret));
	else
		json_slab_delta(c, a, b, c->cfg.slab_cycles);
	json_close(c, '}');
	free(a);
	free(b);
}

int bench_make_udmabuf(struct bench_ctx *c, unsigned long long size,
		       void *priv)
{
	int memfd, buf;

	buf = imp_udmabuf(size, &memfd);
	if (buf >= 0)
		close(memfd);	/* the udmabuf holds the pages */
	return buf;
}

int bench_make_heap(struct bench_ctx *c, unsigned long long size, void *priv)
{
	return imp_heap_buf(size);
}
