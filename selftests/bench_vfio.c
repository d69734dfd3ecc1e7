// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf_bench: vfio-pci's side beyond importer_lib.h's single-range
 * buffer: buffers of several ranges (measure g) and the revoke that
 * vfio-pci does when memory decode is switched off in the device's command
 * register (measure c, drivers/vfio/pci/vfio_pci_config.c revokes every
 * dma-buf of the device on that write and restores them when decode comes
 * back on).
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/pci_regs.h>

#define P2PBUF_NO_HARNESS
#include "importer_lib.h"
#include "bench.h"

/* VFIO_DEVICE_FEATURE_DMA_BUF of @nr ranges of BENCH_BAR; fd or -errno. */
int bench_vfio_dmabuf_ranges(struct imp_vfio *v, const struct bench_range *r,
			     unsigned int nr)
{
	struct vfio_device_feature_dma_buf *db;
	struct vfio_device_feature *hdr;
	size_t len;
	unsigned int i;
	int ret;

	len = sizeof(*hdr) + sizeof(*db) + nr * sizeof(db->dma_ranges[0]);
	hdr = calloc(1, len);
	if (!hdr)
		return -ENOMEM;
	hdr->argsz = len;
	hdr->flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_BUF;
	db = (void *)hdr->data;
	db->region_index = BENCH_BAR;
	db->open_flags = O_RDWR | O_CLOEXEC;
	db->nr_ranges = nr;
	for (i = 0; i < nr; i++) {
		db->dma_ranges[i].offset = r[i].offset;
		db->dma_ranges[i].length = r[i].length;
	}
	ret = ioctl(v->device, VFIO_DEVICE_FEATURE, hdr);
	ret = ret < 0 ? -errno : ret;
	free(hdr);
	return ret;
}

/* Where the device fd holds config space; 0 or -errno. */
int bench_vfio_decode_init(struct bench_vfio_decode *d, struct imp_vfio *v)
{
	struct vfio_region_info info = {
		.argsz = sizeof(info), .index = VFIO_PCI_CONFIG_REGION_INDEX,
	};

	d->v = v;
	if (ioctl(v->device, VFIO_DEVICE_GET_REGION_INFO, &info))
		return -errno;
	d->cfg_offset = info.offset;
	return 0;
}

/* Read-modify-write of PCI_COMMAND's memory decode bit through vfio. */
static int bench_vfio_decode(struct bench_vfio_decode *d, bool on)
{
	off_t at = d->cfg_offset + PCI_COMMAND;
	ssize_t n;
	__u16 cmd;

	n = pread(d->v->device, &cmd, sizeof(cmd), at);
	if (n != sizeof(cmd))
		return n < 0 ? -errno : -EIO;
	cmd = le16toh(cmd);
	if (on)
		cmd |= PCI_COMMAND_MEMORY;
	else
		cmd &= ~PCI_COMMAND_MEMORY;
	cmd = htole16(cmd);
	n = pwrite(d->v->device, &cmd, sizeof(cmd), at);
	if (n != sizeof(cmd))
		return n < 0 ? -errno : -EIO;
	return 0;
}

/* (c)'s trigger: vfio-pci revokes the device's buffers on this write. */
int bench_vfio_decode_off(struct bench_ctx *c, void *priv)
{
	return bench_vfio_decode(priv, false);
}

/* (c)'s restore: decode on, the buffers mappable again. */
int bench_vfio_decode_on(struct bench_ctx *c, void *priv)
{
	return bench_vfio_decode(priv, true);
}
