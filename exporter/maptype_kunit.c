// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the exporter's map-type rules (maptype_rules.c), fed with
 * synthetic hierarchies and mappings: bus offsets, ACS redirect, identity
 * and translating IOMMU domains, and addresses that no route produces.
 *
 * Every expected value is what the 7.2 kernel does for that input, with the
 * place that says so; none is derived from the code under test. The lab
 * builds this module with P2PBUF_KUNIT=m and runs it through
 * selftests/kunit_maptype. It compiles its own copy of the rules, so it
 * needs no symbol of p2pbuf_exporter and may stay loaded while the lab
 * unloads and reloads the driver.
 */
#include <kunit/test.h>
#include <linux/module.h>
#include <linux/pci-p2pdma.h>
#include <linux/sizes.h>

#include <linux/p2pbuf.h>

#include "maptype.h"
#include "maptype_rules.c"

/* ---- the bridge/ACS walk ------------------------------------------------ */

struct p2pbuf_exp_test_node {
	struct p2pbuf_exp_test_node *up;
	bool acs;
};

static void *p2pbuf_exp_test_up(void *node)
{
	return ((struct p2pbuf_exp_test_node *)node)->up;
}

static bool p2pbuf_exp_test_acs(void *node)
{
	return ((struct p2pbuf_exp_test_node *)node)->acs;
}

static const struct p2pbuf_exp_walk_ops p2pbuf_exp_test_walk = {
	.upstream	= p2pbuf_exp_test_up,
	.acs_redirects	= p2pbuf_exp_test_acs,
};

/* Nodes with ACS redirect (RR, CR or EC) set, by bit. */
#define ACS_RP		BIT(0)	/* root port */
#define ACS_USP		BIT(1)	/* switch upstream port */
#define ACS_DSP_P	BIT(2)	/* switch downstream port above the provider */
#define ACS_DSP_C	BIT(3)	/* switch downstream port above the client */
#define ACS_PROV	BIT(4)	/* the provider function itself */
#define ACS_CLI		BIT(5)	/* the client function itself */

enum p2pbuf_exp_test_topo {
	TOPO_SAME,	/* provider and client are one function */
	TOPO_MF,	/* two functions of one device below a root port */
	TOPO_SWITCH,	/* root port, switch, one downstream port each */
	TOPO_TWO_RP,	/* one root port each */
};

struct p2pbuf_exp_walk_case {
	const char *name;
	enum p2pbuf_exp_test_topo topo;
	u32 acs;
	bool fabric;	/* calc_map_type_and_dist() reaches BUS_ADDR */
	int distance;	/* what pci_p2pdma_distance() would say */
	int route;	/* enum pci_p2pdma_map_type p2pdma picks */
};

/*
 * calc_map_type_and_dist() (drivers/pci/p2pdma.c): BUS_ADDR when a common
 * upstream bridge exists and no node counted by its two loops has ACS
 * redirect; otherwise THRU_HOST_BRIDGE if cpu_supports_p2pdma() (AMD Zen)
 * or host_bridge_whitelist() allows it, else NOT_SUPPORTED, which
 * pci_p2pdma_distance_many() reports as -1. The distances are the ones
 * its comment gives (0 same function, 2 same device, 4 same switch).
 */
