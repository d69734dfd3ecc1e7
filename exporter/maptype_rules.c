// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf exporter: the map-type rules, as pure functions of a description.
 *
 * Each rule is the one the 7.2 kernel applies; the comments name the place.
 * maptype.c describes the real devices and mappings, maptype_kunit.c
 * describes synthetic ones (bus offsets, ACS, IOMMU domains that the lab
 * cannot build). This file touches no hardware and takes no lock, so the
 * KUnit module builds its own copy of it.
 */
#include <linux/overflow.h>
#include <linux/pci-p2pdma.h>

#include <linux/p2pbuf.h>

#include "maptype.h"

/**
 * p2pbuf_exp_fabric_route() - does p2pdma route below a common bridge?
 * @ops: how to walk the hierarchy
 * @provider: the device that owns the BAR
 * @client: the importer's device
 *
 * The walk of calc_map_type_and_dist() (drivers/pci/p2pdma.c): for each
 * node from @provider upwards, test its ACS redirect, then look for it on
 * the chain from @client upwards. The first node found on both chains is
 * the common upstream bridge (or @provider itself when @provider ==
 * @client); ACS redirect then also counts on every node of the client's
 * chain below it. Three consequences that the walk keeps: the endpoints'
 * own ACS counts, the common bridge's ACS counts (it is tested on the
 * provider's side before it is found), and bridges above the common one do
 * not count.
 *
 * Return: true if a common upstream bridge exists and no node on the path
 * redirects: calc_map_type_and_dist() then returns PCI_P2PDMA_MAP_BUS_ADDR.
 */
bool p2pbuf_exp_fabric_route(const struct p2pbuf_exp_walk_ops *ops,
			     void *provider, void *client)
{
	bool redirect = false;
	void *common, *b;

	for (common = provider; common; common = ops->upstream(common)) {
		redirect |= ops->acs_redirects(common);
		for (b = client; b; b = ops->upstream(b))
			if (b == common)
				goto found;
	}
	return false;

found:
	for (b = client; b != common; b = ops->upstream(b))
		redirect |= ops->acs_redirects(b);
	return !redirect;
}

/**
 * p2pbuf_exp_route_decide() - the route p2pdma takes to an importer
 * @distance: what pci_p2pdma_distance() returned for the pair
 * @fabric: what p2pbuf_exp_fabric_route() returned for the pair
 *
 * pci_p2pdma_distance() is -1 exactly when calc_map_type_and_dist()
 * returned PCI_P2PDMA_MAP_NOT_SUPPORTED (pci_p2pdma_distance_many() in
 * drivers/pci/p2pdma.c). Otherwise the type is BUS_ADDR for a fabric route,
 * and THRU_HOST_BRIDGE when the route left the fabric (no common bridge, or
 * ACS redirect) but the CPU (cpu_supports_p2pdma()) or the host bridge
 * (host_bridge_whitelist()) allowed it.
 *
 * Return: PCI_P2PDMA_MAP_NOT_SUPPORTED, PCI_P2PDMA_MAP_BUS_ADDR or
 * PCI_P2PDMA_MAP_THRU_HOST_BRIDGE.
 */
int p2pbuf_exp_route_decide(int distance, bool fabric)
{
	if (distance < 0)
		return PCI_P2PDMA_MAP_NOT_SUPPORTED;
	return fabric ? PCI_P2PDMA_MAP_BUS_ADDR :
			PCI_P2PDMA_MAP_THRU_HOST_BRIDGE;
}

/* Is [@addr, @addr + @len) non-empty and inside [@start, @start + @size)? */
static bool p2pbuf_exp_inside(u64 addr, u64 len, u64 start, u64 size)
{
	u64 last, end;

	if (!len || !size || check_add_overflow(addr, len - 1, &last) ||
	    check_add_overflow(start, size - 1, &end))
		return false;
	return addr >= start && last <= end;
}

