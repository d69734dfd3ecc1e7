// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf importer: how a mapping reaches its memory, seen from the importer.
 *
 * The importer knows only the DMA addresses of the mapping and its own
 * device; not the exporter, not the exporter's p2pdma provider, and not what
 * pci_p2pdma_map_type() decided (it is not exported). It reconstructs the
 * answer from what it can see, one DMA segment at a time:
 *
 * 1. Translating IOMMU domain (iommu_get_domain_for_dev() is a paging
 *    domain): the address is an IOVA if iommu_iova_to_phys() resolves it.
 *    A resolved physical address inside a memory BAR of some PCI device is
 *    P2P through the host bridge's IOMMU (HOST_BRIDGE_IOVA); inside system
 *    RAM it is NOT_P2P. The IOVA allocator reserves the host bridge windows
 *    (iova_reserve_pci_windows()), so an IOVA never aliases a BAR's bus
 *    address. An address the domain does not translate can only be a bus
 *    address that p2pdma routes below the IOMMU (BUS_ADDR), see 2.
 * 2. Bus address inside a memory BAR (pci_bus_address() .. + length) of a
 *    device that shares an upstream bridge with the importer with no ACS
 *    redirection on the path - the rule calc_map_type_and_dist() applies:
 *    BUS_ADDR.
 * 3. No translation, CPU physical address inside a memory BAR
 *    (pci_resource_start() .. end) of a device that does not qualify for 2:
 *    HOST_BRIDGE_DIRECT (dma-direct maps MMIO at its physical address).
 * 4. No translation, dma_to_phys() of the address in system RAM: NOT_P2P.
 *
 * Anything else, or segments that disagree, is UNKNOWN. NOT_SUPPORTED is
 * never reported: such a mapping fails, and the importer only sees the
 * exporter's errno. Limits: BARs are looked up in the PCI device list at map
 * time (a device hot-added or reassigned later is not noticed); ACS is read
 * now while p2pdma caches its verdict per device pair; an importer device
 * that is not PCI, or memory that is neither RAM nor a PCI BAR (e.g. a
 * platform device's MMIO), gives UNKNOWN; a BUS_ADDR mapping under an IOMMU
 * is only recognised when the IOVA space does not map the bus address.
 */
#include <linux/dma-direct.h>
#include <linux/iommu.h>
#include <linux/ioport.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/pci.h>
#include <linux/scatterlist.h>

#include "p2pbuf_importer.h"

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

static bool p2pbuf_imp_acs_redirects(struct pci_dev *bridge)
{
	u16 ctrl;

	if (!bridge->acs_cap)
		return false;
	pci_read_config_word(bridge, bridge->acs_cap + PCI_ACS_CTRL, &ctrl);
	return ctrl & (PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_EC);
}

/*
 * Would a TLP from @client to @provider's BAR be routed by a common upstream
 * bridge (or be the same device) without ACS sending it up to the root?
 * Walks the same chains as calc_map_type_and_dist() in drivers/pci/p2pdma.c:
 * ACS redirection counts on the provider's side up to and including the
 * common ancestor, and on the client's side below it.
 */
static bool p2pbuf_imp_switch_routed(struct pci_dev *provider,
				     struct pci_dev *client)
{
	struct pci_dev *a, *b;
	bool redirect = false;

	for (a = provider; a; a = pci_upstream_bridge(a)) {
		redirect |= p2pbuf_imp_acs_redirects(a);
		for (b = client; b; b = pci_upstream_bridge(b))
			if (a == b)
				goto common;
	}
	return false;

common:
	for (b = client; b != a; b = pci_upstream_bridge(b))
		redirect |= p2pbuf_imp_acs_redirects(b);
	return !redirect;
}

static bool p2pbuf_imp_is_ram(phys_addr_t phys, u64 len)
{
	return region_intersects(phys, len, IORESOURCE_SYSTEM_RAM,
				 IORES_DESC_NONE) == REGION_INTERSECTS;
}

/* A physically contiguous run reached through the IOMMU. */
static u32 p2pbuf_imp_classify_phys(phys_addr_t phys, u64 len)
{
	struct pci_dev *owner;

	owner = p2pbuf_imp_bar_owner(phys, len, false);
	if (owner) {
		pci_dev_put(owner);
		return P2PBUF_MAP_HOST_BRIDGE_IOVA;
	}
	if (p2pbuf_imp_is_ram(phys, len))
		return P2PBUF_MAP_NOT_P2P;
	return P2PBUF_MAP_UNKNOWN;
}

/*
 * A segment in a translating domain: resolve it page by page, classify each
 * physically contiguous run. P2PBUF_MAP_UNKNOWN with *@untranslated set
 * means the first page is not mapped in the domain.
 */
static u32 p2pbuf_imp_classify_iova(struct iommu_domain *dom, dma_addr_t iova,
				    u64 len, bool *untranslated)
{
	u64 off = 0, run_len = 0, step;
	phys_addr_t phys, run = 0;
	u32 type = P2PBUF_MAP_UNKNOWN, t;

	*untranslated = false;
	while (off < len) {
		step = min_t(u64, len - off,
			     PAGE_SIZE - offset_in_page(iova + off));
		phys = iommu_iova_to_phys(dom, iova + off);
		if (!phys) {
			*untranslated = !off;
			return P2PBUF_MAP_UNKNOWN;
		}
		off += step;
		if (run_len && phys == run + run_len) {
			run_len += step;
			continue;
		}
		if (run_len) {
			t = p2pbuf_imp_classify_phys(run, run_len);
			if (t == P2PBUF_MAP_UNKNOWN ||
			    (type != P2PBUF_MAP_UNKNOWN && t != type))
				return P2PBUF_MAP_UNKNOWN;
			type = t;
		}
		run = phys;
		run_len = step;
	}
	t = p2pbuf_imp_classify_phys(run, run_len);
	if (type != P2PBUF_MAP_UNKNOWN && t != type)
		return P2PBUF_MAP_UNKNOWN;
	return t;
}

/* A bus address that no IOMMU translates (rules 2-4 above). */
static u32 p2pbuf_imp_classify_bus(struct pci_dev *client, dma_addr_t addr,
				   u64 len, bool translated)
{
	struct pci_dev *owner;
	u32 type = P2PBUF_MAP_UNKNOWN;

	owner = p2pbuf_imp_bar_owner(addr, len, true);
	if (owner) {
		if (p2pbuf_imp_switch_routed(owner, client))
			type = P2PBUF_MAP_BUS_ADDR;
		pci_dev_put(owner);
		if (type != P2PBUF_MAP_UNKNOWN || translated)
			return type;
	}
	if (translated)
		return P2PBUF_MAP_UNKNOWN;

	owner = p2pbuf_imp_bar_owner(addr, len, false);
	if (owner) {
		if (!p2pbuf_imp_switch_routed(owner, client))
			type = P2PBUF_MAP_HOST_BRIDGE_DIRECT;
		pci_dev_put(owner);
		return type;
	}
	if (p2pbuf_imp_is_ram(dma_to_phys(&client->dev, addr), len))
		return P2PBUF_MAP_NOT_P2P;
	return P2PBUF_MAP_UNKNOWN;
}

/**
 * p2pbuf_imp_map_type() - classify a mapping as the importing device sees it
 * @pdev: the importing device, whose DMA addresses @sgt holds
 * @sgt: a mapping of a dma-buf for @pdev
 *
 * See the comment at the top of this file for the rules and their limits.
 * Only sg_dma_address() and sg_dma_len() are used; a dma-buf mapping need
 * not have pages.
 *
 * Context: Process context.
 * Return: an enum p2pbuf_map_type value, never %P2PBUF_MAP_NOT_SUPPORTED.
 */
u32 p2pbuf_imp_map_type(struct pci_dev *pdev, struct sg_table *sgt)
{
	struct iommu_domain *dom = iommu_get_domain_for_dev(&pdev->dev);
	bool translated = dom && (dom->type & __IOMMU_DOMAIN_PAGING);
	u32 type = P2PBUF_MAP_UNKNOWN, t;
	struct scatterlist *sg;
	bool untranslated;
	unsigned int i;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		dma_addr_t addr = sg_dma_address(sg);
		u64 len = sg_dma_len(sg);

		untranslated = true;
		t = P2PBUF_MAP_UNKNOWN;
		if (translated)
			t = p2pbuf_imp_classify_iova(dom, addr, len,
						     &untranslated);
		if (untranslated)
			t = p2pbuf_imp_classify_bus(pdev, addr, len,
						    translated);
		if (t == P2PBUF_MAP_UNKNOWN || (i && t != type))
			return P2PBUF_MAP_UNKNOWN;
		type = t;
	}
	return type;
}
