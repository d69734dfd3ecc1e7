// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf importer: how a mapping reaches its memory, seen from the importer.
 *
 * The importer knows only the DMA addresses of the mapping and its own
 * device; not the exporter, not the exporter's p2pdma provider, and not what
 * pci_p2pdma_map_type() decided (it is not exported). It reconstructs the
 * answer from what it can see, one DMA segment at a time, with the rules of
 * maptype_rules.c (written down there, with the kernel code behind each).
 * This file answers the rules' questions from the real system:
 *
 * - the importer's DMA domain: dev_dma_iommu() (a DMA-API domain, whose
 *   translation iommu_iova_to_phys() gives), else an IOMMU group (identity
 *   domain), else none;
 * - whose memory BAR an address lies in, by bus address (pci_bus_address())
 *   or CPU physical address (pci_resource_start()), and whether p2pdma
 *   reaches that device from the importer below a common upstream bridge,
 *   by the bridge/ACS walk of calc_map_type_and_dist();
 * - whether an address is system RAM (region_intersects()).
 *
 * Limits: BARs are looked up in the PCI device list at map time (a device
 * hot-added or reassigned later is not noticed); ACS is read now while
 * p2pdma caches its verdict per device pair; an importer device that is not
 * PCI, or memory that is neither RAM nor a PCI BAR (e.g. a platform device's
 * MMIO), gives UNKNOWN; a BUS_ADDR mapping under an IOMMU is only recognised
 * when the IOVA space does not map the bus address.
 *
 * Bounded cost. This runs under the exporter's dma_resv lock, and a mapping
 * can be large: 1 GiB of 4 KiB pages behind an IOMMU is one IOVA segment
 * over 262144 physically scattered pages, each of which would be resolved
 * and looked up in every BAR of every PCI device. So the classification
 * reads at most P2PBUF_IMP_CLASSIFY_SEGS segments from the start of the
 * mapping and resolves at most P2PBUF_IMP_CLASSIFY_PAGES pages in all; the
 * answer is the kind of that prefix. An exporter's mapping is of one kind
 * in practice (a buffer is system pages or one device's BAR ranges), and
 * the map type is a report, never the basis of a decision, so a mixed
 * mapping whose other kind lies beyond the prefix is misreported rather
 * than made slow.
 */
#include <linux/dma-direct.h>
#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <linux/ioport.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/pci.h>
#include <linux/sched.h>
#include <linux/scatterlist.h>

#include "maptype.h"
#include "p2pbuf_importer.h"

/**
 * struct p2pbuf_imp_sys - what the real view answers from
 * @client: the importing device
 * @domain: its DMA-API domain, or NULL
 */
struct p2pbuf_imp_sys {
	struct pci_dev *client;
	struct iommu_domain *domain;
};

static void *p2pbuf_imp_pci_upstream(void *node)
{
	/* Each device holds a reference on its upstream bridge. */
	return pci_upstream_bridge(node);
}

static bool p2pbuf_imp_pci_acs_redirects(void *node)
{
	struct pci_dev *bridge = node;
	u16 ctrl;

	if (!bridge->acs_cap)
		return false;
	pci_read_config_word(bridge, bridge->acs_cap + PCI_ACS_CTRL, &ctrl);
	return ctrl & (PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_EC);
}

static const struct p2pbuf_imp_walk_ops p2pbuf_imp_pci_walk = {
	.upstream	= p2pbuf_imp_pci_upstream,
	.acs_redirects	= p2pbuf_imp_pci_acs_redirects,
};

/* Segments and IOMMU page lookups one classification may spend. */
#define P2PBUF_IMP_CLASSIFY_SEGS	64
#define P2PBUF_IMP_CLASSIFY_PAGES	256

/*
 * Does [@addr, @addr + @len) lie inside one memory BAR of a PCI device, by
 * bus address (@bus) or by CPU physical address? Returns that device with a
 * reference held, or NULL.
 */
static struct pci_dev *p2pbuf_imp_bar_owner(u64 addr, u64 len, bool bus)
{
	struct pci_dev *pdev = NULL;
	u64 last;
	int bar;

	if (!len || check_add_overflow(addr, len - 1, &last))
		return NULL;
	for_each_pci_dev(pdev) {
		for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
			u64 size = pci_resource_len(pdev, bar);
			u64 start;

			if (!size || !(pci_resource_flags(pdev, bar) &
				       IORESOURCE_MEM))
				continue;
			start = bus ? pci_bus_address(pdev, bar) :
				      pci_resource_start(pdev, bar);
			if (addr >= start && last <= start + (size - 1))
				return pdev;
		}
	}
	return NULL;
}

static enum p2pbuf_imp_bar p2pbuf_imp_sys_bar(const struct p2pbuf_imp_view *view,
					      u64 addr, u64 len, bool bus)
{
	struct p2pbuf_imp_sys *sys = view->priv;
	struct pci_dev *owner;
	bool routed;

	owner = p2pbuf_imp_bar_owner(addr, len, bus);
	if (!owner)
		return P2PBUF_IMP_BAR_NONE;
	routed = p2pbuf_imp_switch_routed(&p2pbuf_imp_pci_walk, owner,
					  sys->client);
	pci_dev_put(owner);
	return routed ? P2PBUF_IMP_BAR_FABRIC : P2PBUF_IMP_BAR_HOST;
}

