// SPDX-License-Identifier: GPL-2.0
/*
 * Conformance adapter of vfio-pci's dma-buf exporter
 * (drivers/vfio/pci/vfio_pci_dmabuf.c, VFIO_DEVICE_FEATURE_DMA_BUF): the
 * lab's provider, moved from p2pbuf_exporter to vfio-pci so that both
 * exporters are checked on the same route. vfio-pci revokes its buffers
 * when memory decode is turned off in the command register (written through
 * the device's config region) and when the device file is closed; the BAR
 * is read back through the device's own mmap of the region.
 */
#define _GNU_SOURCE
/* Helpers of p2pbuf_test.h without the harness (one unit has it). */
#define P2PBUF_NO_HARNESS
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "conform.h"
#include "importer_lib.h"

#define CONF_VFIO_BAR	VFIO_PCI_BAR2_REGION_INDEX

struct conf_vfio {
	struct imp_vfio v;
	char bdf[32];
	char driver[64];		/* the provider's driver before ->open */
	unsigned char *bar;
	__u64 bar_size;
	struct conf_range r[CONF_MAX_RANGES];
	unsigned int n;
};

static void conf_vfio_close(void *priv)
{
	struct conf_vfio *p = priv;

	if (p->bar != MAP_FAILED)
		munmap(p->bar, p->bar_size);
	imp_vfio_release(&p->v);
	/* Give the provider back to the driver the lab bound it to. */
	if (p->driver[0])
		p2pbuf_pci_bind(p->bdf, p->driver);
	free(p);
}

static int conf_vfio_open(void **priv, char *why, size_t whylen)
{
	const char *bdf = p2pbuf_env("P2PBUF_PROVIDER_BDF");
	struct vfio_region_info bar = {
		.argsz = sizeof(bar), .index = CONF_VFIO_BAR,
	};
	struct conf_vfio *p;
	int ret;

	if (!bdf) {
		snprintf(why, whylen, "P2PBUF_PROVIDER_BDF not set");
		return -ENOENT;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->bar = MAP_FAILED;
	p->v.device = -1;
	p->v.group = -1;
	p->v.container = -1;
	snprintf(p->bdf, sizeof(p->bdf), "%s", bdf);
	imp_pci_driver(bdf, p->driver, sizeof(p->driver));
	/*
	 * A check killed before its teardown (a timeout) leaves the provider
	 * with vfio-pci or with no driver: give it to p2pbuf_exporter then,
	 * whose BAR the other adapter exports.
	 */
	if ((!p->driver[0] || !strcmp(p->driver, "vfio-pci")) &&
	    !access("/sys/bus/pci/drivers/p2pbuf_exporter", F_OK))
		snprintf(p->driver, sizeof(p->driver), "p2pbuf_exporter");
	ret = imp_vfio_open(&p->v, bdf, why, whylen);
	if (ret)
		goto err_close;
	if (ioctl(p->v.device, VFIO_DEVICE_GET_REGION_INFO, &bar)) {
		ret = -errno;
		snprintf(why, whylen, "VFIO_DEVICE_GET_REGION_INFO failed");
		goto err_close;
	}
	p->bar_size = bar.size;
	if (!(bar.flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		ret = -EOPNOTSUPP;
		snprintf(why, whylen, "vfio region %d cannot be mmapped",
			 CONF_VFIO_BAR);
		goto err_close;
	}
	p->bar = mmap(NULL, p->bar_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      p->v.device, bar.offset);
	if (p->bar == MAP_FAILED) {
		ret = -errno;
		snprintf(why, whylen, "mmap of vfio region %d failed",
			 CONF_VFIO_BAR);
		goto err_close;
	}
	*priv = p;
	return 0;
err_close:
	conf_vfio_close(p);
	return ret;
}

static __u64 conf_vfio_space(void *priv)
{
	struct conf_vfio *p = priv;

	return p->bar_size;
}

static int conf_vfio_create(void *priv, const struct conf_range *r,
			    unsigned int n)
{
	struct vfio_region_dma_range dr[CONF_MAX_RANGES];
	struct conf_vfio *p = priv;
	unsigned int i;
	int ret;

	if (!n || n > CONF_MAX_RANGES)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		dr[i].offset = r[i].offset;
		dr[i].length = r[i].length;
	}
	ret = imp_vfio_dmabuf_ranges(&p->v, CONF_VFIO_BAR, dr, n);
	if (ret < 0)
		return ret;
	memcpy(p->r, r, n * sizeof(*r));
	p->n = n;
	return ret;
}

static int conf_vfio_revoke(void *priv, int buf)
{
	struct conf_vfio *p = priv;

	return imp_vfio_decode(&p->v, false);
}

static int conf_vfio_restore(void *priv, int buf)
{
	struct conf_vfio *p = priv;

	return imp_vfio_decode(&p->v, true);
}

/* Closing the device file revokes every buffer exported through it. */
static int conf_vfio_close_owner(void *priv)
{
	struct conf_vfio *p = priv;

	if (p->bar != MAP_FAILED)
		munmap(p->bar, p->bar_size);
	p->bar = MAP_FAILED;
	imp_vfio_close(&p->v);
	return 0;
}

static int conf_vfio_cpu_rw(void *priv, __u64 off, void *data, size_t len,
			    bool write)
{
	struct conf_vfio *p = priv;

	if (p->bar == MAP_FAILED)
		return -EBADF;
	return conf_copy(p->bar, p->r, p->n, off, data, len, write);
}

static const char * const conf_vfio_frames[] = { "vfio_pci_dma_buf", NULL };

const struct conf_exporter conf_vfio = {
	.name = "vfio",
	.exp_name = "vfio_pci_core",
	.caps = CONF_CAP_P2P | CONF_CAP_REVOKE | CONF_CAP_OWNER_REVOKES |
		CONF_CAP_MULTI_RANGE,
	.map_type = P2PBUF_MAP_UNKNOWN,
	.leak_frames = conf_vfio_frames,
	.revoked_errno = ENODEV,
	.open = conf_vfio_open,
	.close = conf_vfio_close,
	.space = conf_vfio_space,
	.create = conf_vfio_create,
	.revoke = conf_vfio_revoke,
	.restore = conf_vfio_restore,
	.close_owner = conf_vfio_close_owner,
	.cpu_rw = conf_vfio_cpu_rw,
};
