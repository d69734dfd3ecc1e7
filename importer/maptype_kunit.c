// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the importer's map-type rules (maptype_rules.c), fed with
 * a synthetic system: BARs with and without a bus offset, reached below a
 * common bridge or through the host bridge (ACS redirect, separate root
 * ports), RAM, a DMA-API domain's page table, dma-direct offsets.
 *
 * Every expected value is what the 7.2 kernel produces for that mapping,
 * with the place that says so; none is derived from the code under test.
 * The lab builds this module with P2PBUF_KUNIT=m and runs it through
 * selftests/kunit_maptype. It compiles its own copy of the rules, so it
 * needs no symbol of p2pbuf_importer and may stay loaded while the lab
 * unloads and reloads the driver.
 */
#include <kunit/test.h>
#include <linux/module.h>
#include <linux/sizes.h>

#include <linux/p2pbuf.h>

#include "maptype.h"
#include "maptype_rules.c"

/* ---- the bridge/ACS walk ------------------------------------------------ */

struct p2pbuf_imp_test_node {
	struct p2pbuf_imp_test_node *up;
	bool acs;
};

static void *p2pbuf_imp_test_up(void *node)
{
	return ((struct p2pbuf_imp_test_node *)node)->up;
}

static bool p2pbuf_imp_test_acs(void *node)
{
	return ((struct p2pbuf_imp_test_node *)node)->acs;
}

static const struct p2pbuf_imp_walk_ops p2pbuf_imp_test_walk = {
	.upstream	= p2pbuf_imp_test_up,
	.acs_redirects	= p2pbuf_imp_test_acs,
};

/*
 * calc_map_type_and_dist() (drivers/pci/p2pdma.c) with a switch: root
 * port, upstream port, one downstream port above each device. Its
 * provider-side loop tests each node for ACS redirect before it looks for
 * it on the client's chain, and its client-side loop stops at the common
 * node: the endpoints and the common bridge count, the root port above the
 * switch does not.
 */
static void p2pbuf_imp_test_walk_switch(struct kunit *test)
{
	struct p2pbuf_imp_test_node rp = {}, usp = { .up = &rp };
	struct p2pbuf_imp_test_node dsp_p = { .up = &usp }, dsp_c = { .up = &usp };
	struct p2pbuf_imp_test_node prov = { .up = &dsp_p }, cli = { .up = &dsp_c };
	struct p2pbuf_imp_test_node *nodes[] = { &rp, &usp, &dsp_p, &dsp_c,
						 &prov, &cli };
	/* Does ACS redirect on nodes[i] alone still give BUS_ADDR? */
	static const bool fabric_with_acs_on[] = {
		true,	/* root port above the common bridge */
		false,	/* the common upstream port */
		false,	/* provider's downstream port */
		false,	/* client's downstream port */
		false,	/* the provider function */
		false,	/* the client function */
	};
	unsigned int i;

	KUNIT_EXPECT_TRUE(test, p2pbuf_imp_switch_routed(&p2pbuf_imp_test_walk,
							 &prov, &cli));
	for (i = 0; i < ARRAY_SIZE(nodes); i++) {
		nodes[i]->acs = true;
		KUNIT_EXPECT_EQ_MSG(test,
				    p2pbuf_imp_switch_routed(&p2pbuf_imp_test_walk,
							     &prov, &cli),
				    fabric_with_acs_on[i], "ACS on node %u", i);
		nodes[i]->acs = false;
	}
}

/*
 * Same function: distance 0, BUS_ADDR. Two functions below one root port:
 * BUS_ADDR without ACS; with the root port's ACS redirect, which Linux
 * enables when an IOMMU is on (QEMU's root port then reads 0x1d), not.
 * One root port each: no common bridge, never.
 */
static void p2pbuf_imp_test_walk_other(struct kunit *test)
{
	struct p2pbuf_imp_test_node rp = {}, rp2 = {};
	struct p2pbuf_imp_test_node f0 = { .up = &rp }, f1 = { .up = &rp };
	struct p2pbuf_imp_test_node other = { .up = &rp2 };

	KUNIT_EXPECT_TRUE(test, p2pbuf_imp_switch_routed(&p2pbuf_imp_test_walk,
							 &f0, &f0));
	KUNIT_EXPECT_TRUE(test, p2pbuf_imp_switch_routed(&p2pbuf_imp_test_walk,
							 &f0, &f1));
	rp.acs = true;
	KUNIT_EXPECT_FALSE(test, p2pbuf_imp_switch_routed(&p2pbuf_imp_test_walk,
							  &f0, &f1));
	rp.acs = false;
	KUNIT_EXPECT_FALSE(test, p2pbuf_imp_switch_routed(&p2pbuf_imp_test_walk,
							  &f0, &other));
}

