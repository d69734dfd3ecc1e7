// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf exporter: how an importer reaches the BAR.
 *
 * dma_buf_phys_vec_to_sgt() picks the mapping from pci_p2pdma_map_type(),
 * which modules cannot call (drivers/pci/p2pdma.c has no EXPORT_SYMBOL for
 * it). The exporter reports the same classification, derived from what it
 * can see. The rules themselves are in maptype_rules.c, as functions of a
 * description that KUnit can fake (maptype_kunit.c); this file describes
 * the real devices:
 *
 * 1. At attach, the route: pci_p2pdma_distance() (-1 for NOT_SUPPORTED),
 *    and the bridge/ACS walk of calc_map_type_and_dist() over the real
 *    pci_dev chain (p2pbuf_exp_fabric_route()). .attach refuses
 *    NOT_SUPPORTED with -EXDEV, so no attachment ever carries that type.
 *    The walk happens when pci_p2pdma_distance() has just filled the
 *    p2pdma cache that pci_p2pdma_map_type() later reads, so both look at
 *    the same ACS state.
 *
 * 2. At map, every DMA segment against the route, the importer's DMA
 *    domain (dev_dma_iommu(), else an IOMMU group means an identity
 *    domain), the BAR and the provider's bus offset, with the IOMMU's
 *    translation of IOVAs (p2pbuf_exp_seg_map_type()). An address that the
 *    route cannot produce is UNKNOWN rather than guessed.
 *
 * The ACS state can change between attach and map. What the map returned
 * therefore decides what dmabuf.c caches: only a table classified BUS_ADDR
 * is kept, and every map that disagrees with its route is counted.
 */
#include <linux/device.h>
#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/iommu.h>
#include <linux/moduleparam.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>
#include <linux/ratelimit.h>
#include <linux/scatterlist.h>

#include "maptype.h"
#include "p2pbuf_exporter.h"

/*
 * Test only: selftests/lifecycle_test's route_mismatch sets it to make
 * .attach believe every host-bridge route is BUS_ADDR, which the map then
 * contradicts: the disagreement a change of ACS between attach and map
 * would cause. Never set it otherwise.
 */
static bool p2pbuf_exp_test_force_bus_route;
module_param_named(test_force_bus_route, p2pbuf_exp_test_force_bus_route,
		   bool, 0600);
MODULE_PARM_DESC(test_force_bus_route,
		 "TEST ONLY, never set in production: make .attach take every host-bridge route for BUS_ADDR, which the map then contradicts (default N)");

static void *p2pbuf_exp_pci_upstream(void *node)
{
	/* Both devices hold references on their upstream bridges. */
	return pci_upstream_bridge(node);
}

static bool p2pbuf_exp_pci_acs_redirects(void *node)
{
	struct pci_dev *pdev = node;
	u16 ctrl;

	if (!pdev->acs_cap)
		return false;
	pci_read_config_word(pdev, pdev->acs_cap + PCI_ACS_CTRL, &ctrl);
	return ctrl & (PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_EC);
}

static const struct p2pbuf_exp_walk_ops p2pbuf_exp_pci_walk = {
	.upstream	= p2pbuf_exp_pci_upstream,
	.acs_redirects	= p2pbuf_exp_pci_acs_redirects,
};

/**
 * p2pbuf_exp_route() - check that p2pdma can route from the BAR to a device
 * @buf: the buffer being attached
 * @client: the importer's DMA device (dma_buf_attachment.dev)
 *
 * The explanation p2pdma can print for a refused route is useful but
 * userspace triggers it at will, so it is printed at most once every five
 * seconds.
 *
 * Context: the buffer's resv lock held and the buffer not revoked, which
 * keeps remove() and so the release of the p2pdma state away.
 * Return: PCI_P2PDMA_MAP_BUS_ADDR or PCI_P2PDMA_MAP_THRU_HOST_BRIDGE,
 * -EXDEV if @client is not a PCI function or p2pdma cannot route to it, or
 * -ENODEV (with a warning: a locking bug) if remove() already returned.
 */