/**
 * p2pbuf_exp_seg_map_type() - classify one DMA segment of a mapping
 * @desc: the route, the importer's DMA domain and the BAR
 * @addr: the segment's DMA address (sg_dma_address())
 * @len: its length (sg_dma_len())
 *
 * dma_buf_phys_vec_to_sgt() (drivers/dma-buf/dma-buf-mapping.c) builds the
 * table from pci_p2pdma_map_type(), so each route gives exactly one kind of
 * address; an address of another kind means the description is wrong, and
 * the answer is UNKNOWN rather than a guess:
 *
 * - BUS_ADDR: pci_p2pdma_bus_addr_map(), the CPU physical address plus the
 *   provider's bus offset (include/linux/pci-p2pdma.h), whatever the
 *   importer's IOMMU domain: that branch makes no DMA API call.
 * - THRU_HOST_BRIDGE, importer without a DMA-API domain (no IOMMU, or an
 *   identity domain: iommu_setup_dma_ops() sets dev_dma_iommu() only for
 *   iommu_is_dma_domain(), drivers/iommu/dma-iommu.c): dma_map_phys() goes
 *   to dma_direct_map_phys(), which returns the physical address itself
 *   for DMA_ATTR_MMIO (kernel/dma/direct.h), neither the bus offset nor a
 *   dma_range_map offset applied: HOST_BRIDGE_DIRECT.
 * - THRU_HOST_BRIDGE, DMA-API domain: dma_iova_link() or
 *   iommu_dma_map_phys() return an IOVA that the domain translates to the
 *   BAR: HOST_BRIDGE_IOVA once both ends of the segment translate into it.
 * - NOT_SUPPORTED: mapping fails with -EINVAL (dma-buf-mapping.c), so no
 *   segment exists; reported as such.
 *
 * Return: an enum p2pbuf_map_type value.
 */
u32 p2pbuf_exp_seg_map_type(const struct p2pbuf_exp_map_desc *desc,
			    u64 addr, u64 len)
{
	u64 first, last;

	switch (desc->route) {
	case PCI_P2PDMA_MAP_BUS_ADDR:
		if (p2pbuf_exp_inside(addr, len,
				      desc->bar_start + desc->bus_offset,
				      desc->bar_len))
			return P2PBUF_MAP_BUS_ADDR;
		return P2PBUF_MAP_UNKNOWN;
	case PCI_P2PDMA_MAP_THRU_HOST_BRIDGE:
		break;
	case PCI_P2PDMA_MAP_NOT_SUPPORTED:
		return P2PBUF_MAP_NOT_SUPPORTED;
	default:
		return P2PBUF_MAP_UNKNOWN;
	}

	if (desc->dma != P2PBUF_EXP_DMA_TRANSLATED) {
		if (p2pbuf_exp_inside(addr, len, desc->bar_start, desc->bar_len))
			return P2PBUF_MAP_HOST_BRIDGE_DIRECT;
		return P2PBUF_MAP_UNKNOWN;
	}

	if (!len || check_add_overflow(addr, len - 1, &last) ||
	    !desc->iova_to_phys)
		return P2PBUF_MAP_UNKNOWN;
	first = desc->iova_to_phys(desc, addr);
	last = desc->iova_to_phys(desc, last);
	if (p2pbuf_exp_inside(first, 1, desc->bar_start, desc->bar_len) &&
	    p2pbuf_exp_inside(last, 1, desc->bar_start, desc->bar_len))
		return P2PBUF_MAP_HOST_BRIDGE_IOVA;
	return P2PBUF_MAP_UNKNOWN;
}

/**
 * p2pbuf_exp_map_type_merge() - the type of a mapping, one segment at a time
 * @sofar: the merged type of the segments before this one
 * @seg: this segment's type
 * @first: this is the first segment
 *
 * A mapping has one type: segments that disagree make it UNKNOWN.
 *
 * Return: the merged enum p2pbuf_map_type.
 */
u32 p2pbuf_exp_map_type_merge(u32 sofar, u32 seg, bool first)
{
	if (first || sofar == seg)
		return seg;
	return P2PBUF_MAP_UNKNOWN;
}