/* ---- a synthetic system ------------------------------------------------- */

struct p2pbuf_imp_test_bar {
	u64 cpu;
	u64 bus;
	enum p2pbuf_imp_bar route;
};

struct p2pbuf_imp_test_map {
	u64 iova;
	u64 phys;
	u64 len;
};

#define BAR_LEN		SZ_64M
#define RAM_END		SZ_1G			/* RAM is [0, 1 GiB) */
#define SW_BAR		0xf4000000ULL		/* switch peer, as in the lab */
#define RP_BAR		0xf8000000ULL		/* host-bridge peer */
#define OFS_SW_CPU	0x4000000000ULL		/* switch peer behind an offset */
#define OFS_SW_BUS	0x50000000ULL
#define OFS_RP_CPU	0x4080000000ULL		/* host-bridge peer, offset */
#define OFS_RP_BUS	0xc0000000ULL
#define RAM_PAGE	0x10000000ULL
#define NOT_RAM		0x60000000ULL		/* neither RAM nor a BAR */
#define DMA_OFFSET	0x80000000ULL		/* a dma_range_map offset */

static const struct p2pbuf_imp_test_bar p2pbuf_imp_test_bars[] = {
	{ SW_BAR, SW_BAR, P2PBUF_IMP_BAR_FABRIC },
	{ RP_BAR, RP_BAR, P2PBUF_IMP_BAR_HOST },
	{ OFS_SW_CPU, OFS_SW_BUS, P2PBUF_IMP_BAR_FABRIC },
	{ OFS_RP_CPU, OFS_RP_BUS, P2PBUF_IMP_BAR_HOST },
};

#define IOVA_BAR	0xbc000000ULL	/* the whole of RP_BAR */
#define IOVA_RAM	0xa0000000ULL	/* 1 MiB of RAM */
#define IOVA_SPLIT	0xb0000000ULL	/* two BAR pages, not contiguous */
#define IOVA_MIX	0xb0010000ULL	/* a BAR page, then a RAM page */
#define IOVA_PART	0xb0020000ULL	/* a BAR page, then nothing */

static const struct p2pbuf_imp_test_map p2pbuf_imp_test_maps[] = {
	{ IOVA_BAR, RP_BAR, BAR_LEN },
	{ IOVA_RAM, RAM_PAGE, SZ_1M },
	{ IOVA_SPLIT, RP_BAR + SZ_1M, SZ_4K },
	{ IOVA_SPLIT + SZ_4K, RP_BAR + 3 * SZ_1M, SZ_4K },
	{ IOVA_MIX, RP_BAR, SZ_4K },
	{ IOVA_MIX + SZ_4K, RAM_PAGE, SZ_4K },
	{ IOVA_PART, RP_BAR, SZ_4K },
};

static bool p2pbuf_imp_test_inside(u64 addr, u64 len, u64 start, u64 size)
{
	return addr >= start && len <= size && addr - start <= size - len;
}

static enum p2pbuf_imp_bar p2pbuf_imp_test_bar(const struct p2pbuf_imp_view *view,
					       u64 addr, u64 len, bool bus)
{
	const struct p2pbuf_imp_test_bar *b;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(p2pbuf_imp_test_bars); i++) {
		b = &p2pbuf_imp_test_bars[i];
		if (p2pbuf_imp_test_inside(addr, len, bus ? b->bus : b->cpu,
					   BAR_LEN))
			return b->route;
	}
	return P2PBUF_IMP_BAR_NONE;
}

static bool p2pbuf_imp_test_is_ram(const struct p2pbuf_imp_view *view,
				   u64 phys, u64 len)
{
	return p2pbuf_imp_test_inside(phys, len, 0, RAM_END);
}

static u64 p2pbuf_imp_test_iova_to_phys(const struct p2pbuf_imp_view *view,
					u64 iova)
{
	const struct p2pbuf_imp_test_map *m;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(p2pbuf_imp_test_maps); i++) {
		m = &p2pbuf_imp_test_maps[i];
		if (p2pbuf_imp_test_inside(iova, 1, m->iova, m->len))
			return m->phys + (iova - m->iova);
	}
	return 0;
}

/* dma-direct's dma_to_phys() with a dma_range_map offset in priv. */
static u64 p2pbuf_imp_test_dma_to_phys(const struct p2pbuf_imp_view *view,
				       u64 addr)
{
	return addr - *(const u64 *)view->priv;
}

