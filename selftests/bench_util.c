// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf_bench: statistics over samples, the JSON writer, the monotonic
 * clock and the kernel's slab counters.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define P2PBUF_NO_HARNESS
#include "p2pbuf_test.h"
#include "bench.h"

static int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted @v. */
static double bench_pct(const double *v, unsigned int n, unsigned int pct)
{
	unsigned int rank = (pct * n + 99) / 100;

	return v[rank ? rank - 1 : 0];
}

/*
 * min/p10/p50/p90/max, mean, and the median absolute deviation from the
 * median. Sorts @v; reuses it for the deviations.
 */
void bench_stats(struct bench_stats *st, double *v, unsigned int n)
{
	double sum = 0;
	unsigned int i;

	memset(st, 0, sizeof(*st));
	st->n = n;
	if (!n)
		return;
	qsort(v, n, sizeof(*v), bench_cmp);
	for (i = 0; i < n; i++)
		sum += v[i];
	st->min = v[0];
	st->max = v[n - 1];
	st->p10 = bench_pct(v, n, 10);
	st->p50 = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	st->p90 = bench_pct(v, n, 90);
	st->mean = sum / n;
	for (i = 0; i < n; i++)
		v[i] = fabs(v[i] - st->p50);
	qsort(v, n, sizeof(*v), bench_cmp);
	st->mad = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

unsigned long long bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* JSON: keys and strings are ours or kernel names, escaped minimally. */
static void json_key(struct bench_ctx *c, const char *key)
{
	if (!c->json_first[c->json_depth])
		fputc(',', c->json);
	c->json_first[c->json_depth] = false;
	fprintf(c->json, "\n%*s", 2 * c->json_depth, "");
	if (key)
		fprintf(c->json, "\"%s\": ", key);
}

void json_open(struct bench_ctx *c, const char *key, char bracket)
{
	if (c->json_depth >= 0)
		json_key(c, key);
	fputc(bracket, c->json);
	c->json_depth++;
	c->json_first[c->json_depth] = true;
}

void json_close(struct bench_ctx *c, char bracket)
{
	c->json_depth--;
	fprintf(c->json, "\n%*s%c", c->json_depth > 0 ? 2 * c->json_depth : 0,
		"", bracket);
	if (c->json_depth < 0)
		fputc('\n', c->json);
	fflush(c->json);
}

void json_str(struct bench_ctx *c, const char *key, const char *val)
{
	const char *p;

	json_key(c, key);
	fputc('"', c->json);
	for (p = val; *p; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', c->json);
		if ((unsigned char)*p >= ' ')
			fputc(*p, c->json);
	}
	fputc('"', c->json);
}

void json_error(struct bench_ctx *c, const char *msg)
{
	c->errors++;
	json_str(c, "error", msg);
	fprintf(stderr, "bench: error: %s\n", msg);
}

void json_num(struct bench_ctx *c, const char *key, double val)
{
	json_key(c, key);
	if (isfinite(val))
		fprintf(c->json, "%.6g", val);
	else
		fputs("null", c->json);
}

void json_int(struct bench_ctx *c, const char *key, long long val)
{
	json_key(c, key);
	fprintf(c->json, "%lld", val);
}

void json_stats(struct bench_ctx *c, const char *key,
		const struct bench_stats *st)
{
	json_open(c, key, '{');
	json_int(c, "n", st->n);
	json_num(c, "min", st->min);
	json_num(c, "p10", st->p10);
	json_num(c, "p50", st->p50);
	json_num(c, "p90", st->p90);
	json_num(c, "max", st->max);
	json_num(c, "mean", st->mean);
	json_num(c, "mad", st->mad);
	json_close(c, '}');
}

static long long bench_meminfo(const char *line, const char *key)
{
	size_t len = strlen(key);

	if (strncmp(line, key, len) || line[len] != ':')
		return -1;
	return strtoll(line + len + 1, NULL, 10);
}

/*
 * Shrink every slab cache. Besides giving empty slabs back, this empties
 * KASAN's quarantine of the cache (kmem_cache_shrink() calls
 * kasan_cache_shrink()): objects freed during the cycles would otherwise
 * still count as allocated and look like growth.
 */
static void bench_slab_shrink(void)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	d = opendir("/sys/kernel/slab");
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink",
			 de->d_name);
		p2pbuf_sysfs_write(path, "1");
	}
	closedir(d);
}

/*
 * /proc/meminfo's Slab and SUnreclaim, and every cache of /proc/slabinfo,
 * after shrinking the caches.
 */
int bench_slab_read(struct bench_slab *s)
{
	char line[512];
	long long v;
	FILE *f;

	bench_slab_shrink();
	memset(s, 0, sizeof(*s));
	s->slab_kb = -1;
	s->sunreclaim_kb = -1;
	f = fopen("/proc/meminfo", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		v = bench_meminfo(line, "Slab");
		if (v >= 0)
			s->slab_kb = v;
		v = bench_meminfo(line, "SUnreclaim");
		if (v >= 0)
			s->sunreclaim_kb = v;
	}
	fclose(f);

	f = fopen("/proc/slabinfo", "re");
	if (!f)
		return 0;	/* the totals are enough */
	while (fgets(line, sizeof(line), f) &&
	       s->nr_caches < BENCH_NR(s->caches)) {
		struct bench_cache *bc = &s->caches[s->nr_caches];
		long long objs, total, size;
		char name[64];

		if (line[0] == '#' || !strncmp(line, "slabinfo", 8))
			continue;
		if (sscanf(line, "%63s %lld %lld %lld", name, &objs, &total,
			   &size) != 4)
			continue;
		snprintf(bc->name, sizeof(bc->name), "%s", name);
		bc->objs = objs;
		bc->objsize = size;
		s->nr_caches++;
	}
	fclose(f);
	return 0;
}

/*
 * Slab growth between two readings: the totals, per cycle, and the caches
 * whose active objects grew or shrank by at least a tenth of @cycles (what
 * a per-cycle leak or allocation looks like).
 */
void json_slab_delta(struct bench_ctx *c, const struct bench_slab *a,
		     const struct bench_slab *b, unsigned int cycles)
{
	long long d, min = cycles / 10 ? cycles / 10 : 1;
	unsigned int i, j;

	json_int(c, "cycles", cycles);
	json_int(c, "slab_kb_before", a->slab_kb);
	json_int(c, "slab_kb_after", b->slab_kb);
	json_int(c, "sunreclaim_kb_before", a->sunreclaim_kb);
	json_int(c, "sunreclaim_kb_after", b->sunreclaim_kb);
	d = (b->sunreclaim_kb - a->sunreclaim_kb) * 1024;
	json_num(c, "sunreclaim_bytes_per_cycle", (double)d / cycles);
	d = (b->slab_kb - a->slab_kb) * 1024;
	json_num(c, "slab_bytes_per_cycle", (double)d / cycles);
	json_open(c, "caches", '[');
	for (i = 0; i < b->nr_caches; i++) {
		long long before = 0;

		for (j = 0; j < a->nr_caches; j++)
			if (!strcmp(a->caches[j].name, b->caches[i].name))
				before = a->caches[j].objs;
		d = b->caches[i].objs - before;
		if (llabs(d) < min)
			continue;
		json_open(c, NULL, '{');
		json_str(c, "cache", b->caches[i].name);
		json_int(c, "objsize", b->caches[i].objsize);
		json_int(c, "objects_delta", d);
		json_num(c, "objects_per_cycle", (double)d / cycles);
		json_close(c, '}');
	}
	json_close(c, ']');
}
