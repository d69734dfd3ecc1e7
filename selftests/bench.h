/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pbuf_bench: the benchmark behind make bench (docs/bench.rst). Not a
 * test: it measures and reports, it asserts nothing about speed.
 *
 * Files: p2pbuf_bench.c (options, environment, the run order), bench_util.c
 * (statistics, JSON output, clocks, slab counters), bench_map.c (map+unmap
 * cycles, the size sweep, memory per cycle), bench_revoke.c (revoke
 * latency), bench_dma.c (DMA throughput), bench_p2pbuf.c (the p2pbuf
 * exporter, through exporter_lib), bench_vfio.c (vfio-pci's buffers of
 * several ranges and its memory-decode revoke), bench_rounds.c (the
 * interleaved rounds), bench_profile.c and bench_graph.c (the profile).
 * Map and unmap times are taken in the kernel by p2pbuf_importer's debugfs
 * map_cycles; revoke times are the
 * caller's wall clock plus the importer's p2pbuf_imp_invalidate tracepoint
 * (docs/tracing.rst).
 */
#ifndef P2PBUF_BENCH_H
#define P2PBUF_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <linux/types.h>

#define BENCH_NR(a)	(sizeof(a) / sizeof((a)[0]))

/* Knobs, from P2PBUF_BENCH_* in the environment (p2pbuf_bench.c). */
struct bench_cfg {
	unsigned int cycles;		/* (a) map+unmap cycles per exporter */
	unsigned long long buf_size;	/* (a), (c), (d), (e) buffer size */
	unsigned long long max_size;	/* (b) largest size, <= the BAR */
	unsigned int point_ms;		/* (b) time budget per size */
	unsigned int slab_cycles;	/* (d) cycles between slab readings */
	unsigned int mn[8];		/* (c) values of M and of N */
	unsigned int nr_mn;
	unsigned int revoke_reps;	/* (c) repetitions per M x N */
	unsigned int dma_xfers;		/* (e) transfers per direction */
	unsigned int rounds;		/* (f) interleaved rounds */
	unsigned int round_cycles;	/* (f) cycles per exporter and round */
	unsigned int round_m, round_n;	/* (f) the M x N of (c) in each round */
	unsigned int round_reps;	/* (f) triggers of (c) per round */
	unsigned long long ranges_size;	/* (g) bytes of each multi-range buffer */
	unsigned long long big_size;	/* (h) the big range, 0: the whole BAR */
};

/* The provider's BAR that every measurement uses. */
#define BENCH_BAR	2

/* Summary of samples in nanoseconds (or any unit). */
struct bench_stats {
	unsigned int n;
	double min, p10, p50, p90, max, mean, mad;
};

struct bench_ctx {
	struct bench_cfg cfg;
	int imp;			/* /dev/p2pbuf-imp-<initiator> */
	char imp_bdf[64];
	const char *provider_bdf;
	unsigned long long bar_size;	/* provider BAR 2 */
	bool has_engine;
	FILE *json;
	unsigned int errors;		/* measurements that failed */
	/* Cycles per map_cycles write (0: as many as it takes), pause after. */
	unsigned int cycle_chunk;
	unsigned int chunk_pause_ms;
	int json_depth;
	bool json_first[16];
};

/* bench_util.c: statistics */
void bench_stats(struct bench_stats *st, double *v, unsigned int n);
unsigned long long bench_now_ns(void);

/* bench_util.c: JSON writer, one object tree on ctx->json */
void json_open(struct bench_ctx *c, const char *key, char bracket);
void json_close(struct bench_ctx *c, char bracket);
void json_str(struct bench_ctx *c, const char *key, const char *val);
void json_num(struct bench_ctx *c, const char *key, double val);
void json_int(struct bench_ctx *c, const char *key, long long val);
void json_stats(struct bench_ctx *c, const char *key,
		const struct bench_stats *st);
/* "error": @msg, counted in ctx->errors (the exit status). */
void json_error(struct bench_ctx *c, const char *msg);

/* bench_util.c: kernel memory counters */
struct bench_slab {
	long long slab_kb;		/* /proc/meminfo Slab */
	long long sunreclaim_kb;	/* /proc/meminfo SUnreclaim */
	unsigned int nr_caches;
	struct bench_cache {
		char name[64];
		long long objs;		/* active objects */
		long long objsize;
	} caches[512];
};

int bench_slab_read(struct bench_slab *s);
void json_slab_delta(struct bench_ctx *c, const struct bench_slab *a,
		     const struct bench_slab *b, unsigned int cycles);

/* bench_map.c */
int bench_cycles(struct bench_ctx *c, int dmabuf, unsigned int n,
		 struct bench_stats *map, struct bench_stats *unmap,
		 struct bench_stats *cycle, __u32 *map_type);
void bench_map_one(struct bench_ctx *c, const char *key, int dmabuf);
void bench_map_n(struct bench_ctx *c, const char *key, int dmabuf,
		 unsigned int cycles);
void bench_map_size(struct bench_ctx *c, const char *key, int dmabuf,
		    unsigned long long size, unsigned int cycles);
