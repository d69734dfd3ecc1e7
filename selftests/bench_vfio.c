// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf_bench: vfio-pci's side beyond importer_lib.h's single-range
 * buffer: buffers of several ranges (measure g) and the revoke that
 * vfio-pci does when memory decode is switched off in the device's command
 * register (measure c, imp_vfio_decode()).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>

#define P2PBUF_NO_HARNESS
#include "importer_lib.h"
#include "bench.h"

/* VFIO_DEVICE_FEATURE_DMA_BUF of @nr ranges of BENCH_BAR; fd or -errno. */
int bench_vfio_dmabuf_ranges(struct imp_vfio *v, const struct bench_range *r,
			     unsigned int nr)
{
	struct vfio_region_dma_range *dr;
	unsigned int i;
	int ret;

	dr = calloc(nr, sizeof(*dr));
	if (!dr)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		dr[i].offset = r[i].offset;
		dr[i].length = r[i].length;
	}
	ret = imp_vfio_dmabuf_ranges(v, BENCH_BAR, dr, nr);
	free(dr);
	return ret;
}

/* (b)'s source: a buffer of @size bytes at offset 0. */
int bench_vfio_make(struct bench_ctx *c, unsigned long long size, void *priv)
{
	return imp_vfio_dmabuf(priv, BENCH_BAR, 0, size);
}

/* (c)'s source: the i-th buffer of M, buf_size bytes each. */
int bench_vfio_make_nth(struct bench_ctx *c, void *priv, unsigned int i)
{
	return imp_vfio_dmabuf(priv, BENCH_BAR, i * c->cfg.buf_size,
			       c->cfg.buf_size);
}

/* (c)'s trigger: vfio-pci revokes the device's buffers on this write. */
int bench_vfio_decode_off(struct bench_ctx *c, void *priv)
{
	return imp_vfio_decode(priv, false);
}

/* (c)'s restore: decode on, the buffers mappable again. */
int bench_vfio_decode_on(struct bench_ctx *c, void *priv)
{
	return imp_vfio_decode(priv, true);
}
