/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pbuf importer: the map-type rules, apart from the devices they are
 * applied to. maptype_rules.c decides from what a view of the system
 * answers; maptype.c answers from the real system; maptype_kunit.c from a
 * synthetic one. Nothing here touches hardware.
 */
#ifndef P2PBUF_IMP_MAPTYPE_H
#define P2PBUF_IMP_MAPTYPE_H

#include <linux/types.h>

/**
 * struct p2pbuf_imp_walk_ops - a PCI hierarchy as p2pdma walks it
 * @upstream: the upstream bridge of a node (pci_upstream_bridge()), NULL
 *	above the last bridge below the host bridge.
 * @acs_redirects: whether a node's ACS control has RR, CR or EC set
 *	(pci_bridge_has_acs_redir() in drivers/pci/p2pdma.c).
 */
struct p2pbuf_imp_walk_ops {
	void *(*upstream)(void *node);
	bool (*acs_redirects)(void *node);
};

/**
 * enum p2pbuf_imp_client_dma - how the DMA API maps for the importer
 * @P2PBUF_IMP_DMA_NO_IOMMU: no IOMMU group: dma-direct.
 * @P2PBUF_IMP_DMA_IDENTITY: an IOMMU group whose domain the DMA API does
 *	not translate through (identity/passthrough): dma-direct as well.
 * @P2PBUF_IMP_DMA_TRANSLATED: a DMA-API domain (dev_dma_iommu()).
 */
enum p2pbuf_imp_client_dma {
	P2PBUF_IMP_DMA_NO_IOMMU,
	P2PBUF_IMP_DMA_IDENTITY,
	P2PBUF_IMP_DMA_TRANSLATED,
};

/**
 * enum p2pbuf_imp_bar - whose memory BAR an address range lies in
 * @P2PBUF_IMP_BAR_NONE: no PCI device's memory BAR.
 * @P2PBUF_IMP_BAR_FABRIC: a BAR of a device that p2pdma reaches from the
 *	importer below a common upstream bridge (p2pbuf_imp_switch_routed()).
 * @P2PBUF_IMP_BAR_HOST: a BAR of any other device: p2pdma would go through
 *	the host bridge.
 */
enum p2pbuf_imp_bar {
	P2PBUF_IMP_BAR_NONE,
	P2PBUF_IMP_BAR_FABRIC,
	P2PBUF_IMP_BAR_HOST,
};

struct p2pbuf_imp_view;

/**
 * struct p2pbuf_imp_view_ops - what the rules ask about the system
 * @bar: whose memory BAR [@addr, @addr + @len) lies in, read as a PCI bus
 *	address if @bus, else as a CPU physical address.
 * @is_ram: whether [@phys, @phys + @len) is system RAM.
 * @iova_to_phys: what the importer's DMA-API domain maps @iova to, 0 if
 *	nothing (%P2PBUF_IMP_DMA_TRANSLATED only).
 * @dma_to_phys: dma-direct's dma_to_phys() for the importer.
 */
struct p2pbuf_imp_view_ops {
	enum p2pbuf_imp_bar (*bar)(const struct p2pbuf_imp_view *view,
				   u64 addr, u64 len, bool bus);
	bool (*is_ram)(const struct p2pbuf_imp_view *view, u64 phys, u64 len);
	u64 (*iova_to_phys)(const struct p2pbuf_imp_view *view, u64 iova);
	u64 (*dma_to_phys)(const struct p2pbuf_imp_view *view, u64 addr);
};

/**
 * struct p2pbuf_imp_view - the system as the importer's device sees it
 * @dma: enum p2pbuf_imp_client_dma of the importing device.
 * @ops: the questions the rules ask.
 * @priv: for @ops.
 * @pages: if not NULL, how many more IOMMU pages the rules may resolve;
 *	they consume it (the real view's bound, see maptype.c).
 */
struct p2pbuf_imp_view {
	enum p2pbuf_imp_client_dma dma;
	const struct p2pbuf_imp_view_ops *ops;
	void *priv;
	unsigned int *pages;
};

bool p2pbuf_imp_switch_routed(const struct p2pbuf_imp_walk_ops *ops,
			      void *provider, void *client);
u32 p2pbuf_imp_seg_map_type(const struct p2pbuf_imp_view *view,
			    u64 addr, u64 len);
u32 p2pbuf_imp_map_type_merge(u32 sofar, u32 seg, bool first);

#endif /* P2PBUF_IMP_MAPTYPE_H */