/* bench_revoke.c: the trace event (c) reads, on for the whole run */
int bench_trace_start(struct bench_ctx *c);
void bench_trace_stop(struct bench_ctx *c);
/* bench_rounds.c: (f) */
int bench_phase_rounds(struct bench_ctx *c);
/* bench_profile.c: (i), function_graph; the last phase */
int bench_phase_profile(struct bench_ctx *c);
typedef int (*bench_make_buf)(struct bench_ctx *c, unsigned long long size,
			      void *priv);
void bench_sweep(struct bench_ctx *c, const char *key, bench_make_buf make,
		 void *priv);
void bench_slab_cycles(struct bench_ctx *c, const char *key, int dmabuf);

/* One range of a buffer: [offset, offset + length) of BENCH_BAR. */
struct bench_range {
	unsigned long long offset;
	unsigned long long length;
};

/* Make a buffer of @nr ranges of BENCH_BAR; the dma-buf fd or -errno. */
typedef int (*bench_make_ranges)(struct bench_ctx *c,
				 const struct bench_range *r, unsigned int nr,
				 void *priv);
/*
 * (g): 1, 16, 256 and 1024 ranges of one size. A map that fails with
 * -EADDRINUSE on several ranges is reported as @einuse_why, not as an
 * error, when @einuse_why is not NULL (a known defect of the exporter).
 */
void bench_ranges(struct bench_ctx *c, const char *key,
		  bench_make_ranges make, void *priv, const char *einuse_why);
/* (h): one page against one range above 4 GiB (big_size), if the BAR has it. */
void bench_big(struct bench_ctx *c, const char *key, bench_make_buf make,
	       void *priv);
int bench_make_udmabuf(struct bench_ctx *c, unsigned long long size,
		       void *priv);
int bench_make_heap(struct bench_ctx *c, unsigned long long size, void *priv);

/* bench_revoke.c */
struct bench_revoke_src {
	const char *name;		/* "p2pbuf" or "vfio" */
	/* Create the i-th of M buffers; -errno on failure. */
	int (*make)(struct bench_ctx *c, void *priv, unsigned int i);
	/* Revoke every buffer, the way this row measures; -errno. */
	int (*trigger)(struct bench_ctx *c, void *priv);
	/* Make buffers mappable again after trigger, for the next rep. */
	int (*restore)(struct bench_ctx *c, void *priv);
	/* Called before make() and after the buffers were released. */
	int (*reset)(struct bench_ctx *c, void *priv);
	/* Whether restore() keeps the imports (else all are redone). */
	bool keeps_imports;
	void *priv;
};

void bench_revoke(struct bench_ctx *c, const char *key,
		  const struct bench_revoke_src *src);
void bench_revoke_point(struct bench_ctx *c, const char *key, unsigned int m,
			unsigned int n, unsigned int reps,
			const struct bench_revoke_src *src);

/* bench_dma.c */
void bench_dma(struct bench_ctx *c, const char *key, int dmabuf);

/* bench_p2pbuf.c: p2pbuf_exporter through exporter_lib */
int bench_exp_open(const char *bdf);
int bench_exp_export(int exp, unsigned long long offset,
		     unsigned long long size);
int bench_exp_revoke_all(int exp, bool restore);
int bench_exp_export_ranges(int exp, const struct bench_range *r,
			    unsigned int nr);
/* (c) through p2pbuf's REVOKE and RESTORE; priv is a struct bench_p2pbuf. */
struct bench_p2pbuf {
	int exp;			/* /dev/p2pbuf-exp-<bdf>, or -1 */
};

int bench_p2pbuf_make(struct bench_ctx *c, unsigned long long size, void *priv);
int bench_p2pbuf_make_nth(struct bench_ctx *c, void *priv, unsigned int i);
int bench_p2pbuf_revoke(struct bench_ctx *c, void *priv);
int bench_p2pbuf_restore(struct bench_ctx *c, void *priv);
#define BENCH_P2PBUF_REVOKE_SRC(p) {					\
	.name = "p2pbuf REVOKE", .make = bench_p2pbuf_make_nth,		\
	.trigger = bench_p2pbuf_revoke, .restore = bench_p2pbuf_restore,	\
	.keeps_imports = true, .priv = (p),				\
}

/* bench_vfio.c: vfio-pci's buffers and its memory-decode revoke */
struct imp_vfio;
int bench_vfio_dmabuf_ranges(struct imp_vfio *v, const struct bench_range *r,
			     unsigned int nr);
int bench_vfio_make(struct bench_ctx *c, unsigned long long size, void *priv);
int bench_vfio_make_nth(struct bench_ctx *c, void *priv, unsigned int i);
int bench_vfio_decode_off(struct bench_ctx *c, void *priv);
int bench_vfio_decode_on(struct bench_ctx *c, void *priv);
/* (c) through vfio-pci's memory-decode revoke; priv is a struct imp_vfio. */
#define BENCH_VFIO_DECODE_SRC(v) {					\
	.name = "vfio decode off", .make = bench_vfio_make_nth,		\
	.trigger = bench_vfio_decode_off,				\
	.restore = bench_vfio_decode_on, .keeps_imports = true,		\
	.priv = (v),							\
}

#endif /* P2PBUF_BENCH_H */
