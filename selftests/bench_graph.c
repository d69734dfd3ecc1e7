// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf_bench, measure (i): parsing function_graph's output into call
 * paths (bench_graph.h).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define P2PBUF_NO_HARNESS
#include "importer_lib.h"
#include "bench_graph.h"

/* The row of @path, created the first time (so in call order). */
struct prof_row *bench_graph_row(struct prof_agg *a, const char *path,
				 unsigned int depth, bool create)
{
	struct prof_row *r;
	unsigned int i;

	for (i = 0; i < a->nr_rows; i++)
		if (!strcmp(a->rows[i].path, path))
			return &a->rows[i];
	if (!create)
		return NULL;
	if (a->nr_rows == PROF_ROWS) {
		a->full++;
		return NULL;
	}
	r = &a->rows[a->nr_rows++];
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->depth = depth;
	return r;
}

/* One duration of @path. */
static void prof_add(struct prof_agg *a, const char *path,
		     unsigned int depth, double ns)
{
	struct prof_row *r = bench_graph_row(a, path, depth, true);
	double *v;

	if (!r)
		return;
	if (r->n == r->cap) {
		v = realloc(r->ns, (r->cap ? 2 * r->cap : 256) * sizeof(*v));
		if (!v) {
			a->lost++;
			return;
		}
		r->ns = v;
		r->cap = r->cap ? 2 * r->cap : 256;
	}
	r->ns[r->n++] = ns;
	r->sum += ns;
}

/* The last component of @path. */
const char *bench_graph_fn(const char *path)
{
	const char *p = strrchr(path, '/');

	return p ? p + 1 : path;
}

/* Whether the name at @s (up to a blank) is exactly @fn. */
static bool prof_same_fn(const char *s, const char *fn)
{
	size_t len = strcspn(s, " ");

	return len == strlen(fn) && !strncmp(s, fn, len);
}

/*
 * One line of function_graph's output ("cpu) duration | body"): an entry
 * "fn() {", a return "} /+ fn +/" or a leaf "fn();". The function name
 * may carry its module (" [mod]").
 */
static void prof_line(struct prof_agg *a, char *line)
{
	char *bar = strchr(line, '|'), *body, *p, path[PROF_PATH];
	double us = -1;
	bool entry;
	size_t len;

	if (!bar || line[0] == '#' || strstr(line, "=>"))
		return;
	p = memchr(line, ')', bar - line);
	for (p = p ? p + 1 : line; p < bar && !isdigit(*p); p++)
		;
	if (p < bar)
		us = strtod(p, NULL);
	body = bar + 1 + strspn(bar + 1, " ");
	len = strcspn(body, "\n");
	while (len && body[len - 1] == ' ')
		len--;
	body[len] = '\0';
	if (!len || !strncmp(body, "/*", 2))
		return;

	if (body[0] == '}') {
		p = strstr(body, "/* ");
		if (!a->depth || us < 0 ||
		    (p && !prof_same_fn(p + 3,
					bench_graph_fn(a->stack[a->depth - 1])))) {
			a->lost++;
			a->depth = 0;
			return;
		}
		a->depth--;
		prof_add(a, a->stack[a->depth], a->depth, us * 1000);
		return;
	}
	entry = body[len - 1] == '{';
	body[strcspn(body, " (")] = '\0';
	snprintf(path, sizeof(path), "%s%s%s",
		 a->depth ? a->stack[a->depth - 1] : "", a->depth ? "/" : "",
		 body);
	if (entry) {
		if (a->depth == PROF_STACK) {
			a->lost++;
			return;
		}
		bench_graph_row(a, path, a->depth, true);
		memcpy(a->stack[a->depth++], path, sizeof(path));
	} else if (us >= 0) {
		prof_add(a, path, a->depth, us * 1000);
	} else {
		a->lost++;
	}
}

/* CPU @cpu's trace since the last clear, into @a. */
int bench_graph_parse(struct prof_agg *a, int cpu)
{
	char path[PATH_MAX], *line = NULL;
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), IMP_TRACEFS "/per_cpu/cpu%d/trace", cpu);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0)
		prof_line(a, line);
	free(line);
	fclose(f);
	a->lost += a->depth;	/* calls the trace never saw return */
	a->depth = 0;
	return 0;
}