static const struct p2pbuf_exp_walk_case p2pbuf_exp_walk_cases[] = {
	{ "same function: BUS_ADDR, distance 0", TOPO_SAME, 0, true, 0,
	  PCI_P2PDMA_MAP_BUS_ADDR },
	{ "two functions, no ACS (no IOMMU): BUS_ADDR", TOPO_MF, 0, true, 2,
	  PCI_P2PDMA_MAP_BUS_ADDR },
	{ "two functions, root port ACS redirect (IOMMU on), Intel host bridge: NOT_SUPPORTED",
	  TOPO_MF, ACS_RP, false, -1, PCI_P2PDMA_MAP_NOT_SUPPORTED },
	{ "two functions, root port ACS redirect, Zen CPU: THRU_HOST_BRIDGE",
	  TOPO_MF, ACS_RP, false, 2, PCI_P2PDMA_MAP_THRU_HOST_BRIDGE },
	{ "switch, no ACS: BUS_ADDR", TOPO_SWITCH, 0, true, 4,
	  PCI_P2PDMA_MAP_BUS_ADDR },
	{ "switch, ACS on the provider's downstream port, Zen: THRU_HOST_BRIDGE",
	  TOPO_SWITCH, ACS_DSP_P, false, 4, PCI_P2PDMA_MAP_THRU_HOST_BRIDGE },
	{ "switch, ACS on the client's downstream port, Intel: NOT_SUPPORTED",
	  TOPO_SWITCH, ACS_DSP_C, false, -1, PCI_P2PDMA_MAP_NOT_SUPPORTED },
	/* The provider-side loop tests the common bridge before finding it. */
	{ "switch, ACS on the common upstream port counts", TOPO_SWITCH,
	  ACS_USP, false, 4, PCI_P2PDMA_MAP_THRU_HOST_BRIDGE },
	/* Neither loop goes above the common bridge. */
	{ "switch, ACS on the root port above it does not count", TOPO_SWITCH,
	  ACS_RP, true, 4, PCI_P2PDMA_MAP_BUS_ADDR },
	/* Both loops start at the endpoints themselves. */
	{ "switch, ACS on the provider function counts", TOPO_SWITCH,
	  ACS_PROV, false, 4, PCI_P2PDMA_MAP_THRU_HOST_BRIDGE },
	{ "switch, ACS on the client function counts", TOPO_SWITCH,
	  ACS_CLI, false, -1, PCI_P2PDMA_MAP_NOT_SUPPORTED },
	{ "two root ports, Intel host bridge: NOT_SUPPORTED", TOPO_TWO_RP, 0,
	  false, -1, PCI_P2PDMA_MAP_NOT_SUPPORTED },
	{ "two root ports, Zen CPU: THRU_HOST_BRIDGE", TOPO_TWO_RP, 0, false,
	  4, PCI_P2PDMA_MAP_THRU_HOST_BRIDGE },
};

KUNIT_ARRAY_PARAM_DESC(p2pbuf_exp_walk, p2pbuf_exp_walk_cases, name);

static void p2pbuf_exp_test_walk_route(struct kunit *test)
{
	const struct p2pbuf_exp_walk_case *c = test->param_value;
	struct p2pbuf_exp_test_node rp = {}, rp2 = {}, usp = {}, dsp_p = {};
	struct p2pbuf_exp_test_node dsp_c = {}, prov = {}, cli = {};
	struct p2pbuf_exp_test_node *client = &cli;

	switch (c->topo) {
	case TOPO_SAME:
		prov.up = &rp;
		client = &prov;
		break;
	case TOPO_MF:
		prov.up = &rp;
		cli.up = &rp;
		break;
	case TOPO_SWITCH:
		usp.up = &rp;
		dsp_p.up = &usp;
		dsp_c.up = &usp;
		prov.up = &dsp_p;
		cli.up = &dsp_c;
		break;
	case TOPO_TWO_RP:
		prov.up = &rp;
		cli.up = &rp2;
		break;
	}
	rp.acs = c->acs & ACS_RP;
	usp.acs = c->acs & ACS_USP;
	dsp_p.acs = c->acs & ACS_DSP_P;
	dsp_c.acs = c->acs & ACS_DSP_C;
	prov.acs = c->acs & ACS_PROV;
	cli.acs = c->acs & ACS_CLI;

	KUNIT_EXPECT_EQ(test, p2pbuf_exp_fabric_route(&p2pbuf_exp_test_walk,
						      &prov, client),
			c->fabric);
	KUNIT_EXPECT_EQ(test, p2pbuf_exp_route_decide(c->distance, c->fabric),
			c->route);
}