static bool p2pbuf_imp_sys_is_ram(const struct p2pbuf_imp_view *view,
				  u64 phys, u64 len)
{
	return region_intersects(phys, len, IORESOURCE_SYSTEM_RAM,
				 IORES_DESC_NONE) == REGION_INTERSECTS;
}

static u64 p2pbuf_imp_sys_iova_to_phys(const struct p2pbuf_imp_view *view,
				       u64 iova)
{
	struct p2pbuf_imp_sys *sys = view->priv;

	return iommu_iova_to_phys(sys->domain, iova);
}

static u64 p2pbuf_imp_sys_dma_to_phys(const struct p2pbuf_imp_view *view,
				      u64 addr)
{
	struct p2pbuf_imp_sys *sys = view->priv;

	return dma_to_phys(&sys->client->dev, addr);
}

static const struct p2pbuf_imp_view_ops p2pbuf_imp_sys_ops = {
	.bar		= p2pbuf_imp_sys_bar,
	.is_ram		= p2pbuf_imp_sys_is_ram,
	.iova_to_phys	= p2pbuf_imp_sys_iova_to_phys,
	.dma_to_phys	= p2pbuf_imp_sys_dma_to_phys,
};

/**
 * p2pbuf_imp_map_type() - classify a mapping as the importing device sees it
 * @pdev: the importing device, whose DMA addresses @sgt holds
 * @sgt: a mapping of a dma-buf for @pdev
 *
 * See the comments at the top of this file and of p2pbuf_imp_seg_map_type()
 * for the rules and their limits. Only sg_dma_address() and sg_dma_len()
 * are used; a dma-buf mapping need not have pages.
 *
 * Context: Process context. The cost is bounded (see the top of this file):
 * at most %P2PBUF_IMP_CLASSIFY_SEGS segments and
 * %P2PBUF_IMP_CLASSIFY_PAGES IOMMU lookups.
 * Return: an enum p2pbuf_map_type value, never %P2PBUF_MAP_NOT_SUPPORTED.
 */
u32 p2pbuf_imp_map_type(struct pci_dev *pdev, struct sg_table *sgt)
{
	struct p2pbuf_imp_sys sys = { .client = pdev };
	struct p2pbuf_imp_view view = {
		.dma	= P2PBUF_IMP_DMA_NO_IOMMU,
		.ops	= &p2pbuf_imp_sys_ops,
		.priv	= &sys,
	};
	unsigned int i, pages = P2PBUF_IMP_CLASSIFY_PAGES;
	u32 type = P2PBUF_MAP_UNKNOWN, t;
	struct scatterlist *sg;

	view.pages = &pages;
	if (dev_dma_iommu(&pdev->dev)) {
		sys.domain = iommu_get_domain_for_dev(&pdev->dev);
		if (!sys.domain)
			return P2PBUF_MAP_UNKNOWN;
		view.dma = P2PBUF_IMP_DMA_TRANSLATED;
	} else if (device_iommu_mapped(&pdev->dev)) {
		view.dma = P2PBUF_IMP_DMA_IDENTITY;
	}

	for_each_sgtable_dma_sg(sgt, sg, i) {
		if (i == P2PBUF_IMP_CLASSIFY_SEGS || !pages)
			break;
		t = p2pbuf_imp_seg_map_type(&view, sg_dma_address(sg),
					    sg_dma_len(sg));
		type = p2pbuf_imp_map_type_merge(type, t, !i);
		if (type == P2PBUF_MAP_UNKNOWN)
			break;
	}
	return type;
}

/**
 * p2pbuf_imp_check_reach() - can the device address every segment?
 * @pdev: the importing device
 * @sgt: a mapping of a dma-buf for @pdev
 *
 * The DMA API keeps addresses it hands out within the device's mask, but a
 * peer-to-peer mapping of a BAR is a bus address that dma_buf_map_attachment()
 * does not check against it. A device given an address beyond its mask
 * reaches another one: QEMU's edu truncates it to its dma_mask, i.e. into
 * guest RAM. So every segment is checked; the walk is over the DMA segments
 * only (one comparison each), with a yield now and then.
 *
 * Context: Process context.
 * Return: 0, or -ERANGE if a segment ends beyond dma_get_mask().
 */
int p2pbuf_imp_check_reach(struct pci_dev *pdev, struct sg_table *sgt)
{
	u64 mask = dma_get_mask(&pdev->dev), last;
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		if (!sg_dma_len(sg))
			continue;
		if (check_add_overflow((u64)sg_dma_address(sg),
				       (u64)sg_dma_len(sg) - 1, &last) ||
		    last > mask) {
			dev_dbg(&pdev->dev,
				"mapping segment %u at %pad is beyond the DMA mask %#llx\n",
				i, &sg_dma_address(sg), mask);
			return -ERANGE;
		}
		if (!((i + 1) % 4096))
			cond_resched();
	}
	return 0;
}
