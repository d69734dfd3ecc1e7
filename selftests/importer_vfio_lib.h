/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A PCI device opened through vfio-pci, for the tests and the benchmark
 * that import vfio-pci's dma-buf of a BAR: binding the device to vfio-pci
 * and opening it through the group/container API, its dma-buf of a BAR
 * range, its CPU mapping of a BAR, and giving the device back unbound.
 *
 * Included at the end of importer_lib.h, whose helpers it uses; including
 * this file alone includes both.
 */
#ifndef P2PBUF_IMPORTER_VFIO_LIB_H
#define P2PBUF_IMPORTER_VFIO_LIB_H

#include <endian.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "importer_lib.h"

/* A PCI device opened through vfio-pci. */
struct imp_vfio {
	char bdf[32];
	int container;
	int group;
	int device;
	__u64 cfg_offset;	/* config space in the device file */
};

static inline void imp_vfio_close(struct imp_vfio *v)
{
	if (v->device >= 0)
		close(v->device);
	if (v->group >= 0)
		close(v->group);
	if (v->container >= 0)
		close(v->container);
	v->device = -1;
	v->group = -1;
	v->container = -1;
}

/* Close everything and give the device back unbound, as the lab left it. */
static inline void imp_vfio_release(struct imp_vfio *v)
{
	imp_vfio_close(v);
	if (v->bdf[0])
		p2pbuf_pci_bind(v->bdf, "");
	v->bdf[0] = '\0';
}

/*
 * Bind @bdf to vfio-pci and open it through the group/container API, with
 * the type1 IOMMU backend or, without an IOMMU, the no-IOMMU one. Returns 0,
 * or -errno with @why set and everything undone.
 */
static inline int imp_vfio_open(struct imp_vfio *v, const char *bdf,
				char *why, size_t whylen)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct vfio_region_info cfg = {
		.argsz = sizeof(cfg), .index = VFIO_PCI_CONFIG_REGION_INDEX,
	};
	char path[PATH_MAX], target[PATH_MAX], drv[64];
	int noiommu = 0, ret;
	ssize_t n;

	v->container = -1;
	v->group = -1;
	v->device = -1;
	snprintf(v->bdf, sizeof(v->bdf), "%s", bdf);
	if (access("/sys/bus/pci/drivers/vfio-pci", F_OK)) {
		snprintf(why, whylen, "vfio-pci driver not present");
		v->bdf[0] = '\0';
		return -ENOENT;
	}
	ret = p2pbuf_pci_bind(bdf, "vfio-pci");
	imp_pci_driver(bdf, drv, sizeof(drv));
	if (ret || strcmp(drv, "vfio-pci")) {
		snprintf(why, whylen, "cannot bind %s to vfio-pci (%d)", bdf, ret);
		ret = ret ? ret : -ENODEV;
		goto err;
	}
	snprintf(path, sizeof(path), IMP_SYSFS_PCI "/%s/iommu_group", bdf);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0) {
		ret = -errno;
		snprintf(why, whylen, "%s has no IOMMU group", bdf);
		goto err;
	}
	target[n] = '\0';
	snprintf(path, sizeof(path), "/dev/vfio/%s", basename(target));
	v->group = open(path, O_RDWR | O_CLOEXEC);
	if (v->group < 0) {
		snprintf(path, sizeof(path), "/dev/vfio/noiommu-%s",
			 basename(target));
		v->group = open(path, O_RDWR | O_CLOEXEC);
		noiommu = 1;
	}
	v->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (v->group < 0 || v->container < 0) {
		ret = -errno;
		snprintf(why, whylen, "cannot open the vfio group or container");
		goto err;
	}
	if (ioctl(v->group, VFIO_GROUP_GET_STATUS, &status)) {
		ret = -errno;
		snprintf(why, whylen, "VFIO_GROUP_GET_STATUS failed");
		goto err;
	}
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		ret = -EBUSY;
		snprintf(why, whylen,
			 "vfio group %s not viable: another device of the group has a host driver",
			 basename(target));
		goto err;
	}
	if (ioctl(v->group, VFIO_GROUP_SET_CONTAINER, &v->container) ||
	    ioctl(v->container, VFIO_SET_IOMMU,
		  noiommu ? VFIO_NOIOMMU_IOMMU : VFIO_TYPE1v2_IOMMU)) {
		ret = -errno;
		snprintf(why, whylen, "vfio group setup failed (%s)",
			 noiommu ? "noiommu" : "type1v2");
		goto err;
	}
	v->device = ioctl(v->group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (v->device < 0) {
		ret = -errno;
		snprintf(why, whylen, "VFIO_GROUP_GET_DEVICE_FD failed");
		goto err;
	}
	if (ioctl(v->device, VFIO_DEVICE_GET_REGION_INFO, &cfg)) {
		ret = -errno;
		snprintf(why, whylen, "no vfio config region");
		goto err;
	}
	v->cfg_offset = cfg.offset;
	return 0;
err:
	imp_vfio_release(v);
	return ret ? ret : -EIO;
}

