// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf importer: the map-type rules, as pure functions of a view.
 *
 * The importer sees only the DMA addresses of a mapping and its own device.
 * These rules say what the 7.2 kernel's mapping paths produce, with the
 * place that says so, and ask a struct p2pbuf_imp_view the rest (whose BAR
 * an address is in, what the IOMMU maps it to, whether it is RAM).
 * maptype.c answers from the real system, maptype_kunit.c from synthetic
 * ones. This file touches no hardware and takes no lock, so the KUnit
 * module builds its own copy of it.
 */
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/overflow.h>

#include <linux/p2pbuf.h>

#include "maptype.h"

/**
 * p2pbuf_imp_switch_routed() - does p2pdma route below a common bridge?
 * @ops: how to walk the hierarchy
 * @provider: the device that owns the BAR
 * @client: the importing device
 *
 * The walk of calc_map_type_and_dist() (drivers/pci/p2pdma.c): ACS
 * redirect counts on the provider's chain up to and including the first
 * node that is also on the client's chain (the common upstream bridge, or
 * the device itself), and on the client's chain below that node. The
 * endpoints' own ACS counts; bridges above the common one do not.
 *
 * Return: true if calc_map_type_and_dist() gives PCI_P2PDMA_MAP_BUS_ADDR
 * for the pair.
 */
bool p2pbuf_imp_switch_routed(const struct p2pbuf_imp_walk_ops *ops,
			      void *provider, void *client)
{
	bool redirect = false;
	void *a, *b;

	for (a = provider; a; a = ops->upstream(a)) {
		redirect |= ops->acs_redirects(a);
		for (b = client; b; b = ops->upstream(b))
			if (a == b)
				goto common;
	}
	return false;

common:
	for (b = client; b != a; b = ops->upstream(b))
		redirect |= ops->acs_redirects(b);
	return !redirect;
}

/**
 * p2pbuf_imp_map_type_merge() - the type of a mapping, one part at a time
 * @sofar: the merged type of the parts before this one
 * @seg: this part's type
 * @first: this is the first part
 *
 * A mapping has one type: parts that disagree make it UNKNOWN.
 *
 * Return: the merged enum p2pbuf_map_type.
 */
u32 p2pbuf_imp_map_type_merge(u32 sofar, u32 seg, bool first)
{
	if (first || sofar == seg)
		return seg;
	return P2PBUF_MAP_UNKNOWN;
}

/*
 * A physically contiguous run behind an IOVA. iova_reserve_pci_windows()
 * (drivers/iommu/dma-iommu.c) keeps IOVAs out of the host bridge windows,
 * so a run in a BAR got there through the IOMMU: HOST_BRIDGE_IOVA.
 */
static u32 p2pbuf_imp_iova_run_type(const struct p2pbuf_imp_view *view,
				    u64 phys, u64 len)
{
	if (view->ops->bar(view, phys, len, false) != P2PBUF_IMP_BAR_NONE)
		return P2PBUF_MAP_HOST_BRIDGE_IOVA;
	if (view->ops->is_ram(view, phys, len))
		return P2PBUF_MAP_NOT_P2P;
	return P2PBUF_MAP_UNKNOWN;
}

/*
 * A segment in a DMA-API domain, translated page by page and classified
 * one physically contiguous run at a time. *@untranslated is set when its
 * first page is not mapped at all; a segment mapped in part is UNKNOWN.
 * With a page budget (@view->pages) only that many pages are resolved, and
 * the budget is consumed.
 */
static u32 p2pbuf_imp_iova_type(const struct p2pbuf_imp_view *view,
				u64 iova, u64 len, bool *untranslated)
{
	u64 off = 0, run = 0, run_len = 0, step, phys;
	u32 type = P2PBUF_MAP_UNKNOWN, t;
	bool first = true;

	*untranslated = false;
	while (off < len) {
		/* Out of budget: the segment is what its prefix is. */
		if (view->pages) {
			if (!*view->pages)
				break;
			(*view->pages)--;
		}
		step = min_t(u64, len - off,
			     PAGE_SIZE - offset_in_page(iova + off));
		phys = view->ops->iova_to_phys(view, iova + off);
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
			t = p2pbuf_imp_iova_run_type(view, run, run_len);
			type = p2pbuf_imp_map_type_merge(type, t, first);
			if (type == P2PBUF_MAP_UNKNOWN)
				return type;
			first = false;
		}
		run = phys;
		run_len = step;
	}
	t = p2pbuf_imp_iova_run_type(view, run, run_len);
	return p2pbuf_imp_map_type_merge(type, t, first);
}

