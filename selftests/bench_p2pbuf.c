// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf_bench: p2pbuf_exporter's side, through exporter_lib. A file of its
 * own because exporter_lib.h and importer_lib.h name their importer
 * wrappers alike.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "exporter_lib.h"
#include "bench.h"

/* Open /dev/p2pbuf-exp-<bdf>; the fd or -errno. */
int bench_exp_open(const char *bdf)
{
	char path[PATH_MAX];
	int fd;

	fd = open(node_path(path, sizeof(path), "p2pbuf-exp-", bdf),
		  O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Export [@offset, @offset + @size) of BAR 2; the dma-buf fd or -errno. */
int bench_exp_export(int exp, unsigned long long offset,
		     unsigned long long size)
{
	struct p2pbuf_exp_range r = { .offset = offset, .length = size };
	int fd;

	fd = exp_export(exp, BENCH_BAR, &r, 1, O_RDWR | O_CLOEXEC, NULL);
	return fd < 0 ? -errno : fd;
}

/* REVOKE (or RESTORE) every buffer of @exp; 0 or -errno. */
int bench_exp_revoke_all(int exp, bool restore)
{
	return exp_revoke(exp, restore ? P2PBUF_EXP_RESTORE : P2PBUF_EXP_REVOKE,
			  P2PBUF_EXP_REVOKE_ALL, NO_FD) < 0 ? -errno : 0;
}

/* Export @nr ranges of BAR 2 as one buffer; the dma-buf fd or -errno. */
int bench_exp_export_ranges(int exp, const struct bench_range *r,
			    unsigned int nr)
{
	struct p2pbuf_exp_range *er;
	unsigned int i;
	int fd;

	er = calloc(nr, sizeof(*er));
	if (!er)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		er[i].offset = r[i].offset;
		er[i].length = r[i].length;
	}
	fd = exp_export(exp, BENCH_BAR, er, nr, O_RDWR | O_CLOEXEC, NULL);
	fd = fd < 0 ? -errno : fd;
	free(er);
	return fd;
}

/* (b)'s source: a buffer of @size bytes at offset 0. */
int bench_p2pbuf_make(struct bench_ctx *c, unsigned long long size, void *priv)
{
	return bench_exp_export(((struct bench_p2pbuf *)priv)->exp, 0, size);
}

/* (c)'s source: the i-th buffer of M, buf_size bytes each. */
int bench_p2pbuf_make_nth(struct bench_ctx *c, void *priv, unsigned int i)
{
	struct bench_p2pbuf *p = priv;

	return bench_exp_export(p->exp, i * c->cfg.buf_size, c->cfg.buf_size);
}

/* (c)'s trigger: REVOKE every buffer of the file. */
int bench_p2pbuf_revoke(struct bench_ctx *c, void *priv)
{
	return bench_exp_revoke_all(((struct bench_p2pbuf *)priv)->exp, false);
}

/* (c)'s restore: RESTORE them, mappable again. */
int bench_p2pbuf_restore(struct bench_ctx *c, void *priv)
{
	return bench_exp_revoke_all(((struct bench_p2pbuf *)priv)->exp, true);
}