int p2pbuf_exp_route(struct p2pbuf_exp_buf *buf, struct device *client)
{
	static DEFINE_RATELIMIT_STATE(explain, 5 * HZ, 1);
	struct p2pbuf_exp_dev *edev = buf->edev;
	struct pci_dev *provider = edev->pdev;
	int distance, route;
	bool fabric;

	dma_resv_assert_held(buf->dmabuf->resv);

	/* pci_p2pdma_map_type() does not look at parents, so neither do we. */
	if (!dev_is_pci(client))
		return -EXDEV;

	/* After remove() devres frees the p2pdma state we are about to use. */
	if (WARN_ONCE(READ_ONCE(edev->removed),
		      "%s: p2pdma reached after remove()\n", pci_name(provider)))
		return -ENODEV;

	distance = pci_p2pdma_distance(provider, client, false);
	if (distance < 0) {
		if (__ratelimit(&explain))
			pci_p2pdma_distance(provider, client, true);
		return -EXDEV;
	}

	fabric = p2pbuf_exp_fabric_route(&p2pbuf_exp_pci_walk, provider,
					 to_pci_dev(client));
	route = p2pbuf_exp_route_decide(distance, fabric);
	if (route == PCI_P2PDMA_MAP_THRU_HOST_BRIDGE &&
	    READ_ONCE(p2pbuf_exp_test_force_bus_route))
		return PCI_P2PDMA_MAP_BUS_ADDR;
	return route;
}

static u64 p2pbuf_exp_domain_iova_to_phys(const struct p2pbuf_exp_map_desc *desc,
					  u64 iova)
{
	return iommu_iova_to_phys(desc->priv, iova);
}

/* Every segment of @sgt by the rules of @desc; UNKNOWN unless all agree. */
static u32 p2pbuf_exp_classify(const struct p2pbuf_exp_map_desc *desc,
			       struct sg_table *sgt)
{
	u32 type = P2PBUF_MAP_UNKNOWN, t;
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		t = p2pbuf_exp_seg_map_type(desc, sg_dma_address(sg),
					    sg_dma_len(sg));
		type = p2pbuf_exp_map_type_merge(type, t, !i);
	}
	return type;
}

/**
 * p2pbuf_exp_map_type() - classify a mapping made by map_dma_buf
 * @buf: the buffer
 * @client: the importer's DMA device (dma_buf_attachment.dev)
 * @route: what p2pbuf_exp_route() returned for the attachment
 * @sgt: the table dma_buf_phys_vec_to_sgt() returned
 *
 * Context: the buffer's resv lock held, buffer not revoked (the provider is
 * valid), @client attached (its driver bound, so its IOMMU domain stays).
 * Return: an enum p2pbuf_map_type, see the comment at the top of this file;
 * a table that only the other route can produce is classified by that one.
 */
u32 p2pbuf_exp_map_type(const struct p2pbuf_exp_buf *buf,
			struct device *client, int route, struct sg_table *sgt)
{
	struct p2pbuf_exp_map_desc desc = {
		.route		= route,
		.dma		= P2PBUF_EXP_DMA_NO_IOMMU,
		.bar_start	= buf->bar_start,
		.bar_len	= buf->bar_len,
		.bus_offset	= buf->provider->bus_offset,
	};
	u32 type;

	if (dev_dma_iommu(client)) {
		desc.dma = P2PBUF_EXP_DMA_TRANSLATED;
		desc.iova_to_phys = p2pbuf_exp_domain_iova_to_phys;
		desc.priv = iommu_get_domain_for_dev(client);
		if (!desc.priv)
			return P2PBUF_MAP_UNKNOWN;
	} else if (device_iommu_mapped(client)) {
		desc.dma = P2PBUF_EXP_DMA_IDENTITY;
	}

	type = p2pbuf_exp_classify(&desc, sgt);
	if (type != P2PBUF_MAP_UNKNOWN)
		return type;
	/*
	 * dma_buf_phys_vec_to_sgt() asks p2pdma again at every map, and
	 * p2pdma's answer is refreshed by any later pci_p2pdma_distance() for
	 * this client: after an ACS change the table may be what the other
	 * route produces. Say what it is.
	 */
	if (route == PCI_P2PDMA_MAP_BUS_ADDR)
		desc.route = PCI_P2PDMA_MAP_THRU_HOST_BRIDGE;
	else if (route == PCI_P2PDMA_MAP_THRU_HOST_BRIDGE)
		desc.route = PCI_P2PDMA_MAP_BUS_ADDR;
	else
		return type;
	return p2pbuf_exp_classify(&desc, sgt);
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
