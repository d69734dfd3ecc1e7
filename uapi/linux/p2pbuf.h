/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * p2pbuf: definitions shared by the p2pbuf exporter and importer uAPIs.
 *
 * The exporter's ioctls are in <linux/p2pbuf_exporter.h>, the importer's in
 * <linux/p2pbuf_importer.h>. Both include this header; neither module depends
 * on the other.
 */
#ifndef _UAPI_LINUX_P2PBUF_H
#define _UAPI_LINUX_P2PBUF_H

#include <linux/types.h>
#include <linux/ioctl.h>

/*
 * ioctl type shared by both modules: the exporter uses numbers 0x00-0x1f,
 * the importer 0x20-0x3f. The structures carry their own size (argsz), so
 * the ioctl numbers are _IO() and do not encode a size.
 */
#define P2PBUF_IOCTL_TYPE	0xBB
#define P2PBUF_EXP_BASE		0x00
#define P2PBUF_IMP_BASE		0x20

/**
 * enum p2pbuf_map_type - how a mapping of a dma-buf reaches its memory
 * @P2PBUF_MAP_UNKNOWN: not mapped yet, or could not be determined.
 * @P2PBUF_MAP_NOT_P2P: the buffer is system memory (page backed), not a
 *	peer-to-peer mapping.
 * @P2PBUF_MAP_BUS_ADDR: peer-to-peer through a common upstream bridge; the
 *	DMA address is the provider's PCI bus address.
 * @P2PBUF_MAP_HOST_BRIDGE_DIRECT: peer-to-peer through the host bridge
 *	without IOMMU translation; the DMA address is the CPU physical address
 *	(dma-direct).
 * @P2PBUF_MAP_HOST_BRIDGE_IOVA: peer-to-peer through the host bridge with an
 *	IOMMU; the DMA address is an IOVA.
 * @P2PBUF_MAP_NOT_SUPPORTED: p2pdma cannot route between the two devices;
 *	mapping fails.
 *
 * The cases follow the kernel's enum pci_p2pdma_map_type (not uAPI), with
 * its THRU_HOST_BRIDGE case split by whether an IOMMU translates the
 * address and NOT_P2P added for system memory, but the values are
 * p2pbuf's own: the kernel numbers its cases UNKNOWN 0, NONE 1,
 * NOT_SUPPORTED 2, BUS_ADDR 3, THRU_HOST_BRIDGE 4. Do not convert by value.
 */
enum p2pbuf_map_type {
	P2PBUF_MAP_UNKNOWN = 0,
	P2PBUF_MAP_NOT_P2P = 1,
	P2PBUF_MAP_BUS_ADDR = 2,
	P2PBUF_MAP_HOST_BRIDGE_DIRECT = 3,
	P2PBUF_MAP_HOST_BRIDGE_IOVA = 4,
	P2PBUF_MAP_NOT_SUPPORTED = 5,
};

#endif /* _UAPI_LINUX_P2PBUF_H */
