// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf_bench, measure (e): the initiator's DMA engine moving data through
 * a mapping, one P2PBUF_IMP_DMA of the engine's largest transfer at a time,
 * written into the buffer and read back (and compared).
 *
 * Each transfer is timed around the ioctl: the engine dominates it by far
 * (QEMU's edu completes a command about 100 ms of virtual time after it is
 * issued, and one transfer is two commands), so the system call's cost does
 * not matter here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define P2PBUF_NO_HARNESS
#include "importer_lib.h"
#include "bench.h"

static void bench_dma_dir(struct bench_ctx *c, const char *key, __u32 h,
			  __u32 flags, __u64 len, unsigned char *data,
			  int *err)
{
	unsigned int n = c->cfg.dma_xfers, i;
	struct bench_stats st;
	unsigned long long t0;
	double *v;
	int ret = 0;

	v = calloc(n, sizeof(*v));
	if (!v) {
		*err = -ENOMEM;
		return;
	}
	for (i = 0; i < n && !ret; i++) {
		/* Transfer i at the i-th page of the buffer, wrapping. */
		__u64 off = (i * 4096ULL) % (c->cfg.buf_size - 4095);

		t0 = bench_now_ns();
		ret = imp_dma(c->imp, h, flags, off, data + i * len, len);
		v[i] = bench_now_ns() - t0;
	}
	if (ret && !*err)
		*err = ret;
	if (!ret) {
		bench_stats(&st, v, n);
		json_open(c, key, '{');
		json_int(c, "bytes", len);
		json_stats(c, "xfer_ns", &st);
		json_num(c, "mib_per_s", st.p50 > 0 ?
			 len / (st.p50 / 1e9) / (1 << 20) : 0);
		json_close(c, '}');
	}
	free(v);
}

void bench_dma(struct bench_ctx *c, const char *key, int dmabuf)
{
	struct p2pbuf_imp_info info;
	unsigned char *in = NULL, *out = NULL;
	unsigned int n = c->cfg.dma_xfers;
	struct p2pbuf_imp_map m;
	__u64 len;
	__u32 h = 0;
	int ret;

	fprintf(stderr, "bench: %s: %u DMA transfers each way\n", key, n);
	json_open(c, key, '{');
	ret = imp_info(c->imp, &info);
	if (!ret && !info.dma_max)
		ret = -EOPNOTSUPP;
	if (ret)
		goto out;
	len = info.dma_max;
	in = malloc(n * len);
	out = calloc(n, len);
	if (!in || !out) {
		ret = -ENOMEM;
		goto out;
	}
	imp_pattern(in, n * len, 7);
	ret = imp_import(c->imp, dmabuf, 0, &h, NULL);
	if (!ret)
		ret = imp_map(c->imp, h, &m, NULL, 0);
	if (ret)
		goto out;
	json_str(c, "map_type", imp_map_type_name(m.map_type));
	bench_dma_dir(c, "to_buf", h, P2PBUF_IMP_DMA_TO_BUF, len, in, &ret);
	bench_dma_dir(c, "from_buf", h, P2PBUF_IMP_DMA_FROM_BUF, len, out,
		      &ret);
	/* Transfers land on distinct pages unless the buffer is small. */
	if (!ret && n * 4096ULL <= c->cfg.buf_size - 4095) {
		bool same = !memcmp(in, out, n * len);

		json_str(c, "read_back", same ? "identical" : "MISMATCH");
		/* Wrong data is a failed measurement, not a figure. */
		if (!same)
			json_error(c, "DMA read back differs from what was written");
	}
out:
	if (h)
		imp_handle_op(c->imp, P2PBUF_IMP_RELEASE, h);
	if (ret)
		json_error(c, strerror(-ret));
	json_close(c, '}');
	free(in);
	free(out);
}
