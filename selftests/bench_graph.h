/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pbuf_bench, measure (i): the function_graph trace of one CPU turned
 * into call paths with their durations (bench_graph.c), for
 * bench_profile.c.
 */
#ifndef P2PBUF_BENCH_GRAPH_H
#define P2PBUF_BENCH_GRAPH_H

#include <stdbool.h>

#define PROF_ROWS	64
#define PROF_STACK	8
#define PROF_PATH	256

/* One call path: its durations in ns. */
struct prof_row {
	char path[PROF_PATH];
	unsigned int depth, n, cap;
	double sum, *ns;
};

struct prof_agg {
	struct prof_row rows[PROF_ROWS];
	unsigned int nr_rows;
	unsigned int lost;	/* lines that did not fit a call tree */
	unsigned int full;	/* paths beyond PROF_ROWS */
	char stack[PROF_STACK][PROF_PATH];
	unsigned int depth;
};

/* The row of @path, created the first time if @create; NULL if none. */
struct prof_row *bench_graph_row(struct prof_agg *a, const char *path,
				 unsigned int depth, bool create);
/* The last component of @path: the function. */
const char *bench_graph_fn(const char *path);
/* CPU @cpu's trace since the last clear, into @a; 0 or -errno. */
int bench_graph_parse(struct prof_agg *a, int cpu);

#endif /* P2PBUF_BENCH_GRAPH_H */