/* ---- one DMA segment ---------------------------------------------------- */

#define X86_BAR		0xf4000000ULL		/* the lab's ivshmem BAR2 */
#define OFS_CPU		0x4000000000ULL		/* a BAR behind a bus offset */
#define OFS_BUS		0x40000000ULL		/* its bus address */
#define OFS_OFFSET	(OFS_BUS - OFS_CPU)	/* negative, modulo 2^64 */
#define BAR_LEN		SZ_64M
#define IOVA_BAR	0xbc000000ULL		/* an IOVA window onto the BAR */
#define IOVA_RAM	0xa0000000ULL		/* an IOVA window onto RAM */
#define RAM_PHYS	0x10000000ULL

/* A DMA-API domain: two windows of BAR_LEN. */
static u64 p2pbuf_exp_test_iova_to_phys(const struct p2pbuf_exp_map_desc *d,
					u64 iova)
{
	if (iova >= IOVA_BAR && iova < IOVA_BAR + BAR_LEN)
		return d->bar_start + (iova - IOVA_BAR);
	if (iova >= IOVA_RAM && iova < IOVA_RAM + BAR_LEN)
		return RAM_PHYS + (iova - IOVA_RAM);
	return 0;
}

struct p2pbuf_exp_seg_case {
	const char *name;
	int route;
	enum p2pbuf_exp_client_dma dma;
	u64 bar_start;
	u64 bus_offset;
	u64 addr;
	u64 len;
	u32 want;
};

#define BUS	PCI_P2PDMA_MAP_BUS_ADDR
#define THB	PCI_P2PDMA_MAP_THRU_HOST_BRIDGE
#define NO_IOMMU	P2PBUF_EXP_DMA_NO_IOMMU
#define IDENTITY	P2PBUF_EXP_DMA_IDENTITY
#define TRANSLATED	P2PBUF_EXP_DMA_TRANSLATED

/*
 * BUS_ADDR: dma_buf_phys_vec_to_sgt() uses pci_p2pdma_bus_addr_map(),
 * physical address + provider->bus_offset, and no DMA API call, whatever
 * the domain (drivers/dma-buf/dma-buf-mapping.c, include/linux/pci-p2pdma.h).
 * THRU_HOST_BRIDGE without a DMA-API domain: dma_direct_map_phys() returns
 * the physical address unchanged for DMA_ATTR_MMIO (kernel/dma/direct.h);
 * an identity domain leaves dev_dma_iommu() clear (iommu_setup_dma_ops(),
 * drivers/iommu/dma-iommu.c), so it is dma-direct too. With a DMA-API
 * domain the address is an IOVA that translates to the BAR.
 */
