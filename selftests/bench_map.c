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

/* (h): map_cycles writes of this many cycles, this pause between them. */
#define BENCH_BIG_CHUNK		8U
#define BENCH_BIG_PAUSE_MS	100U

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
		if (c->cycle_chunk && chunk > c->cycle_chunk)
			chunk = c->cycle_chunk;
		/* Before every write: the calls of one point follow each other. */
		if (c->chunk_pause_ms)
			usleep(c->chunk_pause_ms * 1000);
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
	bench_map_size(c, key, dmabuf, c->cfg.buf_size, cycles);
}

/*
 * @cycles map+unmap cycles of @dmabuf, a buffer of @size bytes, into an
 * object named @key (NULL inside an array).
 */
void bench_map_size(struct bench_ctx *c, const char *key, int dmabuf,
		    unsigned long long size, unsigned int cycles)
{
	struct bench_stats map, unmap, cycle;
	unsigned long long t0, t1;
	__u32 type = 0;
	int ret;

	fprintf(stderr, "bench: %s: %u map+unmap cycles of %llu KiB\n",
		key ?: "point", cycles, size >> 10);
	json_open(c, key, '{');
	json_int(c, "size", size);
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
		/*
		 * Syscall and loop overhead included, for comparison; not
		 * where pauses between the writes would count as well.
		 */
		if (!c->chunk_pause_ms)
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

/*
 * One point of (b), (g) or (h): a short probe sizes the run to the time
 * budget, then map_type and the three statistics go into the open object.
 */
static int bench_point(struct bench_ctx *c, int buf)
{
	struct bench_stats map, unmap, cycle;
	__u32 type = 0;
	int ret;

	ret = bench_cycles(c, buf, 3, NULL, NULL, &cycle, NULL);
	if (!ret)
		ret = bench_cycles(c, buf, bench_budget(c->cfg.point_ms, cycle.p50),
				   &map, &unmap, &cycle, &type);
	if (ret)
		return ret;
	json_str(c, "map_type", imp_map_type_name(type));
	json_stats(c, "map_ns", &map);
	json_stats(c, "unmap_ns", &unmap);
	json_stats(c, "cycle_ns", &cycle);
	return 0;
}

/* Say whether making the buffer (@buf < 0) or mapping it failed. */
static void bench_point_error(struct bench_ctx *c, int buf, int ret)
{
	char why[128];

	snprintf(why, sizeof(why), "%s: %s", buf < 0 ? "export" : "map",
		 strerror(-ret));
	json_error(c, why);
}

/*
 * bench_point() of a buffer just made (@buf, or the -errno of making it),
 * which is closed after. A map failing with -EADDRINUSE is recorded as
 * @einuse_why, a known defect, when that is not NULL; any other failure
 * as an error. Returns 0 or -errno.
 */
static int bench_measure(struct bench_ctx *c, int buf, const char *einuse_why)
{
	int ret = buf < 0 ? buf : bench_point(c, buf);

	if (buf >= 0)
		close(buf);
	if (ret == -EADDRINUSE && buf >= 0 && einuse_why)
		json_str(c, "known_defect", einuse_why);
	else if (ret)
		bench_point_error(c, buf, ret);
	return ret;
}

/* Measure (b): map cost against size, 4 KiB to max_size by powers of 4. */
void bench_sweep(struct bench_ctx *c, const char *key, bench_make_buf make,
		 void *priv)
{
	unsigned long long size;
	int ret;

	json_open(c, key, '[');
	for (size = 4096; size <= c->cfg.max_size; size *= 4) {
		json_open(c, NULL, '{');
		json_int(c, "size", size);
		ret = bench_measure(c, make(c, size, priv), NULL);
		json_close(c, '}');
		fprintf(stderr, "bench: %s %llu KiB: %s\n", key, size >> 10,
			ret ? strerror(-ret) : "done");
	}
	json_close(c, ']');
}

static const unsigned int bench_nr_ranges[] = { 1, 16, 256, 1024 };

/*
 * Measure (g): a buffer of cfg.ranges_size bytes made of 1, 16, 256 and
 * 1024 ranges of equal length. Each range is followed by a gap as long as
 * itself, so no two ranges touch and nothing can merge them: the buffers
 * span twice ranges_size of the BAR.
 */
void bench_ranges(struct bench_ctx *c, const char *key,
		  bench_make_ranges make, void *priv, const char *einuse_why)
{
	unsigned int i, k, nr, most = bench_nr_ranges[BENCH_NR(bench_nr_ranges) - 1];
	unsigned long long len;
	struct bench_range *r;
	int ret;

	json_open(c, key, '[');
	r = calloc(most, sizeof(*r));
	for (k = 0; k < BENCH_NR(bench_nr_ranges); k++) {
		nr = bench_nr_ranges[k];
		len = c->cfg.ranges_size / nr;
		json_open(c, NULL, '{');
		json_int(c, "ranges", nr);
		json_int(c, "size", len * nr);
		if (!r) {
			json_error(c, strerror(ENOMEM));
			json_close(c, '}');
			continue;
		}
		if (c->cfg.ranges_size % (4096ULL * most) ||
		    2 * c->cfg.ranges_size > c->bar_size) {
			json_error(c, "ranges_size: not a multiple of 4 MiB or above half the BAR");
			json_close(c, '}');
			continue;
		}
		for (i = 0; i < nr; i++) {
			r[i].offset = 2 * i * len;
			r[i].length = len;
		}
		ret = bench_measure(c, make(c, r, nr, priv),
				    nr > 1 ? einuse_why : NULL);
		json_close(c, '}');
		fprintf(stderr, "bench: %s %u ranges: %s\n", key, nr,
			ret ? strerror(-ret) : "done");
	}
	free(r);
	json_close(c, ']');
}

/*
 * Measure (h): the map cost of one page and of one range above 4 GiB (a
 * length that does not fit a scatterlist entry's 32 bits): cfg.big_size,
 * or the whole BAR; when the BAR has no such range the entry says why.
 */
void bench_big(struct bench_ctx *c, const char *key, bench_make_buf make,
	       void *priv)
{
	unsigned long long big = c->cfg.big_size ?: c->bar_size;
	const unsigned long long sizes[] = { 4096, big };
	unsigned int i;
	int ret;

	json_open(c, key, '[');
	if (big <= 4ULL << 30 || big > c->bar_size) {
		json_open(c, NULL, '{');
		json_str(c, "not_measured",
			 "no range above 4 GiB in the provider BAR (P2PBUF_IVSHMEM_SIZE, P2PBUF_BENCH_BIG_SIZE)");
		json_close(c, '}');
		json_close(c, ']');
		return;
	}
	/*
	 * Unmapping a window does not free its IOVA at once where the IOMMU
	 * invalidates lazily (the default of Debian's kernels): it waits in a
	 * flush queue, drained by a timer (10 ms). A 39-bit domain holds about
	 * sixty 8 GiB windows, so back-to-back cycles ran out of IOVA space
	 * after 59 and every later map failed with -ENOMEM, for either
	 * exporter. Short chunks with a pause between them let the queue
	 * drain; the times are per cycle, in the kernel, so the pause does
	 * not count.
	 */
	c->cycle_chunk = BENCH_BIG_CHUNK;
	c->chunk_pause_ms = BENCH_BIG_PAUSE_MS;
	for (i = 0; i < BENCH_NR(sizes); i++) {
		json_open(c, NULL, '{');
		json_int(c, "size", sizes[i]);
		json_int(c, "cycle_chunk", c->cycle_chunk);
		json_int(c, "chunk_pause_ms", c->chunk_pause_ms);
		ret = bench_measure(c, make(c, sizes[i], priv), NULL);
		json_close(c, '}');
		fprintf(stderr, "bench: %s %llu MiB: %s\n", key, sizes[i] >> 20,
			ret ? strerror(-ret) : "done");
	}
	c->cycle_chunk = 0;
	c->chunk_pause_ms = 0;
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