static const struct p2pbuf_imp_view_ops p2pbuf_imp_test_ops = {
	.bar		= p2pbuf_imp_test_bar,
	.is_ram		= p2pbuf_imp_test_is_ram,
	.iova_to_phys	= p2pbuf_imp_test_iova_to_phys,
	.dma_to_phys	= p2pbuf_imp_test_dma_to_phys,
};

struct p2pbuf_imp_seg_case {
	const char *name;
	enum p2pbuf_imp_client_dma dma;
	u64 dma_offset;
	u64 addr;
	u64 len;
	u32 want;
};

#define NO_IOMMU	P2PBUF_IMP_DMA_NO_IOMMU
#define IDENTITY	P2PBUF_IMP_DMA_IDENTITY
#define TRANSLATED	P2PBUF_IMP_DMA_TRANSLATED

/*
 * What each mapping path produces (see p2pbuf_imp_seg_map_type()):
 * BUS_ADDR is pci_p2pdma_bus_addr_map(), bus address = CPU address + bus
 * offset, with no DMA API call whatever the domain
 * (drivers/dma-buf/dma-buf-mapping.c, include/linux/pci-p2pdma.h); through
 * the host bridge without a DMA-API domain, dma_direct_map_phys() returns
 * MMIO's physical address unchanged (kernel/dma/direct.h), and an identity
 * domain is such a case (iommu_setup_dma_ops(), drivers/iommu/dma-iommu.c);
 * with a DMA-API domain, an IOVA the domain translates; RAM under
 * dma-direct goes through phys_to_dma() and its offsets.
 */
static const struct p2pbuf_imp_seg_case p2pbuf_imp_seg_cases[] = {
	{ "no IOMMU: bus address of a switch peer", NO_IOMMU, 0,
	  SW_BAR + SZ_8K, SZ_4K, P2PBUF_MAP_BUS_ADDR },
	{ "identity domain: bus address of a switch peer", IDENTITY, 0,
	  SW_BAR, BAR_LEN, P2PBUF_MAP_BUS_ADDR },
	{ "translating domain: unmapped bus address of a switch peer",
	  TRANSLATED, 0, SW_BAR + SZ_8K, SZ_4K, P2PBUF_MAP_BUS_ADDR },
	{ "bus offset != 0: bus address of a switch peer", NO_IOMMU, 0,
	  OFS_SW_BUS + SZ_4K, SZ_4K, P2PBUF_MAP_BUS_ADDR },
	{ "bus offset != 0: CPU address of a switch peer is wrong", NO_IOMMU,
	  0, OFS_SW_CPU + SZ_4K, SZ_4K, P2PBUF_MAP_UNKNOWN },
	{ "no IOMMU: physical address of a host-bridge peer", NO_IOMMU, 0,
	  RP_BAR, SZ_4K, P2PBUF_MAP_HOST_BRIDGE_DIRECT },
	{ "identity domain: physical address of a host-bridge peer", IDENTITY,
	  0, RP_BAR + SZ_1M, SZ_1M, P2PBUF_MAP_HOST_BRIDGE_DIRECT },
	{ "bus offset != 0: physical address of a host-bridge peer", NO_IOMMU,
	  0, OFS_RP_CPU, SZ_4K, P2PBUF_MAP_HOST_BRIDGE_DIRECT },
	{ "bus offset != 0: bus address of a host-bridge peer is wrong",
	  NO_IOMMU, 0, OFS_RP_BUS, SZ_4K, P2PBUF_MAP_UNKNOWN },
	/* dma-direct never offsets MMIO: not DIRECT, and no IOMMU, no IOVA. */
	{ "dma-direct with an offset: offset MMIO address is wrong", NO_IOMMU,
	  DMA_OFFSET, RP_BAR + DMA_OFFSET, SZ_4K, P2PBUF_MAP_UNKNOWN },
	{ "dma-direct with an offset: RAM", NO_IOMMU, DMA_OFFSET,
	  RAM_PAGE + DMA_OFFSET, SZ_4K, P2PBUF_MAP_NOT_P2P },
	{ "no IOMMU: RAM", NO_IOMMU, 0, RAM_PAGE, SZ_8K, P2PBUF_MAP_NOT_P2P },
	{ "no IOMMU: wrong address, neither BAR nor RAM", NO_IOMMU, 0,
	  NOT_RAM, SZ_4K, P2PBUF_MAP_UNKNOWN },
	{ "no IOMMU: segment past the end of a BAR", NO_IOMMU, 0,
	  SW_BAR + BAR_LEN - SZ_4K, SZ_8K, P2PBUF_MAP_UNKNOWN },
	{ "translating domain (ACS redirect): IOVA of a BAR", TRANSLATED, 0,
	  IOVA_BAR + SZ_4K, SZ_8K, P2PBUF_MAP_HOST_BRIDGE_IOVA },
	{ "translating domain: IOVA starting mid-page", TRANSLATED, 0,
	  IOVA_BAR + SZ_2K, SZ_8K, P2PBUF_MAP_HOST_BRIDGE_IOVA },
	{ "translating domain: IOVA of RAM", TRANSLATED, 0, IOVA_RAM, SZ_8K,
	  P2PBUF_MAP_NOT_P2P },
	{ "translating domain: IOVA of two separate runs of a BAR", TRANSLATED,
	  0, IOVA_SPLIT, SZ_8K, P2PBUF_MAP_HOST_BRIDGE_IOVA },
	{ "translating domain: IOVA of a BAR page and a RAM page", TRANSLATED,
	  0, IOVA_MIX, SZ_8K, P2PBUF_MAP_UNKNOWN },
	{ "translating domain: IOVA mapped in part", TRANSLATED, 0, IOVA_PART,
	  SZ_8K, P2PBUF_MAP_UNKNOWN },
	{ "translating domain: physical address of a host-bridge peer is wrong",
	  TRANSLATED, 0, RP_BAR, SZ_4K, P2PBUF_MAP_UNKNOWN },
	{ "translating domain: wrong address, unmapped and in no BAR",
	  TRANSLATED, 0, NOT_RAM, SZ_4K, P2PBUF_MAP_UNKNOWN },
	{ "empty segment", NO_IOMMU, 0, SW_BAR, 0, P2PBUF_MAP_UNKNOWN },
	{ "segment wrapping past 2^64", NO_IOMMU, 0, U64_MAX - SZ_4K + 1,
	  SZ_8K, P2PBUF_MAP_UNKNOWN },
};