static const struct p2pbuf_exp_seg_case p2pbuf_exp_seg_cases[] = {
	{ "BUS_ADDR, no IOMMU, bus offset 0: bus address", BUS, NO_IOMMU,
	  X86_BAR, 0, X86_BAR + SZ_8K, SZ_4K, P2PBUF_MAP_BUS_ADDR },
	{ "BUS_ADDR, bus offset != 0: bus address", BUS, NO_IOMMU,
	  OFS_CPU, OFS_OFFSET, OFS_BUS + SZ_8K, SZ_4K, P2PBUF_MAP_BUS_ADDR },
	{ "BUS_ADDR, bus offset != 0: CPU address is wrong", BUS, NO_IOMMU,
	  OFS_CPU, OFS_OFFSET, OFS_CPU + SZ_8K, SZ_4K, P2PBUF_MAP_UNKNOWN },
	{ "BUS_ADDR, positive bus offset: bus address", BUS, NO_IOMMU,
	  X86_BAR, SZ_4G, X86_BAR + SZ_4G, BAR_LEN, P2PBUF_MAP_BUS_ADDR },
	{ "BUS_ADDR in a translating domain (switch + IOMMU)", BUS, TRANSLATED,
	  X86_BAR, 0, X86_BAR, BAR_LEN, P2PBUF_MAP_BUS_ADDR },
	{ "BUS_ADDR in an identity domain (iommu.passthrough=1)", BUS, IDENTITY,
	  X86_BAR, 0, X86_BAR + SZ_4K, SZ_4K, P2PBUF_MAP_BUS_ADDR },
	{ "BUS_ADDR, segment past the end of the BAR", BUS, NO_IOMMU,
	  X86_BAR, 0, X86_BAR + BAR_LEN - SZ_4K, SZ_8K, P2PBUF_MAP_UNKNOWN },
	{ "BUS_ADDR, wrong address below the BAR", BUS, NO_IOMMU,
	  X86_BAR, 0, X86_BAR - SZ_4K, SZ_4K, P2PBUF_MAP_UNKNOWN },
	{ "host bridge, no IOMMU: physical address", THB, NO_IOMMU,
	  X86_BAR, 0, X86_BAR, SZ_4K, P2PBUF_MAP_HOST_BRIDGE_DIRECT },
	{ "host bridge, identity domain: physical address", THB, IDENTITY,
	  X86_BAR, 0, X86_BAR + SZ_1M, SZ_1M, P2PBUF_MAP_HOST_BRIDGE_DIRECT },
	{ "host bridge, bus offset != 0: physical address", THB, NO_IOMMU,
	  OFS_CPU, OFS_OFFSET, OFS_CPU, SZ_4K, P2PBUF_MAP_HOST_BRIDGE_DIRECT },
	{ "host bridge, bus offset != 0: bus address is wrong", THB, NO_IOMMU,
	  OFS_CPU, OFS_OFFSET, OFS_BUS, SZ_4K, P2PBUF_MAP_UNKNOWN },
	/* Not an IOVA: there is no IOMMU. Reported as IOVA before the fix. */
	{ "host bridge, dma-direct address with an offset is wrong", THB,
	  NO_IOMMU, X86_BAR, 0, X86_BAR + SZ_4G, SZ_4K, P2PBUF_MAP_UNKNOWN },
	{ "host bridge, identity domain: wrong address", THB, IDENTITY,
	  X86_BAR, 0, RAM_PHYS, SZ_4K, P2PBUF_MAP_UNKNOWN },
	{ "host bridge, translating domain: IOVA of the BAR", THB, TRANSLATED,
	  X86_BAR, 0, IOVA_BAR + SZ_4K, SZ_8K, P2PBUF_MAP_HOST_BRIDGE_IOVA },
	{ "host bridge, translating domain, bus offset != 0: IOVA", THB,
	  TRANSLATED, OFS_CPU, OFS_OFFSET, IOVA_BAR, BAR_LEN,
	  P2PBUF_MAP_HOST_BRIDGE_IOVA },
	{ "host bridge, translating domain: physical address is wrong", THB,
	  TRANSLATED, X86_BAR, 0, X86_BAR, SZ_4K, P2PBUF_MAP_UNKNOWN },
	{ "host bridge, translating domain: IOVA of RAM is wrong", THB,
	  TRANSLATED, X86_BAR, 0, IOVA_RAM, SZ_4K, P2PBUF_MAP_UNKNOWN },
	{ "host bridge, translating domain: IOVA past its window", THB,
	  TRANSLATED, X86_BAR, 0, IOVA_BAR + BAR_LEN - SZ_4K, SZ_8K,
	  P2PBUF_MAP_UNKNOWN },
	/* dma_buf_phys_vec_to_sgt() fails with -EINVAL: nothing to see. */
	{ "NOT_SUPPORTED route", PCI_P2PDMA_MAP_NOT_SUPPORTED, NO_IOMMU,
	  X86_BAR, 0, X86_BAR, SZ_4K, P2PBUF_MAP_NOT_SUPPORTED },
	{ "empty segment", BUS, NO_IOMMU, X86_BAR, 0, X86_BAR, 0,
	  P2PBUF_MAP_UNKNOWN },
	{ "segment wrapping past 2^64", THB, NO_IOMMU, X86_BAR, 0,
	  U64_MAX - SZ_4K + 1, SZ_8K, P2PBUF_MAP_UNKNOWN },
};

