/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pbuf exporter: the map-type rules, apart from the devices they are
 * applied to. maptype_rules.c decides from a description; maptype.c fills
 * the description in from the real devices; maptype_kunit.c feeds the rules
 * synthetic descriptions. Nothing here touches hardware.
 */
#ifndef P2PBUF_EXP_MAPTYPE_H
#define P2PBUF_EXP_MAPTYPE_H

#include <linux/types.h>

/**
 * struct p2pbuf_exp_walk_ops - a PCI hierarchy as p2pdma walks it
 * @upstream: the upstream bridge of a node (pci_upstream_bridge()), NULL
 *	above the last bridge below the host bridge.
 * @acs_redirects: whether a node's ACS control has RR, CR or EC set
 *	(pci_bridge_has_acs_redir() in drivers/pci/p2pdma.c).
 *
 * Nodes are opaque: struct pci_dev in the driver, a test's own structure
 * in KUnit.
 */
struct p2pbuf_exp_walk_ops {
	void *(*upstream)(void *node);
	bool (*acs_redirects)(void *node);
};

/**
 * enum p2pbuf_exp_client_dma - how the DMA API maps for the importer
 * @P2PBUF_EXP_DMA_NO_IOMMU: no IOMMU group: dma-direct.
 * @P2PBUF_EXP_DMA_IDENTITY: an IOMMU group whose domain the DMA API does
 *	not translate through (identity/passthrough): dma-direct as well.
 * @P2PBUF_EXP_DMA_TRANSLATED: a DMA-API domain (dev_dma_iommu()):
 *	dma-iommu hands out IOVAs.
 */
enum p2pbuf_exp_client_dma {
	P2PBUF_EXP_DMA_NO_IOMMU,
	P2PBUF_EXP_DMA_IDENTITY,
	P2PBUF_EXP_DMA_TRANSLATED,
};

/**
 * struct p2pbuf_exp_map_desc - what the map-type rules need to know
 * @route: enum pci_p2pdma_map_type of the route (p2pbuf_exp_route_decide()).
 * @dma: enum p2pbuf_exp_client_dma of the importer's device.
 * @bar_start: CPU physical address of the exported BAR.
 * @bar_len: length of the BAR.
 * @bus_offset: the provider's bus offset (bus address minus CPU address,
 *	modulo 2^64; struct p2pdma_provider.bus_offset).
 * @iova_to_phys: translation of the importer's domain, used only for
 *	%P2PBUF_EXP_DMA_TRANSLATED: the CPU physical address that @iova maps
 *	to, 0 if it is not mapped.
 * @priv: for @iova_to_phys.
 */
struct p2pbuf_exp_map_desc {
	int route;
	enum p2pbuf_exp_client_dma dma;
	u64 bar_start;
	u64 bar_len;
	u64 bus_offset;
	u64 (*iova_to_phys)(const struct p2pbuf_exp_map_desc *desc, u64 iova);
	void *priv;
};

bool p2pbuf_exp_fabric_route(const struct p2pbuf_exp_walk_ops *ops,
			     void *provider, void *client);
int p2pbuf_exp_route_decide(int distance, bool fabric);
u32 p2pbuf_exp_seg_map_type(const struct p2pbuf_exp_map_desc *desc,
			    u64 addr, u64 len);
u32 p2pbuf_exp_map_type_merge(u32 sofar, u32 seg, bool first);

#endif /* P2PBUF_EXP_MAPTYPE_H */