KUNIT_ARRAY_PARAM_DESC(p2pbuf_imp_seg, p2pbuf_imp_seg_cases, name);

static void p2pbuf_imp_test_seg(struct kunit *test)
{
	const struct p2pbuf_imp_seg_case *c = test->param_value;
	const struct p2pbuf_imp_view view = {
		.dma	= c->dma,
		.ops	= &p2pbuf_imp_test_ops,
		.priv	= (void *)&c->dma_offset,
	};

	KUNIT_EXPECT_EQ(test, p2pbuf_imp_seg_map_type(&view, c->addr, c->len),
			c->want);
}

/* A mapping has one type: segments that disagree make it UNKNOWN. */
static void p2pbuf_imp_test_merge(struct kunit *test)
{
	u32 t;

	t = p2pbuf_imp_map_type_merge(P2PBUF_MAP_UNKNOWN,
				      P2PBUF_MAP_NOT_P2P, true);
	KUNIT_EXPECT_EQ(test, t, (u32)P2PBUF_MAP_NOT_P2P);
	t = p2pbuf_imp_map_type_merge(t, P2PBUF_MAP_NOT_P2P, false);
	KUNIT_EXPECT_EQ(test, t, (u32)P2PBUF_MAP_NOT_P2P);
	t = p2pbuf_imp_map_type_merge(t, P2PBUF_MAP_HOST_BRIDGE_IOVA, false);
	KUNIT_EXPECT_EQ(test, t, (u32)P2PBUF_MAP_UNKNOWN);
	t = p2pbuf_imp_map_type_merge(t, P2PBUF_MAP_UNKNOWN, false);
	KUNIT_EXPECT_EQ(test, t, (u32)P2PBUF_MAP_UNKNOWN);
}

static struct kunit_case p2pbuf_imp_maptype_cases[] = {
	KUNIT_CASE(p2pbuf_imp_test_walk_switch),
	KUNIT_CASE(p2pbuf_imp_test_walk_other),
	KUNIT_CASE_PARAM(p2pbuf_imp_test_seg, p2pbuf_imp_seg_gen_params),
	KUNIT_CASE(p2pbuf_imp_test_merge),
	{}
};

static struct kunit_suite p2pbuf_imp_maptype_suite = {
	.name = "p2pbuf_imp_maptype",
	.test_cases = p2pbuf_imp_maptype_cases,
};

kunit_test_suite(p2pbuf_imp_maptype_suite);

MODULE_DESCRIPTION("KUnit tests of p2pbuf_importer's map-type rules");
MODULE_LICENSE("GPL");