/*
 * Export @nr ranges of BAR @region, in the order given, as one dma-buf
 * (VFIO_DEVICE_FEATURE_DMA_BUF). Returns the dma-buf's fd or -errno.
 */
static inline int imp_vfio_dmabuf_ranges(struct imp_vfio *v, __u32 region,
					 const struct vfio_region_dma_range *r,
					 unsigned int nr)
{
	struct vfio_device_feature_dma_buf *db;
	struct vfio_device_feature *hdr;
	size_t len;
	int ret;

	len = sizeof(*hdr) + sizeof(*db) + nr * sizeof(db->dma_ranges[0]);
	hdr = calloc(1, len);
	if (!hdr)
		return -ENOMEM;
	hdr->argsz = len;
	hdr->flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_BUF;
	db = (void *)hdr->data;
	db->region_index = region;
	db->open_flags = O_RDWR | O_CLOEXEC;
	db->nr_ranges = nr;
	memcpy(db->dma_ranges, r, nr * sizeof(*r));
	ret = ioctl(v->device, VFIO_DEVICE_FEATURE, hdr);
	ret = ret < 0 ? -errno : ret;
	free(hdr);
	return ret;
}

/* Export [@offset, @offset + @length) of BAR @region as a dma-buf. */
static inline int imp_vfio_dmabuf(struct imp_vfio *v, __u32 region,
				  __u64 offset, __u64 length)
{
	const struct vfio_region_dma_range r = {
		.offset = offset, .length = length,
	};

	return imp_vfio_dmabuf_ranges(v, region, &r, 1);
}

/*
 * Turn memory decode on or off in the device's command register, written
 * through vfio's config region: vfio-pci revokes every dma-buf of the
 * device when decode goes off and makes them mappable again when it comes
 * back (drivers/vfio/pci/vfio_pci_config.c). Returns 0 or -errno.
 */
static inline int imp_vfio_decode(struct imp_vfio *v, bool on)
{
	off_t at = v->cfg_offset + PCI_COMMAND;
	ssize_t n;
	__u16 cmd;

	n = pread(v->device, &cmd, sizeof(cmd), at);
	if (n != sizeof(cmd))
		return n < 0 ? -errno : -EIO;
	cmd = le16toh(cmd);
	if (on)
		cmd |= PCI_COMMAND_MEMORY;
	else
		cmd &= ~PCI_COMMAND_MEMORY;
	cmd = htole16(cmd);
	n = pwrite(v->device, &cmd, sizeof(cmd), at);
	if (n != sizeof(cmd))
		return n < 0 ? -errno : -EIO;
	return 0;
}

/* CPU mapping of BAR @region through the vfio device; MAP_FAILED on error. */
static inline void *imp_vfio_mmap(struct imp_vfio *v, __u32 region,
				  size_t length)
{
	struct vfio_region_info info = {
		.argsz = sizeof(info), .index = region,
	};

	if (ioctl(v->device, VFIO_DEVICE_GET_REGION_INFO, &info) ||
	    !(info.flags & VFIO_REGION_INFO_FLAG_MMAP) || info.size < length)
		return MAP_FAILED;
	return mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED,
		    v->device, info.offset);
}

#endif /* P2PBUF_IMPORTER_VFIO_LIB_H */