KUNIT_ARRAY_PARAM_DESC(p2pbuf_exp_seg, p2pbuf_exp_seg_cases, name);

static void p2pbuf_exp_test_seg(struct kunit *test)
{
	const struct p2pbuf_exp_seg_case *c = test->param_value;
	const struct p2pbuf_exp_map_desc desc = {
		.route		= c->route,
		.dma		= c->dma,
		.bar_start	= c->bar_start,
		.bar_len	= BAR_LEN,
		.bus_offset	= c->bus_offset,
		.iova_to_phys	= p2pbuf_exp_test_iova_to_phys,
	};

	KUNIT_EXPECT_EQ(test, p2pbuf_exp_seg_map_type(&desc, c->addr, c->len),
			c->want);
}

/* A translating domain that nobody told us how to translate. */
static void p2pbuf_exp_test_no_translation(struct kunit *test)
{
	const struct p2pbuf_exp_map_desc desc = {
		.route		= THB,
		.dma		= TRANSLATED,
		.bar_start	= X86_BAR,
		.bar_len	= BAR_LEN,
	};

	KUNIT_EXPECT_EQ(test, p2pbuf_exp_seg_map_type(&desc, IOVA_BAR, SZ_4K),
			(u32)P2PBUF_MAP_UNKNOWN);
}

/* A mapping has one type: segments that disagree make it UNKNOWN. */
static void p2pbuf_exp_test_merge(struct kunit *test)
{
	static const struct {
		u32 segs[3];
		unsigned int n;
		u32 want;
	} cases[] = {
		{ { P2PBUF_MAP_BUS_ADDR }, 1, P2PBUF_MAP_BUS_ADDR },
		{ { P2PBUF_MAP_BUS_ADDR, P2PBUF_MAP_BUS_ADDR }, 2,
		  P2PBUF_MAP_BUS_ADDR },
		{ { P2PBUF_MAP_HOST_BRIDGE_IOVA, P2PBUF_MAP_HOST_BRIDGE_DIRECT },
		  2, P2PBUF_MAP_UNKNOWN },
		{ { P2PBUF_MAP_HOST_BRIDGE_DIRECT, P2PBUF_MAP_UNKNOWN,
		    P2PBUF_MAP_HOST_BRIDGE_DIRECT }, 3, P2PBUF_MAP_UNKNOWN },
		{ { P2PBUF_MAP_UNKNOWN, P2PBUF_MAP_UNKNOWN }, 2,
		  P2PBUF_MAP_UNKNOWN },
	};
	unsigned int i, j;
	u32 type;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		type = P2PBUF_MAP_UNKNOWN;
		for (j = 0; j < cases[i].n; j++)
			type = p2pbuf_exp_map_type_merge(type,
							 cases[i].segs[j], !j);
		KUNIT_EXPECT_EQ_MSG(test, type, cases[i].want, "case %u", i);
	}
}

static struct kunit_case p2pbuf_exp_maptype_cases[] = {
	KUNIT_CASE_PARAM(p2pbuf_exp_test_walk_route, p2pbuf_exp_walk_gen_params),
	KUNIT_CASE_PARAM(p2pbuf_exp_test_seg, p2pbuf_exp_seg_gen_params),
	KUNIT_CASE(p2pbuf_exp_test_no_translation),
	KUNIT_CASE(p2pbuf_exp_test_merge),
	{}
};

static struct kunit_suite p2pbuf_exp_maptype_suite = {
	.name = "p2pbuf_exp_maptype",
	.test_cases = p2pbuf_exp_maptype_cases,
};

kunit_test_suite(p2pbuf_exp_maptype_suite);

MODULE_DESCRIPTION("KUnit tests of p2pbuf_exporter's map-type rules");
MODULE_LICENSE("GPL");
