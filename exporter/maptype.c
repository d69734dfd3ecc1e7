// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf exporter: how an importer reaches the BAR.
 *
 * dma_buf_phys_vec_to_sgt() picks the mapping from pci_p2pdma_map_type(),
 * which modules cannot call (drivers/pci/p2pdma.c has no EXPORT_SYMBOL for
 * it). The exporter reports the same classification, derived from what it
 * can see:
 *
 * 1. pci_p2pdma_distance() < 0, or an importer device that is not itself a
 *    PCI function: p2pdma will not map (NOT_SUPPORTED). .attach refuses it
 *    with -EXDEV, so no attachment ever carries this type.
 *
 * 2. Otherwise the route is the one calc_map_type_and_dist()
 *    (drivers/pci/p2pdma.c:700-793) computes: if provider and importer have
 *    a common upstream bridge and no bridge on the way has ACS redirect
 *    (RR, CR or EC in ACS control) enabled, the transfer stays in the PCI
 *    fabric and the importer gets PCI bus addresses (BUS_ADDR). Anything
 *    else passed the distance check only because the host bridge or CPU is
 *    allowed to route peer-to-peer, so it goes through the host bridge.
 *    p2pbuf_exp_fabric_route() repeats that walk, including its quirk of
 *    testing the common bridge itself on the provider side.
 *
 * 3. Through the host bridge, dma_buf_phys_vec_to_sgt() maps with the DMA
 *    API: dma-direct returns the CPU physical address for DMA_ATTR_MMIO
 *    (kernel/dma/direct.h:101-102), an IOMMU DMA domain returns an IOVA.
 *    dma-iommu reserves the host bridge's memory windows in every PCI
 *    device's IOVA space (iova_reserve_pci_windows(),
 *    drivers/iommu/dma-iommu.c:507-522), so an IOVA never lies inside the
 *    BAR: a mapping whose segments all lie inside the BAR's CPU range is
 *    HOST_BRIDGE_DIRECT, any other is HOST_BRIDGE_IOVA.
 *
 * The walk happens at attach time, when pci_p2pdma_distance() has just
 * filled the p2pdma cache that pci_p2pdma_map_type() later reads, so both
 * look at the same ACS state. A BUS_ADDR route whose mapping does not carry
 * bus addresses would mean the two disagree: it is reported as UNKNOWN
 * rather than guessed.
 */
#include <linux/device.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>
#include <linux/ratelimit.h>
#include <linux/scatterlist.h>

#include "p2pbuf_exporter.h"

static bool p2pbuf_exp_acs_redirects(struct pci_dev *pdev)
{
	u16 ctrl;

	if (!pdev->acs_cap)
		return false;
	pci_read_config_word(pdev, pdev->acs_cap + PCI_ACS_CTRL, &ctrl);
	return ctrl & (PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_EC);
}

/* True if the route stays below a common upstream bridge (BUS_ADDR). */
static bool p2pbuf_exp_fabric_route(struct pci_dev *provider,
				    struct pci_dev *client)
{
	struct pci_dev *common, *b;
	bool redirect = false;

	/* Both devices hold references on their upstream bridges. */
	for (common = provider; common; common = pci_upstream_bridge(common)) {
		redirect |= p2pbuf_exp_acs_redirects(common);
		for (b = client; b; b = pci_upstream_bridge(b))
			if (b == common)
				goto found;
	}
	return false;

found:
	for (b = client; b != common; b = pci_upstream_bridge(b))
		redirect |= p2pbuf_exp_acs_redirects(b);
	return !redirect;
}

/**
 * p2pbuf_exp_route() - check that p2pdma can route from the BAR to a device
 * @edev: the exporting device
 * @client: the importer's DMA device (dma_buf_attachment.dev)
 *
 * The explanation p2pdma can print for a refused route is useful but
 * userspace triggers it at will, so it is printed at most once every five
 * seconds.
 *
 * Return: PCI_P2PDMA_MAP_BUS_ADDR or PCI_P2PDMA_MAP_THRU_HOST_BRIDGE, or
 * -EXDEV if @client is not a PCI function or p2pdma cannot route to it.
 */
int p2pbuf_exp_route(struct p2pbuf_exp_dev *edev, struct device *client)
{
	static DEFINE_RATELIMIT_STATE(explain, 5 * HZ, 1);
	struct pci_dev *provider = edev->pdev;

	/* pci_p2pdma_map_type() does not look at parents, so neither do we. */
	if (!dev_is_pci(client))
		return -EXDEV;

	if (pci_p2pdma_distance(provider, client, false) < 0) {
		if (__ratelimit(&explain))
			pci_p2pdma_distance(provider, client, true);
		return -EXDEV;
	}

	if (p2pbuf_exp_fabric_route(provider, to_pci_dev(client)))
		return PCI_P2PDMA_MAP_BUS_ADDR;
	return PCI_P2PDMA_MAP_THRU_HOST_BRIDGE;
}

/**
 * p2pbuf_exp_map_type() - classify a mapping made by map_dma_buf
 * @buf: the buffer
 * @route: what p2pbuf_exp_route() returned for the attachment
 * @sgt: the table dma_buf_phys_vec_to_sgt() returned
 *
 * Context: the buffer's resv lock held, buffer not revoked (the provider is
 * valid).
 * Return: an enum p2pbuf_map_type, see the comment at the top of this file.
 */
u32 p2pbuf_exp_map_type(const struct p2pbuf_exp_buf *buf, int route,
			struct sg_table *sgt)
{
	u64 cpu_start = buf->bar_start;
	u64 bus_start = cpu_start + buf->provider->bus_offset;
	bool in_cpu = true, in_bus = true;
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		u64 addr = sg_dma_address(sg);
		u64 end = addr + sg_dma_len(sg);

		in_cpu &= addr >= cpu_start && end <= cpu_start + buf->bar_len;
		in_bus &= addr >= bus_start && end <= bus_start + buf->bar_len;
	}

	if (route == PCI_P2PDMA_MAP_BUS_ADDR)
		return in_bus ? P2PBUF_MAP_BUS_ADDR : P2PBUF_MAP_UNKNOWN;
	return in_cpu ? P2PBUF_MAP_HOST_BRIDGE_DIRECT :
			P2PBUF_MAP_HOST_BRIDGE_IOVA;
}

/**
 * p2pbuf_exp_map_type_name() - name of an enum p2pbuf_map_type value
 * @map_type: the value
 *
 * Return: a static string, "invalid" for an unknown value.
 */
const char *p2pbuf_exp_map_type_name(u32 map_type)
{
	static const char * const names[] = {
		[P2PBUF_MAP_UNKNOWN]		= "unknown",
		[P2PBUF_MAP_NOT_P2P]		= "not-p2p",
		[P2PBUF_MAP_BUS_ADDR]		= "bus-addr",
		[P2PBUF_MAP_HOST_BRIDGE_DIRECT]	= "host-bridge-direct",
		[P2PBUF_MAP_HOST_BRIDGE_IOVA]	= "host-bridge-iova",
		[P2PBUF_MAP_NOT_SUPPORTED]	= "not-supported",
	};

	if (map_type >= ARRAY_SIZE(names))
		return "invalid";
	return names[map_type];
}