/**
 * p2pbuf_imp_seg_map_type() - classify one DMA segment of a mapping
 * @view: the system as the importing device sees it
 * @addr: the segment's DMA address (sg_dma_address())
 * @len: its length (sg_dma_len())
 *
 * What dma_buf_phys_vec_to_sgt() (drivers/dma-buf/dma-buf-mapping.c) and
 * the DMA API produce, recognised from the address:
 *
 * 1. DMA-API domain (dev_dma_iommu()), address mapped by the domain: an
 *    IOVA. Into a BAR: HOST_BRIDGE_IOVA; into RAM: NOT_P2P.
 * 2. BUS_ADDR makes no DMA API call whatever the domain: the address is
 *    pci_p2pdma_bus_addr_map(), the BAR's bus address
 *    (include/linux/pci-p2pdma.h), of a device that
 *    calc_map_type_and_dist() reaches below a common bridge. So a bus
 *    address of such a device that the domain does not map is BUS_ADDR.
 * 3. No DMA-API domain (no IOMMU, or an identity domain, which leaves
 *    dev_dma_iommu() clear: iommu_setup_dma_ops() in
 *    drivers/iommu/dma-iommu.c): dma_direct_map_phys() returns MMIO at its
 *    physical address, with no offset (kernel/dma/direct.h), so a CPU
 *    physical address in a BAR of a device reached through the host bridge
 *    is HOST_BRIDGE_DIRECT; one of a fabric-routed device cannot come from
 *    p2pdma (it would have used rule 2) and is UNKNOWN.
 * 4. No DMA-API domain, dma_to_phys() of the address in RAM: NOT_P2P (RAM,
 *    unlike MMIO, is mapped with phys_to_dma() and its offsets).
 *
 * Anything else is UNKNOWN: an address that no route produces. NOT_SUPPORTED
 * is never returned: such a mapping fails, and the importer only sees the
 * exporter's errno.
 *
 * Return: an enum p2pbuf_map_type value.
 */
u32 p2pbuf_imp_seg_map_type(const struct p2pbuf_imp_view *view,
			    u64 addr, u64 len)
{
	const struct p2pbuf_imp_view_ops *ops = view->ops;
	bool untranslated;
	u64 last;
	u32 type;

	if (!len || check_add_overflow(addr, len - 1, &last))
		return P2PBUF_MAP_UNKNOWN;

	if (view->dma == P2PBUF_IMP_DMA_TRANSLATED) {
		type = p2pbuf_imp_iova_type(view, addr, len, &untranslated);
		if (!untranslated)
			return type;
		if (ops->bar(view, addr, len, true) == P2PBUF_IMP_BAR_FABRIC)
			return P2PBUF_MAP_BUS_ADDR;
		return P2PBUF_MAP_UNKNOWN;
	}

	if (ops->bar(view, addr, len, true) == P2PBUF_IMP_BAR_FABRIC)
		return P2PBUF_MAP_BUS_ADDR;
	switch (ops->bar(view, addr, len, false)) {
	case P2PBUF_IMP_BAR_HOST:
		return P2PBUF_MAP_HOST_BRIDGE_DIRECT;
	case P2PBUF_IMP_BAR_FABRIC:
		return P2PBUF_MAP_UNKNOWN;
	case P2PBUF_IMP_BAR_NONE:
		break;
	}
	if (ops->is_ram(view, ops->dma_to_phys(view, addr), len))
		return P2PBUF_MAP_NOT_P2P;
	return P2PBUF_MAP_UNKNOWN;
}
